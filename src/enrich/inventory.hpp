// The inventory: who is who (roles by users and unix groups), where (clusters by hostname), which
// non-human identities exist (service accounts, each with an owner and a declared profile) and
// which privileged-access windows were approved (grants). Parsed from its own YAML file into an
// immutable object; a reload builds a new one and the pipeline swaps a shared_ptr between events.
// Format and errors: docs/inventory.md, config/inventory.example.yaml.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace privwatch::enrich {

// Shell-style pattern (fnmatch: * ? [...]); `literal` when it has no wildcard.
struct Pattern {
  std::string text;
  bool literal = true;
  std::string where;  // "inventory.yaml:12:9", for overlap explanations
  [[nodiscard]] bool matches(std::string_view s) const;
  // Paths: '*' and '?' do not cross '/'; a pattern ending in '/' is a directory prefix
  // (everything below it), "/dir/**" likewise.
  [[nodiscard]] bool matches_path(std::string_view path) const;
};

// The problem with a pattern ("unbalanced '['", ...), or "" when it is valid.
[[nodiscard]] std::string pattern_problem(std::string_view p);

struct Role {
  std::string name;
  std::vector<std::string> users;   // user names
  std::vector<std::string> groups;  // unix group names (membership through NSS)
};

struct Cluster {
  std::string name;
  std::vector<Pattern> hosts;  // hostnames or globs
};

struct PortRange {
  uint16_t lo = 0, hi = 65535;
};

// A destination a service account may reach: a CIDR (or a hostname resolved when the inventory
// is loaded) and optionally ports.
struct Destination {
  std::string text;      // as written, for drift reasons
  std::string hostname;  // when given by name
  struct Net {
    uint8_t family = 0;  // AF_INET / AF_INET6
    std::array<uint8_t, 16> addr{};
    uint8_t prefix = 0;
  };
  std::vector<Net> nets;         // one per CIDR / resolved address
  std::vector<PortRange> ports;  // empty: any port
  [[nodiscard]] bool matches(uint16_t family, const std::array<uint8_t, 16>& addr,
                             uint16_t port) const;
};

// What a service account is declared to do. A list that is absent is not checked; a list that
// is present (even empty) is enforced.
struct Profile {
  bool has_executables = false, has_files = false, has_destinations = false;
  std::vector<Pattern> executables;  // absolute path globs
  std::vector<Pattern> read;         // file areas it may read (write areas are readable too)
  std::vector<Pattern> write;        // file areas it may modify
  std::vector<Destination> destinations;
  bool interactive_shell = false;  // may it open a shell on a terminal
};

// How a service account is recognised. Any one criterion that matches is enough.
struct ServiceAccountMatch {
  std::vector<std::string> users;   // system users (exact names)
  std::vector<Pattern> units;       // systemd units ("backup.service", "backup-*.service")
  std::vector<Pattern> images;      // container images ("registry.local/backup:*")
  std::vector<Pattern> containers;  // container names
  struct K8s {
    std::string namespace_;       // exact
    std::string service_account;  // exact, "" = any in the namespace
  };
  std::vector<K8s> kubernetes;
};

struct ServiceAccount {
  std::string name;
  std::string owner;  // the human or team responsible
  std::string description;
  ServiceAccountMatch match;
  Profile profile;
  std::string where;  // file:line:col of its definition
};

// What is known about the identity behind an event, to find its service account.
struct Subject {
  std::string_view user;  // name of the uid
  std::string_view systemd_unit;
  std::string_view image, container_name;
  std::string_view k8s_namespace, k8s_service_account;
};

// An approved privileged-access window.
struct Grant {
  std::string user;                   // the human (login user name)
  std::vector<Pattern> hosts;         // hostnames or globs
  std::vector<std::string> clusters;  // inventory cluster names
  int64_t from_s = 0, until_s = 0;    // unix seconds, [from, until)
  std::string ticket, reason;
  std::string where;  // file:line:col or "grants.d/CHG-1.yaml:3:5"
  [[nodiscard]] bool covers_host(std::string_view host, std::string_view cluster) const;
  [[nodiscard]] bool active_at(int64_t unix_s) const {
    return unix_s >= from_s && unix_s < until_s;
  }
};

