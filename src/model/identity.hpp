// Who is behind an event: sessions, entry leaders, escalations, roles, clusters, service
// accounts and containers. Filled by enrich (inventory, containers) and session (tracker);
// read by detect, store and export. Depends on nothing but the event model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace privwatch::model {

inline constexpr uint32_t kUnsetId = 4294967295u;  // audit loginuid / sessionid "unset"

// Process identity: pids are reused, (pid, start time) is not.
struct ProcessKey {
  uint32_t pid = 0;
  uint64_t start_ticks = 0;  // start time in clock ticks since boot (as /proc/<pid>/stat)
  friend bool operator==(const ProcessKey&, const ProcessKey&) = default;
};

// Boot-time nanoseconds → clock ticks (USER_HZ = 100 on Linux), the granularity /proc offers.
[[nodiscard]] constexpr uint64_t ns_to_ticks(uint64_t ns) { return ns / 10'000'000ull; }

// How a session was entered (ECS process.entry_leader.entry_meta.type where one exists).
enum class EntryType : uint8_t {
  kUnknown = 0,
  kSsh,        // sshd session (client address known)
  kConsole,    // login(1) on a console / serial / virtual terminal
  kTerminal,   // a terminal multiplexer or emulator session (tmux, screen) nested in another
  kContainer,  // docker/containerd/CRI-O exec, nsenter, kubectl exec as seen on the node
  kCron,       // cron / anacron / atd job
  kSystemd,    // a systemd service (or init-started daemon)
  kSu,         // su / su - (a nested session of the target user)
  kSudo,       // sudo -i / sudo -s (an interactive escalated shell nested in the session)
  kInit,       // kernel threads, PID 1, processes older than any known entry
};
[[nodiscard]] std::string_view to_string(EntryType t);

// How privileges changed.
enum class EscalationMethod : uint8_t {
  kUnknown = 0,
  kSudo,
  kSu,
  kPkexec,
  kDoas,
  kSetuidBinary,  // exec of a setuid/setgid file
  kSetuidCall,    // setuid()/setresuid()/setgid()... by the process itself
  kCapset,        // capset() adding capabilities
};
[[nodiscard]] std::string_view to_string(EscalationMethod m);

struct ContainerInfo {
  std::string id;       // full container id (64 hex) when known
  std::string runtime;  // docker, containerd, cri-o, podman, lxc
  std::string name;     // from the runtime socket when available, else empty
  std::string image;
  std::string pod_uid;  // Kubernetes pod uid (kubepods cgroups)
  std::string pod_name, k8s_namespace, k8s_service_account;
  [[nodiscard]] bool empty() const { return id.empty() && pod_uid.empty(); }
};

// A session: everything under one entry leader. Owned by the session tracker; events hold a
// shared pointer to an immutable snapshot or to the live object (read-only for consumers).
struct Session {
  uint32_t version = 0;   // 1 at start, +1 on every change (the store keeps the latest)
  std::string id;         // stable, unique across reboots: "<boot-id prefix>-<pid>-<start ticks>"
  std::string parent_id;  // enclosing session (su -, sudo -i, tmux inside ssh), "" for none
  EntryType entry_type = EntryType::kUnknown;
  ProcessKey leader;
  std::string leader_exe;
  std::vector<std::string> leader_args;
  uint64_t start_wall_ns = 0, end_wall_ns = 0;  // end 0 while active
  uint64_t changed_wall_ns = 0;  // time of the event behind the latest version (0: unknown)
  uint32_t loginuid = kUnsetId, audit_session = kUnsetId;
  uint32_t uid = 0;   // uid of the entry leader (the user the session runs as)
  std::string user;   // that user's name
  std::string human;  // the human identity (loginuid name), or the service account owner
  std::vector<std::string> roles;
  std::string service_account;  // non-empty for non-human sessions matched by the inventory
  std::string host, cluster;
  std::string client_ip;  // SSH client
  uint16_t client_port = 0;
  std::string tty;
  ContainerInfo container;
  bool interactive = false;  // has a terminal
  // Kernel-side losses observed while the session was active (events dropped by the ring
  // buffer cannot be attributed to a session, so every session active at the time is marked).
  uint64_t lost_events = 0;
  [[nodiscard]] bool incomplete() const { return lost_events != 0; }
};

// A privilege transition: who became whom, how, with which command. Emitted by the session
// tracker when it is settled: on the target command's exec (success) or when the escalation
// tool exits without running one (failure: a wrong sudo password, a refused su).
struct Escalation {
  uint64_t wall_ns = 0;
  uint64_t event_seq = 0;  // the event that settled it (exec of the command, exit of the tool)
  std::string session_id;
  EscalationMethod method = EscalationMethod::kUnknown;
  bool success = true;
  int exit_status = 0;  // failure: the tool's exit status
  uint32_t from_uid = 0, to_uid = 0;
  std::string from_user, to_user;
  std::string human;   // loginuid user
  ProcessKey process;  // the process that ran the command (or the tool, on failure)
  std::string tool;    // executable of the tool (/usr/bin/sudo) or of the process
  std::vector<std::string> tool_args;
  std::string command;  // executable that ran with the new identity
  std::vector<std::string> command_args;
  std::string host;
};

// Declared-profile drift and access-grant violations (flags on an event).
inline constexpr uint32_t kDriftExecutable = 1u << 0;   // service account ran an undeclared exe
inline constexpr uint32_t kDriftFile = 1u << 1;         // touched an undeclared file area
inline constexpr uint32_t kDriftDestination = 1u << 2;  // connected to an undeclared destination
inline constexpr uint32_t kDriftShell = 1u << 3;        // opened an interactive shell
inline constexpr uint32_t kDriftNoGrant = 1u << 4;      // privileged activity outside any grant

// Attribution of one event: filled by enrich + session before detection.
struct Attribution {
  std::string host;
  std::string cluster;
  std::string human;  // the human behind the action (loginuid user), or the SA owner
  std::vector<std::string> roles;
  std::string service_account;
  std::shared_ptr<const Session> session;  // null when unknown
  bool escalated = false;                  // running with other credentials than the session's user
  EscalationMethod escalation = EscalationMethod::kUnknown;  // how, when escalated
  ContainerInfo container;
  uint32_t drift = 0;        // kDrift*
  std::string drift_reason;  // "declared: /usr/bin/psql, /usr/bin/pg_dump; ran: /usr/bin/bash"
};

}  // namespace privwatch::model
