#include "model/event.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

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
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET) {
    if (inet_ntop(AF_INET, a.data(), buf, sizeof(buf)) != nullptr) return buf;
  } else if (family == AF_INET6) {
    if (inet_ntop(AF_INET6, a.data(), buf, sizeof(buf)) != nullptr) return buf;
  }
  return {};
}
}  // namespace

std::string NetData::local_ip() const { return ip_string(family, local_addr); }
std::string NetData::remote_ip() const { return ip_string(family, remote_addr); }

}  // namespace privwatch::model
