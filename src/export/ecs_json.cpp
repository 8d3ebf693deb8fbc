#include "export/ecs_json.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cassert>
#include <charconv>
#include <cstring>
#include <type_traits>

#include "util/path.hpp"

namespace privwatch::exporter {

using model::EventKind;

namespace {

// --- low-level appends ---------------------------------------------------------------------

template <typename T>
void append_int(std::string& out, T v) {
  static_assert(std::is_integral_v<T>);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Bytes of the valid UTF-8 sequence starting at p (lead byte >= 0x80), 0 when invalid
// (Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence_len(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  const size_t avail = static_cast<size_t>(end - p);
  auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < avail && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// The inside of a JSON string (no quotes).
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  const auto* run = p;
  auto flush_run = [&] { out.append(reinterpret_cast<const char*>(run), p - run); };
  while (p < end) {
    const unsigned char c = *p;
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++p;
      continue;
    }
    flush_run();
    if (c >= 0x80) {
      const size_t n = utf8_sequence_len(p, end);
      if (n != 0) {
        out.append(reinterpret_cast<const char*>(p), n);
        p += n;
      } else {
        out.append("\\ufffd");
        ++p;
      }
      run = p;
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, sizeof(esc));
      }
    }
    ++p;
    run = p;
  }
  flush_run();
}

// "0755": permission bits (with setuid/setgid/sticky), at least four octal digits.
void append_mode(std::string& out, uint32_t mode) {
  char buf[8];
  mode &= 07777;
  for (int i = 3; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + (mode & 7));
    mode >>= 3;
  }
  out.push_back('"');
  out.append(buf, 4);
  out.push_back('"');
}

// --- a JSON object writer that drops empty objects -----------------------------------------

class Json {
 public:
  explicit Json(std::string& out) : out_(out) {
    out_.push_back('{');
    frames_[0] = {out_.size(), true, true};
  }
  void finish() {
    assert(depth_ == 0);
    out_.push_back('}');
  }

  // Nested object or array; removed again on close() when nothing was written into it.
  void open(std::string_view k, char bracket = '{') {
    const size_t mark = out_.size();
    const bool parent_first = frames_[depth_].first;
    key(k);
    out_.push_back(bracket);
    assert(depth_ + 1 < kMaxDepth);
    frames_[++depth_] = {mark, true, parent_first};
  }
  void close(char bracket = '}') {
    const Frame f = frames_[depth_--];
    if (f.first) {
      out_.resize(f.mark);
      frames_[depth_].first = f.parent_first;
    } else {
      out_.push_back(bracket);
    }
  }

  void str(std::string_view k, std::string_view v) {
    if (v.empty()) return;
    key(k);
    append_json_string(out_, v);
  }
  template <typename T>
  void num(std::string_view k, T v) {
    key(k);
    append_int(out_, v);
  }
  // A numeric id as a string (ECS keyword fields such as user.id).
  void id(std::string_view k, uint32_t v) {
    key(k);
    out_.push_back('"');
    append_int(out_, v);
    out_.push_back('"');
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    out_.append(v ? "true" : "false");
  }
  void time(std::string_view k, uint64_t epoch_ns) {
    key(k);
    out_.push_back('"');
    append_rfc3339(out_, epoch_ns);
    out_.push_back('"');
  }
  void mode(std::string_view k, uint32_t m) {
    key(k);
    append_mode(out_, m);
  }
  void hex64(std::string_view k, uint64_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    char buf[18] = {'"'};
    for (int i = 16; i >= 1; --i, v >>= 4) buf[i] = kHex[v & 0xF];
    buf[17] = '"';
    key(k);
    out_.append(buf, sizeof(buf));
  }
  // Array elements.
  void elem_str(std::string_view v) {
    comma();
    append_json_string(out_, v);
  }
  template <typename T>
  void elem_num(T v) {
    comma();
    append_int(out_, v);
  }
  // Raw access for values assembled in place (command_line).
  std::string& raw_value(std::string_view k) {
    key(k);
    return out_;
  }

