#include "store/session_query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "store/codec.hpp"
#include "store/sqlite.hpp"
#include "util/json_path.hpp"
#include "util/time.hpp"

namespace privwatch::store {

namespace {

using nlohmann::json;
using Bind = std::variant<int64_t, std::string>;

constexpr int64_t kSession = static_cast<int64_t>(RecordKind::kSession);

void bind_all(Stmt& st, const std::vector<Bind>& binds, int first = 1) {
  int i = first;
  for (const auto& b : binds) {
    if (const auto* n = std::get_if<int64_t>(&b)) {
      st.bind(i++, *n);
    } else {
      st.bind_text(i++, std::get<std::string>(b), true);
    }
  }
}

// --- tolerant JSON access (bodies come from several producers; a wrong type is "absent") ---

const json* at(const json& j, std::initializer_list<const char*> path) {
  return util::json_at(j, path);
}

std::string str_at(const json& j, std::initializer_list<const char*> path) {
  const json* p = at(j, path);
  if (p == nullptr) return {};
  if (p->is_string()) return p->get<std::string>();
  if (p->is_number_integer()) return std::to_string(p->get<int64_t>());
  return {};
}

int64_t int_at(const json& j, std::initializer_list<const char*> path, int64_t fallback = 0) {
  const json* p = at(j, path);
  if (p == nullptr) return fallback;
  if (p->is_number_integer()) return p->get<int64_t>();
  if (p->is_number_unsigned()) return static_cast<int64_t>(p->get<uint64_t>());
  if (p->is_string()) {
    const std::string& s = p->get_ref<const std::string&>();
    char* end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (end != s.c_str() && *end == '\0') return v;
  }
  return fallback;
}

bool bool_at(const json& j, std::initializer_list<const char*> path, bool fallback = false) {
  const json* p = at(j, path);
  return p != nullptr && p->is_boolean() ? p->get<bool>() : fallback;
}

std::vector<std::string> strings_at(const json& j, std::initializer_list<const char*> path) {
  std::vector<std::string> out;
  const json* p = at(j, path);
  if (p == nullptr) return out;
  if (p->is_string()) {
    out.push_back(p->get<std::string>());
  } else if (p->is_array()) {
    for (const auto& x : *p) {
      if (x.is_string()) out.push_back(x.get<std::string>());
    }
  }
  return out;
}

uint64_t time_at(const json& j, std::initializer_list<const char*> path) {
  const json* p = at(j, path);
  return p != nullptr && p->is_string() ? parse_rfc3339_ns(p->get_ref<const std::string&>()) : 0;
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

std::vector<std::string> split_roles(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size() && !s.empty()) {
    const size_t c = s.find(',', i);
    const auto part = s.substr(i, c == std::string_view::npos ? std::string_view::npos : c - i);
    if (!part.empty()) add_unique(out, std::string(part));
    if (c == std::string_view::npos) break;
    i = c + 1;
  }
  return out;
}

// Reads the body column (TEXT, or a compressed BLOB).
std::string body_of(const Stmt& st, int col, BodyDecoder& decoder) {
  if (st.is_blob(col)) {
    std::string out;
    if (auto d = decoder.decode(st.blob(col), &out); !d) {
      return json({{"error", d.error().message}}).dump();
    }
    return out;
  }
  return std::string(st.text(col));
}

// Session row columns: seq, ts, user, human, host, roles, cluster, body.
constexpr const char* kSessionColumns =
    "r.seq, r.ts, r.user, r.human, r.host, r.roles, r.cluster, r.body";

bool session_from_row(const Stmt& st, BodyDecoder& decoder, SessionSummary& s) {
  s = SessionSummary{};
  const std::string body = body_of(st, 7, decoder);
  if (!parse_session_body(body, s)) return false;
  s.seq = static_cast<uint64_t>(st.int64(0));
  // The indexed columns fill what the body leaves out (producers that add roles or a cluster
  // to the record, not to the JSON).
  if (s.user.empty()) s.user = std::string(st.text(2));
  if (s.human.empty()) s.human = std::string(st.text(3));
  if (s.host.empty()) s.host = std::string(st.text(4));
  for (auto& r : split_roles(st.text(5))) add_unique(s.roles, r);
  if (s.cluster.empty()) s.cluster = std::string(st.text(6));
  return true;
}

Error not_found(const Store& store, const std::string& id) {
  return Error{ErrorKind::kNotFound, fmt::format("no session '{}' in {}", id, store.path()),
               "list the sessions with `privwatch sessions` (an unambiguous prefix of an id is "
               "enough)"};
}

}  // namespace

uint64_t parse_rfc3339_ns(std::string_view t) { return util::parse_rfc3339_ns(t).value_or(0); }

bool parse_session_body(const std::string& body, SessionSummary& s) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  const json* ses = at(j, {"session"});
  if (ses == nullptr || !ses->is_object()) return false;
  s.id = str_at(*ses, {"id"});
  if (s.id.empty()) return false;
  s.parent_id = str_at(*ses, {"parent_id"});
  s.active = bool_at(*ses, {"active"});
  s.interactive = bool_at(*ses, {"interactive"});
  s.lost_events = static_cast<uint64_t>(std::max<int64_t>(0, int_at(*ses, {"lost_events"})));
  s.incomplete = bool_at(*ses, {"incomplete"}) || s.lost_events != 0;
  if (const auto it = ses->find("end_observed"); it != ses->end() && it->is_boolean()) {
    s.end_observed = it->get<bool>();
  }
  s.version = static_cast<uint64_t>(std::max<int64_t>(0, int_at(*ses, {"version"})));
  s.start_ns = time_at(*ses, {"start"});
  if (s.start_ns == 0) s.start_ns = time_at(j, {"@timestamp"});
  s.end_ns = time_at(*ses, {"end"});
  if (s.end_ns != 0) s.active = false;
  const json* el = at(j, {"process", "entry_leader"});
  static const json kEmpty = json::object();
  if (el == nullptr) el = &kEmpty;
  s.type = str_at(*ses, {"type"});
  if (s.type.empty()) s.type = str_at(*el, {"entry_meta", "type"});
  s.leader_pid = static_cast<uint32_t>(int_at(*el, {"pid"}));
  s.leader_start_ticks = static_cast<uint64_t>(std::max<int64_t>(0, int_at(*el, {"start_ticks"})));
  if (s.leader_start_ticks == 0) {  // events carry entity_id "<pid>-<ticks>" instead
    const std::string e = str_at(*el, {"entity_id"});
    if (const size_t dash = e.find('-'); dash != std::string::npos) {
      s.leader_start_ticks = std::strtoull(e.c_str() + dash + 1, nullptr, 10);
    }
  }
  s.leader_exe = str_at(*el, {"executable"});
  s.leader_args = strings_at(*el, {"args"});
  s.client_ip = str_at(*el, {"entry_meta", "source", "ip"});
  s.client_port = static_cast<uint32_t>(int_at(*el, {"entry_meta", "source", "port"}));
  s.user = str_at(*el, {"user", "name"});
  s.tty = str_at(*el, {"tty", "char_device", "name"});
  s.login_uid = int_at(j, {"process", "audit", "login_uid"}, -1);
  s.audit_session = int_at(j, {"process", "audit", "session_id"}, -1);
  s.human = str_at(j, {"privwatch", "human"});
  s.host = str_at(j, {"host", "name"});
  for (const auto& r : strings_at(j, {"privwatch", "roles"})) add_unique(s.roles, r);
  for (const auto& r : strings_at(j, {"user", "roles"})) add_unique(s.roles, r);
  s.cluster = str_at(j, {"privwatch", "cluster"});
  if (s.cluster.empty()) s.cluster = str_at(j, {"privwatch", "cluster", "name"});
  if (s.cluster.empty()) s.cluster = str_at(j, {"orchestrator", "cluster", "name"});
  s.service_account = str_at(j, {"privwatch", "service_account"});
  if (s.service_account.empty())
    s.service_account = str_at(j, {"privwatch", "service_account", "name"});
  s.container_id = str_at(j, {"container", "id"});
  s.container_name = str_at(j, {"container", "name"});
  s.container_image = str_at(j, {"container", "image", "name"});
  s.k8s_namespace = str_at(j, {"orchestrator", "namespace"});
  s.pod_uid = str_at(j, {"orchestrator", "resource", "id"});
  s.pod_name = str_at(j, {"orchestrator", "resource", "name"});
  s.body = body;
  return true;
}

