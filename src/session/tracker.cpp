#include "session/tracker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <string_view>
#include <variant>

namespace privwatch::session {

namespace {

using model::EntryType;
using model::EscalationMethod;

constexpr uint64_t kExpireIntervalNs = 1'000'000'000ull;
constexpr int kMaxResolveDepth = 64;

std::string_view basename_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

template <size_t N>
bool one_of(std::string_view s, const std::array<std::string_view, N>& names) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

constexpr std::array<std::string_view, 9> kShells = {"bash", "sh",   "dash", "zsh", "fish",
                                                     "ksh",  "tcsh", "csh",  "mksh"};
constexpr std::array<std::string_view, 3> kSshd = {"sshd", "sshd-session", "sshd-auth"};
constexpr std::array<std::string_view, 5> kCron = {"cron", "crond", "anacron", "atd", "fcron"};
constexpr std::array<std::string_view, 5> kConsole = {"login", "agetty", "getty", "mingetty",
                                                      "systemd-logind"};
constexpr std::array<std::string_view, 3> kMultiplexers = {"tmux", "screen", "tmux: server"};

EscalationMethod tool_method(std::string_view exe_base) {
  if (exe_base == "sudo" || exe_base == "sudoedit") return EscalationMethod::kSudo;
  if (exe_base == "su") return EscalationMethod::kSu;
  if (exe_base == "pkexec") return EscalationMethod::kPkexec;
  if (exe_base == "doas") return EscalationMethod::kDoas;
  return EscalationMethod::kUnknown;
}

EntryType login_entry_type(std::string_view self_exe, std::string_view parent_exe) {
  for (auto exe : {self_exe, parent_exe}) {
    const auto b = basename_of(exe);
    if (one_of(b, kSshd)) return EntryType::kSsh;
    if (one_of(b, kCron)) return EntryType::kCron;
    if (one_of(b, kConsole)) return EntryType::kConsole;
  }
  return EntryType::kUnknown;
}

// An interactive shell: a shell binary, not running a command string (-c) or a script file.
bool interactive_shell(std::string_view exe, const std::vector<std::string>& args) {
  if (!one_of(basename_of(exe), kShells)) return false;
  for (size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "-c" ||
        (a.size() > 1 && a[0] == '-' && a[1] != '-' && a.find('c') != std::string::npos))
      return false;
    if (!a.empty() && a[0] != '-') return false;  // a script
  }
  return true;
}

// The user an escalation tool was asked for: sudo -u USER / --user=USER, su [opts] USER;
// root by default.
std::string target_user(EscalationMethod m, const std::vector<std::string>& args) {
  if (m == EscalationMethod::kSudo || m == EscalationMethod::kDoas ||
      m == EscalationMethod::kPkexec) {
    for (size_t i = 1; i < args.size(); ++i) {
      const auto& a = args[i];
      if ((a == "-u" || a == "--user") && i + 1 < args.size()) return args[i + 1];
      if (a.rfind("--user=", 0) == 0) return a.substr(7);
      if (a.size() > 2 && a.rfind("-u", 0) == 0) return a.substr(2);
      if (!a.empty() && a[0] != '-') break;  // the command starts
    }
    return "root";
  }
  if (m == EscalationMethod::kSu) {
    for (size_t i = 1; i < args.size(); ++i) {
      const auto& a = args[i];
      if (a == "-c" || a == "--command" || a == "-s" || a == "--shell" || a == "-g" ||
          a == "--group" || a == "-G" || a == "--supp-group" || a == "-w" ||
          a == "--whitelist-environment") {
        ++i;
        continue;
      }
      if (a == "-" || a.empty() || a[0] == '-') continue;
      return a;
    }
    return "root";
  }
  return {};
}

}  // namespace

std::string read_boot_id(const std::string& path) {
  std::ifstream f(path);
  std::string id;
  if (!(f >> id)) return {};
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  return id.substr(0, 8);
}

