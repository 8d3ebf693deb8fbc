#include "store/query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <variant>

#include "config/config.hpp"
#include "export/ecs_json.hpp"
#include "model/event.hpp"
#include "store/codec.hpp"
#include "util/time.hpp"

namespace privwatch::store {

namespace {

using Bind = std::variant<int64_t, std::string>;

struct Sql {
  std::string from = "records r";
  std::string where = "1";
  std::vector<Bind> binds;
  void add(const std::string& clause) { where += " AND " + clause; }
  void add(const std::string& clause, Bind b) {
    add(clause);
    binds.push_back(std::move(b));
  }
};

void bind_all(Stmt& st, const std::vector<Bind>& binds) {
  int i = 1;
  for (const auto& b : binds) {
    if (const auto* n = std::get_if<int64_t>(&b)) {
      st.bind(i++, *n);
    } else {
      st.bind_text(i++, std::get<std::string>(b), true);
    }
  }
}

bool is_event_kind(const std::string& k) {
  for (size_t i = 1; i < model::kEventKindCount; ++i) {
    if (model::to_string(static_cast<model::EventKind>(i)) == k) return true;
  }
  return false;
}

std::string kinds_list() {
  std::string s;
  for (auto k : kAllKinds) s += fmt::format("{}{}", s.empty() ? "" : ", ", to_string(k));
  for (size_t i = 1; i < model::kEventKindCount; ++i) {
    s += fmt::format(", {}", model::to_string(static_cast<model::EventKind>(i)));
  }
  return s;
}

// A query over the records: field filters become tags of the full-text index (intersected
// there with the words, newest first), the time range becomes a seq range (blocks) plus an
// exact test of ts, and the rest are tests on the row.
struct Plan {
  std::vector<std::string> terms;  // FTS5 expressions, all must match
  Sql sql;
  bool empty = false;  // nothing can match (no block in the time range)
};

// Subject filter shared by search and reports.
// Each tag term comes with the exact test of its column on the row: schema 3 tags of long
// values are hashes (record.hpp append_tags).
void add_subject(Plan& p, int schema, const std::string& user, const std::string& host,
                 const std::string& role, const std::string& cluster) {
  if (!user.empty()) {
    p.terms.push_back(fmt::format("({} OR {})", quoted_tag("pwu", user, schema),
                                  quoted_tag("pwh", user, schema)));
    p.sql.add("(r.user = ? OR r.human = ?)", user);
    p.sql.binds.emplace_back(user);
  }
  if (!host.empty()) p.sql.add("r.host = ?", host);
  if (!cluster.empty()) {
    p.terms.push_back(quoted_tag("pwc", cluster, schema));
    p.sql.add("r.cluster = ?", cluster);
  }
  if (!role.empty()) {
    p.terms.push_back(quoted_tag("pwr", role, schema));
    p.sql.add("instr(',' || r.roles || ',', ',' || ? || ',') > 0", role);
  }
}

// No record names this host (hosts has every host stored): nothing can match. Records have no
// host index (a per-host database holds one or a few).
Result<bool> unknown_host(const Store& store, const std::string& host) {
  if (host.empty()) return false;
  auto q = Stmt::prepare(store.db(), "SELECT 1 FROM hosts WHERE name = ?");
  if (!q) return q.error();
  q->bind_text(1, host);
  const int rc = q->step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "read hosts");
  return rc == SQLITE_DONE;
}

// [since, until) → the seq range of the time blocks that overlap it.
Status add_time(const Store& store, Plan& p, uint64_t since_ns, uint64_t until_ns) {
  if (since_ns == 0 && until_ns == 0) return {};
  auto b = Stmt::prepare(store.db(),
                         "SELECT min(id), max(id) FROM blocks WHERE max_ts >= ? AND min_ts < ?");
  if (!b) return b.error();
  b->bind(1, static_cast<int64_t>(since_ns));
  b->bind(2, until_ns == 0 ? INT64_MAX : static_cast<int64_t>(until_ns));
  const int rc = b->step();
  if (rc != SQLITE_ROW) return sqlite_error(store.db(), rc, "read the time blocks");
  if (b->is_null(0)) {
    p.empty = true;
    return {};
  }
  const int64_t lo = std::max<int64_t>(1, b->int64(0) << kBlockShift);
  const int64_t hi = ((b->int64(1) + 1) << kBlockShift) - 1;
  p.sql.add("r.seq >= ?", lo);
  p.sql.add("r.seq <= ?", hi);
  if (since_ns != 0) p.sql.add("r.ts >= ?", static_cast<int64_t>(since_ns));
  if (until_ns != 0) p.sql.add("r.ts < ?", static_cast<int64_t>(until_ns));
  return {};
}

// FROM / WHERE with the text index driving when there are terms. The seq range applies to
// the index's rowid (FTS5 seeks to it) through the join.
void finish(Plan& p) {
  if (p.terms.empty()) return;
  std::string match;
  for (const auto& t : p.terms) match += (match.empty() ? "" : " AND ") + t;
  p.sql.from = "records_fts CROSS JOIN records r ON r.seq = records_fts.rowid";
  std::string where = "records_fts MATCH ?";
  std::vector<Bind> binds{match};
  // Copy the seq bounds onto the index's rowid so that FTS5 scans only that range.
  std::string rest = p.sql.where;
  for (const char* op : {">=", "<="}) {
    const std::string needle = fmt::format(" AND r.seq {} ?", op);
    const auto at = rest.find(needle);
    if (at == std::string::npos) continue;
    // The bind of that clause: count the '?' before it.
    const size_t idx = static_cast<size_t>(std::count(rest.begin(), rest.begin() + at, '?'));
    where += fmt::format(" AND records_fts.rowid {} ?", op);
    binds.push_back(p.sql.binds[idx]);
  }
  p.sql.where = where + rest.substr(1);  // drop the leading "1"
  binds.insert(binds.end(), p.sql.binds.begin(), p.sql.binds.end());
  p.sql.binds = std::move(binds);
}

constexpr const char* kRowColumns =
    "r.seq,r.ts,r.kind,r.name,r.host,r.user,r.human,r.session,r.roles,r.cluster,r.ref,"
    "r.severity,r.flags,r.text,r.body";

Row read_row(const Stmt& st, BodyDecoder& decoder) {
  Row row;
  row.seq = static_cast<uint64_t>(st.int64(0));
  row.wall_ns = static_cast<uint64_t>(st.int64(1));
  row.kind = static_cast<RecordKind>(st.int64(2));
  row.name = st.text(3);
  row.host = st.text(4);
  row.user = st.text(5);
  row.human = st.text(6);
  row.session = st.text(7);
  row.roles = st.text(8);
  row.cluster = st.text(9);
  row.ref = st.text(10);
  row.severity = static_cast<int>(st.int64(11));
  row.flags = static_cast<uint32_t>(st.int64(12));
  row.text = st.text(13);
  if (st.is_blob(14)) {
    if (auto d = decoder.decode(st.blob(14), &row.body); !d) {
      row.body = nlohmann::json({{"error", d.error().message}}).dump();
    }
  } else {
    row.body = st.text(14);
  }
  return row;
}

}  // namespace

