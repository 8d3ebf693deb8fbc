// The enrich stage: keeps the process table current and fills the enrichment fields of each
// event (executables, parent, user and group names, wall-clock time). One per pipeline
// thread; no locks, no I/O on the hot path except NSS on a user-cache miss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/process_table.hpp"
#include "enrich/users.hpp"
#include "model/event.hpp"
#include "util/result.hpp"

namespace privwatch::enrich {

struct EnricherStats {
  size_t entries = 0;  // processes in the table now
  size_t max_entries = 0;
  uint64_t evictions = 0;      // entries dropped because the table was full
  uint64_t expired = 0;        // exited entries dropped after the grace period
  size_t seeded = 0;           // entries inserted by seed()
  uint64_t seed_vanished = 0;  // processes that vanished (or were unreadable) during seeding
  uint64_t events = 0;
  uint64_t user_lookups = 0;  // NSS calls (cache misses)
};

class Enricher {
 public:
  static constexpr uint64_t kExpireIntervalNs = 1'000'000'000ull;

  // users: cache options; when users.clock is empty the cache runs on event time, which
  // costs nothing per event (replayed files then expire names on their own timeline).
  Enricher(size_t max_processes, uint64_t exited_grace_ns, UserDirectoryOptions users = {});
  Enricher(const Enricher&) = delete;  // the user cache's clock refers to this object
  Enricher& operator=(const Enricher&) = delete;

  [[nodiscard]] Result<size_t> seed(const std::string& proc_root = "/proc");

  // Applies ev to the process table, then fills ev's enrichment fields (cleared when
  // unknown). Expires the table at most once per second of event time.
  void process(model::Event& ev);
  // A recorded event (privwatch import): applies it to the process table and fills only the
  // fields the recording lacks (audit logs have no parent executable, and uids rather than
  // names unless ENRICHED); keeps the recorded wall time and names.
  void process_recorded(model::Event& ev);

  // Path prefixes (config sensitive_paths) that mark file events kFlagSensitive. The kernel
  // evaluates them only to decide whether to report an unmonitored subject's activity.
  void set_sensitive_paths(std::vector<std::string> prefixes);
  [[nodiscard]] bool is_sensitive(std::string_view path) const;

  [[nodiscard]] ProcessTable& table() { return table_; }
  [[nodiscard]] const ProcessTable& table() const { return table_; }
  [[nodiscard]] UserDirectory& users() { return users_; }
  [[nodiscard]] EnricherStats stats() const;
  // realtime - boottime, measured once at construction: wall_time_ns = ts_ns + this.
  [[nodiscard]] int64_t boot_to_realtime_ns() const { return boot_to_realtime_ns_; }

 private:
  void flag_sensitive(model::Event& ev) const;

  ProcessTable table_;
  std::vector<std::string> sensitive_;
  uint64_t now_ns_ = 0;  // latest event time; the default clock of users_
  UserDirectory users_;
  int64_t boot_to_realtime_ns_ = 0;
  uint64_t next_expire_ns_ = 0;
  size_t seeded_ = 0;
  static constexpr uint64_t kRecordedExpireEvents = 4096;
  uint64_t expired_at_event_ = 0;  // process_recorded: events_ at the last expiry
  uint64_t events_ = 0;
};

}  // namespace privwatch::enrich
