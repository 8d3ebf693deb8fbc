// Linux audit log import: auditd's raw log format (/var/log/audit/audit.log) → typed events.
//
// One audit event is several records sharing "msg=audit(<seconds>.<ms>:<serial>)": SYSCALL
// first, then EXECVE, CWD, PATH, SOCKADDR, PROCTITLE..., closed by EOE (or by the next
// serial). The parser groups them and emits one model::Event per syscall it maps: execve /
// execveat → exec, connect/accept/bind → net, open/openat/creat/unlink/rename/chmod/chown/
// mkdir/rmdir/link/symlink/truncate → file, set*id/setgroups/capset → cred, init/finit/
// delete_module → module, ptrace, mount/umount2, kill/tkill/tgkill → signal. Syscall numbers
// are x86_64 or aarch64 (from the record's arch=). Values may be quoted, hex-encoded
// (untrusted strings) or, in the ENRICHED format, followed by resolved names after 0x1d.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/event.hpp"

namespace privwatch::source {

struct AuditStats {
  uint64_t records = 0;
  uint64_t events = 0;     // model events produced
  uint64_t unmapped = 0;   // audit events whose syscall/type privwatch does not model
  uint64_t malformed = 0;  // lines that are not audit records
};

class AuditParser {
 public:
  // Feeds one log line. Completed events are appended to `out`. Returns false (and sets
  // `why`) for a line that is not an audit record.
  bool feed(std::string_view line, std::deque<model::Event>& out, std::string& why);
  // End of input: emits what is still grouped.
  void finish(std::deque<model::Event>& out);
  [[nodiscard]] const AuditStats& stats() const { return stats_; }

  // Exposed for tests: "key=value key2=\"quoted\"" fields of one record (values decoded:
  // quotes removed, hex strings decoded; ENRICHED names after 0x1d as "UPPERCASE" keys).
  static std::unordered_map<std::string, std::string> fields(std::string_view body);
  static std::string unhex(std::string_view hex);

 private:
  struct Group {
    uint64_t serial = 0;
    uint64_t wall_ns = 0;
    std::vector<std::pair<std::string, std::unordered_map<std::string, std::string>>> records;
  };
  void emit(Group& g, std::deque<model::Event>& out);

  std::deque<Group> open_;  // groups not closed by EOE yet (records of events interleave)
  std::unordered_map<uint32_t, std::string> sessions_;  // audit session → login address
  AuditStats stats_;
};

}  // namespace privwatch::source
