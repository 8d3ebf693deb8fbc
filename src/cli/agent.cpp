#include "cli/agent.hpp"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "cli/actions_follower.hpp"
#include "cli/baseline_stage.hpp"
#include "cli/pipeline.hpp"
#include "detect/engine.hpp"
#include "enrich/attribution.hpp"
#include "enrich/enricher.hpp"
#include "enrich/grants.hpp"
#include "enrich/inventory.hpp"
#include "export/action_json.hpp"
#include "export/exports.hpp"
#include "export/json_lines_output.hpp"
#include "export/metrics_server.hpp"
#include "export/pipeline_metrics.hpp"
#include "export/record_json.hpp"
#include "export/recording_files.hpp"
#include "model/record_sink.hpp"
#include "respond/responder.hpp"
#include "respond/targets.hpp"
#include "session/recording.hpp"
#include "session/tracker.hpp"
#include "source/kernel_source.hpp"
#include "store/session_close.hpp"
#include "store/sink.hpp"
#include "store/store.hpp"
#include "util/histogram.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

std::atomic<bool> g_stop{false};  // signal handlers can only touch lock-free atomics
std::atomic<bool> g_reopen{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }
extern "C" void on_hup_signal(int) { g_reopen.store(true); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = on_hup_signal;
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

struct Usage {
  double user_s = 0, sys_s = 0;
  long max_rss_kb = 0;
};

Usage usage() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec / 1e6,
          static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss};
}

struct Rss {
  long total_kb = 0;
  long ring_kb = 0;  // resident pages of mmapped BPF maps (the ring buffer, mapped twice)
  [[nodiscard]] long agent_kb() const { return total_kb - ring_kb; }
};

// Resident memory, with the ring buffer's share separated out (DESIGN.md §10 budgets the
// agent "ring buffers aside").
Rss current_rss() {
  Rss r;
  std::ifstream f("/proc/self/smaps");
  std::string line;
  bool in_map = false;
  while (std::getline(f, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find(' ') < line.find(':')) {
      in_map = line.find("anon_inode:bpf-map") != std::string::npos;
      continue;
    }
    if (line.rfind("Rss:", 0) == 0) {
      const long kb = std::strtol(line.c_str() + 4, nullptr, 10);
      r.total_kb += kb;
      if (in_map) r.ring_kb += kb;
    }
  }
  return r;
}

// Sessions the store still holds as active whose entry leader is gone (another boot, or no
// such process in the table just seeded from /proc) ended while the agent was not running:
// each gets a closing version (docs/sessions.md "Sessions that end while privwatch is down").
void close_unobserved_sessions(const std::string& db, const std::string& host,
                               const enrich::ProcessTable& table, store::StoreSink& sink) {
  auto reader = store::Store::open_reader(db);
  if (!reader) {
    log::warn("store: cannot check for sessions left active: {}", reader.error().to_string());
    return;
  }
  const std::string boot = session::read_boot_id();
  auto alive = [&](const std::string& id) {
    model::ProcessKey leader;
    if (boot.empty() || id.rfind(boot + "-", 0) != 0) return false;  // another boot
    if (!respond::parse_session_id(id, leader)) return true;         // not ours to judge
    const auto* p = table.find(leader);
    return p != nullptr && !p->exited;
  };
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t now = uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
  auto closing = store::close_unobserved_sessions(**reader, host, now, alive);
  if (!closing) {
    log::warn("store: cannot check for sessions left active: {}", closing.error().to_string());
    return;
  }
  for (auto& r : *closing) sink.append(std::move(r));
  if (!closing->empty()) {
    log::info(
        "store: {} sessions left active by an earlier run ended while privwatch was not "
        "running; closed them (end not observed)",
        closing->size());
  }
}

