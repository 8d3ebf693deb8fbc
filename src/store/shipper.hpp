// Sends checkpoints off the host (file, syslog, HTTP POST) from its own thread, so that a slow
// or unreachable receiver never delays the store. Bounded: beyond `capacity` pending
// checkpoints the oldest is dropped and counted (a later checkpoint supersedes it anyway).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace privwatch::store {

struct ShipperOptions {
  std::string file;  // append one JSON line per checkpoint ("" off)
  bool syslog = false;
  std::string url;  // POST the JSON object ("" off)
  size_t capacity = 1024;
  uint32_t retry_ms = 2000;
};

class CheckpointShipper {
 public:
  explicit CheckpointShipper(ShipperOptions options);
  ~CheckpointShipper();
  CheckpointShipper(const CheckpointShipper&) = delete;
  CheckpointShipper& operator=(const CheckpointShipper&) = delete;

  [[nodiscard]] bool enabled() const {
    return !opt_.file.empty() || opt_.syslog || !opt_.url.empty();
  }
  void send(std::string json_line);
  // Delivers what is pending (bounded wait), then stops the thread.
  void close(uint32_t max_wait_ms = 3000);

  [[nodiscard]] uint64_t sent() const { return sent_.load(); }
  [[nodiscard]] uint64_t failed() const { return failed_.load(); }
  [[nodiscard]] uint64_t dropped() const { return dropped_.load(); }

 private:
  void run();
  bool deliver(const std::string& line);

  ShipperOptions opt_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> pending_;
  bool stop_ = false;
  std::thread thread_;
  std::atomic<uint64_t> sent_{0}, failed_{0}, dropped_{0};
  // Per-target delivery state: a target that succeeded is not repeated on a retry.
  bool file_done_ = false, syslog_done_ = false, http_done_ = false;
  uint64_t last_warn_ns_ = 0;
};

}  // namespace privwatch::store
