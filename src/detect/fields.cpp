#include "detect/fields.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "util/inet.hpp"

namespace privwatch::detect {

namespace {

using model::Event;
using model::EventKind;

template <typename T>
const T* data(EvalCtx& c) {
  return std::get_if<T>(&c.ev->data);
}

std::string_view basename_of(std::string_view p) {
  const size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

void join_args(const std::vector<std::string>& args, std::string& out) {
  out.clear();
  for (const auto& a : args) {
    if (!out.empty()) out.push_back(' ');
    out += a;
  }
}

std::optional<int64_t> result_of(const Event& ev) {
  return std::visit(
      [](const auto& d) -> std::optional<int64_t> {
        if constexpr (requires { d.result; }) {
          return d.result;
        } else {
          return std::nullopt;
        }
      },
      ev.data);
}

constexpr std::string_view kCredActions[] = {
    "setuid",   "setgid",   "setreuid",  "setregid", "setresuid",        "setresgid",
    "setfsuid", "setfsgid", "setgroups", "capset",   "credential_change"};

std::string_view signal_text(uint32_t sig) {
  static constexpr std::string_view kNames[] = {
      "",          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
  if (sig < std::size(kNames)) return kNames[sig];
  return "SIGRT";
}

std::string_view ptrace_text(int64_t req) {
  switch (req) {
    case PTRACE_TRACEME:
      return "PTRACE_TRACEME";
    case PTRACE_PEEKTEXT:
      return "PTRACE_PEEKTEXT";
    case PTRACE_PEEKDATA:
      return "PTRACE_PEEKDATA";
    case PTRACE_POKETEXT:
      return "PTRACE_POKETEXT";
    case PTRACE_POKEDATA:
      return "PTRACE_POKEDATA";
    case PTRACE_ATTACH:
      return "PTRACE_ATTACH";
    case PTRACE_SEIZE:
      return "PTRACE_SEIZE";
    case PTRACE_DETACH:
      return "PTRACE_DETACH";
    case PTRACE_CONT:
      return "PTRACE_CONT";
    case PTRACE_KILL:
      return "PTRACE_KILL";
    case PTRACE_SETREGS:
      return "PTRACE_SETREGS";
    case PTRACE_GETREGS:
      return "PTRACE_GETREGS";
    case PTRACE_INTERRUPT:
      return "PTRACE_INTERRUPT";
    default:
      return "PTRACE_OTHER";
  }
}

IpValue make_ip(uint16_t family, const std::array<uint8_t, 16>& a) {
  IpValue v;
  if (family == AF_INET) {
    v.family = 4;
    std::memcpy(v.addr.data(), a.data(), 4);
  } else if (family == AF_INET6) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.data(), kMapped, 12) == 0) {
      v.family = 4;
      std::memcpy(v.addr.data(), a.data() + 12, 4);
    } else {
      v.family = 6;
      v.addr = a;
    }
  }
  return v;
}

// (local, remote) as (source, destination) the way the ECS output does.
bool remote_is_destination(const model::NetData& n) { return n.op != model::NetOp::kAccept; }

const model::Session* session(EvalCtx& c) { return c.ev->attr.session.get(); }

bool file_writes(const model::FileData& f) {
  if (f.op != model::FileOp::kOpen) {
    return f.op == model::FileOp::kRename || f.op == model::FileOp::kLink ||
           f.op == model::FileOp::kSymlink || f.op == model::FileOp::kTruncate ||
           f.op == model::FileOp::kMkdir;
  }
  return (f.file_flags & (model::kFileWrite | model::kFileCreated)) != 0 ||
         (f.open_flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)) != 0;
}

std::optional<int64_t> opt_id(uint32_t id) {
  if (id == model::kUnsetId) return std::nullopt;
  return static_cast<int64_t>(id);
}

