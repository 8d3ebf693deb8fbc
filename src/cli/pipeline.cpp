#include "cli/pipeline.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <ctime>

#include "export/action_json.hpp"
#include "export/record_json.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

uint64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::string local_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

Pipeline::Pipeline(const config::Config& cfg, std::unique_ptr<exporter::JsonLinesOutput> out,
                   const std::string& host)
    : enricher_(cfg.process_table.max_entries,
                static_cast<uint64_t>(cfg.process_table.exited_grace_s) * 1'000'000'000ull),
      sessions_(
          enricher_.table(), enricher_.users(), *this,
          session::TrackerOptions{host, session::read_boot_id(), cfg.process_table.max_entries}),
      out_(std::move(out)) {
  enricher_.set_sensitive_paths(cfg.sensitive_paths);
  if (cfg.recording.enabled) {
    const auto& r = cfg.recording;
    recorder_ = std::make_unique<session::Recorder>(
        session::RecorderOptions{host, r.chunk_bytes, r.flush_ms, r.max_open},
        [this](const model::RecordingChunk& c) {
          for (auto& sink : sinks_) sink->on_recording_chunk(c);
        });
  }
}

void Pipeline::session_changed(const model::Session& s) {
  if (!out_->write_json(exporter::session_json(s))) ++output_errors_;
  for (auto& sink : sinks_) sink->on_session(s);
  if (recorder_) recorder_->session_changed(s);
}

void Pipeline::escalation(const model::Escalation& e) {
  if (!out_->write_json(exporter::escalation_json(e))) ++output_errors_;
  for (auto& sink : sinks_) sink->on_escalation(e);
}

void Pipeline::emit_action(const model::ResponseAction& a) {
  ++actions_recorded_;
  if (!out_->write_json(exporter::action_json(a))) ++output_errors_;
  for (auto& s : sinks_) s->on_action(a);
}

std::string Pipeline::respond_stats_json() const {
  const respond::ResponderStats r = responder_ ? responder_->stats() : respond::ResponderStats{};
  return fmt::format(
      "{{\"actions_recorded\":{},\"alerts_with_response\":{},\"actions_queued\":{},"
      "\"actions_dropped\":{},\"kernel_kills\":{},\"sessions_quarantined\":{},"
      "\"invalid_responses\":{}}}",
      actions_recorded_, r.alerts_with_response, r.actions_queued, r.actions_dropped,
      r.kernel_kills, r.sessions_quarantined, r.invalid_responses);
}

enrich::AttributorOptions Pipeline::attributor_options() {
  enrich::AttributorOptions o;
  o.containers.runtimes = enrich::default_runtime_clients();
  return o;
}

Status Pipeline::load_inventory(const config::InventoryConfig& c) {
  auto inv = enrich::Inventory::load_file(c.path);
  if (!inv) return inv.error();
  for (const auto& w : (*inv)->warnings()) log::warn("inventory: {}", w);
  auto rep = grants_.load(c.grants);
  if (!rep) {
    log::warn("grants: {}", rep.error().to_string());
  } else {
    for (const auto& e : rep->rejected) log::warn("grants: {}", e.to_string());
  }
  attributor_.set_inventory(*inv);
  attributor_.set_grants(grants_.snapshot());
  return {};
}

void Pipeline::on_event(model::Event& ev) {
  const uint64_t now = now_ns(CLOCK_BOOTTIME);
  latency_.record(now > ev.ts_ns ? now - ev.ts_ns : 0);
  ev.seq = ++seq_;
  enricher_.process(ev);
  sessions_.process(ev);
  attributor_.attribute(ev);  // host, cluster, roles, service account, container, drift
  if (recorder_) recorder_->process(ev);
  if (!out_->write(ev)) ++output_errors_;  // lines dropped are counted by the output
  for (auto& s : sinks_) s->on_event(ev);
  if ((ev.flags & model::kFlagKilled) != 0 && responder_) {
    emit_action(responder_->on_kernel_kill(ev));  // the kernel enforced respond.kill
  }
  if (metrics_ != nullptr) metrics_->on_event(ev, now);
  if (baselines_) baselines_->on_event(ev);  // its alerts come back through emit_alert
  if (!engine_) return;
  alerts_.clear();
  engine_->evaluate(ev, alerts_);
  for (const auto& a : alerts_) emit_alert(a, &ev);
}

void Pipeline::emit_alert(const model::Alert& a, const model::Event* trigger) {
  if (!out_->write_json(exporter::alert_json(a))) ++output_errors_;
  for (auto& s : sinks_) s->on_alert(a);
  respond(a, trigger);
  if (metrics_ != nullptr) {
    const uint64_t now = now_ns(CLOCK_BOOTTIME);
    const uint64_t ts = trigger != nullptr ? trigger->ts_ns : now;
    metrics_->on_alert(a, now > ts ? now - ts : 0);
  }
}

Status Pipeline::load_rules(const config::DetectConfig& d) {
  if (!d.enabled) return {};
  std::string where;
  auto rules = detect::load_rules(d.default_rules, d.rules, &where);
  if (!rules) return rules.error();
  detect::EngineOptions o;
  o.dedup_window_ns = uint64_t{d.dedup_window_s} * 1'000'000'000ull;
  o.rate_limit_per_minute = d.rate_limit_per_minute;
  o.max_sequence_states = d.max_sequence_states;
  o.host = local_hostname();
  const size_t skipped = rules->skipped.size();
  auto engine = std::make_unique<detect::Engine>(std::move(*rules), o);
  if (engine_) engine->take_state_from(*engine_);
  log::info("detect: {} rules loaded (default ruleset: {}; {} Sigma rules skipped{}{})",
            engine->rules().rules.size(), d.default_rules ? where : "off", skipped,
            skipped ? ", first: " : "", skipped ? engine->rules().skipped[0] : "");
  engine_ = std::move(engine);
  return {};
}

void Pipeline::flush_sinks() {
  if (recorder_) recorder_->tick();
  for (auto& s : sinks_) s->flush();
}

void Pipeline::reopen_sinks() {
  for (auto& s : sinks_) s->reopen();
}

void Pipeline::close_sinks() {
  if (recorder_) recorder_->close_all();
  for (auto& s : sinks_) s->close();
}

}  // namespace privwatch::cli