std::string fts_query(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    std::string term;
    if (text[i] == '"') {  // a phrase
      const size_t end = text.find('"', i + 1);
      term = text.substr(i + 1, (end == std::string::npos ? text.size() : end) - i - 1);
      i = end == std::string::npos ? text.size() : end + 1;
    } else {
      const size_t start = i;
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      term = text.substr(start, i - start);
    }
    bool prefix = false;
    if (!term.empty() && term.back() == '*') {
      prefix = true;
      term.pop_back();
    }
    std::string quoted = "\"";
    for (char c : term) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += '"';
    if (term.empty()) continue;
    if (!out.empty()) out += ' ';
    out += quoted;
    if (prefix) out += '*';
  }
  return out;
}

Result<uint64_t> parse_time(const std::string& text, uint64_t now_ns) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) &&
      std::isalpha(static_cast<unsigned char>(text.back())) &&
      text.find('-') == std::string::npos) {
    auto d = config::parse_duration(text);
    if (!d) return d.error();
    const uint64_t ago = *d * 1'000'000'000ull;
    return ago > now_ns ? 0 : now_ns - ago;
  }
  // A date alone is midnight UTC, and so is a time without a zone.
  if (auto t = util::parse_rfc3339_ns(text, {.date_only = true, .zoneless_utc = true})) return *t;
  return Error{ErrorKind::kInvalidArgument,
               fmt::format("'{}' is not a time: use an age such as 30d, 12h, 15m or a date "
                           "such as 2026-11-01 or 2026-11-01T08:00:00Z (UTC unless it has an "
                           "offset such as +02:00; not before 1970)",
                           text),
               ""};
}