 private:
  static constexpr int kMaxDepth = 8;
  static constexpr size_t kMaxKey = 32;
  struct Frame {
    size_t mark;        // out_ size before this frame's key: rollback point
    bool first;         // nothing written in this frame yet
    bool parent_first;  // parent's `first` before this frame's key
  };

  void comma() {
    if (!frames_[depth_].first) out_.push_back(',');
    frames_[depth_].first = false;
  }
  void key(std::string_view k) {  // keys are short literals: no escaping, one append
    char buf[kMaxKey + 4];
    size_t n = 0;
    if (!frames_[depth_].first) buf[n++] = ',';
    frames_[depth_].first = false;
    buf[n++] = '"';
    assert(k.size() <= kMaxKey);
    if (k.size() > kMaxKey) k = k.substr(0, kMaxKey);
    std::memcpy(buf + n, k.data(), k.size());
    n += k.size();
    buf[n++] = '"';
    buf[n++] = ':';
    out_.append(buf, n);
  }

  std::string& out_;
  Frame frames_[kMaxDepth];
  int depth_ = 0;
};

// Scoped nested object / array.
class Obj {
 public:
  Obj(Json& j, std::string_view k) : j_(j) { j_.open(k); }
  ~Obj() { j_.close(); }
  Obj(const Obj&) = delete;
  Obj& operator=(const Obj&) = delete;

 private:
  Json& j_;
};

class Arr {
 public:
  Arr(Json& j, std::string_view k) : j_(j) { j_.open(k, '['); }
  ~Arr() { j_.close(']'); }
  Arr(const Arr&) = delete;
  Arr& operator=(const Arr&) = delete;

 private:
  Json& j_;
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
  j.str("path", path);
  j.str("name", basename_of(path));
  j.str("directory", dirname_of(path));
}

void write_args(Json& j, const std::vector<std::string>& args) {
  if (args.empty()) return;
  {
    Arr a(j, "args");
    for (const auto& s : args) j.elem_str(s);
  }
  j.num("args_count", args.size());
  std::string& out = j.raw_value("command_line");
  out.push_back('"');
  for (size_t i = 0; i < args.size(); ++i) {
    if (i != 0) out.push_back(' ');
    append_escaped(out, args[i]);
  }
  out.push_back('"');
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
    j.str("attempted_path", normalize_path({}, f));
    return;
  }
  if (syscall != SYS_execve || d.cwd.empty() || d.cwd.front() != '/') return;
  j.str("attempted_path", normalize_path(d.cwd, f));
}

// Boot-time ns → epoch ns using the event's (wall, boot) clock pair; 0 when unknown.
uint64_t boot_to_wall(const model::Event& ev, uint64_t boot_ns) {
  if (boot_ns == 0 || ev.wall_time_ns == 0) return 0;
  const int64_t offset = static_cast<int64_t>(ev.wall_time_ns - ev.ts_ns);
  const int64_t wall = static_cast<int64_t>(boot_ns) + offset;
  return wall > 0 ? static_cast<uint64_t>(wall) : 0;
}

void write_entity_id(Json& j, std::string_view k, model::ProcessKey key) {
  std::string& out = j.raw_value(k);
  out.push_back('"');
  append_int(out, key.pid);
  out.push_back('-');
  append_int(out, key.start_ticks);
  out.push_back('"');
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
  Arr a(j, "flags");
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
  Arr a(j, "flag_names");
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
  Obj o(j, "event");
  j.str("kind", "event");
  j.str("module", "privwatch");
  const Categorization c = categorize(ev);
  {
    Arr a(j, "category");
    j.elem_str(c.category);
  }
  {
    Arr a(j, "type");
    j.elem_str(c.type1);
    if (!c.type2.empty()) j.elem_str(c.type2);
  }
  j.str("action", model::event_action(ev));
  if (oc.has) j.str("outcome", oc.failed ? "failure" : "success");
}

void write_error(Json& j, const Outcome& oc) {
  if (!oc.has || !oc.failed || oc.result >= 0) return;
  const int err = static_cast<int>(-oc.result);
  Obj o(j, "error");
  const std::string_view name = errno_name(err);
  if (!name.empty()) {
    j.str("code", name);
  } else {
    std::string& out = j.raw_value("code");
    out.push_back('"');
    append_int(out, err);
    out.push_back('"');
  }
  if (const char* desc = strerrordesc_np(err)) j.str("message", desc);
}

