#include "cli/pipeline.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <ctime>

#include "export/action_json.hpp"
#include "export/ecs_json.hpp"
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
                   const std::string& host, PipelineOptions opts)
    : opts_(std::move(opts)),
      host_(host),
      enricher_(cfg.process_table.max_entries,
                static_cast<uint64_t>(cfg.process_table.exited_grace_s) * 1'000'000'000ull),
      sessions_(
          enricher_.table(), enricher_.users(), *this,
          session::TrackerOptions{
              host, opts_.boot_id.empty() ? session::read_boot_id() : opts_.boot_id,
              cfg.process_table.max_entries, 16384, 30'000'000'000ull,
              [this](model::Session& s, const model::Event* ev) { attribute_session(s, ev); }}),
      attributor_(nullptr, attributor_options(opts_.recorded)),
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
  if (!opts_.output_alerts_only && !out_->write_json(exporter::session_json(s))) ++output_errors_;
  for (auto& sink : sinks_) sink->on_session(s);
  if (recorder_) recorder_->session_changed(s);
}

void Pipeline::escalation(const model::Escalation& esc) {
  const model::Escalation* ep = &esc;
  model::Escalation named;
  if (opts_.recorded && current_ != nullptr) {  // the recording's names, not this host's NSS
    named = esc;
    const model::Event& ev = *current_;
    if (ev.proc.loginuid != model::kUnsetId && !ev.login_user_name.empty()) {
      named.human = ev.login_user_name;
    }
    if (named.to_uid == ev.proc.euid && !ev.effective_user_name.empty()) {
      named.to_user = ev.effective_user_name;
    }
    if (named.from_uid == ev.proc.loginuid && !ev.login_user_name.empty()) {
      named.from_user = ev.login_user_name;
    }
    ep = &named;
  }
  const model::Escalation& e = *ep;
  if (!opts_.output_alerts_only && !out_->write_json(exporter::escalation_json(e))) {
    ++output_errors_;
  }
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

enrich::AttributorOptions Pipeline::attributor_options(bool recorded) {
  enrich::AttributorOptions o;
  if (recorded) {
    // The recorded processes are not this host's: never look them up here.
    o.containers.proc_root = "/nonexistent/privwatch-import";
    o.containers.cgroup2_root = "";
  } else {
    o.containers.runtimes = enrich::default_runtime_clients();
  }
  return o;
}

void Pipeline::attribute_session(model::Session& s, const model::Event* ev) {
  const enrich::Inventory& inv = *attributor_.inventory();
  const model::Attribution* rec = opts_.recorded && ev != nullptr ? &ev->attr : nullptr;
  if (rec != nullptr && !rec->host.empty()) s.host = rec->host;
  if (opts_.recorded && ev != nullptr) {  // the recording's names, not this host's NSS
    if (s.loginuid != model::kUnsetId && s.loginuid == ev->proc.loginuid &&
        !ev->login_user_name.empty()) {
      s.human = ev->login_user_name;
    }
    if (s.uid == ev->proc.uid && !ev->user_name.empty()) s.user = ev->user_name;
  }
  if (rec != nullptr && !rec->cluster.empty()) {
    s.cluster = rec->cluster;
  } else {
    s.cluster = opts_.recorded ? inv.cluster_of(s.host) : inv.cluster();
  }
  if (rec != nullptr && !rec->roles.empty() && rec->human == s.human) {
    s.roles = rec->roles;
  } else if (!s.human.empty()) {
    s.roles = attributor_.roles_for(s.human, s.loginuid != model::kUnsetId ? s.loginuid : s.uid);
  }
  if (rec != nullptr && !rec->service_account.empty()) {
    s.service_account = rec->service_account;
  } else if (ev != nullptr && !inv.service_accounts().empty()) {
    const auto& cg = attributor_.containers().resolve(
        ev->proc.pid, model::ns_to_ticks(ev->proc.start_ns), ev->proc.cgroup_id);
    if (const auto* sa = attributor_.service_account_for(*ev, cg)) s.service_account = sa->name;
  }
}

void Pipeline::restore_recorded(model::Event& ev) {
  model::Attribution& a = ev.attr;
  if (!recorded_.host.empty()) a.host = recorded_.host;
  if (!recorded_.cluster.empty()) {
    a.cluster = recorded_.cluster;
  } else if (!recorded_.host.empty()) {
    a.cluster = attributor_.inventory()->cluster_of(a.host);
  }
  if (!recorded_.roles.empty()) a.roles = recorded_.roles;
  if (recorded_.escalated && !a.escalated) {
    a.escalated = true;
    a.escalation = recorded_.escalation;
  }
  if (!recorded_.service_account.empty()) a.service_account = recorded_.service_account;
  if (!recorded_.container.id.empty()) a.container = recorded_.container;
  if (recorded_.drift != 0) {
    a.drift |= recorded_.drift;
    if (a.drift_reason.empty()) a.drift_reason = recorded_.drift_reason;
  }
}

Status Pipeline::load_inventory(const config::InventoryConfig& c) {
  auto inv = enrich::Inventory::load_file(c.path);
  if (!inv) return inv.error();
  // Inventory::load_file logs its own warnings and a summary line.
  auto rep = grants_.load(c.grants);
  if (!rep) {
    log::warn("grants: {}", rep.error().to_string());
  } else {
    for (const auto& e : rep->rejected) log::warn("grants: {}", e.to_string());
    if (!c.grants.empty()) {
      log::info("grants: loaded {} grants from {} files in {}", rep->grants, rep->files, c.grants);
    }
  }
  attributor_.set_inventory(*inv);
  attributor_.set_grants(grants_.snapshot());
  return {};
}

void Pipeline::on_event(model::Event& ev) {
  const uint64_t now = now_ns(CLOCK_BOOTTIME);
  ev.seq = ++seq_;
  if (opts_.recorded) {
    recorded_ = ev.attr;
    enricher_.process_recorded(ev);
    current_ = &ev;
    sessions_.process(ev);
    current_ = nullptr;
    // The recording's human and session stand when the replayed process tree cannot tell.
    if (!recorded_.human.empty()) ev.attr.human = recorded_.human;
    if (!ev.attr.session && recorded_.session) ev.attr.session = recorded_.session;
    attributor_.attribute(ev);
    restore_recorded(ev);
  } else {
    latency_.record(now > ev.ts_ns ? now - ev.ts_ns : 0);
    enricher_.process(ev);
    sessions_.process(ev);
    attributor_.attribute(ev);  // host, cluster, roles, service account, container, drift
  }
  if (recorder_) recorder_->process(ev);
  if (opts_.output_alerts_only) {
    for (auto& s : sinks_) s->on_event(ev);
  } else {
    // Rendered once: the output writes it, the store keeps it (its encoder thread would render
    // the same document again: ~40 % of that thread's work).
    json_.clear();
    exporter::append_ecs_json(ev, json_, ev.attr.host.empty() ? host_ : ev.attr.host);
    if (!out_->write_json(json_)) ++output_errors_;  // lines dropped are counted by the output
    for (auto& s : sinks_) s->on_rendered_event(ev, json_);
  }
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
  ++alerts_emitted_;
  if (!out_->write_json(exporter::alert_json(a))) ++output_errors_;
  // An alert does not wait for the buffer to fill behind the events (a file tailer sees it now).
  // A failed write is already counted by the output (lines dropped) and reported by write_json.
  (void)out_->flush_async();
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
