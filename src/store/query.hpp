// Reading the store: search (field filters + full text), alert listings and reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/record.hpp"
#include "store/store.hpp"
#include "util/result.hpp"

namespace privwatch::store {

struct SearchFilter {
  std::string user;  // effective user OR the human behind it
  std::string host, session, role, cluster;
  std::string kind;  // a record kind (event, alert, session...) or an event kind (exec...)
  std::string name;  // alert rule / event kind / entry type (exact)
  std::string text;  // full text: words (all must match), "quoted phrases", prefix*
  uint64_t since_ns = 0, until_ns = 0;  // [since, until); 0 = open
  int min_severity = -1;                // alerts: model::Severity
  size_t limit = 100;
  bool latest_sessions = true;  // sessions: only the newest version of each session
};

struct Row {
  uint64_t seq = 0, wall_ns = 0;
  RecordKind kind = RecordKind::kEvent;
  std::string name, host, user, human, session, roles, cluster, ref;
  int severity = -1;
  uint32_t flags = 0;
  std::string text, body;
};

// Newest first. An unknown kind or a malformed text query is a kInvalidArgument error.
[[nodiscard]] Result<std::vector<Row>> search(const Store& store, const SearchFilter& filter);

// FTS5 query for plain user text (each word a quoted term; * keeps a prefix search).
[[nodiscard]] std::string fts_query(const std::string& text);

// "30d", "12h" (ago) or an RFC 3339 time → epoch ns. A date alone ("2026-11-01") is midnight
// UTC, a time without a zone ("2026-11-01T08:00:00") is UTC (util::parse_rfc3339 with both
// relaxations); a time before 1970 is an error.
[[nodiscard]] Result<uint64_t> parse_time(const std::string& text, uint64_t now_ns);

// Severity names (info, low, medium, high, critical) ↔ numbers.
[[nodiscard]] Result<int> parse_severity(const std::string& s);
[[nodiscard]] std::string severity_name(int s);

// Reports: one subject (user, host, role or cluster) over a period.
struct ReportQuery {
  std::string user, host, role, cluster;
  uint64_t since_ns = 0, until_ns = 0;
  int work_start_hour = 8, work_end_hour = 18;  // local time; weekends are off-hours
  bool utc = false;                             // judge hours in UTC instead of local time
  size_t top = 10;
};

struct ReportCount {
  std::string key;
  uint64_t count = 0;
};

struct Report {
  ReportQuery query;
  std::string subject;  // "user alice"
  uint64_t events = 0;
  std::vector<ReportCount> events_by_kind;
  struct Session {
    std::string id, type, user, human, host, client_ip, tty, start, end;
    bool active = false;
  };
  std::vector<Session> sessions;
  uint64_t escalated_commands = 0;
  std::vector<ReportCount> top_escalated_commands;
  struct Escalation {
    uint64_t wall_ns = 0;
    std::string name, user, human, session, text;
  };
  std::vector<Escalation> escalations;
  std::vector<ReportCount> alerts_by_severity;
  struct AlertLine {
    uint64_t wall_ns = 0;
    std::string severity, rule, title, session;
  };
  std::vector<AlertLine> alerts;
  uint64_t alerts_total = 0;
  uint64_t commands = 0;
  std::vector<ReportCount> top_commands;
  uint64_t off_hours_commands = 0;
  std::vector<ReportCount> top_off_hours_commands;
  std::vector<ReportCount> off_hours_days;  // date → commands
};

[[nodiscard]] Result<Report> build_report(const Store& store, const ReportQuery& q);
[[nodiscard]] std::string report_markdown(const Report& r);
[[nodiscard]] std::string report_json(const Report& r);

}  // namespace privwatch::store
