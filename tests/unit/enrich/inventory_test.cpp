// The inventory file: what it means (roles, clusters, service accounts, grants) and how it says
// what is wrong (file:line:col, what, what to do), including overlapping definitions and
// malformed YAML of every kind.
#include "enrich/inventory.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace privwatch::enrich {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

std::string example_text() {
  std::ifstream in(std::string(PRIVWATCH_SOURCE_DIR) + "/config/inventory.example.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Destination names resolve from this table (tests never wait for DNS).
bool test_resolver(const std::string& host, std::vector<Destination::Net>& nets,
                   std::string& error) {
  Destination::Net n;
  n.family = AF_INET;
  n.prefix = 32;
  if (host == "localhost") {
    n.addr = {127, 0, 0, 1};
  } else if (host == "backup-store.example.com") {
    n.addr = {192, 0, 2, 10};
  } else {
    error = "unknown in the test table";
    return false;
  }
  nets.push_back(n);
  return true;
}

InventoryContext ctx(const std::string& host) { return {host, test_resolver}; }

std::shared_ptr<const Inventory> parse_ok(const std::string& yaml,
                                          const std::string& host = "db-1") {
  auto r = Inventory::parse(yaml, "inventory.yaml", ctx(host));
  EXPECT_TRUE(r) << r.error().to_string() << "\nfor:\n" << yaml;
  return r ? *r : std::make_shared<const Inventory>(host);
}

TEST(InventoryExample, ShippedExampleLoadsWithEverySection) {
  auto inv = parse_ok(example_text(), "db-7");
  EXPECT_EQ(inv->hostname(), "db-7");
  EXPECT_EQ(inv->cluster(), "databases");
  ASSERT_EQ(inv->roles().size(), 3u);
  EXPECT_EQ(inv->roles()[0].name, "dba");  // sorted
  ASSERT_EQ(inv->clusters().size(), 3u);
  EXPECT_EQ(inv->clusters()[2].name, "bastions");
  ASSERT_EQ(inv->service_accounts().size(), 2u);
  const ServiceAccount* backup = inv->service_account("postgres-backup");
  ASSERT_NE(backup, nullptr);
  EXPECT_EQ(backup->owner, "team-storage");
  EXPECT_TRUE(backup->profile.has_executables);
  EXPECT_EQ(backup->profile.executables.size(), 4u);
  EXPECT_EQ(backup->profile.read.size(), 2u);
  EXPECT_EQ(backup->profile.write.size(), 2u);
  EXPECT_EQ(backup->profile.destinations.size(), 2u);
  EXPECT_FALSE(backup->profile.interactive_shell);
  ASSERT_EQ(inv->grants().size(), 2u);
  EXPECT_EQ(inv->grants()[0].ticket, "CHG-4711");
  EXPECT_EQ(inv->grants()[0].from_s, 1795384800);  // 2026-11-22T22:00:00Z
  EXPECT_EQ(inv->grant_required_clusters(), std::vector<std::string>{"databases"});
  EXPECT_EQ(inv->grant_required_hosts().size(), 1u);
}

TEST(InventoryFile, MissingFileIsAnEmptyInventory) {
  auto r = Inventory::load_file("/nonexistent/privwatch/inventory.yaml", {"h1"});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE((*r)->roles().empty());
  EXPECT_TRUE((*r)->service_accounts().empty());
  EXPECT_EQ((*r)->cluster(), "");
  EXPECT_EQ((*r)->hostname(), "h1");
}

TEST(InventoryFile, ErrorsNameTheFile) {
  const fs::path p = fs::temp_directory_path() / ("pw-inv-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(p) << "roles:\n  dba:\n    userz: [alice]\n";
  auto r = Inventory::load_file(p.string(), {"h1"});
  fs::remove(p);
  ASSERT_FALSE(r);
  EXPECT_TRUE(Contains(r.error().message, p.string() + ":3:5: unknown key 'userz'"));
  EXPECT_TRUE(Contains(r.error().hint, "did you mean 'users'"));
}

TEST(InventoryFile, ReloadGivesANewGeneration) {
  auto a = parse_ok("roles: {dba: {users: [alice]}}\n");
  auto b = parse_ok("roles: {dba: {users: [alice, bob]}}\n");
  EXPECT_NE(a->generation(), b->generation());
  EXPECT_TRUE(a->roles_for("bob", {}).empty());  // the old object is unchanged
  EXPECT_EQ(b->roles_for("bob", {}), std::vector<std::string>{"dba"});
}

TEST(InventoryRoles, ByUserAndByGroupSortedAndUnique) {
  auto inv = parse_ok(
      "roles:\n"
      "  sre: {groups: [sre, wheel]}\n"
      "  dba: {users: [alice], groups: [dbadmins]}\n"
      "  dev: {groups: [developers]}\n");
  EXPECT_TRUE(inv->roles_use_groups());
  EXPECT_EQ(inv->roles_for("alice", {}), std::vector<std::string>{"dba"});
  EXPECT_EQ(inv->roles_for("carol", {"wheel", "dbadmins"}),
            (std::vector<std::string>{"dba", "sre"}));
  EXPECT_TRUE(inv->roles_for("mallory", {"users"}).empty());
}

TEST(InventoryClusters, GlobsListsAndThisHost) {
  const std::string yaml =
      "clusters:\n"
      "  databases: {hosts: [\"db-*\", pg.example.com]}\n"
      "  web: [\"web-[0-9]*\"]\n";
  auto inv = parse_ok(yaml, "web-12");
  EXPECT_EQ(inv->cluster(), "web");
  EXPECT_EQ(inv->cluster_of("db-3"), "databases");
  EXPECT_EQ(inv->cluster_of("pg.example.com"), "databases");
  EXPECT_EQ(inv->cluster_of("web-x"), "");
  EXPECT_EQ(inv->cluster_of("mail"), "");
  auto other = parse_ok(yaml, "laptop");
  EXPECT_EQ(other->cluster(), "");
}

TEST(InventoryClusters, HostKeyOverridesNameAndCluster) {
  auto inv = parse_ok(
      "host: {name: pg.example.com, cluster: web}\n"
      "clusters: {databases: [pg.example.com], web: [web-1]}\n",
      "ignored");
  EXPECT_EQ(inv->hostname(), "pg.example.com");
  EXPECT_EQ(inv->cluster(), "web");
}

TEST(InventoryAccounts, MatchingPrecedence) {
  auto inv = parse_ok(
      "service_accounts:\n"
      "  by-user: {owner: a, match: {users: [svc]}}\n"
      "  by-unit: {owner: b, match: {units: [\"backup-*.service\"]}}\n"
      "  by-image: {owner: c, match: {images: [\"registry/api:*\"]}}\n"
      "  by-name: {owner: d, match: {containers: [api-canary]}}\n"
      "  by-ns: {owner: e, match: {kubernetes: [{namespace: payments}]}}\n"
      "  by-sa: {owner: f, match: {kubernetes: [{namespace: payments, service_account: api}]}}\n");
  const auto who = [&](Subject s) {
    const ServiceAccount* sa = inv->service_account_for(s);
    return sa ? sa->name : std::string("-");
  };
  EXPECT_EQ(who({.user = "svc"}), "by-user");
  EXPECT_EQ(who({.user = "svc", .systemd_unit = "backup-db.service"}), "by-unit");
  EXPECT_EQ(who({.user = "root", .systemd_unit = "nginx.service"}), "-");
  EXPECT_EQ(who({.image = "registry/api:1.2"}), "by-image");
  EXPECT_EQ(who({.image = "registry/api:1.2", .container_name = "api-canary"}), "by-name");
  EXPECT_EQ(who({.image = "registry/api:1.2", .k8s_namespace = "payments"}), "by-ns");
  EXPECT_EQ(who({.k8s_namespace = "payments", .k8s_service_account = "api"}), "by-sa");
  EXPECT_EQ(who({.k8s_namespace = "payments", .k8s_service_account = "worker"}), "by-ns");
  EXPECT_EQ(who({}), "-");
}

TEST(InventoryPatterns, PathsPrefixesAndGlobs) {
  const auto m = [](const char* pat, const char* path) {
    Pattern p{pat, pattern_problem(pat).empty() &&
                       std::string_view(pat).find_first_of("*?[\\") == std::string_view::npos};
    return p.matches_path(path);
  };
  EXPECT_TRUE(m("/srv/backup/", "/srv/backup/x/y.gz"));
  EXPECT_FALSE(m("/srv/backup/", "/srv/backupx"));
  EXPECT_TRUE(m("/var/lib/pg", "/var/lib/pg"));
  EXPECT_TRUE(m("/var/lib/pg", "/var/lib/pg/base/1"));
  EXPECT_FALSE(m("/var/lib/pg", "/var/lib/pgsql"));
  EXPECT_TRUE(m("/opt/backup/bin/*", "/opt/backup/bin/run"));
  EXPECT_FALSE(m("/opt/backup/bin/*", "/opt/backup/bin/sub/run"));  // * stays in a component
  EXPECT_TRUE(m("/home/*/.ssh/**", "/home/alice/.ssh/keys/id"));
  EXPECT_FALSE(m("/home/*/.ssh/**", "/home/alice/docs/x"));
  EXPECT_TRUE(m("/etc/**", "/etc/a/b/c"));
}

TEST(InventoryPatterns, ProblemsAreNamed) {
  EXPECT_EQ(pattern_problem("db-*"), "");
  EXPECT_EQ(pattern_problem("db-[0-9]"), "");
  EXPECT_EQ(pattern_problem("a[]]b"), "");
  EXPECT_NE(pattern_problem("db-[0-9"), "");
  EXPECT_NE(pattern_problem("x\\"), "");
  EXPECT_NE(pattern_problem(""), "");
  EXPECT_NE(pattern_problem("a[]"), "");
}

TEST(InventoryDestinations, CidrsPortsAndMappedAddresses) {
  auto inv = parse_ok(
      "service_accounts:\n"
      "  s:\n"
      "    owner: o\n"
      "    match: {users: [s]}\n"
      "    profile:\n"
      "      destinations:\n"
      "        - {cidr: 10.20.0.0/16, ports: [5432, \"8000-8100\"]}\n"
      "        - {cidr: \"2001:db8::/32\"}\n"
      "        - {host: localhost, ports: [80]}\n");
  const auto& d = inv->service_account("s")->profile.destinations;
  ASSERT_EQ(d.size(), 3u);
  const auto v4 = [](const char* ip) {
    std::array<uint8_t, 16> a{};
    EXPECT_EQ(inet_pton(AF_INET, ip, a.data()), 1);
    return a;
  };
  const auto v6 = [](const char* ip) {
    std::array<uint8_t, 16> a{};
    EXPECT_EQ(inet_pton(AF_INET6, ip, a.data()), 1);
    return a;
  };
  EXPECT_TRUE(d[0].matches(AF_INET, v4("10.20.3.4"), 5432));
  EXPECT_TRUE(d[0].matches(AF_INET, v4("10.20.3.4"), 8050));
  EXPECT_FALSE(d[0].matches(AF_INET, v4("10.20.3.4"), 22));
  EXPECT_FALSE(d[0].matches(AF_INET, v4("10.21.3.4"), 5432));
  EXPECT_TRUE(d[0].matches(AF_INET6, v6("::ffff:10.20.9.9"), 5432));
  EXPECT_TRUE(d[1].matches(AF_INET6, v6("2001:db8:1::5"), 443));
  EXPECT_FALSE(d[1].matches(AF_INET6, v6("2001:db9::5"), 443));
  // localhost resolved at load time (never on the event path).
  EXPECT_TRUE(d[2].matches(AF_INET, v4("127.0.0.1"), 80));
  EXPECT_FALSE(d[2].matches(AF_INET, v4("127.0.0.1"), 81));
  EXPECT_TRUE(inv->warnings().empty());
}

TEST(InventoryDestinations, UnresolvableHostIsAWarningAndMatchesNothing) {
  auto inv = parse_ok(
      "service_accounts:\n  s: {owner: o, match: {users: [s]}, profile: {destinations: "
      "[{host: nowhere.invalid}]}}\n");
  ASSERT_EQ(inv->warnings().size(), 1u);
  EXPECT_TRUE(Contains(inv->warnings()[0], "'nowhere.invalid' does not resolve"));
  std::array<uint8_t, 16> a{};
  EXPECT_FALSE(inv->service_account("s")->profile.destinations[0].matches(AF_INET, a, 1));
}

TEST(InventoryDestinations, RealResolverResolvesLocalhost) {
  std::vector<Destination::Net> nets;
  std::string error;
  ASSERT_TRUE(getaddrinfo_resolver("localhost", nets, error)) << error;
  EXPECT_FALSE(nets.empty());
}

TEST(InventoryTime, Rfc3339) {
  int64_t t = 0;
  ASSERT_TRUE(parse_rfc3339("2026-11-22T05:00:00Z", t));
  EXPECT_EQ(t, 1795323600);
  ASSERT_TRUE(parse_rfc3339("2026-11-22T07:00:00+02:00", t));
  EXPECT_EQ(t, 1795323600);
  ASSERT_TRUE(parse_rfc3339("2026-11-22 05:00Z", t));
  EXPECT_EQ(t, 1795323600);
  ASSERT_TRUE(parse_rfc3339("2026-11-22T05:00:00.123Z", t));
  EXPECT_EQ(t, 1795323600);
  ASSERT_TRUE(parse_rfc3339("2026-11-22", t));
  EXPECT_EQ(t, 1795305600);
  EXPECT_FALSE(parse_rfc3339("2026-11-22T05:00:00", t));  // no zone
  EXPECT_FALSE(parse_rfc3339("2026-02-31", t));
  EXPECT_FALSE(parse_rfc3339("yesterday", t));
  EXPECT_FALSE(parse_rfc3339("2026-11-22T25:00Z", t));
  EXPECT_EQ(format_rfc3339(1795323600), "2026-11-22T05:00:00Z");
}

// ---------------------------------------------------------------------------------------
// Errors: where (file:line:col), what, and a hint.

struct BadCase {
  std::string name, yaml, location, what;
};
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class InventoryValidation : public ::testing::TestWithParam<BadCase> {};

TEST_P(InventoryValidation, ErrorNamesWhereWhatAndHowToFix) {
  const BadCase& c = GetParam();
  auto r = Inventory::parse(c.yaml, "inventory.yaml", ctx("db-1"));
  ASSERT_FALSE(r) << "accepted:\n" << c.yaml;
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(Contains(r.error().message, c.location + ": ")) << r.error().to_string();
  EXPECT_EQ(r.error().message.rfind(c.location, 0), 0u) << r.error().to_string();
  EXPECT_TRUE(Contains(r.error().message, c.what)) << r.error().to_string();
  EXPECT_FALSE(r.error().hint.empty()) << r.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Inventory, InventoryValidation,
    ::testing::Values(
        BadCase{"SyntaxError", "roles:\n  dba: [\n", "inventory.yaml:3:1", "YAML syntax error"},
        BadCase{"TabIndent", "roles:\n\tdba: {}\n", "inventory.yaml:2:5", "YAML syntax error"},
        BadCase{"NulByteYamlCppWouldLoopOn",
                std::string("grants:\n  - {user: a,\0 hosts: [x]}\n", 32), "inventory.yaml:2:14",
                "control character 0x00"},
        BadCase{"LeadingCommaYamlCppWouldLoopOn", "# inventory\n\n  , from: 2026}\n",
                "inventory.yaml:3:3", "cannot start with ','"},
        BadCase{"LeadingCommaInBlock", "grants:\n  - user: a\n  , 6-01\n", "inventory.yaml:3:3",
                "cannot start with ','"},
        BadCase{"LeadingCommaInSecondDocument", "roles: {}\n--- ,\n", "inventory.yaml:2:5",
                "cannot start with ','"},
        BadCase{"NotAMapping", "- a\n- b\n", "inventory.yaml:1:1", "must be a mapping"},
        BadCase{"TwoDocuments", "roles: {}\n---\nclusters: {}\n", "inventory.yaml:3:1",
                "more than one YAML document"},
        BadCase{"UnknownTopKey", "role:\n  dba: {users: [a]}\n", "inventory.yaml:1:1",
                "unknown key 'role'"},
        BadCase{"UnknownRoleKey", "roles:\n  dba:\n    user: [alice]\n", "inventory.yaml:3:5",
                "unknown key 'user' in 'roles.dba'"},
        BadCase{"DuplicateRole", "roles:\n  dba: {users: [a]}\n  dba: {users: [b]}\n",
                "inventory.yaml:3:3", "duplicate key 'dba'"},
        BadCase{"RoleWithoutMembers", "roles:\n  dba: {}\n", "inventory.yaml:2:3",
                "names no users and no groups"},
        BadCase{"BadUserName", "roles:\n  dba: {users: [\"al ice\"]}\n", "inventory.yaml:2:17",
                "not a valid user"},
        BadCase{"UsersNotAList", "roles:\n  dba: {users: {a: 1}}\n", "inventory.yaml:2:16",
                "expected a list"},
        BadCase{"BadGlob", "clusters:\n  db: [\"db-[0-9\"]\n", "inventory.yaml:2:8",
                "'[' without its closing ']'"},
        BadCase{"ClusterWithoutHosts", "clusters:\n  db: {}\n", "inventory.yaml:2:3", "no hosts"},
        BadCase{"OverlappingClustersLiteral", "clusters:\n  a: [db-1]\n  b: [db-1]\n",
                "inventory.yaml:3:3", "clusters 'a' and 'b' overlap: 'db-1' (inventory.yaml:2:7)"},
        BadCase{"OverlappingClustersGlob", "clusters:\n  a: [\"db-*\"]\n  b: [db-7]\n",
                "inventory.yaml:3:3",
                "'db-*' (inventory.yaml:2:7) and 'db-7' (inventory.yaml:3:7)"},
        BadCase{"ThisHostInTwoClusters", "clusters:\n  a: [\"db-*\"]\n  b: [\"*-1\"]\n",
                "inventory.yaml:3:7", "this host 'db-1' matches cluster 'a'"},
        BadCase{"HostClusterUnknown", "host: {cluster: nope}\nclusters: {a: [x]}\n",
                "inventory.yaml:1:17", "cluster 'nope' is not defined"},
        BadCase{"AccountWithoutOwner", "service_accounts:\n  s: {match: {users: [s]}}\n",
                "inventory.yaml:2:3", "has no owner"},
        BadCase{"AccountWithoutMatch", "service_accounts:\n  s: {owner: o}\n", "inventory.yaml:2:3",
                "has no 'match:'"},
        BadCase{"AccountEmptyMatch", "service_accounts:\n  s: {owner: o, match: {}}\n",
                "inventory.yaml:2:24", "no criterion"},
        BadCase{"OverlappingAccountsUser",
                "service_accounts:\n  a: {owner: o, match: {users: [svc]}}\n"
                "  b: {owner: o, match: {users: [svc]}}\n",
                "inventory.yaml:3:3",
                "service accounts 'a' (defined at inventory.yaml:2:3) and 'b' "
                "overlap: both match user 'svc'"},
        BadCase{"OverlappingAccountsUnitGlob",
                "service_accounts:\n  a: {owner: o, match: {units: [\"backup-*.service\"]}}\n"
                "  b: {owner: o, match: {units: [backup-db.service]}}\n",
                "inventory.yaml:3:3", "units 'backup-*.service'"},
        BadCase{"OverlappingAccountsK8s",
                "service_accounts:\n  a: {owner: o, match: {kubernetes: [{namespace: p}]}}\n"
                "  b: {owner: o, match: {kubernetes: [{namespace: p}]}}\n",
                "inventory.yaml:3:3", "Kubernetes namespace 'p'"},
        BadCase{"UnitWithoutType", "service_accounts:\n  a: {owner: o, match: {units: [backup]}}\n",
                "inventory.yaml:2:33", "not a systemd unit name"},
        BadCase{"RelativeExecutable",
                "service_accounts:\n  a:\n    owner: o\n    match: {users: [a]}\n"
                "    profile: {executables: [pg_dump]}\n",
                "inventory.yaml:5:29", "not an absolute path"},
        BadCase{"UnknownProfileKey",
                "service_accounts:\n  a:\n    owner: o\n    match: {users: [a]}\n"
                "    profile: {executable: [/bin/x]}\n",
                "inventory.yaml:5:15", "unknown key 'executable'"},
        BadCase{"BadCidr",
                "service_accounts:\n  a:\n    owner: o\n    match: {users: [a]}\n"
                "    profile: {destinations: [{cidr: 10.0.0.0/33}]}\n",
                "inventory.yaml:5:37", "not a CIDR"},
        BadCase{"BadPort",
                "service_accounts:\n  a:\n    owner: o\n    match: {users: [a]}\n"
                "    profile: {destinations: [{cidr: 10.0.0.0/8, ports: [70000]}]}\n",
                "inventory.yaml:5:57", "not a port"},
        BadCase{"CidrAndHost",
                "service_accounts:\n  a:\n    owner: o\n    match: {users: [a]}\n"
                "    profile: {destinations: [{cidr: 10.0.0.0/8, host: x.example}]}\n",
                "inventory.yaml:5:30", "exactly one of 'cidr' or 'host'"},
        BadCase{"ShellNotBool",
                "service_accounts:\n  a:\n    owner: o\n    match: {users: [a]}\n"
                "    profile: {interactive_shell: maybe}\n",
                "inventory.yaml:5:34", "expected true or false"},
        BadCase{
            "GrantBadTime",
            "grants:\n  - {user: a, hosts: [x], from: tomorrow, until: 2026-01-02, ticket: T}\n",
            "inventory.yaml:2:33", "expected an RFC 3339 time"},
        BadCase{
            "GrantEndsBeforeStart",
            "grants:\n  - {user: a, hosts: [x], from: 2026-01-02, until: 2026-01-01, ticket: T}\n",
            "inventory.yaml:2:5", "is not after 'from'"},
        BadCase{"GrantWithoutHosts",
                "grants:\n  - {user: a, from: 2026-01-01, until: 2026-01-02, ticket: T}\n",
                "inventory.yaml:2:5", "'hosts' is required"},
        BadCase{"GrantWithoutTicket",
                "grants:\n  - {user: a, hosts: [x], from: 2026-01-01, until: 2026-01-02}\n",
                "inventory.yaml:2:5", "'ticket' is required"},
        BadCase{"GrantUnknownCluster",
                "grants:\n  - {user: a, clusters: [dbz], from: 2026-01-01, until: 2026-01-02, "
                "ticket: T}\n",
                "inventory.yaml:2:26", "cluster 'dbz' is not defined"},
        BadCase{"GrantsNotAList", "grants: {user: a}\n", "inventory.yaml:1:9", "expected a list"},
        BadCase{"RequiredUnknownCluster", "grant_required: {clusters: [x]}\n",
                "inventory.yaml:1:29", "cluster 'x' is not defined"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------
// Robustness: mutated inventories never crash, throw or hang; errors always say where.

TEST(InventoryRobustness, MutatedExampleNeverCrashesAndErrorsNameTheOrigin) {
  const std::string base = example_text();
  ASSERT_FALSE(base.empty());
  std::mt19937 rng(20261122);
  const std::string alphabet = "{}[]:-,#&*!|>'\"%@` \t\n\\?abcz09./";
  size_t ok = 0, errors = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 5) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 2:
          s.erase(at, 1 + rng() % 20);
          break;
        case 3:
          s.resize(at);
          break;
        case 4: {  // duplicate a line elsewhere (duplicate keys, bad indentation)
          const size_t ls = s.rfind('\n', at);
          const size_t le = s.find('\n', at);
          const std::string line = s.substr(ls == std::string::npos ? 0 : ls,
                                            le == std::string::npos ? std::string::npos : le - ls);
          s.insert(rng() % s.size(), line);
          break;
        }
      }
    }
    auto r = Inventory::parse(s, "fuzz.yaml", ctx("db-1"));
    if (r) {
      ++ok;
    } else {
      ++errors;
      EXPECT_EQ(r.error().message.rfind("fuzz.yaml", 0), 0u) << r.error().message;
      EXPECT_NE(r.error().kind, ErrorKind::kInternal) << r.error().message << "\n" << s;
    }
  }
  EXPECT_GT(errors, 1000u);  // the mutations do break things
  EXPECT_GT(ok, 10u);        // and some (comments, values) keep a valid file
}

TEST(InventoryRobustness, HostileDocuments) {
  const std::string cases[] = {
      "",
      "~",
      "---\n",
      "roles: ~\nclusters: ~\nservice_accounts: ~\ngrants: ~\n",
      "roles: [1, 2]\n",
      "clusters: {a: {hosts: ~}}\n",
      "a: &x [*x]\n",
      "roles: {dba: &r {users: [a]}, dev: *r}\n",
      "service_accounts: {s: {owner: [o], match: {users: [s]}}}\n",
      "service_accounts: {s: {owner: o, match: {kubernetes: [{}]}}}\n",
      "service_accounts: {s: {owner: o, match: {kubernetes: 3}}}\n",
      "service_accounts: {s: {owner: o, match: {users: [s]}, profile: {files: [a]}}}\n",
      "service_accounts: {s: {owner: o, match: {users: [s]}, profile: {destinations: [3]}}}\n",
      "grants: [3, [], {}]\n",
      std::string(100000, '['),
      std::string("roles:\n") + std::string(5000, ' ') + "x: 1\n",
      "\xff\xfe\x00\x01",
      "? [a, b]\n: c\n",
  };
  for (const auto& c : cases) {
    auto r = Inventory::parse(c, "hostile.yaml", ctx("h"));
    if (!r) {
      EXPECT_EQ(r.error().message.rfind("hostile.yaml", 0), 0u) << r.error().message;
    }
  }
}

}  // namespace
}  // namespace privwatch::enrich