void write_stats(const std::string& path, const source::SourceStats& s, Pipeline& p,
                 double uptime_s, long peak_agent_rss_kb) {
  std::string j = "{";
  auto kinds = [&](const char* name, const auto& arr) {
    j += fmt::format("\"{}\":{{", name);
    bool first = true;
    for (size_t k = 1; k < arr.size(); ++k) {
      j += fmt::format("{}\"{}\":{}", first ? "" : ",",
                       model::to_string(static_cast<model::EventKind>(k)), arr[k]);
      first = false;
    }
    j += "},";
  };
  kinds("events_by_type", s.received);
  kinds("kernel_emitted_by_type", s.kernel_emitted);
  kinds("kernel_lost_by_type", s.kernel_lost);
  kinds("kernel_truncated_by_type", s.kernel_truncated);
  kinds("kernel_read_fail_by_type", s.kernel_read_fail);
  kinds("kernel_killed_by_type", s.kernel_killed);
  uint64_t decode_errors = 0;
  for (size_t i = 1; i < s.decode_errors.size(); ++i) decode_errors += s.decode_errors[i];
  const auto u = usage();
  const auto rss = current_rss();
  const auto& lat = p.latency();
  const auto ts = p.sessions().stats();
  if (p.store() != nullptr) j += "\"store\":" + p.store()->stats_json() + ",";
  j += "\"attribution\":" + p.attributor().stats_json() + ",";
  j += fmt::format(
      "\"events_total\":{},\"drops_total\":{},\"decode_errors\":{},\"output_errors\":{},"
      "\"lines_written\":{},\"lines_dropped\":{},\"latency_ns\":{{\"count\":{},\"p50\":{},\"p90\":{"
      "},\"p99\":{},"
      "\"max\":{}}},\"rss_kb\":{},\"rss_ring_buffer_kb\":{},\"rss_agent_kb\":{},"
      "\"peak_rss_agent_kb\":{},\"peak_rss_kb\":{},\"cpu_user_s\":{:.3f},\"cpu_sys_s\":{:.3f},"
      "\"uptime_s\":{:.3f},\"ring_buffer_bytes\":{},\"process_table_entries\":{},"
      "\"process_table_evictions\":{},\"sessions_active\":{},\"sessions_started\":{},"
      "\"escalations\":{},\"escalations_failed\":{},\"respond\":{}}}\n",
      s.total_received(), s.total_lost(), decode_errors, p.output_errors(),
      p.output().lines_written(), p.output().lines_dropped(), lat.count(), lat.quantile(0.5),
      lat.quantile(0.9), lat.quantile(0.99), lat.max(), rss.total_kb, rss.ring_kb, rss.agent_kb(),
      std::max(peak_agent_rss_kb, rss.agent_kb()), u.max_rss_kb, u.user_s, u.sys_s, uptime_s,
      s.ring_size_bytes, p.enricher().table().size(), p.enricher().table().evictions(),
      ts.sessions_active, ts.sessions_started, ts.escalations, ts.escalations_failed,
      p.respond_stats_json());
  if (p.engine() != nullptr) j.insert(j.size() - 2, ",\"detect\":" + p.engine()->stats_json());
  if (const auto* rec = p.recorder()) {
    const auto& r = rec->stats();
    j.pop_back();  // "}\n"
    j.pop_back();
    j += fmt::format(
        ",\"recording\":{{\"recordings_started\":{},\"recordings_open\":{},\"chunks\":{},"
        "\"raw_bytes\":{},\"compressed_bytes\":{},\"output_bytes\":{},\"input_bytes\":{},"
        "\"gaps_echo_off\":{},\"truncated_bytes\":{},\"session_limits\":{},\"commands\":{},"
        "\"evictions\":{}}}}}\n",
        r.recordings_started, r.recordings_open, r.chunks, r.raw_bytes, r.compressed_bytes,
        r.output_bytes, r.input_bytes, r.gaps_echo_off, r.truncated_bytes, r.session_limits,
        r.commands, r.evictions);
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << j;
    if (!f) {
      log::warn("cannot write stats file {}: {}", tmp, std::strerror(errno));
      return;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    log::warn("cannot move stats file into place at {}: {}", path, std::strerror(errno));
  }
}

// One warning line at most per interval, and only when losses grew.
void report_losses(const source::SourceStats& s, uint64_t& last_reported) {
  const uint64_t lost = s.total_lost();
  if (lost == last_reported) return;
  std::string by_kind;
  for (size_t k = 1; k < s.kernel_lost.size(); ++k) {
    if (s.kernel_lost[k] == 0) continue;
    by_kind +=
        fmt::format(" {}={}", model::to_string(static_cast<model::EventKind>(k)), s.kernel_lost[k]);
  }
  uint64_t decode = 0;
  for (size_t i = 1; i < s.decode_errors.size(); ++i) decode += s.decode_errors[i];
  log::warn(
      "events lost: {} in total ({} since last report); kernel ring buffer full:{}; "
      "undecodable: {} — raise capture.ring_buffer_mb or narrow monitor.* if this persists",
      lost, lost - last_reported, by_kind.empty() ? " none" : by_kind, decode);
  last_reported = lost;
}

}  // namespace

