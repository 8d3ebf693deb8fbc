#include "source/replay_source.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "util/json_path.hpp"
#include "util/time.hpp"

namespace privwatch::source {

using nlohmann::json;

namespace {

// "2026-11-22T02:14:15.123456789Z" → epoch ns (0 when malformed). A time without a zone is
// read as UTC, as before the parser was shared.
uint64_t parse_rfc3339(std::string_view s) {
  return util::parse_rfc3339_ns(s, {.zoneless_utc = true}).value_or(0);
}

const json* at(const json& j, std::initializer_list<const char*> path) {
  return util::json_at(j, path);
}

// j[key] on a const json is undefined behaviour when the key is missing: this returns a null
// object instead (a line without privwatch.exec, for instance, is read with defaults).
const json& member(const json& j, const char* key) {
  static const json kNull;
  const json* p = at(j, {key});
  return p != nullptr ? *p : kNull;
}

std::string str(const json& j, std::initializer_list<const char*> path) {
  const json* p = at(j, path);
  return p != nullptr && p->is_string() ? p->get<std::string>() : std::string();
}

template <typename T>
T num(const json& j, std::initializer_list<const char*> path, T def = 0) {
  const json* p = at(j, path);
  if (p == nullptr) return def;
  if (p->is_number_integer()) return static_cast<T>(p->get<int64_t>());
  if (p->is_number_unsigned()) return static_cast<T>(p->get<uint64_t>());
  if (p->is_string()) {  // ECS keyword ids ("1000")
    const std::string& s = p->get_ref<const std::string&>();
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
    if (end != s.c_str() && *end == '\0') return static_cast<T>(v);
  }
  return def;
}

bool boolean(const json& j, std::initializer_list<const char*> path) {
  const json* p = at(j, path);
  return p != nullptr && p->is_boolean() && p->get<bool>();
}

std::vector<std::string> strings(const json& j, std::initializer_list<const char*> path) {
  std::vector<std::string> out;
  const json* p = at(j, path);
  if (p == nullptr || !p->is_array()) return out;
  for (const auto& e : *p) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

// "1234-5678" → (1234, 5678)
bool entity_id(const std::string& s, uint32_t& pid, uint64_t& ticks) {
  return std::sscanf(s.c_str(), "%u-%lu", &pid, &ticks) == 2;
}

int errno_of(const std::string& code) {
  if (code.empty()) return 0;
  if (std::isdigit(static_cast<unsigned char>(code[0]))) return std::atoi(code.c_str());
  for (int e = 1; e < 600; ++e) {
    const char* n = strerrorname_np(e);
    if (n != nullptr && code == n) return e;
  }
  return EPERM;
}

uint32_t octal(const std::string& s) {
  return static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 8));
}

uint64_t hex64(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 16); }

uint32_t open_flags(const std::vector<std::string>& names) {
  static const std::pair<const char*, uint32_t> kFlags[] = {
    {"O_WRONLY", O_WRONLY},
    {"O_RDWR", O_RDWR},
    {"O_CREAT", O_CREAT},
    {"O_EXCL", O_EXCL},
    {"O_NOCTTY", O_NOCTTY},
    {"O_TRUNC", O_TRUNC},
    {"O_APPEND", O_APPEND},
    {"O_NONBLOCK", O_NONBLOCK},
    {"O_ASYNC", O_ASYNC},
    {"O_DIRECT", O_DIRECT},
    {"O_NOFOLLOW", O_NOFOLLOW},
    {"O_NOATIME", O_NOATIME},
    {"O_CLOEXEC", O_CLOEXEC},
    {"O_PATH", O_PATH},
    {"O_SYNC", O_SYNC},
    {"O_DSYNC", O_DSYNC},
    {"O_TMPFILE", O_TMPFILE},
    {"O_DIRECTORY", O_DIRECTORY},
#if defined(__x86_64__)
    {"O_LARGEFILE", 0100000},
#elif defined(__aarch64__)
    {"O_LARGEFILE", 0400000},
#endif
    {"O_ACCMODE", O_ACCMODE},
  };
  uint32_t f = 0;
  for (const auto& n : names) {
    for (const auto& [name, bit] : kFlags) {
      if (n == name) f |= bit;
    }
  }
  return f;
}

