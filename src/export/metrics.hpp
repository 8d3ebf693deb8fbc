// Metrics: immutable snapshots published by the pipeline, rendered for Prometheus (text
// exposition 0.0.4) and OpenTelemetry (OTLP metrics).
//
// Threading (docs/exports.md "Metrics"): the pipeline thread owns every live counter as a
// plain integer (no atomics, no locks per event). About once a second it builds a
// MetricsSnapshot and publishes it into the MetricsRegistry: one short mutex section that
// swaps a shared_ptr. Readers (the HTTP /metrics thread, the OTLP exporter thread) take the
// current snapshot under that mutex and render it without holding anything. So the hot path
// takes no lock at all, and the publish lock is held for a pointer swap only.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace privwatch::exporter {

enum class MetricType { kCounter, kGauge, kHistogram };

// A histogram with fixed upper bounds (the Prometheus "le" buckets). Values are recorded in
// the unit of the bounds (the agent uses nanoseconds and exports seconds via `scale`).
class FixedHistogram {
 public:
  explicit FixedHistogram(std::vector<uint64_t> bounds);
  void record(uint64_t v);
  [[nodiscard]] const std::vector<uint64_t>& bounds() const { return bounds_; }
  // Non-cumulative counts; size bounds()+1 (the last is above every bound: +Inf).
  [[nodiscard]] const std::vector<uint64_t>& counts() const { return counts_; }
  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] uint64_t sum() const { return sum_; }

 private:
  std::vector<uint64_t> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0, sum_ = 0;
};

// Latency buckets in nanoseconds: 10 µs .. 10 s.
[[nodiscard]] std::vector<uint64_t> latency_bounds_ns();

struct HistogramValue {
  std::vector<double> bounds;    // upper bounds, ascending, +Inf excluded
  std::vector<uint64_t> counts;  // non-cumulative, size bounds+1
  uint64_t count = 0;
  double sum = 0;
};

struct Sample {
  std::vector<std::string> labels;  // values, in the family's label_names order
  double value = 0;                 // counter / gauge
  HistogramValue histogram;         // histogram
};

struct MetricFamily {
  std::string name;  // without the _total suffix of counters (added when rendering)
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<std::string> label_names;
  std::vector<Sample> samples;

  void add(std::vector<std::string> labels, double value);
  void add_histogram(std::vector<std::string> labels, const FixedHistogram& h, double scale);
};

struct MetricsSnapshot {
  uint64_t time_unix_ns = 0;
  uint64_t start_time_unix_ns = 0;    // when the counters started (the agent's start)
  std::deque<MetricFamily> families;  // deque: references stay valid while adding

  MetricFamily& family(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names = {});
  [[nodiscard]] const MetricFamily* find(std::string_view name) const;
};

// Prometheus text exposition format 0.0.4. Counters get the _total suffix; label values are
// escaped (backslash, quote, newline); families without samples are still described.
[[nodiscard]] std::string render_prometheus(const MetricsSnapshot& s);

// The last published snapshot, shared between one writer and any number of readers.
class MetricsRegistry {
 public:
  void publish(std::shared_ptr<const MetricsSnapshot> s);
  [[nodiscard]] std::shared_ptr<const MetricsSnapshot> current() const;
  [[nodiscard]] uint64_t publications() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const MetricsSnapshot> current_;
  uint64_t publications_ = 0;
};

// A labelled counter owned by one thread, with a cardinality guard: at most `max_series`
// distinct label sets; increments for further label sets go to one overflow series whose
// label values are all "_overflow_", and are counted in folded().
class GuardedCounter {
 public:
  static constexpr std::string_view kOverflow = "_overflow_";
  GuardedCounter(std::vector<std::string> label_names, size_t max_series);

  void inc(const std::vector<std::string_view>& labels, uint64_t by = 1);
  [[nodiscard]] size_t series() const { return values_.size(); }
  [[nodiscard]] uint64_t folded() const { return folded_; }
  [[nodiscard]] uint64_t value(const std::vector<std::string>& labels) const;
  void export_to(MetricFamily& f) const;
  [[nodiscard]] const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::vector<std::string> label_names_;
  size_t max_series_;
  std::map<std::vector<std::string>, uint64_t, std::less<>> values_;
  std::vector<std::string> key_;  // reused lookup key
  uint64_t folded_ = 0;
};

// A labelled gauge with the same guard (values set, not added).
class GuardedGauge {
 public:
  GuardedGauge(std::vector<std::string> label_names, size_t max_series);
  void set(const std::vector<std::string_view>& labels, double value);
  [[nodiscard]] uint64_t folded() const { return folded_; }
  void export_to(MetricFamily& f) const;

 private:
  std::vector<std::string> label_names_;
  size_t max_series_;
  std::map<std::vector<std::string>, double> values_;
  uint64_t folded_ = 0;
};

}  // namespace privwatch::exporter
