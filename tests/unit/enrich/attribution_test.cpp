// The per-event attribution the pipeline calls: host, cluster, roles (cached group membership),
// container, service account, profile drift and grant drift, and inventory/grant swaps.
#include "enrich/attribution.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace privwatch::enrich {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

const std::string kId = "4c9a1e8d2b7f03a5c6e1d9b8a7f6e5d4c3b2a19087f6e5d4c3b2a1908f7e6d5c";

constexpr char kInventory[] =
    "clusters:\n"
    "  databases: [\"db-*\"]\n"
    "roles:\n"
    "  dba: {users: [alice], groups: [dbadmins]}\n"
    "  sre: {groups: [sre]}\n"
    "service_accounts:\n"
    "  backup:\n"
    "    owner: team-storage\n"
    "    match: {users: [pgbackup], units: [pg-backup.service]}\n"
    "    profile:\n"
    "      executables: [/usr/bin/pg_dump]\n";

std::shared_ptr<const Inventory> inventory(const std::string& yaml, const std::string& host) {
  auto r = Inventory::parse(yaml, "inventory.yaml", {host, nullptr});
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? *r : nullptr;
}

class AttributorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proc_ = fs::temp_directory_path() /
            ("pw-attr-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(proc_);
    fs::create_directories(proc_);
  }
  void TearDown() override { fs::remove_all(proc_); }

  AttributorOptions options() {
    AttributorOptions o;
    o.containers.proc_root = proc_.string();
    o.containers.cgroup2_root = "";
    o.containers.clock = [this] { return now_; };
    o.clock = [this] { return now_; };
    o.wall_clock_s = [this] { return wall_; };
    o.membership_ttl_ns = 60'000'000'000ull;
    o.lookup_groups = [this](std::string_view user, uint32_t, std::vector<std::string>& out) {
      ++group_calls_;
      out = groups_[std::string(user)];
      return !nss_down_;
    };
    return o;
  }

  void set_cgroup(uint32_t pid, const std::string& text) {
    fs::create_directories(proc_ / std::to_string(pid));
    std::ofstream(proc_ / std::to_string(pid) / "cgroup") << text;
  }

  model::Event event(uint32_t pid, uint32_t uid, std::string user, std::string human = {}) {
    model::Event ev;
    ev.kind = model::EventKind::kExec;
    ev.proc.pid = pid;
    ev.proc.uid = ev.proc.euid = uid;
    ev.proc.cgroup_id = 1000 + pid;
    ev.proc.start_ns = 5'000'000'000ull;
    ev.user_name = std::move(user);
    ev.attr.human = std::move(human);
    if (!ev.attr.human.empty()) ev.proc.loginuid = 1001;
    model::ExecData x;
    x.exe_path = "/usr/bin/id";
    ev.data = x;
    return ev;
  }

  fs::path proc_;
  uint64_t now_ = 1'000'000'000;
  int64_t wall_ = 1795323600;  // 2026-11-22T05:00:00Z
  int group_calls_ = 0;
  bool nss_down_ = false;
  std::map<std::string, std::vector<std::string>> groups_;
};

TEST_F(AttributorTest, HostClusterAndRolesOfTheHuman) {
  groups_["carol"] = {"carol", "sre", "dbadmins"};
  Attributor a(inventory(kInventory, "db-1"), options());
  set_cgroup(10, "0::/user.slice/user-1001.slice/session-4.scope\n");
  auto ev = event(10, 0, "root", "carol");  // carol after sudo -i
  a.attribute(ev);
  EXPECT_EQ(ev.attr.host, "db-1");
  EXPECT_EQ(ev.attr.cluster, "databases");
  EXPECT_EQ(ev.attr.roles, (std::vector<std::string>{"dba", "sre"}));
  EXPECT_EQ(ev.attr.service_account, "");
  EXPECT_TRUE(ev.attr.container.empty());
  EXPECT_EQ(ev.attr.drift, 0u);  // no grants configured for this host
}