SessionTracker::SessionTracker(const enrich::ProcessTable& table, enrich::UserDirectory& users,
                               SessionObserver& observer, TrackerOptions opts)
    : table_(table), users_(users), observer_(observer), opts_(std::move(opts)) {
  if (opts_.boot_id.empty()) opts_.boot_id = "00000000";
  if (opts_.max_processes == 0) opts_.max_processes = 1;
}

void SessionTracker::changed(model::Session& s) {
  ++s.version;
  s.changed_wall_ns = now_wall_ns_ != 0 ? now_wall_ns_ : s.start_wall_ns;
  observer_.session_changed(s);
}

std::shared_ptr<model::Session> SessionTracker::start_session(
    EntryType type, const model::ProcessKey& leader, const std::shared_ptr<model::Session>& parent,
    const model::Event* ev, const enrich::ProcessInfo* info, const ProcState* client) {
  std::string id = fmt::format("{}-{}-{}", opts_.boot_id, leader.pid, leader.start_ticks);
  if (auto it = sessions_.find(id); it != sessions_.end()) return it->second;
  auto s = std::make_shared<model::Session>();
  s->id = std::move(id);
  if (parent) s->parent_id = parent->id;
  s->entry_type = type;
  s->leader = leader;
  s->host = opts_.host;
  s->start_wall_ns = now_wall_ns_;
  if (ev != nullptr) {
    s->leader_exe = ev->exe;
    if (const auto* d = std::get_if<model::ExecData>(&ev->data); d != nullptr && !d->args.empty()) {
      s->leader_args = d->args;
    } else if (const auto* p = table_.find(leader)) {
      s->leader_args = p->args;
    }
    s->loginuid = ev->proc.loginuid;
    s->audit_session = ev->proc.sessionid;
    s->uid = ev->proc.uid;
    s->tty = ev->proc.tty;
  } else if (info != nullptr) {
    s->leader_exe = info->exe;
    s->leader_args = info->args;
    s->loginuid = info->loginuid;
    s->audit_session = info->sessionid;
    s->uid = info->uid;
  }
  s->interactive = !s->tty.empty();
  if (client != nullptr) {
    s->client_ip = client->client_ip;
    s->client_port = client->client_port;
  }
  // A login is the logged-in user's session even though its leader (sshd, login, cron) still
  // runs as root.
  if (s->loginuid != model::kUnsetId && (type == EntryType::kSsh || type == EntryType::kConsole ||
                                         type == EntryType::kCron || type == EntryType::kUnknown)) {
    s->uid = s->loginuid;
  }
  s->user = users_.user_name(s->uid);
  if (s->loginuid != model::kUnsetId) {
    s->human = users_.user_name(s->loginuid);
  } else if (parent) {
    s->human = parent->human;
  }
  if (opts_.attribute) opts_.attribute(*s, ev);
  sessions_.emplace(s->id, s);
  ++stats_.sessions_started;
  changed(*s);
  return s;
}

