#include "export/ecs_json.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <type_traits>
#include <utility>

#include "util/inet.hpp"
#include "util/json_sink.hpp"
#include "util/path.hpp"
#include "util/time.hpp"

namespace privwatch::exporter {

using model::EventKind;

namespace {

// --- numbers into a raw buffer ---------------------------------------------------------------

using util::kDigitPairs;

constexpr auto kPow10 = [] {
  std::array<uint64_t, 20> t{};
  uint64_t v = 1;
  for (auto& x : t) x = v, v *= 10;
  return t;
}();

// Decimal digits of v, at least 1.
int digit_count(uint64_t v) {
  v |= 1;                                          // 0 has one digit, like 1
  const int t = (std::bit_width(v) * 1233) >> 12;  // log10 estimate: exact or one less
  return t + (v >= kPow10[t]);
}

// Writes v in decimal, two digits per step, ending at `end` (v has end - p digits).
template <typename U>
void put_digits(char* end, U v) {
  while (v >= 100) {
    end -= 2;
    std::memcpy(end, kDigitPairs + (v % 100) * 2, 2);
    v /= 100;
  }
  if (v >= 10) {
    std::memcpy(end - 2, kDigitPairs + v * 2, 2);
  } else {
    end[-1] = static_cast<char>('0' + v);
  }
}

// Writes v in decimal at p (up to 20 bytes); returns the end.
char* put_uint(char* p, uint64_t v) {
  if (v < 10) {  // ids, flags, counts: mostly small
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  char* const end = p + digit_count(v);
  if (v <= UINT32_MAX) {
    put_digits(end, static_cast<uint32_t>(v));  // 32-bit division is cheaper
  } else {
    put_digits(end, v);
  }
  return end;
}

// Up to 20 bytes (21 with the sign).
template <typename T>
char* put_int(char* p, T v) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if constexpr (std::is_signed_v<T>) {
    if (v < 0) {
      *p++ = '-';
      return put_uint(p, 0 - static_cast<uint64_t>(static_cast<int64_t>(v)));
    }
  }
  return put_uint(p, static_cast<uint64_t>(v));
}

constexpr size_t kMaxInt = 21;
constexpr size_t kRfc3339 = util::kRfc3339MaxSize;  // "2026-11-22T02:14:15.123456789Z"

// --- the output buffer: util::JsonSink, plus this writer's numbers and times --------------

class Sink : public util::JsonSink {
 public:
  using JsonSink::JsonSink;
  template <typename T>
  void put_number(T v) {  // kMaxInt bytes
    p_ = put_int(p_, v);
  }
  void put_rfc3339_time(uint64_t epoch_ns) {  // kRfc3339 bytes
    p_ += util::put_rfc3339(p_, util::unix_time_from_ns(epoch_ns), 9);
  }
};

// --- a JSON object writer that drops empty objects -----------------------------------------

// An object key as written: `,"name":` (the comma of the first member of an object is
// replaced by the opening bracket when the object closes). Built at compile time from a
// literal by "name"_k, so writing a key is one fixed-size copy.
template <size_t N>
struct Key {
  char text[N + 4];  // and a NUL, so that Sink::put() copies it like a literal
  consteval Key(const char (&name)[N]) : text{} {  // NOLINT: implicit from a literal
    text[0] = ',';
    text[1] = '"';
    for (size_t i = 0; i + 1 < N; ++i) {
      const char c = name[i];
      if (c < 0x20 || c == '"' || c == '\\') throw "a key must not need escaping";
      text[2 + i] = c;
    }
    text[N + 1] = '"';
    text[N + 2] = ':';
    text[N + 3] = '\0';
  }
};

template <Key K>
constexpr const auto& operator""_k() {
  return K;
}

// The expected size of one event: the buffer is resized once for it (1–2 KiB is typical).
constexpr size_t kExpectedEventSize = 2048;

// Every member is written with a leading comma; closing an object or array turns the comma
// of its first member into the bracket, or removes the whole member (key included) when
// nothing was written into it.
class Json {
 public:
  struct Scope {
    size_t mark;  // before the key: rollback point
    size_t body;  // after the key: where the first member's comma is
  };

  explicit Json(std::string& out) : s_(out, kExpectedEventSize), top_(s_.pos()) {}
  void finish() {
    s_.ensure(2);
    if (s_.pos() == top_) {
      s_.put("{}");
    } else {
      s_.at(top_) = '{';
      s_.put('}');
    }
  }

  template <size_t N>
  Scope open(const Key<N>& k) {
    const size_t mark = s_.pos();
    s_.ensure(sizeof(k.text));
    s_.put(k.text);
    return {mark, s_.pos()};
  }
  void close(Scope sc, char open_bracket, char close_bracket) {
    if (s_.pos() == sc.body) {
      s_.rewind(sc.mark);
    } else {
      s_.at(sc.body) = open_bracket;
      s_.ensure(1);
      s_.put(close_bracket);
    }
  }

