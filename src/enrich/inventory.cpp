// Inventory YAML → immutable Inventory, validated. See docs/inventory.md.
#include "enrich/inventory.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <optional>
#include <span>
#include <system_error>
#include <utility>

#include "util/fd.hpp"
#include "util/log.hpp"
#include "util/time.hpp"
#include "util/yaml_documents.hpp"

namespace privwatch::enrich {

// ---------------------------------------------------------------------------------------
// Patterns, destinations, grants, time

std::string pattern_problem(std::string_view p) {
  if (p.empty()) return "is empty";
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (static_cast<unsigned char>(c) < 0x20) return "contains a control character";
    if (c == '\\') {
      if (i + 1 == p.size()) return "ends with a lone '\\'";
      ++i;
      continue;
    }
    if (c == ']') continue;
    if (c == '[') {
      size_t j = i + 1;
      if (j < p.size() && (p[j] == '!' || p[j] == '^')) ++j;
      if (j < p.size() && p[j] == ']') ++j;  // "[]...]" : ']' first is literal
      while (j < p.size() && p[j] != ']') ++j;
      if (j >= p.size()) return "has a '[' without its closing ']'";
      if (j == i + 1) return "has an empty '[]' class";
      i = j;
    }
  }
  return "";
}

namespace {

bool has_wildcard(std::string_view p) { return p.find_first_of("*?[\\") != std::string_view::npos; }

}  // namespace

bool Pattern::matches(std::string_view s) const {
  if (literal) return s == text;
  const std::string str(s);
  return ::fnmatch(text.c_str(), str.c_str(), 0) == 0;
}

bool Pattern::matches_path(std::string_view path) const {
  if (!text.empty() && text.back() == '/') return path.substr(0, text.size()) == text;
  if (text.size() >= 3 && text.compare(text.size() - 3, 3, "/**") == 0) {
    const std::string_view dir(text.data(), text.size() - 2);  // keeps the '/'
    if (!has_wildcard(dir)) return path.substr(0, dir.size()) == dir;
    // A wildcard directory: match the directory part of the path component by component.
    for (size_t slash = path.find('/', 1); slash != std::string_view::npos;
         slash = path.find('/', slash + 1)) {
      const std::string head(path.substr(0, slash + 1));
      if (::fnmatch(std::string(dir).c_str(), head.c_str(), FNM_PATHNAME) == 0) return true;
    }
    return false;
  }
  if (literal) {
    return path == text || (path.size() > text.size() && path.substr(0, text.size()) == text &&
                            path[text.size()] == '/');
  }
  const std::string p(path);
  return ::fnmatch(text.c_str(), p.c_str(), FNM_PATHNAME) == 0;
}

namespace {

bool prefix_match(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                  unsigned bits) {
  const unsigned bytes = bits / 8, rest = bits % 8;
  if (std::memcmp(a.data(), b.data(), bytes) != 0) return false;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

}  // namespace

bool Destination::matches(uint16_t family, const std::array<uint8_t, 16>& addr,
                          uint16_t port) const {
  bool net_ok = false;
  std::array<uint8_t, 16> v4{};
  bool mapped = false;  // ::ffff:a.b.c.d against IPv4 nets
  if (family == AF_INET6) {
    static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(addr.data(), kPrefix, 12) == 0) {
      std::memcpy(v4.data(), addr.data() + 12, 4);
      mapped = true;
    }
  }
  for (const Net& n : nets) {
    if (n.family == family && prefix_match(n.addr, addr, n.prefix)) net_ok = true;
    if (mapped && n.family == AF_INET && prefix_match(n.addr, v4, n.prefix)) net_ok = true;
    if (net_ok) break;
  }
  if (!net_ok) return false;
  if (ports.empty()) return true;
  return std::any_of(ports.begin(), ports.end(),
                     [port](const PortRange& r) { return port >= r.lo && port <= r.hi; });
}

bool Grant::covers_host(std::string_view host, std::string_view cluster) const {
  if (!cluster.empty() && std::find(clusters.begin(), clusters.end(), cluster) != clusters.end()) {
    return true;
  }
  return std::any_of(hosts.begin(), hosts.end(), [&](const Pattern& p) { return p.matches(host); });
}

bool parse_rfc3339(std::string_view s, int64_t& unix_s) {
  const auto t = util::parse_rfc3339(s, {.date_only = true});
  if (!t) return false;
  unix_s = t->seconds;  // a fraction is accepted and dropped: grants are to the second
  return true;
}

std::string format_rfc3339(int64_t unix_s) { return util::format_rfc3339({unix_s, 0}); }

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

