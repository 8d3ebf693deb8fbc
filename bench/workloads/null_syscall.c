// null_syscall: getppid(2) N times — the cost every syscall pays for whatever tracing is
// enabled (privwatch observes getppid in no way, so this measures its cost on unobserved
// syscalls). Prints {"workload":"null_syscall","ops":N,"ns_per_op":X}.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long n = 2000000;
  int opt;
  while ((opt = getopt(argc, argv, "n:")) != -1) {
    if (opt == 'n') n = strtol(optarg, NULL, 10);
  }
  if (n <= 0) {
    fprintf(stderr, "usage: %s [-n iterations]\n", argv[0]);
    return 2;
  }
  for (long i = 0; i < n / 10; ++i) syscall(SYS_getppid);  // warm-up
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; ++i) syscall(SYS_getppid);
  clock_gettime(CLOCK_MONOTONIC, &b);
  const double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("{\"workload\":\"null_syscall\",\"ops\":%ld,\"ns_per_op\":%.1f}\n", n, ns / (double)n);
  return 0;
}
