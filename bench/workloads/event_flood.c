// event_flood: a sustained, optionally paced stream of file opens (open+close, cycling over
// several files) for measuring how many events/s the agent keeps up with without drops.
// Run it as a monitored subject (root with `monitor: {root: true}`): every open is one event.
// Prints one JSON line:
//   {"workload":"flood","ops":N,"duration_s":D,"target_rate":R,"rate":A,"threads":T,"files":F}
// where ops is the number of opens performed and rate = ops / duration_s (achieved).
// Usage: bench_event_flood [-r events_per_s] [-d seconds] [-t threads] [-f files] [-D dir]
//   -r  target total rate; 0 (default) = as fast as possible
//   -d  duration in seconds (default 10, fractions allowed)
//   -t  generator threads (default 1)
//   -f  number of files to cycle over (default 8), created in -D (default: a fresh directory
//       under $TMPDIR or /tmp, removed at exit)
// Needs pthread (in libc since glibc 2.34; link with -pthread on older C libraries).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 1024
#define MAX_THREADS 64

static char g_paths[MAX_FILES][4200];
static int g_nfiles = 8;
static double g_rate_per_thread = 0;  // 0 = unpaced
static uint64_t g_t_start, g_t_end;

struct worker {
  pthread_t th;
  int idx;
  uint64_t ops;
  int err;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t) {
  struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static void usage(const char* argv0) {
  fprintf(stderr, "usage: %s [-r events_per_s] [-d seconds] [-t threads] [-f files] [-D dir]\n",
          argv0);
  exit(2);
}

static void* run(void* arg) {
  struct worker* w = arg;
  int f = w->idx % g_nfiles;
  // Pace in batches of ~1 ms worth of operations; unpaced runs check the clock every 256 ops.
  uint64_t batch = 256;
  if (g_rate_per_thread > 0) {
    batch = (uint64_t)(g_rate_per_thread / 1000.0);
    if (batch < 1) batch = 1;
  }
  for (;;) {
    for (uint64_t i = 0; i < batch; i++) {
      int fd = open(g_paths[f], O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        w->err = errno;
        return NULL;
      }
      close(fd);
      if (++f == g_nfiles) f = 0;
    }
    w->ops += batch;
    uint64_t now = now_ns();
    if (now >= g_t_end) break;
    if (g_rate_per_thread > 0) {
      uint64_t due = g_t_start + (uint64_t)((double)w->ops * 1e9 / g_rate_per_thread);
      if (due > g_t_end) due = g_t_end;
      if (due > now) sleep_until(due);
      if (now_ns() >= g_t_end) break;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  double rate = 0, duration = 10;
  int threads = 1;
  const char* dir = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "r:d:t:f:D:h")) != -1) {
    switch (opt) {
      case 'r': rate = strtod(optarg, NULL); break;
      case 'd': duration = strtod(optarg, NULL); break;
      case 't': threads = atoi(optarg); break;
      case 'f': g_nfiles = atoi(optarg); break;
      case 'D': dir = optarg; break;
      default: usage(argv[0]);
    }
  }
  if (rate < 0 || duration <= 0 || threads < 1 || threads > MAX_THREADS || g_nfiles < 1 ||
      g_nfiles > MAX_FILES)
    usage(argv[0]);

  char tmpdir[4096];
  int created_dir = 0;
  if (!dir) {
    const char* t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/pw-bench-flood-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmpdir)) {
      fprintf(stderr, "event_flood: mkdtemp %s: %s\n", tmpdir, strerror(errno));
      return 1;
    }
    dir = tmpdir;
    created_dir = 1;
  }
  int rc = 0, nmade = 0;
  for (int i = 0; i < g_nfiles; i++) {
    snprintf(g_paths[i], sizeof g_paths[i], "%s/f%d", dir, i);
    int fd = open(g_paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      fprintf(stderr, "event_flood: create %s: %s\n", g_paths[i], strerror(errno));
      rc = 1;
      goto out;
    }
    close(fd);
    nmade++;
  }

  g_rate_per_thread = rate / threads;
  struct worker ws[MAX_THREADS];
  memset(ws, 0, sizeof ws);
  g_t_start = now_ns();
  g_t_end = g_t_start + (uint64_t)(duration * 1e9);
  for (int i = 0; i < threads; i++) {
    ws[i].idx = i;
    int e = pthread_create(&ws[i].th, NULL, run, &ws[i]);
    if (e != 0) {
      fprintf(stderr, "event_flood: pthread_create: %s\n", strerror(e));
      exit(1);
    }
  }
  uint64_t ops = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(ws[i].th, NULL);
    ops += ws[i].ops;
    if (ws[i].err) {
      fprintf(stderr, "event_flood: open: %s\n", strerror(ws[i].err));
      rc = 1;
    }
  }
  double elapsed = (double)(now_ns() - g_t_start) / 1e9;
  if (rc == 0)
    printf("{\"workload\":\"flood\",\"ops\":%llu,\"duration_s\":%.3f,\"target_rate\":%.0f,"
           "\"rate\":%.0f,\"threads\":%d,\"files\":%d}\n",
           (unsigned long long)ops, elapsed, rate, (double)ops / elapsed, threads, g_nfiles);
out:
  for (int i = 0; i < nmade; i++) unlink(g_paths[i]);
  if (created_dir) rmdir(dir);
  return rc;
}
