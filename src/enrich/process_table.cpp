#include "enrich/process_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <tuple>
#include <utility>

#include "util/fd.hpp"
#include "util/log.hpp"

namespace privwatch::enrich {

namespace {

constexpr uint64_t kNsPerTick = 10'000'000ull;  // USER_HZ = 100 (see model::ns_to_ticks)

class Dir {
 public:
  explicit Dir(const std::string& path) : d_(::opendir(path.c_str())) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (d_ != nullptr) ::closedir(d_);
  }
  [[nodiscard]] DIR* get() const { return d_; }

 private:
  DIR* d_;
};

uint64_t boottime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Reads at most max bytes of dirfd/name into out. Returns 0 or an errno.
int read_at(int dirfd, const char* name, std::string& out, size_t max) {
  out.clear();
  Fd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return errno;
  char buf[4096];
  while (out.size() < max) {
    const size_t want = std::min(sizeof(buf), max - out.size());
    const ssize_t n = ::read(fd.get(), buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return 0;
}

// readlinkat into out; "" on failure (kernel threads have no exe, other users' processes may
// be unreadable without CAP_SYS_PTRACE).
void readlink_at(int dirfd, const char* name, std::string& out) {
  out.clear();
  std::string buf(256, '\0');
  for (;;) {
    const ssize_t n = ::readlinkat(dirfd, name, buf.data(), buf.size());
    if (n < 0) return;
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      out = std::move(buf);
      return;
    }
    if (buf.size() >= 65536) return;  // absurdly long: give up rather than guess
    buf.resize(buf.size() * 2);
  }
}

template <typename T>
bool parse_uint(std::string_view s, T& out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  if (s.empty()) return false;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool all_digits(const char* s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

// "Uid:\t1000\t1000\t1000\t1000" → real, effective.
bool parse_id_pair(std::string_view status, std::string_view tag, uint32_t& real,
                   uint32_t& effective) {
  size_t pos = 0;
  while (pos < status.size()) {
    size_t eol = status.find('\n', pos);
    if (eol == std::string_view::npos) eol = status.size();
    std::string_view line = status.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.substr(0, tag.size()) != tag) continue;
    line.remove_prefix(tag.size());
    uint32_t ids[2] = {};
    size_t got = 0;
    while (got < 2) {
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      size_t end = line.find_first_of(" \t");
      if (end == std::string_view::npos) end = line.size();
      if (end == 0 || !parse_uint(line.substr(0, end), ids[got])) return false;
      line.remove_prefix(end);
      ++got;
    }
    real = ids[0];
    effective = ids[1];
    return true;
  }
  return false;
}

uint32_t read_audit_id(int dirfd, const char* name, std::string& buf) {
  uint32_t v = model::kUnsetId;
  if (read_at(dirfd, name, buf, 32) != 0 || !parse_uint(buf, v)) return model::kUnsetId;
  return v;
}

void split_cmdline(std::string_view raw, std::vector<std::string>& args) {
  args.clear();
  while (!raw.empty() && args.size() < ProcessTable::kMaxSeedArgs) {
    size_t nul = raw.find('\0');
    if (nul == std::string_view::npos) nul = raw.size();
    args.emplace_back(raw.substr(0, nul));
    raw.remove_prefix(std::min(raw.size(), nul + 1));
  }
}

enum class ScanResult { kOk, kVanished };

// Everything the scan learns about one pid; the parent's start time is resolved afterwards.
ScanResult scan_one(int procfd, const char* name, ProcessInfo& info, std::string& buf) {
  Fd pfd(::openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!pfd.ok()) return ScanResult::kVanished;
  // All reads go through the pinned directory: if the process dies and its pid is reused
  // meanwhile, they fail instead of mixing two processes.
  ProcStat st;
  if (read_at(pfd.get(), "stat", buf, 4096) != 0 || !parse_proc_stat(buf, st)) {
    return ScanResult::kVanished;
  }
  info.key = {st.pid, st.start_ticks};
  info.parent = {st.ppid, 0};
  info.start_ns = st.start_ticks * kNsPerTick;
  info.comm = std::move(st.comm);
  if (read_at(pfd.get(), "status", buf, 16384) != 0 ||
      !parse_id_pair(buf, "Uid:", info.uid, info.euid) ||
      !parse_id_pair(buf, "Gid:", info.gid, info.egid)) {
    return ScanResult::kVanished;
  }
  readlink_at(pfd.get(), "exe", info.exe);
  readlink_at(pfd.get(), "cwd", info.cwd);
  if (read_at(pfd.get(), "cmdline", buf, ProcessTable::kMaxSeedArgBytes) == 0) {
    split_cmdline(buf, info.args);
  }
  info.loginuid = read_audit_id(pfd.get(), "loginuid", buf);
  info.sessionid = read_audit_id(pfd.get(), "sessionid", buf);
  info.seeded = true;
  return ScanResult::kOk;
}

}  // namespace

bool parse_proc_stat(std::string_view line, ProcStat& out) {
  const size_t open = line.find('(');
  const size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return false;
  }
  if (!parse_uint(line.substr(0, open), out.pid)) return false;
  out.comm.assign(line.substr(open + 1, close - open - 1));
  // Fields after the comm start at field 3 (state): ppid is field 4, starttime field 22.
  std::string_view rest = line.substr(close + 1);
  int field = 3;
  bool have_ppid = false;
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n')) rest.remove_prefix(1);
    if (rest.empty()) break;
    size_t end = rest.find_first_of(" \n");
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view tok = rest.substr(0, end);
    rest.remove_prefix(end);
    if (field == 4) {
      if (!parse_uint(tok, out.ppid)) return false;
      have_ppid = true;
    } else if (field == 22) {
      return have_ppid && parse_uint(tok, out.start_ticks);
    }
    ++field;
  }
  return false;
}

