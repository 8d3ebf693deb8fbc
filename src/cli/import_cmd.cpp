// `privwatch import FILE [--format jsonl|auditd] [--speed N|max]`: recorded events (privwatch's
// own JSON lines, or a Linux audit log) through the pipeline after capture — enrichment from
// the replayed process tree, baselines (learning, and alerts), outputs — so a new deployment
// learns from history and detection can be evaluated without a kernel.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/baseline_stage.hpp"
#include "cli/commands.hpp"
#include "cli/pipeline.hpp"
#include "config/config.hpp"
#include "export/exports.hpp"
#include "export/json_lines_output.hpp"
#include "source/replay_source.hpp"
#include "store/sink.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

// Session ids are "<boot id>-<pid>-<start ticks>": an import takes its boot id from the file
// (a hash of its absolute path), so re-importing a file gives the same ids (the store keeps
// the latest version of each session) and two imported files never share one.
std::string import_boot_id(const std::string& file) {
  std::error_code ec;
  const std::string abs = std::filesystem::absolute(file, ec).string();
  uint32_t h = 2166136261u;  // FNV-1a
  for (const char c : ec ? file : abs) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return fmt::format("{:08x}", h);
}

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
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "privwatch: error: %s\n", e.to_string().c_str());
    return 1;
  };
  // The same pipeline as the agent (src/cli/pipeline.hpp) in recorded mode: the recording's
  // times and attribution stand; no terminal recordings (no tty data is imported), no
  // responder (docs/baselines.md "Learning from history").
  cfg->recording.enabled = false;
  const std::string host = local_hostname();
  PipelineOptions po;
  po.recorded = true;
  po.boot_id = import_boot_id(o.file);
  po.output_alerts_only = o.alerts_only;
  Pipeline pipeline(*cfg, std::move(*out), host, po);
  if (auto s = pipeline.load_rules(cfg->detect); !s) return fail(s.error());
  if (auto s = pipeline.load_inventory(cfg->inventory); !s) return fail(s.error());
  auto export_sinks = exporter::make_export_sinks(cfg->exports, host, nullptr);
  if (!export_sinks) return fail(export_sinks.error());
  for (auto& s : *export_sinks) pipeline.add_sink(std::move(s));
  auto baselines = BaselineStage::create(
      cfg->baselines, "", [&pipeline](const model::Alert& a) { pipeline.emit_alert(a); });
  if (!baselines) return fail(baselines.error());
  pipeline.set_baselines(std::move(*baselines));
  if (cfg->store.enabled) {
    auto sink = store::StoreSink::open(cfg->store, host);
    if (!sink) return fail(sink.error());
    (*sink)->set_wait_when_full(true);  // the file can wait for the disk: nothing dropped
    pipeline.set_store(sink->get());
    pipeline.add_sink(std::move(*sink));
  }
  BaselineStage* bl = pipeline.baselines();

  const auto started = std::chrono::steady_clock::now();
  auto last_tick = started;
  while (!(*src)->exhausted()) {
    auto n = (*src)->poll(pipeline, 1000);
    if (!n) return fail(n.error());
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick > std::chrono::seconds(1)) {
      pipeline.flush_sinks();
      if (bl != nullptr) bl->tick();
      last_tick = now;
    }
  }
  if (bl != nullptr) bl->close();
  const bool flushed = static_cast<bool>(pipeline.output().flush());
  std::vector<std::pair<std::string, model::SinkStats>> sink_stats;
  pipeline.close_sinks();  // the store commits everything queued before it returns
  for (const auto& s : pipeline.sinks()) sink_stats.emplace_back(s->name(), s->stats());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const auto& rs = (*src)->replay_stats();
  const auto ts = pipeline.sessions().stats();
  std::fprintf(
      stderr,
      "privwatch import: %s (%s): %llu lines, %llu events, %llu other records, %llu "
      "unreadable; %llu alerts (%llu by rules); %llu sessions, %llu escalations; %.2f s (%.0f "
      "events/s)\n",
      o.file.c_str(),
      (*src)->format() == source::ReplayFormat::kAuditd ? "audit log" : "JSON lines",
      static_cast<unsigned long long>(rs.lines), static_cast<unsigned long long>(rs.events),
      static_cast<unsigned long long>(rs.other_records), static_cast<unsigned long long>(rs.errors),
      static_cast<unsigned long long>(pipeline.alerts()),
      static_cast<unsigned long long>(pipeline.engine() ? pipeline.engine()->stats().alerts : 0),
      static_cast<unsigned long long>(ts.sessions_started),
      static_cast<unsigned long long>(ts.escalations), secs, secs > 0 ? rs.events / secs : 0.0);
  if (pipeline.responses_skipped() > 0) {
    std::fprintf(stderr,
                 "responses: %llu alert(s) asked for a response; not carried out on an import "
                 "(the recorded processes are not this host's live ones)\n",
                 static_cast<unsigned long long>(pipeline.responses_skipped()));
  }
  uint64_t sink_drops = 0;
  for (const auto& [name, st] : sink_stats) {
    std::fprintf(stderr, "output %s: %llu delivered, %llu dropped (queue full), %llu failed\n",
                 name.c_str(), static_cast<unsigned long long>(st.delivered),
                 static_cast<unsigned long long>(st.dropped_queue_full),
                 static_cast<unsigned long long>(st.dropped_failed));
    sink_drops += st.dropped_queue_full + st.dropped_failed;
  }
  for (const auto& e : rs.error_samples) std::fprintf(stderr, "  unreadable: %s\n", e.c_str());
  if (bl != nullptr) {
    const auto st = bl->engine().stats();
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
  if (!flushed || sink_drops > 0) return 1;
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