// clang-format off
const FieldDef kFields[] = {
  // event
  {"event.action", FieldType::kString, [](EvalCtx& c) { return model::event_action(*c.ev); }, {}, {}, {}, {},
   "exec, fork, exit, open, unlink, rename, chmod, chown, mkdir, rmdir, link, symlink, truncate, connect, accept, bind, listen, setuid ... capset, ptrace, init_module, finit_module, delete_module, bpf, mount, umount, signal"},
  {"event.outcome", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     auto r = result_of(*c.ev);
     if (!r) return "success";
     return *r < 0 ? "failure" : "success"; }, {}, {}, {}, {}, "success or failure"},
  {"privwatch.kind", FieldType::kString, [](EvalCtx& c) { return model::to_string(c.ev->kind); }, {}, {}, {}, {},
   "exec, fork, exit, file, net, cred, ptrace, module, bpf, mount, signal"},
  {"privwatch.result", FieldType::kInt, {}, {}, [](EvalCtx& c) { return result_of(*c.ev); }, {}, {},
   "the syscall's return value (-errno on failure)"},
  {"privwatch.monitored", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     return (c.ev->flags & model::kFlagMonitored) != 0; }, {}, "the subject is fully monitored"},
  {"privwatch.sensitive", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     return (c.ev->flags & model::kFlagSensitive) != 0; }, {}, "the file is under a sensitive path"},
  // process
  {"process.pid", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> { return c.ev->proc.pid; }, {}, {}, ""},
  {"process.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->proc.comm; }, {}, {}, {}, {}, "comm (16 bytes at most)"},
  {"process.executable", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     if (const auto* e = data<model::ExecData>(c); e && !e->exe_path.empty()) return e->exe_path;
     return c.ev->exe; }, {}, {}, {}, {}, "absolute path of the executable (the new image for exec)"},
  {"process.args", FieldType::kStringList, {}, [](EvalCtx& c) -> const std::vector<std::string>* {
     const auto* e = data<model::ExecData>(c);
     return e ? &e->args : nullptr; }, {}, {}, {}, "argv (exec events)"},
  {"process.args_count", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* e = data<model::ExecData>(c);
     if (!e) return std::nullopt;
     return static_cast<int64_t>(e->args.size()); }, {}, {}, ""},
  {"process.command_line", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* e = data<model::ExecData>(c);
     if (!e) return {};
     if (!c.cmdline_done) { join_args(e->args, c.cmdline); c.cmdline_done = true; }
     return c.cmdline; }, {}, {}, {}, {}, "argv joined by spaces (exec events)"},
  {"process.working_directory", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* e = data<model::ExecData>(c);
     return e ? std::string_view(e->cwd) : std::string_view(); }, {}, {}, {}, {}, "exec events"},
  {"process.interactive", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     return c.ev->proc.tty_dev != 0; }, {}, "has a controlling terminal"},
  {"process.tty.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->proc.tty; }, {}, {}, {}, {}, ""},
  {"process.parent.pid", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> { return c.ev->proc.ppid; }, {}, {}, ""},
  {"process.parent.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->parent_comm; }, {}, {}, {}, {}, ""},
  {"process.parent.executable", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->parent_exe; }, {}, {}, {}, {}, ""},
  {"process.parent.args", FieldType::kStringList, {}, [](EvalCtx& c) -> const std::vector<std::string>* {
     return c.ev->parent_args.empty() ? nullptr : &c.ev->parent_args; }, {}, {}, {}, ""},
  {"process.parent.command_line", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     if (!c.parent_cmdline_done) { join_args(c.ev->parent_args, c.parent_cmdline); c.parent_cmdline_done = true; }
     return c.parent_cmdline; }, {}, {}, {}, {}, ""},
  {"process.exit_code", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* x = data<model::ExitData>(c);
     if (!x) return std::nullopt;
     return x->signal() != 0 ? 128 + x->signal() : x->status(); }, {}, {}, "exit events"},
  {"privwatch.exec.filename", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* e = data<model::ExecData>(c);
     return e ? std::string_view(e->filename) : std::string_view(); }, {}, {}, {}, {}, "the path passed to execve"},
  {"privwatch.exec.memfd", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     const auto* e = data<model::ExecData>(c);
     if (!e) return std::nullopt;
     return (e->flags & model::kExecMemfd) != 0; }, {}, "executed from a memfd"},
  {"privwatch.exec.deleted", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     const auto* e = data<model::ExecData>(c);
     if (!e) return std::nullopt;
     return (e->flags & model::kExecDeleted) != 0; }, {}, "executed file is deleted"},
  {"privwatch.exec.setuid", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     const auto* e = data<model::ExecData>(c);
     if (!e) return std::nullopt;
     return (e->flags & (model::kExecSetuid | model::kExecSetgid)) != 0; }, {}, "executed file is setuid or setgid"},
  {"privwatch.exec.exe_mode", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* e = data<model::ExecData>(c);
     if (!e) return std::nullopt;
     return e->exe_mode; }, {}, {}, "st_mode of the executed file"},
  {"privwatch.exec.exe_uid", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* e = data<model::ExecData>(c);
     if (!e) return std::nullopt;
     return e->exe_uid; }, {}, {}, "owner of the executed file"},
  // users
  {"user.id", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> { return c.ev->proc.uid; }, {}, {}, "real uid"},
  {"user.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->user_name; }, {}, {}, {}, {}, "real user"},
  {"user.effective.id", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> { return c.ev->proc.euid; }, {}, {}, ""},
  {"user.effective.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->effective_user_name; }, {}, {}, {}, {}, ""},
  {"user.audit.id", FieldType::kInt, {}, {}, [](EvalCtx& c) { return opt_id(c.ev->proc.loginuid); }, {}, {}, "loginuid; absent when unset"},
  {"user.audit.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->login_user_name; }, {}, {}, {}, {}, "the user who logged in (behind sudo)"},
  {"group.id", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> { return c.ev->proc.gid; }, {}, {}, ""},
  {"group.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->group_name; }, {}, {}, {}, {}, ""},
  {"process.audit.session_id", FieldType::kInt, {}, {}, [](EvalCtx& c) { return opt_id(c.ev->proc.sessionid); }, {}, {}, "audit session id; absent when unset"},
  // identity and session (Attribution)
  {"privwatch.human", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.human; }, {}, {}, {}, {}, ""},
  {"privwatch.roles", FieldType::kStringList, {}, [](EvalCtx& c) -> const std::vector<std::string>* {
     return c.ev->attr.roles.empty() ? nullptr : &c.ev->attr.roles; }, {}, {}, {}, ""},
  {"privwatch.cluster", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.cluster; }, {}, {}, {}, {}, ""},
  {"privwatch.service_account", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.service_account; }, {}, {}, {}, {}, ""},
  {"privwatch.escalated", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> { return c.ev->attr.escalated; }, {}, ""},
  {"privwatch.escalation", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     return c.ev->attr.escalated ? model::to_string(c.ev->attr.escalation) : std::string_view(); }, {}, {}, {}, {}, "sudo, su, pkexec, doas, setuid_binary, setuid_call, capset"},
  {"privwatch.drift", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> { return c.ev->attr.drift; }, {}, {}, "declared-profile drift bits"},
  {"host.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.host; }, {}, {}, {}, {}, ""},
  {"container.id", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.container.id; }, {}, {}, {}, {}, ""},
  {"container.runtime", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.container.runtime; }, {}, {}, {}, {}, ""},
  {"container.image.name", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.container.image; }, {}, {}, {}, {}, ""},
  {"orchestrator.namespace", FieldType::kString, [](EvalCtx& c) -> std::string_view { return c.ev->attr.container.k8s_namespace; }, {}, {}, {}, {}, ""},
  {"session.id", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* s = session(c); return s ? std::string_view(s->id) : std::string_view(); }, {}, {}, {}, {}, ""},
  {"session.entry_type", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* s = session(c); return s ? model::to_string(s->entry_type) : std::string_view(); }, {}, {}, {}, {}, "sshd, console, terminal, container, cron, service, su, sudo, init"},
  {"session.interactive", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     const auto* s = session(c); if (!s) return std::nullopt; return s->interactive; }, {}, ""},
  {"session.client_ip", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* s = session(c); return s ? std::string_view(s->client_ip) : std::string_view(); }, {}, {}, {}, {}, "SSH client address"},
  // files
  {"file.path", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     if (const auto* f = data<model::FileData>(c)) return f->path;
     if (const auto* m = data<model::ModuleData>(c)) return m->name;
     return {}; }, {}, {}, {}, {}, "absolute path (file events; the module file for finit_module)"},
  {"file.target_path", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* f = data<model::FileData>(c);
     return f ? std::string_view(f->target_path) : std::string_view(); }, {}, {}, {}, {}, "rename/link/symlink destination"},
  {"file.name", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* f = data<model::FileData>(c);
     return f ? basename_of(f->path) : std::string_view(); }, {}, {}, {}, {}, "last component of file.path"},
  {"file.directory", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* f = data<model::FileData>(c);
     if (!f) return {};
     const size_t slash = f->path.rfind('/');
     if (slash == std::string::npos) return {};
     return std::string_view(f->path).substr(0, slash == 0 ? 1 : slash); }, {}, {}, {}, {}, ""},
  {"file.mode", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* f = data<model::FileData>(c);
     if (!f || (f->op != model::FileOp::kChmod && !(f->open_flags & O_CREAT) && f->op != model::FileOp::kMkdir)) return std::nullopt;
     return f->mode; }, {}, {}, "chmod mode, or creation mode"},
  {"file.uid", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* f = data<model::FileData>(c);
     if (!f || f->op != model::FileOp::kChown) return std::nullopt;
     return opt_id(f->uid); }, {}, {}, "chown target uid"},
  {"file.write", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     const auto* f = data<model::FileData>(c);
     if (!f) return std::nullopt;
     return file_writes(*f); }, {}, "opened for writing, created, truncated, renamed or linked"},
  {"file.open_flags", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* f = data<model::FileData>(c);
     if (!f || f->op != model::FileOp::kOpen) return std::nullopt;
     return f->open_flags; }, {}, {}, "open(2) flags, e.g. {bits_any: 0o1000} for O_TRUNC"},
  {"file.created", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     const auto* f = data<model::FileData>(c);
     if (!f) return std::nullopt;
     return (f->file_flags & model::kFileCreated) != 0; }, {}, "the open created the file"},
  // network
  {"destination.ip", FieldType::kIp, {}, {}, {}, {}, [](EvalCtx& c) {
     const auto* n = data<model::NetData>(c);
     if (!n) return IpValue{};
     return remote_is_destination(*n) ? make_ip(n->family, n->remote_addr) : make_ip(n->family, n->local_addr); }, ""},
  {"destination.port", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* n = data<model::NetData>(c);
     if (!n || (n->family != AF_INET && n->family != AF_INET6)) return std::nullopt;
     return remote_is_destination(*n) ? n->remote_port : n->local_port; }, {}, {}, ""},
  {"source.ip", FieldType::kIp, {}, {}, {}, {}, [](EvalCtx& c) {
     const auto* n = data<model::NetData>(c);
     if (!n) return IpValue{};
     return remote_is_destination(*n) ? make_ip(n->family, n->local_addr) : make_ip(n->family, n->remote_addr); }, ""},
  {"source.port", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* n = data<model::NetData>(c);
     if (!n || (n->family != AF_INET && n->family != AF_INET6)) return std::nullopt;
     return remote_is_destination(*n) ? n->local_port : n->remote_port; }, {}, {}, ""},
  {"network.type", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* n = data<model::NetData>(c);
     if (!n) return {};
     switch (n->family) { case AF_INET: return "ipv4"; case AF_INET6: return "ipv6"; case AF_UNIX: return "unix"; default: return "other"; } },
   {}, {}, {}, {}, "ipv4, ipv6, unix, other"},
  {"network.transport", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* n = data<model::NetData>(c);
     if (!n) return {};
     switch (n->sock_type) { case SOCK_STREAM: return "tcp"; case SOCK_DGRAM: return "udp"; default: return "other"; } },
   {}, {}, {}, {}, "tcp (stream), udp (datagram), other"},
  {"privwatch.unix_path", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* n = data<model::NetData>(c);
     return n ? std::string_view(n->unix_path) : std::string_view(); }, {}, {}, {}, {}, "unix socket path"},
  // ptrace / signal / module / mount
  {"privwatch.target.pid", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     if (const auto* p = data<model::PtraceData>(c)) return p->target_pid;
     if (const auto* s = data<model::SignalData>(c)) return s->target_pid;
     return std::nullopt; }, {}, {}, "ptrace / signal target"},
  {"privwatch.target.self", FieldType::kBool, {}, {}, {}, [](EvalCtx& c) -> std::optional<bool> {
     uint32_t t = 0;
     if (const auto* p = data<model::PtraceData>(c)) t = p->target_pid;
     else if (const auto* s = data<model::SignalData>(c)) t = s->target_pid;
     else return std::nullopt;
     return t != 0 && t == c.self_pid; }, {}, "the ptrace / signal target is this privwatch agent"},
  {"privwatch.ptrace.request", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* p = data<model::PtraceData>(c);
     return p ? ptrace_text(p->request) : std::string_view(); }, {}, {}, {}, {}, "PTRACE_ATTACH, PTRACE_SEIZE, PTRACE_POKEDATA ..."},
  {"privwatch.signal.name", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* s = data<model::SignalData>(c);
     return s ? signal_text(s->sig) : std::string_view(); }, {}, {}, {}, {}, "SIGKILL, SIGSTOP ..."},
  {"privwatch.signal.number", FieldType::kInt, {}, {}, [](EvalCtx& c) -> std::optional<int64_t> {
     const auto* s = data<model::SignalData>(c);
     if (!s) return std::nullopt;
     return s->sig; }, {}, {}, ""},
  {"privwatch.module.name", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* m = data<model::ModuleData>(c);
     return m ? std::string_view(m->name) : std::string_view(); }, {}, {}, {}, {}, "module file (finit_module) or name (delete_module)"},
  {"privwatch.bpf.prog_name", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* b = data<model::BpfData>(c);
     return b ? std::string_view(b->prog_name) : std::string_view(); }, {}, {}, {}, {}, ""},
  {"privwatch.mount.target", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* m = data<model::MountData>(c);
     return m ? std::string_view(m->target) : std::string_view(); }, {}, {}, {}, {}, ""},
  {"privwatch.mount.fstype", FieldType::kString, [](EvalCtx& c) -> std::string_view {
     const auto* m = data<model::MountData>(c);
     return m ? std::string_view(m->fstype) : std::string_view(); }, {}, {}, {}, {}, ""},
};
// clang-format on

}  // namespace

