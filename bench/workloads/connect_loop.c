// connect_loop: TCP connect/accept/close over loopback, N times. A listener thread on
// 127.0.0.1:<ephemeral port> accepts and closes each connection; the client connects, waits for
// the server's close (read() == 0) and closes. Each operation is therefore one full
// connect + accept + close on both ends, in lock step (no accept-queue overflow, no SYN
// retransmit stalls). By default the client closes with SO_LINGER {on, 0} (a reset), so no
// connection is left in TIME_WAIT: tens of thousands of TIME_WAIT sockets slow down ephemeral
// port selection and make later runs slower than earlier ones. -T keeps the ordinary close.
// Prints one JSON line:
//   {"workload":"connect","ops":N,"ns_per_op":X}
// Usage: bench_connect_loop [-n iterations] [-w warmup] [-T]
// Needs pthread (in libc since glibc 2.34; link with -pthread on older C libraries).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(const char* argv0) {
  fprintf(stderr, "usage: %s [-n iterations] [-w warmup] [-T]\n", argv0);
  exit(2);
}

static void* serve(void* arg) {
  int lfd = *(int*)arg;
  for (;;) {
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EINVAL || errno == EBADF) return NULL;  // listener shut down
      fprintf(stderr, "connect_loop: accept: %s\n", strerror(errno));
      exit(1);
    }
    close(c);
  }
}

static int g_abortive_close = 1;

static int connect_once(const struct sockaddr_in* addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (g_abortive_close) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  if (connect(fd, (const struct sockaddr*)addr, sizeof *addr) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  char b;
  ssize_t r;
  do {
    r = read(fd, &b, 1);  // 0 once the server has closed its end
  } while (r < 0 && errno == EINTR);
  close(fd);
  if (r < 0 && errno != ECONNRESET) return -1;
  return 0;
}

int main(int argc, char** argv) {
  long n = 20000, warmup = 200;
  int opt;
  while ((opt = getopt(argc, argv, "n:w:Th")) != -1) {
    switch (opt) {
      case 'n': n = strtol(optarg, NULL, 10); break;
      case 'w': warmup = strtol(optarg, NULL, 10); break;
      case 'T': g_abortive_close = 0; break;
      default: usage(argv[0]);
    }
  }
  if (n <= 0 || warmup < 0) usage(argv[0]);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) {
    fprintf(stderr, "connect_loop: socket: %s\n", strerror(errno));
    return 1;
  }
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t alen = sizeof addr;
  if (bind(lfd, (struct sockaddr*)&addr, sizeof addr) < 0 || listen(lfd, 1024) < 0 ||
      getsockname(lfd, (struct sockaddr*)&addr, &alen) < 0) {
    fprintf(stderr, "connect_loop: listen on 127.0.0.1:0: %s\n", strerror(errno));
    return 1;
  }

  pthread_t th;
  int err = pthread_create(&th, NULL, serve, &lfd);
  if (err != 0) {
    fprintf(stderr, "connect_loop: pthread_create: %s\n", strerror(err));
    return 1;
  }

  for (long i = 0; i < warmup; i++) {
    if (connect_once(&addr) != 0) {
      fprintf(stderr, "connect_loop: connect 127.0.0.1:%u: %s\n", ntohs(addr.sin_port),
              strerror(errno));
      return 1;
    }
  }
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if (connect_once(&addr) != 0) {
      fprintf(stderr, "connect_loop: connect 127.0.0.1:%u (op %ld): %s\n",
              ntohs(addr.sin_port), i, strerror(errno));
      return 1;
    }
  }
  uint64_t t1 = now_ns();
  printf("{\"workload\":\"connect\",\"ops\":%ld,\"ns_per_op\":%.1f}\n", n,
         (double)(t1 - t0) / (double)n);
  fflush(stdout);

  shutdown(lfd, SHUT_RDWR);  // wakes the accept() in the server thread
  pthread_join(th, NULL);
  close(lfd);
  return 0;
}