void write_process(Json& j, const model::Event& ev) {
  const model::ProcessContext& p = ev.proc;
  const auto* exec = std::get_if<model::ExecData>(&ev.data);
  Obj o(j, "process");
  j.num("pid", p.pid);
  {
    Obj t(j, "thread");
    j.num("id", p.tid);
  }
  j.str("name", p.comm);
  // A failed exec loaded nothing: the process still runs its old program (ev.exe, from the
  // process table); what it tried to run is privwatch.exec.filename.
  if (exec != nullptr && !exec_failed(*exec) && !exec->exe_path.empty()) {
    j.str("executable", exec->exe_path);
  } else {
    j.str("executable", ev.exe);
  }
  if (exec != nullptr) {
    write_args(j, exec->args);
    j.str("working_directory", exec->cwd);
  }
  if (const uint64_t start = boot_to_wall(ev, p.start_ns)) j.time("start", start);
  write_entity_id(j, "entity_id", p.key());
  if (const auto* exit = std::get_if<model::ExitData>(&ev.data)) {
    j.num("exit_code", exit->signal() != 0 ? 128 + exit->signal() : exit->status());
  }
  if (p.tty_dev != 0) {
    Obj t(j, "tty");
    Obj cd(j, "char_device");
    j.num("major", p.tty_dev >> 20);
    j.num("minor", p.tty_dev & 0xfffff);
  }
  {
    Obj parent(j, "parent");
    j.num("pid", p.ppid);
    if (const uint64_t start = boot_to_wall(ev, p.parent_start_ns)) j.time("start", start);
    if (p.ppid != 0) write_entity_id(j, "entity_id", p.parent_key());
    j.str("executable", ev.parent_exe);
    j.str("name", ev.parent_comm);
    write_args(j, ev.parent_args);
  }
  if (const auto& s = ev.attr.session) {
    Obj el(j, "entry_leader");  // ECS: the process that began the session
    j.num("pid", s->leader.pid);
    write_entity_id(j, "entity_id", s->leader);
    if (s->start_wall_ns != 0) j.time("start", s->start_wall_ns);
    j.str("executable", s->leader_exe);
    {
      Obj m(j, "entry_meta");
      j.str("type", model::to_string(s->entry_type));
      if (!s->client_ip.empty()) {
        Obj src(j, "source");
        j.str("ip", s->client_ip);
        if (s->client_port != 0) j.num("port", s->client_port);
      }
    }
    {
      Obj u(j, "user");
      j.id("id", s->uid);
      j.str("name", s->user);
    }
  }
  {
    Obj u(j, "user");  // ECS: process.user is the effective user
    j.id("id", p.euid);
    j.str("name", ev.effective_user_name);
  }
  {
    Obj u(j, "real_user");
    j.id("id", p.uid);
    j.str("name", ev.user_name);
  }
  {
    Obj u(j, "saved_user");
    j.id("id", p.suid);
  }
  {
    Obj g(j, "group");
    j.id("id", p.egid);
  }
  {
    Obj g(j, "real_group");
    j.id("id", p.gid);
    j.str("name", ev.group_name);
  }
}

void write_user(Json& j, const model::Event& ev) {
  const model::ProcessContext& p = ev.proc;
  {
    Obj u(j, "user");
    j.id("id", p.uid);
    j.str("name", ev.user_name);
    {
      Obj e(j, "effective");
      j.id("id", p.euid);
      j.str("name", ev.effective_user_name);
    }
    if (p.loginuid != model::kUnsetId) {
      Obj a(j, "audit");
      j.id("id", p.loginuid);
      j.str("name", ev.login_user_name);
    }
  }
  Obj g(j, "group");
  j.id("id", p.gid);
  j.str("name", ev.group_name);
}

