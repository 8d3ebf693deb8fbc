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

struct PipelineOptions {
  // Recorded events (privwatch import) instead of live ones: the recording's times, names and
  // attribution (host, cluster, human, roles, service account, container, session) are kept
  // where present and computed only where missing; nothing reads this host's /proc or
  // container runtimes about the recorded processes; no latency is measured.
  bool recorded = false;
  std::string boot_id;  // session id prefix; "" = this host's boot id
  // The JSON lines output gets alerts and response actions only (no events, sessions or
  // escalations); the sinks still get everything.
  bool output_alerts_only = false;
};

class Pipeline : public source::EventSink, public session::SessionObserver {
 public:
  Pipeline(const config::Config& cfg, std::unique_ptr<exporter::JsonLinesOutput> out,
           const std::string& host, PipelineOptions opts = {});

  const session::Recorder* recorder() const { return recorder_.get(); }
  session::SessionTracker& sessions() { return sessions_; }

  void session_changed(const model::Session& s) override;
  void escalation(const model::Escalation& esc) override;

  enrich::Enricher& enricher() { return enricher_; }
  exporter::JsonLinesOutput& output() { return *out_; }
  const LatencyHistogram& latency() const { return latency_; }
  const enrich::Attributor& attributor() const { return attributor_; }
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
    if (responder_) {
      responder_->on_alert(alert, trigger, &enricher_.table());
    } else if (!alert.details_json.empty() && respond::parse_alert_response(alert.details_json)) {
      ++responses_skipped_;
    }
  }
  void emit_actions() {
    if (responder_) responder_->drain([this](const model::ResponseAction& a) { emit_action(a); });
  }
  void emit_action(const model::ResponseAction& a);
  std::string respond_stats_json() const;

  static enrich::AttributorOptions attributor_options(bool recorded = false);

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

  [[nodiscard]] uint64_t alerts() const { return alerts_emitted_; }
  // Alerts whose rule asked for a response while no responder runs (imports): not carried out.
  [[nodiscard]] uint64_t responses_skipped() const { return responses_skipped_; }

  void flush_sinks();
  void reopen_sinks();
  void close_sinks();

 private:
  // Roles, cluster and service account of a session as it starts (docs/sessions.md).
  void attribute_session(model::Session& s, const model::Event* ev);
  void restore_recorded(model::Event& ev);

  PipelineOptions opts_;
  std::string host_;  // this host's name (events attributed to no host)
  std::string json_;  // the current event's ECS JSON, rendered once for the output and sinks
  enrich::Enricher enricher_;
  session::SessionTracker sessions_;
  enrich::Attributor attributor_;
  model::Attribution recorded_;            // recorded mode: the event's attribution as read
  const model::Event* current_ = nullptr;  // recorded mode: the event the tracker is on
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
  uint64_t alerts_emitted_ = 0;
  uint64_t responses_skipped_ = 0;
};

}  // namespace privwatch::cli
