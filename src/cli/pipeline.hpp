// The user-space pipeline after the source (DESIGN.md §2): enrich → sessions → attribution →
// outputs and sinks (store, exporters) → baselines → rules → response. One per host, on one
// thread. The agent feeds it from the kernel source; `privwatch import` from a replay file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/baseline_stage.hpp"
#include "config/config.hpp"
#include "detect/engine.hpp"
#include "enrich/attribution.hpp"
#include "enrich/enricher.hpp"
#include "enrich/grants.hpp"
#include "export/json_lines_output.hpp"
#include "export/pipeline_metrics.hpp"
#include "model/record_sink.hpp"
#include "respond/responder.hpp"
#include "session/recording.hpp"
#include "session/tracker.hpp"
#include "source/event_source.hpp"
#include "store/sink.hpp"
#include "util/histogram.hpp"
#include "util/result.hpp"

namespace privwatch::cli {

// gethostname(), "unknown" when it fails.
[[nodiscard]] std::string local_hostname();

class Pipeline : public source::EventSink, public session::SessionObserver {
 public:
  Pipeline(const config::Config& cfg, std::unique_ptr<exporter::JsonLinesOutput> out,
           const std::string& host);

  const session::Recorder* recorder() const { return recorder_.get(); }
  session::SessionTracker& sessions() { return sessions_; }

  void session_changed(const model::Session& s) override;
  void escalation(const model::Escalation& e) override;

  enrich::Enricher& enricher() { return enricher_; }
  exporter::JsonLinesOutput& output() { return *out_; }
  const LatencyHistogram& latency() const { return latency_; }
  uint64_t output_errors() const { return output_errors_; }

  // Sinks at the end of the pipeline (store, exporters), called in order after the JSON lines
  // output. Each must not block (DESIGN.md §3 export).
  void add_sink(std::unique_ptr<model::RecordSink> sink) { sinks_.push_back(std::move(sink)); }
  // Metrics are plain counters of this thread, published as snapshots (docs/exports.md).
  void set_metrics(exporter::PipelineMetrics* m) { metrics_ = m; }
  std::vector<std::unique_ptr<model::RecordSink>>& sinks() { return sinks_; }
  // The store sink (also in sinks()), for its counters in the stats file; null when disabled.
  void set_store(const store::StoreSink* s) { store_ = s; }
  const store::StoreSink* store() const { return store_; }

  // Response (docs/response.md). Call respond() with every alert, and the event it fired on
  // when at hand; the actions run on the responder's thread and come back through
  // emit_actions(), which the loop calls, as records to the output and every sink.
  void set_responder(std::unique_ptr<respond::Responder> r) { responder_ = std::move(r); }
  respond::Responder* responder() { return responder_.get(); }
  void respond(const model::Alert& alert, const model::Event* trigger = nullptr) {
    if (responder_) responder_->on_alert(alert, trigger, &enricher_.table());
  }
  void emit_actions() {
    if (responder_) responder_->drain([this](const model::ResponseAction& a) { emit_action(a); });
  }
  void emit_action(const model::ResponseAction& a);
  std::string respond_stats_json() const;

  static enrich::AttributorOptions attributor_options();

  // Inventory and access grants (docs/inventory.md): at start and on SIGHUP, between events.
  // A broken inventory on reload keeps the previous one.
  Status load_inventory(const config::InventoryConfig& c);

  void on_event(model::Event& ev) override;

  // Every alert (rules, baselines) goes the same way: JSON lines output, sinks, metrics, and
  // the responder (the rule's response: settings).
  void emit_alert(const model::Alert& a, const model::Event* trigger = nullptr);

  // Rules: built completely, then swapped in between two events (SIGHUP reloads).
  Status load_rules(const config::DetectConfig& d);
  const detect::Engine* engine() const { return engine_.get(); }
  void set_baselines(std::unique_ptr<BaselineStage> b) { baselines_ = std::move(b); }
  BaselineStage* baselines() { return baselines_.get(); }

  void flush_sinks();
  void reopen_sinks();
  void close_sinks();

 private:
  enrich::Enricher enricher_;
  session::SessionTracker sessions_;
  enrich::Attributor attributor_{nullptr, attributor_options()};
  enrich::GrantStore grants_;
  std::unique_ptr<exporter::JsonLinesOutput> out_;
  std::vector<std::unique_ptr<model::RecordSink>> sinks_;
  const store::StoreSink* store_ = nullptr;
  std::unique_ptr<respond::Responder> responder_;
  uint64_t actions_recorded_ = 0;
  std::unique_ptr<BaselineStage> baselines_;
  std::unique_ptr<session::Recorder> recorder_;  // null unless recording.enabled
  uint64_t seq_ = 0;
  LatencyHistogram latency_;
  uint64_t output_errors_ = 0;
  exporter::PipelineMetrics* metrics_ = nullptr;
  std::unique_ptr<detect::Engine> engine_;
  std::vector<model::Alert> alerts_;
};

}  // namespace privwatch::cli