SessionTracker::ProcState SessionTracker::make_child_state(ProcState* parent,
                                                           const model::ProcessKey& key,
                                                           const model::ProcessContext* pc,
                                                           const enrich::ProcessInfo* info,
                                                           const model::Event* ev) {
  ProcState st;
  const uint32_t ppid = pc != nullptr ? pc->ppid : info->parent.pid;
  const uint32_t loginuid = pc != nullptr ? pc->loginuid : info->loginuid;
  st.audit_session = pc != nullptr ? pc->sessionid : info->sessionid;
  st.pidns = pc != nullptr ? pc->pidns : 0;
  if (info != nullptr) {
    st.exe = info->exe;
  } else if (const auto* p = table_.find(key)) {
    st.exe = p->exe;
  }
  if (key.pid == 1 || key.pid == 2 || ppid == 2 || ppid == 0) return st;  // init, kthreads
  if (parent != nullptr) {
    st.session = parent->session;
    st.escalation = parent->escalation;
    st.pending = parent->pending;
    if (!parent->peer_ip.empty()) {  // sshd: this child serves the connection just accepted
      st.client_ip = std::move(parent->peer_ip);
      st.client_port = parent->peer_port;
      parent->peer_ip.clear();
    } else {
      st.client_ip = parent->client_ip;
      st.client_port = parent->client_port;
    }
  }
  // A new audit session id: a login (pam_loginuid) — unless that login is already known and
  // this process merely lost its parent (a daemonised tmux server, a nohup'd job).
  if (st.audit_session != model::kUnsetId &&
      (parent == nullptr || parent->audit_session != st.audit_session)) {
    if (auto it = logins_.find(st.audit_session); it != logins_.end()) {
      if (auto login = it->second.lock(); login && login->end_wall_ns == 0) {
        st.session = std::move(login);
        return st;
      }
    }
    const auto type = login_entry_type(st.exe, parent != nullptr ? parent->exe : "");
    st.session = start_session(type, key, nullptr, ev, info, &st);
    logins_[st.audit_session] = st.session;
    st.escalation = EscalationMethod::kUnknown;
    return st;
  }
  // Another pid namespace than its parent: entering a container (or a container's init).
  if (parent != nullptr && parent->pidns != 0 && st.pidns != 0 && st.pidns != parent->pidns) {
    st.session = start_session(EntryType::kContainer, key, parent->session, ev, info);
    return st;
  }
  // A child of init without a login: a service.
  if (ppid == 1 && loginuid == model::kUnsetId) {
    st.session = start_session(EntryType::kSystemd, key, nullptr, ev, info);
  }
  return st;
}

SessionTracker::ProcState* SessionTracker::resolve(const model::ProcessKey& key, int depth) {
  if (auto it = procs_.find(key); it != procs_.end()) return &it->second;
  if (depth > kMaxResolveDepth) return nullptr;
  const enrich::ProcessInfo* info = table_.find(key);
  if (info == nullptr) return nullptr;
  ProcState* parent = resolve(info->parent, depth + 1);
  ProcState st = make_child_state(parent, key, nullptr, info, nullptr);
  return &procs_.emplace(key, std::move(st)).first->second;
}

SessionTracker::ProcState& SessionTracker::state_for(const model::Event& ev, bool& created) {
  const auto key = ev.proc.key();
  if (auto it = procs_.find(key); it != procs_.end()) {
    created = false;
    return it->second;
  }
  created = true;
  ProcState* parent = resolve(ev.proc.parent_key(), 0);
  ProcState st = make_child_state(parent, key, &ev.proc, nullptr, &ev);
  return procs_.emplace(key, std::move(st)).first->second;
}

void SessionTracker::settle(model::Event& ev, ProcState& st, const Pending& p, bool success,
                            int status) {
  model::Escalation e;
  e.wall_ns = ev.wall_time_ns;
  e.event_seq = ev.seq;
  if (st.session) e.session_id = st.session->id;
  e.method = p.method;
  e.success = success;
  e.exit_status = status;
  e.from_uid = p.from_uid;
  e.from_user = users_.user_name(p.from_uid);
  e.human = ev.proc.loginuid != model::kUnsetId ? users_.user_name(ev.proc.loginuid) : e.from_user;
  e.process = ev.proc.key();
  e.tool = p.tool;
  e.tool_args = p.tool_args;
  if (success) {
    e.to_uid = ev.proc.uid == p.from_uid ? ev.proc.euid : ev.proc.uid;
    e.to_user = users_.user_name(e.to_uid);
    if (const auto* d = std::get_if<model::ExecData>(&ev.data)) {
      e.command = d->exe_path;
      e.command_args = d->args;
    } else {
      e.command = st.exe;
    }
  } else {
    e.to_user = target_user(p.method, p.tool_args);
    e.to_uid = e.to_user == "root" ? 0 : model::kUnsetId;
  }
  e.host = opts_.host;
  ++stats_.escalations;
  if (!success) ++stats_.escalations_failed;
  observer_.escalation(e);
}

