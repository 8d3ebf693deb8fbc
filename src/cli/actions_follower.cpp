#include "cli/actions_follower.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "store/session_query.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"
#include "util/json_path.hpp"

namespace privwatch::cli {

namespace {

using nlohmann::json;

using util::json_at;

std::string str(const json& j, std::initializer_list<const char*> path) {
  return util::json_str(j, path);
}

// How many leading bytes of the log identify it: with the inode, tells the file followed before
// from a new one that reuses its inode (each line starts with its own nanosecond timestamp).
constexpr off_t kHeadBytes = 4096;

// FNV-1a of the first min(upto, kHeadBytes) bytes of `path`; 0 when it cannot be read whole.
uint64_t head_hash(const std::string& path, off_t upto) {
  const auto n = static_cast<size_t>(std::min(upto, kHeadBytes));
  std::string bytes(n, '\0');
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok() || ::pread(fd.get(), bytes.data(), n, 0) != static_cast<ssize_t>(n)) return 0;
  uint64_t h = 1469598103934665603ull;
  for (const char c : bytes) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
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

ActionsLogFollower::ActionsLogFollower(std::string path, std::string position_path)
    : path_(std::move(path)), position_path_(std::move(position_path)) {
  if (path_.empty()) return;
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    device_ = st.st_dev;
    inode_ = st.st_ino;
  }
  // First start (no position): what the log holds predates this agent's record.
  if (!resume(st) && inode_ != 0) offset_ = st.st_size;
  save_position();
}

bool ActionsLogFollower::resume(const struct stat& st) {
  if (position_path_.empty()) return false;
  std::ifstream in(position_path_);
  if (!in) return false;
  const json j = json::parse(in, nullptr, false);
  const json* dev = json_at(j, {"device"});
  const json* ino = json_at(j, {"inode"});
  const json* off = json_at(j, {"offset"});
  const json* head = json_at(j, {"head"});
  if (dev == nullptr || ino == nullptr || off == nullptr || !dev->is_number_unsigned() ||
      !ino->is_number_unsigned() || !off->is_number_unsigned()) {
    start_note_ = fmt::format(
        "{} is not a position this agent wrote: following {} from its end; actions appended to "
        "it while no agent ran are not replayed",
        position_path_, path_);
    return false;
  }
  const auto pdev = dev->get<dev_t>();
  const auto pino = ino->get<ino_t>();
  const auto poff = static_cast<off_t>(off->get<uint64_t>());
  const uint64_t phead = head && head->is_number_unsigned() ? head->get<uint64_t>() : 0;
  // Otherwise offset_ stays 0: the current log is read from its start.
  if (inode_ != 0 && device_ == pdev && inode_ == pino) {
    if (st.st_size >= poff && head_hash(path_, poff) == phead) {
      offset_ = poff;
      if (st.st_size > poff) {
        start_note_ =
            fmt::format("{}: {} bytes were appended while no agent ran; they are read from byte {}",
                        path_, st.st_size - poff, poff);
      }
    } else {
      // Same inode, other content: truncated, or replaced by a file that reused the inode.
      start_note_ = fmt::format(
          "{} was truncated or replaced while no agent ran: read from its start (if it was "
          "replaced, lines appended to the old file after byte {} are not replayed)",
          path_, poff);
    }
    return true;
  }
  if (pino == 0) return true;  // the log did not exist when the agent stopped
  // Replaced while no agent ran (logrotate): the rest of the old file, then the new one.
  const std::string rotated = path_ + ".1";
  struct stat rs {};
  if (::stat(rotated.c_str(), &rs) == 0 && rs.st_dev == pdev && rs.st_ino == pino &&
      rs.st_size >= poff && head_hash(rotated, poff) == phead) {
    rotated_path_ = rotated;
    rotated_device_ = pdev;
    rotated_inode_ = pino;
    rotated_offset_ = poff;
    start_note_ = fmt::format(
        "{} was rotated while no agent ran: the rest of {} (from byte {}), then {} from its start",
        path_, rotated, poff, path_);
  } else {
    start_note_ = fmt::format(
        "{} was replaced while no agent ran and the file followed before is not {}: the new file "
        "is read from its start; lines appended to the old one after byte {} are not replayed",
        path_, rotated, poff);
  }
  return true;
}

off_t ActionsLogFollower::read_from(const std::string& path, dev_t dev, ino_t ino, off_t from,
                                    std::string& buf) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  // Replaced between the stat and the open: the next poll sees the new file.
  if (!fd.ok() || ::fstat(fd.get(), &st) != 0 || st.st_dev != dev || st.st_ino != ino) {
    return from;
  }
  char chunk[64 * 1024];
  off_t at = from;
  while (true) {
    const ssize_t n = ::pread(fd.get(), chunk, sizeof(chunk), at);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    at += n;
  }
  return at;
}

