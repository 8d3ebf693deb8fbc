#include "respond/targets.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "util/fd.hpp"

namespace privwatch::respond {

namespace {

bool read_small(const std::string& path, std::string& out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return false;
  out.clear();
  char buf[1024];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 65536) break;
  }
  return true;
}

template <typename T>
bool to_num(std::string_view s, T& out) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// /proc/<pid>/stat: comm runs from the first '(' to the LAST ')'.
bool parse_stat(const std::string& line, ProcSnapshot& p) {
  const size_t open = line.find('(');
  const size_t close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  if (!to_num(std::string_view(line).substr(0, open > 0 ? open - 1 : 0), p.pid)) return false;
  p.comm = line.substr(open + 1, close - open - 1);
  std::string_view rest = std::string_view(line).substr(close + 1);
  int field = 2;
  size_t i = 0;
  while (i < rest.size() && field < 22) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ') ++j;
    const std::string_view tok = rest.substr(i, j - i);
    ++field;
    switch (field) {
      case 3:
        p.state = tok.empty() ? '?' : tok[0];
        break;
      case 4:
        if (!to_num(tok, p.ppid)) return false;
        break;
      case 7: {
        int32_t tty = 0;
        if (!to_num(tok, tty)) return false;
        p.tty_nr = static_cast<uint32_t>(tty);
        break;
      }
      case 9:
        if (!to_num(tok, p.flags)) return false;
        break;
      case 22:
        if (!to_num(tok, p.start_ticks)) return false;
        break;
      default:
        break;
    }
    i = j;
  }
  return field == 22;
}

bool key_matches(const model::ProcessKey& want, const ProcSnapshot& p) {
  return want.pid == p.pid && (want.start_ticks == 0 || want.start_ticks == p.start_ticks);
}

}  // namespace

bool read_proc(uint32_t pid, ProcSnapshot& out, const std::string& proc_root) {
  const std::string base = fmt::format("{}/{}", proc_root, pid);
  std::string s;
  out = ProcSnapshot{};
  if (!read_small(base + "/stat", s) || !parse_stat(s, out)) return false;
  if (read_small(base + "/sessionid", s)) {
    uint32_t sid = 0;
    if (to_num(std::string_view(s), sid)) out.sessionid = sid;
  }
  char buf[4096];
  const ssize_t n = ::readlink((base + "/exe").c_str(), buf, sizeof(buf) - 1);
  if (n > 0) out.exe.assign(buf, static_cast<size_t>(n));
  return true;
}

std::vector<ProcSnapshot> scan_proc(const std::string& proc_root) {
  std::vector<ProcSnapshot> out;
  DIR* d = ::opendir(proc_root.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    uint32_t pid = 0;
    if (!to_num(std::string_view(e->d_name), pid) || pid == 0) continue;
    ProcSnapshot p;
    if (read_proc(pid, p, proc_root)) out.push_back(std::move(p));
  }
  ::closedir(d);
  return out;
}

std::string refusal(const ProcSnapshot& p, const Safety& safety) {
  if (p.pid == 1) return "PID 1 (init) is never a response target";
  if ((p.flags & kPfKthread) != 0 || p.pid == 2 || p.ppid == 2) {
    return fmt::format("{} ({}) is a kernel thread", p.pid, p.comm);
  }
  if (std::find(safety.self_pids.begin(), safety.self_pids.end(), p.pid) !=
      safety.self_pids.end()) {
    return fmt::format("{} ({}) is privwatch itself", p.pid, p.comm);
  }
  if (!safety.self_exe.empty() && p.exe == safety.self_exe) {
    return fmt::format("{} ({}) runs the privwatch binary (the agent is never a target)", p.pid,
                       p.comm);
  }
  for (const auto& prot : safety.protected_processes) {
    const bool match = prot[0] == '/' ? p.exe == prot : p.comm == prot;
    if (match) {
      return fmt::format("{} ({}) is protected by respond.protected ('{}')", p.pid, p.comm, prot);
    }
  }
  return {};
}

