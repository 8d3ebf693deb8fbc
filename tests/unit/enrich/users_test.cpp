#include "enrich/users.hpp"

#include <gtest/gtest.h>
#include <pwd.h>

#include <map>
#include <string>

#include "model/event.hpp"

namespace privwatch::enrich {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

// A directory whose clock and backing store the test controls.
struct FakeNss {
  uint64_t now = 0;
  std::map<uint32_t, std::string> users, groups;
  bool fail = false;
  int calls = 0;

  UserDirectoryOptions options(size_t capacity = 4096) {
    UserDirectoryOptions o;
    o.capacity = capacity;
    o.clock = [this] { return now; };
    o.lookup_user = [this](uint32_t id, std::string& name) { return get(users, id, name); };
    o.lookup_group = [this](uint32_t id, std::string& name) { return get(groups, id, name); };
    return o;
  }
  LookupResult get(const std::map<uint32_t, std::string>& m, uint32_t id, std::string& name) {
    ++calls;
    if (fail) return LookupResult::kError;
    auto it = m.find(id);
    if (it == m.end()) return LookupResult::kNotFound;
    name = it->second;
    return LookupResult::kFound;
  }
};

TEST(UserDirectoryNss, RootAndUnknown) {
  UserDirectory d;
  EXPECT_EQ(d.user_name(0), "root");
  EXPECT_EQ(d.group_name(0), "root");
  EXPECT_EQ(d.user_name(3999999999u), "");
  EXPECT_EQ(d.group_name(3999999999u), "");
  EXPECT_EQ(d.user_name(model::kUnsetId), "");
  EXPECT_EQ(d.group_name(model::kUnsetId), "");
  const uint64_t after_first = d.lookups();
  EXPECT_EQ(after_first, 4u);  // the unset id never reaches NSS
  // Cached, negative entries included.
  EXPECT_EQ(d.user_name(0), "root");
  EXPECT_EQ(d.user_name(3999999999u), "");
  EXPECT_EQ(d.lookups(), after_first);
}

TEST(UserDirectoryNss, MatchesGetpwuid) {
  const uid_t me = ::getuid();
  const passwd* pw = ::getpwuid(me);
  UserDirectory d;
  EXPECT_EQ(d.user_name(me), pw != nullptr ? pw->pw_name : "");
}

TEST(UserDirectoryCache, EntriesExpireAfterTtl) {
  FakeNss nss;
  nss.users[1000] = "alice";
  UserDirectoryOptions o = nss.options();
  o.ttl_ns = 300 * kSec;
  UserDirectory d(o);

  EXPECT_EQ(d.user_name(1000), "alice");
  EXPECT_EQ(d.user_name(1001), "");  // unknown, negatively cached
  nss.users[1000] = "alice2";        // renamed in LDAP
  nss.users[1001] = "bob";           // created in LDAP
  nss.now = 299 * kSec;
  EXPECT_EQ(d.user_name(1000), "alice");
  EXPECT_EQ(d.user_name(1001), "");
  EXPECT_EQ(nss.calls, 2);
  nss.now = 300 * kSec;
  EXPECT_EQ(d.user_name(1000), "alice2");
  EXPECT_EQ(d.user_name(1001), "bob");
  EXPECT_EQ(nss.calls, 4);
  EXPECT_EQ(d.lookups(), 4u);
}

TEST(UserDirectoryCache, RenamedUserLosesOldName) {
  FakeNss nss;
  nss.users[1000] = "alice";
  UserDirectory d(nss.options());
  EXPECT_EQ(d.user_name(1000), "alice");
  nss.users.erase(1000);  // deleted: the stale name must not survive the TTL
  nss.now = 301 * kSec;
  EXPECT_EQ(d.user_name(1000), "");
}

TEST(UserDirectoryCache, ErrorsAreRetriedSooner) {
  FakeNss nss;
  nss.users[1000] = "alice";
  nss.fail = true;  // directory server down
  UserDirectoryOptions o = nss.options();
  o.error_ttl_ns = 10 * kSec;
  UserDirectory d(o);
  EXPECT_EQ(d.user_name(1000), "");
  nss.fail = false;
  nss.now = 5 * kSec;
  EXPECT_EQ(d.user_name(1000), "");  // still within the error TTL
  nss.now = 10 * kSec;
  EXPECT_EQ(d.user_name(1000), "alice");
}

TEST(UserDirectoryCache, UsersAndGroupsAreSeparate) {
  FakeNss nss;
  nss.users[5] = "games";
  nss.groups[5] = "tty";
  UserDirectory d(nss.options());
  EXPECT_EQ(d.user_name(5), "games");
  EXPECT_EQ(d.group_name(5), "tty");
}

TEST(UserDirectoryCache, BoundedUnderManyIds) {
  FakeNss nss;
  for (uint32_t i = 0; i < 1000; ++i) nss.users[i] = "u" + std::to_string(i);
  UserDirectory d(nss.options(64));
  for (uint32_t i = 0; i < 1000; ++i) {
    nss.now = i;
    ASSERT_EQ(d.user_name(i), "u" + std::to_string(i));
    ASSERT_LE(d.users_cached(), 64u);
  }
  EXPECT_GT(d.evictions(), 900u);
  // The most recent ids are still cached.
  const int calls = nss.calls;
  EXPECT_EQ(d.user_name(999), "u999");
  EXPECT_EQ(nss.calls, calls);
}

}  // namespace
}  // namespace privwatch::enrich
