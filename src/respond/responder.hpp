// The agent's automatic response: consumes alerts whose rule carries a response and records
// every action, including the kills the kernel performed on its own (respond.kill).
//
// Contract with detect: model::Alert::details_json is a JSON object; its key "response" is an
// array of strings among warn|freeze|thaw|terminate|kill and "mode" is "detect" (default:
// record what would be done) or "enforce" (do it). Example: {"response":["freeze"],
// "mode":"enforce"}. Optional "process": {"pid": N, "start_ticks": T} names the offending
// process when the caller has no triggering event at hand.
//
// Threading: on_alert / on_kernel_kill / drain run on the pipeline thread and never block;
// the actions themselves (which sleep while processes stop) run on the responder's own thread
// behind a bounded queue (drops counted and recorded as failed actions).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "config/config.hpp"
#include "enrich/process_table.hpp"
#include "model/action.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "respond/actuator.hpp"
#include "util/result.hpp"

namespace privwatch::respond {

// The response a rule asked for, parsed from Alert::details_json.
struct AlertResponse {
  std::vector<model::ActionType> actions;
  bool enforce = false;
  std::optional<model::ProcessKey> process;  // details "process"
  std::vector<std::string> problems;         // unknown action names, wrong types
};
// nullopt when the details carry no "response" key (the common case: nothing to do).
[[nodiscard]] std::optional<AlertResponse> parse_alert_response(const std::string& details_json);

// The target of an alert's response. `kill` narrows it to the offending process subtree.
[[nodiscard]] TargetSpec alert_target(const model::Alert& alert, const model::Event* trigger,
                                      const std::optional<model::ProcessKey>& process, bool kill);

// Adds to spec.known every process the table attributes to the target: descendants of a root
// by the table's parent links (which survive reparenting) and members of the audit session.
void add_known_from_table(TargetSpec& spec, const enrich::ProcessTable& table);

struct ResponderStats {
  uint64_t alerts_with_response = 0;
  uint64_t actions_queued = 0;
  uint64_t actions_dropped = 0;  // queue full: recorded as failed actions
  uint64_t kernel_kills = 0;
  uint64_t sessions_quarantined = 0;
  uint64_t invalid_responses = 0;
};

class Responder {
 public:
  using Quarantine = std::function<Status(uint32_t audit_session)>;

  Responder(const config::RespondConfig& cfg, std::string host, Quarantine quarantine);
  ~Responder();  // finishes the action in progress, drops the rest (counted)
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  // Pipeline thread. `trigger` is the event the alert fired on, when the caller has it.
  void on_alert(const model::Alert& alert, const model::Event* trigger,
                const enrich::ProcessTable* table);
  // Pipeline thread: the record of a kill the kernel made at `ev` (ev.flags & kFlagKilled).
  [[nodiscard]] model::ResponseAction on_kernel_kill(const model::Event& ev);
  // Pipeline thread: hands over the records of actions completed since the last call.
  void drain(const std::function<void(const model::ResponseAction&)>& fn);
  // Waits (bounded) until the queue is empty and no action is running; for shutdown.
  void wait_idle(int timeout_ms);

  [[nodiscard]] ResponderStats stats() const;

 private:
  struct Job {
    ActionRequest req;
    model::ResponseAction meta;  // origin, alert, rule, actor
    bool dry_run = false;
    bool quarantined = false;  // kill: this job quarantined the session first
  };
  void worker();
  void finish(model::ResponseAction a);

  config::RespondConfig cfg_;
  std::string host_;
  Quarantine quarantine_;
  Actuator live_, dry_;
  struct ExeKey {
    uint64_t ino;
    uint32_t dev;
  };
  std::vector<ExeKey> kill_exe_;  // respond.kill exec entries, resolved (index = entry)
  std::unordered_set<uint32_t> quarantined_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::vector<model::ResponseAction> done_;
  bool busy_ = false;
  bool stop_ = false;
  ResponderStats stats_;
  std::thread thread_;
};

// The privwatch binary's path (readlink /proc/self/exe): processes running it are spared.
[[nodiscard]] std::string self_exe();

}  // namespace privwatch::respond