  template <size_t N>
  void str(const Key<N>& k, std::string_view v) {
    if (v.empty()) return;
    s_.ensure(sizeof(k.text) + 1 + v.size() + Sink::kSlack);
    s_.put(k.text);
    s_.put('"');
    s_.put_escaped(v);
    s_.put('"');
  }
  template <size_t N, typename T>
  void num(const Key<N>& k, T v) {
    s_.ensure(sizeof(k.text) + kMaxInt);
    s_.put(k.text);
    s_.put_number(v);
  }
  // A number as a string (ECS keyword fields such as user.id).
  template <size_t N, typename T>
  void quoted_num(const Key<N>& k, T v) {
    s_.ensure(sizeof(k.text) + kMaxInt + 2);
    s_.put(k.text);
    s_.put('"');
    s_.put_number(v);
    s_.put('"');
  }
  template <size_t N>
  void id(const Key<N>& k, uint32_t v) {
    quoted_num(k, v);
  }
  template <size_t N>
  void boolean(const Key<N>& k, bool v) {
    s_.ensure(sizeof(k.text) + 5);
    s_.put(k.text);
    if (v) {
      s_.put("true");
    } else {
      s_.put("false");
    }
  }
  template <size_t N>
  void time(const Key<N>& k, uint64_t epoch_ns) {
    s_.ensure(sizeof(k.text) + kRfc3339 + 2);
    s_.put(k.text);
    s_.put('"');
    s_.put_rfc3339_time(epoch_ns);
    s_.put('"');
  }
  // "0755": permission bits (with setuid/setgid/sticky), four octal digits.
  template <size_t N>
  void mode(const Key<N>& k, uint32_t m) {
    const char v[6] = {'"',
                       static_cast<char>('0' + ((m >> 9) & 7)),
                       static_cast<char>('0' + ((m >> 6) & 7)),
                       static_cast<char>('0' + ((m >> 3) & 7)),
                       static_cast<char>('0' + (m & 7)),
                       '"'};
    s_.ensure(sizeof(k.text) + sizeof(v));
    s_.put(k.text);
    s_.put_bytes(v, sizeof(v));
  }
  template <size_t N>
  void hex64(const Key<N>& k, uint64_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[18] = {'"'};
    for (int i = 16; i >= 1; --i, v >>= 4) buf[i] = kHex[v & 0xF];
    buf[17] = '"';
    s_.ensure(sizeof(k.text) + sizeof(buf));
    s_.put(k.text);
    s_.put_bytes(buf, sizeof(buf));
  }
  // "<pid>-<start ticks>"
  template <size_t N>
  void entity_id(const Key<N>& k, model::ProcessKey key) {
    s_.ensure(sizeof(k.text) + 2 * kMaxInt + 3);
    s_.put(k.text);
    s_.put('"');
    s_.put_number(key.pid);
    s_.put('-');
    s_.put_number(key.start_ticks);
    s_.put('"');
  }
  // One string: the parts joined by spaces (process.command_line).
  template <size_t N>
  void joined(const Key<N>& k, const std::vector<std::string>& parts) {
    s_.ensure(sizeof(k.text) + 1);
    s_.put(k.text);
    s_.put('"');
    for (size_t i = 0; i < parts.size(); ++i) {
      s_.ensure(1 + parts[i].size() + Sink::kSlack);
      if (i != 0) s_.put(' ');
      s_.put_escaped(parts[i]);
    }
    s_.put('"');  // kSlack left
  }

  // Array elements.
  void elem_str(std::string_view v) {
    s_.ensure(2 + v.size() + Sink::kSlack);
    s_.put(",\"");
    s_.put_escaped(v);
    s_.put('"');
  }
  template <typename T>
  void elem_num(T v) {
    s_.ensure(1 + kMaxInt);
    s_.put(',');
    s_.put_number(v);
  }

 private:
  Sink s_;
  size_t top_;  // where the top-level object starts
};

// Scoped nested object / array.
class Obj {
 public:
  template <size_t N>
  Obj(Json& j, const Key<N>& k) : j_(j), scope_(j.open(k)) {}
  ~Obj() { j_.close(scope_, '{', '}'); }
  Obj(const Obj&) = delete;
  Obj& operator=(const Obj&) = delete;

 private:
  Json& j_;
  Json::Scope scope_;
};

class Arr {
 public:
  template <size_t N>
  Arr(Json& j, const Key<N>& k) : j_(j), scope_(j.open(k)) {}
  ~Arr() { j_.close(scope_, '[', ']'); }
  Arr(const Arr&) = delete;
  Arr& operator=(const Arr&) = delete;