void SessionTracker::on_exec(model::Event& ev, ProcState& st, const ProcState* parent) {
  const auto* d = std::get_if<model::ExecData>(&ev.data);
  if (d == nullptr || d->result < 0 || (d->flags & model::kExecFailed) != 0) return;
  const std::string_view exe = d->exe_path;
  const auto base = basename_of(exe);
  const std::string previous = st.exe;
  const auto prev_base = basename_of(previous);
  const std::string_view parent_exe =
      parent != nullptr ? std::string_view(parent->exe) : std::string_view(ev.parent_exe);
  const auto parent_base = basename_of(parent_exe);

  // A pending escalation settles when the command runs under the new identity.
  EscalationMethod settled = EscalationMethod::kUnknown;
  if (st.pending && ev.proc.uid != st.pending->from_uid) {
    auto p = std::move(st.pending);  // children keep their own copy of the pointer
    settled = p->method;
    st.escalation = p->method;
    if (!p->tool.empty()) {  // first settle wins; the tool's exit then reports nothing
      settle(ev, st, *p, true, 0);
      p->tool.clear();
    }
  }
  // An escalation tool: open an attempt.
  if (const auto m = tool_method(base); m != EscalationMethod::kUnknown) {
    auto p = std::make_shared<Pending>();
    p->method = m;
    p->from_uid = ev.proc.uid;
    p->tool = d->exe_path;
    p->tool_args = d->args;
    st.pending = std::move(p);
  } else if ((d->flags & model::kExecSetuid) != 0 && ev.proc.euid != ev.proc.uid &&
             settled == EscalationMethod::kUnknown) {
    Pending p;
    p.method = EscalationMethod::kSetuidBinary;
    p.from_uid = ev.proc.uid;
    p.tool = d->exe_path;
    p.tool_args = d->args;
    st.escalation = EscalationMethod::kSetuidBinary;
    settle(ev, st, p, true, 0);
  }

  // Nested sessions: an interactive shell started by an escalation tool or a multiplexer.
  if (interactive_shell(exe, d->args) && !ev.proc.tty.empty()) {
    auto tool = tool_method(parent_base);
    if (tool == EscalationMethod::kUnknown) tool = tool_method(prev_base);
    if (tool == EscalationMethod::kUnknown) tool = settled;
    if (tool != EscalationMethod::kUnknown) {
      st.session = start_session(tool == EscalationMethod::kSu ? EntryType::kSu : EntryType::kSudo,
                                 ev.proc.key(), st.session, &ev, nullptr);
    } else if (one_of(parent_base, kMultiplexers) || parent_base.rfind("tmux", 0) == 0 ||
               (st.session && !st.session->tty.empty() && st.session->tty != ev.proc.tty &&
                st.session->leader != ev.proc.key())) {
      // A multiplexer's pane, or any interactive shell on another terminal than its
      // session's (tmux/screen servers are often unknown: daemonised, forks not reported).
      st.session = start_session(EntryType::kTerminal, ev.proc.key(), st.session, &ev, nullptr);
    }
  }
  // nsenter into a namespace (without a new pid namespace the pidns rule does not fire).
  if ((prev_base == "nsenter" || parent_base == "nsenter") && base != "nsenter" &&
      !(st.session && st.session->leader == ev.proc.key())) {
    st.session = start_session(EntryType::kContainer, ev.proc.key(), st.session, &ev, nullptr);
  }
  st.exe = d->exe_path;
}

