// fork_exec_loop: fork(2) + execve("/bin/true") + waitpid(2), N times. Measures what process
// creation/exec hooks add. Prints one JSON line:
//   {"workload":"exec","ops":N,"ns_per_op":X}
// Usage: bench_fork_exec_loop [-n iterations] [-e executable] [-w warmup]
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char* argv0) {
  fprintf(stderr, "usage: %s [-n iterations] [-e executable] [-w warmup]\n", argv0);
  exit(2);
}

// Returns 0 when the child ran and exited 0.
static int fork_exec(const char* exe) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    char* const args[] = {(char*)exe, NULL};
    execve(exe, args, environ);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = ECHILD;
    fprintf(stderr, "fork_exec_loop: %s exited with status 0x%x\n", exe, status);
    return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  long n = 2000, warmup = 20;
  const char* exe = "/bin/true";
  int opt;
  while ((opt = getopt(argc, argv, "n:e:w:h")) != -1) {
    switch (opt) {
      case 'n': n = strtol(optarg, NULL, 10); break;
      case 'e': exe = optarg; break;
      case 'w': warmup = strtol(optarg, NULL, 10); break;
      default: usage(argv[0]);
    }
  }
  if (n <= 0 || warmup < 0) usage(argv[0]);

  for (long i = 0; i < warmup; i++) {
    if (fork_exec(exe) != 0) {
      fprintf(stderr, "fork_exec_loop: %s: %s\n", exe, strerror(errno));
      return 1;
    }
  }
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (fork_exec(exe) != 0) {
      fprintf(stderr, "fork_exec_loop: %s: %s\n", exe, strerror(errno));
      return 1;
    }
  }
  uint64_t t1 = now_ns();
  printf("{\"workload\":\"exec\",\"ops\":%ld,\"ns_per_op\":%.1f}\n", n, (double)(t1 - t0) / (double)n);
  return 0;
}