 private:
  Json& j_;
  Json::Scope scope_;
};

// --- value helpers ---------------------------------------------------------------------------

std::string_view basename_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dirname_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

void write_path_fields(Json& j, std::string_view path) {
  j.str("path"_k, path);
  j.str("name"_k, basename_of(path));
  j.str("directory"_k, dirname_of(path));
}

void write_args(Json& j, const std::vector<std::string>& args) {
  if (args.empty()) return;
  {
    Arr a(j, "args"_k);
    for (const auto& s : args) j.elem_str(s);
  }
  j.num("args_count"_k, args.size());
  j.joined("command_line"_k, args);
}

bool exec_failed(const model::ExecData& d) {
  return d.result < 0 || (d.flags & model::kExecFailed) != 0;
}

// privwatch.exec.attempted_path: what a failed exec tried to run, made absolute against the
// working directory. A relative execveat() path is relative to a directory descriptor the
// event does not carry, so it is left out rather than guessed. Failed execs only: rare
// enough for the allocations.
void write_attempted_path(Json& j, uint32_t syscall, const model::ExecData& d) {
  const std::string_view f = d.filename;
  if (f.empty()) return;
  if (f.front() == '/') {
    j.str("attempted_path"_k, normalize_path({}, f));
    return;
  }
  if (syscall != SYS_execve || d.cwd.empty() || d.cwd.front() != '/') return;
  j.str("attempted_path"_k, normalize_path(d.cwd, f));
}

// Boot-time ns → epoch ns using the event's (wall, boot) clock pair; 0 when unknown.
uint64_t boot_to_wall(const model::Event& ev, uint64_t boot_ns) {
  if (boot_ns == 0 || ev.wall_time_ns == 0) return 0;
  // Modular arithmetic, read as signed: a boot time before the pair's can give a negative
  // wall time (→ 0), and absurd inputs wrap instead of overflowing.
  const auto wall = static_cast<int64_t>(boot_ns + (ev.wall_time_ns - ev.ts_ns));
  return wall > 0 ? static_cast<uint64_t>(wall) : 0;
}

// The payload's system call result; `has` is false for payloads without one (fork, exit).
struct Outcome {
  bool has = false;
  int64_t result = 0;
  bool failed = false;
};

Outcome outcome_of(const model::Payload& p) {
  return std::visit(
      [](const auto& d) -> Outcome {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, std::monostate> || std::is_same_v<T, model::ForkData> ||
                      std::is_same_v<T, model::ExitData>) {
          return {};
        } else if constexpr (std::is_same_v<T, model::ExecData>) {
          return {true, d.result, exec_failed(d)};
        } else {
          return {true, d.result, d.result < 0};
        }
      },
      p);
}

// --- ECS categorisation --------------------------------------------------------------------

struct Categorization {
  std::string_view category;
  std::string_view type1;
  std::string_view type2;  // may be empty
};

Categorization categorize(const model::Event& ev) {
  switch (ev.kind) {
    case EventKind::kExec:
    case EventKind::kFork:
      return {"process", "start", {}};
    case EventKind::kExit:
      return {"process", "end", {}};
    case EventKind::kFile: {
      const auto* f = std::get_if<model::FileData>(&ev.data);
      if (f == nullptr) return {"file", "info", {}};
      switch (f->op) {
        case model::FileOp::kOpen:
          return {"file", (f->file_flags & model::kFileCreated) ? "creation" : "access", {}};
        case model::FileOp::kMkdir:
        case model::FileOp::kSymlink:
        case model::FileOp::kLink:
          return {"file", "creation", {}};
        case model::FileOp::kUnlink:
        case model::FileOp::kRmdir:
          return {"file", "deletion", {}};
        case model::FileOp::kRename:
        case model::FileOp::kChmod:
        case model::FileOp::kChown:
        case model::FileOp::kTruncate:
          return {"file", "change", {}};
      }
      return {"file", "info", {}};
    }
    case EventKind::kNet: {
      const auto* n = std::get_if<model::NetData>(&ev.data);
      if (n != nullptr && (n->op == model::NetOp::kConnect || n->op == model::NetOp::kAccept)) {
        return {"network", "connection", "start"};
      }
      return {"network", "connection", {}};
    }
    case EventKind::kCred:
      return {"process", "change", {}};
    case EventKind::kPtrace:
      return {"process", "access", {}};
    case EventKind::kModule: {
      const auto* m = std::get_if<model::ModuleData>(&ev.data);
      return {"driver", (m != nullptr && m->op == model::ModuleOp::kDelete) ? "end" : "start", {}};
    }
    case EventKind::kBpf:
      return {"driver", "start", {}};
    case EventKind::kMount:
      return {"file", "change", {}};
    case EventKind::kSignal:
      return {"process", "access", {}};
    case EventKind::kTty:
      return {"session", "info", {}};
  }
  return {"process", "info", {}};
}

// --- flag names ------------------------------------------------------------------------------

struct FlagName {
  uint64_t bit;
  std::string_view name;
};

// Kernel O_LARGEFILE (glibc defines O_LARGEFILE as 0 on 64-bit targets).
#if defined(__x86_64__)
constexpr uint32_t kKernelOLargefile = 0100000;
#elif defined(__aarch64__)
constexpr uint32_t kKernelOLargefile = 0400000;
#else
constexpr uint32_t kKernelOLargefile = 0;
#endif

void write_open_flags(Json& j, uint32_t flags) {
  static constexpr FlagName kFlags[] = {
      {O_CREAT, "O_CREAT"},     {O_EXCL, "O_EXCL"},       {O_NOCTTY, "O_NOCTTY"},
      {O_TRUNC, "O_TRUNC"},     {O_APPEND, "O_APPEND"},   {O_NONBLOCK, "O_NONBLOCK"},
      {O_ASYNC, "O_ASYNC"},     {O_DIRECT, "O_DIRECT"},   {O_NOFOLLOW, "O_NOFOLLOW"},
      {O_NOATIME, "O_NOATIME"}, {O_CLOEXEC, "O_CLOEXEC"}, {O_PATH, "O_PATH"},
  };
  Arr a(j, "flags"_k);
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      j.elem_str("O_RDONLY");
      break;
    case O_WRONLY:
      j.elem_str("O_WRONLY");
      break;
    case O_RDWR:
      j.elem_str("O_RDWR");
      break;
    default:
      j.elem_str("O_ACCMODE");
      break;
  }
  for (const auto& f : kFlags) {
    if (flags & f.bit) j.elem_str(f.name);
  }
  if (kKernelOLargefile != 0 && (flags & kKernelOLargefile)) j.elem_str("O_LARGEFILE");
  // O_SYNC includes O_DSYNC; O_TMPFILE includes O_DIRECTORY.
  if ((flags & O_SYNC) == O_SYNC) {
    j.elem_str("O_SYNC");
  } else if (flags & O_DSYNC) {
    j.elem_str("O_DSYNC");
  }
  if ((flags & O_TMPFILE) == O_TMPFILE) {
    j.elem_str("O_TMPFILE");
  } else if (flags & O_DIRECTORY) {
    j.elem_str("O_DIRECTORY");
  }
}

