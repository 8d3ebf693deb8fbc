// Sessions over the store: the list behind `privwatch sessions` and the detail behind
// `privwatch session show ID` (docs/sessions.md "Sessions in the store"). Read only; every read
// is bounded (a limit on sessions, on records per session, on counted records) and the result
// says when a bound cut it short.
//
// A session is stored as versions (RecordKind::kSession, ref = session id, the newest wins);
// its events, alerts and escalations carry its id in the indexed `session` column. Nested
// sessions (sudo -i, su -, tmux panes, container exec) name their parent in the body
// (`session.parent_id`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "util/result.hpp"

namespace privwatch::store {

// ---------------------------------------------------------------------------------------------
// The list

struct SessionFilter {
  std::string user;  // the session's user (entry leader's) or the human behind it
  std::string host;
  std::string role, cluster;  // the record's indexed roles / cluster columns
  bool active_only = false;   // no end recorded
  // Sessions active at some time in [since, until): started before until, and ended at or
  // after since (or not ended). 0 = open.
  uint64_t since_ns = 0, until_ns = 0;
  size_t limit = 50;
  // Records of one session read to count its commands, alerts and escalations.
  size_t count_cap = 50000;
};

struct SessionSummary {
  std::string id, parent_id, type;
  std::string user, human, host, cluster, service_account;
  std::vector<std::string> roles;
  std::string client_ip;
  uint32_t client_port = 0;
  uint32_t leader_pid = 0;
  uint64_t leader_start_ticks = 0;
  std::string leader_exe;
  std::vector<std::string> leader_args;
  std::string tty;
  int64_t login_uid = -1, audit_session = -1;  // -1: unset
  std::string container_id, container_name, container_image, pod_uid, pod_name, k8s_namespace;
  uint64_t start_ns = 0, end_ns = 0;  // end 0 while active
  bool active = false, interactive = false, incomplete = false;
  // False when the session ended while privwatch was not running (end = at or before).
  bool end_observed = true;
  uint64_t lost_events = 0;
  uint64_t version = 0;  // session.version of the newest stored version
  uint64_t seq = 0;      // that record's sequence number
  std::string body;      // that record's JSON

