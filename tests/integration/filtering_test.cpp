// In-kernel filtering: with `monitor.root: false` and no other monitored subject, nobody is
// monitored; then only writes in sensitive_paths and the always-captured families (exec,
// credential changes) reach the output. Absence is proven against a later marker event of
// the same process on the same agent: the ring buffer keeps one process's events in order.
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

constexpr uint32_t kNobody = 65534;

class FilteringTest : public AgentSuite<FilteringTest> {
 public:
  static std::string config_body(const std::string& suite_dir) {
    return fmt::format(
        "monitor:\n"
        "  root: false\n"
        "  all_logins: false\n"
        "  users: []\n"
        "  groups: []\n"
        "sensitive_paths:\n"
        "  - {}/sensitive/\n",
        suite_dir);
  }
};

TEST_F(FilteringTest, UnmonitoredProcessIsSeenOnlyForSensitiveWritesExecAndCredentials) {
  const std::string token = unique_token();
  const std::string sensitive = suite_dir() + "/sensitive";
  ASSERT_EQ(::mkdir(sensitive.c_str(), 0777) == 0 || errno == EEXIST, true);
  ::chmod(sensitive.c_str(), 0777);
  const std::string plain = suite_dir() + "/plain-" + token;  // not sensitive
  const std::string secret = sensitive + "/read-" + token;    // sensitive, only read
  const std::string written = sensitive + "/written-" + token;
  write_file(plain, "plain\n", 0666);
  write_file(secret, "secret\n", 0644);
  const std::string marker = "marker-" + token;

  Child c = Child::run([&]() -> int {
    // As root first: with monitor.root false, root's reads are not captured either.
    if (::syscall(SYS_openat, AT_FDCWD, plain.c_str(), O_RDONLY) < 0) return 10;
    const gid_t g = kNobody;
    if (::setgroups(1, &g) != 0 || ::setresgid(g, g, g) != 0) return 11;
    if (::setresuid(kNobody, kNobody, kNobody) != 0) return 12;
    if (::syscall(SYS_openat, AT_FDCWD, plain.c_str(), O_RDONLY) < 0) return 13;
    if (::syscall(SYS_openat, AT_FDCWD, plain.c_str(), O_WRONLY) < 0) return 14;
    if (::syscall(SYS_openat, AT_FDCWD, secret.c_str(), O_RDONLY) < 0) return 15;
    if (::syscall(SYS_openat, AT_FDCWD, written.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600) < 0) {
      return 16;
    }
    char* const argv[] = {const_cast<char*>("/bin/true"), const_cast<char*>(marker.c_str()),
                          nullptr};
    ::execv("/bin/true", argv);
    return 17;
  });
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());
  const ProcInfo& at_exit = *c.info_at_exit();
  ASSERT_EQ(at_exit.uid, kNobody);
  const std::string needle = fmt::format("\"pid\":{},", c.pid());

  // The marker: the exec of an unmonitored process is still captured.
  auto exec_ev = agent().wait_for(
      [&](const json& e) {
        return kind_is("exec", c.pid())(e) && str(e, "process.name") == "true";
      },
      marker);
  ASSERT_TRUE(exec_ev) << "no exec event of the unmonitored process";
  ExpectedProcess as_nobody = expected_child(at_exit);
  as_nobody.executable = canonical("/bin/true");
  as_nobody.monitored = false;
  expect_process(*exec_ev, as_nobody);
  EXPECT_EQ(field(*exec_ev, "process.args")->get<std::vector<std::string>>(),
            (std::vector<std::string>{"/bin/true", marker}));

  // The write into the sensitive area is captured: sensitive, not monitored.
  auto write_ev = agent().wait_for(
      [&](const json& e) { return kind_is("file", c.pid())(e) && str(e, "file.path") == written; },
      needle);
  ASSERT_TRUE(write_ev) << "no event for the write into " << sensitive;
  ExpectedProcess writer = expected_child(at_exit);
  writer.name = self_info().comm;  // still the forked test binary
  writer.executable.reset();       // see ForkOfAnUnmonitoredProcessRunsItsParentsImage
  writer.monitored = false;
  expect_process(*write_ev, writer);
  {
    SCOPED_TRACE(short_dump(*write_ev));
    EXPECT_EQ(field(*write_ev, "privwatch.sensitive")->get<bool>(), true);
    EXPECT_EQ(field(*write_ev, "privwatch.file.created")->get<bool>(), true);
    EXPECT_EQ(str(*write_ev, "event.outcome"), "success");
    EXPECT_EQ(str(*write_ev, "user.name"), "nobody");
  }

  // The credential changes are captured for everyone.
  const auto creds = agent().matching(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "cred" && num(e, "process.pid") == c.pid();
      },
      needle);
  std::vector<std::string> actions;
  for (const json& e : creds) actions.push_back(str(e, "event.action"));
  EXPECT_EQ(actions, (std::vector<std::string>{"setgroups", "setresgid", "setresuid"}));
  for (const json& e : creds) {
    EXPECT_EQ(field(e, "privwatch.monitored")->get<bool>(), false) << short_dump(e);
  }

  // Everything else this process did to files stays in the kernel: the reads (as root and
  // as nobody), the write outside the sensitive area, the read inside it. The marker exec
  // arrived after them, so they would have been delivered by now.
  const auto files = agent().matching(kind_is("file", c.pid()), needle);
  ASSERT_EQ(files.size(), 1u) << "only the sensitive write may be captured; got "
                              << (files.empty() ? "" : short_dump(files.back()));
  EXPECT_EQ(str(files[0], "file.path"), written);
  EXPECT_TRUE(agent().matching(kind_is("fork", static_cast<uint32_t>(::getpid()))).empty())
      << "the test (root) is not monitored: its forks are not reported";
}

