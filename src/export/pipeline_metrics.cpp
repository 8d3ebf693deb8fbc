#include "export/pipeline_metrics.hpp"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <string>

namespace privwatch::exporter {

namespace {

uint64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

constexpr double kNsToS = 1e-9;

std::string kind_name(size_t k) {
  return std::string(model::to_string(static_cast<model::EventKind>(k)));
}

}  // namespace

PipelineMetrics::PipelineMetrics(MetricsLimits limits, uint64_t start_time_unix_ns)
    : limits_(limits),
      start_time_unix_ns_(start_time_unix_ns != 0 ? start_time_unix_ns : clock_ns(CLOCK_REALTIME)),
      received_latency_(latency_bounds_ns()),
      processed_latency_(latency_bounds_ns()),
      alert_latency_(latency_bounds_ns()),
      file_created_({"path", "name"}, limits.file_created_max_series),
      alerts_({"severity", "rule"}, limits.max_series) {}

void PipelineMetrics::on_event(const model::Event& ev, uint64_t received_boot_ns) {
  received_latency_.record(received_boot_ns > ev.ts_ns ? received_boot_ns - ev.ts_ns : 0);
  const uint64_t done = clock_ns(CLOCK_BOOTTIME);
  processed_latency_.record(done > ev.ts_ns ? done - ev.ts_ns : 0);
  if (ev.kind != model::EventKind::kFile) return;
  const auto* f = std::get_if<model::FileData>(&ev.data);
  if (f == nullptr || (f->file_flags & model::kFileCreated) == 0 || f->result < 0) return;
  const std::string_view path = f->path;
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  file_created_.inc({path, name});
}

void PipelineMetrics::on_alert(const model::Alert& a, uint64_t latency_ns) {
  alert_latency_.record(latency_ns);
  alerts_.inc({model::to_string(a.severity), a.rule});
}

void PipelineMetrics::set_baseline_counts(std::string_view dimension, uint64_t entities,
                                          uint64_t mature) {
  for (size_t i = 0; i < kBaselineDimensions.size(); ++i) {
    if (kBaselineDimensions[i] != dimension) continue;
    baselines_[i] = {entities, std::min(mature, entities), true};
  }
}

std::shared_ptr<MetricsSnapshot> PipelineMetrics::snapshot(
    const source::SourceStats& src, const std::vector<const model::RecordSink*>& sinks,
    const ProcessSample& proc) const {
  auto s = std::make_shared<MetricsSnapshot>();
  s->time_unix_ns = clock_ns(CLOCK_REALTIME);
  s->start_time_unix_ns = start_time_unix_ns_;

  auto per_kind = [&](const char* name, const char* help, const auto& arr) {
    auto& f = s->family(name, help, MetricType::kCounter, {"kind"});
    for (size_t k = 1; k < arr.size(); ++k) f.add({kind_name(k)}, static_cast<double>(arr[k]));
  };
  per_kind("privwatch_events", "Events decoded and delivered to the pipeline, by kind.",
           src.received);
  per_kind("privwatch_kernel_events", "Events the kernel programs wrote, by kind.",
           src.kernel_emitted);
  {
    auto& f = s->family("privwatch_events_lost",
                        "Events lost before the pipeline, by kind and cause (ring_buffer_full: "
                        "the kernel could not reserve space; undecodable_*: rejected records).",
                        MetricType::kCounter, {"kind", "cause"});
    for (size_t k = 1; k < src.kernel_lost.size(); ++k) {
      f.add({kind_name(k), "ring_buffer_full"}, static_cast<double>(src.kernel_lost[k]));
    }
    for (size_t i = 1; i < src.decode_errors.size(); ++i) {
      f.add({"unknown", fmt::format("undecodable_{}",
                                    source::to_string(static_cast<source::DecodeStatus>(i)))},
            static_cast<double>(src.decode_errors[i]));
    }
  }
  per_kind("privwatch_events_truncated",
           "Events delivered with a truncated string (path, argv), by kind.", src.kernel_truncated);
  per_kind("privwatch_event_read_failures",
           "Events delivered with a field the kernel could not read, by kind.",
           src.kernel_read_fail);
  s->family("privwatch_ring_buffer_size_bytes", "Size of the kernel ring buffer.",
            MetricType::kGauge)
      .add({}, static_cast<double>(src.ring_size_bytes));
  s->family("privwatch_ring_buffer_used_bytes",
            "Bytes in the kernel ring buffer not yet read by the agent (sampled).",
            MetricType::kGauge)
      .add({}, static_cast<double>(src.ring_used_bytes));
  s->family("privwatch_ring_buffer_peak_used_bytes",
            "Highest ring buffer backlog found when the agent started a drain, since start.",
            MetricType::kGauge)
      .add({}, static_cast<double>(src.ring_peak_used_bytes));

  {
    auto& depth = s->family("privwatch_sink_queue_depth", "Records waiting in each sink's queue.",
                            MetricType::kGauge, {"sink"});
    auto& cap = s->family("privwatch_sink_queue_capacity", "Bound of each sink's queue.",
                          MetricType::kGauge, {"sink"});
    auto& delivered =
        s->family("privwatch_sink_delivered", "Records each sink delivered to its receiver.",
                  MetricType::kCounter, {"sink"});
    auto& dropped = s->family(
        "privwatch_sink_dropped",
        "Records each sink dropped: queue_full (receiver slow or down, the pipeline never "
        "waits), delivery_failed (retries exhausted or rejected).",
        MetricType::kCounter, {"sink", "cause"});
    auto& retries = s->family("privwatch_sink_retries", "Delivery attempts retried by each sink.",
                              MetricType::kCounter, {"sink"});
    for (const model::RecordSink* sink : sinks) {
      const model::SinkStats st = sink->stats();
      const std::string n(sink->name());
      depth.add({n}, static_cast<double>(st.queue_depth));
      cap.add({n}, static_cast<double>(st.queue_capacity));
      delivered.add({n}, static_cast<double>(st.delivered));
      dropped.add({n, "queue_full"}, static_cast<double>(st.dropped_queue_full));
      dropped.add({n, "delivery_failed"}, static_cast<double>(st.dropped_failed));
      retries.add({n}, static_cast<double>(st.retries));
    }
  }
  s->family("privwatch_output_lines_written", "JSON lines written by the events output.",
            MetricType::kCounter)
      .add({}, static_cast<double>(proc.output_lines_written));
  s->family("privwatch_output_lines_dropped",
            "JSON lines the events output dropped after a write error.", MetricType::kCounter)
      .add({}, static_cast<double>(proc.output_lines_dropped));

  s->family("privwatch_event_latency_seconds",
            "Kernel timestamp of the syscall to the pipeline: stage=received (read from the "
            "ring buffer), stage=processed (enriched and handed to every sink).",
            MetricType::kHistogram, {"stage"})
      .add_histogram({"received"}, received_latency_, kNsToS);
  s->families.back().add_histogram({"processed"}, processed_latency_, kNsToS);
  s->family("privwatch_alert_latency_seconds",
            "Kernel timestamp of the triggering syscall to the alert.", MetricType::kHistogram)
      .add_histogram({}, alert_latency_, kNsToS);

  alerts_.export_to(s->family("privwatch_alerts", "Alerts raised, by severity and rule.",
                              MetricType::kCounter, {"severity", "rule"}));
  s->family("privwatch_active_sessions", "Sessions currently open (entry leaders alive).",
            MetricType::kGauge)
      .add({}, static_cast<double>(active_sessions_));
  {
    auto& ratio = s->family(
        "privwatch_baseline_maturity",
        "Share of the behavioural baselines of a dimension (user, role, cluster) that are mature "
        "(learning period over), 0 to 1; 0 while none is known.",
        MetricType::kGauge, {"dimension"});
    auto& count = s->family("privwatch_baseline_entities",
                            "Behavioural baselines known, by dimension and state (learning or "
                            "mature).",
                            MetricType::kGauge, {"dimension", "state"});
    bool any = false;
    for (size_t i = 0; i < kBaselineDimensions.size(); ++i) {
      const BaselineCounts& b = baselines_[i];
      if (!b.set) continue;
      any = true;
      const std::string dim(kBaselineDimensions[i]);
      ratio.add({dim}, b.entities == 0
                           ? 0.0
                           : static_cast<double>(b.mature) / static_cast<double>(b.entities));
      count.add({dim, "learning"}, static_cast<double>(b.entities - b.mature));
      count.add({dim, "mature"}, static_cast<double>(b.mature));
    }
    auto& learned =
        s->family("privwatch_baseline_learned_events",
                  "Events learned as normal by the behavioural baselines.", MetricType::kCounter);
    if (any) learned.add({}, static_cast<double>(baseline_learned_));
  }
  file_created_.export_to(s->family(
      "privwatch_file_created",
      "Files created (open with O_CREAT that created the file), by path and name; label sets "
      "beyond metrics.file_created_max_series are folded into path=\"_overflow_\".",
      MetricType::kCounter, {"path", "name"}));
  {
    auto& f = s->family("privwatch_metric_series_folded",
                        "Updates folded into an overflow series (or dropped, for gauges) by the "
                        "cardinality guard, by metric.",
                        MetricType::kCounter, {"metric"});
    f.add({"privwatch_file_created_total"}, static_cast<double>(file_created_.folded()));
    f.add({"privwatch_alerts_total"}, static_cast<double>(alerts_.folded()));
  }

  {
    auto& f = s->family("privwatch_agent_cpu_seconds", "CPU time of the agent process.",
                        MetricType::kCounter, {"mode"});
    f.add({"user"}, proc.cpu_user_s);
    f.add({"system"}, proc.cpu_system_s);
  }
  {
    auto& f = s->family("privwatch_agent_resident_memory_bytes",
                        "Resident memory of the agent: area=agent (everything but the ring "
                        "buffer), area=ring_buffer (the mmapped BPF ring buffer).",
                        MetricType::kGauge, {"area"});
    f.add({"agent"}, static_cast<double>(proc.rss_kb - proc.rss_ring_kb) * 1024.0);
    f.add({"ring_buffer"}, static_cast<double>(proc.rss_ring_kb) * 1024.0);
  }
  s->family("privwatch_process_table_entries", "Processes in the agent's process table.",
            MetricType::kGauge)
      .add({}, static_cast<double>(proc.process_table_entries));
  s->family("privwatch_agent_start_time_seconds", "Start of the agent, seconds since the epoch.",
            MetricType::kGauge)
      .add({}, static_cast<double>(start_time_unix_ns_) * kNsToS);
  return s;
}

}  // namespace privwatch::exporter