void write_file(Json& j, const model::FileData& f) {
  Obj o(j, "file");
  // symlink(target, linkpath): FileData.path is the link content and target_path the link
  // created. ECS wants file.path = the link and file.target_path = what it points to, which is
  // the content exactly as stored (a relative content resolves against the link's directory,
  // not the caller's cwd), so the requested string is preferred.
  const bool symlink = f.op == model::FileOp::kSymlink;
  if (symlink) {
    write_path_fields(j, f.target_path);
    j.str("target_path",
          f.requested_path.empty() ? std::string_view(f.path) : std::string_view(f.requested_path));
  } else {
    write_path_fields(j, f.path);
    j.str("target_path", f.target_path);
  }
  if (f.op == model::FileOp::kMkdir || f.op == model::FileOp::kRmdir) j.str("type", "dir");
  if (symlink) j.str("type", "symlink");
  const bool creating_open = f.op == model::FileOp::kOpen &&
                             ((f.open_flags & O_CREAT) || (f.open_flags & O_TMPFILE) == O_TMPFILE);
  if (f.op == model::FileOp::kChmod || f.op == model::FileOp::kMkdir || creating_open) {
    j.mode("mode", f.mode);
  }
  if (f.op == model::FileOp::kChown) {
    if (f.uid != model::kUnsetId) j.id("uid", f.uid);
    if (f.gid != model::kUnsetId) j.id("gid", f.gid);
  }
}

// Formats a 4/16-byte address into buf; false when the family is not IPv4/IPv6.
bool ip_of(uint16_t family, const std::array<uint8_t, 16>& a, char (&buf)[INET6_ADDRSTRLEN]) {
  if (family != AF_INET && family != AF_INET6) return false;
  return inet_ntop(family, a.data(), buf, sizeof(buf)) != nullptr;
}

void write_endpoint(Json& j, std::string_view k, uint16_t family,
                    const std::array<uint8_t, 16>& addr, uint16_t port, bool even_if_zero) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!ip_of(family, addr, buf)) return;
  const size_t len = family == AF_INET ? 4 : 16;
  bool zero = port == 0;
  for (size_t i = 0; i < len && zero; ++i) zero = addr[i] == 0;
  if (zero && !even_if_zero) return;
  Obj o(j, k);
  j.str("ip", buf);
  j.num("port", port);
}

