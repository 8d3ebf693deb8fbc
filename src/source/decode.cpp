#include "source/decode.hpp"

#include <cstring>
#include <type_traits>

#include "events.h"
#include "util/path.hpp"

namespace privwatch::source {

static_assert(sizeof(pw_str) == 8);
static_assert(sizeof(pw_proc) % 8 == 0);
static_assert(sizeof(pw_event_hdr) % 8 == 0);
static_assert(sizeof(pw_exec) % 8 == 0 && sizeof(pw_file) % 8 == 0 && sizeof(pw_net) % 8 == 0);
static_assert(sizeof(pw_cred) % 8 == 0 && sizeof(pw_fork) % 8 == 0 && sizeof(pw_exit) % 8 == 0);
static_assert(sizeof(pw_ptrace) % 8 == 0 && sizeof(pw_module) % 8 == 0);
static_assert(sizeof(pw_bpf) % 8 == 0 && sizeof(pw_mount) % 8 == 0 && sizeof(pw_signal) % 8 == 0);
static_assert(static_cast<int>(model::EventKind::kSignal) == PW_EV_SIGNAL);
static_assert(static_cast<int>(model::EventKind::kTty) == PW_EV_TTY);
static_assert(model::kEventKindCount == PW_EV_MAX);
static_assert(sizeof(pw_tty) % 8 == 0);
static_assert(model::kTtyEchoOff == PW_TTY_ECHO_OFF && model::kTtyReadFail == PW_TTY_READ_FAIL);
static_assert(model::kTtyTruncated == PW_TTY_TRUNCATED &&
              model::kTtySessionLimit == PW_TTY_SESSION_LIMIT);
static_assert(model::kFlagMonitored == PW_F_MONITORED && model::kFlagSensitive == PW_F_SENSITIVE);
static_assert(model::kExecMemfd == PW_EXEC_MEMFD && model::kExecFailed == PW_EXEC_FAILED);
static_assert(model::kFileCreated == PW_FILE_CREATED && model::kFileFdBased == PW_FILE_FD_BASED);

std::string_view to_string(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kTooShort:
      return "too_short";
    case DecodeStatus::kBadSize:
      return "bad_size";
    case DecodeStatus::kBadVersion:
      return "bad_version";
    case DecodeStatus::kUnknownType:
      return "unknown_type";
    case DecodeStatus::kBadString:
      return "bad_string";
  }
  return "unknown";
}

namespace {

// Copies a fixed-layout struct out of the record (the ring buffer gives no alignment promise
// we want to depend on, and this keeps the decoder free of aliasing questions).
template <typename T>
T load(std::span<const uint8_t> rec) {
  static_assert(std::is_trivially_copyable_v<T>);
  T v;
  std::memcpy(&v, rec.data(), sizeof(T));
  return v;
}

// Bounded C string from a fixed array.
std::string_view fixed_str(const char* p, size_t n) { return {p, strnlen(p, n)}; }

class Strings {
 public:
  explicit Strings(std::span<const uint8_t> rec) : rec_(rec) {}
  // Resolves a string reference; false when it points outside the record.
  bool get(const pw_str& s, std::string_view& out) const {
    if (s.off == 0 || s.len == 0) {
      out = {};
      return true;
    }
    if (static_cast<size_t>(s.off) + s.len > rec_.size()) return false;
    const char* p = reinterpret_cast<const char*>(rec_.data()) + s.off;
    out = {p, strnlen(p, s.len)};
    return true;
  }