Result<int> parse_severity(const std::string& s) {
  const char* names[] = {"info", "low", "medium", "high", "critical"};
  for (int i = 0; i < 5; ++i) {
    if (s == names[i]) return i;
  }
  return Error{ErrorKind::kInvalidArgument,
               fmt::format("'{}' is not a severity (info, low, medium, high, critical)", s), ""};
}

std::string severity_name(int s) {
  const char* names[] = {"info", "low", "medium", "high", "critical"};
  return s >= 0 && s < 5 ? names[s] : "";
}

Status check_schema(const Store& store) {
  if (store.schema_version() >= 2) return {};
  return Error{ErrorKind::kInvalidArgument,
               fmt::format("store {} has schema version {}: search and reports need version {}",
                           store.path(), store.schema_version(), kSchemaVersion),
               "'privwatch verify' still checks it; new stores are written in the new version"};
}

Result<std::vector<Row>> search(const Store& store, const SearchFilter& f) {
  if (auto s = check_schema(store); !s) return s.error();
  Plan p;
  const std::string fts = fts_query(f.text);
  if (!fts.empty()) p.terms.push_back("text : (" + fts + ")");
  if (!f.kind.empty()) {
    // Events carry no kind tag (schema 3: they are nearly every record, so the tag selected
    // nothing and cost an index entry each): the row says its kind.
    if (auto k = kind_from_string(f.kind); k && *k == RecordKind::kEvent) {
      p.sql.add("r.kind = 1");
    } else if (k) {
      p.terms.push_back(fmt::format("\"pwk{}\"", static_cast<int>(*k)));
    } else if (is_event_kind(f.kind)) {
      p.sql.add("r.kind = 1");
      p.terms.push_back(quoted_tag("pwn", f.kind, store.schema_version()));
      p.sql.add("r.name = ?", f.kind);
    } else {
      return Error{ErrorKind::kInvalidArgument, fmt::format("unknown kind '{}'", f.kind),
                   fmt::format("use one of: {}", kinds_list())};
    }
  }
  if (!f.name.empty()) {
    p.terms.push_back(quoted_tag("pwn", f.name, store.schema_version()));
    p.sql.add("r.name = ?", f.name);
  }
  add_subject(p, store.schema_version(), f.user, f.host, f.role, f.cluster);
  if (!f.session.empty()) {
    p.terms.push_back(quoted_tag("pws", f.session, store.schema_version()));
    p.sql.add("r.session = ?", f.session);
  }
  if (auto s = add_time(store, p, f.since_ns, f.until_ns); !s) return s.error();
  auto no_host = unknown_host(store, f.host);
  if (!no_host) return no_host.error();
  if (*no_host) p.empty = true;
  if (f.min_severity >= 0) p.sql.add("r.severity >= ?", static_cast<int64_t>(f.min_severity));
  if (p.empty) return std::vector<Row>{};
  finish(p);
  Sql& q = p.sql;
  const std::string order = p.terms.empty() ? "r.seq DESC" : "records_fts.rowid DESC";
  // Session versions: fetch more so that "latest only" still fills the limit.
  const bool dedupe = f.latest_sessions;
  const size_t fetch = f.limit;
  const std::string sql = fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT ?", kRowColumns,
                                      q.from, q.where, order);
  auto st = Stmt::prepare(store.db(), sql);
  if (!st) return st.error();
  bind_all(*st, q.binds);
  st->bind(static_cast<int>(q.binds.size()) + 1,
           static_cast<int64_t>(dedupe ? fetch * 4 + 16 : fetch));
  std::vector<Row> rows;
  std::set<std::string> seen_sessions;
  BodyDecoder decoder(store.db());
  int rc;
  while (rows.size() < f.limit && (rc = st->step()) == SQLITE_ROW) {
    Row row = read_row(*st, decoder);
    if (dedupe && row.kind == RecordKind::kSession && !seen_sessions.insert(row.ref).second) {
      continue;
    }
    rows.push_back(std::move(row));
  }
  if (rows.size() < f.limit && rc != SQLITE_DONE) {
    Error e = sqlite_error(store.db(), rc, "search");
    if (!p.terms.empty() && e.kind != ErrorKind::kCorrupt) {
      e.kind = ErrorKind::kInvalidArgument;
      e.hint = "the text query could not be used: search for plain words or \"a phrase\"";
    }
    return e;
  }
  return rows;
}

