// Target selection for response actions: which live processes make up a session or a process
// subtree, and which of them may never be acted on. Pure over a snapshot of the process list
// (unit-tested without /proc); scan_proc() takes the snapshot from /proc.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/identity.hpp"
#include "util/result.hpp"

namespace privwatch::respond {

inline constexpr uint32_t kPfKthread = 0x00200000;  // PF_KTHREAD in /proc/<pid>/stat flags

// One process as /proc shows it.
struct ProcSnapshot {
  uint32_t pid = 0, ppid = 0;
  uint64_t start_ticks = 0;  // /proc/<pid>/stat field 22
  uint32_t sessionid = model::kUnsetId;
  uint32_t flags = 0;   // field 9 (PF_*)
  uint32_t tty_nr = 0;  // field 7: controlling terminal (new_encode_dev), 0 = none
  char state = '?';     // field 3: R S D T t Z X ...
  std::string comm, exe;
  [[nodiscard]] bool dead() const { return state == 'Z' || state == 'X'; }
  [[nodiscard]] bool stopped() const { return state == 'T' || state == 't'; }
  [[nodiscard]] model::ProcessKey key() const { return {pid, start_ticks}; }
};

// Every process in proc_root (those that vanish mid-scan are skipped).
[[nodiscard]] std::vector<ProcSnapshot> scan_proc(const std::string& proc_root = "/proc");
// One process; false when it does not exist.
[[nodiscard]] bool read_proc(uint32_t pid, ProcSnapshot& out,
                             const std::string& proc_root = "/proc");

// What to act on. A process belongs to the target when any of these holds:
//  - its audit session id is audit_session (inherited by every descendant, survives setsid,
//    double forks and reparenting; changing it needs CAP_AUDIT_CONTROL);
//  - it is one of `roots` or `known` (pid + start time, so a reused pid never matches;
//    start_ticks 0 = any start time);
//  - its parent (in /proc) belongs to the target.
// `known` carries processes the agent's process table attributes to the target although /proc
// no longer shows the relation (a double-forked orphan reparented to init).
struct TargetSpec {
  uint32_t audit_session = model::kUnsetId;
  std::vector<model::ProcessKey> roots;
  std::vector<model::ProcessKey> known;
  [[nodiscard]] bool empty() const {
    return audit_session == model::kUnsetId && roots.empty() && known.empty();
  }
};

// Processes that are never acted on.
struct Safety {
  std::vector<uint32_t> self_pids;  // the agent or the CLI (and its parent chain when asked)
  std::string self_exe;             // the privwatch binary: every process running it is spared
  std::vector<std::string> protected_processes;  // comm names or absolute exe paths
};

// Why `p` may not be acted on, or "" when it may.
[[nodiscard]] std::string refusal(const ProcSnapshot& p, const Safety& safety);

struct Selection {
  std::vector<ProcSnapshot> targets;                     // members that may be acted on
  std::vector<std::pair<uint32_t, std::string>> spared;  // members that may not, and why
};

[[nodiscard]] Selection select_targets(const std::vector<ProcSnapshot>& procs,
                                       const TargetSpec& spec, const Safety& safety);

// Parses an operator's --session value: an audit session id ("17"), or a session tracker id
// ("<boot>-<pid>-<start ticks>", whose leader becomes the root). Errors say what to write.
[[nodiscard]] Status parse_session_arg(const std::string& text, TargetSpec& spec);

// Session tracker ids end in "-<pid>-<start ticks>" (model::Session::id). False otherwise.
[[nodiscard]] bool parse_session_id(const std::string& id, model::ProcessKey& leader);

// /proc's tty_nr → the terminal device path ("/dev/pts/3"), or "" when none is found.
[[nodiscard]] std::string tty_path(uint32_t tty_nr, const std::string& dev_root = "/dev");

}  // namespace privwatch::respond