void write_network(Json& j, const model::NetData& n) {
  using model::NetOp;
  switch (n.op) {
    case NetOp::kConnect:
      write_endpoint(j, "source", n.family, n.local_addr, n.local_port, false);
      write_endpoint(j, "destination", n.family, n.remote_addr, n.remote_port, true);
      break;
    case NetOp::kAccept:
      write_endpoint(j, "source", n.family, n.remote_addr, n.remote_port, true);
      write_endpoint(j, "destination", n.family, n.local_addr, n.local_port, false);
      break;
    case NetOp::kBind:
    case NetOp::kListen:
      write_endpoint(j, "source", n.family, n.local_addr, n.local_port, true);
      break;
  }
  Obj o(j, "network");
  if (n.family == AF_INET || n.family == AF_INET6) {
    uint16_t proto = n.protocol;
    if (proto == 0 && n.sock_type == SOCK_STREAM) proto = IPPROTO_TCP;
    if (proto == 0 && n.sock_type == SOCK_DGRAM) proto = IPPROTO_UDP;
    if (proto == IPPROTO_TCP) j.str("transport", "tcp");
    if (proto == IPPROTO_UDP) j.str("transport", "udp");
    if (proto == IPPROTO_ICMP) j.str("transport", "icmp");
    if (proto == IPPROTO_ICMPV6) j.str("transport", "ipv6-icmp");
    if (proto != 0) {
      std::string& out = j.raw_value("iana_number");
      out.push_back('"');
      append_int(out, proto);
      out.push_back('"');
    }
  }
  if (n.family == AF_INET) j.str("type", "ipv4");
  if (n.family == AF_INET6) j.str("type", "ipv6");
  if (n.family == AF_UNIX) j.str("type", "unix");
  if (n.op == NetOp::kConnect) j.str("direction", "egress");
  if (n.op == NetOp::kAccept) j.str("direction", "ingress");
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
  Arr arr(j, "args");
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

void write_creds(Json& j, std::string_view k, const model::Creds& c) {
  Obj o(j, k);
  j.num("uid", c.uid);
  j.num("euid", c.euid);
  j.num("suid", c.suid);
  j.num("fsuid", c.fsuid);
  j.num("gid", c.gid);
  j.num("egid", c.egid);
  j.num("sgid", c.sgid);
  j.num("fsgid", c.fsgid);
  j.hex64("cap_effective", c.cap_effective);
  j.hex64("cap_permitted", c.cap_permitted);
}

void write_payload_details(Json& j, const model::Event& ev) {
  std::visit(
      [&](const auto& d) {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, model::ExecData>) {
          Obj o(j, "exec");
          j.str("filename", d.filename);
          if (exec_failed(d)) write_attempted_path(j, ev.syscall, d);
          j.boolean("memfd", d.flags & model::kExecMemfd);
          j.boolean("deleted", d.flags & model::kExecDeleted);
          j.boolean("setuid", d.flags & model::kExecSetuid);
          j.boolean("setgid", d.flags & model::kExecSetgid);
          j.boolean("args_truncated", d.flags & model::kExecArgsTruncated);
          j.num("args_size", d.args_size);
          j.boolean("failed", exec_failed(d));
          if (d.exe_ino != 0) {
            j.mode("exe_mode", d.exe_mode);
            j.num("exe_uid", d.exe_uid);
            j.num("exe_dev", d.exe_dev);
            j.num("exe_ino", d.exe_ino);
          }
        } else if constexpr (std::is_same_v<T, model::ForkData>) {
          Obj o(j, "fork");
          j.num("child_pid", d.child_pid);
          write_entity_id(j, "child_entity_id",
                          {d.child_pid, model::ns_to_ticks(d.child_start_ns)});
          if (const uint64_t start = boot_to_wall(ev, d.child_start_ns))
            j.time("child_start", start);
        } else if constexpr (std::is_same_v<T, model::ExitData>) {
          Obj o(j, "exit");
          j.num("status", d.status());
          j.num("signal", d.signal());
          if (d.signal() != 0) {
            char buf[16];
            j.str("signal_name", signal_name(static_cast<uint32_t>(d.signal()), buf));
          }
          j.boolean("core_dumped", d.core_dumped());
        } else if constexpr (std::is_same_v<T, model::FileData>) {
          Obj o(j, "file");
          const bool symlink = d.op == model::FileOp::kSymlink;
          j.str("requested_path", symlink ? d.requested_target : d.requested_path);
          j.str("requested_target", symlink ? d.requested_path : d.requested_target);
          if (d.op == model::FileOp::kOpen) write_open_flags(j, d.open_flags);
          j.boolean("created", d.file_flags & model::kFileCreated);
          j.boolean("write", d.file_flags & model::kFileWrite);
          j.boolean("fd_based", d.file_flags & model::kFileFdBased);
          j.num("dirfd", d.dirfd);
        } else if constexpr (std::is_same_v<T, model::NetData>) {
          Obj o(j, "net");
          j.str("unix_path", d.unix_path);
          j.num("fd", d.fd);
          j.str("socket_type", socket_type_name(d.sock_type));
          if (d.op == model::NetOp::kListen) j.num("backlog", d.backlog);
        } else if constexpr (std::is_same_v<T, model::CredData>) {
          Obj o(j, "cred");
          write_cred_args(j, ev.syscall, d.args);
          j.boolean("before_valid", d.before_valid);
          if (d.before_valid) write_creds(j, "before", d.before);
          write_creds(j, "after", d.after);
        } else if constexpr (std::is_same_v<T, model::PtraceData>) {
          Obj o(j, "ptrace");
          j.num("request", d.request);
          j.str("request_name", ptrace_request_name(d.request));
          j.num("target_pid", d.target_pid);
        } else if constexpr (std::is_same_v<T, model::ModuleData>) {
          Obj o(j, "module");
          switch (d.op) {
            case model::ModuleOp::kInit:
              j.str("op", "init");
              break;
            case model::ModuleOp::kFinit:
              j.str("op", "finit");
              break;
            case model::ModuleOp::kDelete:
              j.str("op", "delete");
              break;
          }
          j.str("name", d.name);
          j.str("params", d.params);
          j.num("flags", d.flags);
        } else if constexpr (std::is_same_v<T, model::BpfData>) {
          Obj o(j, "bpf");
          j.num("cmd", d.cmd);
          j.str("cmd_name", bpf_cmd_name(d.cmd));
          if (d.prog_type != 0) {
            j.num("prog_type", d.prog_type);
            j.str("prog_type_name", bpf_prog_type_name(d.prog_type));
          }
          j.str("prog_name", d.prog_name);
        } else if constexpr (std::is_same_v<T, model::MountData>) {
          Obj o(j, "mount");
          j.str("op", d.op == model::MountOp::kUmount ? "umount" : "mount");
          j.str("source", d.source);
          j.str("target", d.target);
          j.str("fstype", d.fstype);
          j.num("flags", d.flags);
          write_mount_flags(j, d);
        } else if constexpr (std::is_same_v<T, model::SignalData>) {
          Obj o(j, "signal");
          j.num("number", d.sig);
          char buf[16];
          j.str("name", signal_name(d.sig, buf));
          j.num("target_pid", d.target_pid);
        } else if constexpr (std::is_same_v<T, model::TtyData>) {
          Obj o(j, "tty");
          j.str("op", model::to_string(d.op));
          j.str("name", d.tty);
          j.num("dev_major", d.dev >> 20);
          j.num("dev_minor", d.dev & 0xfffff);
          j.num("rows", d.rows);
          j.num("cols", d.cols);
          if (d.op != model::TtyOp::kResize) {
            j.num("bytes", d.result);
            j.num("captured_bytes", d.data.size());
          }
          if (d.flags & model::kTtyEchoOff) j.boolean("echo_off", true);
          if (d.flags & model::kTtyTruncated) j.boolean("truncated", true);
          if (d.flags & model::kTtySessionLimit) j.boolean("session_limit", true);
          if (d.flags & model::kTtyReadFail) j.boolean("read_fail", true);
          j.str("data", d.data);  // invalid UTF-8 becomes U+FFFD; the recording keeps bytes
        }
      },
      ev.data);
}

