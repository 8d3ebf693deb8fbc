#include "source/audit_import.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "util/path.hpp"

namespace privwatch::source {

namespace {

constexpr uint32_t kArchX86_64 = 0xc000003e;
constexpr uint32_t kArchAarch64 = 0xc00000b7;
constexpr size_t kMaxOpenGroups = 64;  // records of concurrent events interleave a little

struct SyscallInfo {
  const char* name;
  int x86, arm;  // -1: no such syscall on that architecture
  model::EventKind kind;
};

// The syscalls privwatch models (bpf/ hooks the same set).
constexpr SyscallInfo kSyscalls[] = {
    {"execve", 59, 221, model::EventKind::kExec},
    {"execveat", 322, 281, model::EventKind::kExec},
    {"connect", 42, 203, model::EventKind::kNet},
    {"accept", 43, 202, model::EventKind::kNet},
    {"accept4", 288, 242, model::EventKind::kNet},
    {"bind", 49, 200, model::EventKind::kNet},
    {"listen", 50, 201, model::EventKind::kNet},
    {"open", 2, -1, model::EventKind::kFile},
    {"openat", 257, 56, model::EventKind::kFile},
    {"openat2", 437, 437, model::EventKind::kFile},
    {"creat", 85, -1, model::EventKind::kFile},
    {"unlink", 87, -1, model::EventKind::kFile},
    {"unlinkat", 263, 35, model::EventKind::kFile},
    {"rename", 82, -1, model::EventKind::kFile},
    {"renameat", 264, 38, model::EventKind::kFile},
    {"renameat2", 316, 276, model::EventKind::kFile},
    {"chmod", 90, -1, model::EventKind::kFile},
    {"fchmod", 91, 52, model::EventKind::kFile},
    {"fchmodat", 268, 53, model::EventKind::kFile},
    {"chown", 92, -1, model::EventKind::kFile},
    {"fchown", 93, 55, model::EventKind::kFile},
    {"lchown", 94, -1, model::EventKind::kFile},
    {"fchownat", 260, 54, model::EventKind::kFile},
    {"mkdir", 83, -1, model::EventKind::kFile},
    {"mkdirat", 258, 34, model::EventKind::kFile},
    {"rmdir", 84, -1, model::EventKind::kFile},
    {"link", 86, -1, model::EventKind::kFile},
    {"linkat", 265, 37, model::EventKind::kFile},
    {"symlink", 88, -1, model::EventKind::kFile},
    {"symlinkat", 266, 36, model::EventKind::kFile},
    {"truncate", 76, 45, model::EventKind::kFile},
    {"ftruncate", 77, 46, model::EventKind::kFile},
    {"setuid", 105, 146, model::EventKind::kCred},
    {"setgid", 106, 144, model::EventKind::kCred},
    {"setreuid", 113, 145, model::EventKind::kCred},
    {"setregid", 114, 143, model::EventKind::kCred},
    {"setresuid", 117, 147, model::EventKind::kCred},
    {"setresgid", 119, 149, model::EventKind::kCred},
    {"setfsuid", 122, 151, model::EventKind::kCred},
    {"setfsgid", 123, 152, model::EventKind::kCred},
    {"setgroups", 116, 159, model::EventKind::kCred},
    {"capset", 126, 91, model::EventKind::kCred},
    {"ptrace", 101, 117, model::EventKind::kPtrace},
    {"init_module", 175, 105, model::EventKind::kModule},
    {"finit_module", 313, 273, model::EventKind::kModule},
    {"delete_module", 176, 106, model::EventKind::kModule},
    {"bpf", 321, 280, model::EventKind::kBpf},
    {"mount", 165, 40, model::EventKind::kMount},
    {"umount2", 166, 39, model::EventKind::kMount},
    {"kill", 62, 129, model::EventKind::kSignal},
    {"tkill", 200, 130, model::EventKind::kSignal},
    {"tgkill", 234, 131, model::EventKind::kSignal},
};

const SyscallInfo* find_syscall(uint32_t arch, int nr) {
  for (const auto& s : kSyscalls) {
    if ((arch == kArchX86_64 && s.x86 == nr) || (arch == kArchAarch64 && s.arm == nr)) return &s;
  }
  return nullptr;
}

// The syscall number on the architecture this binary runs on (what ev.syscall means).
uint32_t host_nr(const SyscallInfo& s) {
#if defined(__aarch64__)
  return s.arm < 0 ? ~0u : static_cast<uint32_t>(s.arm);
#else
  return s.x86 < 0 ? ~0u : static_cast<uint32_t>(s.x86);
#endif
}

uint64_t to_u64(const std::string& s, int base = 10) {
  return s.empty() ? 0 : std::strtoull(s.c_str(), nullptr, base);
}

uint32_t id_of(const std::unordered_map<std::string, std::string>& f, const char* k,
               uint32_t def = 0) {
  auto it = f.find(k);
  if (it == f.end() || it->second.empty()) return def;
  if (it->second == "unset" || it->second == "4294967295") return model::kUnsetId;
  return static_cast<uint32_t>(to_u64(it->second));
}

std::string get(const std::unordered_map<std::string, std::string>& f, const char* k) {
  auto it = f.find(k);
  return it == f.end() ? std::string() : it->second;
}

bool is_hex(std::string_view s) {
  return !s.empty() && s.size() % 2 == 0 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c));
  });
}

