#include "model/event.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "util/inet.hpp"

namespace privwatch::model {

std::string_view to_string(EventKind k) {
  switch (k) {
    case EventKind::kExec:
      return "exec";
    case EventKind::kFork:
      return "fork";
    case EventKind::kExit:
      return "exit";
    case EventKind::kFile:
      return "file";
    case EventKind::kNet:
      return "net";
    case EventKind::kCred:
      return "cred";
    case EventKind::kPtrace:
      return "ptrace";
    case EventKind::kModule:
      return "module";
    case EventKind::kBpf:
      return "bpf";
    case EventKind::kMount:
      return "mount";
    case EventKind::kSignal:
      return "signal";
    case EventKind::kTty:
      return "tty";
  }
  return "unknown";
}

std::string_view to_string(TtyOp op) {
  switch (op) {
    case TtyOp::kOutput:
      return "output";
    case TtyOp::kInput:
      return "input";
    case TtyOp::kResize:
      return "resize";
  }
  return "unknown";
}

std::string_view to_string(FileOp op) {
  switch (op) {
    case FileOp::kOpen:
      return "open";
    case FileOp::kUnlink:
      return "unlink";
    case FileOp::kRename:
      return "rename";
    case FileOp::kChmod:
      return "chmod";
    case FileOp::kChown:
      return "chown";
    case FileOp::kMkdir:
      return "mkdir";
    case FileOp::kRmdir:
      return "rmdir";
    case FileOp::kLink:
      return "link";
    case FileOp::kSymlink:
      return "symlink";
    case FileOp::kTruncate:
      return "truncate";
  }
  return "unknown";
}

std::string_view to_string(NetOp op) {
  switch (op) {
    case NetOp::kConnect:
      return "connect";
    case NetOp::kAccept:
      return "accept";
    case NetOp::kBind:
      return "bind";
    case NetOp::kListen:
      return "listen";
  }
  return "unknown";
}

namespace {
std::string ip_string(uint16_t family, const std::array<uint8_t, 16>& a) {
  char buf[util::kIpTextMax];
  return {buf, util::put_ip(buf, family, a.data())};
}
}  // namespace

std::string NetData::local_ip() const { return ip_string(family, local_addr); }
std::string NetData::remote_ip() const { return ip_string(family, remote_addr); }

namespace {
std::string_view module_op_name(ModuleOp op) {
  switch (op) {
    case ModuleOp::kInit:
      return "init_module";
    case ModuleOp::kFinit:
      return "finit_module";
    case ModuleOp::kDelete:
      return "delete_module";
  }
  return "module";
}

}  // namespace

std::string_view event_action(const Event& ev) {
  switch (ev.kind) {
    case EventKind::kExec:
      return "exec";
    case EventKind::kFork:
      return "fork";
    case EventKind::kExit:
      return "exit";
    case EventKind::kFile:
      if (const auto* f = std::get_if<FileData>(&ev.data)) return to_string(f->op);
      return "file";
    case EventKind::kNet:
      if (const auto* n = std::get_if<NetData>(&ev.data)) return to_string(n->op);
      return "network";
    case EventKind::kCred: {
      const std::string_view name = cred_syscall_name(ev.syscall);
      return name.empty() ? "credential_change" : name;
    }
    case EventKind::kPtrace:
      return "ptrace";
    case EventKind::kModule:
      if (const auto* m = std::get_if<ModuleData>(&ev.data)) return module_op_name(m->op);
      return "module";
    case EventKind::kBpf:
      return "bpf";
    case EventKind::kMount:
      if (const auto* m = std::get_if<MountData>(&ev.data)) {
        return m->op == MountOp::kUmount ? "umount" : "mount";
      }
      return "mount";
    case EventKind::kSignal:
      return "signal";
    case EventKind::kTty:
      if (const auto* t = std::get_if<TtyData>(&ev.data)) {
        switch (t->op) {
          case TtyOp::kOutput:
            return "tty-output";
          case TtyOp::kInput:
            return (t->flags & kTtyEchoOff) ? "tty-input-hidden" : "tty-input";
          case TtyOp::kResize:
            return "tty-resize";
        }
      }
      return "tty";
  }
  return "unknown";
}

std::string_view cred_syscall_name(uint32_t nr) {
  switch (nr) {
    case SYS_setuid:
      return "setuid";
    case SYS_setgid:
      return "setgid";
    case SYS_setreuid:
      return "setreuid";
    case SYS_setregid:
      return "setregid";
    case SYS_setresuid:
      return "setresuid";
    case SYS_setresgid:
      return "setresgid";
    case SYS_setfsuid:
      return "setfsuid";
    case SYS_setfsgid:
      return "setfsgid";
    case SYS_setgroups:
      return "setgroups";
    case SYS_capset:
      return "capset";
    default:
      return {};
  }
}

}  // namespace privwatch::model