std::string_view to_string(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "string";
    case FieldType::kStringList:
      return "list of strings";
    case FieldType::kInt:
      return "number";
    case FieldType::kBool:
      return "boolean";
    case FieldType::kIp:
      return "IP address";
  }
  return "?";
}

std::span<const FieldDef> all_fields() { return kFields; }

size_t field_index(const FieldDef& f) { return static_cast<size_t>(&f - kFields); }

std::string_view lowered_value(const FieldDef& f, EvalCtx& c) {
  const size_t i = field_index(f);
  if (c.lower_epoch.size() != std::size(kFields)) {
    c.lower_epoch.assign(std::size(kFields), 0u);
    c.lower.resize(std::size(kFields));
  }
  std::string& out = c.lower[i];
  if (c.lower_epoch[i] != c.epoch) {
    c.lower_epoch[i] = c.epoch;
    const std::string_view v = f.str(c);
    out.assign(v);
    for (char& ch : out) ch = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch + 32) : ch;
  }
  return out;
}

const FieldDef* find_field(std::string_view name) {
  for (const auto& f : kFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string_view closest_field(std::string_view name) {
  std::string_view best;
  size_t best_d = SIZE_MAX;
  for (const auto& f : kFields) {
    const size_t d = edit_distance(name, f.name);
    if (d < best_d) {
      best_d = d;
      best = f.name;
    }
  }
  return best_d <= std::max<size_t>(2, name.size() / 3) ? best : std::string_view();
}

std::string field_text(const FieldDef& f, EvalCtx& ctx) {
  switch (f.type) {
    case FieldType::kString:
      return std::string(f.str(ctx));
    case FieldType::kStringList: {
      const auto* l = f.list(ctx);
      std::string out;
      if (l == nullptr) return out;
      for (const auto& s : *l) {
        if (!out.empty()) out.push_back(' ');
        out += s;
      }
      return out;
    }
    case FieldType::kInt: {
      const auto v = f.num(ctx);
      return v ? std::to_string(*v) : std::string();
    }
    case FieldType::kBool: {
      const auto v = f.flag(ctx);
      return v ? (*v ? "true" : "false") : "";
    }
    case FieldType::kIp: {
      const IpValue v = f.ip(ctx);
      char buf[util::kIpTextMax];
      return {buf, util::put_ip(buf,
                                v.family == 4   ? AF_INET
                                : v.family == 6 ? AF_INET6
                                                : 0,
                                v.addr.data())};
    }
  }
  return {};
}

KindMask kinds_of_action(std::string_view a) {
  static constexpr std::pair<std::string_view, EventKind> kSimple[] = {
      {"exec", EventKind::kExec},
      {"fork", EventKind::kFork},
      {"exit", EventKind::kExit},
      {"open", EventKind::kFile},
      {"unlink", EventKind::kFile},
      {"rename", EventKind::kFile},
      {"chmod", EventKind::kFile},
      {"chown", EventKind::kFile},
      {"mkdir", EventKind::kFile},
      {"rmdir", EventKind::kFile},
      {"link", EventKind::kFile},
      {"symlink", EventKind::kFile},
      {"truncate", EventKind::kFile},
      {"connect", EventKind::kNet},
      {"accept", EventKind::kNet},
      {"bind", EventKind::kNet},
      {"listen", EventKind::kNet},
      {"ptrace", EventKind::kPtrace},
      {"init_module", EventKind::kModule},
      {"finit_module", EventKind::kModule},
      {"delete_module", EventKind::kModule},
      {"bpf", EventKind::kBpf},
      {"mount", EventKind::kMount},
      {"umount", EventKind::kMount},
      {"signal", EventKind::kSignal},
      {"tty-output", EventKind::kTty},
      {"tty-input", EventKind::kTty},
      {"tty-input-hidden", EventKind::kTty},
      {"tty-resize", EventKind::kTty}};
  for (const auto& [name, kind] : kSimple) {
    if (name == a) return kind_bit(kind);
  }
  for (const auto& name : kCredActions) {
    if (name == a) return kind_bit(EventKind::kCred);
  }
  return 0;
}

KindMask kinds_of_kind_name(std::string_view kind) {
  for (size_t k = 1; k < model::kEventKindCount; ++k) {
    if (model::to_string(static_cast<EventKind>(k)) == kind) return 1u << k;
  }
  return 0;
}

std::optional<IpValue> parse_ip(std::string_view text) {
  std::string s(text);
  IpValue v;
  if (inet_pton(AF_INET, s.c_str(), v.addr.data()) == 1) {
    v.family = 4;
    return v;
  }
  std::array<uint8_t, 16> a{};
  if (inet_pton(AF_INET6, s.c_str(), a.data()) == 1) return make_ip(AF_INET6, a);
  return std::nullopt;
}

}  // namespace privwatch::detect
