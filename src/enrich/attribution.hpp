// Per-event attribution: host, cluster, roles of the human, service account, container, and the
// drift flags. One Attributor per pipeline thread (not thread-safe). No I/O on a cache hit: NSS
// only on a membership-cache miss, /proc/<pid>/cgroup only on a cgroup-cache miss, the runtime
// socket only once per new container.
//
// The pipeline calls, per event, after the session tracker has set attr.human (the loginuid's
// user name) and attr.escalated:
//
//   attributor.attribute(ev);
//
// and between events, when the inventory or the grants were reloaded (SIGHUP):
//
//   attributor.set_inventory(new_inventory);   // shared_ptr<const Inventory>
//   attributor.set_grants(grant_store.snapshot());
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "enrich/containers.hpp"
#include "enrich/grants.hpp"
#include "enrich/inventory.hpp"
#include "model/event.hpp"

namespace privwatch::enrich {

// The unix groups (names) of a user, through NSS (getgrouplist: files, LDAP, SSSD alike).
// Returns false when NSS could not answer (the cache then retries sooner).
using GroupsLookup =
    std::function<bool(std::string_view user, uint32_t uid, std::vector<std::string>& groups)>;
[[nodiscard]] bool nss_groups_of(std::string_view user, uint32_t uid,
                                 std::vector<std::string>& groups);

struct AttributorOptions {
  ContainerResolverOptions containers;
  size_t membership_capacity = 4096;
  uint64_t membership_ttl_ns = 300'000'000'000ull;       // group membership cached per uid
  uint64_t membership_error_ttl_ns = 10'000'000'000ull;  // NSS failed: retry sooner
  GroupsLookup lookup_groups;                            // default nss_groups_of
  std::function<uint64_t()> clock;                       // monotonic ns; default CLOCK_BOOTTIME
  std::function<int64_t()> wall_clock_s;  // for events without wall_time_ns; default time()
};

struct AttributorStats {
  uint64_t events = 0;
  uint64_t membership_lookups = 0;  // NSS group lookups (cache misses)
  uint64_t membership_errors = 0;
  uint64_t service_account_events = 0;
  uint64_t drift_events = 0;     // events with any kDrift* flag
  uint64_t no_grant_events = 0;  // events with kDriftNoGrant
  ContainerResolverStats containers;
};

class Attributor {
 public:
  Attributor(std::shared_ptr<const Inventory> inventory, AttributorOptions opts = {});
  Attributor(const Attributor&) = delete;
  Attributor& operator=(const Attributor&) = delete;

  // Swap in a reloaded inventory / grant snapshot (between events). Null means empty.
  void set_inventory(std::shared_ptr<const Inventory> inventory);
  void set_grants(std::shared_ptr<const GrantSet> grants);
  [[nodiscard]] const std::shared_ptr<const Inventory>& inventory() const { return inventory_; }

  // Fills ev.attr: host, cluster, container, roles (of attr.human, with ev.proc.loginuid as its
  // uid), service_account, drift and drift_reason. When attr.human is empty and a service
  // account matched, attr.human becomes the account's owner (after the grant check, which only
  // concerns humans). Reads ev.user_name (the enricher's name of ev.proc.uid).
  void attribute(model::Event& ev);

  // Roles of a user: by name, and by the unix groups NSS says the user is in (cached per uid).
  [[nodiscard]] const std::vector<std::string>& roles_for(std::string_view user, uint32_t uid);

  // The service account behind an event (null when none), given its cgroup attribution.
  [[nodiscard]] const ServiceAccount* service_account_for(const model::Event& ev,
                                                          const CgroupAttribution& cg);

  // Whether privileged activity on this host needs a grant: grant_required names this host or
  // its cluster, or some grant (active or not) names it.
  [[nodiscard]] bool grants_enforced() const { return grants_enforced_; }

  [[nodiscard]] ContainerResolver& containers() { return containers_; }
  [[nodiscard]] AttributorStats stats() const;
  // The counters as one JSON object, for the agent's stats file ("attribution": {...}).
  [[nodiscard]] std::string stats_json() const;

 private:
  struct Membership {
    std::string user;
    uint64_t expires_ns = 0;
    uint64_t generation = 0;
    std::vector<std::string> roles;
  };
  uint64_t now() const;
  int64_t wall_s(const model::Event& ev) const;
  void refresh_grants();

  std::shared_ptr<const Inventory> inventory_;
  std::shared_ptr<const GrantSet> grants_;
  GrantSet host_grants_;  // the grants that name this host
  bool grants_enforced_ = false;
  AttributorOptions opts_;
  ContainerResolver containers_;
  std::unordered_map<uint32_t, Membership> membership_;
  std::vector<std::string> groups_scratch_;
  // (cgroup attribution serial, uid) → service account, for this inventory generation.
  std::unordered_map<uint64_t, const ServiceAccount*> accounts_;
  uint64_t accounts_generation_ = 0;
  const std::vector<std::string> no_roles_;
  mutable AttributorStats stats_;
};

}  // namespace privwatch::enrich
