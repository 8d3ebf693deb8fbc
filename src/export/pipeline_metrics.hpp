// The agent's metrics (docs/exports.md lists every family). Owned by the pipeline thread:
// on_event()/on_alert() update plain integers; snapshot() builds an immutable
// MetricsSnapshot that the agent publishes into a MetricsRegistry about once a second.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "export/metrics.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "model/record_sink.hpp"
#include "source/event_source.hpp"

namespace privwatch::exporter {

struct MetricsLimits {
  size_t file_created_max_series = 1000;  // distinct {path,name} of privwatch_file_created_total
  size_t max_series = 1000;               // other labelled families (alerts by rule, baselines)
};

// Process-wide numbers the agent samples (it owns the /proc readers).
struct ProcessSample {
  double cpu_user_s = 0, cpu_system_s = 0;
  long rss_kb = 0;       // everything resident
  long rss_ring_kb = 0;  // of which the mmapped BPF ring buffer
  uint64_t process_table_entries = 0;
  uint64_t output_lines_written = 0, output_lines_dropped = 0, output_errors = 0;
};

class PipelineMetrics {
 public:
  explicit PipelineMetrics(MetricsLimits limits = {}, uint64_t start_time_unix_ns = 0);

  // Hot path, pipeline thread. `received_boot_ns`: when the pipeline got the event
  // (CLOCK_BOOTTIME, the clock of ev.ts_ns); on_event reads the clock once more for the
  // end of processing (after every sink took the event).
  void on_event(const model::Event& ev, uint64_t received_boot_ns);
  // An alert produced `latency_ns` after the syscall that triggered it.
  void on_alert(const model::Alert& a, uint64_t latency_ns);

  // Set by the session tracker and the baseline engine (pipeline thread).
  void set_active_sessions(uint64_t n) { active_sessions_ = n; }
  // Behavioural baselines of one dimension ("user" | "role" | "cluster"): entities known and
  // how many of them are mature (learning period over), plus events learned in total.
  // Exported as privwatch_baseline_maturity{dimension} (the mature share) and
  // privwatch_baseline_entities{dimension,state}; nothing is exported until first set.
  void set_baseline_counts(std::string_view dimension, uint64_t entities, uint64_t mature);
  void set_baseline_learned(uint64_t events) { baseline_learned_ = events; }

  // Builds the snapshot; `sinks` are the pipeline's record sinks (name + stats()).
  [[nodiscard]] std::shared_ptr<MetricsSnapshot> snapshot(
      const source::SourceStats& src, const std::vector<const model::RecordSink*>& sinks,
      const ProcessSample& proc) const;

  // For tests.
  [[nodiscard]] const GuardedCounter& file_created() const { return file_created_; }

 private:
  MetricsLimits limits_;
  uint64_t start_time_unix_ns_;
  FixedHistogram received_latency_;
  FixedHistogram processed_latency_;
  FixedHistogram alert_latency_;
  GuardedCounter file_created_;
  GuardedCounter alerts_;
  struct BaselineCounts {
    uint64_t entities = 0, mature = 0;
    bool set = false;
  };
  static constexpr std::array<std::string_view, 3> kBaselineDimensions = {"user", "role",
                                                                          "cluster"};
  std::array<BaselineCounts, 3> baselines_{};
  uint64_t baseline_learned_ = 0;
  uint64_t active_sessions_ = 0;
};

}  // namespace privwatch::exporter
