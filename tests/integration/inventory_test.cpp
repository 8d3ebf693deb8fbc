// Inventory attribution against the real system: roles through NSS for users and groups the
// test creates (useradd/groupadd, removed afterwards), and container attribution of a real
// process the test moves into a kubepods-style cgroup v2 hierarchy it creates — checked with
// the cgroup id the real agent reports for that process's exec.
#include "enrich/inventory.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "agent_fixture.hpp"
#include "enrich/attribution.hpp"
#include "enrich/containers.hpp"
#include "enrich/grants.hpp"

namespace privwatch::itest {
namespace {

bool run_quiet(const std::vector<std::string>& argv) {
  SpawnOptions o;
  o.capture_stdout = true;
  o.stderr_to_stdout = true;
  Child c = Child::exec(argv, o);
  const int st = c.wait();
  if (describe_status(st) != "exit 0") {
    ADD_FAILURE() << argv[0] << " " << (argv.size() > 1 ? argv.back() : "") << ": "
                  << describe_status(st) << " " << c.stdout_text();
    return false;
  }
  return true;
}

// A local group and users, created for the test and removed afterwards.
class LocalAccounts {
 public:
  ~LocalAccounts() {
    for (const auto& u : users_) run_quiet({"/usr/sbin/userdel", "-f", u});
    for (const auto& g : groups_) run_quiet({"/usr/sbin/groupdel", g});
  }
  bool group(const std::string& name) {
    if (!run_quiet({"/usr/sbin/groupadd", name})) return false;
    groups_.push_back(name);
    return true;
  }
  bool user(const std::string& name, const std::string& supplementary = {}) {
    std::vector<std::string> argv = {"/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin"};
    if (!supplementary.empty()) {
      argv.push_back("-G");
      argv.push_back(supplementary);
    }
    argv.push_back(name);
    if (!run_quiet(argv)) return false;
    users_.push_back(name);
    return true;
  }

 private:
  std::vector<std::string> users_, groups_;
};

uint32_t uid_of(const std::string& name) {
  const passwd* pw = ::getpwnam(name.c_str());
  return pw != nullptr ? pw->pw_uid : kUnsetId;
}

TEST(InventoryNss, RolesFollowRealGroupMembership) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (useradd/groupadd)";
  const std::string t = unique_token("");
  const std::string dbas = "pwg" + t, member = "pwm" + t, later = "pwl" + t, named = "pwn" + t;
  LocalAccounts accounts;
  ASSERT_TRUE(accounts.group(dbas));
  ASSERT_TRUE(accounts.user(member, dbas));
  ASSERT_TRUE(accounts.user(later));
  ASSERT_TRUE(accounts.user(named));

  auto inv = enrich::Inventory::parse(fmt::format("roles:\n"
                                                  "  dba: {{groups: [{}]}}\n"
                                                  "  lead: {{users: [{}]}}\n",
                                                  dbas, named),
                                      "inventory.yaml", {"host-1", nullptr});
  ASSERT_TRUE(inv) << inv.error().to_string();
  uint64_t now = 1'000'000'000;
  enrich::AttributorOptions opts;
  opts.containers.cgroup2_root = "";
  opts.clock = [&now] { return now; };
  opts.membership_ttl_ns = 60'000'000'000ull;
  enrich::Attributor a(*inv, std::move(opts));

  EXPECT_EQ(a.roles_for(member, uid_of(member)), std::vector<std::string>{"dba"});
  EXPECT_TRUE(a.roles_for(later, uid_of(later)).empty());
  EXPECT_EQ(a.roles_for(named, uid_of(named)), std::vector<std::string>{"lead"});

