// write_loop: the cost of write(2)/read(2) for whatever tracing is enabled — session recording
// hooks sys_exit_write and sys_exit_read, so every write() and read() on the host pays for it.
//   -t null  write 64 bytes to /dev/null                  (a write that is not to a terminal)
//   -t pipe  write 64 bytes to a pipe and read them back  (one write + one read per op)
//   -t pty   write 64 bytes to a pty slave, read them from the master (a recorded write when
//            the caller is a monitored subject)
// Prints {"workload":"write_<t>","ops":N,"ns_per_op":X}.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char** argv) {
  long n = 1000000;
  const char* type = "null";
  int opt;
  while ((opt = getopt(argc, argv, "n:t:")) != -1) {
    if (opt == 'n') n = strtol(optarg, NULL, 10);
    if (opt == 't') type = optarg;
  }
  int wfd = -1, rfd = -1;
  if (strcmp(type, "null") == 0) {
    wfd = open("/dev/null", O_WRONLY);
  } else if (strcmp(type, "pipe") == 0) {
    int p[2];
    if (pipe(p) == 0) {
      rfd = p[0];
      wfd = p[1];
    }
  } else if (strcmp(type, "pty") == 0) {
    rfd = posix_openpt(O_RDWR | O_NOCTTY);
    if (rfd >= 0 && grantpt(rfd) == 0 && unlockpt(rfd) == 0) {
      wfd = open(ptsname(rfd), O_RDWR | O_NOCTTY);
      struct termios t;
      if (wfd >= 0 && tcgetattr(wfd, &t) == 0) {
        cfmakeraw(&t);  // no output processing: 64 bytes in, 64 bytes out
        tcsetattr(wfd, TCSANOW, &t);
      }
    }
  }
  if (n <= 0 || wfd < 0) {
    fprintf(stderr, "usage: %s [-n iterations] [-t null|pipe|pty]\n", argv[0]);
    return 2;
  }
  char buf[64];
  memset(buf, 'x', sizeof(buf));
  char in[4096];
  for (long i = 0; i < n / 10 + 1; ++i) {  // warm-up
    if (write(wfd, buf, sizeof(buf)) != sizeof(buf)) return 1;
    if (rfd >= 0 && read(rfd, in, sizeof(in)) <= 0) return 1;
  }
  const double a = now_ns();
  for (long i = 0; i < n; ++i) {
    if (write(wfd, buf, sizeof(buf)) != sizeof(buf)) return 1;
    if (rfd >= 0 && read(rfd, in, sizeof(in)) <= 0) return 1;
  }
  const double b = now_ns();
  printf("{\"workload\":\"write_%s\",\"ops\":%ld,\"ns_per_op\":%.1f}\n", type, n, (b - a) / (double)n);
  return 0;
}
