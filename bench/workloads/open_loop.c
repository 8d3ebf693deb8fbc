// open_loop: open(2)+close(2) of one file, N times. Measures the per-syscall cost that a
// file-open hook (privwatch, auditd) adds. Prints one JSON line:
//   {"workload":"open","ops":N,"ns_per_op":X,"cpu_ns_per_op":Y}
// cpu_ns_per_op is the loop's own CPU time (user + system, CLOCK_PROCESS_CPUTIME_ID) per op: on a
// shared machine it leaves out the time other jobs take the CPU away, which wall time includes.
// Usage: bench_open_loop [-n iterations] [-p path] [-w warmup]
//   -p  file to open; default: a fresh temp file in $TMPDIR or /tmp, removed at exit.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char* argv0) {
  fprintf(stderr, "usage: %s [-n iterations] [-p path] [-w warmup]\n", argv0);
  exit(2);
}

static int open_close(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

int main(int argc, char** argv) {
  long n = 200000, warmup = 1000;
  const char* path = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "n:p:w:h")) != -1) {
    switch (opt) {
      case 'n':
        n = strtol(optarg, NULL, 10);
        break;
      case 'p':
        path = optarg;
        break;
      case 'w':
        warmup = strtol(optarg, NULL, 10);
        break;
      default:
        usage(argv[0]);
    }
  }
  if (n <= 0 || warmup < 0) usage(argv[0]);

  char tmpl[4096];
  int created = 0;
  if (!path) {
    const char* dir = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/pw-bench-open-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0) {
      fprintf(stderr, "open_loop: mkstemp %s: %s\n", tmpl, strerror(errno));
      return 1;
    }
    close(fd);
    path = tmpl;
    created = 1;
  }

  int rc = 0;
  for (long i = 0; i < warmup; i++) {
    if (open_close(path) != 0) {
      fprintf(stderr, "open_loop: open %s: %s\n", path, strerror(errno));
      rc = 1;
      goto out;
    }
  }
  uint64_t c0 = cpu_ns();
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (open_close(path) != 0) {
      fprintf(stderr, "open_loop: open %s: %s\n", path, strerror(errno));
      rc = 1;
      goto out;
    }
  }
  uint64_t t1 = now_ns();
  uint64_t c1 = cpu_ns();
  printf("{\"workload\":\"open\",\"ops\":%ld,\"ns_per_op\":%.1f,\"cpu_ns_per_op\":%.1f}\n", n,
         (double)(t1 - t0) / (double)n, (double)(c1 - c0) / (double)n);
out:
  if (created) unlink(path);
  return rc;
}