void write_mount_flags(Json& j, const model::MountData& m) {
  static constexpr FlagName kMountFlags[] = {
      {MS_RDONLY, "MS_RDONLY"},
      {MS_NOSUID, "MS_NOSUID"},
      {MS_NODEV, "MS_NODEV"},
      {MS_NOEXEC, "MS_NOEXEC"},
      {MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
      {MS_REMOUNT, "MS_REMOUNT"},
      {MS_MANDLOCK, "MS_MANDLOCK"},
      {MS_DIRSYNC, "MS_DIRSYNC"},
      {256, "MS_NOSYMFOLLOW"},
      {MS_NOATIME, "MS_NOATIME"},
      {MS_NODIRATIME, "MS_NODIRATIME"},
      {MS_BIND, "MS_BIND"},
      {MS_MOVE, "MS_MOVE"},
      {MS_REC, "MS_REC"},
      {MS_SILENT, "MS_SILENT"},
      {MS_POSIXACL, "MS_POSIXACL"},
      {MS_UNBINDABLE, "MS_UNBINDABLE"},
      {MS_PRIVATE, "MS_PRIVATE"},
      {MS_SLAVE, "MS_SLAVE"},
      {MS_SHARED, "MS_SHARED"},
      {MS_RELATIME, "MS_RELATIME"},
      {MS_KERNMOUNT, "MS_KERNMOUNT"},
      {MS_I_VERSION, "MS_I_VERSION"},
      {MS_STRICTATIME, "MS_STRICTATIME"},
      {MS_LAZYTIME, "MS_LAZYTIME"},
  };
  static constexpr FlagName kUmountFlags[] = {
      {MNT_FORCE, "MNT_FORCE"},
      {MNT_DETACH, "MNT_DETACH"},
      {MNT_EXPIRE, "MNT_EXPIRE"},
      {UMOUNT_NOFOLLOW, "UMOUNT_NOFOLLOW"},
  };
  Arr a(j, "flag_names"_k);
  if (m.op == model::MountOp::kUmount) {
    for (const auto& f : kUmountFlags) {
      if (m.flags & f.bit) j.elem_str(f.name);
    }
  } else {
    // Like the kernel: a historic magic 0xC0ED in the upper 16 bits (MS_MGC_VAL) is no flag.
    uint64_t flags = m.flags;
    if ((flags & MS_MGC_MSK) == MS_MGC_VAL) flags &= ~static_cast<uint64_t>(MS_MGC_MSK);
    for (const auto& f : kMountFlags) {
      if (flags & f.bit) j.elem_str(f.name);
    }
  }
}

// --- sections --------------------------------------------------------------------------------

void write_event(Json& j, const model::Event& ev, const Outcome& oc) {
  Obj o(j, "event"_k);
  j.str("kind"_k, "event");
  j.str("module"_k, "privwatch");
  const Categorization c = categorize(ev);
  {
    Arr a(j, "category"_k);
    j.elem_str(c.category);
  }
  {
    Arr a(j, "type"_k);
    j.elem_str(c.type1);
    if (!c.type2.empty()) j.elem_str(c.type2);
  }
  j.str("action"_k, model::event_action(ev));
  if (oc.has) j.str("outcome"_k, oc.failed ? "failure" : "success");
}

void write_error(Json& j, const Outcome& oc) {
  if (!oc.has || !oc.failed || oc.result >= 0) return;
  const int err = static_cast<int>(-oc.result);
  Obj o(j, "error"_k);
  const std::string_view name = errno_name(err);
  if (!name.empty()) {
    j.str("code"_k, name);
  } else {
    j.quoted_num("code"_k, err);
  }
  if (const char* desc = strerrordesc_np(err)) j.str("message"_k, desc);
}

void write_process(Json& j, const model::Event& ev) {
  const model::ProcessContext& p = ev.proc;
  const auto* exec = std::get_if<model::ExecData>(&ev.data);
  Obj o(j, "process"_k);
  j.num("pid"_k, p.pid);
  {
    Obj t(j, "thread"_k);
    j.num("id"_k, p.tid);
  }
  j.str("name"_k, p.comm);
  // A failed exec loaded nothing: the process still runs its old program (ev.exe, from the
  // process table); what it tried to run is privwatch.exec.filename.
  if (exec != nullptr && !exec_failed(*exec) && !exec->exe_path.empty()) {
    j.str("executable"_k, exec->exe_path);
  } else {
    j.str("executable"_k, ev.exe);
  }
  if (exec != nullptr) {
    write_args(j, exec->args);
    j.str("working_directory"_k, exec->cwd);
  }
  if (const uint64_t start = boot_to_wall(ev, p.start_ns)) j.time("start"_k, start);
  j.entity_id("entity_id"_k, p.key());
  if (const auto* exit = std::get_if<model::ExitData>(&ev.data)) {
    j.num("exit_code"_k, exit->signal() != 0 ? 128 + exit->signal() : exit->status());
  }
  if (p.tty_dev != 0) {
    Obj t(j, "tty"_k);
    Obj cd(j, "char_device"_k);
    j.num("major"_k, p.tty_dev >> 20);
    j.num("minor"_k, p.tty_dev & 0xfffff);
  }
  {
    Obj parent(j, "parent"_k);
    j.num("pid"_k, p.ppid);
    if (const uint64_t start = boot_to_wall(ev, p.parent_start_ns)) j.time("start"_k, start);
    if (p.ppid != 0) j.entity_id("entity_id"_k, p.parent_key());
    j.str("executable"_k, ev.parent_exe);
    j.str("name"_k, ev.parent_comm);
    write_args(j, ev.parent_args);
  }
  if (const auto& s = ev.attr.session) {
    Obj el(j, "entry_leader"_k);  // ECS: the process that began the session
    j.num("pid"_k, s->leader.pid);
    j.entity_id("entity_id"_k, s->leader);
    if (s->start_wall_ns != 0) j.time("start"_k, s->start_wall_ns);
    j.str("executable"_k, s->leader_exe);
    {
      Obj m(j, "entry_meta"_k);
      j.str("type"_k, model::to_string(s->entry_type));
      if (!s->client_ip.empty()) {
        Obj src(j, "source"_k);
        j.str("ip"_k, s->client_ip);
        if (s->client_port != 0) j.num("port"_k, s->client_port);
      }
    }
    {
      Obj u(j, "user"_k);
      j.id("id"_k, s->uid);
      j.str("name"_k, s->user);
    }
  }
  {
    Obj u(j, "user"_k);  // ECS: process.user is the effective user
    j.id("id"_k, p.euid);
    j.str("name"_k, ev.effective_user_name);
  }
  {
    Obj u(j, "real_user"_k);
    j.id("id"_k, p.uid);
    j.str("name"_k, ev.user_name);
  }
  {
    Obj u(j, "saved_user"_k);
    j.id("id"_k, p.suid);
  }
  {
    Obj g(j, "group"_k);
    j.id("id"_k, p.egid);
  }
  {
    Obj g(j, "real_group"_k);
    j.id("id"_k, p.gid);
    j.str("name"_k, ev.group_name);
  }
}

void write_user(Json& j, const model::Event& ev) {
  const model::ProcessContext& p = ev.proc;
  {
    Obj u(j, "user"_k);
    j.id("id"_k, p.uid);
    j.str("name"_k, ev.user_name);
    {
      Obj e(j, "effective"_k);
      j.id("id"_k, p.euid);
      j.str("name"_k, ev.effective_user_name);
    }
    if (p.loginuid != model::kUnsetId) {
      Obj a(j, "audit"_k);
      j.id("id"_k, p.loginuid);
      j.str("name"_k, ev.login_user_name);
    }
  }
  Obj g(j, "group"_k);
  j.id("id"_k, p.gid);
  j.str("name"_k, ev.group_name);
}

void write_file(Json& j, const model::FileData& f) {
  Obj o(j, "file"_k);
  // symlink(target, linkpath): FileData.path is the link content and target_path the link
  // created. ECS wants file.path = the link and file.target_path = what it points to, which is
  // the content exactly as stored (a relative content resolves against the link's directory,
  // not the caller's cwd), so the requested string is preferred.
  const bool symlink = f.op == model::FileOp::kSymlink;
  if (symlink) {
    write_path_fields(j, f.target_path);
    j.str("target_path"_k,
          f.requested_path.empty() ? std::string_view(f.path) : std::string_view(f.requested_path));
  } else {
    write_path_fields(j, f.path);
    j.str("target_path"_k, f.target_path);
  }
  if (f.op == model::FileOp::kMkdir || f.op == model::FileOp::kRmdir) j.str("type"_k, "dir");
  if (symlink) j.str("type"_k, "symlink");
  const bool creating_open = f.op == model::FileOp::kOpen &&
                             ((f.open_flags & O_CREAT) || (f.open_flags & O_TMPFILE) == O_TMPFILE);
  if (f.op == model::FileOp::kChmod || f.op == model::FileOp::kMkdir || creating_open) {
    j.mode("mode"_k, f.mode);
  }
  if (f.op == model::FileOp::kChown) {
    if (f.uid != model::kUnsetId) j.id("uid"_k, f.uid);
    if (f.gid != model::kUnsetId) j.id("gid"_k, f.gid);
  }
}

template <size_t N>
void write_endpoint(Json& j, const Key<N>& k, uint16_t family, const std::array<uint8_t, 16>& addr,
                    uint16_t port, bool even_if_zero) {
  char buf[util::kIpTextMax];
  const size_t n = util::put_ip(buf, family, addr.data());
  if (n == 0) return;
  const size_t len = family == AF_INET ? 4 : 16;
  bool zero = port == 0;
  for (size_t i = 0; i < len && zero; ++i) zero = addr[i] == 0;
  if (zero && !even_if_zero) return;
  Obj o(j, k);
  j.str("ip"_k, std::string_view(buf, n));
  j.num("port"_k, port);
}

void write_network(Json& j, const model::NetData& n) {
  using model::NetOp;
  switch (n.op) {
    case NetOp::kConnect:
      write_endpoint(j, "source"_k, n.family, n.local_addr, n.local_port, false);
      write_endpoint(j, "destination"_k, n.family, n.remote_addr, n.remote_port, true);
      break;
    case NetOp::kAccept:
      write_endpoint(j, "source"_k, n.family, n.remote_addr, n.remote_port, true);
      write_endpoint(j, "destination"_k, n.family, n.local_addr, n.local_port, false);
      break;
    case NetOp::kBind:
    case NetOp::kListen:
      write_endpoint(j, "source"_k, n.family, n.local_addr, n.local_port, true);
      break;
  }
  Obj o(j, "network"_k);
  if (n.family == AF_INET || n.family == AF_INET6) {
    uint16_t proto = n.protocol;
    if (proto == 0 && n.sock_type == SOCK_STREAM) proto = IPPROTO_TCP;
    if (proto == 0 && n.sock_type == SOCK_DGRAM) proto = IPPROTO_UDP;
    if (proto == IPPROTO_TCP) j.str("transport"_k, "tcp");
    if (proto == IPPROTO_UDP) j.str("transport"_k, "udp");
    if (proto == IPPROTO_ICMP) j.str("transport"_k, "icmp");
    if (proto == IPPROTO_ICMPV6) j.str("transport"_k, "ipv6-icmp");
    if (proto != 0) {
      j.quoted_num("iana_number"_k, proto);
    }
  }
  if (n.family == AF_INET) j.str("type"_k, "ipv4");
  if (n.family == AF_INET6) j.str("type"_k, "ipv6");
  if (n.family == AF_UNIX) j.str("type"_k, "unix");
  if (n.op == NetOp::kConnect) j.str("direction"_k, "egress");
  if (n.op == NetOp::kAccept) j.str("direction"_k, "ingress");
}

std::string_view socket_type_name(uint16_t t) {
  switch (t) {
    case SOCK_STREAM:
      return "stream";
    case SOCK_DGRAM:
      return "dgram";
    case SOCK_RAW:
      return "raw";
    case SOCK_SEQPACKET:
      return "seqpacket";
    case SOCK_RDM:
      return "rdm";
    default:
      return {};
  }
}

// privwatch.cred.args: the values the kernel program (bpf/cred.bpf.c) stores in
// CredData::args for each call. Raw syscall arguments that are pointers (setgroups' list,
// capset's header and data) are never printed: the program stores what they point to.
void write_cred_args(Json& j, uint32_t nr, const std::array<uint64_t, 3>& a) {
  Arr arr(j, "args"_k);
  switch (nr) {
    case SYS_setresuid:  // ids; 4294967295 (-1) means "unchanged"
    case SYS_setresgid:
      j.elem_num(static_cast<uint32_t>(a[0]));
      j.elem_num(static_cast<uint32_t>(a[1]));
      j.elem_num(static_cast<uint32_t>(a[2]));
      break;
    case SYS_setreuid:
    case SYS_setregid:
      j.elem_num(static_cast<uint32_t>(a[0]));
      j.elem_num(static_cast<uint32_t>(a[1]));
      break;
    case SYS_setuid:
    case SYS_setgid:
    case SYS_setfsuid:
    case SYS_setfsgid:
      j.elem_num(static_cast<uint32_t>(a[0]));
      break;
    case SYS_setgroups:  // the count as passed (an int: may be negative), the first gid
      j.elem_num(static_cast<int32_t>(a[0]));
      j.elem_num(static_cast<uint32_t>(a[1]));  // 4294967295 when there is none
      break;
    case SYS_capset:  // the requested effective, permitted, inheritable sets (low 32 bits)
      j.elem_num(static_cast<uint32_t>(a[0]));
      j.elem_num(static_cast<uint32_t>(a[1]));
      j.elem_num(static_cast<uint32_t>(a[2]));
      break;
    default:  // not a call we know the layout of: print nothing rather than a pointer
      break;
  }
}

template <size_t N>
void write_creds(Json& j, const Key<N>& k, const model::Creds& c) {
  Obj o(j, k);
  j.num("uid"_k, c.uid);
  j.num("euid"_k, c.euid);
  j.num("suid"_k, c.suid);
  j.num("fsuid"_k, c.fsuid);
  j.num("gid"_k, c.gid);
  j.num("egid"_k, c.egid);
  j.num("sgid"_k, c.sgid);
  j.num("fsgid"_k, c.fsgid);
  j.hex64("cap_effective"_k, c.cap_effective);
  j.hex64("cap_permitted"_k, c.cap_permitted);
}

void write_payload_details(Json& j, const model::Event& ev) {
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, model::ExecData>) {
          Obj o(j, "exec"_k);
          j.str("filename"_k, d.filename);
          if (exec_failed(d)) write_attempted_path(j, ev.syscall, d);
          j.boolean("memfd"_k, d.flags & model::kExecMemfd);
          j.boolean("deleted"_k, d.flags & model::kExecDeleted);
          j.boolean("setuid"_k, d.flags & model::kExecSetuid);
          j.boolean("setgid"_k, d.flags & model::kExecSetgid);
          j.boolean("args_truncated"_k, d.flags & model::kExecArgsTruncated);
          j.num("args_size"_k, d.args_size);
          j.boolean("failed"_k, exec_failed(d));
          if (d.exe_ino != 0) {
            j.mode("exe_mode"_k, d.exe_mode);
            j.num("exe_uid"_k, d.exe_uid);
            j.num("exe_dev"_k, d.exe_dev);
            j.num("exe_ino"_k, d.exe_ino);
          }
        } else if constexpr (std::is_same_v<T, model::ForkData>) {
          Obj o(j, "fork"_k);
          j.num("child_pid"_k, d.child_pid);
          j.entity_id("child_entity_id"_k, {d.child_pid, model::ns_to_ticks(d.child_start_ns)});
          if (const uint64_t start = boot_to_wall(ev, d.child_start_ns))
            j.time("child_start"_k, start);
        } else if constexpr (std::is_same_v<T, model::ExitData>) {
          Obj o(j, "exit"_k);
          j.num("status"_k, d.status());
          j.num("signal"_k, d.signal());
          if (d.signal() != 0) {
            char buf[16];
            j.str("signal_name"_k, signal_name(static_cast<uint32_t>(d.signal()), buf));
          }
          j.boolean("core_dumped"_k, d.core_dumped());
        } else if constexpr (std::is_same_v<T, model::FileData>) {
          Obj o(j, "file"_k);
          const bool symlink = d.op == model::FileOp::kSymlink;
          j.str("requested_path"_k, symlink ? d.requested_target : d.requested_path);
          j.str("requested_target"_k, symlink ? d.requested_path : d.requested_target);
          if (d.op == model::FileOp::kOpen) write_open_flags(j, d.open_flags);
          j.boolean("created"_k, d.file_flags & model::kFileCreated);
          j.boolean("write"_k, d.file_flags & model::kFileWrite);
          j.boolean("fd_based"_k, d.file_flags & model::kFileFdBased);
          j.num("dirfd"_k, d.dirfd);
        } else if constexpr (std::is_same_v<T, model::NetData>) {
          Obj o(j, "net"_k);
          j.str("unix_path"_k, d.unix_path);
          j.num("fd"_k, d.fd);
          j.str("socket_type"_k, socket_type_name(d.sock_type));
          if (d.op == model::NetOp::kListen) j.num("backlog"_k, d.backlog);
        } else if constexpr (std::is_same_v<T, model::CredData>) {
          Obj o(j, "cred"_k);
          write_cred_args(j, ev.syscall, d.args);
          j.boolean("before_valid"_k, d.before_valid);
          if (d.before_valid) write_creds(j, "before"_k, d.before);
          write_creds(j, "after"_k, d.after);
        } else if constexpr (std::is_same_v<T, model::PtraceData>) {
          Obj o(j, "ptrace"_k);
          j.num("request"_k, d.request);
          j.str("request_name"_k, ptrace_request_name(d.request));
          j.num("target_pid"_k, d.target_pid);
        } else if constexpr (std::is_same_v<T, model::ModuleData>) {
          Obj o(j, "module"_k);
          switch (d.op) {
            case model::ModuleOp::kInit:
              j.str("op"_k, "init");
              break;
            case model::ModuleOp::kFinit:
              j.str("op"_k, "finit");
              break;
            case model::ModuleOp::kDelete:
              j.str("op"_k, "delete");
              break;
          }
          j.str("name"_k, d.name);
          j.str("params"_k, d.params);
          j.num("flags"_k, d.flags);
        } else if constexpr (std::is_same_v<T, model::BpfData>) {
          Obj o(j, "bpf"_k);
          j.num("cmd"_k, d.cmd);
          j.str("cmd_name"_k, bpf_cmd_name(d.cmd));
          if (d.prog_type != 0) {
            j.num("prog_type"_k, d.prog_type);
            j.str("prog_type_name"_k, bpf_prog_type_name(d.prog_type));
          }
          j.str("prog_name"_k, d.prog_name);
        } else if constexpr (std::is_same_v<T, model::MountData>) {
          Obj o(j, "mount"_k);
          j.str("op"_k, d.op == model::MountOp::kUmount ? "umount" : "mount");
          j.str("source"_k, d.source);
          j.str("target"_k, d.target);
          j.str("fstype"_k, d.fstype);
          j.num("flags"_k, d.flags);
          write_mount_flags(j, d);
        } else if constexpr (std::is_same_v<T, model::SignalData>) {
          Obj o(j, "signal"_k);
          j.num("number"_k, d.sig);
          char buf[16];
          j.str("name"_k, signal_name(d.sig, buf));
          j.num("target_pid"_k, d.target_pid);
        } else if constexpr (std::is_same_v<T, model::TtyData>) {
          Obj o(j, "tty"_k);
          j.str("op"_k, model::to_string(d.op));
          j.str("name"_k, d.tty);
          j.num("dev_major"_k, d.dev >> 20);
          j.num("dev_minor"_k, d.dev & 0xfffff);
          j.num("rows"_k, d.rows);
          j.num("cols"_k, d.cols);
          if (d.op != model::TtyOp::kResize) {
            j.num("bytes"_k, d.result);
            j.num("captured_bytes"_k, d.data.size());
          }
          if (d.flags & model::kTtyEchoOff) j.boolean("echo_off"_k, true);
          if (d.flags & model::kTtyTruncated) j.boolean("truncated"_k, true);
          if (d.flags & model::kTtySessionLimit) j.boolean("session_limit"_k, true);
          if (d.flags & model::kTtyReadFail) j.boolean("read_fail"_k, true);
          j.str("data"_k, d.data);  // invalid UTF-8 becomes U+FFFD; the recording keeps bytes
        }
      },
      ev.data);
}

