#include "export/action_json.hpp"

#include <nlohmann/json.hpp>

#include "export/ecs_json.hpp"
#include "util/time.hpp"

namespace privwatch::exporter {

std::string action_json(const model::ResponseAction& a) {
  using nlohmann::json;
  json j;
  std::string ts;
  util::append_rfc3339_ns(ts, a.wall_ns);
  j["@timestamp"] = ts;
  json& e = j["event"];
  e["kind"] = "event";
  e["module"] = "privwatch";
  e["category"] = json::array({"process"});
  // ECS event.type: a termination ends processes; the others change them.
  e["type"] =
      json::array({a.action == model::ActionType::kTerminate || a.action == model::ActionType::kKill
                       ? "end"
                       : "change"});
  e["action"] = std::string(model::to_string(a.action));
  e["id"] = a.id;
  // ECS outcome: success / failure / unknown (a dry run did nothing, so neither).
  switch (a.result) {
    case model::ActionResult::kSuccess:
      e["outcome"] = "success";
      break;
    case model::ActionResult::kDryRun:
      e["outcome"] = "unknown";
      break;
    default:
      e["outcome"] = "failure";
      break;
  }
  if (!a.reason.empty()) e["reason"] = a.reason;
  if (!a.host.empty()) j["host"]["name"] = a.host;
  if (!a.actor.empty()) j["user"]["name"] = a.actor;
  if (!a.session_id.empty()) j["session"]["id"] = a.session_id;
  if (!a.rule.empty()) j["rule"]["name"] = a.rule;
  if (a.root_pid != 0) j["process"]["pid"] = a.root_pid;
  if (a.audit_session != model::kUnsetId) {
    j["process"]["audit"]["session_id"] = a.audit_session;
  }
  json& p = j["privwatch"];
  p["kind"] = "action";
  json& act = p["action"];
  act["type"] = std::string(model::to_string(a.action));
  act["origin"] = std::string(model::to_string(a.origin));
  act["result"] = std::string(model::to_string(a.result));
  act["dry_run"] = a.result == model::ActionResult::kDryRun;
  act["target"]["pids"] = a.pids;
  if (a.root_pid != 0) act["target"]["root_pid"] = a.root_pid;
  if (a.audit_session != model::kUnsetId) act["target"]["audit_session_id"] = a.audit_session;
  if (!a.ttys.empty()) act["ttys"] = a.ttys;
  if (!a.alert_id.empty()) act["alert_id"] = a.alert_id;
  if (!a.errors.empty()) act["errors"] = a.errors;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace privwatch::exporter