Result<Report> build_report(const Store& store, const ReportQuery& q) {
  Report rep;
  rep.query = q;
  if (!q.user.empty()) rep.subject = "user " + q.user;
  if (!q.host.empty()) rep.subject += (rep.subject.empty() ? "" : ", ") + ("host " + q.host);
  if (!q.role.empty()) rep.subject += (rep.subject.empty() ? "" : ", ") + ("role " + q.role);
  if (!q.cluster.empty()) {
    rep.subject += (rep.subject.empty() ? "" : ", ") + ("cluster " + q.cluster);
  }
  if (auto s = check_schema(store); !s) return s.error();
  // One query per section: the subject (and the record kind) as index tags, the period as a
  // seq range.
  Plan period;
  if (auto s = add_time(store, period, q.since_ns, q.until_ns); !s) return s.error();
  auto no_host = unknown_host(store, q.host);
  if (!no_host) return no_host.error();
  if (*no_host) period.empty = true;
  auto base = [&](std::vector<std::string> kind_terms) {
    Plan p = period;
    add_subject(p, store.schema_version(), q.user, q.host, q.role, q.cluster);
    if (!p.terms.empty()) {
      for (auto& t : kind_terms) p.terms.push_back(std::move(t));
    }
    return p;
  };
  auto run = [&](Plan p, const std::string& select, const std::string& tail,
                 const std::function<void(const Stmt&)>& each) -> Status {
    if (p.empty) return {};
    finish(p);
    const Sql& s = p.sql;
    auto st = Stmt::prepare(
        store.db(), fmt::format("SELECT {} FROM {} WHERE {} {}", select, s.from, s.where, tail));
    if (!st) return st.error();
    bind_all(*st, s.binds);
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) each(*st);
    if (rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "report");
    return {};
  };

  // Events by kind.
  {
    Plan s = base({});
    s.sql.add("r.kind = 1");
    if (auto st = run(s, "r.name, count(*)", "GROUP BY r.name ORDER BY 2 DESC",
                      [&](const Stmt& st) {
                        rep.events_by_kind.push_back(
                            {std::string(st.text(0)), static_cast<uint64_t>(st.int64(1))});
                        rep.events += static_cast<uint64_t>(st.int64(1));
                      });
        !st) {
      return st.error();
    }
  }
  // Sessions (latest version of each).
  {
    Plan s = base({"\"pwk2\""});
    s.sql.add("r.kind = 2 AND r.kind <> 1");
    std::map<std::string, Report::Session> latest;
    std::vector<std::string> order;
    if (auto st = run(s, "r.ref, r.body", "ORDER BY r.seq",
                      [&](const Stmt& st) {
                        const std::string id(st.text(0));
                        const auto j = nlohmann::json::parse(st.text(1), nullptr, false);
                        if (j.is_discarded()) return;
                        Report::Session x;
                        x.id = id;
                        const auto& el =
                            j.value("/process/entry_leader"_json_pointer, nlohmann::json::object());
                        x.type = el.value("/entry_meta/type"_json_pointer, "");
                        x.user = el.value("/user/name"_json_pointer, "");
                        x.human = j.value("/privwatch/human"_json_pointer, "");
                        x.host = j.value("/host/name"_json_pointer, "");
                        x.client_ip = el.value("/entry_meta/source/ip"_json_pointer, "");
                        x.tty = el.value("/tty/char_device/name"_json_pointer, "");
                        x.start = j.value("/session/start"_json_pointer, "");
                        x.end = j.value("/session/end"_json_pointer, "");
                        x.active = j.value("/session/active"_json_pointer, false);
                        if (!latest.count(id)) order.push_back(id);
                        latest[id] = std::move(x);
                      });
        !st) {
      return st.error();
    }
    for (const auto& id : order) rep.sessions.push_back(latest[id]);
  }
  // Escalations: transition records, and commands run with escalated credentials.
  {
    Plan s = base({"\"pwk4\""});
    s.sql.add("r.kind = 4 AND r.kind <> 1");
    if (auto st =
            run(s, "r.ts, r.name, r.user, r.human, r.session, r.text", "ORDER BY r.seq LIMIT 1000",
                [&](const Stmt& st) {
                  rep.escalations.push_back({static_cast<uint64_t>(st.int64(0)),
                                             std::string(st.text(1)), std::string(st.text(2)),
                                             std::string(st.text(3)), std::string(st.text(4)),
                                             std::string(st.text(5))});
                });
        !st) {
      return st.error();
    }
  }
  // Alerts.
  {
    Plan s = base({"\"pwk3\""});
    s.sql.add("r.kind = 3 AND r.kind <> 1");
    std::map<int, uint64_t> by_sev;
    if (auto st =
            run(s, "r.ts, r.severity, r.name, r.body, r.session", "ORDER BY r.seq DESC",
                [&](const Stmt& st) {
                  ++rep.alerts_total;
                  const int sev = static_cast<int>(st.int64(1));
                  ++by_sev[sev];
                  if (rep.alerts.size() < q.top * 5) {
                    const auto j = nlohmann::json::parse(st.text(3), nullptr, false);
                    rep.alerts.push_back({static_cast<uint64_t>(st.int64(0)), severity_name(sev),
                                          std::string(st.text(2)),
                                          j.is_discarded() ? std::string() : j.value("message", ""),
                                          std::string(st.text(4))});
                  }
                });
        !st) {
      return st.error();
    }
    for (auto it = by_sev.rbegin(); it != by_sev.rend(); ++it) {
      rep.alerts_by_severity.push_back({severity_name(it->first), it->second});
    }
  }
  // Commands: top, escalated, off hours.
  {
    Plan s = base({quoted_tag("pwn", "exec", store.schema_version())});
    s.sql.add("r.kind = 1 AND r.name = 'exec'");
    std::unordered_map<std::string, uint64_t> all, esc, off;
    std::map<std::string, uint64_t> days;
    if (auto st = run(s, "r.ts, r.text, r.flags", "",
                      [&](const Stmt& st) {
                        const uint64_t ts = static_cast<uint64_t>(st.int64(0));
                        // The executable is the first word of an exec's text (bodies are
                        // compressed).
                        const std::string_view text = st.text(1);
                        std::string exe(text.substr(0, text.find(' ')));
                        if (exe.empty()) exe = "(unknown)";
                        ++rep.commands;
                        ++all[exe];
                        if ((st.int64(2) & kRecEscalated) != 0) {
                          ++rep.escalated_commands;
                          ++esc[exe];
                        }
                        const time_t t = static_cast<time_t>(ts / 1'000'000'000ull);
                        tm tmv{};
                        if (q.utc) {
                          gmtime_r(&t, &tmv);
                        } else {
                          localtime_r(&t, &tmv);
                        }
                        const bool weekend = tmv.tm_wday == 0 || tmv.tm_wday == 6;
                        if (weekend || tmv.tm_hour < q.work_start_hour ||
                            tmv.tm_hour >= q.work_end_hour) {
                          ++rep.off_hours_commands;
                          ++off[exe];
                          char day[16];
                          std::strftime(day, sizeof day, "%Y-%m-%d", &tmv);
                          ++days[day];
                        }
                      });
        !st) {
      return st.error();
    }
    auto top = [&](const std::unordered_map<std::string, uint64_t>& m) {
      std::vector<ReportCount> v;
      for (const auto& [k, n] : m) v.push_back({k, n});
      std::sort(v.begin(), v.end(), [](const ReportCount& a, const ReportCount& b) {
        return a.count != b.count ? a.count > b.count : a.key < b.key;
      });
      if (v.size() > q.top) v.resize(q.top);
      return v;
    };
    rep.top_commands = top(all);
    rep.top_escalated_commands = top(esc);
    rep.top_off_hours_commands = top(off);
    for (const auto& [d, n] : days) rep.off_hours_days.push_back({d, n});
  }
  return rep;
}

