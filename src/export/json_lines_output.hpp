// JSON lines output: one ECS JSON object per event and line, to stdout or to a file rotated by
// size (path → path.1 → … → path.N). Buffered; errors are counted and returned, never fatal.
// Not thread-safe: one pipeline thread owns it (in async mode it owns a writer thread).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "model/event.hpp"
#include "util/result.hpp"

namespace privwatch::exporter {

// Knobs that are not in the configuration file (tests scale them down).
struct JsonLinesLimits {
  uint64_t max_size_bytes = 0;      // rotation threshold; 0 = output.max_size_mb MiB
  size_t buffer_bytes = 64 * 1024;  // flush once the buffer holds this much
  int write_timeout_ms = 5000;      // pipes/ttys: give up on a stalled reader after this
  // Write on a thread of its own: the caller only formats lines and hands full buffers
  // over, so a slow disk (writeback stalls) does not delay the capture loop. At most
  // max_queued_buffers wait; beyond that write() blocks (back-pressure to the kernel ring
  // buffer, whose losses are counted). 32 × 64 KiB (2 MiB, ~10 ms of output at 100,000
  // events/s): with 8, dirty-page writeback throttling of write() reached the capture thread
  // and alert latency p99 at 100,000 events/s went from ~12 to 36 ms (bench/RESULTS.md §10).
  bool async = false;
  size_t max_queued_buffers = 32;
};

class JsonLinesOutput {
 public:
  // Opens output.path ("-" = stdout) for appending (created 0640 when missing).
  [[nodiscard]] static Result<std::unique_ptr<JsonLinesOutput>> open(
      const config::OutputConfig& cfg, std::string hostname, JsonLinesLimits limits = {});

  ~JsonLinesOutput();  // flushes (errors counted) and closes
  JsonLinesOutput(const JsonLinesOutput&) = delete;
  JsonLinesOutput& operator=(const JsonLinesOutput&) = delete;

  // Serialises one event into the buffer; flushes when the buffer is full. An error means a
  // flush failed: the lines it held are dropped (counted in lines_dropped()), never retried
  // without bound.
  [[nodiscard]] Status write(const model::Event& ev);
  // Writes one already-encoded JSON object (a session, an escalation, an alert) as a line.
  // It must not contain a newline.
  [[nodiscard]] Status write_json(std::string_view json_object);
  // Writes out everything buffered (rotating the file as needed) and waits until it is out.
  [[nodiscard]] Status flush();
  // Async mode: hands the buffer to the writer thread without waiting (sync mode: flush()).
  [[nodiscard]] Status flush_async();
  // Flushes, then closes and reopens the file by name (SIGHUP after an external logrotate
  // moved it away). No-op besides the flush for stdout.
  [[nodiscard]] Status reopen();

  [[nodiscard]] uint64_t lines_written() const { return lines_written_.load(); }
  [[nodiscard]] uint64_t lines_dropped() const { return lines_dropped_.load(); }
  [[nodiscard]] uint64_t write_errors() const { return write_errors_.load(); }
  [[nodiscard]] uint64_t rotations() const { return rotations_.load(); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  JsonLinesOutput(const config::OutputConfig& cfg, std::string hostname, JsonLinesLimits limits);

  Status open_file();
  Status rotate();
  // Writes buf_ out (rotating as needed) and clears it.
  Status drain_buf();
  // Async mode: queue front_ for the writer thread; blocks while the queue is full.
  void hand_off();
  Status take_async_error();
  void writer_loop();
  // Writes buf_[pos, end) fully; counts and truncates away a partial line on failure.
  Status write_chunk(size_t pos, size_t end);

  std::string path_;  // "-" = stdout
  std::string hostname_;
  uint64_t max_size_ = 0;
  uint32_t max_files_ = 0;
  JsonLinesLimits limits_;
  int fd_ = -1;
  bool owns_fd_ = false;
  bool regular_ = false;      // regular file: size tracking, rotation, truncation on failure
  bool broken_line_ = false;  // a non-file output holds an unterminated partial line
  uint64_t size_ = 0;         // bytes in the current file
  std::string buf_;           // complete lines only (the writer's buffer in async mode)

  // Async mode.
  std::string front_;               // lines being formatted by the caller
  std::deque<std::string> queue_;   // full buffers waiting for the writer
  std::vector<std::string> spare_;  // drained buffers, reused
  std::mutex mu_;
  std::condition_variable work_cv_;  // writer: work or stop
  std::condition_variable done_cv_;  // caller: queue space or idle
  bool busy_ = false;
  bool stop_ = false;
  std::optional<Error> async_error_;  // first error since the caller last saw one
  std::thread writer_;

  std::atomic<uint64_t> lines_written_{0};
  std::atomic<uint64_t> lines_dropped_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<uint64_t> rotations_{0};
};

}  // namespace privwatch::exporter
