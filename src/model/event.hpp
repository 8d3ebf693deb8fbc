// The typed event shared by every pipeline stage. Depends on nothing.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/identity.hpp"

namespace privwatch::model {

enum class EventKind : uint16_t {
  kExec = 1,
  kFork = 2,
  kExit = 3,
  kFile = 4,
  kNet = 5,
  kCred = 6,
  kPtrace = 7,
  kModule = 8,
  kBpf = 9,
  kMount = 10,
  kSignal = 11,
  kTty = 12,
};
inline constexpr size_t kEventKindCount = 13;  // index 0 unused

// Short names used everywhere (privwatch.kind, stats keys): exec, fork, exit, file, net,
// cred, ptrace, module, bpf, mount, signal, tty.
[[nodiscard]] std::string_view to_string(EventKind k);

// Event flags (mirror PW_F_* of the kernel header).
inline constexpr uint32_t kFlagMonitored = 1u << 0;
inline constexpr uint32_t kFlagSensitive = 1u << 1;
inline constexpr uint32_t kFlagReadFail = 1u << 2;
inline constexpr uint32_t kFlagTruncated = 1u << 3;
inline constexpr uint32_t kFlagKilled = 1u << 4;  // the kernel sent SIGKILL at this syscall

struct ProcessContext {
  uint64_t start_ns = 0;  // leader start, boot-time ns
  uint64_t parent_start_ns = 0;
  uint64_t cgroup_id = 0;
  uint32_t pid = 0, tid = 0, ppid = 0;
  uint32_t uid = 0, euid = 0, gid = 0, egid = 0, suid = 0, fsuid = 0;
  uint32_t loginuid = kUnsetId, sessionid = kUnsetId;
  uint32_t tty_dev = 0;
  uint32_t pidns = 0, mntns = 0;
  std::string comm;
  std::string tty;

