// Access grants: the store (API add, expiry, snapshots), grant files (written, loaded, refused
// when someone other than root could have written them) and the CLI time arguments.
#include "enrich/grants.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace privwatch::enrich {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

Grant grant(std::string user, std::string host, int64_t from, int64_t until,
            std::string ticket = "CHG-1") {
  Grant g;
  g.user = std::move(user);
  g.hosts = {Pattern{host, host.find('*') == std::string::npos, ""}};
  g.from_s = from;
  g.until_s = until;
  g.ticket = std::move(ticket);
  return g;
}

class GrantFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("pw-grants-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST(GrantStore, AddSnapshotAndExpire) {
  GrantStore store;
  const auto before = store.snapshot();
  ASSERT_TRUE(store.add(grant("alice", "db-*", 100, 200)));
  ASSERT_TRUE(store.add(grant("bob", "web-1", 100, 500, "INC-2")));
  EXPECT_TRUE(before->empty());  // snapshots are immutable
  const auto snap = store.snapshot();
  ASSERT_EQ(snap->grants().size(), 2u);
  EXPECT_NE(snap->active_for("alice", "db-3", "", 150), nullptr);
  EXPECT_EQ(snap->active_for("alice", "db-3", "", 200), nullptr);  // until is exclusive
  EXPECT_EQ(snap->active_for("alice", "web-1", "", 150), nullptr);
  EXPECT_EQ(snap->active_for("carol", "db-3", "", 150), nullptr);
  EXPECT_TRUE(snap->any_for_host("db-9", ""));
  EXPECT_FALSE(snap->any_for_host("mail", ""));
  EXPECT_EQ(store.expire(240, 50), 0u);  // alice's ended at 200, kept 50 s more
  EXPECT_EQ(store.expire(250, 50), 1u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.expire(1000), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(GrantStore, AddRefusesIncompleteGrants) {
  GrantStore store;
  auto no_ticket = grant("alice", "db-1", 1, 2, "");
  auto s = store.add(no_ticket);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Contains(s.error().message, "no ticket and no reason"));
  auto backwards = grant("alice", "db-1", 5, 2);
  EXPECT_FALSE(store.add(backwards));
  auto bad_glob = grant("alice", "db-[", 1, 2);
  EXPECT_FALSE(store.add(bad_glob));
  Grant nobody = grant("", "db-1", 1, 2);
  EXPECT_FALSE(store.add(nobody));
  Grant spaced = grant("al ice", "db-1", 1, 2);
  EXPECT_FALSE(store.add(spaced));
  EXPECT_EQ(store.size(), 0u);
}

TEST_F(GrantFiles, WrittenFileLoadsBack) {
  auto g = grant("alice", "db-*", 1795323600, 1795330800, "CHG 7/x");
  g.clusters = {"databases"};
  g.reason = "migration: step 2";
  auto path = write_grant_file(dir_.string(), g);
  ASSERT_TRUE(path) << path.error().to_string();
  EXPECT_EQ(fs::path(*path).parent_path(), dir_);
  EXPECT_EQ(fs::path(*path).filename().string(), "CHG_7_x-1795323600.yaml");
  struct stat st {};
  ASSERT_EQ(::stat(path->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // A second grant with the same ticket and start gets its own file.
  auto path2 = write_grant_file(dir_.string(), g);
  ASSERT_TRUE(path2);
  EXPECT_NE(*path, *path2);

  GrantStore store;
  auto report = store.load(dir_.string());
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->files, 2u);
  EXPECT_EQ(report->grants, 2u);
  EXPECT_TRUE(report->rejected.empty());
  const auto snap = store.snapshot();
  const Grant& back = snap->grants()[0];
  EXPECT_EQ(back.user, "alice");
  EXPECT_EQ(back.hosts.at(0).text, "db-*");
  EXPECT_EQ(back.clusters, std::vector<std::string>{"databases"});
  EXPECT_EQ(back.from_s, 1795323600);
  EXPECT_EQ(back.until_s, 1795330800);
  EXPECT_EQ(back.ticket, "CHG 7/x");
  EXPECT_EQ(back.reason, "migration: step 2");
  EXPECT_TRUE(Contains(back.where, path->substr(0, path->size() - 5)));
}

TEST_F(GrantFiles, ReloadReplacesFileGrantsButKeepsApiGrants) {
  GrantStore store;
  ASSERT_TRUE(store.add(grant("api-user", "h", 1, 2)));
  ASSERT_TRUE(write_grant_file(dir_.string(), grant("alice", "h", 1, 2)));
  ASSERT_TRUE(store.load(dir_.string()));
  EXPECT_EQ(store.size(), 2u);
  fs::remove_all(dir_);  // revoked: directory gone
  auto report = store.load(dir_.string());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->grants, 0u);
  ASSERT_EQ(store.size(), 1u);
  EXPECT_EQ(store.snapshot()->grants()[0].user, "api-user");
}

TEST_F(GrantFiles, UnsafeFilesAreRefusedOthersStillLoad) {
  ASSERT_TRUE(write_grant_file(dir_.string(), grant("alice", "h", 1, 2, "A")));
  auto bad = write_grant_file(dir_.string(), grant("mallory", "h", 1, 2, "B"));
  ASSERT_TRUE(bad);
  ASSERT_EQ(::chmod(bad->c_str(), 0666), 0);  // anyone could have written it
  std::ofstream(dir_ / "broken.yaml") << "grants: [{user: x, hosts: [h], from: soon}]\n";
  ::chmod((dir_ / "broken.yaml").c_str(), 0600);
  std::ofstream(dir_ / "notes.txt") << "ignored\n";
  GrantStore store;
  auto report = store.load(dir_.string());
  ASSERT_TRUE(report);
  EXPECT_EQ(report->files, 3u);
  EXPECT_EQ(report->grants, 1u);
  ASSERT_EQ(report->rejected.size(), 2u);
  EXPECT_TRUE(Contains(report->rejected[0].message + report->rejected[1].message,
                       "is writable by group or others"));
  EXPECT_TRUE(
      Contains(report->rejected[0].message + report->rejected[1].message, "broken.yaml:1:"));
  EXPECT_EQ(store.snapshot()->grants()[0].user, "alice");
}

TEST_F(GrantFiles, WorldWritableDirectoryIsRefused) {
  fs::create_directories(dir_);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  GrantStore store;
  auto report = store.load(dir_.string());
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().kind, ErrorKind::kPermission);
  EXPECT_TRUE(Contains(report.error().hint, "chmod 0700"));
}

TEST(GrantTimeArgs, RelativeAndAbsolute) {
  int64_t t = 0;
  ASSERT_TRUE(parse_time_arg("now", 1000, t));
  EXPECT_EQ(t, 1000);
  ASSERT_TRUE(parse_time_arg("+2h", 1000, t));
  EXPECT_EQ(t, 1000 + 7200);
  ASSERT_TRUE(parse_time_arg("+30m", 0, t));
  EXPECT_EQ(t, 1800);
  ASSERT_TRUE(parse_time_arg("+1d", 0, t));
  EXPECT_EQ(t, 86400);
  ASSERT_TRUE(parse_time_arg("2026-11-22T05:00:00Z", 0, t));
  EXPECT_EQ(t, 1795323600);
  EXPECT_FALSE(parse_time_arg("+2", 0, t));
  EXPECT_FALSE(parse_time_arg("+-2h", 0, t));
  EXPECT_FALSE(parse_time_arg("+2y", 0, t));
  EXPECT_FALSE(parse_time_arg("later", 0, t));
}

}  // namespace
}  // namespace privwatch::enrich
