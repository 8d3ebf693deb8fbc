// The session stage: which session every event belongs to, who the human behind it is, and
// which privilege transitions led to it (DESIGN.md §5, docs/sessions.md).
//
// A session is everything under one entry leader. Entry leaders are recognised from what the
// kernel reports, not from log files:
//   - a new audit session id (pam_loginuid on login: sshd, login, cron) starts a login
//     session; its type comes from the program that started it (sshd → sshd, cron → cron,
//     login/getty → console); an sshd session takes its client address from the connection
//     the listening sshd accepted just before forking it;
//   - a process in another pid namespace than its parent, or nsenter, starts a container
//     session (docker/containerd/CRI-O exec, kubectl exec as seen on the node);
//   - a child of PID 1 without a login id is a service;
//   - an interactive shell started by sudo/su/doas/pkexec, or by tmux/screen, starts a nested
//     session whose parent is the session it came from.
// Everything else inherits its parent's session (fork events, or lazily through the process
// table for processes the kernel did not report a fork for).
//
// Escalations: the exec of sudo/su/doas/pkexec opens a pending escalation on that process; it
// settles as a success when it (or a child) execs with the new identity, as a failure when the
// tool exits without doing so. Setuid binaries and setuid()/capset() calls that gain root or
// capabilities are escalations too.
//
// One per pipeline thread; no locks, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "enrich/process_table.hpp"
#include "enrich/users.hpp"
#include "model/event.hpp"
#include "model/identity.hpp"

namespace privwatch::session {

// Receives session changes and escalations, in event order, on the pipeline thread.
class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void session_changed(const model::Session& s) = 0;  // start, losses, end
  virtual void escalation(const model::Escalation& e) = 0;
};

struct TrackerOptions {
  std::string host;     // this host's name
  std::string boot_id;  // /proc/sys/kernel/random/boot_id (makes session ids unique across boots)
  size_t max_processes = 65536;  // bound on tracked processes (evictions counted)
  size_t max_sessions = 16384;   // bound on live sessions kept (oldest ended first)
  // How long an ended session stays known (late events of its processes).
  uint64_t ended_grace_ns = 30'000'000'000ull;
  // Called as a session starts, before it is reported: the pipeline fills roles, cluster and
  // service account from the inventory (`ev` is the event that started it, null when the
  // session was found through the process table).
  std::function<void(model::Session&, const model::Event*)> attribute;
};

struct TrackerStats {
  size_t processes = 0;
  size_t sessions_active = 0;
  uint64_t sessions_started = 0;
  uint64_t sessions_ended = 0;
  uint64_t escalations = 0;
  uint64_t escalations_failed = 0;
  uint64_t process_evictions = 0;
  uint64_t session_evictions = 0;
};

// Reads boot_id (first 8 hex digits), "" when unreadable.
[[nodiscard]] std::string read_boot_id(const std::string& path = "/proc/sys/kernel/random/boot_id");

class SessionTracker {
 public:
  // table and users belong to the enricher that runs before this stage (same thread).
  SessionTracker(const enrich::ProcessTable& table, enrich::UserDirectory& users,
                 SessionObserver& observer, TrackerOptions opts);

  // Call after the enricher has processed ev. Fills ev.attr.session, human, host, escalated
  // and escalation; may report session changes and escalations to the observer.
  void process(model::Event& ev);

  // The kernel lost `n` events (ring buffer full) around wall time `wall_ns`: every active
  // session is marked incomplete with the count (losses cannot be attributed to one).
  void note_losses(uint64_t n);

  [[nodiscard]] TrackerStats stats() const;
  // The session a live process belongs to, null when unknown.
  [[nodiscard]] std::shared_ptr<const model::Session> session_of(const model::ProcessKey& k) const;

 private:
  struct Pending {  // an escalation tool's attempt, not settled yet
    model::EscalationMethod method = model::EscalationMethod::kUnknown;
    uint32_t from_uid = 0;
    std::string tool;
    std::vector<std::string> tool_args;
  };
  struct ProcState {
    std::shared_ptr<model::Session> session;
    uint32_t audit_session = model::kUnsetId;
    uint32_t pidns = 0;
    std::string exe;  // image we last saw it run
    // Privilege: set once a process (or an ancestor) escalated, inherited by children.
    model::EscalationMethod escalation = model::EscalationMethod::kUnknown;
    std::shared_ptr<Pending> pending;  // shared with children until settled
    // sshd: the peer of the connection the listener accepted last (handed to the next fork,
    // which serves that connection and passes it on to its own children as client_*).
    std::string peer_ip;
    uint16_t peer_port = 0;
    std::string client_ip;
    uint16_t client_port = 0;
    uint64_t last_seen_ns = 0;
  };

  ProcState& state_for(const model::Event& ev, bool& created);
  ProcState* resolve(const model::ProcessKey& key, int depth);
  ProcState make_child_state(ProcState* parent, const model::ProcessKey& key,
                             const model::ProcessContext* pc, const enrich::ProcessInfo* info,
                             const model::Event* ev);
  std::shared_ptr<model::Session> start_session(model::EntryType type,
                                                const model::ProcessKey& leader,
                                                const std::shared_ptr<model::Session>& parent,
                                                const model::Event* ev,
                                                const enrich::ProcessInfo* info,
                                                const ProcState* client = nullptr);
  void on_exec(model::Event& ev, ProcState& st, const ProcState* parent);
  void on_exit(model::Event& ev, ProcState& st);
  void on_cred(model::Event& ev, ProcState& st);
  void on_net(const model::Event& ev, ProcState& st);
  void on_fork(const model::Event& ev, ProcState& st);
  void settle(model::Event& ev, ProcState& st, const Pending& p, bool success, int status);
  void changed(model::Session& s);  // version++, tell the observer
  void end_session(const std::shared_ptr<model::Session>& s, uint64_t wall_ns);
  void evict_processes();
  void expire_sessions(uint64_t wall_ns);

  const enrich::ProcessTable& table_;
  enrich::UserDirectory& users_;
  SessionObserver& observer_;
  TrackerOptions opts_;
  std::unordered_map<model::ProcessKey, ProcState, enrich::ProcessKeyHash> procs_;
  // Sessions by id while active (and for ended_grace_ns after they end).
  std::unordered_map<std::string, std::shared_ptr<model::Session>> sessions_;
  // Login sessions by audit session id (weak: the sessions map and processes own them).
  std::unordered_map<uint32_t, std::weak_ptr<model::Session>> logins_;
  uint64_t next_expire_wall_ns_ = 0;
  uint64_t now_wall_ns_ = 0;
  TrackerStats stats_;
};

}  // namespace privwatch::session
