#include "enrich/attribution.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>

#include "enrich/drift.hpp"

namespace privwatch::enrich {

namespace {

uint64_t boottime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// getgrgid_r with a growing buffer; false when NSS failed (not when the gid has no name).
bool group_name(gid_t gid, std::string& name, std::vector<char>& buf) {
  for (;;) {
    group gr{};
    group* out = nullptr;
    const int rc = ::getgrgid_r(gid, &gr, buf.data(), buf.size(), &out);
    if (rc == ERANGE && buf.size() < (64u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == EINTR) continue;
    if (out != nullptr) {
      name = out->gr_name;
      return true;
    }
    name.clear();
    return rc == 0 || rc == ENOENT || rc == ESRCH;
  }
}

}  // namespace

bool nss_groups_of(std::string_view user, uint32_t uid, std::vector<std::string>& groups) {
  groups.clear();
  const std::string name(user);
  std::vector<char> buf(16384);
  // The primary group from the passwd entry (by name, else by uid).
  gid_t primary = 0;
  for (;;) {
    passwd pw{};
    passwd* out = nullptr;
    const int rc = name.empty() ? ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &out)
                                : ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &out);
    if (rc == ERANGE && buf.size() < (64u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == EINTR) continue;
    if (out == nullptr) return rc == 0 || rc == ENOENT || rc == ESRCH;  // unknown user: no groups
    primary = pw.pw_gid;
    break;
  }
  int n = 64;
  std::vector<gid_t> gids(static_cast<size_t>(n));
  while (::getgrouplist(name.c_str(), primary, gids.data(), &n) == -1) {
    if (n <= static_cast<int>(gids.size())) n = static_cast<int>(gids.size()) * 2;
    if (n > 65536) return false;
    gids.resize(static_cast<size_t>(n));
  }
  gids.resize(static_cast<size_t>(n));
  std::string g;
  for (gid_t gid : gids) {
    if (!group_name(gid, g, buf)) return false;
    if (!g.empty() && std::find(groups.begin(), groups.end(), g) == groups.end()) {
      groups.push_back(g);
    }
  }
  return true;
}

Attributor::Attributor(std::shared_ptr<const Inventory> inventory, AttributorOptions opts)
    : opts_(std::move(opts)), containers_(std::move(opts_.containers)) {
  if (!opts_.lookup_groups) opts_.lookup_groups = nss_groups_of;
  set_inventory(std::move(inventory));
}

uint64_t Attributor::now() const { return opts_.clock ? opts_.clock() : boottime_ns(); }

int64_t Attributor::wall_s(const model::Event& ev) const {
  if (ev.wall_time_ns != 0) return static_cast<int64_t>(ev.wall_time_ns / 1'000'000'000ull);
  return opts_.wall_clock_s ? opts_.wall_clock_s() : static_cast<int64_t>(::time(nullptr));
}

void Attributor::set_inventory(std::shared_ptr<const Inventory> inventory) {
  inventory_ = inventory ? std::move(inventory) : std::make_shared<const Inventory>();
  accounts_.clear();
  accounts_generation_ = inventory_->generation();
  refresh_grants();
}

void Attributor::set_grants(std::shared_ptr<const GrantSet> grants) {
  grants_ = std::move(grants);
  refresh_grants();
}

void Attributor::refresh_grants() {
  const std::string& host = inventory_->hostname();
  const std::string& cluster = inventory_->cluster();
  std::vector<Grant> mine;
  const auto take = [&](const std::vector<Grant>& v) {
    for (const Grant& g : v) {
      if (g.covers_host(host, cluster)) mine.push_back(g);
    }
  };
  take(inventory_->grants());
  if (grants_) take(grants_->grants());
  const auto& req_hosts = inventory_->grant_required_hosts();
  const auto& req_clusters = inventory_->grant_required_clusters();
  grants_enforced_ = !mine.empty() ||
                     std::any_of(req_hosts.begin(), req_hosts.end(),
                                 [&](const Pattern& p) { return p.matches(host); }) ||
                     (!cluster.empty() && std::find(req_clusters.begin(), req_clusters.end(),
                                                    cluster) != req_clusters.end());
  host_grants_ = GrantSet(std::move(mine));
}

const std::vector<std::string>& Attributor::roles_for(std::string_view user, uint32_t uid) {
  const Inventory& inv = *inventory_;
  if (inv.roles().empty() || user.empty()) return no_roles_;
  const uint64_t t = now();
  auto it = membership_.find(uid);
  if (it != membership_.end() && it->second.user == user && t < it->second.expires_ns &&
      it->second.generation == inv.generation()) {
    return it->second.roles;
  }
  if (it == membership_.end()) {
    if (membership_.size() >= opts_.membership_capacity) membership_.clear();
    it = membership_.emplace(uid, Membership{}).first;
  }
  Membership& m = it->second;
  bool ok = true;
  groups_scratch_.clear();
  if (inv.roles_use_groups()) {
    ++stats_.membership_lookups;
    ok = opts_.lookup_groups(user, uid, groups_scratch_);
    if (!ok) ++stats_.membership_errors;
  }
  m.user.assign(user);
  m.generation = inv.generation();
  m.expires_ns = t + (ok ? opts_.membership_ttl_ns : opts_.membership_error_ttl_ns);
  m.roles = inv.roles_for(user, groups_scratch_);
  return m.roles;
}

const ServiceAccount* Attributor::service_account_for(const model::Event& ev,
                                                      const CgroupAttribution& cg) {
  const Inventory& inv = *inventory_;
  if (inv.service_accounts().empty()) return nullptr;
  const bool cacheable = cg.serial != 0 && !ev.user_name.empty();
  const uint64_t key = (cg.serial << 32) ^ ev.proc.uid;
  if (cacheable) {
    if (auto it = accounts_.find(key); it != accounts_.end()) return it->second;
  }
  Subject s;
  s.user = ev.user_name;
  s.systemd_unit = cg.systemd_unit;
  s.image = cg.container.image;
  s.container_name = cg.container.name;
  s.k8s_namespace = cg.container.k8s_namespace;
  s.k8s_service_account = cg.container.k8s_service_account;
  const ServiceAccount* sa = inv.service_account_for(s);
  if (cacheable) {
    if (accounts_.size() >= 65536) accounts_.clear();
    accounts_.emplace(key, sa);
  }
  return sa;
}

void Attributor::attribute(model::Event& ev) {
  ++stats_.events;
  model::Attribution& a = ev.attr;
  const Inventory& inv = *inventory_;
  a.host = inv.hostname();
  a.cluster = inv.cluster();

  const uint64_t ticks = model::ns_to_ticks(ev.proc.start_ns);
  if (ev.kind == model::EventKind::kExec) containers_.forget_process(ev.proc.pid, ticks);
  const CgroupAttribution& cg = containers_.resolve(ev.proc.pid, ticks, ev.proc.cgroup_id);
  a.container = cg.container;

  if (!a.human.empty()) {
    const uint32_t uid = ev.proc.loginuid != model::kUnsetId ? ev.proc.loginuid : ev.proc.uid;
    a.roles = roles_for(a.human, uid);
  } else {
    a.roles.clear();
  }

  a.drift = 0;
  a.drift_reason.clear();
  const ServiceAccount* sa = service_account_for(ev, cg);
  if (sa != nullptr) {
    ++stats_.service_account_events;
    a.service_account = sa->name;
    a.drift |= profile_drift(ev, *sa, a.drift_reason);
  } else {
    a.service_account.clear();
  }
  if (grants_enforced_ && !a.human.empty()) {
    const uint32_t d =
        grant_drift(ev, a.human, a.host, a.cluster, wall_s(ev), host_grants_, a.drift_reason);
    if (d != 0) ++stats_.no_grant_events;
    a.drift |= d;
  }
  if (a.drift != 0) ++stats_.drift_events;
  if (a.human.empty() && sa != nullptr) a.human = sa->owner;
}

AttributorStats Attributor::stats() const {
  stats_.containers = containers_.stats();
  return stats_;
}

std::string Attributor::stats_json() const {
  const AttributorStats s = stats();
  const ContainerResolverStats& c = s.containers;
  return fmt::format(
      "{{\"events\":{},\"membership_lookups\":{},\"membership_errors\":{},"
      "\"service_account_events\":{},\"drift_events\":{},\"no_grant_events\":{},"
      "\"containers\":{{\"lookups\":{},\"proc_reads\":{},\"proc_failures\":{},\"walks\":{},"
      "\"unresolved\":{},\"moved\":{},\"runtime_queries\":{},\"runtime_failures\":{},\"name_"
      "misses\":{},"
      "\"name_lookups_queued\":{},\"name_lookups_dropped\":{},\"names_resolved\":{},"
      "\"names_applied\":{},\"evictions\":{},\"cached_ids\":{},\"cached_processes\":{}}}}}",
      s.events, s.membership_lookups, s.membership_errors, s.service_account_events, s.drift_events,
      s.no_grant_events, c.lookups, c.proc_reads, c.proc_failures, c.walks, c.unresolved, c.moved,
      c.runtime_queries, c.runtime_failures, c.name_misses, c.name_lookups_queued,
      c.name_lookups_dropped, c.names_resolved, c.names_applied, c.evictions, c.cached_ids,
      c.cached_processes);
}

}  // namespace privwatch::enrich