ProcessTable::ProcessTable(size_t max_entries, uint64_t exited_grace_ns)
    : max_entries_(std::max<size_t>(max_entries, 1)),
      slack_(std::max<size_t>(max_entries_ / 16, 1)),
      grace_ns_(exited_grace_ns) {
  map_.reserve(std::min<size_t>(max_entries_, 1u << 16));
}

Result<size_t> ProcessTable::seed_from_proc(const std::string& proc_root) {
  Dir dir(proc_root);
  if (dir.get() == nullptr) {
    Error e = make_error(ErrorKind::kIo, "cannot read process directory {}: {}", proc_root,
                         std::strerror(errno));
    e.hint = "is procfs mounted there (mount -t proc proc /proc)?";
    return e;
  }
  const int procfd = ::dirfd(dir.get());
  std::vector<ProcessInfo> found;
  std::unordered_map<uint32_t, uint64_t> start_by_pid;
  std::string buf;
  buf.reserve(4096);
  while (const dirent* ent = ::readdir(dir.get())) {
    if (!all_digits(ent->d_name)) continue;
    ProcessInfo info;
    if (scan_one(procfd, ent->d_name, info, buf) != ScanResult::kOk) {
      ++seed_vanished_;
      continue;
    }
    start_by_pid.emplace(info.key.pid, info.key.start_ticks);
    found.push_back(std::move(info));
  }

  const uint64_t now = boottime_ns();
  size_t inserted_count = 0;
  for (ProcessInfo& info : found) {
    const uint32_t ppid = info.parent.pid;
    if (auto it = start_by_pid.find(ppid); it != start_by_pid.end()) {
      info.parent.start_ticks = it->second;
    } else if (ppid != 0) {  // parent appeared after readdir passed it: read its stat
      ProcStat st;
      const std::string pname = std::to_string(ppid);
      if (read_at(procfd, (pname + "/stat").c_str(), buf, 4096) == 0 && parse_proc_stat(buf, st)) {
        info.parent.start_ticks = st.start_ticks;
      }
    }
    if (map_.find(info.key) != map_.end()) continue;  // events already told us more
    info.last_seen_ns = now;
    info.image_ns = now;  // the image read now may be newer than the process's children
    bool inserted = false;
    ProcessInfo& slot = get_or_insert(info.key, nullptr, inserted);
    slot = std::move(info);
    ++inserted_count;
  }
  if (found.size() > max_entries_) {
    log::warn(
        "process table: {} processes in {} but room for {}; {} evicted (raise "
        "enrich.max_processes)",
        found.size(), proc_root, max_entries_, found.size() - map_.size());
  }
  return inserted_count;
}

