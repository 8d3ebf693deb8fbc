#include "enrich/drift.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <algorithm>
#include <variant>

namespace privwatch::enrich {

namespace {

constexpr size_t kMaxListed = 6;  // declared items quoted in a reason

std::string_view basename_of(std::string_view p) {
  const size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string list_patterns(const std::vector<Pattern>& v) {
  if (v.empty()) return "(none)";
  std::string out;
  for (size_t i = 0; i < v.size() && i < kMaxListed; ++i) {
    if (i) out += ", ";
    out += v[i].text;
  }
  if (v.size() > kMaxListed) out += fmt::format(" (+{} more)", v.size() - kMaxListed);
  return out;
}

std::string list_destinations(const std::vector<Destination>& v) {
  if (v.empty()) return "(none)";
  std::string out;
  for (size_t i = 0; i < v.size() && i < kMaxListed; ++i) {
    if (i) out += ", ";
    out += v[i].text;
    if (!v[i].ports.empty()) {
      out += " port ";
      for (size_t j = 0; j < v[i].ports.size(); ++j) {
        if (j) out += ",";
        const PortRange& r = v[i].ports[j];
        out += r.lo == r.hi ? fmt::format("{}", r.lo) : fmt::format("{}-{}", r.lo, r.hi);
      }
    }
  }
  if (v.size() > kMaxListed) out += fmt::format(" (+{} more)", v.size() - kMaxListed);
  return out;
}

void append(std::string& reason, const std::string& part) {
  if (!reason.empty()) reason += "; ";
  reason += part;
}

bool any_path(const std::vector<Pattern>& v, std::string_view path) {
  return std::any_of(v.begin(), v.end(), [&](const Pattern& p) { return p.matches_path(path); });
}

}  // namespace

bool is_shell(std::string_view exe_path) {
  static constexpr std::string_view kShells[] = {"sh",  "bash", "dash", "zsh", "ksh",    "mksh",
                                                 "csh", "tcsh", "fish", "ash", "busybox"};
  const std::string_view b = basename_of(exe_path);
  return std::find(std::begin(kShells), std::end(kShells), b) != std::end(kShells);
}

bool is_runtime_read_area(std::string_view path) {
  static constexpr std::string_view kPrefixes[] = {"/lib/",
                                                   "/lib64/",
                                                   "/usr/lib/",
                                                   "/usr/lib64/",
                                                   "/usr/share/locale/",
                                                   "/usr/share/zoneinfo/",
                                                   "/proc/self/",
                                                   "/sys/devices/system/cpu/",
                                                   "/usr/lib/locale/"};
  static constexpr std::string_view kFiles[] = {
      // /usr/share/locale/locale.alias is a symlink to /etc/locale.alias on Debian/Ubuntu: the
      // kernel reports the target (found by a service account running cat end to end).
      "/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/localtime", "/etc/locale.alias",
      "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf",
      "/etc/host.conf", "/etc/gai.conf", "/dev/null", "/dev/urandom", "/dev/random", "/dev/tty",
      "/proc/meminfo", "/proc/stat", "/proc/filesystems",
      // glibc: sysconf(_SC_NGROUPS_MAX) in getgrouplist/initgroups (seen end to end with id),
      // and malloc's overcommit check.
      "/proc/sys/kernel/ngroups_max", "/proc/sys/vm/overcommit_memory"};
  for (auto p : kPrefixes) {
    if (path.substr(0, p.size()) == p) return true;
  }
  return std::find(std::begin(kFiles), std::end(kFiles), path) != std::end(kFiles);
}

bool is_file_write(const model::FileData& f) {
  if (f.op != model::FileOp::kOpen) return true;
  if ((f.file_flags & (model::kFileWrite | model::kFileCreated)) != 0) return true;
  return (f.open_flags & O_ACCMODE) != O_RDONLY || (f.open_flags & (O_CREAT | O_TRUNC)) != 0;
}

uint32_t profile_drift(const model::Event& ev, const ServiceAccount& sa, std::string& reason) {
  const Profile& p = sa.profile;
  uint32_t flags = 0;
  const std::string who = fmt::format("service account {} (owner {})", sa.name, sa.owner);
  if (const auto* x = std::get_if<model::ExecData>(&ev.data)) {
    const std::string& exe = !x->exe_path.empty() ? x->exe_path : x->filename;
    const bool failed = (x->flags & model::kExecFailed) != 0;
    if (p.has_executables && !exe.empty() &&
        !std::any_of(p.executables.begin(), p.executables.end(),
                     [&](const Pattern& pat) { return pat.matches_path(exe); })) {
      flags |= model::kDriftExecutable;
      append(reason,
             fmt::format("{} declared executables: {}; {}: {}", who, list_patterns(p.executables),
                         failed ? "tried to run" : "ran", exe));
    }
    if (!p.interactive_shell && !failed && is_shell(exe)) {
      const bool has_c = std::find(x->args.begin(), x->args.end(), "-c") != x->args.end();
      const bool has_i = std::find(x->args.begin(), x->args.end(), "-i") != x->args.end();
      if (has_i || (ev.proc.tty_dev != 0 && !has_c)) {
        flags |= model::kDriftShell;
        append(reason, fmt::format("{} declared no interactive shell; opened {}{}", who, exe,
                                   ev.proc.tty.empty() ? std::string(" (-i)")
                                                       : fmt::format(" on {}", ev.proc.tty)));
      }
    }
  } else if (const auto* f = std::get_if<model::FileData>(&ev.data)) {
    if (p.has_files && !f->path.empty()) {
      const bool write = is_file_write(*f);
      const auto check = [&](const std::string& path) {
        const bool ok = write ? any_path(p.write, path)
                              : (any_path(p.read, path) || any_path(p.write, path) ||
                                 is_runtime_read_area(path) ||
                                 (p.has_executables && any_path(p.executables, path)));
        if (ok) return;
        flags |= model::kDriftFile;
        append(reason,
               fmt::format("{} declared {} areas: {}; {} {}", who, write ? "write" : "read",
                           list_patterns(write ? p.write : p.read),
                           write ? fmt::format("{}", model::to_string(f->op)) : "read", path));
      };
      check(f->path);
      if (write && !f->target_path.empty() && (flags & model::kDriftFile) == 0) {
        check(f->target_path);
      }
    }
  } else if (const auto* n = std::get_if<model::NetData>(&ev.data)) {
    if (p.has_destinations && n->op == model::NetOp::kConnect &&
        (n->family == AF_INET || n->family == AF_INET6)) {
      std::array<uint8_t, 16> addr = n->remote_addr;
      const bool ok = std::any_of(
          p.destinations.begin(), p.destinations.end(),
          [&](const Destination& d) { return d.matches(n->family, addr, n->remote_port); });
      if (!ok) {
        flags |= model::kDriftDestination;
        const std::string ip = n->remote_ip();
        append(reason,
               fmt::format("{} declared destinations: {}; connected to {}", who,
                           list_destinations(p.destinations),
                           n->family == AF_INET6 ? fmt::format("[{}]:{}", ip, n->remote_port)
                                                 : fmt::format("{}:{}", ip, n->remote_port)));
      }
    }
  }
  return flags;
}

bool is_privileged(const model::Event& ev) {
  return ev.proc.uid == 0 || ev.proc.euid == 0 || ev.attr.escalated;
}

uint32_t grant_drift(const model::Event& ev, std::string_view human, std::string_view host,
                     std::string_view cluster, int64_t now_s, const GrantSet& grants,
                     std::string& reason) {
  if (human.empty() || !is_privileged(ev)) return 0;
  if (grants.active_for(human, host, cluster, now_s) != nullptr) return 0;
  // Explain with the grants this human has for this host (ended or not yet started).
  std::string known;
  size_t listed = 0;
  for (const Grant& g : grants.grants()) {
    if (g.user != human || !g.covers_host(host, cluster)) continue;
    if (listed++ == 3) {
      known += ", ...";
      break;
    }
    if (!known.empty()) known += ", ";
    known += fmt::format("{} {}..{}", g.ticket.empty() ? g.reason : g.ticket,
                         format_rfc3339(g.from_s), format_rfc3339(g.until_s));
  }
  append(reason,
         fmt::format("privileged activity by {} on {}{} at {} outside any access grant ({})", human,
                     host, cluster.empty() ? "" : fmt::format(" (cluster {})", cluster),
                     format_rfc3339(now_s),
                     known.empty() ? fmt::format("no grant for {} on this host", human)
                                   : "their grants here: " + known));
  return model::kDriftNoGrant;
}

}  // namespace privwatch::enrich
