#include "export/queued_sink.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>

#include "export/ecs_json.hpp"
#include "export/record_json.hpp"
#include "util/log.hpp"

namespace privwatch::exporter {

bool severity_at_least(model::Severity s, config::MinSeverity min) {
  return static_cast<uint8_t>(s) >= static_cast<uint8_t>(min);
}

QueuedSink::QueuedSink(std::string name, const config::SinkConfig& cfg, std::string hostname,
                       std::chrono::milliseconds linger)
    : name_(std::move(name)), cfg_(cfg), hostname_(std::move(hostname)), linger_(linger) {
  cfg_.queue_size = std::max<uint32_t>(cfg_.queue_size, 1);
  cfg_.batch_size = std::max<uint32_t>(cfg_.batch_size, 1);
}

QueuedSink::~QueuedSink() { close(); }

void QueuedSink::start() {
  thread_ = std::thread([this] { worker(); });
}

bool QueuedSink::format_event(const model::Event& ev, Record& rec) {
  append_ecs_json(ev, rec.body, hostname_);
  return true;
}

bool QueuedSink::format_alert(const model::Alert& a, Record& rec) {
  rec.body = alert_json(a);
  return true;
}

void QueuedSink::on_event(const model::Event& ev) {
  if (!cfg_.events) return;
  Record rec;
  rec.type = Record::Type::kEvent;
  rec.severity = model::Severity::kInfo;
  rec.time_ns = ev.wall_time_ns;
  rec.label = model::to_string(ev.kind);
  if (!format_event(ev, rec)) return;
  enqueue(std::move(rec));
}

void QueuedSink::on_alert(const model::Alert& a) {
  if (!cfg_.alerts || !severity_at_least(a.severity, cfg_.min_severity)) return;
  Record rec;
  rec.type = Record::Type::kAlert;
  rec.severity = a.severity;
  rec.time_ns = a.wall_ns;
  rec.label = a.rule;
  if (!format_alert(a, rec)) return;
  enqueue(std::move(rec));
}

void QueuedSink::enqueue(Record&& rec) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (closed_.load() || queue_.size() >= cfg_.queue_size) {
      dropped_full_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Alerts go out at once; events wait for a full batch or the linger time.
    wake = rec.type == Record::Type::kAlert || queue_.size() + 1 >= cfg_.batch_size ||
           linger_.count() == 0;
    queue_.push_back(std::move(rec));
  }
  depth_.fetch_add(1, std::memory_order_relaxed);
  accepted_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
}

void QueuedSink::flush() {
  // The pipeline calls this whenever it is idle (every few ms on a quiet host). Without linger
  // the worker already sends as soon as records arrive; with linger a partial batch leaves
  // after linger_ms at the latest. Either way latency is bounded without this hint, and
  // honouring it would turn batches into one request per idle tick.
}

bool QueuedSink::sleep_or_stop(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, d, [this] { return stop_.load(); });
}

void QueuedSink::send_with_retry(std::vector<Record>& batch) {
  size_t done = 0;
  uint32_t attempt = 0;
  auto backoff = std::chrono::milliseconds(cfg_.retry_initial_ms);
  const auto settle = [&](size_t upto) {  // records [0, upto) are accounted for
    depth_.fetch_sub(upto, std::memory_order_relaxed);
  };
  while (true) {
    const size_t before = done;
    const Delivery d = deliver(batch, done);
    done = std::min(done, batch.size());
    delivered_.fetch_add(done - before, std::memory_order_relaxed);
    if (d == Delivery::kOk) {
      delivered_.fetch_add(batch.size() - done, std::memory_order_relaxed);
      settle(batch.size());
      return;
    }
    if (d == Delivery::kRejectedAll) {
      dropped_failed_.fetch_add(batch.size() - done, std::memory_order_relaxed);
      settle(batch.size());
      return;
    }
    if (d == Delivery::kRejected) {
      // The record at `done` was refused; the rest of the batch gets its own chance.
      dropped_failed_.fetch_add(1, std::memory_order_relaxed);
      ++done;
      if (done >= batch.size()) {
        settle(batch.size());
        return;
      }
      continue;
    }
    if (done > before) attempt = 0;  // progress: the receiver is alive
    if (attempt >= cfg_.max_retries || (stopping() && attempt >= 1)) {
      dropped_failed_.fetch_add(batch.size() - done, std::memory_order_relaxed);
      if (stopping()) give_up_ = true;  // closing and the receiver is gone: drop the rest
      settle(batch.size());
      return;
    }
    ++attempt;
    retries_.fetch_add(1, std::memory_order_relaxed);
    sleep_or_stop(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(cfg_.retry_max_ms));
  }
}

void QueuedSink::worker() {
  // A receiver that closes the connection must cost an EPIPE, not the process (OpenSSL writes
  // with write(2), which raises SIGPIPE even where the agent's sends use MSG_NOSIGNAL).
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  std::vector<Record> batch;
  batch.reserve(cfg_.batch_size);
  while (true) {
    {
      std::unique_lock lock(mu_);
      const auto ready = [this] {
        return stop_.load() || queue_.size() >= cfg_.batch_size ||
               (!queue_.empty() && linger_.count() == 0);
      };
      if (!ready()) {
        // With linger, a partial batch goes out after linger_ at the latest.
        const auto wait = queue_.empty() ? std::chrono::milliseconds(1000)
                                         : std::max(linger_, std::chrono::milliseconds(1));
        cv_.wait_for(lock, wait, ready);
      }
      if (stop_.load() && give_up_ && !queue_.empty()) {
        dropped_failed_.fetch_add(queue_.size(), std::memory_order_relaxed);
        depth_.fetch_sub(queue_.size(), std::memory_order_relaxed);
        queue_.clear();
      }
      if (stop_.load() && queue_.empty()) break;
      const size_t n = std::min<size_t>(queue_.size(), cfg_.batch_size);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) send_with_retry(batch);
    batch.clear();
    tick();
  }
  tick();
}

void QueuedSink::close() {
  if (closed_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  // Deliver what is queued: the worker keeps going until the queue is empty, with at most one
  // retry per batch once stopping (bounded: queue_size / batch_size batches, each timeout_ms).
  {
    std::lock_guard lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

model::SinkStats QueuedSink::stats() const {
  model::SinkStats s;
  s.queue_depth = depth_.load(std::memory_order_relaxed);
  s.queue_capacity = cfg_.queue_size;
  s.accepted = accepted_.load(std::memory_order_relaxed);
  s.delivered = delivered_.load(std::memory_order_relaxed);
  s.dropped_queue_full = dropped_full_.load(std::memory_order_relaxed);
  s.dropped_failed = dropped_failed_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  return s;
}

uint64_t QueuedSink::pending() const { return depth_.load(std::memory_order_relaxed); }

}  // namespace privwatch::exporter
