// ReplaySource: events from a recorded file instead of the kernel, through the same
// EventSource interface — privwatch's own ECS JSON lines (docs/events.md) or a Linux audit
// log (auditd's raw format, see audit_import.hpp). `privwatch import` runs the pipeline over
// it; tests and the evaluation harness use it to run detection without a kernel.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model/event.hpp"
#include "source/audit_import.hpp"
#include "source/event_source.hpp"
#include "util/result.hpp"

namespace privwatch::source {

enum class ReplayFormat { kAuto, kJsonLines, kAuditd };
// "jsonl", "auditd", "auto" → format; nullopt-like kAuto for anything else is the caller's job.
[[nodiscard]] Result<ReplayFormat> parse_replay_format(std::string_view name);

struct ReplayOptions {
  ReplayFormat format = ReplayFormat::kAuto;
  double speed = 0;     // 0 = as fast as possible; N = N× the recorded pace
  size_t batch = 4096;  // events per poll() at most
  size_t max_error_samples = 5;
};

struct ReplayStats {
  uint64_t lines = 0;
  uint64_t events = 0;
  uint64_t other_records = 0;              // alerts, sessions, audit records that are not events
  uint64_t errors = 0;                     // unparseable lines / records
  std::vector<std::string> error_samples;  // "file:line: what" for the first few
};

// Parses one ECS JSON line written by exporter::append_ecs_json back into an event
// (attribution fields privwatch.cluster/human/roles/service_account and host.name included).
// Returns false with `why` set when the line is not an event (why empty) or is malformed.
bool parse_ecs_event(std::string_view line, model::Event& ev, std::string& why);

class ReplaySource : public EventSource {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ReplaySource>> open(const std::string& path,
                                                                  ReplayOptions opts);
  [[nodiscard]] Result<size_t> poll(EventSink& sink, int timeout_ms) override;
  [[nodiscard]] SourceStats stats() const override { return stats_; }
  [[nodiscard]] bool exhausted() const override { return eof_ && pending_.empty(); }
  [[nodiscard]] const ReplayStats& replay_stats() const { return rstats_; }
  [[nodiscard]] ReplayFormat format() const { return opts_.format; }

 private:
  ReplaySource(std::string path, ReplayOptions opts) : path_(std::move(path)), opts_(opts) {}
  void fill();  // reads lines until a batch of events is pending or the file ends
  void error(uint64_t line, const std::string& what);

  std::string path_;
  ReplayOptions opts_;
  std::ifstream in_;
  bool eof_ = false;
  std::deque<model::Event> pending_;
  AuditParser audit_;
  SourceStats stats_;
  ReplayStats rstats_;
  // Pacing (speed > 0): recorded time ↔ steady clock.
  uint64_t first_wall_ns_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace privwatch::source
