#include "cli/actions_follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "store/session_query.hpp"
#include "util/fd.hpp"
#include "util/json_path.hpp"

namespace privwatch::cli {

namespace {

using nlohmann::json;

using util::json_at;

std::string str(const json& j, std::initializer_list<const char*> path) {
  return util::json_str(j, path);
}

}  // namespace

Result<model::ResponseAction> parse_action_line(std::string_view line) {
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(ErrorKind::kInvalidArgument, "not a JSON object");
  }
  if (str(j, {"privwatch", "kind"}) != "action") {
    return make_error(ErrorKind::kInvalidArgument, "privwatch.kind is not \"action\"");
  }
  model::ResponseAction a;
  a.id = str(j, {"event", "id"});
  if (a.id.empty()) return make_error(ErrorKind::kInvalidArgument, "event.id is missing");
  a.wall_ns = store::parse_rfc3339_ns(str(j, {"@timestamp"}));
  if (a.wall_ns == 0) return make_error(ErrorKind::kInvalidArgument, "@timestamp is not RFC 3339");
  if (!model::parse_action_type(str(j, {"privwatch", "action", "type"}), a.action)) {
    return make_error(ErrorKind::kInvalidArgument, "privwatch.action.type is unknown");
  }
  // An unknown origin keeps the default (operator): the log is written by `privwatch respond`.
  (void)model::parse_action_origin(str(j, {"privwatch", "action", "origin"}), a.origin);
  if (!model::parse_action_result(str(j, {"privwatch", "action", "result"}), a.result)) {
    return make_error(ErrorKind::kInvalidArgument, "privwatch.action.result is unknown");
  }
  a.reason = str(j, {"event", "reason"});
  a.host = str(j, {"host", "name"});
  a.actor = str(j, {"user", "name"});
  a.session_id = str(j, {"session", "id"});
  a.rule = str(j, {"rule", "name"});
  a.alert_id = str(j, {"privwatch", "action", "alert_id"});
  if (const json* p = json_at(j, {"privwatch", "action", "target", "root_pid"});
      p && p->is_number()) {
    a.root_pid = p->get<uint32_t>();
  }
  if (const json* p = json_at(j, {"privwatch", "action", "target", "audit_session_id"});
      p && p->is_number()) {
    a.audit_session = p->get<uint32_t>();
  }
  if (const json* p = json_at(j, {"privwatch", "action", "target", "pids"}); p && p->is_array()) {
    for (const auto& v : *p) {
      if (v.is_number()) a.pids.push_back(v.get<uint32_t>());
    }
  }
  for (const char* key : {"ttys", "errors"}) {
    if (const json* p = json_at(j, {"privwatch", "action", key}); p && p->is_array()) {
      for (const auto& v : *p) {
        if (v.is_string()) (key[0] == 't' ? a.ttys : a.errors).push_back(v.get<std::string>());
      }
    }
  }
  return a;
}

ActionsLogFollower::ActionsLogFollower(std::string path) : path_(std::move(path)) {
  // Start at the current end: what is there was written while no agent ran.
  struct stat st {};
  if (!path_.empty() && ::stat(path_.c_str(), &st) == 0) {
    inode_ = st.st_ino;
    offset_ = st.st_size;
  }
}

size_t ActionsLogFollower::poll(const std::function<void(const model::ResponseAction&)>& emit) {
  if (path_.empty()) return 0;
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return 0;  // not created yet (or moved away)
  if (st.st_ino != inode_ || st.st_size < offset_) {
    // Rotated or truncated: the new file from its start.
    inode_ = st.st_ino;
    offset_ = 0;
    partial_.clear();
  }
  if (st.st_size == offset_) return 0;
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return 0;
  std::string buf = std::move(partial_);
  partial_.clear();
  char chunk[64 * 1024];
  while (true) {
    const ssize_t n = ::pread(fd.get(), chunk, sizeof(chunk), offset_);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    offset_ += n;
  }
  size_t emitted = 0;
  size_t start = 0;
  while (true) {
    const size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) break;
    const std::string_view line(buf.data() + start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    if (auto a = parse_action_line(line)) {
      emit(*a);
      ++emitted;
      ++followed_;
    } else {
      ++bad_lines_;
    }
  }
  partial_ = buf.substr(start);
  return emitted;
}

}  // namespace privwatch::cli
