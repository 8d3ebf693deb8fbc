#include "ueba/features.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "ueba/geoip.hpp"
#include "util/inet.hpp"

namespace privwatch::ueba {

std::string_view to_string(Feature f) {
  switch (f) {
    case Feature::kExe:
      return "executable";
    case Feature::kExeArea:
      return "executable_area";
    case Feature::kParentChild:
      return "parent_child";
    case Feature::kCommand:
      return "command";
    case Feature::kContext:
      return "context";
    case Feature::kFileArea:
      return "file_area";
    case Feature::kDestination:
      return "destination";
    case Feature::kCountry:
      return "country";
    case Feature::kHour:
      return "time_of_week";
    case Feature::kHost:
      return "host";
    case Feature::kSource:
      return "source";
    case Feature::kAction:
      return "action";
    case Feature::kExeCluster:
      return "executable_on_cluster";
  }
  return "unknown";
}

std::string_view to_string(Dim d) {
  switch (d) {
    case Dim::kUser:
      return "user";
    case Dim::kRole:
      return "role";
    case Dim::kCluster:
      return "cluster";
  }
  return "unknown";
}

bool applies(Feature f, Dim d) {
  switch (f) {
    case Feature::kHour:
    case Feature::kSource:
      return d != Dim::kCluster;
    case Feature::kHost:
    case Feature::kExeCluster:
      return d != Dim::kCluster;
    default:
      return true;
  }
}

double weight(Sensitivity s) {
  switch (s) {
    case Sensitivity::kNormal:
      return 0.5;
    case Sensitivity::kSensitive:
      return 1.25;
    case Sensitivity::kCritical:
      return 2.0;
  }
  return 0.5;
}

std::string_view to_string(Sensitivity s) {
  switch (s) {
    case Sensitivity::kNormal:
      return "normal";
    case Sensitivity::kSensitive:
      return "sensitive";
    case Sensitivity::kCritical:
      return "critical";
  }
  return "normal";
}

namespace {

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string_view base_name(std::string_view p) {
  const size_t s = p.rfind('/');
  return s == std::string_view::npos ? p : p.substr(s + 1);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

template <size_t N>
bool one_of(std::string_view s, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// Tools that move data or code across the network, interpreters and encoders: what
// exfiltration and download-and-run are made of.
constexpr std::string_view kCriticalTools[] = {
    "nc",       "ncat",    "netcat",  "socat",   "curl",    "wget",    "scp",
    "sftp",     "rsync",   "ftp",     "tftp",    "telnet",  "nmap",    "base64",
    "xxd",      "openssl", "python",  "python3", "perl",    "ruby",    "php",
    "lua",      "gpg",     "dd",      "apt",     "apt-get", "dpkg",    "yum",
    "dnf",      "rpm",     "pip",     "pip3",    "npm",     "snap",    "insmod",
    "modprobe", "chattr",  "crontab", "useradd", "usermod", "passwd",  "visudo",
    "iptables", "nft",     "tcpdump", "strace",  "gdb",     "kubectl", "docker"};
constexpr std::string_view kShells[] = {"sh",  "bash", "dash",    "zsh",
                                        "ksh", "csh",  "busybox", "fish"};
constexpr std::string_view kTransient[] = {"/tmp/",           "/var/tmp/",       "/dev/shm/",
                                           "/run/user/",      "/home/",          "/root/",
                                           "/usr/local/bin/", "/usr/local/sbin/"};
constexpr std::string_view kSecrets[] = {
    "/etc/shadow",        "/etc/gshadow",         "/etc/sudoers",
    "/var/run/secrets/",  "/run/secrets/",        "/root/.ssh/",
    "/etc/ssh/ssh_host_", "/etc/kubernetes/pki/", "/etc/ssl/private/"};

// Normalised argument: numbers → N, IP addresses → IP, paths → their 2-component area,
// long/opaque tokens → *.
void append_arg_shape(std::string& out, std::string_view a) {
  if (a.empty()) return;
  const bool digits = std::all_of(a.begin(), a.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':';
  });
  if (digits) {
    const bool ip = std::count(a.begin(), a.end(), '.') == 3;
    out += ip ? "IP" : "N";
    return;
  }
  if (a[0] == '/') {
    out += path_area(a, 2);
    return;
  }
  if (a[0] == '-') {  // options keep their name, not their value
    const size_t eq = a.find('=');
    out += a.substr(0, std::min<size_t>(eq, 24));
    if (eq != std::string_view::npos) out += "=*";
    return;
  }
  if (a.find("://") != std::string_view::npos) {
    out += a.substr(0, a.find("://") + 3);
    out += '*';
    return;
  }
  if (a.size() > 24) {
    out += '*';
    return;
  }
  for (char c : a) out += std::isdigit(static_cast<unsigned char>(c)) ? 'N' : c;
}

std::string_view exec_name(const model::Event& ev, const model::ExecData* x) {
  if (x != nullptr && !x->exe_path.empty()) return base_name(x->exe_path);
  if (!ev.exe.empty()) return base_name(ev.exe);
  return ev.proc.comm;
}

std::string_view exec_path(const model::Event& ev, const model::ExecData* x) {
  if (x != nullptr && !x->exe_path.empty()) return x->exe_path;
  return ev.exe;
}

// Prefix of an address: /24 for IPv4, /48 for IPv6.
std::string prefix_of(uint16_t family, const std::array<uint8_t, 16>& a) {
  char buf[util::kIpTextMax + 3];
  std::array<uint8_t, 16> m{};
  if (family == AF_INET) {
    std::copy_n(a.begin(), 3, m.begin());
    const size_t n = util::put_ipv4(buf, m.data());
    std::memcpy(buf + n, "/24", 3);
    return {buf, n + 3};
  }
  std::copy_n(a.begin(), 6, m.begin());
  const size_t n = util::put_ipv6(buf, m.data());
  std::memcpy(buf + n, "/48", 3);
  return {buf, n + 3};
}

}  // namespace

uint32_t hash32(Feature f, std::string_view value) {
  uint64_t h = 1469598103934665603ull ^ (static_cast<uint64_t>(f) * 0x9E3779B97F4A7C15ull);
  h = fnv1a(h, value);
  const auto r = static_cast<uint32_t>(h ^ (h >> 32));
  return r == 0 ? 1 : r;
}

std::string_view path_area(std::string_view path, int depth) {
  if (path.empty() || path[0] != '/') return path.substr(0, 32);
  size_t pos = 0;
  for (int i = 0; i < depth; ++i) {
    const size_t next = path.find('/', pos + 1);
    if (next == std::string_view::npos) {
      // The last component is a file name: the area is its directory.
      return pos == 0 ? path.substr(0, 1) : path.substr(0, pos);
    }
    pos = next;
  }
  return path.substr(0, pos);
}

void append_command_shape(std::string& out, std::string_view name,
                          const std::vector<std::string>& args) {
  out += name;
  for (size_t i = 1; i < args.size() && i <= 4; ++i) {
    out += ' ';
    append_arg_shape(out, args[i]);
  }
}

Sensitivity exe_sensitivity(std::string_view exe_path) {
  const std::string_view name = base_name(exe_path);
  if (one_of(name, kCriticalTools) || starts_with(name, "python")) return Sensitivity::kCritical;
  for (auto t : kTransient) {
    if (starts_with(exe_path, t)) return Sensitivity::kCritical;
  }
  if (one_of(name, kShells)) return Sensitivity::kSensitive;
  return Sensitivity::kNormal;
}

Sensitivity file_sensitivity(std::string_view path, bool write, bool flagged) {
  for (auto s : kSecrets) {
    if (starts_with(path, s)) return Sensitivity::kCritical;
  }
  if (path.find("/.ssh/") != std::string_view::npos) return Sensitivity::kCritical;
  if (write && (starts_with(path, "/usr/") || starts_with(path, "/bin/") ||
                starts_with(path, "/sbin/") || starts_with(path, "/lib") ||
                starts_with(path, "/etc/cron") || starts_with(path, "/var/spool/cron"))) {
    return Sensitivity::kCritical;
  }
  return flagged || write ? Sensitivity::kSensitive : Sensitivity::kNormal;
}

const std::string& hour_of_week_name(uint32_t how) {
  static const std::vector<std::string> kNames = [] {
    static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    std::vector<std::string> v;
    for (uint32_t h = 0; h < 168; ++h) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%s %02u:00", kDays[h / 24], h % 24);
      v.emplace_back(buf);
    }
    return v;
  }();
  return kNames[how % 168];
}

// --- networks --------------------------------------------------------------------------------

Networks::Networks() {
  for (const char* n : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
                        "169.254.0.0/16", "100.64.0.0/10", "::1/128", "fc00::/7", "fe80::/10"}) {
    add(n);
  }
}

