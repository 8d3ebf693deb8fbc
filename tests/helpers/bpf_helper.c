// bpf_helper: load a trivial BPF_PROG_TYPE_SOCKET_FILTER program ("r0 = 0; exit") with the
// raw bpf(2) syscall, the way any loader other than the agent would.
//
//   bpf_helper PROG_NAME     (at most 15 characters: [A-Za-z0-9_.])
//
// Prints "prog_load 0" (and keeps nothing loaded: the fd is closed) or "prog_load ERRNO".
// Exit status 0 on success, 1 on failure.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 2 || strlen(argv[1]) >= BPF_OBJ_NAME_LEN) {
    fprintf(stderr, "usage: %s PROG_NAME (< %d characters)\n", argv[0], BPF_OBJ_NAME_LEN);
    return 2;
  }
  struct bpf_insn insns[2];
  memset(insns, 0, sizeof insns);
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = 0;
  insns[1].code = BPF_JMP | BPF_EXIT;
  static const char license[] = "GPL";

  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insn_cnt = 2;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.license = (uint64_t)(uintptr_t)license;
  strncpy(attr.prog_name, argv[1], sizeof attr.prog_name - 1);
  long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd < 0) {
    const char* name = strerrorname_np(errno);
    printf("prog_load %s\n", name ? name : "?");
    return 1;
  }
  printf("prog_load 0\n");
  close((int)fd);
  return 0;
}