// Identity and session (privwatch.*): who is behind the event, in which session.
void write_attribution(Json& j, const model::Attribution& a) {
  if (const auto& s = a.session) {
    Obj o(j, "session");
    j.str("id", s->id);
    j.str("parent_id", s->parent_id);
    j.str("type", model::to_string(s->entry_type));
    if (s->incomplete()) {
      j.boolean("incomplete", true);
      j.num("lost_events", s->lost_events);
    }
  }
  j.str("human", a.human);
  if (!a.roles.empty()) {
    Arr r(j, "roles");
    for (const auto& role : a.roles) j.elem_str(role);
  }
  j.str("cluster", a.cluster);
  j.str("service_account", a.service_account);
  j.boolean("escalated", a.escalated);
  if (a.escalated && a.escalation != model::EscalationMethod::kUnknown) {
    j.str("escalation", model::to_string(a.escalation));
  }
  if (a.drift != 0) {
    Obj d(j, "drift");
    {
      Arr kinds(j, "kinds");
      if (a.drift & model::kDriftExecutable) j.elem_str("executable");
      if (a.drift & model::kDriftFile) j.elem_str("file");
      if (a.drift & model::kDriftDestination) j.elem_str("destination");
      if (a.drift & model::kDriftShell) j.elem_str("shell");
      if (a.drift & model::kDriftNoGrant) j.elem_str("no_grant");
    }
    j.str("reason", a.drift_reason);
  }
}

// ECS container.* / orchestrator.* from cgroup attribution.
void write_container(Json& j, const model::ContainerInfo& c) {
  if (c.empty()) return;
  {
    Obj o(j, "container");
    j.str("id", c.id);
    j.str("runtime", c.runtime);
    j.str("name", c.name);
    if (!c.image.empty()) {
      Obj i(j, "image");
      j.str("name", c.image);
    }
  }
  if (!c.pod_uid.empty() || !c.pod_name.empty() || !c.k8s_namespace.empty()) {
    Obj o(j, "orchestrator");
    j.str("type", "kubernetes");
    j.str("namespace", c.k8s_namespace);
    {
      Obj r(j, "resource");
      j.str("type", "pod");
      j.str("id", c.pod_uid);
      j.str("name", c.pod_name);
    }
  }
}