void endpoint(const json& j, const char* k, uint16_t& family, std::array<uint8_t, 16>& addr,
              uint16_t& port) {
  const std::string ip = str(j, {k, "ip"});
  if (ip.empty()) return;
  if (inet_pton(AF_INET, ip.c_str(), addr.data()) == 1) {
    family = AF_INET;
  } else if (inet_pton(AF_INET6, ip.c_str(), addr.data()) == 1) {
    family = AF_INET6;
  }
  port = num<uint16_t>(j, {k, "port"});
}

model::Creds creds(const json& c) {
  model::Creds r;
  r.uid = num<uint32_t>(c, {"uid"});
  r.euid = num<uint32_t>(c, {"euid"});
  r.suid = num<uint32_t>(c, {"suid"});
  r.fsuid = num<uint32_t>(c, {"fsuid"});
  r.gid = num<uint32_t>(c, {"gid"});
  r.egid = num<uint32_t>(c, {"egid"});
  r.sgid = num<uint32_t>(c, {"sgid"});
  r.fsgid = num<uint32_t>(c, {"fsgid"});
  r.cap_effective = hex64(str(c, {"cap_effective"}));
  r.cap_permitted = hex64(str(c, {"cap_permitted"}));
  return r;
}

bool kind_of(const std::string& name, model::EventKind& k) {
  for (size_t i = 1; i < model::kEventKindCount; ++i) {
    if (model::to_string(static_cast<model::EventKind>(i)) == name) {
      k = static_cast<model::EventKind>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

Result<ReplayFormat> parse_replay_format(std::string_view name) {
  if (name == "jsonl" || name == "json") return ReplayFormat::kJsonLines;
  if (name == "auditd" || name == "audit") return ReplayFormat::kAuditd;
  if (name == "auto" || name.empty()) return ReplayFormat::kAuto;
  return Error{ErrorKind::kInvalidArgument, fmt::format("unknown import format '{}'", name),
               "use --format jsonl (privwatch's JSON lines output) or --format auditd "
               "(/var/log/audit/audit.log)"};
}

bool parse_ecs_event(std::string_view line, model::Event& ev, std::string& why) {
  why.clear();
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = "not a JSON object";
    return false;
  }
  const std::string kind_name = str(j, {"privwatch", "kind"});
  if (kind_name.empty() || str(j, {"event", "kind"}) != "event") return false;  // alert etc.
  // Session and escalation records (record_json.hpp) share the file: not events.
  if (kind_name == "session" || kind_name == "escalation") return false;
  ev = model::Event{};
  if (!kind_of(kind_name, ev.kind)) {
    why = fmt::format("unknown privwatch.kind '{}'", kind_name);
    return false;
  }
  ev.wall_time_ns = parse_rfc3339(str(j, {"@timestamp"}));
  if (ev.wall_time_ns == 0) {
    why = "missing or malformed @timestamp";
    return false;
  }
  const json& pw = member(j, "privwatch");
  ev.syscall = num<uint32_t>(pw, {"syscall"}, ~0u);
  if (boolean(pw, {"monitored"})) ev.flags |= model::kFlagMonitored;
  if (boolean(pw, {"sensitive"})) ev.flags |= model::kFlagSensitive;
  if (boolean(pw, {"truncated"})) ev.flags |= model::kFlagTruncated;
  if (boolean(pw, {"read_failure"})) ev.flags |= model::kFlagReadFail;

  model::ProcessContext& p = ev.proc;
  p.cgroup_id = num<uint64_t>(pw, {"cgroup_id"});
  p.pidns = num<uint32_t>(pw, {"pidns"});
  p.mntns = num<uint32_t>(pw, {"mntns"});
  p.sessionid = num<uint32_t>(pw, {"audit_session_id"}, model::kUnsetId);
  p.tty = str(pw, {"tty"});
  p.pid = num<uint32_t>(j, {"process", "pid"});
  p.tid = num<uint32_t>(j, {"process", "thread", "id"});
  p.comm = str(j, {"process", "name"});
  p.ppid = num<uint32_t>(j, {"process", "parent", "pid"});
  p.euid = num<uint32_t>(j, {"process", "user", "id"});
  p.uid = num<uint32_t>(j, {"process", "real_user", "id"});
  p.suid = num<uint32_t>(j, {"process", "saved_user", "id"});
  p.egid = num<uint32_t>(j, {"process", "group", "id"});
  p.gid = num<uint32_t>(j, {"process", "real_group", "id"});
  p.fsuid = p.euid;
  p.loginuid = num<uint32_t>(j, {"user", "audit", "id"}, model::kUnsetId);
  if (const json* tty = at(j, {"process", "tty", "char_device"})) {
    p.tty_dev = (num<uint32_t>(*tty, {"major"}) << 20) | num<uint32_t>(*tty, {"minor"});
  }
  // Boot-time clock: entity ids carry start ticks; process.start the same instant in wall
  // time, which gives the boot → wall offset of the recording host.
  uint32_t pid = 0;
  uint64_t ticks = 0;
  int64_t boot_offset = 0;
  if (entity_id(str(j, {"process", "entity_id"}), pid, ticks)) {
    p.start_ns = ticks * 10'000'000ull;
    const uint64_t start_wall = parse_rfc3339(str(j, {"process", "start"}));
    if (start_wall != 0) boot_offset = static_cast<int64_t>(start_wall - p.start_ns);
  }
  if (entity_id(str(j, {"process", "parent", "entity_id"}), pid, ticks)) {
    p.parent_start_ns = ticks * 10'000'000ull;
  }
  ev.ts_ns = boot_offset != 0
                 ? static_cast<uint64_t>(static_cast<int64_t>(ev.wall_time_ns) - boot_offset)
                 : ev.wall_time_ns;

  ev.exe = str(j, {"process", "executable"});
  ev.parent_exe = str(j, {"process", "parent", "executable"});
  ev.parent_comm = str(j, {"process", "parent", "name"});
  ev.parent_args = strings(j, {"process", "parent", "args"});
  ev.user_name = str(j, {"user", "name"});
  ev.effective_user_name = str(j, {"user", "effective", "name"});
  ev.login_user_name = str(j, {"user", "audit", "name"});
  ev.group_name = str(j, {"group", "name"});

  // Attribution, when the recording agent had an inventory and a session tracker.
  ev.attr.host = str(j, {"host", "name"});
  ev.attr.cluster = str(pw, {"cluster"});
  ev.attr.human = str(pw, {"human"});
  ev.attr.roles = strings(pw, {"roles"});
  ev.attr.service_account = str(pw, {"service_account"});
  ev.attr.escalated = boolean(pw, {"escalated"});
  const std::string esc = str(pw, {"escalation"});
  for (uint8_t m = 1; m <= static_cast<uint8_t>(model::EscalationMethod::kCapset); ++m) {
    if (model::to_string(static_cast<model::EscalationMethod>(m)) == esc) {
      ev.attr.escalation = static_cast<model::EscalationMethod>(m);
    }
  }
  if (const json* drift = at(pw, {"drift"})) {
    for (const auto& k : strings(*drift, {"kinds"})) {
      if (k == "executable") ev.attr.drift |= model::kDriftExecutable;
      if (k == "file") ev.attr.drift |= model::kDriftFile;
      if (k == "destination") ev.attr.drift |= model::kDriftDestination;
      if (k == "shell") ev.attr.drift |= model::kDriftShell;
      if (k == "no_grant") ev.attr.drift |= model::kDriftNoGrant;
    }
    ev.attr.drift_reason = str(*drift, {"reason"});
  }
  model::ContainerInfo& c = ev.attr.container;
  c.id = str(j, {"container", "id"});
  c.runtime = str(j, {"container", "runtime"});
  c.name = str(j, {"container", "name"});
  c.image = str(j, {"container", "image", "name"});
  c.k8s_namespace = str(j, {"orchestrator", "namespace"});
  c.pod_uid = str(j, {"orchestrator", "resource", "id"});
  c.pod_name = str(j, {"orchestrator", "resource", "name"});
  // The session (privwatch.session) and its entry leader (process.entry_leader).
  const std::string session_id = str(pw, {"session", "id"});
  if (!session_id.empty()) {
    auto s = std::make_shared<model::Session>();
    s->id = session_id;
    s->parent_id = str(pw, {"session", "parent_id"});
    const std::string type = str(pw, {"session", "type"});
    for (uint8_t t = 0; t <= static_cast<uint8_t>(model::EntryType::kInit); ++t) {
      if (model::to_string(static_cast<model::EntryType>(t)) == type) {
        s->entry_type = static_cast<model::EntryType>(t);
      }
    }
    s->lost_events = num<uint64_t>(pw, {"session", "lost_events"});
    if (const json* el = at(j, {"process", "entry_leader"})) {
      uint32_t lpid = 0;
      uint64_t lticks = 0;
      if (entity_id(str(*el, {"entity_id"}), lpid, lticks)) s->leader = {lpid, lticks};
      s->leader.pid = num<uint32_t>(*el, {"pid"});
      s->start_wall_ns = parse_rfc3339(str(*el, {"start"}));
      s->leader_exe = str(*el, {"executable"});
      s->client_ip = str(*el, {"entry_meta", "source", "ip"});
      s->client_port = num<uint16_t>(*el, {"entry_meta", "source", "port"});
      s->uid = num<uint32_t>(*el, {"user", "id"});
      s->user = str(*el, {"user", "name"});
    }
    s->human = ev.attr.human;
    s->roles = ev.attr.roles;
    s->cluster = ev.attr.cluster;
    s->host = ev.attr.host;
    s->service_account = ev.attr.service_account;
    s->interactive = !s->client_ip.empty() || p.tty_dev != 0 || !p.tty.empty();
    ev.attr.session = std::move(s);
  }

  const std::string action = str(j, {"event", "action"});
  const int err = errno_of(str(j, {"error", "code"}));
  const int64_t result = err != 0 ? -err : 0;
  switch (ev.kind) {
    case model::EventKind::kExec: {
      model::ExecData x;
      const json& e = member(pw, "exec");
      x.filename = str(e, {"filename"});
      x.result = result;
      if (boolean(e, {"memfd"})) x.flags |= model::kExecMemfd;
      if (boolean(e, {"deleted"})) x.flags |= model::kExecDeleted;
      if (boolean(e, {"setuid"})) x.flags |= model::kExecSetuid;
      if (boolean(e, {"setgid"})) x.flags |= model::kExecSetgid;
      if (boolean(e, {"args_truncated"})) x.flags |= model::kExecArgsTruncated;
      if (boolean(e, {"failed"})) {
        x.flags |= model::kExecFailed;
      } else {
        x.exe_path = ev.exe;
      }
      x.args_size = num<uint32_t>(e, {"args_size"});
      x.exe_ino = num<uint64_t>(e, {"exe_ino"});
      x.exe_mode = octal(str(e, {"exe_mode"}));
      x.exe_uid = num<uint32_t>(e, {"exe_uid"});
      x.exe_dev = num<uint32_t>(e, {"exe_dev"});
      x.args = strings(j, {"process", "args"});
      x.cwd = str(j, {"process", "working_directory"});
      ev.data = std::move(x);
      break;
    }
    case model::EventKind::kFork: {
      model::ForkData f;
      f.child_pid = num<uint32_t>(pw, {"fork", "child_pid"});
      if (entity_id(str(pw, {"fork", "child_entity_id"}), pid, ticks)) {
        f.child_start_ns = ticks * 10'000'000ull;
      }
      ev.data = f;
      break;
    }
    case model::EventKind::kExit: {
      model::ExitData x;
      const uint32_t status = num<uint32_t>(pw, {"exit", "status"});
      const uint32_t sig = num<uint32_t>(pw, {"exit", "signal"});
      x.exit_code =
          (status << 8) | (sig & 0x7f) | (boolean(pw, {"exit", "core_dumped"}) ? 0x80 : 0);
      ev.data = x;
      break;
    }
    case model::EventKind::kFile: {
      model::FileData f;
      f.result = result;
      for (uint32_t op = 1; op <= static_cast<uint32_t>(model::FileOp::kTruncate); ++op) {
        if (model::to_string(static_cast<model::FileOp>(op)) == action) {
          f.op = static_cast<model::FileOp>(op);
        }
      }
      const json& pf = member(pw, "file");
      const bool symlink = f.op == model::FileOp::kSymlink;
      const std::string path = str(j, {"file", "path"});
      const std::string target = str(j, {"file", "target_path"});
      if (symlink) {  // ECS: file.path = the link, file.target_path = its content
        f.target_path = path;
        f.path = target;
        f.requested_path = str(pf, {"requested_target"});
        f.requested_target = str(pf, {"requested_path"});
        if (f.requested_path.empty()) f.requested_path = target;
      } else {
        f.path = path;
        f.target_path = target;
        f.requested_path = str(pf, {"requested_path"});
        f.requested_target = str(pf, {"requested_target"});
      }
      f.open_flags = open_flags(strings(pf, {"flags"}));
      f.mode = octal(str(j, {"file", "mode"}));
      f.uid = num<uint32_t>(j, {"file", "uid"}, model::kUnsetId);
      f.gid = num<uint32_t>(j, {"file", "gid"}, model::kUnsetId);
      if (boolean(pf, {"created"})) f.file_flags |= model::kFileCreated;
      if (boolean(pf, {"write"})) f.file_flags |= model::kFileWrite;
      if (boolean(pf, {"fd_based"})) f.file_flags |= model::kFileFdBased;
      f.dirfd = num<int32_t>(pf, {"dirfd"}, -100);
      ev.data = std::move(f);
      break;
    }
    case model::EventKind::kNet: {
      model::NetData n;
      n.result = result;
      for (uint32_t op = 1; op <= static_cast<uint32_t>(model::NetOp::kListen); ++op) {
        if (model::to_string(static_cast<model::NetOp>(op)) == action) {
          n.op = static_cast<model::NetOp>(op);
        }
      }
      const std::string type = str(j, {"network", "type"});
      n.family = type == "ipv4"   ? AF_INET
                 : type == "ipv6" ? AF_INET6
                 : type == "unix" ? AF_UNIX
                                  : 0;
      uint16_t fam = n.family;
      switch (n.op) {
        case model::NetOp::kConnect:
          endpoint(j, "source", fam, n.local_addr, n.local_port);
          endpoint(j, "destination", fam, n.remote_addr, n.remote_port);
          break;
        case model::NetOp::kAccept:
          endpoint(j, "source", fam, n.remote_addr, n.remote_port);
          endpoint(j, "destination", fam, n.local_addr, n.local_port);
          break;
        default:
          endpoint(j, "source", fam, n.local_addr, n.local_port);
      }
      if (n.family == 0) n.family = fam;
      n.protocol = num<uint16_t>(j, {"network", "iana_number"});
      const std::string st = str(pw, {"net", "socket_type"});
      n.sock_type = st == "stream"      ? SOCK_STREAM
                    : st == "dgram"     ? SOCK_DGRAM
                    : st == "raw"       ? SOCK_RAW
                    : st == "seqpacket" ? SOCK_SEQPACKET
                    : st == "rdm"       ? SOCK_RDM
                                        : 0;
      n.unix_path = str(pw, {"net", "unix_path"});
      n.fd = num<int32_t>(pw, {"net", "fd"}, -1);
      n.backlog = num<uint32_t>(pw, {"net", "backlog"});
      ev.data = std::move(n);
      break;
    }
    case model::EventKind::kCred: {
      model::CredData c;
      c.result = result;
      const json& pc = member(pw, "cred");
      const json* args = at(pc, {"args"});
      for (size_t i = 0; args != nullptr && args->is_array() && i < args->size() && i < 3; ++i) {
        const json& a = (*args)[i];
        c.args[i] =
            a.is_number_integer() ? static_cast<uint64_t>(a.get<int64_t>()) : a.get<uint64_t>();
      }
      c.before_valid = boolean(pc, {"before_valid"});
      if (const json* b = at(pc, {"before"})) c.before = creds(*b);
      if (const json* a = at(pc, {"after"})) c.after = creds(*a);
      ev.data = c;
      break;
    }
    case model::EventKind::kPtrace: {
      model::PtraceData x;
      x.result = result;
      x.request = num<int64_t>(pw, {"ptrace", "request"});
      x.target_pid = num<uint32_t>(pw, {"ptrace", "target_pid"});
      ev.data = x;
      break;
    }
    case model::EventKind::kModule: {
      model::ModuleData m;
      m.result = result;
      const std::string op = str(pw, {"module", "op"});
      m.op = op == "finit"    ? model::ModuleOp::kFinit
             : op == "delete" ? model::ModuleOp::kDelete
                              : model::ModuleOp::kInit;
      m.name = str(pw, {"module", "name"});
      m.params = str(pw, {"module", "params"});
      m.flags = num<uint32_t>(pw, {"module", "flags"});
      ev.data = std::move(m);
      break;
    }
    case model::EventKind::kBpf: {
      model::BpfData b;
      b.result = result;
      b.cmd = num<uint32_t>(pw, {"bpf", "cmd"});
      b.prog_type = num<uint32_t>(pw, {"bpf", "prog_type"});
      b.prog_name = str(pw, {"bpf", "prog_name"});
      ev.data = std::move(b);
      break;
    }
    case model::EventKind::kMount: {
      model::MountData m;
      m.result = result;
      m.op =
          str(pw, {"mount", "op"}) == "umount" ? model::MountOp::kUmount : model::MountOp::kMount;
      m.source = str(pw, {"mount", "source"});
      m.target = str(pw, {"mount", "target"});
      m.fstype = str(pw, {"mount", "fstype"});
      m.flags = num<uint64_t>(pw, {"mount", "flags"});
      ev.data = std::move(m);
      break;
    }
    case model::EventKind::kSignal: {
      model::SignalData s;
      s.result = result;
      s.sig = num<uint32_t>(pw, {"signal", "number"});
      s.target_pid = num<uint32_t>(pw, {"signal", "target_pid"});
      ev.data = s;
      break;
    }
    case model::EventKind::kTty: {  // terminal I/O as the ECS output wrote it (text, not bytes)
      model::TtyData t;
      const json& x = member(pw, "tty");
      const std::string op = str(x, {"op"});
      t.op = op == "input"    ? model::TtyOp::kInput
             : op == "resize" ? model::TtyOp::kResize
                              : model::TtyOp::kOutput;
      t.tty = str(x, {"name"});
      t.dev = (num<uint32_t>(x, {"dev_major"}) << 20) | (num<uint32_t>(x, {"dev_minor"}) & 0xfffff);
      t.rows = num<uint16_t>(x, {"rows"});
      t.cols = num<uint16_t>(x, {"cols"});
      t.result = num<int64_t>(x, {"bytes"});
      if (boolean(x, {"echo_off"})) t.flags |= model::kTtyEchoOff;
      if (boolean(x, {"truncated"})) t.flags |= model::kTtyTruncated;
      if (boolean(x, {"session_limit"})) t.flags |= model::kTtySessionLimit;
      if (boolean(x, {"read_fail"})) t.flags |= model::kTtyReadFail;
      t.data = str(x, {"data"});
      if (ev.proc.tty.empty()) ev.proc.tty = t.tty;  // privwatch.tty is the object here
      ev.data = std::move(t);
      break;
    }
  }
  return true;
}

// --- the source ---------------------------------------------------------------------------

Result<std::unique_ptr<ReplaySource>> ReplaySource::open(const std::string& path,
                                                         ReplayOptions opts) {
  std::unique_ptr<ReplaySource> s(new ReplaySource(path, opts));
  s->in_.open(path, std::ios::binary);
  if (!s->in_) {
    return Error{errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                 fmt::format("cannot open '{}': {}", path, std::strerror(errno)),
                 "pass a privwatch JSON lines file or an audit log (/var/log/audit/audit.log)"};
  }
  if (s->opts_.format == ReplayFormat::kAuto) {
    // Sniff the first non-empty line: '{' is JSON, "type=" is an audit record.
    std::string line;
    std::streampos start = s->in_.tellg();
    while (std::getline(s->in_, line) && line.find_first_not_of(" \t\r") == std::string::npos) {
    }
    const size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] == '{') {
      s->opts_.format = ReplayFormat::kJsonLines;
    } else if (line.find("type=") != std::string::npos &&
               line.find("msg=audit(") != std::string::npos) {
      s->opts_.format = ReplayFormat::kAuditd;
    } else if (!line.empty()) {
      return Error{ErrorKind::kInvalidArgument,
                   fmt::format("'{}' is neither privwatch JSON lines nor an audit log (first "
                               "line starts with '{}')",
                               path, line.substr(0, 40)),
                   "pass --format jsonl or --format auditd if the file is one of those"};
    } else {
      s->opts_.format = ReplayFormat::kJsonLines;  // empty file
    }
    s->in_.clear();
    s->in_.seekg(start);
  }
  s->started_ = std::chrono::steady_clock::now();
  return s;
}