TEST_F(AttributorTest, MembershipIsCachedPerUidWithExpiry) {
  groups_["carol"] = {"sre"};
  Attributor a(inventory(kInventory, "db-1"), options());
  EXPECT_EQ(a.roles_for("carol", 1001), std::vector<std::string>{"sre"});
  EXPECT_EQ(a.roles_for("carol", 1001), std::vector<std::string>{"sre"});
  EXPECT_EQ(group_calls_, 1);
  groups_["carol"] = {"sre", "dbadmins"};  // added to a group in the directory
  now_ += 59'000'000'000ull;
  EXPECT_EQ(a.roles_for("carol", 1001).size(), 1u);  // still cached
  now_ += 2'000'000'000ull;
  EXPECT_EQ(a.roles_for("carol", 1001), (std::vector<std::string>{"dba", "sre"}));
  EXPECT_EQ(group_calls_, 2);
  EXPECT_EQ(a.stats().membership_lookups, 2u);
}

TEST_F(AttributorTest, NssFailureIsRetriedSooner) {
  nss_down_ = true;
  Attributor a(inventory(kInventory, "db-1"), options());
  EXPECT_TRUE(a.roles_for("carol", 1001).empty());
  now_ += 11'000'000'000ull;  // > error TTL (10 s), < TTL (60 s)
  nss_down_ = false;
  groups_["carol"] = {"sre"};
  EXPECT_EQ(a.roles_for("carol", 1001), std::vector<std::string>{"sre"});
  EXPECT_EQ(a.stats().membership_errors, 1u);
}

TEST_F(AttributorTest, InventorySwapTakesEffectOnTheNextEvent) {
  Attributor a(inventory(kInventory, "db-1"), options());
  set_cgroup(11, "0::/\n");
  auto ev = event(11, 1001, "dave", "dave");
  a.attribute(ev);
  EXPECT_TRUE(ev.attr.roles.empty());
  std::string yaml = kInventory;
  yaml.replace(yaml.find("roles:\n"), 7, "roles:\n  dev: {users: [dave]}\n");
  a.set_inventory(inventory(yaml, "db-1"));
  auto ev2 = event(11, 1001, "dave", "dave");
  a.attribute(ev2);
  EXPECT_EQ(ev2.attr.roles, std::vector<std::string>{"dev"});
}

TEST_F(AttributorTest, ServiceAccountByUserWithDriftAndOwnerAsHuman) {
  Attributor a(inventory(kInventory, "db-1"), options());
  set_cgroup(20, "0::/system.slice/cron.service\n");
  auto ev = event(20, 998, "pgbackup");
  std::get<model::ExecData>(ev.data).exe_path = "/usr/bin/curl";
  a.attribute(ev);
  EXPECT_EQ(ev.attr.service_account, "backup");
  EXPECT_EQ(ev.attr.drift, model::kDriftExecutable);
  EXPECT_TRUE(Contains(ev.attr.drift_reason,
                       "declared executables: /usr/bin/pg_dump; ran: "
                       "/usr/bin/curl"));
  EXPECT_EQ(ev.attr.human, "team-storage");
  auto ok = event(20, 998, "pgbackup");
  std::get<model::ExecData>(ok.data).exe_path = "/usr/bin/pg_dump";
  a.attribute(ok);
  EXPECT_EQ(ok.attr.drift, 0u);
  EXPECT_EQ(ok.attr.drift_reason, "");
  EXPECT_EQ(a.stats().drift_events, 1u);
}

TEST_F(AttributorTest, ServiceAccountBySystemdUnitFromTheCgroup) {
  Attributor a(inventory(kInventory, "db-1"), options());
  set_cgroup(21, "0::/system.slice/pg-backup.service\n");
  auto ev = event(21, 0, "root");
  a.attribute(ev);
  EXPECT_EQ(ev.attr.service_account, "backup");
  EXPECT_EQ(ev.attr.drift, model::kDriftExecutable);  // /usr/bin/id is not declared
  // Same uid, another unit: not the service account.
  set_cgroup(22, "0::/system.slice/nginx.service\n");
  auto other = event(22, 0, "root");
  a.attribute(other);
  EXPECT_EQ(other.attr.service_account, "");
}