// Identity and session (privwatch.*): who is behind the event, in which session.
void write_attribution(Json& j, const model::Attribution& a) {
  if (const auto& s = a.session) {
    Obj o(j, "session"_k);
    j.str("id"_k, s->id);
    j.str("parent_id"_k, s->parent_id);
    j.str("type"_k, model::to_string(s->entry_type));
    if (s->incomplete()) {
      j.boolean("incomplete"_k, true);
      j.num("lost_events"_k, s->lost_events);
    }
  }
  j.str("human"_k, a.human);
  if (!a.roles.empty()) {
    Arr r(j, "roles"_k);
    for (const auto& role : a.roles) j.elem_str(role);
  }
  j.str("cluster"_k, a.cluster);
  j.str("service_account"_k, a.service_account);
  j.boolean("escalated"_k, a.escalated);
  if (a.escalated && a.escalation != model::EscalationMethod::kUnknown) {
    j.str("escalation"_k, model::to_string(a.escalation));
  }
  if (a.drift != 0) {
    Obj d(j, "drift"_k);
    {
      Arr kinds(j, "kinds"_k);
      if (a.drift & model::kDriftExecutable) j.elem_str("executable");
      if (a.drift & model::kDriftFile) j.elem_str("file");
      if (a.drift & model::kDriftDestination) j.elem_str("destination");
      if (a.drift & model::kDriftShell) j.elem_str("shell");
      if (a.drift & model::kDriftNoGrant) j.elem_str("no_grant");
    }
    j.str("reason"_k, a.drift_reason);
  }
}