  // Added to the group: the cached answer holds until it expires, then NSS says so.
  ASSERT_TRUE(run_quiet({"/usr/bin/gpasswd", "-a", later, dbas}));
  EXPECT_TRUE(a.roles_for(later, uid_of(later)).empty());
  now += 61'000'000'000ull;
  EXPECT_EQ(a.roles_for(later, uid_of(later)), std::vector<std::string>{"dba"});
  // Removed again.
  ASSERT_TRUE(run_quiet({"/usr/bin/gpasswd", "-d", member, dbas}));
  now += 61'000'000'000ull;
  EXPECT_TRUE(a.roles_for(member, uid_of(member)).empty());
}

// ------------------------------------------------------------------------------------------

// A kubepods-style cgroup v2 path under a unique top directory, removed (processes moved back
// to the root cgroup first) on destruction.
class KubepodsCgroup {
 public:
  KubepodsCgroup(const std::string& root, const std::string& token, const std::string& pod_uid,
                 const std::string& container_id)
      : root_(root) {
    std::string pod_systemd = pod_uid;
    std::replace(pod_systemd.begin(), pod_systemd.end(), '-', '_');
    const std::vector<std::string> parts = {"pwtest-" + token + ".slice", "kubepods.slice",
                                            "kubepods-burstable.slice",
                                            "kubepods-burstable-pod" + pod_systemd + ".slice",
                                            "cri-containerd-" + container_id + ".scope"};
    std::string path = root_;
    for (const auto& p : parts) {
      path += "/" + p;
      if (::mkdir(path.c_str(), 0755) != 0) {
        ADD_FAILURE() << "mkdir " << path << ": " << std::strerror(errno);
        return;
      }
      dirs_.push_back(path);
    }
    relative_ = path.substr(root_.size());
  }
  ~KubepodsCgroup() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      std::ifstream procs(*it + "/cgroup.procs");
      std::string pid;
      while (std::getline(procs, pid)) {
        std::ofstream(root_ + "/cgroup.procs") << pid << "\n";
      }
      for (int i = 0; i < 100 && ::rmdir(it->c_str()) != 0 && errno == EBUSY; ++i) {
        std::this_thread::sleep_for(10ms);  // a killed process leaves the cgroup shortly after
      }
    }
  }
  [[nodiscard]] bool ok() const { return dirs_.size() == 5; }
  [[nodiscard]] std::string leaf() const { return dirs_.empty() ? "" : dirs_.back(); }
  [[nodiscard]] const std::string& relative() const { return relative_; }
  [[nodiscard]] uint64_t id() const {
    struct stat st {};
    return ::stat(leaf().c_str(), &st) == 0 ? st.st_ino : 0;
  }

 private:
  std::string root_, relative_;
  std::vector<std::string> dirs_;
};

TEST(ContainerAttribution, ProcessInKubepodsCgroupIsAttributedFromTheAgentsCgroupId) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  const std::string root = enrich::detect_cgroup2_root();
  ASSERT_FALSE(root.empty()) << "no cgroup2 hierarchy mounted (expected /sys/fs/cgroup or "
                                "/sys/fs/cgroup/unified)";
  std::string error;
  auto agent = Agent::start({}, &error);
  ASSERT_NE(agent, nullptr) << error;

  const std::string token = unique_token();
  const std::string pod_uid = "3f2a9c1e-7b6d-4e5f-8a9b-0c1d2e3f4a5b";
  std::string container_id;
  for (unsigned char c : token + std::string(64, '0')) {
    if (container_id.size() == 64) break;
    container_id += "0123456789abcdef"[c % 16];
  }
  KubepodsCgroup cg(root, token, pod_uid, container_id);
  ASSERT_TRUE(cg.ok());
  ASSERT_NE(cg.id(), 0u);

  // The child joins the cgroup ("0" = itself), then execs: the exec happens inside it.
  const std::string procs = cg.leaf() + "/cgroup.procs";
  const std::string sleep_bin = canonical("/bin/sleep");
  Child child = Child::run([&]() -> int {
    const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, "0", 1) != 1) return 90;
    ::close(fd);
    char* const argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
    ::execv(sleep_bin.c_str(), argv);
    return 91;
  });
  auto exec_ev = agent->wait_for(kind_is("exec", static_cast<uint32_t>(child.pid())),
                                 std::to_string(child.pid()));
  ASSERT_TRUE(exec_ev) << "no exec event for the child in the cgroup";
  SCOPED_TRACE(short_dump(*exec_ev));
  const auto cgroup_id = static_cast<uint64_t>(num(*exec_ev, "privwatch.cgroup_id"));
  EXPECT_EQ(cgroup_id, cg.id()) << "the kernel's cgroup id is the cgroup directory's inode";
  const auto info = read_proc(static_cast<uint32_t>(child.pid()));
  ASSERT_TRUE(info);
  {
    std::ifstream f("/proc/" + std::to_string(child.pid()) + "/cgroup");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("0::" + cg.relative()), std::string::npos) << text;
  }

  // Live process: the per-event attribution the pipeline runs, with the event's ids.
  enrich::AttributorOptions opts;
  opts.containers.runtimes = enrich::default_runtime_clients();  // none here: ids only
  enrich::Attributor attributor(std::make_shared<const enrich::Inventory>("host-1"),
                                std::move(opts));
  model::Event ev;
  ev.kind = model::EventKind::kExec;
  ev.proc.pid = static_cast<uint32_t>(child.pid());
  ev.proc.start_ns = info->start_ticks * 10'000'000ull;
  ev.proc.cgroup_id = cgroup_id;
  attributor.attribute(ev);
  EXPECT_EQ(ev.attr.container.id, container_id);
  EXPECT_EQ(ev.attr.container.runtime, "containerd");
  EXPECT_EQ(ev.attr.container.pod_uid, pod_uid);
  EXPECT_EQ(ev.attr.container.name, "");  // no runtime socket on this machine: ids only
  EXPECT_EQ(attributor.stats().containers.proc_reads, 1u);
  EXPECT_EQ(attributor.stats().containers.runtime_failures, 0u);
  // A second event of the same cgroup: from the cache.
  model::Event again = ev;
  again.kind = model::EventKind::kFile;
  attributor.attribute(again);
  EXPECT_EQ(again.attr.container.id, container_id);
  EXPECT_EQ(attributor.stats().containers.proc_reads, 1u);

  // After the process is gone, a resolver that never saw it finds the cgroup by walking
  // cgroupfs for the id (late events of exited processes).
  child.kill(SIGKILL);
  child.wait();
  enrich::ContainerResolver fresh;
  const enrich::CgroupAttribution& late =
      fresh.resolve(static_cast<uint32_t>(ev.proc.pid), info->start_ticks, cgroup_id);
  EXPECT_EQ(late.container.id, container_id);
  EXPECT_EQ(late.container.pod_uid, pod_uid);
  EXPECT_EQ(late.k8s_qos, "burstable");
  EXPECT_EQ(fresh.stats().walks, 1u);
}