void map_for_scans(const Store& store) {
  (void)sqlite3_exec(store.db(), "PRAGMA mmap_size = 1073741824", nullptr, nullptr, nullptr);
}

Result<std::optional<SessionSummary>> load_session(const Store& store, const std::string& id) {
  auto st = Stmt::prepare(store.db(), fmt::format("SELECT {} FROM records r WHERE r.ref = ? AND "
                                                  "r.kind = {} ORDER BY r.seq DESC LIMIT 1",
                                                  kSessionColumns, kSession));
  if (!st) return st.error();
  st->bind_text(1, id, true);
  BodyDecoder decoder(store.db());
  const int rc = st->step();
  if (rc == SQLITE_DONE) return std::optional<SessionSummary>();
  if (rc != SQLITE_ROW) return sqlite_error(store.db(), rc, "session");
  SessionSummary s;
  if (!session_from_row(*st, decoder, s)) {
    return Error{ErrorKind::kCorrupt,
                 fmt::format("session '{}' in {}: its newest record (seq {}) is not a session "
                             "JSON document",
                             id, store.path(), st->int64(0)),
                 "check the store with `privwatch verify`"};
  }
  return std::optional<SessionSummary>(std::move(s));
}

Result<std::string> resolve_session_id(const Store& store, const std::string& id) {
  if (id.empty()) {
    return Error{ErrorKind::kInvalidArgument, "no session id given",
                 "name a session: privwatch session show ID (see privwatch sessions)"};
  }
  auto exact = load_session(store, id);
  if (!exact) return exact.error();
  if (*exact) return id;
  // A prefix: the ref index range [id, id with its last byte incremented).
  std::string upper = id;
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (!upper.empty())
    upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  auto st = Stmt::prepare(
      store.db(),
      fmt::format("SELECT DISTINCT r.ref FROM records r INDEXED BY records_ref WHERE r.ref >= ? {} "
                  "AND r.kind = {} "
                  "ORDER BY r.ref LIMIT 6",
                  upper.empty() ? "" : "AND r.ref < ?", kSession));
  if (!st) return st.error();
  st->bind_text(1, id, true);
  if (!upper.empty()) st->bind_text(2, upper, true);
  std::vector<std::string> found;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) found.emplace_back(st->text(0));
  if (rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "session");
  if (found.empty()) return not_found(store, id);
  if (found.size() == 1) return found[0];
  std::string list;
  for (size_t i = 0; i < found.size() && i < 5; ++i) list += (i ? ", " : "") + found[i];
  return Error{ErrorKind::kInvalidArgument,
               fmt::format("session id prefix '{}' is ambiguous: {}{}", id, list,
                           found.size() > 5 ? ", ..." : ""),
               "give more of the id"};
}

