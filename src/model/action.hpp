// A response action (warn, freeze, thaw, terminate, kill): itself an audited record. Produced
// by respond (on an alert, on an operator's command, or when the kernel killed a process at
// an enforced syscall); persisted by store and sent by export like events and alerts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/identity.hpp"

namespace privwatch::model {

enum class ActionType : uint8_t { kWarn = 0, kFreeze, kThaw, kTerminate, kKill };
// "warn", "freeze", "thaw", "terminate", "kill".
[[nodiscard]] std::string_view to_string(ActionType a);
// Inverse of to_string; false when `name` is none of them.
[[nodiscard]] bool parse_action_type(std::string_view name, ActionType& out);

// Who asked for the action.
enum class ActionOrigin : uint8_t {
  kOperator = 0,  // `privwatch respond` (a human)
  kRule,          // an alert whose rule carries a response
  kKernel,        // the kernel killed the process at an enforced syscall
};
[[nodiscard]] std::string_view to_string(ActionOrigin o);
// Inverse of to_string; false when `name` is none of them.
[[nodiscard]] bool parse_action_origin(std::string_view name, ActionOrigin& out);

enum class ActionResult : uint8_t {
  kSuccess = 0,  // every target acted on
  kPartial,      // some targets acted on, some failed (see errors)
  kFailed,       // nothing done (no target found, every signal failed)
  kRefused,      // a safety rule forbade it (the agent, PID 1, a kernel thread, protected)
  kDryRun,       // respond.dry_run: recorded what would have been done, did nothing
};
[[nodiscard]] std::string_view to_string(ActionResult r);
// Inverse of to_string; false when `name` is none of them.
[[nodiscard]] bool parse_action_result(std::string_view name, ActionResult& out);

struct ResponseAction {
  std::string id;  // unique: "act-<16 hex>"
  uint64_t wall_ns = 0;
  ActionType action = ActionType::kWarn;
  ActionOrigin origin = ActionOrigin::kOperator;
  ActionResult result = ActionResult::kFailed;
  // Target: a session (audit session id and/or the tracker's id) or a process subtree.
  std::string session_id;             // session tracker id, when known
  uint32_t audit_session = kUnsetId;  // /proc/<pid>/sessionid of the session
  uint32_t root_pid = 0;              // --pid, the entry leader or the offending process
  std::vector<uint32_t> pids;         // processes acted on
  std::vector<std::string> ttys;      // warn: terminals written to (/dev/pts/3)
  // Why: the operator's text, or the alert and its rule, or the kernel kill entry.
  std::string reason;
  std::string alert_id;
  std::string rule;
  std::string actor;  // operator (login user name) or "privwatch-agent"
  std::string host;
  std::vector<std::string> errors;  // one line per failure or refusal
};

}  // namespace privwatch::model