void SessionTracker::on_exit(model::Event& ev, ProcState& st) {
  if (st.pending && !st.pending->tool.empty() &&
      basename_of(st.exe) == basename_of(st.pending->tool)) {
    // The tool itself exits without having run a command under the new identity.
    const auto* x = std::get_if<model::ExitData>(&ev.data);
    const int status = x != nullptr ? x->status() : 0;
    const int sig = x != nullptr ? x->signal() : 0;
    if (status != 0 || sig != 0) settle(ev, st, *st.pending, false, sig != 0 ? 128 + sig : status);
    st.pending->tool.clear();
  }
  if (st.session && st.session->leader == ev.proc.key() && st.session->end_wall_ns == 0) {
    end_session(st.session, ev.wall_time_ns);
  }
}

void SessionTracker::on_cred(model::Event& ev, ProcState& st) {
  const auto* c = std::get_if<model::CredData>(&ev.data);
  if (c == nullptr || c->result != 0 || !c->before_valid) return;
  if (st.pending) return;  // the escalation tool at work; it settles on exec
  // A process that held root in any of its uids (sshd dropping to the user and back, a
  // daemon's saved uid) regains nothing: only a gain beyond what it held is an escalation.
  const auto& b = c->before;
  if (b.uid == 0 || b.euid == 0 || b.suid == 0) return;
  EscalationMethod m = EscalationMethod::kUnknown;
  if (c->after.euid == 0 || c->after.uid == 0) {
    m = EscalationMethod::kSetuidCall;
  } else if ((c->after.cap_effective & ~b.cap_permitted & ~b.cap_effective) != 0) {
    m = EscalationMethod::kCapset;
  }
  if (m == EscalationMethod::kUnknown) return;
  Pending p;
  p.method = m;
  p.from_uid = c->before.uid;
  p.tool = st.exe;
  if (const auto* info = table_.find(ev.proc.key())) p.tool_args = info->args;
  st.escalation = m;
  settle(ev, st, p, true, 0);
}

void SessionTracker::on_net(const model::Event& ev, ProcState& st) {
  const auto* n = std::get_if<model::NetData>(&ev.data);
  if (n == nullptr || n->op != model::NetOp::kAccept || n->result < 0) return;
  if (!one_of(basename_of(st.exe), kSshd)) return;
  st.peer_ip = n->remote_ip();
  st.peer_port = n->remote_port;
}

void SessionTracker::on_fork(const model::Event& ev, ProcState& st) {
  const auto* f = std::get_if<model::ForkData>(&ev.data);
  if (f == nullptr) return;
  const model::ProcessKey child{f->child_pid, model::ns_to_ticks(f->child_start_ns)};
  if (procs_.count(child) != 0) return;
  // The child starts with the parent's context (credentials, audit ids, namespaces).
  model::ProcessContext pc = ev.proc;
  pc.ppid = ev.proc.pid;
  pc.pid = f->child_pid;
  ProcState cs = make_child_state(&st, child, &pc, nullptr, nullptr);
  if (cs.exe.empty()) cs.exe = st.exe;
  cs.last_seen_ns = ev.ts_ns;
  procs_.emplace(child, std::move(cs));
}

void SessionTracker::end_session(const std::shared_ptr<model::Session>& s, uint64_t wall_ns) {
  s->end_wall_ns = wall_ns != 0 ? wall_ns : 1;
  ++stats_.sessions_ended;
  changed(*s);
}

void SessionTracker::note_losses(uint64_t n) {
  if (n == 0) return;
  for (auto& [id, s] : sessions_) {
    if (s->end_wall_ns != 0) continue;
    s->lost_events += n;
    changed(*s);
  }
}

void SessionTracker::evict_processes() {
  if (procs_.size() <= opts_.max_processes) return;
  // Batch: drop the least recently seen tenth, so this O(n) pass runs rarely.
  const size_t target = opts_.max_processes - opts_.max_processes / 10;
  std::vector<std::pair<uint64_t, model::ProcessKey>> order;
  order.reserve(procs_.size());
  for (const auto& [k, st] : procs_) order.emplace_back(st.last_seen_ns, k);
  const size_t drop = procs_.size() - target;
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(drop), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < drop; ++i) procs_.erase(order[i].second);
  stats_.process_evictions += drop;
}