ProcessInfo* ProcessTable::find_mut(const ProcessKey& key) {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

const ProcessInfo* ProcessTable::find(const ProcessKey& key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

ProcessInfo& ProcessTable::get_or_insert(const ProcessKey& key, const ProcessKey* protect,
                                         bool& inserted) {
  if (auto it = map_.find(key); it != map_.end()) {
    inserted = false;
    return it->second;
  }
  if (map_.size() >= max_entries_) {
    evict_down_to(max_entries_ - slack_, protect);
    // Only when everything left is protected (max_entries == 1): the bound wins.
    if (map_.size() >= max_entries_) evict_down_to(max_entries_ - 1, nullptr);
  }
  auto [it, ok] = map_.try_emplace(key);
  it->second.key = key;
  inserted = true;
  return it->second;
}

void ProcessTable::evict_down_to(size_t target, const ProcessKey* protect) {
  if (map_.size() <= target) return;
  scratch_.clear();
  scratch_.reserve(map_.size());
  for (const auto& [k, p] : map_) {
    if (protect != nullptr && k == *protect) continue;
    scratch_.push_back({!p.exited, p.exited ? p.exit_ns : p.last_seen_ns, k});
  }
  const size_t n = std::min(map_.size() - target, scratch_.size());
  if (n == 0) return;
  if (n < scratch_.size()) {
    std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<ptrdiff_t>(n), scratch_.end(),
                     [](const Victim& a, const Victim& b) {
                       return std::tie(a.live, a.time) < std::tie(b.live, b.time);
                     });
  }
  for (size_t i = 0; i < n; ++i) {
    evicted_start_ticks_max_ = std::max(evicted_start_ticks_max_, scratch_[i].key.start_ticks);
    map_.erase(scratch_[i].key);
  }
  evictions_ += n;
}

bool ProcessTable::inherits_image(const model::ProcessContext& pc,
                                  const ProcessInfo& parent) const {
  // Forks are reported only for monitored subjects, but execs always are: a process the table
  // never saw has not exec'd since the agent started, so it runs the image its parent had when
  // it was born — unless one of these says otherwise:
  return !parent.exe.empty() &&
         // the parent's image is not newer than the child (the parent exec'd after the fork);
         parent.image_ns <= pc.start_ns &&
         // the child was never in the table (an evicted entry may have exec'd);
         pc.key().start_ticks > evicted_start_ticks_max_ &&
         // the "parent" is the one it was forked from: fork copies comm and exec sets it, so a
         // differing comm means an orphan adopted by init or a subreaper (or a prctl rename).
         pc.comm == parent.comm;
}

ProcessInfo& ProcessTable::touch_or_create(const model::Event& ev, bool inherit_image) {
  const model::ProcessContext& pc = ev.proc;
  const ProcessKey key = pc.key();
  const ProcessKey parent_key = pc.parent_key();
  bool inserted = false;
  ProcessInfo& p = get_or_insert(key, &parent_key, inserted);
  if (inserted) {
    p.parent = parent_key;
    p.start_ns = pc.start_ns;
    p.comm = pc.comm;
    // After the insert: references to other entries survive a rehash, and the parent was
    // protected from eviction (except with max_entries == 1).
    const ProcessInfo* parent = parent_key == key ? nullptr : find(parent_key);
    if (inherit_image && parent != nullptr && inherits_image(pc, *parent)) {
      p.exe = parent->exe;
      p.args = parent->args;
      p.cwd = parent->cwd;
      p.image_ns = pc.start_ns;
    }
  }
  // The kernel reports the current credentials with every event: keep them current
  // (setuid(), login setting loginuid). Integers only: no allocation.
  p.uid = pc.uid;
  p.euid = pc.euid;
  p.gid = pc.gid;
  p.egid = pc.egid;
  p.loginuid = pc.loginuid;
  p.sessionid = pc.sessionid;
  p.last_seen_ns = ev.ts_ns;
  return p;
}

void ProcessTable::apply(const model::Event& ev) {
  switch (ev.kind) {
    case model::EventKind::kExec: {
      const auto* d = std::get_if<model::ExecData>(&ev.data);
      if (d == nullptr || d->result < 0 || (d->flags & model::kExecFailed) != 0) {
        break;  // image unchanged
      }
      ProcessInfo& p = touch_or_create(ev, /*inherit_image=*/false);
      p.parent = ev.proc.parent_key();
      p.start_ns = ev.proc.start_ns;
      p.comm = ev.proc.comm;
      p.exe = d->exe_path;
      p.args = d->args;
      p.cwd = d->cwd;
      p.image_ns = ev.ts_ns;
      p.exited = false;
      p.seeded = false;
      return;
    }
    case model::EventKind::kFork: {
      const auto* d = std::get_if<model::ForkData>(&ev.data);
      if (d == nullptr) break;
      touch_or_create(ev);  // the forking parent
      const ProcessKey parent_key = ev.proc.key();
      const ProcessKey child_key{d->child_pid, model::ns_to_ticks(d->child_start_ns)};
      bool inserted = false;
      ProcessInfo& c = get_or_insert(child_key, &parent_key, inserted);
      // After the insert: references to other entries survive a rehash, and the parent was
      // protected from eviction (except with max_entries == 1).
      const ProcessInfo* parent = find_mut(parent_key);
      if (inserted || c.exe.empty()) {  // an entry made by an earlier exec keeps its image
        if (parent != nullptr) {
          c.exe = parent->exe;
          c.args = parent->args;
          c.cwd = parent->cwd;
          c.comm = parent->comm;
          c.image_ns = d->child_start_ns;
        } else {
          c.comm = ev.proc.comm;
        }
      }
      if (inserted) {
        c.start_ns = d->child_start_ns;
        c.uid = ev.proc.uid;
        c.euid = ev.proc.euid;
        c.gid = ev.proc.gid;
        c.egid = ev.proc.egid;
        c.loginuid = ev.proc.loginuid;
        c.sessionid = ev.proc.sessionid;
      }
      c.parent = parent_key;
      c.last_seen_ns = ev.ts_ns;
      return;
    }
    case model::EventKind::kExit: {
      const auto* d = std::get_if<model::ExitData>(&ev.data);
      ProcessInfo* p = find_mut(ev.proc.key());
      if (p == nullptr) return;  // nothing to remember about a process we never knew
      p->exited = true;
      p->exit_ns = ev.ts_ns;
      p->exit_code = d != nullptr ? d->exit_code : 0;
      p->last_seen_ns = ev.ts_ns;
      return;
    }
    default:
      break;
  }
  touch_or_create(ev);
}

void ProcessTable::expire(uint64_t now_ns) {
  for (auto it = map_.begin(); it != map_.end();) {
    const ProcessInfo& p = it->second;
    if (p.exited && now_ns > p.exit_ns && now_ns - p.exit_ns > grace_ns_) {
      it = map_.erase(it);
      ++expired_;
    } else {
      ++it;
    }
  }
  if (map_.size() > max_entries_) evict_down_to(max_entries_, nullptr);
}

}  // namespace privwatch::enrich