// ECS container.* / orchestrator.* from cgroup attribution.
void write_container(Json& j, const model::ContainerInfo& c) {
  if (c.empty()) return;
  {
    Obj o(j, "container"_k);
    j.str("id"_k, c.id);
    j.str("runtime"_k, c.runtime);
    j.str("name"_k, c.name);
    if (!c.image.empty()) {
      Obj i(j, "image"_k);
      j.str("name"_k, c.image);
    }
  }
  if (!c.pod_uid.empty() || !c.pod_name.empty() || !c.k8s_namespace.empty()) {
    Obj o(j, "orchestrator"_k);
    j.str("type"_k, "kubernetes");
    j.str("namespace"_k, c.k8s_namespace);
    {
      Obj r(j, "resource"_k);
      j.str("type"_k, "pod");
      j.str("id"_k, c.pod_uid);
      j.str("name"_k, c.pod_name);
    }
  }
}

void write_privwatch(Json& j, const model::Event& ev) {
  const model::ProcessContext& p = ev.proc;
  Obj o(j, "privwatch"_k);
  j.str("kind"_k, model::to_string(ev.kind));
  j.boolean("monitored"_k, ev.flags & model::kFlagMonitored);
  j.boolean("sensitive"_k, ev.flags & model::kFlagSensitive);
  j.boolean("truncated"_k, ev.flags & model::kFlagTruncated);
  j.boolean("read_failure"_k, ev.flags & model::kFlagReadFail);
  if (ev.flags & model::kFlagKilled) j.boolean("killed"_k, true);  // respond.kill enforced
  if (ev.syscall != ~0u) j.num("syscall"_k, ev.syscall);
  j.num("cgroup_id"_k, p.cgroup_id);
  j.num("pidns"_k, p.pidns);
  j.num("mntns"_k, p.mntns);
  if (p.sessionid != model::kUnsetId) j.num("audit_session_id"_k, p.sessionid);
  // A terminal event names its terminal in the privwatch.tty object (no duplicate key).
  if (ev.kind != EventKind::kTty) j.str("tty"_k, p.tty);
  write_attribution(j, ev.attr);
  write_payload_details(j, ev);
}

}  // namespace

