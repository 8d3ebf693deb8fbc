#include "enrich/grants.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <system_error>
#include <utility>

#include "util/fd.hpp"

namespace privwatch::enrich {

const Grant* GrantSet::active_for(std::string_view user, std::string_view host,
                                  std::string_view cluster, int64_t now_s) const {
  for (const Grant& g : grants_) {
    if (g.user == user && g.active_at(now_s) && g.covers_host(host, cluster)) return &g;
  }
  return nullptr;
}

bool GrantSet::any_for_host(std::string_view host, std::string_view cluster) const {
  return std::any_of(grants_.begin(), grants_.end(),
                     [&](const Grant& g) { return g.covers_host(host, cluster); });
}

Status validate_grant(const Grant& g) {
  const auto bad = [](std::string what, std::string hint) {
    return Error{ErrorKind::kInvalidArgument, std::move(what), std::move(hint)};
  };
  if (g.user.empty()) return bad("grant: no user", "name the person the access is approved for");
  const bool plain = g.user.size() <= 128 && std::all_of(g.user.begin(), g.user.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                              c == '.' || c == '@';
                     });
  if (!plain) {
    return bad(fmt::format("grant: '{}' is not a user name", g.user),
               "give the login name (letters, digits, - _ . @)");
  }
  if (g.hosts.empty() && g.clusters.empty()) {
    return bad("grant: no hosts and no clusters", "give host names/globs or cluster names");
  }
  for (const Pattern& p : g.hosts) {
    if (auto problem = pattern_problem(p.text); !problem.empty()) {
      return bad(fmt::format("grant: host pattern '{}' {}", p.text, problem),
                 "write a hostname or a shell glob such as db-*");
    }
  }
  if (g.until_s <= g.from_s) {
    return bad(fmt::format("grant: until ({}) is not after from ({})", format_rfc3339(g.until_s),
                           format_rfc3339(g.from_s)),
               "fix the window");
  }
  if (g.ticket.empty() && g.reason.empty()) {
    return bad("grant: no ticket and no reason", "every grant must say why (a ticket or reason)");
  }
  return {};
}

Status GrantStore::add(Grant g) {
  if (auto s = validate_grant(g); !s) return s;
  for (Pattern& p : g.hosts) p.literal = p.text.find_first_of("*?[\\") == std::string::npos;
  if (g.where.empty()) g.where = "api";
  std::lock_guard lock(mu_);
  api_.push_back(std::move(g));
  rebuild_locked();
  return {};
}

size_t GrantStore::expire(int64_t now_s, int64_t keep_ended_s) {
  std::lock_guard lock(mu_);
  size_t removed = 0;
  for (auto* v : {&files_, &api_}) {
    const size_t before = v->size();
    std::erase_if(*v, [&](const Grant& g) { return g.until_s + keep_ended_s <= now_s; });
    removed += before - v->size();
  }
  if (removed != 0) rebuild_locked();
  return removed;
}

void GrantStore::rebuild_locked() {
  std::vector<Grant> all;
  all.reserve(files_.size() + api_.size());
  for (const auto* v : {&files_, &api_}) all.insert(all.end(), v->begin(), v->end());
  snapshot_ = std::make_shared<const GrantSet>(std::move(all));
}

std::shared_ptr<const GrantSet> GrantStore::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

size_t GrantStore::size() const {
  std::lock_guard lock(mu_);
  return snapshot_->grants().size();
}

namespace {

std::string errno_text(int err) { return std::system_category().message(err); }

// Only root (or the agent's own user) may issue grants.
std::string unsafe(const struct stat& st) {
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return fmt::format("is owned by uid {}, not root", st.st_uid);
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return fmt::format("is writable by group or others (mode {:o})", st.st_mode & 07777);
  }
  return "";
}

Result<std::vector<Grant>> load_one(const std::string& file) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.ok()) {
    return Error{ErrorKind::kIo,
                 fmt::format("grants: cannot read '{}': {}", file, errno_text(errno)),
                 "check the file"};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Error{ErrorKind::kInvalidArgument, fmt::format("grants: '{}' is not a file", file), ""};
  }
  if (auto why = unsafe(st); !why.empty()) {
    return Error{
        ErrorKind::kPermission, fmt::format("grants: refusing '{}': it {}", file, why),
        fmt::format("only root may issue grants: chown root {} && chmod go-w {}", file, file)};
  }
  if (st.st_size > (1 << 20)) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("grants: '{}' is larger than 1 MiB", file), ""};
  }
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  return parse_grants(text, file);
}

}  // namespace