bool Networks::add(std::string_view cidr) {
  const size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string ip(cidr.substr(0, slash));
  int bits = -1;
  for (char c : cidr.substr(slash + 1)) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    bits = (bits < 0 ? 0 : bits * 10) + (c - '0');
    if (bits > 128) return false;
  }
  Net n{};
  if (inet_pton(AF_INET, ip.c_str(), n.addr.data()) == 1) {
    if (bits < 0 || bits > 32) return false;
    n.family = AF_INET;
  } else if (inet_pton(AF_INET6, ip.c_str(), n.addr.data()) == 1) {
    if (bits < 0) return false;
    n.family = AF_INET6;
  } else {
    return false;
  }
  n.bits = static_cast<uint8_t>(bits);
  nets_.push_back(n);
  return true;
}

bool Networks::internal(uint16_t family, const std::array<uint8_t, 16>& addr) const {
  for (const auto& n : nets_) {
    if (n.family != family) continue;
    uint32_t bits = n.bits;
    size_t i = 0;
    bool match = true;
    for (; bits >= 8; bits -= 8, ++i) {
      if (addr[i] != n.addr[i]) {
        match = false;
        break;
      }
    }
    if (match && bits > 0) {
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
      match = (addr[i] & mask) == (n.addr[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

// --- extraction ------------------------------------------------------------------------------

size_t Extractor::extract(const model::Event& ev,
                          std::array<Observation, kFeatureCount>& out) const {
  size_t n = 0;
  auto put = [&](Feature f, Sensitivity s) -> std::string& {
    Observation& o = out[n++];
    o.feature = f;
    o.sensitivity = s;
    o.value.clear();
    return o.value;
  };
  auto seal = [&] { out[n - 1].key = hash32(out[n - 1].feature, out[n - 1].value); };
  const model::Attribution& a = ev.attr;
  const bool interactive = (a.session && a.session->interactive) || !ev.proc.tty.empty();

  switch (ev.kind) {
    case model::EventKind::kExec: {
      const auto* x = std::get_if<model::ExecData>(&ev.data);
      if (x != nullptr && (x->result < 0 || (x->flags & model::kExecFailed))) return 0;
      const std::string_view path = exec_path(ev, x);
      const std::string_view name = exec_name(ev, x);
      const Sensitivity sens = exe_sensitivity(path);
      put(Feature::kExe, sens) = name;
      seal();
      put(Feature::kExeArea, sens) = path_area(path, 3);
      seal();
      if (!a.cluster.empty()) {
        std::string& v = put(Feature::kExeCluster, sens);
        v = name;
        v += " on ";
        v += a.cluster;
        seal();
      }
      {
        std::string& v = put(Feature::kParentChild, sens);
        v = ev.parent_exe.empty() ? std::string_view(ev.parent_comm) : base_name(ev.parent_exe);
        v += " → ";
        v += name;
        seal();
      }
      if (x != nullptr) {
        append_command_shape(put(Feature::kCommand, sens), name, x->args);
        seal();
      }
      {
        std::string& v = put(Feature::kContext, a.escalated ? Sensitivity::kSensitive : sens);
        v = interactive ? "interactive" : "non-interactive";
        if (a.escalated) v += ", escalated";
        if (!a.service_account.empty()) v += ", service account";
        v += ": ";
        v += name;
        seal();
      }
      // Personal rhythm and places: once per exec (what a person starts), not per file access.
      const uint64_t wall = ev.wall_time_ns;
      if (wall != 0) {
        const int64_t local = static_cast<int64_t>(wall / 1'000'000'000ull) + utc_offset_s_;
        // 1970-01-01 was a Thursday: Monday-based hour of the week.
        const int64_t hours = local / 3600;
        const auto how = static_cast<uint32_t>(((hours + 3 * 24) % 168 + 168) % 168);
        put(Feature::kHour, Sensitivity::kNormal) = hour_of_week_name(how);
        seal();
      }
      if (!a.host.empty()) {
        put(Feature::kHost, Sensitivity::kSensitive) = a.host;
        seal();
      }
      if (a.session && !a.session->client_ip.empty()) {
        const std::string& ip = a.session->client_ip;
        std::string& v = put(Feature::kSource, Sensitivity::kSensitive);
        const size_t dot = ip.rfind('.');
        if (dot != std::string::npos && ip.find(':') == std::string::npos) {
          v.append(ip, 0, dot);  // IPv4 /24 without a parse: the text up to the last dot
          v += ".0/24";
        } else {
          std::array<uint8_t, 16> addr{};
          v = inet_pton(AF_INET6, ip.c_str(), addr.data()) == 1 ? prefix_of(AF_INET6, addr) : ip;
        }
        seal();
      }
      break;
    }
    case model::EventKind::kFile: {
      const auto* f = std::get_if<model::FileData>(&ev.data);
      if (f == nullptr || f->result < 0 || f->path.empty()) return 0;
      const bool write = (f->file_flags & model::kFileWrite) != 0 ||
                         f->op != model::FileOp::kOpen || (f->open_flags & O_ACCMODE) != O_RDONLY;
      const Sensitivity s =
          file_sensitivity(f->path, write, (ev.flags & model::kFlagSensitive) != 0);
      std::string& v = put(Feature::kFileArea, s);
      v = write ? "write " : "read ";
      v += path_area(f->path, 3);
      seal();
      break;
    }
    case model::EventKind::kNet: {
      const auto* d = std::get_if<model::NetData>(&ev.data);
      if (d == nullptr || d->op != model::NetOp::kConnect) return 0;
      if (d->family != AF_INET && d->family != AF_INET6) return 0;
      const bool internal = nets_->internal(d->family, d->remote_addr);
      const Sensitivity s = internal ? Sensitivity::kNormal : Sensitivity::kSensitive;
      std::string& v = put(Feature::kDestination, s);
      v = internal ? "internal " : "external ";
      v += prefix_of(d->family, d->remote_addr);
      v += " port ";
      char port[8];
      const auto r = std::to_chars(port, port + sizeof port, d->remote_port);
      v.append(port, r.ptr);
      seal();
      if (!internal && geo_ != nullptr) {
        std::string country = geo_->country(d->family, d->remote_addr);
        if (!country.empty()) {
          put(Feature::kCountry, Sensitivity::kSensitive) = std::move(country);
          seal();
        }
      }
      break;
    }
    case model::EventKind::kModule:
    case model::EventKind::kBpf:
    case model::EventKind::kPtrace:
    case model::EventKind::kMount: {
      std::string& v = put(Feature::kAction, Sensitivity::kCritical);
      v = model::to_string(ev.kind);
      if (const auto* m = std::get_if<model::ModuleData>(&ev.data)) {
        v += ' ';
        v += base_name(m->name);
      } else if (const auto* m = std::get_if<model::MountData>(&ev.data)) {
        v += ' ';
        v += m->fstype;
      }
      v += " by ";
      v += ev.exe.empty() ? std::string_view(ev.proc.comm) : base_name(ev.exe);
      seal();
      break;
    }
    default:
      break;
  }
  return n;
}

}  // namespace privwatch::ueba