// --- the list --------------------------------------------------------------------------------

namespace {

// Counts over one session's own records (bounded).
Status count_session(const Store& store, size_t cap, SessionSummary& s) {
  auto st = Stmt::prepare(store.db(), fmt::format("SELECT r.kind, r.name, r.user, r.flags FROM {} "
                                                  "ORDER BY f.rowid LIMIT ?3",
                                                  kSessionRecordsFrom));
  if (!st) return st.error();
  const std::string match =
      session_match(s.id, store.schema_version());  // bound SQLITE_STATIC: outlives the steps
  st->bind_text(1, match);
  st->bind_text(2, s.id, true);
  st->bind(3, static_cast<int64_t>(cap) + 1);
  auto& c = s.counts;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    if (c.records == cap) {
      c.capped = true;
      break;
    }
    ++c.records;
    const auto kind = static_cast<RecordKind>(st->int64(0));
    const bool failed = (st->int64(3) & kRecFailed) != 0;
    if (kind == RecordKind::kEvent && st->text(1) == "exec") {
      ++(failed ? c.failed_execs : c.commands);
    } else if (kind == RecordKind::kAlert) {
      ++c.alerts;
    } else if (kind == RecordKind::kEscalation) {
      ++c.escalations;
      if (failed) {
        ++c.failed_escalations;
      } else {
        add_unique(c.escalated_to, std::string(st->text(2)));
      }
    }
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "sessions");
  return {};
}

}  // namespace

