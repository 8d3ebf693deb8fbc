#include "export/record_json.hpp"

#include <nlohmann/json.hpp>

#include "export/ecs_json.hpp"
#include "util/time.hpp"

namespace privwatch::exporter {

namespace {

using nlohmann::json;

// Container / pod fields (ECS container.*, orchestrator.*); omitted when unknown.
void put_container(json& j, const model::ContainerInfo& c) {
  if (c.empty()) return;
  json& ct = j["container"];
  if (!c.id.empty()) ct["id"] = c.id;
  if (!c.runtime.empty()) ct["runtime"] = c.runtime;
  if (!c.name.empty()) ct["name"] = c.name;
  if (!c.image.empty()) ct["image"]["name"] = c.image;
  if (!c.pod_uid.empty() || !c.pod_name.empty() || !c.k8s_namespace.empty()) {
    json& o = j["orchestrator"];
    o["type"] = "kubernetes";
    if (!c.k8s_namespace.empty()) o["namespace"] = c.k8s_namespace;
    json& r = o["resource"];
    r["type"] = "pod";
    if (!c.pod_uid.empty()) r["id"] = c.pod_uid;
    if (!c.pod_name.empty()) r["name"] = c.pod_name;
    if (!c.k8s_service_account.empty()) o["service_account"] = c.k8s_service_account;
  }
}

}  // namespace

int ecs_severity(model::Severity s) {
  switch (s) {
    case model::Severity::kInfo:
      return 1;
    case model::Severity::kLow:
      return 21;
    case model::Severity::kMedium:
      return 47;
    case model::Severity::kHigh:
      return 73;
    case model::Severity::kCritical:
      return 99;
  }
  return 47;
}

std::string session_json(const model::Session& s) {
  json j;
  j["event"]["kind"] = "event";
  j["event"]["category"] = json::array({"session"});
  j["event"]["type"] =
      json::array({s.end_wall_ns != 0 ? "end" : (s.version <= 1 ? "start" : "change")});
  j["event"]["action"] = "session";
  j["privwatch"]["kind"] = "session";
  j["session"]["version"] = s.version;
  j["session"]["id"] = s.id;
  if (!s.parent_id.empty()) j["session"]["parent_id"] = s.parent_id;
  j["session"]["active"] = s.end_wall_ns == 0;
  j["session"]["interactive"] = s.interactive;
  j["session"]["incomplete"] = s.incomplete();
  if (s.lost_events != 0) j["session"]["lost_events"] = s.lost_events;
  j["@timestamp"] = util::format_rfc3339_ns(s.start_wall_ns);
  j["session"]["start"] = util::format_rfc3339_ns(s.start_wall_ns);
  if (s.end_wall_ns != 0) j["session"]["end"] = util::format_rfc3339_ns(s.end_wall_ns);
  json& el = j["process"]["entry_leader"];
  el["pid"] = s.leader.pid;
  el["start_ticks"] = s.leader.start_ticks;
  el["entry_meta"]["type"] = std::string(model::to_string(s.entry_type));
  if (!s.client_ip.empty()) {
    el["entry_meta"]["source"]["ip"] = s.client_ip;
    el["entry_meta"]["source"]["port"] = s.client_port;
  }
  if (!s.leader_exe.empty()) el["executable"] = s.leader_exe;
  if (!s.leader_args.empty()) el["args"] = s.leader_args;
  el["user"]["id"] = s.uid;
  if (!s.user.empty()) el["user"]["name"] = s.user;
  if (!s.tty.empty()) el["tty"]["char_device"]["name"] = s.tty;
  if (s.loginuid != model::kUnsetId) j["process"]["audit"]["login_uid"] = s.loginuid;
  if (s.audit_session != model::kUnsetId) j["process"]["audit"]["session_id"] = s.audit_session;
  if (!s.human.empty()) j["privwatch"]["human"] = s.human;
  if (!s.roles.empty()) j["privwatch"]["roles"] = s.roles;
  if (!s.service_account.empty()) j["privwatch"]["service_account"] = s.service_account;
  if (!s.host.empty()) j["host"]["name"] = s.host;
  if (!s.cluster.empty()) j["privwatch"]["cluster"] = s.cluster;
  j["session"]["type"] = std::string(model::to_string(s.entry_type));
  put_container(j, s.container);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string alert_json(const model::Alert& a) {
  json j;
  j["@timestamp"] = util::format_rfc3339_ns(a.wall_ns);
  j["event"]["kind"] = "alert";
  j["event"]["id"] = a.id;
  j["event"]["severity"] = ecs_severity(a.severity);
  j["event"]["count"] = a.count;
  j["privwatch"]["severity"] = std::string(model::to_string(a.severity));
  j["privwatch"]["source"] = a.source;
  j["rule"]["name"] = a.rule;
  if (!a.mitre.empty()) j["threat"]["technique"]["id"] = a.mitre;
  j["message"] = a.title;
  if (!a.explanation.empty()) j["privwatch"]["explanation"] = a.explanation;
  if (!a.host.empty()) j["host"]["name"] = a.host;
  if (!a.cluster.empty()) j["privwatch"]["cluster"] = a.cluster;
  if (!a.user.empty()) j["user"]["name"] = a.user;
  if (!a.human.empty()) j["privwatch"]["human"] = a.human;
  if (!a.roles.empty()) j["privwatch"]["roles"] = a.roles;
  if (!a.session_id.empty()) j["session"]["id"] = a.session_id;
  if (!a.event_ids.empty()) j["privwatch"]["event_ids"] = a.event_ids;
  if (!a.details_json.empty()) {
    auto d = json::parse(a.details_json, nullptr, /*allow_exceptions=*/false);
    if (!d.is_discarded()) j["privwatch"]["details"] = std::move(d);
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string escalation_json(const model::Escalation& e) {
  json j;
  j["@timestamp"] = util::format_rfc3339_ns(e.wall_ns);
  j["event"]["kind"] = "event";
  j["event"]["category"] = json::array({"iam", "process"});
  j["event"]["type"] = json::array({"change"});
  j["event"]["action"] = "privilege-escalation";
  j["event"]["outcome"] = e.success ? "success" : "failure";
  j["privwatch"]["kind"] = "escalation";
  j["privwatch"]["escalation"]["method"] = std::string(model::to_string(e.method));
  if (e.event_seq != 0) j["privwatch"]["event_seq"] = e.event_seq;
  if (!e.success) j["privwatch"]["escalation"]["exit_status"] = e.exit_status;
  j["user"]["id"] = e.from_uid;
  if (!e.from_user.empty()) j["user"]["name"] = e.from_user;
  j["user"]["target"]["id"] = e.to_uid;
  if (!e.to_user.empty()) j["user"]["target"]["name"] = e.to_user;
  if (!e.human.empty()) j["privwatch"]["human"] = e.human;
  if (!e.session_id.empty()) j["session"]["id"] = e.session_id;
  j["process"]["pid"] = e.process.pid;
  if (!e.command.empty()) j["process"]["executable"] = e.command;
  if (!e.command_args.empty()) j["process"]["args"] = e.command_args;
  if (!e.tool.empty()) j["privwatch"]["escalation"]["tool"]["executable"] = e.tool;
  if (!e.tool_args.empty()) j["privwatch"]["escalation"]["tool"]["args"] = e.tool_args;
  if (!e.host.empty()) j["host"]["name"] = e.host;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace privwatch::exporter