  [[nodiscard]] ProcessKey key() const { return {pid, ns_to_ticks(start_ns)}; }
  [[nodiscard]] ProcessKey parent_key() const { return {ppid, ns_to_ticks(parent_start_ns)}; }
};

// --- payloads -------------------------------------------------------------------------

inline constexpr uint32_t kExecMemfd = 1u << 0;
inline constexpr uint32_t kExecDeleted = 1u << 1;
inline constexpr uint32_t kExecSetuid = 1u << 2;
inline constexpr uint32_t kExecSetgid = 1u << 3;
inline constexpr uint32_t kExecArgsTruncated = 1u << 4;
inline constexpr uint32_t kExecFailed = 1u << 5;

struct ExecData {
  int64_t result = 0;      // 0, or -errno for a failed execve
  uint32_t flags = 0;      // kExec*
  uint32_t args_size = 0;  // full argv bytes in the process
  uint32_t exe_mode = 0, exe_uid = 0, exe_dev = 0;
  uint64_t exe_ino = 0;
  std::string filename;  // as passed to execve
  std::string exe_path;  // absolute path of the executed file
  std::string cwd;
  std::vector<std::string> args;  // bounded by capture.max_args / max_arg_bytes
};

struct ForkData {
  uint32_t child_pid = 0;
  uint64_t child_start_ns = 0;
};

struct ExitData {
  uint32_t exit_code = 0;  // raw wait status
  [[nodiscard]] int status() const { return static_cast<int>((exit_code >> 8) & 0xff); }
  [[nodiscard]] int signal() const { return static_cast<int>(exit_code & 0x7f); }
  [[nodiscard]] bool core_dumped() const { return (exit_code & 0x80) != 0; }
};

enum class FileOp : uint32_t {
  kOpen = 1,
  kUnlink,
  kRename,
  kChmod,
  kChown,
  kMkdir,
  kRmdir,
  kLink,
  kSymlink,
  kTruncate,
};
[[nodiscard]] std::string_view to_string(FileOp op);

inline constexpr uint32_t kFileCreated = 1u << 0;
inline constexpr uint32_t kFileWrite = 1u << 1;
inline constexpr uint32_t kFileFdBased = 1u << 2;

struct FileData {
  int64_t result = 0;
  FileOp op = FileOp::kOpen;
  int32_t dirfd = -100;
  uint32_t open_flags = 0, mode = 0;
  uint32_t uid = kUnsetId, gid = kUnsetId;  // chown targets
  uint32_t file_flags = 0;                  // kFile*
  std::string path;            // absolute and normalised (resolved by the kernel when it could)
  std::string requested_path;  // as the process passed it
  std::string target_path;     // rename/link/symlink destination, absolute when resolvable
  std::string requested_target;
};

enum class NetOp : uint32_t { kConnect = 1, kAccept, kBind, kListen };
[[nodiscard]] std::string_view to_string(NetOp op);

struct NetData {
  int64_t result = 0;
  NetOp op = NetOp::kConnect;
  int32_t fd = -1;
  uint16_t family = 0, sock_type = 0, protocol = 0;
  uint16_t local_port = 0, remote_port = 0;
  uint32_t backlog = 0;
  std::array<uint8_t, 16> local_addr{};
  std::array<uint8_t, 16> remote_addr{};
  std::string unix_path;
  [[nodiscard]] std::string local_ip() const;  // "" when not IPv4/IPv6
  [[nodiscard]] std::string remote_ip() const;
};

struct Creds {
  uint32_t uid = 0, euid = 0, suid = 0, fsuid = 0;
  uint32_t gid = 0, egid = 0, sgid = 0, fsgid = 0;
  uint64_t cap_effective = 0, cap_permitted = 0;
};

struct CredData {
  int64_t result = 0;
  std::array<uint64_t, 3> args{};
  bool before_valid = false;
  Creds before, after;
};

struct PtraceData {
  int64_t result = 0;
  int64_t request = 0;
  uint32_t target_pid = 0;
};

enum class ModuleOp : uint32_t { kInit = 1, kFinit, kDelete };

struct ModuleData {
  int64_t result = 0;
  ModuleOp op = ModuleOp::kInit;
  uint32_t flags = 0;
  std::string name;  // file path (finit_module) or module name (delete_module)
  std::string params;
};

struct BpfData {
  int64_t result = 0;
  uint32_t cmd = 0, prog_type = 0;
  std::string prog_name;
};

enum class MountOp : uint32_t { kMount = 1, kUmount };

struct MountData {
  int64_t result = 0;
  MountOp op = MountOp::kMount;
  uint64_t flags = 0;
  std::string source, target, fstype;
};

struct SignalData {
  int64_t result = 0;
  uint32_t target_pid = 0;
  uint32_t sig = 0;
};

// Terminal I/O of a monitored subject (session recording, docs/recording.md).
enum class TtyOp : uint32_t {
  kOutput = 1,  // written to the terminal: what the user saw
  kInput = 2,   // read from the terminal: what the user typed
  kResize = 3,  // window size changed (rows/cols hold the new size)
};
[[nodiscard]] std::string_view to_string(TtyOp op);

inline constexpr uint32_t kTtyEchoOff = 1u << 0;       // input typed with echo off: not captured
inline constexpr uint32_t kTtyTruncated = 1u << 1;     // data cut at capture.max bytes per event
inline constexpr uint32_t kTtySessionLimit = 1u << 2;  // per-session byte budget spent
inline constexpr uint32_t kTtyReadFail = 1u << 3;      // the process buffer could not be read
inline constexpr uint32_t kTtyOpost = 01;              // termios OPOST
inline constexpr uint32_t kTtyOnlcr = 04;              // termios ONLCR

struct TtyData {
  int64_t result = 0;  // bytes written/read by the call (before truncation)
  TtyOp op = TtyOp::kOutput;
  uint32_t flags = 0;  // kTty*
  uint32_t dev = 0;    // the terminal: (major << 20) | minor
  uint16_t rows = 0, cols = 0;
  uint32_t oflag = 0;  // termios c_oflag (kTtyOpost|kTtyOnlcr: "\n" is shown as "\r\n")
  std::string tty;     // "pts3"
  std::string data;    // raw bytes (binary; may hold NULs and partial UTF-8)
};

using Payload =
    std::variant<std::monostate, ExecData, ForkData, ExitData, FileData, NetData, CredData,
                 PtraceData, ModuleData, BpfData, MountData, SignalData, TtyData>;

struct Event {
  EventKind kind = EventKind::kExec;
  uint32_t flags = 0;      // kFlag*
  uint32_t syscall = ~0u;  // syscall number, ~0 for scheduler events
  uint64_t ts_ns = 0;      // boot-time ns (kernel clock)
  ProcessContext proc;
  Payload data;

  // Enrichment (filled by enrich; empty when unknown).
  std::string user_name;  // uid
  std::string effective_user_name;
  std::string login_user_name;  // loginuid: the human behind sudo
  std::string group_name;
  std::string exe;  // executable of the process (from the process table)
  std::string parent_exe;
  std::string parent_comm;
  std::vector<std::string> parent_args;
  uint64_t wall_time_ns = 0;  // realtime ns since the epoch
  uint64_t seq = 0;           // per-agent sequence number assigned by the pipeline (event id)

  // Identity and session (filled by enrich inventory + session tracker; see identity.hpp).
  Attribution attr;
};

// event.action as written to the outputs and matched by rules: "exec", "open", "setresuid",
// "tty-input-hidden"... One name per kind and operation.
[[nodiscard]] std::string_view event_action(const Event& ev);
// SYS_setuid → "setuid"; "" for a syscall that is not a credential change.
[[nodiscard]] std::string_view cred_syscall_name(uint32_t nr);

}  // namespace privwatch::model
