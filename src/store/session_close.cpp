#include "store/session_close.hpp"

#include <nlohmann/json.hpp>

#include "export/ecs_json.hpp"
#include "store/session_query.hpp"
#include "util/time.hpp"

namespace privwatch::store {

Result<std::vector<Record>> close_unobserved_sessions(
    const Store& store, const std::string& host, uint64_t now_ns,
    const std::function<bool(const std::string& id)>& alive, size_t limit) {
  SessionFilter f;
  f.host = host;
  f.active_only = true;
  f.limit = limit;
  f.count_cap = 0;
  auto list = list_sessions(store, f);
  if (!list) return list.error();
  std::vector<Record> out;
  std::string end;
  util::append_rfc3339_ns(end, now_ns);
  for (const auto& s : list->sessions) {
    if (alive(s.id)) continue;
    nlohmann::json j = nlohmann::json::parse(s.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) j = nlohmann::json::object();
    j["event"]["type"] = nlohmann::json::array({"end"});
    auto& js = j["session"];
    js["active"] = false;
    js["end"] = end;
    js["end_observed"] = false;
    js["end_reason"] =
        "ended while privwatch was not running: the end time is unknown (at or before "
        "session.end) and events between the agent's stop and the session's end were not "
        "captured";
    js["incomplete"] = true;
    js["version"] = s.version + 1;
    Record r;
    r.kind = RecordKind::kSession;
    r.wall_ns = now_ns;
    r.name = s.type;
    r.flags = kRecSessionEnded;
    r.host = s.host.empty() ? host : s.host;
    r.user = s.user;
    r.human = s.human;
    r.session = s.id;
    r.roles = s.roles;
    r.cluster = s.cluster;
    r.ref = s.id;
    r.text = s.leader_exe;
    r.body = j.dump();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace privwatch::store
