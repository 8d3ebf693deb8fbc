// Carries out response actions on live processes and returns the audit record of each:
// warn (a banner on the session's terminals), freeze (SIGSTOP), thaw (SIGCONT), terminate
// and kill (SIGKILL). Every process is signalled through a pidfd opened after checking its
// start time, so a reused pid is never hit. freeze and terminate rescan until nothing of the
// target is left running (processes fork while being stopped), at most max_rounds times.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/action.hpp"
#include "respond/targets.hpp"

namespace privwatch::respond {

struct ActuatorOptions {
  bool dry_run = false;
  uint32_t max_rounds = 20;
  std::string warn_message;  // template: {reason}, {host}, {id}
  std::string host;
  Safety safety;
  std::string proc_root = "/proc";
  std::string dev_root = "/dev";
};

// The request: what to do to whom, and why. The returned record has id, time, targets,
// result and errors filled in; the caller adds origin, actor, alert and rule.
struct ActionRequest {
  model::ActionType action = model::ActionType::kWarn;
  TargetSpec target;
  std::string reason;
  std::string session_id;  // tracker id, for the record
};

class Actuator {
 public:
  explicit Actuator(ActuatorOptions opts) : opts_(std::move(opts)) {}

  // Runs the action now, on the calling thread (it may take a few hundred milliseconds).
  [[nodiscard]] model::ResponseAction run(const ActionRequest& req) const;

  // The banner warn writes (exposed for tests and docs).
  [[nodiscard]] std::string banner(const std::string& reason, const std::string& id) const;
  [[nodiscard]] const ActuatorOptions& options() const { return opts_; }

 private:
  void warn(const ActionRequest& req, model::ResponseAction& a) const;
  void signal_loop(const ActionRequest& req, model::ResponseAction& a) const;
  ActuatorOptions opts_;
};

// A new unique action id: "act-" + 16 hex digits.
[[nodiscard]] std::string new_action_id();
[[nodiscard]] uint64_t wall_now_ns();

}  // namespace privwatch::respond