size_t ActionsLogFollower::emit_lines(
    std::string& buf, const std::function<void(const model::ResponseAction&)>& emit) {
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
  buf.erase(0, start);  // an incomplete last line
  return emitted;
}

size_t ActionsLogFollower::poll(const std::function<void(const model::ResponseAction&)>& emit) {
  if (path_.empty()) return 0;
  size_t emitted = 0;
  if (rotated_offset_ >= 0) {
    // Once, on the first poll: the tail of the file rotated away while no agent ran. Nothing
    // more will be appended to it, so an unterminated last line is taken as it is.
    std::string tail;
    (void)read_from(rotated_path_, rotated_device_, rotated_inode_, rotated_offset_, tail);
    rotated_offset_ = -1;
    if (!tail.empty() && tail.back() != '\n') tail.push_back('\n');
    emitted += emit_lines(tail, emit);
  }
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {  // else not created yet (or moved away)
    if (st.st_ino != inode_ || st.st_dev != device_ || st.st_size < offset_) {
      // Rotated or truncated: the new file from its start.
      device_ = st.st_dev;
      inode_ = st.st_ino;
      offset_ = 0;
      partial_.clear();
    }
    if (st.st_size > offset_) {
      std::string buf = std::move(partial_);
      offset_ = read_from(path_, device_, inode_, offset_, buf);
      emitted += emit_lines(buf, emit);
      partial_ = std::move(buf);
    }
  }
  save_position();
  return emitted;
}

void ActionsLogFollower::save_position() {
  // Not before the rotated file's tail is handed on: a crash now must find the old position.
  if (position_path_.empty() || rotated_offset_ >= 0) return;
  // The start of the first line not handed on yet: an incomplete line is read again whole.
  const off_t pos = offset_ - static_cast<off_t>(partial_.size());
  if (pos == saved_offset_ && inode_ == saved_inode_ && device_ == saved_device_) return;
  if (inode_ == 0) {
    // No log yet. When the state would go next to it (no store) and its directory does not
    // exist either, there is nothing to keep: the log, once created, is read from its start.
    const size_t slash = position_path_.rfind('/');
    struct stat ds {};
    if (slash != std::string::npos && slash > 0 &&
        ::stat(position_path_.substr(0, slash).c_str(), &ds) != 0) {
      return;
    }
  }
  const std::string text = json{{"log", path_},
                                {"device", static_cast<uint64_t>(device_)},
                                {"inode", static_cast<uint64_t>(inode_)},
                                {"offset", static_cast<uint64_t>(pos)},
                                {"head", inode_ == 0 ? 0 : head_hash(path_, pos)}}
                               .dump() +
                           "\n";
  if (auto s = util::write_file_atomic(
          position_path_, text, 0600,
          "the agent keeps its position in respond.actions_log there; its directory must be "
          "writable by the agent");
      !s) {
    if (!position_failed_) {
      warning_ = s.error().to_string() +
                 "\n  actions appended while the agent is stopped may not be replayed when it "
                 "starts again";
    }
    position_failed_ = true;
    return;
  }
  position_failed_ = false;
  saved_offset_ = pos;
  saved_inode_ = inode_;
  saved_device_ = device_;
}

}  // namespace privwatch::cli