// ------------------------------------------------------------------------------------------

std::string run_cli(const std::vector<std::string>& args, int* status) {
  std::vector<std::string> argv = {agent_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions o;
  o.capture_stdout = true;
  o.stderr_to_stdout = true;
  Child c = Child::exec(argv, o);
  *status = c.wait();
  return c.stdout_text();
}

TEST(GrantCommand, AddListRevokeThroughTheGrantsDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "privwatch grant add needs root";
  TempDir tmp;
  const std::string dir = tmp / "grants.d";
  int st = 0;
  std::string out = run_cli(
      {"grant", "add", "--dir", dir, "--user", "alice", "--hosts", "db-*,pg-1", "--from",
       "2026-11-22T05:00:00Z", "--until", "+2h", "--ticket", "CHG-77", "--reason", "upgrade"},
      &st);
  ASSERT_EQ(describe_status(st), "exit 0") << out;
  EXPECT_NE(out.find("granted alice on db-*,pg-1 from 2026-11-22T05:00:00Z until "
                     "2026-11-22T07:00:00Z (CHG-77)"),
            std::string::npos)
      << out;
  // What the agent will load.
  enrich::GrantStore store;
  auto report = store.load(dir);
  ASSERT_TRUE(report) << report.error().to_string();
  ASSERT_EQ(report->grants, 1u);
  const auto snap = store.snapshot();
  EXPECT_NE(snap->active_for("alice", "db-3", "", 1795323600 + 60), nullptr);
  EXPECT_EQ(snap->active_for("alice", "web-1", "", 1795323600 + 60), nullptr);

  out = run_cli({"grant", "list", "--dir", dir, "--json"}, &st);
  ASSERT_EQ(describe_status(st), "exit 0") << out;
  const json line = json::parse(out.substr(0, out.find('\n')));
  EXPECT_EQ(line.value("user", ""), "alice");
  EXPECT_EQ(line.value("hosts", ""), "db-*,pg-1");
  EXPECT_EQ(line.value("ticket", ""), "CHG-77");
  EXPECT_EQ(line.value("until", ""), "2026-11-22T07:00:00Z");

  // Incomplete grants are refused with a reason and exit 2; nothing is written.
  out = run_cli({"grant", "add", "--dir", dir, "--user", "bob", "--until", "+1h"}, &st);
  EXPECT_EQ(describe_status(st), "exit 2") << out;
  EXPECT_NE(out.find("no hosts and no clusters"), std::string::npos) << out;

  out = run_cli({"grant", "revoke", "--dir", dir, "--ticket", "CHG-77"}, &st);
  ASSERT_EQ(describe_status(st), "exit 0") << out;
  ASSERT_TRUE(store.load(dir));
  EXPECT_TRUE(store.snapshot()->empty());
  out = run_cli({"grant", "revoke", "--dir", dir, "--ticket", "CHG-77"}, &st);
  EXPECT_EQ(describe_status(st), "exit 1") << out;
}

}  // namespace
}  // namespace privwatch::itest