void write_privwatch(Json& j, const model::Event& ev) {
  const model::ProcessContext& p = ev.proc;
  Obj o(j, "privwatch");
  j.str("kind", model::to_string(ev.kind));
  j.boolean("monitored", ev.flags & model::kFlagMonitored);
  j.boolean("sensitive", ev.flags & model::kFlagSensitive);
  j.boolean("truncated", ev.flags & model::kFlagTruncated);
  j.boolean("read_failure", ev.flags & model::kFlagReadFail);
  if (ev.flags & model::kFlagKilled) j.boolean("killed", true);  // respond.kill enforced
  if (ev.syscall != ~0u) j.num("syscall", ev.syscall);
  j.num("cgroup_id", p.cgroup_id);
  j.num("pidns", p.pidns);
  j.num("mntns", p.mntns);
  if (p.sessionid != model::kUnsetId) j.num("audit_session_id", p.sessionid);
  // A terminal event names its terminal in the privwatch.tty object (no duplicate key).
  if (ev.kind != EventKind::kTty) j.str("tty", p.tty);
  write_attribution(j, ev.attr);
  write_payload_details(j, ev);
}

}  // namespace

// --- public helpers ------------------------------------------------------------------------

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  append_escaped(out, s);
  out.push_back('"');
}

void append_rfc3339(std::string& out, uint64_t epoch_ns) {
  const uint64_t secs = epoch_ns / 1'000'000'000ull;
  uint32_t frac = static_cast<uint32_t>(epoch_ns % 1'000'000'000ull);
  const int64_t days = static_cast<int64_t>(secs / 86400);
  uint32_t sod = static_cast<uint32_t>(secs % 86400);

  // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-compatible date algorithms").
  const int64_t z = days + 719468;
  const int64_t era = z / 146097;  // z >= 0: epoch_ns is unsigned
  const auto doe = static_cast<uint32_t>(z - era * 146097);
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint32_t mp = (5 * doy + 2) / 153;
  const uint32_t day = doy - (153 * mp + 2) / 5 + 1;
  const uint32_t month = mp < 10 ? mp + 3 : mp - 9;
  const auto year = static_cast<uint32_t>(static_cast<int64_t>(yoe) + era * 400 + (month <= 2));

  char buf[30];
  auto put = [&buf](int pos, uint32_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[pos + i] = static_cast<char>('0' + v % 10);
  };
  put(0, year, 4);
  buf[4] = '-';
  put(5, month, 2);
  buf[7] = '-';
  put(8, day, 2);
  buf[10] = 'T';
  put(11, sod / 3600, 2);
  buf[13] = ':';
  put(14, (sod / 60) % 60, 2);
  buf[16] = ':';
  put(17, sod % 60, 2);
  buf[19] = '.';
  put(20, frac, 9);
  buf[29] = 'Z';
  out.append(buf, sizeof(buf));
}

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
  j.time("@timestamp", ev.wall_time_ns);
  write_event(j, ev, oc);
  if (!hostname.empty()) {
    Obj h(j, "host");
    j.str("hostname", hostname);
    j.str("name", hostname);
  }
  write_process(j, ev);
  write_user(j, ev);
  if (const auto* f = std::get_if<model::FileData>(&ev.data)) {
    write_file(j, *f);
  } else if (const auto* m = std::get_if<model::MountData>(&ev.data)) {
    Obj o(j, "file");  // the mount point: lets file.path queries see mounts over a path
    write_path_fields(j, m->target);
  }
  if (const auto* n = std::get_if<model::NetData>(&ev.data)) write_network(j, *n);
  write_error(j, oc);
  write_container(j, ev.attr.container);
  write_privwatch(j, ev);
  j.finish();
}

}  // namespace privwatch::exporter
