#include "enrich/enricher.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace privwatch::enrich {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

UserDirectoryOptions fake_users() {
  static const std::map<uint32_t, std::string> users = {{0, "root"}, {1000, "alice"}};
  static const std::map<uint32_t, std::string> groups = {{0, "root"}, {100, "users"}};
  UserDirectoryOptions o;
  o.lookup_user = [](uint32_t id, std::string& name) {
    auto it = users.find(id);
    if (it == users.end()) return LookupResult::kNotFound;
    name = it->second;
    return LookupResult::kFound;
  };
  o.lookup_group = [](uint32_t id, std::string& name) {
    auto it = groups.find(id);
    if (it == groups.end()) return LookupResult::kNotFound;
    name = it->second;
    return LookupResult::kFound;
  };
  return o;
}

model::ProcessContext ctx(uint32_t pid, uint64_t start_ns, uint32_t ppid, uint64_t pstart,
                          const std::string& comm) {
  model::ProcessContext p;
  p.pid = p.tid = pid;
  p.start_ns = start_ns;
  p.ppid = ppid;
  p.parent_start_ns = pstart;
  p.comm = comm;
  p.uid = p.euid = 1000;
  p.gid = p.egid = 100;
  p.loginuid = 1000;
  p.sessionid = 4;
  return p;
}

model::Event exec_event(const model::ProcessContext& p, uint64_t ts, const std::string& exe,
                        std::vector<std::string> args) {
  model::Event ev;
  ev.kind = model::EventKind::kExec;
  ev.ts_ns = ts;
  ev.proc = p;
  model::ExecData d;
  d.exe_path = exe;
  d.args = std::move(args);
  ev.data = std::move(d);
  return ev;
}

model::Event fork_event(const model::ProcessContext& p, uint64_t ts, uint32_t child,
                        uint64_t child_start) {
  model::Event ev;
  ev.kind = model::EventKind::kFork;
  ev.ts_ns = ts;
  ev.proc = p;
  ev.data = model::ForkData{child, child_start};
  return ev;
}

model::Event net_event(const model::ProcessContext& p, uint64_t ts) {
  model::Event ev;
  ev.kind = model::EventKind::kNet;
  ev.ts_ns = ts;
  ev.proc = p;
  ev.data = model::NetData{};
  return ev;
}

model::Event exit_event(const model::ProcessContext& p, uint64_t ts) {
  model::Event ev;
  ev.kind = model::EventKind::kExit;
  ev.ts_ns = ts;
  ev.proc = p;
  ev.data = model::ExitData{0};
  return ev;
}

TEST(EnricherTest, ForkedChildGetsParentAndLoginUser) {
  Enricher e(1000, 30 * kSec, fake_users());
  const auto bash = ctx(100, kSec, 1, 0, "bash");
  model::Event ev = exec_event(bash, 2 * kSec, "/usr/bin/bash", {"-bash"});
  e.process(ev);
  EXPECT_EQ(ev.exe, "/usr/bin/bash");

  model::Event f = fork_event(bash, 3 * kSec, 101, 3 * kSec);
  e.process(f);

  // alice sudo'd to root: uid 0, loginuid still alice.
  auto child = ctx(101, 3 * kSec, 100, kSec, "bash");
  child.uid = child.euid = 0;
  child.gid = 0;
  model::Event n = net_event(child, 4 * kSec);
  e.process(n);
  EXPECT_EQ(n.exe, "/usr/bin/bash");  // inherited from the parent at fork
  EXPECT_EQ(n.parent_exe, "/usr/bin/bash");
  EXPECT_EQ(n.parent_comm, "bash");
  EXPECT_EQ(n.parent_args, (std::vector<std::string>{"-bash"}));
  EXPECT_EQ(n.user_name, "root");
  EXPECT_EQ(n.effective_user_name, "root");
  EXPECT_EQ(n.login_user_name, "alice");
  EXPECT_EQ(n.group_name, "root");

  // The child execs: the event carries the new image, the parent stays bash.
  model::Event x = exec_event(child, 5 * kSec, "/usr/bin/nc", {"nc", "203.0.113.9", "4444"});
  e.process(x);
  EXPECT_EQ(x.exe, "/usr/bin/nc");
  EXPECT_EQ(x.parent_exe, "/usr/bin/bash");
  EXPECT_EQ(x.login_user_name, "alice");
  EXPECT_EQ(e.stats().entries, 2u);
  EXPECT_EQ(e.stats().events, 4u);
}

TEST(EnricherTest, FailedExecKeepsTheProcesssOwnExecutable) {
  Enricher e(1000, 30 * kSec, fake_users());
  const auto sh = ctx(200, kSec, 1, 0, "sh");
  model::Event ev = exec_event(sh, 2 * kSec, "/usr/bin/sh", {"sh"});
  e.process(ev);
  model::Event failed = exec_event(sh, 3 * kSec, "/tmp/missing", {});
  auto& d = std::get<model::ExecData>(failed.data);
  d.result = -2;
  d.flags = model::kExecFailed;
  e.process(failed);
  EXPECT_EQ(failed.exe, "/usr/bin/sh");
  // Failure told only by the result: the same.
  model::Event failed2 = exec_event(sh, 4 * kSec, "/tmp/missing", {});
  std::get<model::ExecData>(failed2.data).result = -13;
  e.process(failed2);
  EXPECT_EQ(failed2.exe, "/usr/bin/sh");
  model::Event later = net_event(sh, 5 * kSec);
  e.process(later);
  EXPECT_EQ(later.exe, "/usr/bin/sh");
}