int run_agent(const config::Config& cfg, const AgentOptions& opts) {
  install_signal_handlers();
  // One malloc arena for all the agent's threads: glibc gives each thread its own arena, and
  // memory the pipeline allocates and the store's threads free stays spread over three heaps.
  // Measured under a 50k events/s flood: ~5 MB less resident, same CPU (bench/RESULTS.md §1).
  ::mallopt(M_ARENA_MAX, 1);
  const auto started = std::chrono::steady_clock::now();
  exporter::MetricsRegistry registry;  // outlives the sinks and the server that read it

  // Output writes run on their own thread: a slow disk must not delay capture.
  exporter::JsonLinesLimits limits;
  limits.async = true;
  const std::string host = local_hostname();
  auto out = exporter::JsonLinesOutput::open(cfg.output, host, limits);
  if (!out) {
    log::error("{}", out.error().to_string());
    return 1;
  }
  Pipeline pipeline(cfg, std::move(*out), host);
  if (auto s = pipeline.load_rules(cfg.detect); !s) {
    log::error("{}", s.error().to_string());
    return 1;
  }
  if (auto s = pipeline.load_inventory(cfg.inventory); !s) {
    log::error("{}", s.error().to_string());
    return 1;
  }

  // Metrics (GET /metrics, OTLP metrics) and export outputs (docs/exports.md).
  std::unique_ptr<exporter::PipelineMetrics> metrics;
  if (cfg.metrics.enabled || (cfg.exports.otlp.enabled && cfg.exports.otlp.metrics_interval_s)) {
    metrics = std::make_unique<exporter::PipelineMetrics>(
        exporter::MetricsLimits{cfg.metrics.file_created_max_series, cfg.metrics.max_series});
    pipeline.set_metrics(metrics.get());
  }
  std::unique_ptr<exporter::MetricsServer> metrics_server;
  if (cfg.metrics.enabled) {
    auto hp = exporter::split_host_port(cfg.metrics.listen);
    auto srv = hp ? exporter::MetricsServer::start(hp->first, hp->second, registry)
                  : Result<std::unique_ptr<exporter::MetricsServer>>(hp.error());
    if (!srv) {
      log::error("{}", srv.error().to_string());
      return 1;
    }
    metrics_server = std::move(*srv);
    log::info("metrics: serving http://{}:{}/metrics", hp->first, metrics_server->port());
  }
  auto export_sinks = exporter::make_export_sinks(cfg.exports, local_hostname(), &registry);
  if (!export_sinks) {
    log::error("{}", export_sinks.error().to_string());
    return 1;
  }
  for (auto& s : *export_sinks) pipeline.add_sink(std::move(s));
  auto baselines = BaselineStage::create(
      cfg.baselines, host, [&pipeline](const model::Alert& a) { pipeline.emit_alert(a); });
  if (!baselines) {
    log::error("{}", baselines.error().to_string());
    return 1;
  }
  pipeline.set_baselines(std::move(*baselines));
  if (cfg.recording.enabled && (cfg.recording.files || !cfg.store.enabled)) {
    auto files = exporter::RecordingFiles::open(cfg.recording.dir);
    if (!files) {
      log::error("{}", files.error().to_string());
      return 1;
    }
    pipeline.add_sink(std::move(*files));
  }

  // Seed before attaching so processes older than the agent are attributed; events that
  // arrive meanwhile update the table as usual.
  auto seeded = pipeline.enricher().seed("/proc");
  if (!seeded) log::warn("process table: {}", seeded.error().to_string());

  auto src = source::KernelSource::start(cfg);
  if (!src) {
    log::error("{}", src.error().to_string());
    return 1;
  }
  pipeline.set_responder(std::make_unique<respond::Responder>(
      cfg.respond, host, [k = src->get()](uint32_t sid) { return k->quarantine_session(sid); }));
  // The store opens once capture is possible (a non-root user is told that root is needed,
  // not that /var/lib/privwatch is not writable); nothing is polled before it is in place.
  if (cfg.store.enabled) {
    auto sink = store::StoreSink::open(cfg.store, host);
    if (!sink) {
      log::error("{}", sink.error().to_string());
      return 1;
    }
    close_unobserved_sessions(cfg.store.path, host, pipeline.enricher().table(), **sink);
    pipeline.set_store(sink->get());
    pipeline.add_sink(std::move(*sink));
  }
  log::info(
      "privwatch agent ready: config {}, output {}, store {}, ring buffer {} MiB, {} processes "
      "seeded",
      cfg.source_file, cfg.output.path, cfg.store.enabled ? cfg.store.path : "disabled",
      cfg.capture.ring_buffer_mb, seeded ? *seeded : 0);

  const auto deadline = opts.max_runtime_s > 0 ? started + std::chrono::seconds(opts.max_runtime_s)
                                               : std::chrono::steady_clock::time_point::max();
  auto next_stats = std::chrono::steady_clock::now() + std::chrono::seconds(opts.stats_interval_s);
  auto next_loss_check =
      std::chrono::steady_clock::now() + std::chrono::seconds(cfg.capture.drop_log_interval_s);
  uint64_t last_reported_losses = 0;
  uint64_t lost_marked = 0;  // losses already noted on sessions
  long peak_agent_rss_kb = 0;
  auto next_flush = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  // `privwatch respond` (another process) records its actions in respond.actions_log; they
  // reach the outputs and the store through the pipeline like the agent's own.
  // Its position is kept next to the store (the record the lines go to), else next to the log,
  // so that actions taken while the agent was stopped are picked up when it starts.
  ActionsLogFollower actions_log(cfg.respond.actions_log,
                                 cfg.respond.actions_log.empty() ? std::string()
                                 : cfg.store.enabled ? cfg.store.path + ".actions-position"
                                                     : cfg.respond.actions_log + ".position");
  if (!actions_log.start_note().empty()) log::info("{}", actions_log.start_note());
  auto next_actions_poll = std::chrono::steady_clock::now();
  auto next_trim = std::chrono::steady_clock::now();
  uint64_t bad_action_lines = 0;
  auto next_rss_sample = std::chrono::steady_clock::now();
  auto next_metrics = std::chrono::steady_clock::now();
  const auto publish_metrics = [&] {
    if (!metrics) return;
    const auto u = usage();
    const auto rss = current_rss();
    std::vector<const model::RecordSink*> sinks;
    for (const auto& s : pipeline.sinks()) sinks.push_back(s.get());
    metrics->set_active_sessions(pipeline.sessions().stats().sessions_active);
    if (auto* b = pipeline.baselines()) {
      const auto st = b->engine().stats();
      for (size_t d = 0; d < ueba::kDimCount; ++d) {
        metrics->set_baseline_counts(ueba::to_string(static_cast<ueba::Dim>(d)), st.entities[d],
                                     st.mature[d]);
      }
      metrics->set_baseline_learned(st.learned);
    }
    registry.publish(
        metrics->snapshot((*src)->stats(), sinks,
                          {u.user_s, u.sys_s, rss.total_kb, rss.ring_kb,
                           pipeline.enricher().table().size(), pipeline.output().lines_written(),
                           pipeline.output().lines_dropped(), pipeline.output_errors()}));
  };
  int rc = 0;

  while (!g_stop.load()) {
    auto n = (*src)->poll(pipeline, static_cast<int>(cfg.capture.wakeup_delay_ms));
    if (!n) {
      log::error("{}", n.error().to_string());
      rc = 1;
      break;
    }
    pipeline.emit_actions();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_actions_poll) {
      actions_log.poll([&pipeline](const model::ResponseAction& a) { pipeline.emit_action(a); });
      if (const std::string w = actions_log.take_warning(); !w.empty()) log::warn("{}", w);
      if (actions_log.bad_lines() > bad_action_lines) {
        log::warn("{}: {} line(s) that are not action records were skipped",
                  cfg.respond.actions_log, actions_log.bad_lines() - bad_action_lines);
        bad_action_lines = actions_log.bad_lines();
      }
      next_actions_poll = now + std::chrono::milliseconds(250);
    }
    // Idle, or a second since the last flush: lines never sit in the buffer for long.
    if (*n == 0 || now >= next_flush) {
      if (auto s = pipeline.output().flush_async(); !s) {
        log::warn("{}", s.error().to_string());  // at most once per flush interval
      }
      pipeline.flush_sinks();
      // Kernel losses mark every active session incomplete (they cannot be attributed).
      const uint64_t lost = (*src)->stats().total_lost();
      if (lost > lost_marked) {
        pipeline.sessions().note_losses(lost - lost_marked);
        lost_marked = lost;
      }
      if (pipeline.baselines() != nullptr) pipeline.baselines()->tick();
      // Give the memory the queues and buffers held during a burst back to the system (glibc
      // keeps freed memory otherwise): every 10 s (a few hundred µs each).
      if (now >= next_trim) {
        ::malloc_trim(0);
        next_trim = now + std::chrono::seconds(10);
      }
      next_flush = now + std::chrono::seconds(1);
    }
    if (g_reopen.exchange(false)) {
      // logrotate-style: the file was moved away; continue in a new one at output.path.
      if (auto s = pipeline.output().reopen(); !s) {
        log::warn("SIGHUP: reopening the output failed: {}", s.error().to_string());
      } else {
        log::info("SIGHUP: output reopened");
      }
      pipeline.reopen_sinks();
      if (auto st = pipeline.load_inventory(cfg.inventory); !st) {
        log::warn("SIGHUP: inventory not reloaded (the previous one stays): {}",
                  st.error().to_string());
      }
      if (auto s = pipeline.load_rules(cfg.detect); !s) {
        log::warn("SIGHUP: rules not reloaded, the previous rules stay active: {}",
                  s.error().to_string());
      }
    }
    if (now >= next_loss_check) {
      report_losses((*src)->stats(), last_reported_losses);
      next_loss_check = now + std::chrono::seconds(cfg.capture.drop_log_interval_s);
    }
    if (now >= next_rss_sample) {
      peak_agent_rss_kb = std::max(peak_agent_rss_kb, current_rss().agent_kb());
      next_rss_sample = now + std::chrono::seconds(1);
    }
    if (!opts.stats_file.empty() && now >= next_stats) {
      write_stats(opts.stats_file, (*src)->stats(), pipeline,
                  std::chrono::duration<double>(now - started).count(), peak_agent_rss_kb);
      next_stats = now + std::chrono::seconds(opts.stats_interval_s);
    }
    if (metrics && now >= next_metrics) {
      publish_metrics();  // one snapshot swap; the HTTP thread never touches pipeline state
      next_metrics = now + std::chrono::milliseconds(cfg.metrics.interval_ms);
    }
    if (now >= deadline) break;
  }
  // Final drain: everything the kernel wrote before we stop is delivered.
  (void)(*src)->poll(pipeline, 0);
  if (const uint64_t lost = (*src)->stats().total_lost(); lost > lost_marked) {
    pipeline.sessions().note_losses(lost - lost_marked);
  }
  if (auto* r = pipeline.responder()) r->wait_idle(5000);  // actions in progress are recorded
  pipeline.emit_actions();
  if (pipeline.baselines() != nullptr) pipeline.baselines()->close();
  (void)pipeline.output().flush();
  publish_metrics();  // the final totals, for the last OTLP push and scrape
  pipeline.close_sinks();
  const auto stats = (*src)->stats();
  report_losses(stats, last_reported_losses);
  if (!opts.stats_file.empty()) {
    write_stats(opts.stats_file, stats, pipeline,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                peak_agent_rss_kb);
  }
  log::info("privwatch agent stopped: {} events, {} lost", stats.total_received(),
            stats.total_lost());
  return rc;
}

}  // namespace privwatch::cli