// --- public helpers ------------------------------------------------------------------------

std::string_view errno_name(int err) {
  if (err <= 0) return {};
  if (const char* n = strerrorname_np(err)) return n;
  switch (err) {  // kernel-internal codes that can leak out of some syscalls
    case 512:
      return "ERESTARTSYS";
    case 513:
      return "ERESTARTNOINTR";
    case 514:
      return "ERESTARTNOHAND";
    case 515:
      return "ENOIOCTLCMD";
    case 516:
      return "ERESTART_RESTARTBLOCK";
    case 517:
      return "EPROBE_DEFER";
    case 518:
      return "EOPENSTALE";
    case 519:
      return "ENOPARAM";
    case 521:
      return "EBADHANDLE";
    case 522:
      return "ENOTSYNC";
    case 523:
      return "EBADCOOKIE";
    case 524:
      return "ENOTSUPP";
    case 525:
      return "ETOOSMALL";
    case 526:
      return "ESERVERFAULT";
    case 527:
      return "EBADTYPE";
    case 528:
      return "EJUKEBOX";
    case 529:
      return "EIOCBQUEUED";
    case 530:
      return "ERECALLCONFLICT";
    default:
      return {};
  }
}

std::string_view ptrace_request_name(int64_t request) {
  switch (request) {  // values from <linux/ptrace.h> and the x86 <asm/ptrace-abi.h>
    case 0:
      return "PTRACE_TRACEME";
    case 1:
      return "PTRACE_PEEKTEXT";
    case 2:
      return "PTRACE_PEEKDATA";
    case 3:
      return "PTRACE_PEEKUSER";
    case 4:
      return "PTRACE_POKETEXT";
    case 5:
      return "PTRACE_POKEDATA";
    case 6:
      return "PTRACE_POKEUSER";
    case 7:
      return "PTRACE_CONT";
    case 8:
      return "PTRACE_KILL";
    case 9:
      return "PTRACE_SINGLESTEP";
#if defined(__x86_64__)
    case 12:
      return "PTRACE_GETREGS";
    case 13:
      return "PTRACE_SETREGS";
    case 14:
      return "PTRACE_GETFPREGS";
    case 15:
      return "PTRACE_SETFPREGS";
    case 18:
      return "PTRACE_GETFPXREGS";
    case 19:
      return "PTRACE_SETFPXREGS";
    case 30:
      return "PTRACE_ARCH_PRCTL";
    case 31:
      return "PTRACE_SYSEMU";
    case 32:
      return "PTRACE_SYSEMU_SINGLESTEP";
    case 33:
      return "PTRACE_SINGLEBLOCK";
#endif
    case 16:
      return "PTRACE_ATTACH";
    case 17:
      return "PTRACE_DETACH";
    case 24:
      return "PTRACE_SYSCALL";
    case 0x4200:
      return "PTRACE_SETOPTIONS";
    case 0x4201:
      return "PTRACE_GETEVENTMSG";
    case 0x4202:
      return "PTRACE_GETSIGINFO";
    case 0x4203:
      return "PTRACE_SETSIGINFO";
    case 0x4204:
      return "PTRACE_GETREGSET";
    case 0x4205:
      return "PTRACE_SETREGSET";
    case 0x4206:
      return "PTRACE_SEIZE";
    case 0x4207:
      return "PTRACE_INTERRUPT";
    case 0x4208:
      return "PTRACE_LISTEN";
    case 0x4209:
      return "PTRACE_PEEKSIGINFO";
    case 0x420a:
      return "PTRACE_GETSIGMASK";
    case 0x420b:
      return "PTRACE_SETSIGMASK";
    case 0x420c:
      return "PTRACE_SECCOMP_GET_FILTER";
    case 0x420d:
      return "PTRACE_SECCOMP_GET_METADATA";
    case 0x420e:
      return "PTRACE_GET_SYSCALL_INFO";
    case 0x420f:
      return "PTRACE_GET_RSEQ_CONFIGURATION";
    default:
      return {};
  }
}