std::string report_markdown(const Report& r) {
  std::string o;
  const auto& q = r.query;
  o += fmt::format("# privwatch report: {}\n\n", r.subject);
  o += fmt::format("Period: {} to {}. Working hours: {:02}:00–{:02}:00 {}, Monday to Friday.\n\n",
                   q.since_ns ? util::format_rfc3339_ns(q.since_ns) : "the beginning",
                   q.until_ns ? util::format_rfc3339_ns(q.until_ns) : "now", q.work_start_hour,
                   q.work_end_hour, q.utc ? "UTC" : "local time");
  o += "## Summary\n\n";
  o += fmt::format("- events: {}", r.events);
  for (const auto& c : r.events_by_kind)
    o += fmt::format("{} {} {}", &c == &r.events_by_kind[0] ? " (" : ",", c.key, c.count);
  o += r.events_by_kind.empty() ? "\n" : ")\n";
  o += fmt::format("- sessions: {}\n- commands: {} ({} with escalated privileges, {} off hours)\n",
                   r.sessions.size(), r.commands, r.escalated_commands, r.off_hours_commands);
  o +=
      fmt::format("- escalations recorded: {}\n- alerts: {}", r.escalations.size(), r.alerts_total);
  for (const auto& c : r.alerts_by_severity) {
    o += fmt::format("{} {} {}", &c == &r.alerts_by_severity[0] ? " (" : ",", c.key, c.count);
  }
  o += r.alerts_by_severity.empty() ? "\n\n" : ")\n\n";
  o += "## Sessions\n\n";
  if (r.sessions.empty()) {
    o += "None.\n\n";
  } else {
    o += "| session | type | user | human | host | from | start | end "
         "|\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& s : r.sessions) {
      o += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", s.id, s.type, s.user, s.human,
                       s.host, s.client_ip, s.start, s.active ? "active" : s.end);
    }
    o += "\n";
  }
  o += "## Escalations\n\n";
  if (r.escalations.empty() && r.top_escalated_commands.empty()) o += "None.\n\n";
  for (const auto& e : r.escalations) {
    o += fmt::format("- {} {} → {} ({}) {}\n", util::format_rfc3339_ns(e.wall_ns), e.human, e.user,
                     e.name, e.text);
  }
  if (!r.top_escalated_commands.empty()) {
    o += "\nCommands run with escalated privileges:\n\n| command | count |\n|---|---|\n";
    for (const auto& c : r.top_escalated_commands)
      o += fmt::format("| `{}` | {} |\n", c.key, c.count);
    o += "\n";
  }
  o += "## Alerts\n\n";
  if (r.alerts.empty()) {
    o += "None.\n\n";
  } else {
    o += "| time | severity | rule | message |\n|---|---|---|---|\n";
    for (const auto& a : r.alerts) {
      o += fmt::format("| {} | {} | {} | {} |\n", util::format_rfc3339_ns(a.wall_ns), a.severity,
                       a.rule, a.title);
    }
    o += "\n";
  }
  o += "## Top commands\n\n";
  if (r.top_commands.empty()) {
    o += "None.\n\n";
  } else {
    o += "| command | count |\n|---|---|\n";
    for (const auto& c : r.top_commands) o += fmt::format("| `{}` | {} |\n", c.key, c.count);
    o += "\n";
  }
  o += "## Off-hours activity\n\n";
  if (r.off_hours_commands == 0) {
    o += "None.\n";
  } else {
    o += fmt::format("{} commands outside working hours.\n\n| command | count |\n|---|---|\n",
                     r.off_hours_commands);
    for (const auto& c : r.top_off_hours_commands)
      o += fmt::format("| `{}` | {} |\n", c.key, c.count);
    o += "\n| day | commands |\n|---|---|\n";
    for (const auto& c : r.off_hours_days) o += fmt::format("| {} | {} |\n", c.key, c.count);
  }
  return o;
}

