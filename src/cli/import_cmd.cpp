// `privwatch import FILE [--format jsonl|auditd] [--speed N|max]`: recorded events (privwatch's
// own JSON lines, or a Linux audit log) through the pipeline after capture — enrichment from
// the replayed process tree, baselines (learning, and alerts), outputs — so a new deployment
// learns from history and detection can be evaluated without a kernel.
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <unordered_map>

#include "cli/baseline_stage.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "enrich/process_table.hpp"
#include "export/json_lines_output.hpp"
#include "export/record_json.hpp"
#include "source/replay_source.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

// Recorded events carry their own enrichment; what is missing (audit logs have no parent
// executable, and uids rather than names unless ENRICHED) is filled from the replayed process
// tree and this host's user database.
class ReplayEnricher {
 public:
  ReplayEnricher() : table_(65536, 30ull * 1'000'000'000ull) {}
  void operator()(model::Event& ev) {
    table_.apply(ev);
    if (ev.exe.empty()) {
      if (const auto* self = table_.find(ev.proc.key())) ev.exe = self->exe;
    }
    if (ev.parent_exe.empty()) {
      if (const auto* parent = table_.find(ev.proc.parent_key())) {
        ev.parent_exe = parent->exe;
        ev.parent_comm = parent->comm;
      }
    }
    if (ev.user_name.empty()) ev.user_name = name(ev.proc.uid);
    if (ev.effective_user_name.empty()) ev.effective_user_name = name(ev.proc.euid);
    if (ev.login_user_name.empty() && ev.proc.loginuid != model::kUnsetId) {
      ev.login_user_name = name(ev.proc.loginuid);
    }
    if (ev.ts_ns > next_expire_) {
      table_.expire(ev.ts_ns);
      next_expire_ = ev.ts_ns + 1'000'000'000ull;
    }
  }

 private:
  const std::string& name(uint32_t uid) {
    auto it = names_.find(uid);
    if (it != names_.end()) return it->second;
    std::string n = std::to_string(uid);
    char buf[16384];
    passwd pw{}, *found = nullptr;
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) n = pw.pw_name;
    return names_.emplace(uid, std::move(n)).first->second;
  }
  enrich::ProcessTable table_;
  std::unordered_map<uint32_t, std::string> names_;
  uint64_t next_expire_ = 0;
};

// The stages after the source, in order. Sessions, rules and the store join here, one line
// each (add_stage), as they land.
class ImportPipeline : public source::EventSink {
 public:
  void add_stage(std::function<void(model::Event&)> stage) { stages_.push_back(std::move(stage)); }
  void on_event(model::Event& ev) override {
    ev.seq = ++seq_;
    for (auto& s : stages_) s(ev);
  }
  [[nodiscard]] uint64_t events() const { return seq_; }

 private:
  std::vector<std::function<void(model::Event&)>> stages_;
  uint64_t seq_ = 0;
};

struct ImportOptions {
  std::string file;
  std::string format = "auto";
  std::string speed = "max";
  std::string config_path;
  std::string output_path;
  bool alerts_only = false;
};

