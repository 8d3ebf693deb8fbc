// Background threads (the store's encoder and writer) run below the pipeline thread, so that
// under load the CPU goes first to capture and detection — whose latency is the product's
// promise — and the store catches up from its queue (bounded; overflow is counted).
#pragma once

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace privwatch::util {

// How much nicer than the process a background thread runs (weight 335 vs 1024 at +5: the
// pipeline thread wins a contended CPU about 3:1, the store still progresses).
inline constexpr int kBackgroundNiceIncrement = 5;

// Names the calling thread (at most 15 characters: `top -H`, `ps -L`) and lowers its priority by
// `increment`. Failures are harmless (the thread keeps the process priority) and ignored.
inline void become_background_thread(const char* name, int increment = kBackgroundNiceIncrement) {
  pthread_setname_np(pthread_self(), name);
  const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0) return;
  (void)::setpriority(PRIO_PROCESS, tid, now + increment);
}

}  // namespace privwatch::util