 private:
  std::span<const uint8_t> rec_;
};

void decode_proc(const pw_proc& p, model::ProcessContext& c) {
  c.start_ns = p.start_ns;
  c.parent_start_ns = p.parent_start_ns;
  c.cgroup_id = p.cgroup_id;
  c.pid = p.pid;
  c.tid = p.tid;
  c.ppid = p.ppid;
  c.uid = p.uid;
  c.euid = p.euid;
  c.gid = p.gid;
  c.egid = p.egid;
  c.suid = p.suid;
  c.fsuid = p.fsuid;
  c.loginuid = p.loginuid;
  c.sessionid = p.sessionid;
  c.tty_dev = p.tty_dev;
  c.pidns = p.pidns_ino;
  c.mntns = p.mntns_ino;
  c.comm.assign(fixed_str(p.comm, sizeof(p.comm)));
  c.tty.assign(fixed_str(p.tty, sizeof(p.tty)));
}

template <typename T>
T& emplace(model::Payload& data) {
  if (auto* v = std::get_if<T>(&data)) return *v;  // reuse buffers of the same kind
  return data.emplace<T>();
}

// argv: NUL-separated, possibly cut mid-argument at the capture bound.
void split_args(std::string_view blob, uint32_t max_args, model::ExecData& x) {
  size_t n = 0;
  size_t pos = 0;
  while (pos < blob.size()) {
    size_t end = blob.find('\0', pos);
    if (end == std::string_view::npos) end = blob.size();
    if (n == max_args) {
      x.flags |= model::kExecArgsTruncated;
      break;
    }
    if (n < x.args.size()) {
      x.args[n].assign(blob.substr(pos, end - pos));
    } else {
      x.args.emplace_back(blob.substr(pos, end - pos));
    }
    ++n;
    pos = end + 1;
  }
  x.args.resize(n);
}

std::string resolve(std::string_view resolved, std::string_view base, std::string_view path) {
  if (!resolved.empty()) return std::string(resolved);
  if (path.empty()) return {};
  if (path.front() == '/') return normalize_path({}, path);
  if (!base.empty()) return normalize_path(base, path);
  return std::string(path);
}

DecodeStatus decode_exec(std::span<const uint8_t> rec, const Strings& s, const DecodeOptions& o,
                         model::Event& ev) {
  if (rec.size() < sizeof(pw_exec)) return DecodeStatus::kTooShort;
  const auto e = load<pw_exec>(rec);
  auto& x = emplace<model::ExecData>(ev.data);
  std::string_view filename, exe, args, cwd;
  if (!s.get(e.filename, filename) || !s.get(e.exe_path, exe) || !s.get(e.args, args) ||
      !s.get(e.cwd, cwd)) {
    return DecodeStatus::kBadString;
  }
  // args: not NUL-terminated by strnlen semantics — take the raw span.
  if (e.args.off != 0 && e.args.len != 0) {
    args = {reinterpret_cast<const char*>(rec.data()) + e.args.off, e.args.len};
  }
  x.result = e.result;
  x.flags = e.exec_flags;
  x.args_size = e.args_size;
  x.exe_mode = e.exe_mode;
  x.exe_uid = e.exe_uid;
  x.exe_dev = e.exe_dev;
  x.exe_ino = e.exe_ino;
  x.filename.assign(filename);
  x.exe_path.assign(exe);
  x.cwd.assign(cwd);
  if (e.result < 0 || (x.flags & model::kExecFailed) != 0) {
    // A failed exec loaded nothing: there is no executed file, and the process keeps its
    // image (the process table knows it). The attempted path is `filename`, never exe_path.
    x.exe_path.clear();
  } else if (x.exe_path.empty() && !x.filename.empty()) {
    // The kernel could not walk the new image's path: bprm->filename (absolute, relative to
    // the cwd, or /dev/fd/N/... for execveat) is the best substitute.
    x.exe_path = resolve({}, cwd, filename);
  }
  split_args(args, o.max_args, x);
  return DecodeStatus::kOk;
}

DecodeStatus decode_file(std::span<const uint8_t> rec, const Strings& s, model::Event& ev) {
  if (rec.size() < sizeof(pw_file)) return DecodeStatus::kTooShort;
  const auto e = load<pw_file>(rec);
  auto& x = emplace<model::FileData>(ev.data);
  std::string_view path, base, resolved, path2, base2;
  if (!s.get(e.path, path) || !s.get(e.base, base) || !s.get(e.resolved, resolved) ||
      !s.get(e.path2, path2) || !s.get(e.base2, base2)) {
    return DecodeStatus::kBadString;
  }
  x.result = e.result;
  x.op = static_cast<model::FileOp>(e.op);
  x.dirfd = e.dirfd;
  x.open_flags = e.open_flags;
  x.mode = e.mode;
  x.uid = e.uid;
  x.gid = e.gid;
  x.file_flags = e.file_flags;
  x.requested_path.assign(path);
  x.path = resolve(resolved, base, path);
  x.requested_target.assign(path2);
  x.target_path = resolve({}, base2, path2);
  return DecodeStatus::kOk;
}

DecodeStatus decode_net(std::span<const uint8_t> rec, const Strings& s, model::Event& ev) {
  if (rec.size() < sizeof(pw_net)) return DecodeStatus::kTooShort;
  const auto e = load<pw_net>(rec);
  auto& x = emplace<model::NetData>(ev.data);
  std::string_view unix_path;
  if (!s.get(e.unix_path, unix_path)) return DecodeStatus::kBadString;
  x.result = e.result;
  x.op = static_cast<model::NetOp>(e.op);
  x.fd = e.fd;
  x.family = e.family;
  x.sock_type = e.sock_type;
  x.protocol = e.protocol;
  x.local_port = e.local_port;
  x.remote_port = e.remote_port;
  x.backlog = e.backlog;
  std::memcpy(x.local_addr.data(), e.local_addr, 16);
  std::memcpy(x.remote_addr.data(), e.remote_addr, 16);
  x.unix_path.assign(unix_path);
  return DecodeStatus::kOk;
}

model::Creds creds(const pw_creds& c) {
  return {c.uid,  c.euid, c.suid,  c.fsuid,         c.gid,
          c.egid, c.sgid, c.fsgid, c.cap_effective, c.cap_permitted};
}

}  // namespace