// sockaddr as hex: family (host order, little-endian on both supported arches), then the
// family's layout.
void parse_saddr(const std::string& hex, model::NetData& n, bool remote) {
  const std::string raw = AuditParser::unhex(hex);
  if (raw.size() < 2) return;
  const auto* b = reinterpret_cast<const uint8_t*>(raw.data());
  const uint16_t family = static_cast<uint16_t>(b[0] | (b[1] << 8));
  n.family = family;
  auto& addr = remote ? n.remote_addr : n.local_addr;
  auto& port = remote ? n.remote_port : n.local_port;
  if (family == AF_INET && raw.size() >= 8) {
    port = static_cast<uint16_t>((b[2] << 8) | b[3]);
    std::memcpy(addr.data(), b + 4, 4);
  } else if (family == AF_INET6 && raw.size() >= 24) {
    port = static_cast<uint16_t>((b[2] << 8) | b[3]);
    std::memcpy(addr.data(), b + 8, 16);
  } else if (family == AF_UNIX && raw.size() > 2) {
    const size_t len = strnlen(raw.data() + 2, raw.size() - 2);
    n.unix_path.assign(raw.data() + 2, len);
    if (n.unix_path.empty() && raw.size() > 3) n.unix_path = "@" + std::string(raw.data() + 3);
  }
}

}  // namespace

std::string AuditParser::unhex(std::string_view hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  auto v = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int hi = v(hex[i]), lo = v(hex[i + 1]);
    if (hi < 0 || lo < 0) break;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::unordered_map<std::string, std::string> AuditParser::fields(std::string_view body) {
  std::unordered_map<std::string, std::string> f;
  // ENRICHED format: resolved names after a 0x1d separator, as UPPERCASE keys.
  const size_t gs = body.find('\x1d');
  std::string_view enriched;
  if (gs != std::string_view::npos) {
    enriched = body.substr(gs + 1);
    body = body.substr(0, gs);
  }
  auto parse = [&f](std::string_view s, bool names) {
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && s[i] == ' ') ++i;
      const size_t eq = s.find('=', i);
      if (eq == std::string_view::npos) break;
      std::string key(s.substr(i, eq - i));
      size_t j = eq + 1;
      std::string value;
      bool quoted = false;
      if (j < s.size() && s[j] == '"') {
        const size_t end = s.find('"', j + 1);
        value =
            std::string(s.substr(j + 1, (end == std::string_view::npos ? s.size() : end) - j - 1));
        j = end == std::string_view::npos ? s.size() : end + 1;
        quoted = true;
      } else if (j < s.size() && s[j] == '\'') {  // msg='op=... ' in user-space records
        const size_t end = s.find('\'', j + 1);
        value =
            std::string(s.substr(j + 1, (end == std::string_view::npos ? s.size() : end) - j - 1));
        j = end == std::string_view::npos ? s.size() : end + 1;
        quoted = true;
      } else {
        const size_t end = s.find(' ', j);
        value = std::string(s.substr(j, (end == std::string_view::npos ? s.size() : end) - j));
        j = end == std::string_view::npos ? s.size() : end;
      }
      // Untrusted strings (args, names, proctitle) are hex when they hold spaces, quotes or
      // control characters; "(null)" stays as is.
      static constexpr const char* kHexable[] = {"name",      "cwd",   "comm", "exe",
                                                 "proctitle", "saddr", "path", "key"};
      bool hexable = !names && !quoted && is_hex(value) && value.size() >= 2;
      if (hexable) {
        bool known =
            key.size() >= 2 && key[0] == 'a' && std::isdigit(static_cast<unsigned char>(key[1]));
        for (const char* k : kHexable) known = known || key == k;
        hexable = known && key != "saddr";
      }
      if (hexable) value = unhex(value);
      if (!names || f.find(key) == f.end()) f[std::move(key)] = std::move(value);
      i = j;
    }
  };
  parse(body, false);
  if (!enriched.empty()) parse(enriched, true);
  // The 'msg=' payload of user-space records holds its own key=value pairs.
  auto it = f.find("msg");
  if (it != f.end() && it->second.find('=') != std::string::npos) {
    const std::string inner = it->second;
    parse(inner, false);
  }
  return f;
}

