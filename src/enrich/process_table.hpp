// Process table: what we know about every live (and recently exited) process, keyed by
// (pid, start time) because pids are reused. Seeded once from /proc, then kept current from
// exec/fork/exit events. Bounded: size() never exceeds max_entries (see docs/process-table.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/event.hpp"
#include "util/result.hpp"

namespace privwatch::enrich {

using model::ProcessKey;

struct ProcessKeyHash {
  size_t operator()(const ProcessKey& k) const noexcept {
    uint64_t h = k.start_ticks * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(k.pid) << 1);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return static_cast<size_t>(h);
  }
};

struct ProcessInfo {
  ProcessKey key, parent;
  uint64_t start_ns = 0;  // boot-time ns (tick granularity when seeded from /proc)
  std::string exe, comm, cwd;
  std::vector<std::string> args;
  // Boot-time ns since when exe/args/cwd describe the process: its exec, its fork (start), or
  // the /proc scan. A child born before this ran an earlier image of this process.
  uint64_t image_ns = 0;
  uint32_t uid = 0, euid = 0, gid = 0, egid = 0;
  uint32_t loginuid = model::kUnsetId, sessionid = model::kUnsetId;
  bool exited = false;
  uint64_t exit_ns = 0;
  uint32_t exit_code = 0;  // raw wait status
  bool seeded = false;     // came from the /proc scan rather than from an event
  uint64_t last_seen_ns = 0;
};

// The fields of /proc/<pid>/stat the table needs.
struct ProcStat {
  uint32_t pid = 0, ppid = 0;
  std::string comm;
  uint64_t start_ticks = 0;  // field 22
};

// Parses one /proc/<pid>/stat line. comm may hold spaces and ')' — it runs from the first '('
// to the LAST ')'. Returns false on a malformed line.
[[nodiscard]] bool parse_proc_stat(std::string_view line, ProcStat& out);

class ProcessTable {
 public:
  static constexpr size_t kMaxSeedArgs = 64;
  static constexpr size_t kMaxSeedArgBytes = 4096;

  // max_entries: hard bound on size() (0 is treated as 1). exited_grace_ns: how long an
  // exited process stays findable (late events, children asking for their parent).
  ProcessTable(size_t max_entries, uint64_t exited_grace_ns);

  // Scans proc_root for every numeric directory. Returns the number of entries inserted
  // (keys already in the table are left alone: events are fresher than the scan). Processes
  // that vanish mid-scan are skipped and counted in seed_vanished(). Fails only when
  // proc_root itself cannot be read.
  [[nodiscard]] Result<size_t> seed_from_proc(const std::string& proc_root = "/proc");

  // Hot path. Exec (not failed) upserts the process, fork inserts the child, exit marks it
  // exited, anything else creates an entry for an unknown process: minimal, or with its
  // parent's image when it must still be running it (see docs/process-table.md). No O(n) work
  // per event: when full, one batch eviction frees eviction_slack() slots.
  void apply(const model::Event& ev);

  [[nodiscard]] const ProcessInfo* find(const ProcessKey& key) const;
  // Visits every entry (O(size()): for rare work such as a response's target selection).
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [key, info] : map_) f(info);
  }

  // Removes exited entries whose grace period is over (exit_ns + grace < now_ns), then
  // evicts down to max_entries if needed (exited first, oldest exit first; then least
  // recently seen). O(size()): call it periodically, not per event.
  void expire(uint64_t now_ns);

  [[nodiscard]] size_t size() const { return map_.size(); }
  [[nodiscard]] size_t max_entries() const { return max_entries_; }
  // A full table evicts down to max_entries - eviction_slack() at once, so the O(n) batch
  // runs at most once every eviction_slack() inserts.
  [[nodiscard]] size_t eviction_slack() const { return slack_; }
  [[nodiscard]] uint64_t evictions() const { return evictions_; }
  [[nodiscard]] uint64_t expired() const { return expired_; }
  [[nodiscard]] uint64_t seed_vanished() const { return seed_vanished_; }

 private:
  ProcessInfo* find_mut(const ProcessKey& key);
  // Returns the entry for key, inserting a default one (evicting first when full, never
  // evicting `protect`). `inserted` tells which.
  ProcessInfo& get_or_insert(const ProcessKey& key, const ProcessKey* protect, bool& inserted);
  // Known process: refresh last_seen and creds. Unknown: entry from ev.proc, with the
  // parent's image when inherit_image and inherits_image() allow it.
  ProcessInfo& touch_or_create(const model::Event& ev, bool inherit_image = true);
  // Whether a process the table has never seen, with context pc, still runs `parent`'s image.
  [[nodiscard]] bool inherits_image(const model::ProcessContext& pc,
                                    const ProcessInfo& parent) const;
  void evict_down_to(size_t target, const ProcessKey* protect);

  size_t max_entries_;
  size_t slack_;
  uint64_t grace_ns_;
  std::unordered_map<ProcessKey, ProcessInfo, ProcessKeyHash> map_;

  struct Victim {
    bool live;      // exited entries go first (oldest exit first),
    uint64_t time;  // then live ones, least recently seen first
    ProcessKey key;
  };
  std::vector<Victim> scratch_;  // reused by evict_down_to

  // Latest start (clock ticks) of any evicted process: a process that started no later may
  // have been evicted, and have exec'd before, so it cannot be assumed to run its parent's image.
  uint64_t evicted_start_ticks_max_ = 0;
  uint64_t evictions_ = 0;
  uint64_t expired_ = 0;
  uint64_t seed_vanished_ = 0;
};

}  // namespace privwatch::enrich