std::string report_json(const Report& r) {
  using nlohmann::json;
  auto counts = [](const std::vector<ReportCount>& v) {
    json a = json::array();
    for (const auto& c : v) a.push_back({{"key", c.key}, {"count", c.count}});
    return a;
  };
  json j;
  const auto& q = r.query;
  j["subject"] = {{"user", q.user}, {"host", q.host}, {"role", q.role}, {"cluster", q.cluster}};
  j["period"] = {{"since", q.since_ns ? util::format_rfc3339_ns(q.since_ns) : ""},
                 {"until", q.until_ns ? util::format_rfc3339_ns(q.until_ns) : ""},
                 {"work_hours", fmt::format("{:02}-{:02}", q.work_start_hour, q.work_end_hour)},
                 {"timezone", q.utc ? "UTC" : "local"}};
  j["events"] = {{"total", r.events}, {"by_kind", counts(r.events_by_kind)}};
  json ss = json::array();
  for (const auto& s : r.sessions) {
    ss.push_back({{"id", s.id},
                  {"type", s.type},
                  {"user", s.user},
                  {"human", s.human},
                  {"host", s.host},
                  {"client_ip", s.client_ip},
                  {"tty", s.tty},
                  {"start", s.start},
                  {"end", s.end},
                  {"active", s.active}});
  }
  j["sessions"] = ss;
  json es = json::array();
  for (const auto& e : r.escalations) {
    es.push_back({{"time", util::format_rfc3339_ns(e.wall_ns)},
                  {"method", e.name},
                  {"user", e.user},
                  {"human", e.human},
                  {"session", e.session},
                  {"text", e.text}});
  }
  j["escalations"] = {{"transitions", es},
                      {"escalated_commands", r.escalated_commands},
                      {"top_escalated_commands", counts(r.top_escalated_commands)}};
  json as = json::array();
  for (const auto& a : r.alerts) {
    as.push_back({{"time", util::format_rfc3339_ns(a.wall_ns)},
                  {"severity", a.severity},
                  {"rule", a.rule},
                  {"message", a.title},
                  {"session", a.session}});
  }
  j["alerts"] = {
      {"total", r.alerts_total}, {"by_severity", counts(r.alerts_by_severity)}, {"latest", as}};
  j["commands"] = {{"total", r.commands}, {"top", counts(r.top_commands)}};
  j["off_hours"] = {{"commands", r.off_hours_commands},
                    {"top_commands", counts(r.top_off_hours_commands)},
                    {"by_day", counts(r.off_hours_days)}};
  return j.dump(2) + "\n";
}

}  // namespace privwatch::store