Result<GrantLoadReport> GrantStore::load(const std::string& path) {
  GrantLoadReport report;
  std::vector<Grant> loaded;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Error{ErrorKind::kIo,
                   fmt::format("grants: cannot stat '{}': {}", path, errno_text(errno)),
                   "check the path of inventory.grants"};
    }
  } else if (S_ISDIR(st.st_mode)) {
    if (auto why = unsafe(st); !why.empty()) {
      return Error{
          ErrorKind::kPermission, fmt::format("grants: refusing directory '{}': it {}", path, why),
          fmt::format("only root may issue grants: chown root {} && chmod 0700 {}", path, path)};
    }
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
      return Error{ErrorKind::kIo,
                   fmt::format("grants: cannot list '{}': {}", path, errno_text(errno)), ""};
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      const std::string_view n = e->d_name;
      if (n.starts_with('.')) continue;
      if (n.ends_with(".yaml") || n.ends_with(".yml")) names.emplace_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      ++report.files;
      auto g = load_one(path + "/" + n);
      if (!g) {
        report.rejected.push_back(g.error());
        continue;
      }
      loaded.insert(loaded.end(), g->begin(), g->end());
    }
  } else {
    ++report.files;
    auto g = load_one(path);
    if (!g) {
      report.rejected.push_back(g.error());
    } else {
      loaded = std::move(*g);
    }
  }
  report.grants = loaded.size();
  std::lock_guard lock(mu_);
  files_ = std::move(loaded);
  rebuild_locked();
  return report;
}

Result<std::string> write_grant_file(const std::string& dir, const Grant& g) {
  if (auto s = validate_grant(g); !s) return s.error();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{ErrorKind::kIo, fmt::format("cannot create '{}': {}", dir, errno_text(errno)),
                 "create the grants directory (root, mode 0700) or pass --dir"};
  }
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "grants" << YAML::Value << YAML::BeginSeq;
  out << YAML::BeginMap;
  out << YAML::Key << "user" << YAML::Value << g.user;
  if (!g.hosts.empty()) {
    out << YAML::Key << "hosts" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& h : g.hosts) out << YAML::DoubleQuoted << h.text;
    out << YAML::EndSeq;
  }
  if (!g.clusters.empty()) {
    out << YAML::Key << "clusters" << YAML::Value << YAML::Flow << g.clusters;
  }
  out << YAML::Key << "from" << YAML::Value << format_rfc3339(g.from_s);
  out << YAML::Key << "until" << YAML::Value << format_rfc3339(g.until_s);
  if (!g.ticket.empty()) out << YAML::Key << "ticket" << YAML::Value << g.ticket;
  if (!g.reason.empty()) out << YAML::Key << "reason" << YAML::Value << g.reason;
  out << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  if (!out.good()) {
    return Error{ErrorKind::kInternal, fmt::format("cannot write grant: {}", out.GetLastError()),
                 ""};
  }
  std::string stem = g.ticket.empty() ? g.user : g.ticket;
  for (char& c : stem) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  const std::string base = fmt::format("{}/{}-{}", dir, stem, g.from_s);
  std::string final_path = base + ".yaml";
  for (int i = 1; ::access(final_path.c_str(), F_OK) == 0; ++i) {
    final_path = fmt::format("{}-{}.yaml", base, i);
  }
  const std::string tmp = fmt::format("{}/.{}.tmp{}", dir, stem, ::getpid());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd.ok()) {
      return Error{ErrorKind::kIo, fmt::format("cannot write '{}': {}", tmp, errno_text(errno)),
                   "run as root"};
    }
    const std::string text = std::string(out.c_str()) + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::fsync(fd.get()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return Error{ErrorKind::kIo, fmt::format("cannot write '{}': {}", tmp, errno_text(err)), ""};
    }
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error{ErrorKind::kIo,
                 fmt::format("cannot rename to '{}': {}", final_path, errno_text(err)), ""};
  }
  return final_path;
}

bool parse_time_arg(std::string_view text, int64_t now_s, int64_t& out) {
  if (text == "now") {
    out = now_s;
    return true;
  }
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
    if (text.size() < 2) return false;
    const char unit = text.back();
    int64_t n = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (ec != std::errc() || ptr != text.data() + text.size() - 1 || n <= 0) return false;
    const int64_t mult = unit == 's'   ? 1
                         : unit == 'm' ? 60
                         : unit == 'h' ? 3600
                         : unit == 'd' ? 86400
                                       : 0;
    if (mult == 0) return false;
    out = now_s + n * mult;
    return true;
  }
  return parse_rfc3339(text, out);
}

}  // namespace privwatch::enrich