bool AuditParser::feed(std::string_view line, std::deque<model::Event>& out, std::string& why) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return true;
  // Optional "node=<host> " prefix (aggregated logs, name_format=hostname).
  std::string node;
  if (line.rfind("node=", 0) == 0) {
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      ++stats_.malformed;
      why = "a 'node=' prefix without a record";
      return false;
    }
    node = std::string(line.substr(5, sp - 5));
    line = line.substr(sp + 1);
  }
  if (line.rfind("type=", 0) != 0) {
    ++stats_.malformed;
    why = "not an audit record (expected 'type=...')";
    return false;
  }
  const size_t sp = line.find(' ');
  const std::string type(
      line.substr(5, sp == std::string_view::npos ? std::string_view::npos : sp - 5));
  const size_t m = line.find("msg=audit(");
  const size_t colon = m == std::string_view::npos ? m : line.find(':', m);
  const size_t close = colon == std::string_view::npos ? colon : line.find(')', colon);
  if (close == std::string_view::npos) {
    ++stats_.malformed;
    why = "missing msg=audit(<time>:<serial>)";
    return false;
  }
  const std::string stamp(line.substr(m + 10, colon - m - 10));
  const uint64_t serial = to_u64(std::string(line.substr(colon + 1, close - colon - 1)));
  const size_t dot = stamp.find('.');
  const uint64_t secs = to_u64(stamp.substr(0, dot));
  uint64_t ms = 0;
  if (dot != std::string::npos) ms = to_u64(stamp.substr(dot + 1, 3));
  const uint64_t wall = secs * 1'000'000'000ull + ms * 1'000'000ull;
  ++stats_.records;
  std::string_view body = line.substr(close + 1);
  if (!body.empty() && body[0] == ':') body.remove_prefix(1);

  auto it =
      std::find_if(open_.begin(), open_.end(), [&](const Group& g) { return g.serial == serial; });
  if (type == "EOE") {
    if (it != open_.end()) {
      emit(*it, out);
      open_.erase(it);
    }
    return true;
  }
  if (it == open_.end()) {
    open_.push_back(Group{serial, wall, {}});
    it = std::prev(open_.end());
  }
  auto f = fields(body);
  if (!node.empty()) f["node"] = node;
  it->records.emplace_back(type, std::move(f));
  // A group without EOE (user-space records are single) is closed once newer ones pile up.
  while (open_.size() > kMaxOpenGroups) {
    emit(open_.front(), out);
    open_.pop_front();
  }
  // Single-record user-space events (logins) close at once.
  if (type != "SYSCALL" && it->records.size() == 1 && type.find("USER_") == 0) {
    emit(*it, out);
    open_.erase(it);
  }
  return true;
}

void AuditParser::finish(std::deque<model::Event>& out) {
  for (auto& g : open_) emit(g, out);
  open_.clear();
}