TEST_F(AttributorTest, ContainerFromTheCgroup) {
  Attributor a(inventory(kInventory, "db-1"), options());
  set_cgroup(30,
             "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
             "8d1f6c2e_3b4a_4c5d_9e8f_7a6b5c4d3e2f.slice/cri-containerd-" +
                 kId + ".scope\n");
  auto ev = event(30, 0, "root");
  a.attribute(ev);
  EXPECT_EQ(ev.attr.container.id, kId);
  EXPECT_EQ(ev.attr.container.runtime, "containerd");
  EXPECT_EQ(ev.attr.container.pod_uid, "8d1f6c2e-3b4a-4c5d-9e8f-7a6b5c4d3e2f");
}

TEST_F(AttributorTest, NoGrantOnlyWhereGrantsAreConfigured) {
  const std::string yaml = std::string(kInventory) +
                           "grants:\n"
                           "  - {user: alice, hosts: [\"db-*\"], from: 2026-11-22T04:00:00Z, "
                           "until: 2026-11-22T06:00:00Z, ticket: CHG-1}\n";
  set_cgroup(40, "0::/\n");
  {
    Attributor a(inventory(yaml, "db-1"), options());
    EXPECT_TRUE(a.grants_enforced());
    auto alice = event(40, 0, "root", "alice");
    a.attribute(alice);
    EXPECT_EQ(alice.attr.drift, 0u) << alice.attr.drift_reason;  // inside her window
    auto bob = event(40, 0, "root", "bob");
    a.attribute(bob);
    EXPECT_EQ(bob.attr.drift, model::kDriftNoGrant);
    EXPECT_TRUE(Contains(bob.attr.drift_reason,
                         "privileged activity by bob on db-1 (cluster "
                         "databases) at 2026-11-22T05:00:00Z"));
    wall_ += 2 * 3600;  // after her window (events without wall time use the wall clock)
    auto late = event(40, 0, "root", "alice");
    a.attribute(late);
    EXPECT_EQ(late.attr.drift, model::kDriftNoGrant);
    EXPECT_TRUE(Contains(late.attr.drift_reason, "their grants here: CHG-1"));
    auto unpriv = event(40, 1001, "alice", "alice");
    a.attribute(unpriv);
    EXPECT_EQ(unpriv.attr.drift, 0u);
    EXPECT_EQ(a.stats().no_grant_events, 2u);
  }
  {
    Attributor a(inventory(yaml, "web-1"), options());  // no grant names web-1
    EXPECT_FALSE(a.grants_enforced());
    auto bob = event(40, 0, "root", "bob");
    a.attribute(bob);
    EXPECT_EQ(bob.attr.drift, 0u);
  }
}

TEST_F(AttributorTest, GrantRequiredAndGrantsFromTheStore) {
  const std::string yaml = std::string(kInventory) + "grant_required: {clusters: [databases]}\n";
  set_cgroup(41, "0::/\n");
  Attributor a(inventory(yaml, "db-1"), options());
  EXPECT_TRUE(a.grants_enforced());
  auto ev = event(41, 0, "root", "alice");
  a.attribute(ev);
  EXPECT_EQ(ev.attr.drift, model::kDriftNoGrant);
  GrantStore store;
  Grant g;
  g.user = "alice";
  g.clusters = {"databases"};
  g.from_s = wall_ - 60;
  g.until_s = wall_ + 60;
  g.ticket = "CHG-9";
  ASSERT_TRUE(store.add(g));
  a.set_grants(store.snapshot());
  auto ev2 = event(41, 0, "root", "alice");
  ev2.wall_time_ns = static_cast<uint64_t>(wall_) * 1'000'000'000ull;
  a.attribute(ev2);
  EXPECT_EQ(ev2.attr.drift, 0u) << ev2.attr.drift_reason;
}

TEST(NssGroups, RootIsInItsPrimaryGroup) {
  std::vector<std::string> groups;
  ASSERT_TRUE(nss_groups_of("root", 0, groups));
  ASSERT_FALSE(groups.empty());
  EXPECT_EQ(groups[0], "root");
  std::vector<std::string> none;
  EXPECT_TRUE(nss_groups_of("privwatch-no-such-user-3f9c", 4000000, none));
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace privwatch::enrich
