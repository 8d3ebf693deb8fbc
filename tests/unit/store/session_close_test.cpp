// Sessions left active in the store by an earlier run whose leader is gone are closed at start,
// marked as ended while privwatch was not running (end not observed).
#include "store/session_close.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "store/encode.hpp"
#include "store/session_format.hpp"
#include "store/session_query.hpp"
#include "store_test_util.hpp"

namespace privwatch::store {
namespace {

using testing::kSec;
using testing::kT0;
using testing::TempDir;

model::Session make(const std::string& id, const std::string& host, uint64_t start, bool ended) {
  model::Session s;
  s.version = 1;
  s.id = id;
  s.entry_type = model::EntryType::kSsh;
  s.leader = {100, 7};
  s.leader_exe = "/usr/sbin/sshd";
  s.start_wall_ns = start;
  s.end_wall_ns = ended ? start + 60 * kSec : 0;
  s.user = "alice";
  s.human = "alice";
  s.roles = {"dba"};
  s.cluster = "databases";
  s.host = host;
  s.client_ip = "192.0.2.9";
  s.client_port = 50000;
  return s;
}

TEST(CloseUnobservedSessions, ClosesActiveSessionsOfThisHostWhoseLeaderIsGone) {
  TempDir dir;
  auto st = testing::open_store(dir);
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->begin());
  for (const auto& s : {make("b00t-100-7", "app-3", kT0, false),               // alive
                        make("b00t-200-9", "app-3", kT0 + kSec, false),        // leader gone
                        make("b00t-300-5", "app-3", kT0 + 2 * kSec, true),     // ended
                        make("b00t-400-1", "db-1", kT0 + 3 * kSec, false)}) {  // other host
    Record r;
    encode_session(s, "app-3", 0, r);
    ASSERT_TRUE(st->append(r));
  }
  ASSERT_TRUE(st->commit());

  std::set<std::string> asked;
  const uint64_t now = kT0 + 3600 * kSec;
  auto closing = close_unobserved_sessions(*st, "app-3", now, [&](const std::string& id) {
    asked.insert(id);
    return id == "b00t-100-7";
  });
  ASSERT_TRUE(closing) << closing.error().to_string();
  EXPECT_EQ(asked, (std::set<std::string>{"b00t-100-7", "b00t-200-9"}));
  ASSERT_EQ(closing->size(), 1u);
  const Record& r = (*closing)[0];
  EXPECT_EQ(r.kind, RecordKind::kSession);
  EXPECT_EQ(r.ref, "b00t-200-9");
  EXPECT_EQ(r.flags, kRecSessionEnded);
  EXPECT_EQ(r.wall_ns, now);
  EXPECT_EQ(r.roles, (std::vector<std::string>{"dba"}));
  EXPECT_EQ(r.cluster, "databases");

  ASSERT_TRUE(st->begin());
  Record copy = r;
  ASSERT_TRUE(st->append(copy));
  ASSERT_TRUE(st->commit());

  // The list no longer shows it active; its detail says the end was not observed and keeps
  // what the earlier versions said (client address, leader).
  SessionFilter f;
  f.active_only = true;
  auto active = list_sessions(*st, f);
  ASSERT_TRUE(active);
  std::set<std::string> ids;
  for (const auto& s : active->sessions) ids.insert(s.id);
  EXPECT_EQ(ids, (std::set<std::string>{"b00t-100-7", "b00t-400-1"}));
  auto closed = load_session(*st, "b00t-200-9");
  ASSERT_TRUE(closed && *closed);
  const SessionSummary& s = **closed;
  EXPECT_FALSE(s.active);
  EXPECT_FALSE(s.end_observed);
  EXPECT_TRUE(s.incomplete);
  EXPECT_EQ(s.end_ns, now);
  EXPECT_EQ(s.client_ip, "192.0.2.9");
  EXPECT_EQ(s.leader_exe, "/usr/sbin/sshd");
  EXPECT_EQ(s.version, 2u);

  // Closing again finds nothing more to close.
  auto again = close_unobserved_sessions(*st, "app-3", now + kSec,
                                         [](const std::string& id) { return id == "b00t-100-7"; });
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

}  // namespace
}  // namespace privwatch::store