int run_import(const ImportOptions& o) {
  auto cfg = o.config_path.empty() ? config::load_default() : config::load_file(o.config_path);
  if (!cfg) {
    std::fprintf(stderr, "privwatch: error: %s\n", cfg.error().to_string().c_str());
    return 2;
  }
  log::init(cfg->log_level);
  if (!o.output_path.empty()) cfg->output.path = o.output_path;
  auto format = source::parse_replay_format(o.format);
  if (!format) {
    std::fprintf(stderr, "privwatch: error: %s\n", format.error().to_string().c_str());
    return 2;
  }
  source::ReplayOptions ro;
  ro.format = *format;
  if (o.speed != "max") {
    char* end = nullptr;
    ro.speed = std::strtod(o.speed.c_str(), &end);
    if (end == o.speed.c_str() || *end != '\0' || !(ro.speed > 0)) {
      std::fprintf(stderr,
                   "privwatch: error: --speed '%s' is not a positive number\n  hint: use --speed "
                   "max (as fast as possible) or a factor such as --speed 10 (ten times the "
                   "recorded pace)\n",
                   o.speed.c_str());
      return 2;
    }
  }
  auto src = source::ReplaySource::open(o.file, ro);
  if (!src) {
    std::fprintf(stderr, "privwatch: error: %s\n", src.error().to_string().c_str());
    return src.error().kind == ErrorKind::kInvalidArgument ? 2 : 1;
  }
  auto out = exporter::JsonLinesOutput::open(cfg->output, "");
  if (!out) {
    std::fprintf(stderr, "privwatch: error: %s\n", out.error().to_string().c_str());
    return 1;
  }
  uint64_t alerts = 0;
  auto& output = **out;
  auto baselines = BaselineStage::create(cfg->baselines, "", [&](const model::Alert& a) {
    ++alerts;
    (void)output.write_json(exporter::alert_json(a));
  });
  if (!baselines) {
    std::fprintf(stderr, "privwatch: error: %s\n", baselines.error().to_string().c_str());
    return 1;
  }

  ReplayEnricher enrich;
  ImportPipeline pipeline;
  pipeline.add_stage(std::ref(enrich));
  if (*baselines) pipeline.add_stage([&b = **baselines](model::Event& ev) { b.on_event(ev); });
  if (!o.alerts_only) pipeline.add_stage([&output](model::Event& ev) { (void)output.write(ev); });

  const auto started = std::chrono::steady_clock::now();
  auto last_tick = started;
  while (!(*src)->exhausted()) {
    auto n = (*src)->poll(pipeline, 1000);
    if (!n) {
      std::fprintf(stderr, "privwatch: error: %s\n", n.error().to_string().c_str());
      return 1;
    }
    const auto now = std::chrono::steady_clock::now();
    if (*baselines && now - last_tick > std::chrono::seconds(1)) {
      (*baselines)->tick();
      last_tick = now;
    }
  }
  if (*baselines) (*baselines)->close();
  const bool flushed = static_cast<bool>(output.flush());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& rs = (*src)->replay_stats();
  std::fprintf(
      stderr,
      "privwatch import: %s (%s): %llu lines, %llu events, %llu other records, %llu "
      "unreadable; %llu alerts; %.2f s (%.0f events/s)\n",
      o.file.c_str(),
      (*src)->format() == source::ReplayFormat::kAuditd ? "audit log" : "JSON lines",
      static_cast<unsigned long long>(rs.lines), static_cast<unsigned long long>(rs.events),
      static_cast<unsigned long long>(rs.other_records), static_cast<unsigned long long>(rs.errors),
      static_cast<unsigned long long>(alerts), secs, secs > 0 ? rs.events / secs : 0.0);
  for (const auto& e : rs.error_samples) std::fprintf(stderr, "  unreadable: %s\n", e.c_str());
  if (*baselines) {
    const auto st = (*baselines)->engine().stats();
    std::fprintf(stderr,
                 "baselines: %llu events learned; %llu users (%llu mature), %llu roles, %llu "
                 "clusters%s%s\n",
                 static_cast<unsigned long long>(st.learned),
                 static_cast<unsigned long long>(st.entities[0]),
                 static_cast<unsigned long long>(st.mature[0]),
                 static_cast<unsigned long long>(st.entities[1]),
                 static_cast<unsigned long long>(st.entities[2]),
                 cfg->baselines.state_file.empty() ? "" : "; saved to ",
                 cfg->baselines.state_file.c_str());
  } else {
    std::fprintf(stderr, "baselines: disabled (baselines.enabled: false): nothing learned\n");
  }
  if (!flushed) return 1;
  return rs.events == 0 && rs.errors > 0 ? 2 : 0;
}

}  // namespace

void add_import_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<ImportOptions>();
  auto* cmd = app.add_subcommand(
      "import", "run recorded events (privwatch JSON lines or an audit log) through the pipeline");
  cmd->add_option("file", o->file, "the file to import")->required();
  cmd->add_option("--format", o->format, "jsonl, auditd or auto (default: detect)")
      ->check(CLI::IsMember({"jsonl", "auditd", "auto"}));
  cmd->add_option("--speed", o->speed,
                  "max (as fast as possible, default) or N: N times the recorded pace");
  cmd->add_option("-c,--config", o->config_path, "configuration file (baselines, output)");
  cmd->add_option("-o,--output", o->output_path,
                  "where events and alerts go (overrides output.path)");
  cmd->add_flag("--alerts-only", o->alerts_only, "write alerts only, not the replayed events");
  cmd->callback([o, &rc] { rc = run_import(*o); });
}

}  // namespace privwatch::cli