void AuditParser::emit(Group& g, std::deque<model::Event>& out) {
  using Fields = std::unordered_map<std::string, std::string>;
  const Fields* sys = nullptr;
  const Fields* execve = nullptr;
  const Fields* cwd = nullptr;
  const Fields* sockaddr = nullptr;
  std::vector<const Fields*> paths;
  for (const auto& [type, f] : g.records) {
    if (type == "SYSCALL") sys = &f;
    if (type == "EXECVE") execve = &f;
    if (type == "CWD") cwd = &f;
    if (type == "SOCKADDR") sockaddr = &f;
    if (type == "PATH") paths.push_back(&f);
    if (type == "USER_LOGIN" || type == "USER_START") {
      // Remember where a session came from: later events of the same ses get it.
      const uint32_t ses = id_of(f, "ses", model::kUnsetId);
      std::string addr = get(f, "addr");
      if (ses != model::kUnsetId && !addr.empty() && addr != "?") {
        sessions_[ses] = addr;
      }
    }
  }
  if (sys == nullptr) {
    ++stats_.unmapped;
    return;
  }
  const auto arch = static_cast<uint32_t>(to_u64(get(*sys, "arch"), 16));
  const SyscallInfo* info = find_syscall(arch, static_cast<int>(to_u64(get(*sys, "syscall"))));
  if (info == nullptr) {
    ++stats_.unmapped;
    return;
  }
  model::Event ev;
  ev.kind = info->kind;
  ev.syscall = host_nr(*info);
  ev.wall_time_ns = g.wall_ns;
  ev.ts_ns = g.wall_ns;
  model::ProcessContext& p = ev.proc;
  p.pid = p.tid = id_of(*sys, "pid");
  p.ppid = id_of(*sys, "ppid");
  p.uid = id_of(*sys, "uid");
  p.euid = id_of(*sys, "euid");
  p.suid = id_of(*sys, "suid");
  p.fsuid = id_of(*sys, "fsuid");
  p.gid = id_of(*sys, "gid");
  p.egid = id_of(*sys, "egid");
  p.loginuid = id_of(*sys, "auid", model::kUnsetId);
  p.sessionid = id_of(*sys, "ses", model::kUnsetId);
  const std::string tty = get(*sys, "tty");
  if (tty != "(none)") p.tty = tty;
  p.comm = get(*sys, "comm");
  ev.exe = get(*sys, "exe");
  ev.user_name = get(*sys, "UID");
  ev.effective_user_name = get(*sys, "EUID");
  ev.login_user_name = get(*sys, "AUID");
  if (ev.login_user_name == "unset") ev.login_user_name.clear();
  ev.group_name = get(*sys, "GID");
  ev.attr.host = get(*sys, "node");
  if (p.sessionid != model::kUnsetId) {
    auto s = std::make_shared<model::Session>();
    s->id = fmt::format("audit-{}-{}", ev.attr.host.empty() ? "local" : ev.attr.host, p.sessionid);
    s->audit_session = p.sessionid;
    s->loginuid = p.loginuid;
    s->interactive = !p.tty.empty();
    auto it = sessions_.find(p.sessionid);
    if (it != sessions_.end()) s->client_ip = it->second;
    ev.attr.session = std::move(s);
  }
  const bool success = get(*sys, "success") != "no";
  const int64_t exit_code = std::strtoll(get(*sys, "exit").c_str(), nullptr, 10);
  const int64_t result =
      success ? std::max<int64_t>(0, exit_code) : std::min<int64_t>(-1, exit_code);
  const std::string dir = cwd != nullptr ? get(*cwd, "cwd") : std::string();
  auto abs = [&](const std::string& path) {
    if (path.empty() || path[0] == '/' || dir.empty()) return path;
    return normalize_path(dir, path);
  };
  auto arg = [&](int i) { return to_u64(get(*sys, fmt::format("a{}", i).c_str()), 16); };
  // First path that is not a parent directory entry.
  const Fields* target = nullptr;
  const Fields* created = nullptr;
  for (const Fields* pf : paths) {
    const std::string nt = get(*pf, "nametype");
    if (nt == "PARENT") continue;
    if (target == nullptr) target = pf;
    if (nt == "CREATE") created = pf;
  }

  switch (ev.kind) {
    case model::EventKind::kExec: {
      model::ExecData x;
      x.result = success ? 0 : result;
      if (!success) x.flags |= model::kExecFailed;
      if (success) x.exe_path = ev.exe;
      x.cwd = dir;
      if (!paths.empty()) x.filename = get(*paths.front(), "name");
      if (execve != nullptr) {
        const int argc = static_cast<int>(to_u64(get(*execve, "argc")));
        for (int i = 0; i < argc && i < 1024; ++i) {
          std::string a = get(*execve, fmt::format("a{}", i).c_str());
          if (a.empty() && execve->count(fmt::format("a{}_len", i)) != 0) {
            // Long arguments come in chunks: a1_len=N a1[0]=hex a1[1]=hex ...
            for (int k = 0;; ++k) {
              auto c = execve->find(fmt::format("a{}[{}]", i, k));
              if (c == execve->end()) break;
              a += is_hex(c->second) ? unhex(c->second) : c->second;
            }
          }
          x.args.push_back(std::move(a));
        }
      }
      ev.data = std::move(x);
      break;
    }
    case model::EventKind::kNet: {
      model::NetData n;
      n.result = result;
      const std::string name = info->name;
      n.op = name == "connect"  ? model::NetOp::kConnect
             : name == "bind"   ? model::NetOp::kBind
             : name == "listen" ? model::NetOp::kListen
                                : model::NetOp::kAccept;
      n.fd = static_cast<int32_t>(arg(0));
      if (sockaddr != nullptr) parse_saddr(get(*sockaddr, "saddr"), n, n.op != model::NetOp::kBind);
      ev.data = std::move(n);
      break;
    }
    case model::EventKind::kFile: {
      model::FileData f;
      f.result = result;
      const std::string name = info->name;
      if (name.find("open") == 0 || name == "creat") {
        f.op = model::FileOp::kOpen;
        f.open_flags = static_cast<uint32_t>(name == "open"    ? arg(1)
                                             : name == "creat" ? (O_CREAT | O_WRONLY | O_TRUNC)
                                                               : arg(2));
      } else if (name.find("unlink") == 0) {
        f.op = model::FileOp::kUnlink;
      } else if (name.find("rename") == 0) {
        f.op = model::FileOp::kRename;
      } else if (name.find("chmod") != std::string::npos) {
        f.op = model::FileOp::kChmod;
      } else if (name.find("chown") != std::string::npos) {
        f.op = model::FileOp::kChown;
      } else if (name.find("mkdir") == 0) {
        f.op = model::FileOp::kMkdir;
      } else if (name == "rmdir") {
        f.op = model::FileOp::kRmdir;
      } else if (name.find("symlink") == 0) {
        f.op = model::FileOp::kSymlink;
      } else if (name.find("link") == 0) {
        f.op = model::FileOp::kLink;
      } else {
        f.op = model::FileOp::kTruncate;
      }
      if (target != nullptr) {
        f.requested_path = get(*target, "name");
        f.path = abs(f.requested_path);
      }
      if (created != nullptr && created != target) {
        f.requested_target = get(*created, "name");
        f.target_path = abs(f.requested_target);
      }
      if (created != nullptr && f.op == model::FileOp::kOpen) f.file_flags |= model::kFileCreated;
      if (f.op == model::FileOp::kOpen && (f.open_flags & O_ACCMODE) != O_RDONLY) {
        f.file_flags |= model::kFileWrite;
      }
      ev.data = std::move(f);
      break;
    }
    case model::EventKind::kCred: {
      model::CredData c;
      c.result = result;
      for (int i = 0; i < 3; ++i) c.args[static_cast<size_t>(i)] = arg(i);
      c.after = {
          p.uid, p.euid, p.suid, p.fsuid, p.gid, p.egid, id_of(*sys, "sgid"), id_of(*sys, "fsgid"),
          0,     0};
      ev.data = c;
      break;
    }
    case model::EventKind::kPtrace: {
      model::PtraceData x;
      x.result = result;
      x.request = static_cast<int64_t>(arg(0));
      x.target_pid = static_cast<uint32_t>(arg(1));
      ev.data = x;
      break;
    }
    case model::EventKind::kModule: {
      model::ModuleData m;
      m.result = result;
      const std::string name = info->name;
      m.op = name == "finit_module"    ? model::ModuleOp::kFinit
             : name == "delete_module" ? model::ModuleOp::kDelete
                                       : model::ModuleOp::kInit;
      if (target != nullptr) m.name = abs(get(*target, "name"));
      ev.data = std::move(m);
      break;
    }
    case model::EventKind::kBpf: {
      model::BpfData b;
      b.result = result;
      b.cmd = static_cast<uint32_t>(arg(0));
      ev.data = std::move(b);
      break;
    }
    case model::EventKind::kMount: {
      model::MountData m;
      m.result = result;
      m.op =
          std::string(info->name) == "umount2" ? model::MountOp::kUmount : model::MountOp::kMount;
      if (target != nullptr) m.target = abs(get(*target, "name"));
      m.flags = m.op == model::MountOp::kMount ? arg(3) : arg(1);
      ev.data = std::move(m);
      break;
    }
    case model::EventKind::kSignal: {
      model::SignalData s;
      s.result = result;
      const bool tg = std::string(info->name) == "tgkill";
      s.target_pid = static_cast<uint32_t>(tg ? arg(1) : arg(0));
      s.sig = static_cast<uint32_t>(tg ? arg(2) : arg(1));
      ev.data = s;
      break;
    }
    default:
      ++stats_.unmapped;
      return;
  }
  ++stats_.events;
  out.push_back(std::move(ev));
}

}  // namespace privwatch::source