void ReplaySource::error(uint64_t line, const std::string& what) {
  ++rstats_.errors;
  if (rstats_.error_samples.size() < opts_.max_error_samples) {
    rstats_.error_samples.push_back(fmt::format("{}:{}: {}", path_, line, what));
  }
}

void ReplaySource::fill() {
  std::string line, why;
  while (pending_.size() < opts_.batch && !eof_) {
    if (!std::getline(in_, line)) {
      eof_ = true;
      if (opts_.format == ReplayFormat::kAuditd) audit_.finish(pending_);
      break;
    }
    ++rstats_.lines;
    if (line.empty()) continue;
    if (opts_.format == ReplayFormat::kJsonLines) {
      model::Event ev;
      if (parse_ecs_event(line, ev, why)) {
        pending_.push_back(std::move(ev));
      } else if (why.empty()) {
        ++rstats_.other_records;
      } else {
        error(rstats_.lines, why);
      }
    } else {
      const uint64_t before = audit_.stats().unmapped;
      if (!audit_.feed(line, pending_, why)) error(rstats_.lines, why);
      rstats_.other_records += audit_.stats().unmapped - before;
    }
  }
}

Result<size_t> ReplaySource::poll(EventSink& sink, int timeout_ms) {
  if (pending_.empty()) fill();
  size_t n = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pending_.empty() && n < opts_.batch) {
    model::Event& ev = pending_.front();
    if (opts_.speed > 0 && ev.wall_time_ns != 0) {
      if (first_wall_ns_ == 0) {
        first_wall_ns_ = ev.wall_time_ns;
        started_ = std::chrono::steady_clock::now();
      }
      const double offset =
          ev.wall_time_ns > first_wall_ns_
              ? static_cast<double>(ev.wall_time_ns - first_wall_ns_) / opts_.speed
              : 0.0;
      const auto due = started_ + std::chrono::nanoseconds(static_cast<int64_t>(offset));
      const auto now = std::chrono::steady_clock::now();
      if (due > now) {
        if (n > 0 || due > deadline) {
          if (n == 0) std::this_thread::sleep_until(deadline);
          break;
        }
        std::this_thread::sleep_until(due);
      }
    }
    ++stats_.received[static_cast<size_t>(ev.kind)];
    ++rstats_.events;
    sink.on_event(ev);
    pending_.pop_front();
    ++n;
    if (pending_.empty()) fill();
  }
  return n;
}

}  // namespace privwatch::source