void SessionTracker::expire_sessions(uint64_t wall_ns) {
  for (auto it = logins_.begin(); it != logins_.end();) {
    it = it->second.expired() ? logins_.erase(it) : std::next(it);
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const auto& s = it->second;
    if (s->end_wall_ns != 0 && s->end_wall_ns + opts_.ended_grace_ns < wall_ns) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  if (sessions_.size() <= opts_.max_sessions) return;
  // Over the bound with live sessions: forget the oldest (their processes keep the pointer).
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [id, s] : sessions_) order.emplace_back(s->start_wall_ns, id);
  std::sort(order.begin(), order.end());
  const size_t drop = sessions_.size() - opts_.max_sessions;
  for (size_t i = 0; i < drop; ++i) sessions_.erase(order[i].second);
  stats_.session_evictions += drop;
}

void SessionTracker::process(model::Event& ev) {
  if (ev.wall_time_ns > now_wall_ns_) now_wall_ns_ = ev.wall_time_ns;
  evict_processes();
  bool created = false;
  ProcState& st = state_for(ev, created);
  st.last_seen_ns = ev.ts_ns;
  // The audit session id changed under a live process: it logged in (pam_loginuid).
  if (!created && ev.proc.sessionid != st.audit_session && ev.proc.sessionid != model::kUnsetId) {
    st.audit_session = ev.proc.sessionid;
    ProcState* parent = resolve(ev.proc.parent_key(), 0);
    st.session = start_session(login_entry_type(st.exe, parent != nullptr ? parent->exe : ""),
                               ev.proc.key(), nullptr, &ev, nullptr, &st);
    logins_[st.audit_session] = st.session;
    st.escalation = EscalationMethod::kUnknown;
  }

  switch (ev.kind) {
    case model::EventKind::kExec:
      on_exec(ev, st,
              procs_.count(ev.proc.parent_key()) != 0 ? &procs_.at(ev.proc.parent_key()) : nullptr);
      break;
    case model::EventKind::kFork:
      on_fork(ev, st);
      break;
    case model::EventKind::kCred:
      on_cred(ev, st);
      break;
    case model::EventKind::kNet:
      on_net(ev, st);
      break;
    default:
      break;
  }

  // A session becomes interactive when one of its processes has a terminal.
  if (st.session && !st.session->interactive && !ev.proc.tty.empty() &&
      st.session->end_wall_ns == 0) {
    st.session->interactive = true;
    st.session->tty = ev.proc.tty;
    changed(*st.session);
  }

  model::Attribution& a = ev.attr;
  a.host = opts_.host;
  a.session = st.session;
  a.escalation = st.escalation;
  a.escalated = st.escalation != EscalationMethod::kUnknown ||
                (ev.proc.loginuid != model::kUnsetId && ev.proc.euid != ev.proc.loginuid);
  if (ev.proc.loginuid != model::kUnsetId) {
    a.human = ev.login_user_name;
  } else if (st.session) {
    a.human = st.session->human;
  } else {
    a.human.clear();
  }

  if (ev.kind == model::EventKind::kExit) {
    on_exit(ev, st);
    procs_.erase(ev.proc.key());  // st is gone from here on
  }
  if (now_wall_ns_ >= next_expire_wall_ns_) {
    expire_sessions(now_wall_ns_);
    next_expire_wall_ns_ = now_wall_ns_ + kExpireIntervalNs;
  }
}

TrackerStats SessionTracker::stats() const {
  TrackerStats s = stats_;
  s.processes = procs_.size();
  s.sessions_active = 0;
  for (const auto& [id, ses] : sessions_) {
    if (ses->end_wall_ns == 0) ++s.sessions_active;
  }
  return s;
}

std::shared_ptr<const model::Session> SessionTracker::session_of(const model::ProcessKey& k) const {
  auto it = procs_.find(k);
  return it == procs_.end() ? nullptr : it->second.session;
}

}  // namespace privwatch::session