// The fork of an unmonitored process is not reported, but exec is always captured: a process
// the agent never saw exec, born after the agent started, runs its parent's image. Its
// captured events (here a sensitive write) must still name that executable.
TEST_F(FilteringTest, ForkOfAnUnmonitoredProcessRunsItsParentsImage) {
  const std::string sensitive = suite_dir() + "/sensitive";
  ASSERT_EQ(::mkdir(sensitive.c_str(), 0777) == 0 || errno == EEXIST, true);
  const std::string written = sensitive + "/forked-" + unique_token();
  Child c = Child::run([&]() -> int {
    const long fd =
        ::syscall(SYS_openat, AT_FDCWD, written.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    return fd >= 0 ? 0 : errno;
  });
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());
  auto ev = agent().wait_for(
      [&](const json& e) { return kind_is("file", c.pid())(e) && str(e, "file.path") == written; },
      fmt::format("\"pid\":{},", c.pid()));
  ASSERT_TRUE(ev) << "no event for the write into " << sensitive;
  ExpectedProcess e = expected_child(*c.info_at_exit());
  e.monitored = false;
  expect_process(*ev, e);
  EXPECT_EQ(field(*ev, "privwatch.sensitive")->get<bool>(), true);
}

// Group membership (the default monitors sudo/wheel members): the verdict is cached per task
// in the kernel, so it must follow credential changes both ways.
constexpr gid_t kMonitoredGid = 4242;  // numeric ids need no /etc/group entry

class GroupFilteringTest : public AgentSuite<GroupFilteringTest> {
 public:
  static std::string config_body(const std::string& /*suite_dir*/) {
    return fmt::format(
        "monitor:\n"
        "  root: false\n"
        "  all_logins: false\n"
        "  users: []\n"
        "  groups: [{}]\n",
        kMonitoredGid);
  }
};

TEST_F(GroupFilteringTest, SupplementaryGroupMembershipFollowsCredentialChanges) {
  const std::string token = unique_token();
  const std::string before = suite_dir() + "/before-" + token;  // read outside the group
  const std::string inside = suite_dir() + "/inside-" + token;  // read as a member
  const std::string after = suite_dir() + "/after-" + token;    // read after leaving it
  for (const auto& p : {before, inside, after}) write_file(p, "x\n", 0644);
  const std::string marker = "marker-" + token;

  Child c = Child::run([&]() -> int {
    if (::syscall(SYS_openat, AT_FDCWD, before.c_str(), O_RDONLY) < 0) return 10;
    const gid_t member = kMonitoredGid;
    if (::setgroups(1, &member) != 0) return 11;
    if (::syscall(SYS_openat, AT_FDCWD, inside.c_str(), O_RDONLY) < 0) return 12;
    if (::setgroups(0, nullptr) != 0) return 13;
    if (::syscall(SYS_openat, AT_FDCWD, after.c_str(), O_RDONLY) < 0) return 14;
    char* const argv[] = {const_cast<char*>("/bin/true"), const_cast<char*>(marker.c_str()),
                          nullptr};
    ::execv("/bin/true", argv);
    return 15;
  });
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  const std::string needle = fmt::format("\"pid\":{},", c.pid());
  ASSERT_TRUE(agent().wait_for(
      [&](const json& e) {
        return kind_is("exec", c.pid())(e) && str(e, "process.name") == "true";
      },
      marker))
      << "no marker exec";
  const auto files = agent().matching(kind_is("file", c.pid()), needle);
  std::vector<std::string> paths;
  for (const json& e : files) {
    paths.push_back(str(e, "file.path"));
    EXPECT_EQ(field(e, "privwatch.monitored")->get<bool>(), true) << short_dump(e);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{inside}))
      << "only the read made while in group " << kMonitoredGid << " is monitored";
}

}  // namespace
}  // namespace privwatch::itest