// RFC 3339 ("2026-11-22T05:00:00Z", "2026-11-22T07:00:00+02:00", "2026-11-22 05:00Z") → unix
// seconds (a fraction is dropped). Also a date alone ("2026-11-22" = midnight UTC); a time
// without a zone is refused as ambiguous. The contract is util::parse_rfc3339's.
[[nodiscard]] bool parse_rfc3339(std::string_view text, int64_t& unix_s);
[[nodiscard]] std::string format_rfc3339(int64_t unix_s);  // "2026-11-22T05:00:00Z"

// Resolves a destination hostname into addresses (the inventory does it once per load, never on
// the event path). Returns false with `error` set when the name does not resolve.
using HostResolver = std::function<bool(const std::string& host,
                                        std::vector<Destination::Net>& nets, std::string& error)>;
[[nodiscard]] bool getaddrinfo_resolver(const std::string& host,
                                        std::vector<Destination::Net>& nets, std::string& error);

struct InventoryContext {
  std::string hostname;   // this host (gethostname when empty)
  HostResolver resolver;  // default getaddrinfo_resolver
};

class Inventory {
 public:
  // Empty inventory (no roles, clusters, service accounts, grants).
  explicit Inventory(std::string hostname = {});

  // Parses YAML text; `origin` names the source in errors. Never throws.
  [[nodiscard]] static Result<std::shared_ptr<const Inventory>> parse(const std::string& yaml_text,
                                                                      const std::string& origin,
                                                                      InventoryContext ctx = {});
  // Reads and parses a file. A missing file is an empty inventory (logged once); an unreadable
  // or invalid one is an error.
  [[nodiscard]] static Result<std::shared_ptr<const Inventory>> load_file(
      const std::string& path, InventoryContext ctx = {});

  [[nodiscard]] const std::string& origin() const { return origin_; }
  [[nodiscard]] const std::string& hostname() const { return hostname_; }
  [[nodiscard]] const std::string& cluster() const { return cluster_; }  // this host's, or ""
  // The first cluster (file order) whose hosts match; "" when none.
  [[nodiscard]] const std::string& cluster_of(std::string_view host) const;

  // Roles of a user who belongs to the given unix groups (names). Sorted, unique.
  [[nodiscard]] std::vector<std::string> roles_for(std::string_view user,
                                                   const std::vector<std::string>& groups) const;
  // True when some role is defined by groups (so membership must be looked up at all).
  [[nodiscard]] bool roles_use_groups() const { return roles_use_groups_; }

  [[nodiscard]] const ServiceAccount* service_account_for(const Subject& s) const;
  [[nodiscard]] const ServiceAccount* service_account(std::string_view name) const;

  [[nodiscard]] const std::vector<Role>& roles() const { return roles_; }
  [[nodiscard]] const std::vector<Cluster>& clusters() const { return clusters_; }
  [[nodiscard]] const std::vector<ServiceAccount>& service_accounts() const { return accounts_; }
  [[nodiscard]] const std::vector<Grant>& grants() const { return grants_; }
  // Hosts where privileged activity needs a grant even when no grant names them.
  [[nodiscard]] const std::vector<Pattern>& grant_required_hosts() const { return required_hosts_; }
  [[nodiscard]] const std::vector<std::string>& grant_required_clusters() const {
    return required_clusters_;
  }

  // Problems that do not make the inventory invalid (a destination host that does not
  // resolve). load_file logs them; callers of parse decide.
  [[nodiscard]] const std::vector<std::string>& warnings() const { return warnings_; }

  // Distinct instance number (increments per parse), to invalidate caches keyed on it.
  [[nodiscard]] uint64_t generation() const { return generation_; }

 private:
  friend class InventoryParser;
  std::string origin_ = "<empty inventory>";
  std::string hostname_;
  std::string cluster_;
  std::vector<Role> roles_;
  std::vector<Cluster> clusters_;
  std::vector<ServiceAccount> accounts_;
  std::vector<Grant> grants_;
  std::vector<Pattern> required_hosts_;
  std::vector<std::string> required_clusters_;
  bool roles_use_groups_ = false;
  std::vector<std::string> warnings_;
  uint64_t generation_ = 0;
};

// Parses a document holding `grants:` (a list of grants, same format as in the inventory):
// the files written by `privwatch grant add`.
[[nodiscard]] Result<std::vector<Grant>> parse_grants(const std::string& yaml_text,
                                                      const std::string& origin);

[[nodiscard]] std::string local_hostname();

}  // namespace privwatch::enrich