std::string_view bpf_cmd_name(uint32_t cmd) {
  static constexpr std::string_view kNames[] = {
      "BPF_MAP_CREATE",        "BPF_MAP_LOOKUP_ELEM",
      "BPF_MAP_UPDATE_ELEM",   "BPF_MAP_DELETE_ELEM",
      "BPF_MAP_GET_NEXT_KEY",  "BPF_PROG_LOAD",
      "BPF_OBJ_PIN",           "BPF_OBJ_GET",
      "BPF_PROG_ATTACH",       "BPF_PROG_DETACH",
      "BPF_PROG_TEST_RUN",     "BPF_PROG_GET_NEXT_ID",
      "BPF_MAP_GET_NEXT_ID",   "BPF_PROG_GET_FD_BY_ID",
      "BPF_MAP_GET_FD_BY_ID",  "BPF_OBJ_GET_INFO_BY_FD",
      "BPF_PROG_QUERY",        "BPF_RAW_TRACEPOINT_OPEN",
      "BPF_BTF_LOAD",          "BPF_BTF_GET_FD_BY_ID",
      "BPF_TASK_FD_QUERY",     "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
      "BPF_MAP_FREEZE",        "BPF_BTF_GET_NEXT_ID",
      "BPF_MAP_LOOKUP_BATCH",  "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
      "BPF_MAP_UPDATE_BATCH",  "BPF_MAP_DELETE_BATCH",
      "BPF_LINK_CREATE",       "BPF_LINK_UPDATE",
      "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
      "BPF_ENABLE_STATS",      "BPF_ITER_CREATE",
      "BPF_LINK_DETACH",       "BPF_PROG_BIND_MAP",
      "BPF_TOKEN_CREATE",
  };
  return cmd < std::size(kNames) ? kNames[cmd] : std::string_view{};
}

std::string_view bpf_prog_type_name(uint32_t type) {
  static constexpr std::string_view kNames[] = {
      "BPF_PROG_TYPE_UNSPEC",
      "BPF_PROG_TYPE_SOCKET_FILTER",
      "BPF_PROG_TYPE_KPROBE",
      "BPF_PROG_TYPE_SCHED_CLS",
      "BPF_PROG_TYPE_SCHED_ACT",
      "BPF_PROG_TYPE_TRACEPOINT",
      "BPF_PROG_TYPE_XDP",
      "BPF_PROG_TYPE_PERF_EVENT",
      "BPF_PROG_TYPE_CGROUP_SKB",
      "BPF_PROG_TYPE_CGROUP_SOCK",
      "BPF_PROG_TYPE_LWT_IN",
      "BPF_PROG_TYPE_LWT_OUT",
      "BPF_PROG_TYPE_LWT_XMIT",
      "BPF_PROG_TYPE_SOCK_OPS",
      "BPF_PROG_TYPE_SK_SKB",
      "BPF_PROG_TYPE_CGROUP_DEVICE",
      "BPF_PROG_TYPE_SK_MSG",
      "BPF_PROG_TYPE_RAW_TRACEPOINT",
      "BPF_PROG_TYPE_CGROUP_SOCK_ADDR",
      "BPF_PROG_TYPE_LWT_SEG6LOCAL",
      "BPF_PROG_TYPE_LIRC_MODE2",
      "BPF_PROG_TYPE_SK_REUSEPORT",
      "BPF_PROG_TYPE_FLOW_DISSECTOR",
      "BPF_PROG_TYPE_CGROUP_SYSCTL",
      "BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE",
      "BPF_PROG_TYPE_CGROUP_SOCKOPT",
      "BPF_PROG_TYPE_TRACING",
      "BPF_PROG_TYPE_STRUCT_OPS",
      "BPF_PROG_TYPE_EXT",
      "BPF_PROG_TYPE_LSM",
      "BPF_PROG_TYPE_SK_LOOKUP",
      "BPF_PROG_TYPE_SYSCALL",
      "BPF_PROG_TYPE_NETFILTER",
  };
  return type < std::size(kNames) ? kNames[type] : std::string_view{};
}

std::string_view signal_name(uint32_t sig, char (&buf)[16]) {
  static constexpr std::string_view kNames[] = {
      {},          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
  };
  if (sig < std::size(kNames)) return kNames[sig];
  if (sig > 64) return {};
  // 32 and 33 are reserved by glibc; `kill -l` counts SIGRTMIN from 34 and SIGRTMAX from 64.
  std::string_view prefix;
  uint32_t n = 0;
  if (sig < 34) {
    prefix = "SIG";
    n = sig;
  } else if (sig == 34) {
    return "SIGRTMIN";
  } else if (sig == 64) {
    return "SIGRTMAX";
  } else if (sig <= 49) {
    prefix = "SIGRTMIN+";
    n = sig - 34;
  } else {
    prefix = "SIGRTMAX-";
    n = 64 - sig;
  }
  std::memcpy(buf, prefix.data(), prefix.size());
  auto r = std::to_chars(buf + prefix.size(), buf + sizeof(buf), n);
  return {buf, static_cast<size_t>(r.ptr - buf)};
}

// --- the event -------------------------------------------------------------------------------

void append_ecs_json(const model::Event& ev, std::string& out, std::string_view hostname) {
  const Outcome oc = outcome_of(ev.data);
  Json j(out);
  j.time("@timestamp"_k, ev.wall_time_ns);
  write_event(j, ev, oc);
  if (!hostname.empty()) {
    Obj h(j, "host"_k);
    j.str("hostname"_k, hostname);
    j.str("name"_k, hostname);
  }
  write_process(j, ev);
  write_user(j, ev);
  if (const auto* f = std::get_if<model::FileData>(&ev.data)) {
    write_file(j, *f);
  } else if (const auto* m = std::get_if<model::MountData>(&ev.data)) {
    Obj o(j, "file"_k);  // the mount point: lets file.path queries see mounts over a path
    write_path_fields(j, m->target);
  }
  if (const auto* n = std::get_if<model::NetData>(&ev.data)) write_network(j, *n);
  write_error(j, oc);
  write_container(j, ev.attr.container);
  write_privwatch(j, ev);
  j.finish();
}

}  // namespace privwatch::exporter