  // From the session's own records (not its nested sessions'); filled by list_sessions.
  struct Counts {
    uint64_t records = 0;       // records read (at most count_cap)
    uint64_t commands = 0;      // programs run (successful execs)
    uint64_t failed_execs = 0;  // exec attempts that failed (PATH lookups, typos, EACCES)
    uint64_t alerts = 0;
    uint64_t escalations = 0, failed_escalations = 0;
    std::vector<std::string> escalated_to;  // distinct target users of successful escalations
    bool capped = false;                    // more records than count_cap: counts are minimums
  } counts;
};

struct SessionList {
  std::vector<SessionSummary> sessions;  // newest start first
  bool truncated = false;                // more sessions matched than the limit
};

// The sessions most recently active (started, changed or ended) that match, newest start first.
[[nodiscard]] Result<SessionList> list_sessions(const Store& store, const SessionFilter& filter);

// A session id or an unambiguous prefix of one → the full id. kNotFound when none matches,
// kInvalidArgument (listing some candidates) when several do.
[[nodiscard]] Result<std::string> resolve_session_id(const Store& store, const std::string& id);

// Lets SQLite map the database file instead of copying pages on every read: listing sessions
// reads one table row per stored session version, spread over the whole file (~40 % less CPU
// measured, bench/RESULTS.md §11). For one-shot readers (the CLI).
void map_for_scans(const Store& store);

// The newest stored version of a session; nullopt when there is none.
[[nodiscard]] Result<std::optional<SessionSummary>> load_session(const Store& store,
                                                                 const std::string& id);

// Parses a stored session body (and the record's columns as fallbacks). False when the body is
// not a session JSON object.
[[nodiscard]] bool parse_session_body(const std::string& body, SessionSummary& out);

// ---------------------------------------------------------------------------------------------
// The detail

struct SessionDetailOptions {
  bool nested = true;   // include the sessions nested in it (recursively)
  size_t limit = 5000;  // records read (events + alerts + escalations + responses), oldest first
  size_t max_nested = 256;
};

struct ExecStep {  // one exec of a process (a process may exec several programs)
  uint64_t wall_ns = 0;
  std::string executable;
  std::vector<std::string> args;
  std::string cwd;
  std::string user, real_user, human;  // effective user, real user, the human behind it
  bool escalated = false;
  bool failed = false;
  std::string error;  // failed exec: errno name
};

struct ProcessNode {
  std::string entity_id;  // "<pid>-<start ticks>"
  uint32_t pid = 0, ppid = 0;
  std::string parent_entity_id;
  std::string session_id;  // the session its (first) events belong to
  uint64_t start_ns = 0;   // process.start (or first seen)
  std::string name;        // executable (last exec) or the process's executable when it never
                           // exec'd here (a forked copy of its parent)
  std::string user, human;
  std::vector<ExecStep> execs;
  bool exited = false;
  uint64_t exit_ns = 0;
  int exit_code = 0;  // as a shell reports it: status, or 128 + signal
  int exit_signal = 0;
  std::string signal_name;
  bool core_dumped = false;
  uint64_t files = 0, network = 0;  // events of this process
  bool leader = false;              // the entry leader of a session shown
  std::vector<ProcessNode> children;
};

struct FileAccess {
  uint64_t wall_ns = 0;
  std::string action, path, target_path, user, session_id, error;
  uint32_t pid = 0;
  bool write = false, sensitive = false, failed = false;
};

struct NetConnection {
  uint64_t wall_ns = 0;
  std::string action, transport, source_ip, destination_ip, unix_path, user, session_id, error;
  uint32_t source_port = 0, destination_port = 0, pid = 0;
  bool failed = false;
};

struct EscalationEntry {
  uint64_t wall_ns = 0;
  std::string method, from_user, to_user, human, session_id;
  std::string tool, command;
  std::vector<std::string> tool_args, command_args;
  bool success = true;
  int exit_status = 0;
  uint32_t pid = 0;
};

struct AlertEntry {
  uint64_t wall_ns = 0;
  std::string id, rule, severity, message, session_id;
};

struct ResponseEntry {
  uint64_t wall_ns = 0;
  std::string id, action, result, origin, actor, reason, rule, session_id;
  std::vector<uint32_t> pids;
};

struct OtherEvent {  // cred, ptrace, module, bpf, mount, signal...
  uint64_t wall_ns = 0;
  std::string kind, action, detail, user, session_id;
  uint32_t pid = 0;
  bool failed = false;
};

struct SessionDetail {
  SessionSummary session;
  std::vector<SessionSummary> nested;  // descendants, in start order (parent_id says where)
  bool nested_truncated = false;
  std::vector<ProcessNode> processes;  // roots of the process forest, start order
  std::vector<EscalationEntry> escalations;
  std::vector<FileAccess> files;
  std::vector<NetConnection> network;
  std::vector<AlertEntry> alerts;
  std::vector<ResponseEntry> responses;
  std::vector<OtherEvent> other;
  struct Counts {
    uint64_t records_total = 0;  // records of the sessions shown (all kinds but tty)
    uint64_t records_read = 0;
    uint64_t events = 0, processes = 0;
    uint64_t commands = 0, failed_execs = 0;  // successful / failed execs
  } counts;
  bool truncated = false;  // records_total > records_read: the newest records were left out
  size_t limit = 0;
};

// kNotFound when the store has no such session (`id` must be a full id: see
// resolve_session_id).
[[nodiscard]] Result<SessionDetail> session_detail(const Store& store, const std::string& id,
                                                   const SessionDetailOptions& opts);

// RFC 3339 with a zone ("2026-11-22T04:50:01.81Z", fraction optional; the contract is
// util::parse_rfc3339's) → epoch ns; 0 when it is not one or is before 1970.
[[nodiscard]] uint64_t parse_rfc3339_ns(std::string_view text);

}  // namespace privwatch::store