Selection select_targets(const std::vector<ProcSnapshot>& procs, const TargetSpec& spec,
                         const Safety& safety) {
  std::unordered_map<uint32_t, std::vector<size_t>> children;
  std::vector<size_t> queue;
  std::vector<bool> member(procs.size(), false);
  for (size_t i = 0; i < procs.size(); ++i) {
    const ProcSnapshot& p = procs[i];
    children[p.ppid].push_back(i);
    bool in = spec.audit_session != model::kUnsetId && p.sessionid == spec.audit_session;
    for (const auto& k : spec.roots) in = in || key_matches(k, p);
    for (const auto& k : spec.known) in = in || key_matches(k, p);
    if (in) {
      member[i] = true;
      queue.push_back(i);
    }
  }
  // Descendants (by /proc's parent) of every member.
  while (!queue.empty()) {
    const size_t i = queue.back();
    queue.pop_back();
    const auto it = children.find(procs[i].pid);
    if (it == children.end()) continue;
    for (size_t c : it->second) {
      if (member[c]) continue;
      member[c] = true;
      queue.push_back(c);
    }
  }
  Selection sel;
  for (size_t i = 0; i < procs.size(); ++i) {
    if (!member[i]) continue;
    std::string why = refusal(procs[i], safety);
    if (why.empty()) {
      sel.targets.push_back(procs[i]);
    } else {
      sel.spared.emplace_back(procs[i].pid, std::move(why));
    }
  }
  std::sort(sel.targets.begin(), sel.targets.end(),
            [](const ProcSnapshot& a, const ProcSnapshot& b) { return a.pid < b.pid; });
  return sel;
}

bool parse_session_id(const std::string& id, model::ProcessKey& leader) {
  const size_t last = id.rfind('-');
  if (last == std::string::npos || last == 0) return false;
  const size_t prev = id.rfind('-', last - 1);
  if (prev == std::string::npos) return false;
  uint32_t pid = 0;
  uint64_t ticks = 0;
  if (!to_num(std::string_view(id).substr(prev + 1, last - prev - 1), pid) ||
      !to_num(std::string_view(id).substr(last + 1), ticks) || pid == 0) {
    return false;
  }
  leader = {pid, ticks};
  return true;
}

Status parse_session_arg(const std::string& text, TargetSpec& spec) {
  uint64_t sid = 0;
  if (to_num(std::string_view(text), sid)) {
    if (sid >= model::kUnsetId) {
      return Error{ErrorKind::kInvalidArgument,
                   fmt::format("--session {}: 4294967295 is the id of every process outside a "
                               "login session, not a session",
                               text),
                   "target one process tree with --pid instead"};
    }
    spec.audit_session = static_cast<uint32_t>(sid);
    return {};
  }
  model::ProcessKey leader;
  if (parse_session_id(text, leader)) {
    spec.roots.push_back(leader);
    return {};
  }
  return Error{ErrorKind::kInvalidArgument,
               fmt::format("--session '{}' is neither an audit session id nor a session id", text),
               "give the number in /proc/<pid>/sessionid of a process of the session, or the "
               "session.id of an event or alert (\"<boot>-<pid>-<start ticks>\")"};
}

std::string tty_path(uint32_t tty_nr, const std::string& dev_root) {
  if (tty_nr == 0) return {};
  const unsigned maj = (tty_nr >> 8) & 0xfff;
  const unsigned min = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
  const dev_t want = makedev(maj, min);
  auto is_it = [want](const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == want;
  };
  // The usual places first, then any character device under /dev/pts and /dev.
  std::vector<std::string> guesses;
  if (maj >= 136 && maj <= 143)
    guesses.push_back(fmt::format("{}/pts/{}", dev_root, (maj - 136) * 256 + min));
  if (maj == 4 && min < 64) guesses.push_back(fmt::format("{}/tty{}", dev_root, min));
  if (maj == 4 && min >= 64) guesses.push_back(fmt::format("{}/ttyS{}", dev_root, min - 64));
  for (const auto& g : guesses) {
    if (is_it(g)) return g;
  }
  for (const std::string& dir : {dev_root + "/pts", dev_root}) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    std::string found;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const std::string path = dir + "/" + e->d_name;
      if (is_it(path)) {
        found = path;
        break;
      }
    }
    ::closedir(d);
    if (!found.empty()) return found;
  }
  return {};
}

}  // namespace privwatch::respond