// The fork of an unmonitored process is not reported: its first event still names the image
// it runs, its parent's.
TEST(EnricherTest, UnreportedForkChildIsAttributedItsParentsExecutable) {
  Enricher e(1000, 30 * kSec, fake_users());
  const auto sh = ctx(300, kSec, 1, 0, "sh");
  model::Event ev = exec_event(sh, 2 * kSec, "/usr/bin/sh", {"sh", "-c", "job"});
  e.process(ev);
  model::Event n = net_event(ctx(301, 3 * kSec, 300, kSec, "sh"), 4 * kSec);
  e.process(n);
  EXPECT_EQ(n.exe, "/usr/bin/sh");
  EXPECT_EQ(n.parent_exe, "/usr/bin/sh");
  EXPECT_EQ(n.parent_args, (std::vector<std::string>{"sh", "-c", "job"}));
}

TEST(EnricherTest, UnknownParentAndUnsetLoginAreEmpty) {
  Enricher e(1000, 30 * kSec, fake_users());
  auto p = ctx(500, kSec, 499, kSec / 2, "cron");
  p.loginuid = model::kUnsetId;
  p.euid = 1000;
  p.uid = 4242;  // no such user
  model::Event ev = net_event(p, 2 * kSec);
  // Stale values from a previous use of the event object must not survive.
  ev.parent_exe = "stale";
  ev.parent_args = {"stale"};
  ev.exe = "stale";
  e.process(ev);
  EXPECT_EQ(ev.parent_exe, "");
  EXPECT_EQ(ev.parent_comm, "");
  EXPECT_TRUE(ev.parent_args.empty());
  EXPECT_EQ(ev.exe, "");
  EXPECT_EQ(ev.user_name, "");
  EXPECT_EQ(ev.effective_user_name, "alice");
  EXPECT_EQ(ev.login_user_name, "");
  EXPECT_EQ(ev.group_name, "users");
}

TEST(EnricherTest, WallTimeFromBootTime) {
  Enricher e(100, kSec, fake_users());
  timespec boot{}, real{};
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  ::clock_gettime(CLOCK_REALTIME, &real);
  const uint64_t boot_ns = static_cast<uint64_t>(boot.tv_sec) * kSec + boot.tv_nsec;
  const uint64_t real_ns = static_cast<uint64_t>(real.tv_sec) * kSec + real.tv_nsec;
  model::Event ev = net_event(ctx(1, 0, 0, 0, "init"), boot_ns);
  e.process(ev);
  // Same instant in two clocks; a generous bound only catches a wrong offset (0, or the
  // monotonic clock), not scheduling jitter.
  const int64_t diff = static_cast<int64_t>(ev.wall_time_ns) - static_cast<int64_t>(real_ns);
  EXPECT_LT(std::llabs(diff), static_cast<long long>(60 * kSec)) << ev.wall_time_ns;
}

TEST(EnricherTest, ExitedProcessesExpireOnEventTime) {
  Enricher e(100, 5 * kSec, fake_users());
  const auto p = ctx(10, kSec, 1, 0, "sh");
  model::Event a = exec_event(p, kSec, "/bin/sh", {"sh"});
  e.process(a);
  model::Event x = exit_event(p, 2 * kSec);
  e.process(x);
  EXPECT_NE(e.table().find(p.key()), nullptr);
  const auto other = ctx(20, kSec, 1, 0, "other");
  model::Event n = net_event(other, 4 * kSec);
  e.process(n);
  EXPECT_NE(e.table().find(p.key()), nullptr);  // within grace
  model::Event m = net_event(other, 8 * kSec);
  e.process(m);
  EXPECT_EQ(e.table().find(p.key()), nullptr);
  EXPECT_EQ(e.stats().expired, 1u);
}

TEST(EnricherTest, SeededRealProcAttributesOwnProcess) {
  Enricher e(1 << 16, kSec);
  Result<size_t> r = e.seed();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(e.stats().seeded, *r);

  std::ifstream f("/proc/self/stat");
  std::string line;
  std::getline(f, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::vector<std::string> fields;
  for (std::string s; rest >> s;) fields.push_back(s);
  const uint64_t ticks = std::stoull(fields.at(19));

  model::ProcessContext self;
  self.pid = self.tid = static_cast<uint32_t>(::getpid());
  self.start_ns = ticks * 10'000'000ull + 5'000'000ull;  // the kernel's ns, within the tick
  self.uid = self.euid = 0;
  self.comm = "test";
  model::Event ev = net_event(self, ticks * 10'000'000ull + 60 * kSec);
  e.process(ev);
  EXPECT_EQ(ev.exe, std::filesystem::read_symlink("/proc/self/exe").string());
  EXPECT_EQ(ev.user_name, "root");  // real NSS
}

}  // namespace
}  // namespace privwatch::enrich