bool getaddrinfo_resolver(const std::string& host, std::vector<Destination::Net>& nets,
                          std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr) {
    error = rc != 0 ? gai_strerror(rc) : "no address";
    return false;
  }
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    Destination::Net net;
    if (ai->ai_family == AF_INET) {
      net.family = AF_INET;
      net.prefix = 32;
      std::memcpy(net.addr.data(), &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6) {
      net.family = AF_INET6;
      net.prefix = 128;
      std::memcpy(net.addr.data(), &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    const bool dup = std::any_of(nets.begin(), nets.end(), [&](const auto& n) {
      return n.family == net.family && n.addr == net.addr;
    });
    if (!dup) nets.push_back(net);
  }
  ::freeaddrinfo(res);
  return true;
}

// ---------------------------------------------------------------------------------------
// Inventory queries

namespace {
std::atomic<uint64_t> g_generation{0};
const std::string kNone;
}  // namespace

Inventory::Inventory(std::string hostname)
    : hostname_(hostname.empty() ? local_hostname() : std::move(hostname)),
      generation_(++g_generation) {}

const std::string& Inventory::cluster_of(std::string_view host) const {
  if (host == hostname_ && !cluster_.empty()) return cluster_;
  for (const Cluster& c : clusters_) {
    for (const Pattern& p : c.hosts) {
      if (p.matches(host)) return c.name;
    }
  }
  return kNone;
}

std::vector<std::string> Inventory::roles_for(std::string_view user,
                                              const std::vector<std::string>& groups) const {
  std::vector<std::string> out;
  for (const Role& r : roles_) {
    const bool by_user =
        !user.empty() && std::find(r.users.begin(), r.users.end(), user) != r.users.end();
    const bool by_group =
        !by_user && std::any_of(r.groups.begin(), r.groups.end(), [&](const std::string& g) {
          return std::find(groups.begin(), groups.end(), g) != groups.end();
        });
    if (by_user || by_group) out.push_back(r.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const ServiceAccount* Inventory::service_account(std::string_view name) const {
  for (const auto& sa : accounts_) {
    if (sa.name == name) return &sa;
  }
  return nullptr;
}

const ServiceAccount* Inventory::service_account_for(const Subject& s) const {
  // Most specific first: Kubernetes identity, container name, image, systemd unit, user.
  if (!s.k8s_namespace.empty()) {
    const ServiceAccount* ns_only = nullptr;
    for (const auto& sa : accounts_) {
      for (const auto& k : sa.match.kubernetes) {
        if (k.namespace_ != s.k8s_namespace) continue;
        if (!k.service_account.empty() && k.service_account == s.k8s_service_account) return &sa;
        if (k.service_account.empty() && ns_only == nullptr) ns_only = &sa;
      }
    }
    if (ns_only != nullptr) return ns_only;
  }
  const auto by = [&](std::string_view value,
                      std::vector<Pattern> ServiceAccountMatch::*field) -> const ServiceAccount* {
    if (value.empty()) return nullptr;
    for (const auto& sa : accounts_) {
      for (const Pattern& p : sa.match.*field) {
        if (p.matches(value)) return &sa;
      }
    }
    return nullptr;
  };
  if (auto* sa = by(s.container_name, &ServiceAccountMatch::containers)) return sa;
  if (auto* sa = by(s.image, &ServiceAccountMatch::images)) return sa;
  if (auto* sa = by(s.systemd_unit, &ServiceAccountMatch::units)) return sa;
  if (!s.user.empty()) {
    for (const auto& sa : accounts_) {
      if (std::find(sa.match.users.begin(), sa.match.users.end(), s.user) != sa.match.users.end()) {
        return &sa;
      }
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Parser

namespace {

constexpr std::string_view kTopKeys[] = {"host",   "roles",         "clusters", "service_accounts",
                                         "grants", "grant_required"};
constexpr std::string_view kHostKeys[] = {"name", "cluster"};
constexpr std::string_view kRoleKeys[] = {"users", "groups", "description"};
constexpr std::string_view kClusterKeys[] = {"hosts", "description"};
constexpr std::string_view kAccountKeys[] = {"owner", "description", "match", "profile"};
constexpr std::string_view kMatchKeys[] = {"users", "units", "images", "containers", "kubernetes"};
constexpr std::string_view kK8sKeys[] = {"namespace", "service_account"};
constexpr std::string_view kProfileKeys[] = {"executables", "files", "destinations",
                                             "interactive_shell"};
constexpr std::string_view kFilesKeys[] = {"read", "write"};
constexpr std::string_view kDestKeys[] = {"cidr", "host", "ports"};
constexpr std::string_view kGrantKeys[] = {"user",  "hosts",  "clusters", "from",
                                           "until", "ticket", "reason"};
constexpr std::string_view kRequiredKeys[] = {"hosts", "clusters"};

std::string join(std::span<const std::string_view> items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string shorten(const std::string& s) {
  constexpr size_t kMax = 60;
  std::string out;
  for (char c : s.size() > kMax ? s.substr(0, kMax) : s) {
    out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  }
  if (s.size() > kMax) out += "...";
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Scalar:
      return fmt::format("'{}'", shorten(node.Scalar()));
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '@';
  });
}

}  // namespace

class InventoryParser {
 public:
  InventoryParser(Inventory& inv, std::string origin) : inv_(inv), origin_(std::move(origin)) {}

  std::string where(const YAML::Mark& m) const {
    if (m.is_null()) return origin_;
    return fmt::format("{}:{}:{}", origin_, m.line + 1, m.column + 1);
  }

  Error error(const YAML::Mark& m, std::string what, std::string hint) const {
    return Error{ErrorKind::kInvalidArgument, fmt::format("{}: {}", where(m), what),
                 std::move(hint)};
  }
  Error error(const YAML::Node& n, std::string what, std::string hint) const {
    return error(n.Mark(), std::move(what), std::move(hint));
  }

  Status check_keys(const YAML::Node& section, const std::string& name,
                    std::span<const std::string_view> known) const {
    if (section.IsNull()) return {};
    if (!section.IsMap()) {
      return error(section,
                   fmt::format("{}: expected a mapping of keys, got {}", name, describe(section)),
                   fmt::format("write '{}:' followed by indented keys: {}", name, join(known)));
    }
    std::vector<std::pair<std::string, YAML::Mark>> seen;
    for (const auto& kv : section) {
      if (!kv.first.IsScalar()) {
        return error(kv.first, fmt::format("{}: keys must be plain names", name),
                     fmt::format("known keys: {}", join(known)));
      }
      const std::string& key = kv.first.Scalar();
      for (const auto& [other, mark] : seen) {
        if (other == key) {
          return error(kv.first,
                       fmt::format("{}: duplicate key '{}' (first set at line {})", name,
                                   shorten(key), mark.line + 1),
                       "remove one of the two; YAML does not merge repeated keys");
        }
      }
      seen.emplace_back(key, kv.first.Mark());
      if (known.empty()) continue;  // free-form names (roles, clusters, accounts)
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string_view best;
      size_t best_d = SIZE_MAX;
      for (const auto& k : known) {
        const size_t d = edit_distance(key, k);
        if (d < best_d) {
          best_d = d;
          best = k;
        }
      }
      std::string hint =
          best_d <= std::max<size_t>(2, key.size() / 3)
              ? fmt::format("did you mean '{}'? Fix or remove the key", best)
              : "fix or remove the key; every key is documented in docs/inventory.md";
      return error(
          kv.first,
          fmt::format("unknown key '{}' in '{}' (known: {})", shorten(key), name, join(known)),
          std::move(hint));
    }
    return {};
  }

  Result<std::string> read_string(const YAML::Node& v, const std::string& name,
                                  std::string_view example) const {
    if (!v.IsScalar() || v.Scalar().empty()) {
      return error(v, fmt::format("{}: expected a text value, got {}", name, describe(v)),
                   fmt::format("write e.g. '{}: {}'", name.substr(name.rfind('.') + 1), example));
    }
    return v.Scalar();
  }

  Result<std::vector<std::string>> read_list(const YAML::Node& v, const std::string& name,
                                             std::string_view example) const {
    std::vector<std::string> out;
    if (v.IsNull()) return out;
    const std::string key = name.substr(name.rfind('.') + 1);
    if (v.IsScalar()) {  // a single value is a one-item list
      if (v.Scalar().empty()) return out;
      out.push_back(v.Scalar());
      return out;
    }
    if (!v.IsSequence()) {
      return error(v, fmt::format("{}: expected a list, got {}", name, describe(v)),
                   fmt::format("write a YAML list, e.g. '{}: [{}]'", key, example));
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].IsScalar() || v[i].Scalar().empty()) {
        return error(v[i],
                     fmt::format("{}[{}]: expected a text value, got {}", name, i, describe(v[i])),
                     fmt::format("write one plain value per entry, e.g. '{}: [{}]'", key, example));
      }
      out.push_back(v[i].Scalar());
    }
    return out;
  }

  Result<std::vector<std::string>> read_names(const YAML::Node& v, const std::string& name,
                                              std::string_view what,
                                              std::string_view example) const {
    auto list = read_list(v, name, example);
    if (!list) return list;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!valid_name((*list)[i])) {
        const YAML::Node at = v.IsSequence() ? v[i] : v;
        return error(
            at, fmt::format("{}[{}]: '{}' is not a valid {}", name, i, shorten((*list)[i]), what),
            fmt::format("use plain {} names (letters, digits, - _ . @), e.g. {}", what, example));
      }
    }
    return list;
  }

  // Globs; `path`: absolute paths.
  Result<std::vector<Pattern>> read_patterns(const YAML::Node& v, const std::string& name,
                                             std::string_view example, bool path) const {
    auto list = read_list(v, name, example);
    if (!list) return list.error();
    std::vector<Pattern> out;
    for (size_t i = 0; i < list->size(); ++i) {
      const YAML::Node at = v.IsSequence() ? v[i] : v;
      const std::string& text = (*list)[i];
      std::string problem = pattern_problem(text);
      if (problem.empty() && path && text[0] != '/') problem = "is not an absolute path";
      if (!problem.empty()) {
        return error(
            at, fmt::format("{}[{}]: pattern '{}' {}", name, i, shorten(text), problem),
            fmt::format("write a shell-style pattern (* ? [abc]; \\ escapes), e.g. {}", example));
      }
      out.push_back(Pattern{text, !has_wildcard(text), where(at.Mark())});
    }
    return out;
  }

  Result<bool> read_bool(const YAML::Node& v, const std::string& name) const {
    bool value = false;
    if (!v.IsScalar() || !YAML::convert<bool>::decode(v, value)) {
      return error(v, fmt::format("{}: expected true or false, got {}", name, describe(v)),
                   fmt::format("set {} to true or false", name));
    }
    return value;
  }

  Result<int64_t> read_time(const YAML::Node& v, const std::string& name) const {
    int64_t t = 0;
    if (!v.IsScalar() || !parse_rfc3339(v.Scalar(), t)) {
      return error(v, fmt::format("{}: expected an RFC 3339 time, got {}", name, describe(v)),
                   "write e.g. 2026-11-22T05:00:00Z or 2026-11-22T07:00:00+02:00 (a time needs "
                   "Z or an offset)");
    }
    return t;
  }

  // ---- sections ---------------------------------------------------------------------

  Status apply(const YAML::Node& root) {
    if (!root || root.IsNull()) return {};
    if (!root.IsMap()) {
      return error(root,
                   fmt::format("the inventory must be a mapping of keys, got {}", describe(root)),
                   fmt::format("start with top-level keys: {}", join(kTopKeys)));
    }
    if (auto s = check_keys(root, "inventory", kTopKeys); !s) return s;
    // Clusters first: grants and host.cluster refer to them.
    const std::string_view order[] = {"clusters",         "host",   "roles",
                                      "service_accounts", "grants", "grant_required"};
    for (std::string_view want : order) {
      for (const auto& kv : root) {
        if (kv.first.Scalar() != want) continue;
        Status s;
        if (want == "clusters") s = apply_clusters(kv.second);
        if (want == "host") s = apply_host(kv.second);
        if (want == "roles") s = apply_roles(kv.second);
        if (want == "service_accounts") s = apply_accounts(kv.second);
        if (want == "grants") s = apply_grants(kv.second, inv_.grants_);
        if (want == "grant_required") s = apply_required(kv.second);
        if (!s) return s;
      }
    }
    return finish_host();
  }

  Status apply_host(const YAML::Node& section) {
    if (auto s = check_keys(section, "host", kHostKeys); !s) return s;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      const std::string key = kv.first.Scalar();
      auto value = read_string(kv.second, "host." + key, key == "name" ? "db-1" : "databases");
      if (!value) return value.error();
      if (key == "name") {
        inv_.hostname_ = *value;
      } else {
        host_cluster_ = *value;
        host_cluster_node_.reset(kv.second);
      }
    }
    return {};
  }

  Status finish_host() {
    if (!host_cluster_.empty()) {
      if (!cluster_defined(host_cluster_)) {
        return error(host_cluster_node_,
                     fmt::format("host.cluster: cluster '{}' is not defined under 'clusters:'",
                                 shorten(host_cluster_)),
                     fmt::format("define it, or use one of: {}", cluster_names()));
      }
      inv_.cluster_ = host_cluster_;
      return {};
    }
    // This host's cluster by its name; two clusters matching it is ambiguous.
    const Cluster* first = nullptr;
    const Pattern* first_p = nullptr;
    for (const Cluster& c : inv_.clusters_) {
      for (const Pattern& p : c.hosts) {
        if (!p.matches(inv_.hostname_)) continue;
        if (first != nullptr && first != &c) {
          return Error{ErrorKind::kInvalidArgument,
                       fmt::format("{}: this host '{}' matches cluster '{}' ('{}' at {}) and "
                                   "cluster '{}' ('{}' at {})",
                                   p.where, inv_.hostname_, first->name, first_p->text,
                                   first_p->where, c.name, p.text, p.where),
                       "a host belongs to one cluster: narrow one of the patterns, or say which "
                       "with 'host: {cluster: NAME}'"};
        }
        if (first == nullptr) {
          first = &c;
          first_p = &p;
        }
        break;
      }
    }
    if (first != nullptr) inv_.cluster_ = first->name;
    return {};
  }

  bool cluster_defined(const std::string& name) const {
    return std::any_of(inv_.clusters_.begin(), inv_.clusters_.end(),
                       [&](const Cluster& c) { return c.name == name; });
  }
  std::string cluster_names() const {
    std::string out;
    for (const auto& c : inv_.clusters_) out += (out.empty() ? "" : ", ") + c.name;
    return out.empty() ? "(no clusters are defined)" : out;
  }

  Status check_entity_name(const YAML::Node& key, std::string_view what) const {
    if (!valid_name(key.Scalar())) {
      return error(key, fmt::format("'{}' is not a valid {} name", shorten(key.Scalar()), what),
                   "use letters, digits, '-', '_', '.' or '@'");
    }
    return {};
  }

  Status apply_roles(const YAML::Node& section) {
    if (auto s = check_keys(section, "roles", {}); !s) return s;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      if (auto s = check_entity_name(kv.first, "role"); !s) return s;
      const std::string name = "roles." + kv.first.Scalar();
      if (auto s = check_keys(kv.second, name, kRoleKeys); !s) return s;
      Role r;
      r.name = kv.first.Scalar();
      if (kv.second.IsMap()) {
        for (const auto& f : kv.second) {
          const std::string key = f.first.Scalar();
          if (key == "users") {
            auto v = read_names(f.second, name + ".users", "user", "alice, bob");
            if (!v) return v.error();
            r.users = std::move(*v);
          } else if (key == "groups") {
            auto v = read_names(f.second, name + ".groups", "group", "dba, sudo");
            if (!v) return v.error();
            r.groups = std::move(*v);
          }
        }
      }
      if (r.users.empty() && r.groups.empty()) {
        return error(
            kv.first, fmt::format("role '{}' names no users and no groups", r.name),
            fmt::format("add 'users: [...]' or 'groups: [...]' under {}, or remove it", name));
      }
      if (!r.groups.empty()) inv_.roles_use_groups_ = true;
      inv_.roles_.push_back(std::move(r));
    }
    std::sort(inv_.roles_.begin(), inv_.roles_.end(),
              [](const Role& a, const Role& b) { return a.name < b.name; });
    return {};
  }

  // Two pattern lists that can match the same value: literal vs literal, literal vs glob,
  // or identical globs. Returns the explanation, or "".
  static std::string overlap(const std::vector<Pattern>& a, const std::vector<Pattern>& b) {
    for (const Pattern& x : a) {
      for (const Pattern& y : b) {
        const bool clash = (x.literal && y.matches(x.text)) || (y.literal && x.matches(y.text)) ||
                           x.text == y.text;
        if (clash) {
          return fmt::format("'{}' ({}) and '{}' ({})", x.text, x.where, y.text, y.where);
        }
      }
    }
    return "";
  }

  Status apply_clusters(const YAML::Node& section) {
    if (auto s = check_keys(section, "clusters", {}); !s) return s;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      if (auto s = check_entity_name(kv.first, "cluster"); !s) return s;
      const std::string name = "clusters." + kv.first.Scalar();
      Cluster c;
      c.name = kv.first.Scalar();
      if (kv.second.IsSequence()) {  // shorthand: clusters: {db: [db-*]}
        auto v = read_patterns(kv.second, name, "db-*, pg1.example.com", false);
        if (!v) return v.error();
        c.hosts = std::move(*v);
      } else {
        if (auto s = check_keys(kv.second, name, kClusterKeys); !s) return s;
        if (kv.second.IsMap()) {
          for (const auto& f : kv.second) {
            if (f.first.Scalar() != "hosts") continue;
            auto v = read_patterns(f.second, name + ".hosts", "db-*, pg1.example.com", false);
            if (!v) return v.error();
            c.hosts = std::move(*v);
          }
        }
      }
      if (c.hosts.empty()) {
        return error(kv.first, fmt::format("cluster '{}' has no hosts", c.name),
                     fmt::format("add 'hosts: [name, glob-*]' under {}", name));
      }
      for (const Cluster& other : inv_.clusters_) {
        if (auto o = overlap(other.hosts, c.hosts); !o.empty()) {
          return error(kv.first,
                       fmt::format("clusters '{}' and '{}' overlap: {} match the same host",
                                   other.name, c.name, o),
                       "a host belongs to one cluster: remove the host from one of them or "
                       "narrow the glob");
        }
      }
      inv_.clusters_.push_back(std::move(c));
    }
    return {};
  }

  Status apply_match(const YAML::Node& v, const std::string& name, ServiceAccountMatch& m) {
    if (auto s = check_keys(v, name, kMatchKeys); !s) return s;
    if (!v.IsMap()) return {};
    for (const auto& f : v) {
      const std::string key = f.first.Scalar();
      const std::string item = name + "." + key;
      if (key == "users") {
        auto r = read_names(f.second, item, "user", "backup, postgres");
        if (!r) return r.error();
        m.users = std::move(*r);
      } else if (key == "units") {
        auto r = read_patterns(f.second, item, "backup.service, backup-*.service", false);
        if (!r) return r.error();
        for (size_t i = 0; i < r->size(); ++i) {
          const std::string& u = (*r)[i].text;
          if (u.find('/') != std::string::npos || u.find('.') == std::string::npos) {
            return error(
                f.second.IsSequence() ? f.second[i] : f.second,
                fmt::format("{}[{}]: '{}' is not a systemd unit name", item, i, shorten(u)),
                "write the unit with its type, e.g. backup.service");
          }
        }
        m.units = std::move(*r);
      } else if (key == "images") {
        auto r = read_patterns(f.second, item, "registry.local/backup:*", false);
        if (!r) return r.error();
        m.images = std::move(*r);
      } else if (key == "containers") {
        auto r = read_patterns(f.second, item, "backup-*", false);
        if (!r) return r.error();
        m.containers = std::move(*r);
      } else if (key == "kubernetes") {
        const YAML::Node& list = f.second;
        if (!list.IsSequence()) {
          return error(list, fmt::format("{}: expected a list, got {}", item, describe(list)),
                       "write e.g. 'kubernetes: [{namespace: payments, service_account: api}]'");
        }
        for (size_t i = 0; i < list.size(); ++i) {
          const std::string entry = fmt::format("{}[{}]", item, i);
          if (auto s = check_keys(list[i], entry, kK8sKeys); !s) return s;
          ServiceAccountMatch::K8s k;
          if (list[i].IsMap()) {
            for (const auto& kk : list[i]) {
              auto value = read_string(kk.second, entry + "." + kk.first.Scalar(), "payments");
              if (!value) return value.error();
              (kk.first.Scalar() == "namespace" ? k.namespace_ : k.service_account) = *value;
            }
          }
          if (k.namespace_.empty()) {
            return error(list[i], fmt::format("{}: 'namespace' is required", entry),
                         "write e.g. '{namespace: payments, service_account: api}'");
          }
          m.kubernetes.push_back(std::move(k));
        }
      }
    }
    if (m.users.empty() && m.units.empty() && m.images.empty() && m.containers.empty() &&
        m.kubernetes.empty()) {
      return error(v,
                   fmt::format("{}: no criterion: this service account would match nothing", name),
                   "add users, units, images, containers or kubernetes under it");
    }
    return {};
  }

  Result<Destination> read_destination(const YAML::Node& v, const std::string& name) {
    if (auto s = check_keys(v, name, kDestKeys); !s) return s.error();
    Destination d;
    if (!v.IsMap()) {
      return error(v, fmt::format("{}: expected a mapping, got {}", name, describe(v)),
                   "write e.g. '{cidr: 10.0.0.0/8, ports: [5432]}' or '{host: s3.example.com}'");
    }
    for (const auto& f : v) {
      const std::string key = f.first.Scalar();
      const std::string item = name + "." + key;
      if (key == "cidr") {
        auto text = read_string(f.second, item, "10.0.0.0/8");
        if (!text) return text.error();
        Destination::Net net;
        if (!parse_cidr(*text, net)) {
          return error(f.second, fmt::format("{}: '{}' is not a CIDR", item, shorten(*text)),
                       "write an address with a prefix length, e.g. 10.0.0.0/8, "
                       "192.0.2.7/32 or 2001:db8::/32 (an address alone means one host)");
        }
        d.nets.push_back(net);
        d.text = *text;
      } else if (key == "host") {
        auto text = read_string(f.second, item, "s3.example.com");
        if (!text) return text.error();
        d.hostname = *text;
        d.text = *text;
      } else if (key == "ports") {
        auto list = read_list(f.second, item, "443, 8000-8100");
        if (!list) return list.error();
        for (size_t i = 0; i < list->size(); ++i) {
          PortRange r;
          if (!parse_ports((*list)[i], r)) {
            return error(f.second.IsSequence() ? f.second[i] : f.second,
                         fmt::format("{}[{}]: '{}' is not a port or port range", item, i,
                                     shorten((*list)[i])),
                         "write ports 1..65535, or ranges like 8000-8100");
          }
          d.ports.push_back(r);
        }
      }
    }
    if (d.nets.empty() == d.hostname.empty()) {
      return error(v, fmt::format("{}: give exactly one of 'cidr' or 'host'", name),
                   "split it into two destinations if you need both");
    }
    if (!d.hostname.empty()) resolve(d);
    return d;
  }

  static bool parse_cidr(const std::string& text, Destination::Net& net) {
    const size_t slash = text.find('/');
    const std::string addr = text.substr(0, slash);
    if (inet_pton(AF_INET, addr.c_str(), net.addr.data()) == 1) {
      net.family = AF_INET;
      net.prefix = 32;
    } else if (inet_pton(AF_INET6, addr.c_str(), net.addr.data()) == 1) {
      net.family = AF_INET6;
      net.prefix = 128;
    } else {
      return false;
    }
    if (slash != std::string::npos) {
      const std::string_view p(text.data() + slash + 1, text.size() - slash - 1);
      unsigned bits = 0;
      const auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), bits);
      if (ec != std::errc() || ptr != p.data() + p.size() || p.empty() || bits > net.prefix) {
        return false;
      }
      net.prefix = static_cast<uint8_t>(bits);
    }
    return true;
  }

  static bool parse_ports(const std::string& text, PortRange& r) {
    const auto num = [](std::string_view s, uint16_t& out) {
      unsigned v = 0;
      const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || ptr != s.data() + s.size() || s.empty() || v == 0 || v > 65535) {
        return false;
      }
      out = static_cast<uint16_t>(v);
      return true;
    };
    const size_t dash = text.find('-');
    if (dash == std::string::npos) {
      if (!num(text, r.lo)) return false;
      r.hi = r.lo;
      return true;
    }
    return num(std::string_view(text).substr(0, dash), r.lo) &&
           num(std::string_view(text).substr(dash + 1), r.hi) && r.lo <= r.hi;
  }

  // Hostnames are resolved once per load (never on the event path); a name that does not
  // resolve is a warning: it matches nothing until a reload resolves it.
  void resolve(Destination& d) {
    std::string why;
    const HostResolver& r = resolver_ ? resolver_ : HostResolver(getaddrinfo_resolver);
    if (!r(d.hostname, d.nets, why)) {
      inv_.warnings_.push_back(fmt::format(
          "{}: destination host '{}' does not resolve ({}); it matches no connection until the "
          "inventory is reloaded",
          origin_, d.hostname, why));
    }
  }

  Status apply_profile(const YAML::Node& v, const std::string& name, Profile& p) {
    if (auto s = check_keys(v, name, kProfileKeys); !s) return s;
    if (!v.IsMap()) return {};
    for (const auto& f : v) {
      const std::string key = f.first.Scalar();
      const std::string item = name + "." + key;
      if (key == "executables") {
        auto r = read_patterns(f.second, item, "/usr/bin/pg_dump, /opt/backup/bin/*", true);
        if (!r) return r.error();
        p.executables = std::move(*r);
        p.has_executables = true;
      } else if (key == "files") {
        if (auto s = check_keys(f.second, item, kFilesKeys); !s) return s;
        p.has_files = true;
        if (!f.second.IsMap()) continue;
        for (const auto& ff : f.second) {
          auto r = read_patterns(ff.second, item + "." + ff.first.Scalar(),
                                 "/var/lib/postgresql/, /etc/backup/*.conf", true);
          if (!r) return r.error();
          (ff.first.Scalar() == "read" ? p.read : p.write) = std::move(*r);
        }
      } else if (key == "destinations") {
        p.has_destinations = true;
        if (f.second.IsNull()) continue;
        if (!f.second.IsSequence()) {
          return error(f.second,
                       fmt::format("{}: expected a list, got {}", item, describe(f.second)),
                       "write e.g. 'destinations: [{cidr: 10.0.0.0/8, ports: [5432]}]'");
        }
        for (size_t i = 0; i < f.second.size(); ++i) {
          auto d = read_destination(f.second[i], fmt::format("{}[{}]", item, i));
          if (!d) return d.error();
          p.destinations.push_back(std::move(*d));
        }
      } else if (key == "interactive_shell") {
        auto b = read_bool(f.second, item);
        if (!b) return b.error();
        p.interactive_shell = *b;
      }
    }
    return {};
  }

  Status apply_accounts(const YAML::Node& section) {
    if (auto s = check_keys(section, "service_accounts", {}); !s) return s;
    if (section.IsNull()) return {};
    for (const auto& kv : section) {
      if (auto s = check_entity_name(kv.first, "service account"); !s) return s;
      const std::string name = "service_accounts." + kv.first.Scalar();
      if (auto s = check_keys(kv.second, name, kAccountKeys); !s) return s;
      ServiceAccount sa;
      sa.name = kv.first.Scalar();
      sa.where = where(kv.first.Mark());
      bool have_match = false;
      if (kv.second.IsMap()) {
        for (const auto& f : kv.second) {
          const std::string key = f.first.Scalar();
          if (key == "owner") {
            auto v = read_string(f.second, name + ".owner", "team-storage");
            if (!v) return v.error();
            sa.owner = *v;
          } else if (key == "description") {
            auto v = read_string(f.second, name + ".description", "nightly backups");
            if (!v) return v.error();
            sa.description = *v;
          } else if (key == "match") {
            if (auto s = apply_match(f.second, name + ".match", sa.match); !s) return s;
            have_match = true;
          } else if (key == "profile") {
            if (auto s = apply_profile(f.second, name + ".profile", sa.profile); !s) return s;
          }
        }
      }
      if (sa.owner.empty()) {
        return error(kv.first, fmt::format("service account '{}' has no owner", sa.name),
                     fmt::format("add 'owner: <person or team>' under {}: every non-human "
                                 "identity needs someone accountable",
                                 name));
      }
      if (!have_match) {
        return error(kv.first, fmt::format("service account '{}' has no 'match:'", sa.name),
                     "add 'match:' with users, units, images, containers or kubernetes");
      }
      if (auto s = check_account_overlap(kv.first, sa); !s) return s;
      inv_.accounts_.push_back(std::move(sa));
    }
    return {};
  }

  Status check_account_overlap(const YAML::Node& at, const ServiceAccount& sa) const {
    for (const ServiceAccount& o : inv_.accounts_) {
      std::string why;
      for (const auto& u : sa.match.users) {
        if (std::find(o.match.users.begin(), o.match.users.end(), u) != o.match.users.end()) {
          why = fmt::format("both match user '{}'", u);
        }
      }
      const std::pair<const char*, std::vector<Pattern> ServiceAccountMatch::*> lists[] = {
          {"units", &ServiceAccountMatch::units},
          {"images", &ServiceAccountMatch::images},
          {"containers", &ServiceAccountMatch::containers}};
      for (const auto& [what, field] : lists) {
        if (!why.empty()) break;
        if (auto x = overlap(o.match.*field, sa.match.*field); !x.empty()) {
          why = fmt::format("their {} {} match the same workload", what, x);
        }
      }
      for (const auto& a : sa.match.kubernetes) {
        for (const auto& b : o.match.kubernetes) {
          // A namespace-wide entry and a specific one do not clash: the specific one wins.
          if (why.empty() && a.namespace_ == b.namespace_ &&
              a.service_account == b.service_account) {
            why = fmt::format("both match Kubernetes namespace '{}' service account '{}'",
                              a.namespace_, a.service_account.empty() ? "*" : a.service_account);
          }
        }
      }
      if (!why.empty()) {
        return error(at,
                     fmt::format("service accounts '{}' (defined at {}) and '{}' overlap: {}",
                                 o.name, o.where, sa.name, why),
                     "an identity belongs to one service account: remove the criterion from one "
                     "of them or narrow the pattern");
      }
    }
    return {};
  }

  Status apply_grants(const YAML::Node& list, std::vector<Grant>& out) {
    if (list.IsNull()) return {};
    if (!list.IsSequence()) {
      return error(list, fmt::format("grants: expected a list, got {}", describe(list)),
                   "write '- user: alice' entries under 'grants:' (see docs/inventory.md)");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string name = fmt::format("grants[{}]", i);
      const YAML::Node& g = list[i];
      if (auto s = check_keys(g, name, kGrantKeys); !s) return s;
      if (!g.IsMap()) {
        return error(g, fmt::format("{}: expected a mapping, got {}", name, describe(g)),
                     "write user, hosts or clusters, from, until and ticket or reason");
      }
      Grant gr;
      gr.where = where(g.Mark());
      bool have_from = false, have_until = false;
      for (const auto& f : g) {
        const std::string key = f.first.Scalar();
        const std::string item = name + "." + key;
        if (key == "user") {
          auto v = read_string(f.second, item, "alice");
          if (!v) return v.error();
          if (!valid_name(*v)) {
            return error(f.second, fmt::format("{}: '{}' is not a user name", item, shorten(*v)),
                         "write the login name of the person the access was approved for");
          }
          gr.user = *v;
        } else if (key == "hosts") {
          auto v = read_patterns(f.second, item, "db-*, pg1.example.com", false);
          if (!v) return v.error();
          gr.hosts = std::move(*v);
        } else if (key == "clusters") {
          auto v = read_names(f.second, item, "cluster", "databases");
          if (!v) return v.error();
          for (size_t j = 0; j < v->size(); ++j) {
            if (check_grant_clusters_ && !cluster_defined((*v)[j])) {
              return error(f.second.IsSequence() ? f.second[j] : f.second,
                           fmt::format("{}[{}]: cluster '{}' is not defined under 'clusters:'",
                                       item, j, shorten((*v)[j])),
                           fmt::format("use one of: {}", cluster_names()));
            }
          }
          gr.clusters = std::move(*v);
        } else if (key == "from" || key == "until") {
          auto t = read_time(f.second, item);
          if (!t) return t.error();
          (key == "from" ? gr.from_s : gr.until_s) = *t;
          (key == "from" ? have_from : have_until) = true;
        } else if (key == "ticket" || key == "reason") {
          auto v = read_string(f.second, item, key == "ticket" ? "CHG-1234" : "DB migration");
          if (!v) return v.error();
          (key == "ticket" ? gr.ticket : gr.reason) = *v;
        }
      }
      const auto missing = [&](std::string_view what, std::string_view example) {
        return error(g, fmt::format("{}: '{}' is required", name, what),
                     fmt::format("add e.g. '{}'", example));
      };
      if (gr.user.empty()) return missing("user", "user: alice");
      if (gr.hosts.empty() && gr.clusters.empty()) return missing("hosts", "hosts: [db-*]");
      if (!have_from) return missing("from", "from: 2026-11-22T05:00:00Z");
      if (!have_until) return missing("until", "until: 2026-11-22T07:00:00Z");
      if (gr.ticket.empty() && gr.reason.empty()) return missing("ticket", "ticket: CHG-1234");
      if (gr.until_s <= gr.from_s) {
        return error(g,
                     fmt::format("{}: 'until' ({}) is not after 'from' ({})", name,
                                 format_rfc3339(gr.until_s), format_rfc3339(gr.from_s)),
                     "swap the two or fix the dates");
      }
      out.push_back(std::move(gr));
    }
    return {};
  }

  Status apply_required(const YAML::Node& section) {
    if (auto s = check_keys(section, "grant_required", kRequiredKeys); !s) return s;
    if (!section.IsMap()) return {};
    for (const auto& f : section) {
      if (f.first.Scalar() == "hosts") {
        auto v = read_patterns(f.second, "grant_required.hosts", "db-*", false);
        if (!v) return v.error();
        inv_.required_hosts_ = std::move(*v);
      } else {
        auto v = read_names(f.second, "grant_required.clusters", "cluster", "databases");
        if (!v) return v.error();
        for (size_t j = 0; j < v->size(); ++j) {
          if (!cluster_defined((*v)[j])) {
            return error(f.second.IsSequence() ? f.second[j] : f.second,
                         fmt::format("grant_required.clusters[{}]: cluster '{}' is not defined", j,
                                     shorten((*v)[j])),
                         fmt::format("use one of: {}", cluster_names()));
          }
        }
        inv_.required_clusters_ = std::move(*v);
      }
    }
    return {};
  }

  bool check_grant_clusters_ = true;
  HostResolver resolver_;

 private:
  Inventory& inv_;
  std::string origin_;
  std::string host_cluster_;
  YAML::Node host_cluster_node_;
};