DecodeStatus decode_record(std::span<const uint8_t> rec, const DecodeOptions& opts,
                           model::Event& ev) {
  if (rec.size() < sizeof(pw_event_hdr)) return DecodeStatus::kTooShort;
  const auto h = load<pw_event_hdr>(rec);
  if (h.version != PRIVWATCH_EVENTS_SCHEMA_VERSION) return DecodeStatus::kBadVersion;
  if (h.size != rec.size()) return DecodeStatus::kBadSize;
  if (h.type == PW_EV_NONE || h.type >= PW_EV_MAX) return DecodeStatus::kUnknownType;
  ev.kind = static_cast<model::EventKind>(h.type);
  ev.flags = h.flags;
  ev.syscall = h.syscall;
  ev.ts_ns = h.ts_ns;
  decode_proc(h.proc, ev.proc);
  const Strings s(rec);
  switch (h.type) {
    case PW_EV_EXEC:
      return decode_exec(rec, s, opts, ev);
    case PW_EV_FORK: {
      if (rec.size() < sizeof(pw_fork)) return DecodeStatus::kTooShort;
      const auto e = load<pw_fork>(rec);
      auto& x = emplace<model::ForkData>(ev.data);
      x.child_pid = e.child_pid;
      x.child_start_ns = e.child_start_ns;
      return DecodeStatus::kOk;
    }
    case PW_EV_EXIT: {
      if (rec.size() < sizeof(pw_exit)) return DecodeStatus::kTooShort;
      emplace<model::ExitData>(ev.data).exit_code = load<pw_exit>(rec).exit_code;
      return DecodeStatus::kOk;
    }
    case PW_EV_FILE:
      return decode_file(rec, s, ev);
    case PW_EV_NET:
      return decode_net(rec, s, ev);
    case PW_EV_CRED: {
      if (rec.size() < sizeof(pw_cred)) return DecodeStatus::kTooShort;
      const auto e = load<pw_cred>(rec);
      auto& x = emplace<model::CredData>(ev.data);
      x.result = e.result;
      x.args = {e.arg[0], e.arg[1], e.arg[2]};
      x.before_valid = e.before_valid != 0;
      x.before = creds(e.before);
      x.after = creds(e.after);
      return DecodeStatus::kOk;
    }
    case PW_EV_PTRACE: {
      if (rec.size() < sizeof(pw_ptrace)) return DecodeStatus::kTooShort;
      const auto e = load<pw_ptrace>(rec);
      auto& x = emplace<model::PtraceData>(ev.data);
      x.result = e.result;
      x.request = e.request;
      x.target_pid = e.target_pid;
      return DecodeStatus::kOk;
    }
    case PW_EV_MODULE: {
      if (rec.size() < sizeof(pw_module)) return DecodeStatus::kTooShort;
      const auto e = load<pw_module>(rec);
      std::string_view name, params;
      if (!s.get(e.name, name) || !s.get(e.params, params)) return DecodeStatus::kBadString;
      auto& x = emplace<model::ModuleData>(ev.data);
      x.result = e.result;
      x.op = static_cast<model::ModuleOp>(e.op);
      x.flags = e.flags;
      x.name.assign(name);
      x.params.assign(params);
      return DecodeStatus::kOk;
    }
    case PW_EV_BPF: {
      if (rec.size() < sizeof(pw_bpf)) return DecodeStatus::kTooShort;
      const auto e = load<pw_bpf>(rec);
      auto& x = emplace<model::BpfData>(ev.data);
      x.result = e.result;
      x.cmd = e.cmd;
      x.prog_type = e.prog_type;
      x.prog_name.assign(fixed_str(e.prog_name, sizeof(e.prog_name)));
      return DecodeStatus::kOk;
    }
    case PW_EV_MOUNT: {
      if (rec.size() < sizeof(pw_mount)) return DecodeStatus::kTooShort;
      const auto e = load<pw_mount>(rec);
      std::string_view src, tgt, fs;
      if (!s.get(e.source, src) || !s.get(e.target, tgt) || !s.get(e.fstype, fs)) {
        return DecodeStatus::kBadString;
      }
      auto& x = emplace<model::MountData>(ev.data);
      x.result = e.result;
      x.op = static_cast<model::MountOp>(e.op);
      x.flags = e.flags;
      x.source.assign(src);
      x.target.assign(tgt);
      x.fstype.assign(fs);
      return DecodeStatus::kOk;
    }
    case PW_EV_SIGNAL: {
      if (rec.size() < sizeof(pw_signal)) return DecodeStatus::kTooShort;
      const auto e = load<pw_signal>(rec);
      auto& x = emplace<model::SignalData>(ev.data);
      x.result = e.result;
      x.target_pid = e.target_pid;
      x.sig = e.sig;
      return DecodeStatus::kOk;
    }
    case PW_EV_TTY: {
      if (rec.size() < sizeof(pw_tty)) return DecodeStatus::kTooShort;
      const auto e = load<pw_tty>(rec);
      if (e.op < PW_TTY_OUTPUT || e.op > PW_TTY_RESIZE) return DecodeStatus::kBadString;
      if (e.data_len > PW_TTY_DATA_MAX || sizeof(pw_tty) + e.data_len > rec.size()) {
        return DecodeStatus::kBadString;
      }
      auto& x = emplace<model::TtyData>(ev.data);
      x.result = e.result;
      x.op = static_cast<model::TtyOp>(e.op);
      x.flags = e.tty_flags;
      x.dev = e.dev;
      x.rows = e.rows;
      x.cols = e.cols;
      x.oflag = e.oflag;
      x.tty.assign(fixed_str(e.tty, sizeof(e.tty)));
      x.data.assign(reinterpret_cast<const char*>(rec.data()) + sizeof(pw_tty), e.data_len);
      return DecodeStatus::kOk;
    }
    default:
      return DecodeStatus::kUnknownType;
  }
}

}  // namespace privwatch::source
