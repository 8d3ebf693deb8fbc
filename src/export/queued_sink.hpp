// Base of every export output: a RecordSink with a bounded queue and a thread of its own.
//
// The pipeline thread only filters and formats a record and appends it to the queue (a short
// mutex section shared with this sink's worker, never with I/O); when the queue is full the
// record is dropped and counted. The worker sends batches, retries transient failures with
// exponential backoff and drops (counted) what still fails. A slow or dead receiver therefore
// fills this queue and nothing else.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/exports_config.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "model/record_sink.hpp"

namespace privwatch::exporter {

struct Record {
  enum class Type : uint8_t { kEvent, kAlert };
  Type type = Type::kEvent;
  model::Severity severity = model::Severity::kInfo;
  uint64_t time_ns = 0;  // realtime ns since the epoch
  std::string label;     // event kind, or the alert's rule
  std::string body;      // ECS event JSON or alert JSON (or the sink's own format)
};

enum class Delivery {
  kOk,           // everything delivered
  kRetry,        // transient failure (receiver down, 5xx, 429): retry with backoff
  kRejected,     // the record at `done` was refused for good (4xx, too large): dropped, counted
  kRejectedAll,  // every record from `done` on was refused (one request for the batch)
};

class QueuedSink : public model::RecordSink {
 public:
  ~QueuedSink() override;
  [[nodiscard]] std::string_view name() const override { return name_; }
  void on_event(const model::Event& ev) override;
  void on_alert(const model::Alert& a) override;
  void flush() override;
  void close() override;
  [[nodiscard]] model::SinkStats stats() const override;

  // Records the worker holds right now (queued + in flight), for tests and metrics.
  [[nodiscard]] uint64_t pending() const;

 protected:
  QueuedSink(std::string name, const config::SinkConfig& cfg, std::string hostname,
             std::chrono::milliseconds linger = std::chrono::milliseconds(0));
  // Derived constructors call start() last; derived destructors call close() first.
  void start();

  // Pipeline thread: fill rec.body (and anything else). False: do not send this one.
  virtual bool format_event(const model::Event& ev, Record& rec);
  virtual bool format_alert(const model::Alert& a, Record& rec);
  // Worker thread: send batch[done..]; advance `done` past what the receiver accepted.
  virtual Delivery deliver(const std::vector<Record>& batch, size_t& done) = 0;
  // Worker thread, at every wakeup (at least every second): periodic work (OTLP metrics).
  virtual void tick() {}
  // Worker thread: sleeps up to `d`, returns early (true) when the sink is closing.
  bool sleep_or_stop(std::chrono::milliseconds d);
  [[nodiscard]] bool stopping() const { return stop_.load(); }
  [[nodiscard]] const std::string& hostname() const { return hostname_; }
  [[nodiscard]] const config::SinkConfig& sink_config() const { return cfg_; }

 private:
  void enqueue(Record&& rec);
  void worker();
  void send_with_retry(std::vector<Record>& batch);

  std::string name_;
  config::SinkConfig cfg_;
  std::string hostname_;
  std::chrono::milliseconds linger_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Record> queue_;
  bool give_up_ = false;  // worker only: closing and delivery failed
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  std::thread thread_;

  std::atomic<uint64_t> depth_{0};  // queued + in flight
  std::atomic<uint64_t> accepted_{0}, delivered_{0}, dropped_full_{0}, dropped_failed_{0},
      retries_{0};
};

[[nodiscard]] bool severity_at_least(model::Severity s, config::MinSeverity min);

}  // namespace privwatch::exporter