namespace {

// YAML excludes C0 control characters but tab, LF and CR (and yaml-cpp 0.7 can loop forever on
// a NUL byte): refuse them before parsing, with their position.
Status check_characters(const std::string& text, const std::string& origin) {
  size_t line = 1, col = 1;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return Error{
          ErrorKind::kInvalidArgument,
          fmt::format("{}:{}:{}: control character 0x{:02x} in the file", origin, line, col, c),
          "the inventory is a YAML text file: remove the character (is this the right "
          "file, or a binary one?)"};
    }
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {};
}

// yaml-cpp 0.7 can loop forever on a ',' that starts a line outside a flow collection ([...],
// {...}) — where YAML does not allow one anyway (a plain value cannot start with ','). Refuse it
// with its position. Quoted strings and comments are skipped; flow depth is tracked across lines.
Status check_line_starts(const std::string& text, const std::string& origin) {
  int depth = 0;
  char quote = 0;
  size_t line_no = 1;
  bool line_start = true;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line_no;
      line_start = true;
      continue;
    }
    if (quote != 0) {
      if (c == quote) {
        if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;  // '' inside single quotes
        } else {
          quote = 0;
        }
      } else if (c == '\\' && quote == '"') {
        ++i;
      }
      line_start = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') continue;
    if (line_start && text.compare(i, 3, "---") == 0 &&
        (i + 3 == text.size() || text[i + 3] == ' ' || text[i + 3] == '\t' || text[i + 3] == '\n' ||
         text[i + 3] == '\r')) {
      i += 2;  // a document start: what follows it starts the document
      continue;
    }
    if (line_start && c == ',' && depth == 0) {
      const size_t bol = text.rfind('\n', i);
      const size_t col = i - (bol == std::string::npos ? 0 : bol + 1) + 1;
      return Error{ErrorKind::kInvalidArgument,
                   fmt::format("{}:{}:{}: YAML syntax error: a line cannot start with ',' outside "
                               "[...] or {{...}}",
                               origin, line_no, col),
                   "remove the ',' or quote the value that starts with it"};
    }
    const bool comment =
        c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n');
    if (comment) {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    line_start = false;
    if (c == '"' || c == '\'') {
      const char prev = i > 0 ? text[i - 1] : ' ';
      if (prev == ' ' || prev == '\t' || prev == '\n' || prev == '[' || prev == '{' ||
          prev == ',' || prev == ':' || prev == '-') {
        quote = c;
      }
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return {};
}

Result<YAML::Node> load_document(const std::string& text, const std::string& origin) {
  if (auto s = check_characters(text, origin); !s) return s.error();
  if (auto s = check_line_starts(text, origin); !s) return s.error();
  try {
    std::vector<YAML::Node> docs = load_yaml_documents(text);
    for (size_t i = 1; i < docs.size(); ++i) {
      if (!docs[i].IsNull()) {
        const YAML::Mark m = docs[i].Mark();
        return Error{
            ErrorKind::kInvalidArgument,
            fmt::format("{}:{}:{}: more than one YAML document", origin, m.line + 1, m.column + 1),
            "keep one document: remove the second '---' and what follows"};
      }
    }
    return docs.empty() ? YAML::Node(YAML::NodeType::Null) : docs[0];
  } catch (const YAML::Exception& e) {
    const std::string where =
        e.mark.is_null() ? origin
                         : fmt::format("{}:{}:{}", origin, e.mark.line + 1, e.mark.column + 1);
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("{}: YAML syntax error: {}", where, e.msg),
                 "fix the YAML at that position: indent with spaces (not tabs), put a space after "
                 "':' and '-', and quote values that contain ':' or '#'"};
  }
}

