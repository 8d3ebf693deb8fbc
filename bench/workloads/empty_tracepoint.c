// empty_tracepoint: attaches a BPF program that does nothing ("r0 = 0; exit") to the given
// tracepoints and waits for SIGTERM/SIGINT. It measures the kernel's own cost of running *any*
// BPF program on a tracepoint — the floor under every capture program attached there — so that
// a workload run under it can be compared with no agent and with privwatch (bench/run.sh
// configuration `empty`). Prints "ready" on stderr once attached.
// Usage: bench_empty_tracepoint [TRACEPOINT...]   (default: syscalls/sys_exit_openat)
// Needs root. Plain C, libc and kernel UAPI headers only (no libbpf).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int tracepoint_id(const char* tp) {
  const char* roots[] = {"/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"};
  for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/id", roots[i], tp);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    int id = -1;
    if (fscanf(f, "%d", &id) != 1) id = -1;
    fclose(f);
    return id;
  }
  return -1;
}

int main(int argc, char** argv) {
  const char* def[] = {"syscalls/sys_exit_openat"};
  const char** tps = argc > 1 ? (const char**)argv + 1 : def;
  int ntp = argc > 1 ? argc - 1 : 1;

  struct bpf_insn insns[2];
  memset(insns, 0, sizeof insns);
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
  insns[0].dst_reg = BPF_REG_0;
  insns[1].code = BPF_JMP | BPF_EXIT;
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  attr.insns = (unsigned long)insns;
  attr.insn_cnt = 2;
  attr.license = (unsigned long)"GPL";
  strncpy(attr.prog_name, "pw_bench_empty", sizeof attr.prog_name - 1);
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (prog < 0) {
    fprintf(stderr, "empty_tracepoint: BPF_PROG_LOAD: %s (needs root)\n", strerror(errno));
    return 1;
  }
  for (int i = 0; i < ntp; i++) {
    int id = tracepoint_id(tps[i]);
    if (id < 0) {
      fprintf(stderr, "empty_tracepoint: no tracepoint %s (tracefs mounted?)\n", tps[i]);
      return 1;
    }
    struct perf_event_attr pa;
    memset(&pa, 0, sizeof pa);
    pa.type = PERF_TYPE_TRACEPOINT;
    pa.size = sizeof pa;
    pa.config = (unsigned long long)id;
    pa.sample_period = 1;
    pa.wakeup_events = 1;
    int fd = (int)syscall(SYS_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) != 0 ||
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
      fprintf(stderr, "empty_tracepoint: attach to %s: %s\n", tps[i], strerror(errno));
      return 1;
    }
  }
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &old);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  fprintf(stderr, "ready\n");
  while (!stop) sigsuspend(&old);
  return 0;
}