Result<SessionList> list_sessions(const Store& store, const SessionFilter& f) {
  // Only the newest version of each session, filtered on its indexed columns. The walk is
  // newest first over session records only: one stream per entry type (the (kind, name) index
  // keeps each type in sequence order), merged by sequence number; it stops at the limit.
  std::string where = fmt::format("r.kind = {}", kSession);
  std::vector<Bind> binds;
  if (!f.user.empty()) {
    where += " AND (r.user = ? OR r.human = ?)";
    binds.emplace_back(f.user);
    binds.emplace_back(f.user);
  }
  if (!f.host.empty()) {
    where += " AND r.host = ?";
    binds.emplace_back(f.host);
  }
  if (!f.cluster.empty()) {
    where += " AND r.cluster = ?";
    binds.emplace_back(f.cluster);
  }
  if (!f.role.empty()) {
    // The roles column holds the roles joined by ','.
    where += " AND instr(',' || r.roles || ',', ',' || ? || ',') > 0";
    binds.emplace_back(f.role);
  }
  // Active: the record's flags say it (the JSON for records written before the flags).
  const std::string active = fmt::format(
      "((r.flags & {0}) = {1} OR ((r.flags & {0}) = 0 AND typeof(r.body) = 'text' AND "
      "json_valid(r.body) AND json_extract(r.body, '$.session.active') = 1))",
      kRecSessionActive | kRecSessionEnded, kRecSessionActive);
  if (f.active_only) where += " AND " + active;
  if (f.since_ns != 0) {
    // The newest version of an ended session is its end.
    where += fmt::format(" AND (r.ts >= ? OR {})", active);
    binds.emplace_back(static_cast<int64_t>(f.since_ns));
  }
  if (f.until_ns != 0) {
    // Started before until: some version was written before it (the first is written at the
    // start; a minute of slack for the writer's delay). The start itself is checked below.
    const int64_t bound = static_cast<int64_t>(f.until_ns + 60'000'000'000ull);
    where += fmt::format(
        " AND (r.ts < ? OR EXISTS (SELECT 1 FROM records v WHERE v.ref = r.ref AND v.kind = {} "
        "AND v.ts < ?))",
        kSession);
    binds.emplace_back(bound);
    binds.emplace_back(bound);
  }

  // Last (the cheap column tests reject most rows first): the newest version only.
  where += fmt::format(
      " AND NOT EXISTS (SELECT 1 FROM records n WHERE n.ref = r.ref AND n.kind = {0} AND "
      "n.seq > r.seq)",
      kSession);

  // The entry types present (index seeks).
  std::vector<std::optional<std::string>> names;
  {
    // `kind <> 1` lets SQLite use the partial (kind, name) index (records_kind_name); without
    // it these were full scans of the table (~0.9 s over a million events).
    auto st = Stmt::prepare(store.db(), fmt::format("SELECT 1 FROM records WHERE kind <> 1 AND "
                                                    "kind = {} AND name IS NULL LIMIT 1",
                                                    kSession));
    if (!st) return st.error();
    int rc = st->step();
    if (rc == SQLITE_ROW) names.emplace_back(std::nullopt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "sessions");
    auto next = Stmt::prepare(store.db(), fmt::format("SELECT min(name) FROM records WHERE kind <> "
                                                      "1 AND kind = {} AND name > ?",
                                                      kSession));
    if (!next) return next.error();
    std::string after;
    for (int guard = 0; guard < 1000; ++guard) {
      next->reset();
      next->bind_text(1, after, true);
      rc = next->step();
      if (rc != SQLITE_ROW) return sqlite_error(store.db(), rc, "sessions");
      if (next->is_null(0)) break;
      after = std::string(next->text(0));
      names.emplace_back(after);
    }
  }

  struct Stream {
    Stmt st;
    bool live = false;
    // The stream's order: newest change first, as the (kind, ts) index gives it — ordering by
    // seq instead made SQLite sort every session version before the first row.
    int64_t ts = 0;
    int64_t seq = 0;
  };
  std::vector<Stream> streams;
  for (const auto& n : names) {
    auto st =
        Stmt::prepare(store.db(), fmt::format("SELECT {} FROM records r INDEXED BY records_kind "
                                              "WHERE r.kind <> 1 AND {} AND r.name {} "
                                              "ORDER BY r.ts DESC, r.seq DESC",
                                              kSessionColumns, where, n ? "= ?" : "IS NULL"));
    if (!st) return st.error();
    bind_all(*st, binds);
    if (n) st->bind_text(static_cast<int>(binds.size()) + 1, *n, true);
    streams.push_back(Stream{std::move(*st)});
  }
  auto advance = [&](Stream& s) -> Status {
    const int rc = s.st.step();
    if (rc == SQLITE_ROW) {
      s.live = true;
      s.seq = s.st.int64(0);
      s.ts = s.st.int64(1);
      return {};
    }
    s.live = false;
    if (rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "sessions");
    return {};
  };
  for (auto& s : streams) {
    if (auto a = advance(s); !a) return a.error();
  }

  SessionList out;
  BodyDecoder decoder(store.db());
  while (true) {
    Stream* best = nullptr;
    for (auto& s : streams) {
      if (s.live &&
          (best == nullptr || s.ts > best->ts || (s.ts == best->ts && s.seq > best->seq))) {
        best = &s;
      }
    }
    if (best == nullptr) break;
    SessionSummary s;
    const bool ok = session_from_row(best->st, decoder, s);
    if (auto a = advance(*best); !a) return a.error();
    if (!ok) continue;
    // Filters on the body: started before until; ended at or after since (or active).
    if (f.until_ns != 0 && s.start_ns >= f.until_ns) continue;
    if (f.since_ns != 0 && !s.active && s.end_ns != 0 && s.end_ns < f.since_ns) continue;
    if (f.active_only && !s.active) continue;
    if (out.sessions.size() == f.limit) {
      out.truncated = true;
      break;
    }
    out.sessions.push_back(std::move(s));
  }
  for (auto& s : out.sessions) {
    if (auto c = count_session(store, f.count_cap, s); !c) return c.error();
  }
  std::stable_sort(
      out.sessions.begin(), out.sessions.end(),
      [](const SessionSummary& a, const SessionSummary& b) { return a.start_ns > b.start_ns; });
  return out;
}

// --- the detail ------------------------------------------------------------------------------

namespace {

struct RawRow {
  uint64_t seq = 0, ts = 0;
  RecordKind kind = RecordKind::kEvent;
  std::string name, session, user, body;
  uint32_t flags = 0;
};

constexpr const char* kRowColumns =
    "r.seq, r.ts, r.kind, r.name, r.session, r.user, r.flags, r.body";

RawRow read_raw(const Stmt& st, BodyDecoder& decoder) {
  RawRow r;
  r.seq = static_cast<uint64_t>(st.int64(0));
  r.ts = static_cast<uint64_t>(st.int64(1));
  r.kind = static_cast<RecordKind>(st.int64(2));
  r.name = st.text(3);
  r.session = st.text(4);
  r.user = st.text(5);
  r.flags = static_cast<uint32_t>(st.int64(6));
  r.body = body_of(st, 7, decoder);
  return r;
}

// Entry types that never have a parent (logins and services, session/tracker.cpp): their
// records are skipped in the index, before the table is read.
constexpr const char* kTopLevelTypes = "'sshd', 'console', 'cron', 'service', 'unknown', 'init'";

// Nested sessions: session records in the parent's time window that name a parent. The window
// is walked through the time index when it holds few records, else through the session
// records (kind index).
Status find_nested(const Store& store, const SessionSummary& root, size_t max_nested,
                   std::vector<std::string>& ids, bool& truncated) {
  constexpr uint64_t kSlackNs = 60'000'000'000ull;
  const int64_t from =
      static_cast<int64_t>(root.start_ns > kSlackNs ? root.start_ns - kSlackNs : 0);
  const int64_t to =
      root.active || root.end_ns == 0 ? INT64_MAX : static_cast<int64_t>(root.end_ns + kSlackNs);
  auto st = Stmt::prepare(
      store.db(),
      fmt::format("SELECT DISTINCT r.ref, json_extract(r.body, '$.session.parent_id') FROM records "
                  "r INDEXED BY records_kind WHERE r.kind <> 1 AND r.kind = {} AND r.name NOT IN "
                  "({}) AND r.ts >= ? AND "
                  "r.ts <= ? AND "
                  "typeof(r.body) = 'text' AND instr(r.body, 'parent_id') > 0 AND "
                  "json_valid(r.body) AND json_extract(r.body, '$.session.parent_id') IS NOT NULL",
                  kSession, kTopLevelTypes));
  if (!st) return st.error();
  st->bind(1, from);
  st->bind(2, to);
  std::unordered_map<std::string, std::vector<std::string>> children;
  int rc = SQLITE_OK;
  while ((rc = st->step()) == SQLITE_ROW) {
    children[std::string(st->text(1))].emplace_back(st->text(0));
  }
  if (rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "session");
  std::unordered_set<std::string> seen{root.id};
  std::queue<std::string> todo;
  todo.push(root.id);
  while (!todo.empty()) {
    auto it = children.find(todo.front());
    todo.pop();
    if (it == children.end()) continue;
    std::sort(it->second.begin(), it->second.end());
    for (const auto& c : it->second) {
      if (!seen.insert(c).second) continue;
      if (ids.size() == max_nested) {
        truncated = true;
        return {};
      }
      ids.push_back(c);
      todo.push(c);
    }
  }
  return {};
}

std::string entity_of(uint32_t pid, uint64_t ticks) { return fmt::format("{}-{}", pid, ticks); }

struct TreeBuilder {
  std::vector<ProcessNode> nodes;  // flat; children linked by index below
  std::unordered_map<std::string, size_t> by_entity;
  std::vector<uint64_t> first_seq;

  ProcessNode& get(const std::string& entity, uint64_t seq) {
    auto [it, fresh] = by_entity.emplace(entity, nodes.size());
    if (fresh) {
      nodes.emplace_back();
      nodes.back().entity_id = entity;
      first_seq.push_back(seq);
      if (const size_t dash = entity.find('-'); dash != std::string::npos) {
        nodes.back().pid = static_cast<uint32_t>(std::strtoul(entity.c_str(), nullptr, 10));
      }
    }
    return nodes[it->second];
  }

  // Roots (no known parent) with their subtrees, each level in start order.
  std::vector<ProcessNode> forest() {
    const size_t n = nodes.size();
    std::vector<std::vector<size_t>> kids(n);
    std::vector<bool> has_parent(n, false);
    for (size_t i = 0; i < n; ++i) {
      auto it = by_entity.find(nodes[i].parent_entity_id);
      if (nodes[i].parent_entity_id.empty() || it == by_entity.end() || it->second == i) continue;
      kids[it->second].push_back(i);
      has_parent[i] = true;
    }
    auto order = [&](size_t a, size_t b) {
      const uint64_t sa = nodes[a].start_ns, sb = nodes[b].start_ns;
      if (sa != sb && sa != 0 && sb != 0) return sa < sb;
      return first_seq[a] < first_seq[b];
    };
    std::vector<bool> placed(n, false);
    // Iterative construction (deep trees must not overflow the stack): post-order.
    std::vector<ProcessNode> built(n);
    auto build = [&](size_t root) {
      std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
      placed[root] = true;
      std::sort(kids[root].begin(), kids[root].end(), order);
      while (!stack.empty()) {
        auto& [i, next] = stack.back();
        if (next < kids[i].size()) {
          const size_t c = kids[i][next++];
          if (placed[c]) continue;  // a cycle in inconsistent data
          placed[c] = true;
          std::sort(kids[c].begin(), kids[c].end(), order);
          stack.emplace_back(c, 0);
          continue;
        }
        ProcessNode node = std::move(nodes[i]);
        for (size_t c : kids[i]) {
          if (!built[c].entity_id.empty()) node.children.push_back(std::move(built[c]));
        }
        built[i] = std::move(node);
        stack.pop_back();
      }
    };
    std::vector<size_t> roots;
    for (size_t i = 0; i < n; ++i) {
      if (!has_parent[i]) roots.push_back(i);
    }
    std::sort(roots.begin(), roots.end(), order);
    std::vector<ProcessNode> out;
    for (size_t r : roots) {
      build(r);
      out.push_back(std::move(built[r]));
    }
    for (size_t i = 0; i < n; ++i) {  // parts of a cycle: shown as roots rather than lost
      if (!placed[i]) {
        build(i);
        out.push_back(std::move(built[i]));
      }
    }
    return out;
  }
};

void add_event(const RawRow& row, const json& j, TreeBuilder& tb, SessionDetail& d) {
  const std::string kind =
      str_at(j, {"privwatch", "kind"}).empty() ? row.name : str_at(j, {"privwatch", "kind"});
  const std::string action = str_at(j, {"event", "action"});
  const bool failed = str_at(j, {"event", "outcome"}) == "failure";
  const uint64_t t = row.ts;
  const uint32_t pid = static_cast<uint32_t>(int_at(j, {"process", "pid"}));
  const std::string session = str_at(j, {"privwatch", "session", "id"}).empty()
                                  ? row.session
                                  : str_at(j, {"privwatch", "session", "id"});
  const std::string user = str_at(j, {"process", "user", "name"}).empty()
                               ? row.user
                               : str_at(j, {"process", "user", "name"});
  ++d.counts.events;
  std::string entity = str_at(j, {"process", "entity_id"});
  if (entity.empty() && pid != 0) entity = fmt::format("{}-?", pid);
  ProcessNode* node = nullptr;
  if (!entity.empty()) {
    node = &tb.get(entity, row.seq);
    node->pid = pid;
    if (node->ppid == 0)
      node->ppid = static_cast<uint32_t>(int_at(j, {"process", "parent", "pid"}));
    if (node->parent_entity_id.empty()) {
      node->parent_entity_id = str_at(j, {"process", "parent", "entity_id"});
    }
    if (node->session_id.empty()) node->session_id = session;
    if (node->start_ns == 0) node->start_ns = time_at(j, {"process", "start"});
    if (node->start_ns == 0) node->start_ns = t;
    if (node->execs.empty() && node->name.empty()) {
      node->name = str_at(j, {"process", "executable"});
    }
    if (!user.empty()) node->user = user;
    const std::string human = str_at(j, {"privwatch", "human"});
    if (!human.empty()) node->human = human;
  }
  if (kind == "exec") {
    ExecStep e;
    e.wall_ns = t;
    e.failed = failed || bool_at(j, {"privwatch", "exec", "failed"});
    e.executable = e.failed ? str_at(j, {"privwatch", "exec", "attempted_path"})
                            : str_at(j, {"process", "executable"});
    if (e.executable.empty()) e.executable = str_at(j, {"privwatch", "exec", "filename"});
    e.args = strings_at(j, {"process", "args"});
    e.cwd = str_at(j, {"process", "working_directory"});
    e.user = user;
    e.real_user = str_at(j, {"user", "name"});
    e.human = str_at(j, {"privwatch", "human"});
    e.escalated = bool_at(j, {"privwatch", "escalated"});
    e.error = str_at(j, {"error", "code"});
    ++(e.failed ? d.counts.failed_execs : d.counts.commands);
    if (node != nullptr) {
      if (!e.failed) node->name = e.executable;
      node->execs.push_back(std::move(e));
    }
  } else if (kind == "exit") {
    if (node != nullptr) {
      node->exited = true;
      node->exit_ns = t;
      node->exit_signal = static_cast<int>(int_at(j, {"privwatch", "exit", "signal"}));
      node->exit_code = static_cast<int>(int_at(j, {"process", "exit_code"},
                                                node->exit_signal != 0
                                                    ? 128 + node->exit_signal
                                                    : int_at(j, {"privwatch", "exit", "status"})));
      node->signal_name = str_at(j, {"privwatch", "exit", "signal_name"});
      node->core_dumped = bool_at(j, {"privwatch", "exit", "core_dumped"});
    }
  } else if (kind == "fork") {
    const std::string child = str_at(j, {"privwatch", "fork", "child_entity_id"});
    if (!child.empty() && node != nullptr) {
      const std::string parent_entity = node->entity_id;
      const std::string parent_name = node->name;
      const std::string parent_user = node->user, parent_human = node->human;
      ProcessNode& c = tb.get(child, row.seq);  // may move `node`
      if (c.parent_entity_id.empty()) c.parent_entity_id = parent_entity;
      if (c.ppid == 0) c.ppid = pid;
      if (c.pid == 0) c.pid = static_cast<uint32_t>(int_at(j, {"privwatch", "fork", "child_pid"}));
      if (c.start_ns == 0) c.start_ns = time_at(j, {"privwatch", "fork", "child_start"});
      if (c.session_id.empty()) c.session_id = session;
      if (c.name.empty()) c.name = parent_name;
      if (c.user.empty()) c.user = parent_user;
      if (c.human.empty()) c.human = parent_human;
    }
  } else if (kind == "file") {
    if (node != nullptr) ++node->files;
    FileAccess f;
    f.wall_ns = t;
    f.action = action;
    f.path = str_at(j, {"file", "path"});
    if (f.path.empty()) f.path = str_at(j, {"privwatch", "file", "requested_path"});
    f.target_path = str_at(j, {"file", "target_path"});
    f.user = user;
    f.session_id = session;
    f.pid = pid;
    f.write = bool_at(j, {"privwatch", "file", "write"});
    f.sensitive = bool_at(j, {"privwatch", "sensitive"});
    f.failed = failed;
    f.error = str_at(j, {"error", "code"});
    d.files.push_back(std::move(f));
  } else if (kind == "net") {
    if (node != nullptr) ++node->network;
    NetConnection n;
    n.wall_ns = t;
    n.action = action;
    n.transport = str_at(j, {"network", "transport"});
    if (n.transport.empty()) n.transport = str_at(j, {"network", "type"});
    n.source_ip = str_at(j, {"source", "ip"});
    n.source_port = static_cast<uint32_t>(int_at(j, {"source", "port"}));
    n.destination_ip = str_at(j, {"destination", "ip"});
    n.destination_port = static_cast<uint32_t>(int_at(j, {"destination", "port"}));
    n.unix_path = str_at(j, {"privwatch", "net", "unix_path"});
    n.user = user;
    n.session_id = session;
    n.pid = pid;
    n.failed = failed;
    n.error = str_at(j, {"error", "code"});
    d.network.push_back(std::move(n));
  } else if (kind != "tty") {
    OtherEvent o;
    o.wall_ns = t;
    o.kind = kind;
    o.action = action;
    o.user = user;
    o.session_id = session;
    o.pid = pid;
    o.failed = failed;
    if (kind == "ptrace") {
      o.detail = fmt::format("{} pid {}", str_at(j, {"privwatch", "ptrace", "request_name"}),
                             int_at(j, {"privwatch", "ptrace", "target_pid"}));
    } else if (kind == "module") {
      o.detail = str_at(j, {"privwatch", "module", "name"});
    } else if (kind == "bpf") {
      o.detail = str_at(j, {"privwatch", "bpf", "cmd_name"}) + " " +
                 str_at(j, {"privwatch", "bpf", "prog_name"});
    } else if (kind == "mount") {
      o.detail = str_at(j, {"privwatch", "mount", "source"}) + " on " +
                 str_at(j, {"privwatch", "mount", "target"});
    } else if (kind == "cred") {
      const json* after = at(j, {"privwatch", "cred", "after"});
      if (after != nullptr) {
        o.detail = fmt::format("uid {} euid {}", int_at(*after, {"uid"}), int_at(*after, {"euid"}));
      }
    } else if (kind == "signal") {
      o.detail = str_at(j, {"privwatch", "signal", "name"});
    }
    d.other.push_back(std::move(o));
  }
}

void add_escalation(const RawRow& row, const json& j, SessionDetail& d) {
  EscalationEntry e;
  e.wall_ns = row.ts;
  e.method = str_at(j, {"privwatch", "escalation", "method"});
  if (e.method.empty()) e.method = row.name;
  e.success = str_at(j, {"event", "outcome"}) != "failure" && (row.flags & kRecFailed) == 0;
  e.exit_status = static_cast<int>(int_at(j, {"privwatch", "escalation", "exit_status"}));
  e.from_user = str_at(j, {"user", "name"});
  e.to_user = str_at(j, {"user", "target", "name"});
  if (e.to_user.empty()) e.to_user = row.user;
  e.human = str_at(j, {"privwatch", "human"});
  e.session_id = str_at(j, {"session", "id"}).empty() ? row.session : str_at(j, {"session", "id"});
  e.tool = str_at(j, {"privwatch", "escalation", "tool", "executable"});
  e.tool_args = strings_at(j, {"privwatch", "escalation", "tool", "args"});
  e.command = str_at(j, {"process", "executable"});
  e.command_args = strings_at(j, {"process", "args"});
  e.pid = static_cast<uint32_t>(int_at(j, {"process", "pid"}));
  d.escalations.push_back(std::move(e));
}

void add_alert(const RawRow& row, const json& j, SessionDetail& d) {
  AlertEntry a;
  a.wall_ns = row.ts;
  a.id = str_at(j, {"event", "id"});
  a.rule = str_at(j, {"rule", "name"});
  if (a.rule.empty()) a.rule = row.name;
  a.severity = str_at(j, {"privwatch", "severity"});
  a.message = str_at(j, {"message"});
  a.session_id = row.session;
  d.alerts.push_back(std::move(a));
}

void add_response(const RawRow& row, const json& j, SessionDetail& d) {
  ResponseEntry r;
  r.wall_ns = row.ts;
  r.id = str_at(j, {"event", "id"});
  r.action = str_at(j, {"privwatch", "action", "type"});
  if (r.action.empty()) r.action = str_at(j, {"event", "action"});
  if (r.action.empty()) r.action = row.name;
  r.result = str_at(j, {"privwatch", "action", "result"});
  if (r.result.empty()) r.result = str_at(j, {"event", "outcome"});
  r.origin = str_at(j, {"privwatch", "action", "origin"});
  r.actor = str_at(j, {"user", "name"});
  r.reason = str_at(j, {"event", "reason"});
  r.rule = str_at(j, {"rule", "name"});
  r.session_id = row.session;
  if (const json* p = at(j, {"privwatch", "action", "target", "pids"}); p && p->is_array()) {
    for (const auto& x : *p) {
      if (x.is_number_unsigned() || x.is_number_integer()) r.pids.push_back(x.get<uint32_t>());
    }
  }
  d.responses.push_back(std::move(r));
}

}  // namespace

Result<SessionDetail> session_detail(const Store& store, const std::string& id,
                                     const SessionDetailOptions& opts) {
  SessionDetail d;
  d.limit = opts.limit;
  auto root = load_session(store, id);
  if (!root) return root.error();
  if (!*root) return not_found(store, id);
  d.session = std::move(**root);

  std::vector<std::string> ids{d.session.id};
  if (opts.nested) {
    std::vector<std::string> nested;
    if (auto s = find_nested(store, d.session, opts.max_nested, nested, d.nested_truncated); !s) {
      return s.error();
    }
    for (const auto& n : nested) {
      auto ns = load_session(store, n);
      if (!ns) return ns.error();
      if (!*ns) continue;
      ids.push_back(n);
      d.nested.push_back(std::move(**ns));
    }
    std::stable_sort(
        d.nested.begin(), d.nested.end(),
        [](const SessionSummary& a, const SessionSummary& b) { return a.start_ns < b.start_ns; });
  }

  // The records of every session shown, oldest first, at most `limit` in all. Each session's
  // records stream in sequence order from the full-text index's session tag; the streams are
  // merged.
  const size_t limit = std::max<size_t>(opts.limit, 1);
  auto st = Stmt::prepare(store.db(),
                          fmt::format("SELECT {} FROM {} AND r.kind <> {} AND NOT (r.kind = 1 AND "
                                      "r.name IS 'tty') ORDER BY f.rowid LIMIT ?3",
                                      kRowColumns, kSessionRecordsFrom, kSession));
  if (!st) return st.error();
  BodyDecoder decoder(store.db());
  std::vector<RawRow> rows;
  bool hit_limit = false;
  for (const auto& sid : ids) {
    st->reset();
    const std::string match = session_match(sid, store.schema_version());
    st->bind_text(1, match);
    st->bind_text(2, sid, true);
    st->bind(3, static_cast<int64_t>(limit) + 1);
    size_t n = 0;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      if (n++ == limit) {
        hit_limit = true;
        break;
      }
      rows.push_back(read_raw(*st, decoder));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "session");
  }
  std::sort(rows.begin(), rows.end(),
            [](const RawRow& a, const RawRow& b) { return a.seq < b.seq; });
  if (rows.size() > limit) {
    rows.resize(limit);
    hit_limit = true;
  }
  d.counts.records_read = rows.size();
  d.counts.records_total = rows.size();
  if (hit_limit) {
    d.truncated = true;
    // How many there are (index only), and the alerts, escalations and responses past the
    // limit: few, and the part an analyst must not miss.
    auto cnt =
        Stmt::prepare(store.db(), fmt::format("SELECT count(*) FROM {}", kSessionRecordsFrom));
    if (!cnt) return cnt.error();
    uint64_t total = 0;
    for (const auto& sid : ids) {
      cnt->reset();
      const std::string match = session_match(sid, store.schema_version());
      cnt->bind_text(1, match);
      cnt->bind_text(2, sid, true);
      const int rc = cnt->step();
      if (rc != SQLITE_ROW) return sqlite_error(store.db(), rc, "session");
      total += static_cast<uint64_t>(cnt->int64(0));
    }
    d.counts.records_total = total;
    const uint64_t last = rows.empty() ? 0 : rows.back().seq;
    auto late = Stmt::prepare(
        store.db(),
        fmt::format(
            "SELECT {} FROM records r INDEXED BY records_kind WHERE r.kind <> 1 AND r.kind IN "
            "(3, 4, 6) AND r.session = ? AND r.seq > ? ORDER BY r.seq LIMIT 1000",
            kRowColumns));
    if (!late) return late.error();
    for (const auto& sid : ids) {
      late->reset();
      late->bind_text(1, sid, true);
      late->bind(2, static_cast<int64_t>(last));
      int rc;
      while ((rc = late->step()) == SQLITE_ROW) rows.push_back(read_raw(*late, decoder));
      if (rc != SQLITE_DONE) return sqlite_error(store.db(), rc, "session");
    }
    std::sort(rows.begin(), rows.end(),
              [](const RawRow& a, const RawRow& b) { return a.seq < b.seq; });
  }

  TreeBuilder tb;
  // Entry leaders first: every session shown has one, even when none of its events is stored.
  auto add_leader = [&](const SessionSummary& s) {
    if (s.leader_pid == 0) return;
    ProcessNode& n = tb.get(entity_of(s.leader_pid, s.leader_start_ticks), 0);
    n.leader = true;
    n.pid = s.leader_pid;
    if (n.session_id.empty()) n.session_id = s.id;
    if (n.start_ns == 0) n.start_ns = s.start_ns;
    if (n.name.empty()) n.name = s.leader_exe;
    if (n.user.empty()) n.user = s.user;
    if (n.human.empty()) n.human = s.human;
  };
  add_leader(d.session);
  for (const auto& s : d.nested) add_leader(s);

  for (const auto& row : rows) {
    const json j = json::parse(row.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    switch (row.kind) {
      case RecordKind::kEvent:
        add_event(row, j, tb, d);
        break;
      case RecordKind::kEscalation:
        add_escalation(row, j, d);
        break;
      case RecordKind::kAlert:
        add_alert(row, j, d);
        break;
      case RecordKind::kResponse:
        add_response(row, j, d);
        break;
      default:
        break;
    }
  }
  // A leader whose own start is known from its events keeps it; its session's leader flag
  // survives either way. Processes: every node.
  d.counts.processes = tb.nodes.size();
  d.processes = tb.forest();
  return d;
}

}  // namespace privwatch::store