Result<std::string> read_small_file(const std::string& path, bool& missing) {
  constexpr size_t kMaxBytes = 4 << 20;
  missing = false;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) {
    const int err = errno;
    if (err == ENOENT) {
      missing = true;
      return std::string();
    }
    return Error{err == EACCES ? ErrorKind::kPermission : ErrorKind::kIo,
                 fmt::format("cannot read '{}': {}", path, std::system_category().message(err)),
                 "check the path and its permissions"};
  }
  std::string text;
  char buf[16384];
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Error{ErrorKind::kIo,
                   fmt::format("cannot read '{}': {}", path, std::system_category().message(errno)),
                   ""};
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxBytes) {
      return Error{ErrorKind::kInvalidArgument, fmt::format("'{}' is larger than 4 MiB", path),
                   "split it, or check that the path names the inventory"};
    }
  }
  return text;
}

}  // namespace

Result<std::shared_ptr<const Inventory>> Inventory::parse(const std::string& yaml_text,
                                                          const std::string& origin,
                                                          InventoryContext ctx) {
  try {
    auto inv = std::make_shared<Inventory>(ctx.hostname);
    inv->origin_ = origin;
    auto doc = load_document(yaml_text, origin);
    if (!doc) return doc.error();
    InventoryParser parser(*inv, origin);
    parser.resolver_ = std::move(ctx.resolver);
    if (auto s = parser.apply(*doc); !s) return s.error();
    return std::shared_ptr<const Inventory>(std::move(inv));
  } catch (const std::exception& e) {
    return Error{ErrorKind::kInternal, fmt::format("{}: cannot parse: {}", origin, e.what()),
                 "report this as a bug, with the inventory file"};
  }
}

Result<std::shared_ptr<const Inventory>> Inventory::load_file(const std::string& path,
                                                              InventoryContext ctx) {
  bool missing = false;
  auto text = read_small_file(path, missing);
  if (!text) return text.error();
  if (missing) {
    log::info(
        "inventory: {} does not exist; no roles, clusters, service accounts or grants "
        "(see docs/inventory.md)",
        path);
    auto inv = std::make_shared<Inventory>(ctx.hostname);
    inv->origin_ = path + " (absent)";
    return std::shared_ptr<const Inventory>(std::move(inv));
  }
  auto inv = parse(*text, path, std::move(ctx));
  if (inv) {
    const Inventory& i = **inv;
    for (const auto& w : i.warnings()) log::warn("inventory {}", w);
    log::info(
        "inventory: loaded {}: {} roles, {} clusters, {} service accounts, {} grants; this host "
        "is {} (cluster {})",
        path, i.roles().size(), i.clusters().size(), i.service_accounts().size(), i.grants().size(),
        i.hostname(), i.cluster().empty() ? "none" : i.cluster());
  }
  return inv;
}

Result<std::vector<Grant>> parse_grants(const std::string& yaml_text, const std::string& origin) {
  try {
    auto doc = load_document(yaml_text, origin);
    if (!doc) return doc.error();
    Inventory scratch("grants");
    InventoryParser parser(scratch, origin);
    parser.check_grant_clusters_ = false;  // clusters are checked against the inventory later
    std::vector<Grant> out;
    if (!doc->IsNull()) {
      constexpr std::string_view kKeys[] = {"grants"};
      if (auto s = parser.check_keys(*doc, "grants file", kKeys); !s) return s.error();
      for (const auto& kv : *doc) {
        if (auto s = parser.apply_grants(kv.second, out); !s) return s.error();
      }
    }
    return out;
  } catch (const std::exception& e) {
    return Error{ErrorKind::kInternal, fmt::format("{}: cannot parse: {}", origin, e.what()),
                 "report this as a bug, with the grants file"};
  }
}

}  // namespace privwatch::enrich
