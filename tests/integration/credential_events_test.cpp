// Credential changes: a daemon-style drop from root to nobody (setgroups, setresgid,
// setresuid) through tests/helpers/setuid_helper, and a real `sudo -u nobody` whose command
// keeps the human identity (audit loginuid) of whoever ran sudo.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

constexpr uint32_t kNobody = 65534;

class CredentialEventsTest : public AgentSuite<CredentialEventsTest> {};

Predicate cred_event(std::string action, uint32_t pid) {
  return [action = std::move(action), pid](const json& e) {
    return str(e, "privwatch.kind") == "cred" && str(e, "event.action") == action &&
           num(e, "process.pid") == pid;
  };
}

std::vector<uint64_t> cred_args(const json& ev) {
  const json* a = field(ev, "privwatch.cred.args");
  return a != nullptr ? a->get<std::vector<uint64_t>>() : std::vector<uint64_t>{};
}

struct Ids {
  uint32_t uid, gid;
};

// privwatch.cred.<side>: all four uids and all four gids.
void expect_creds(const json& ev, const std::string& side, Ids ids) {
  SCOPED_TRACE(side + " in " + short_dump(ev));
  for (const char* k : {"uid", "euid", "suid", "fsuid"}) {
    EXPECT_EQ(num(ev, "privwatch.cred." + side + "." + k), ids.uid) << k;
  }
  for (const char* k : {"gid", "egid", "sgid", "fsgid"}) {
    EXPECT_EQ(num(ev, "privwatch.cred." + side + "." + k), ids.gid) << k;
  }
}

TEST_F(CredentialEventsTest, SetuidHelperDroppingRootToNobody) {
  const std::string token = unique_token();
  const std::string helper = helper_path("setuid_helper");
  Child c = Child::exec(
      {helper, std::to_string(kNobody), std::to_string(kNobody), "exec", "/bin/true", token},
      {.capture_stdout = true});
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_EQ(c.stdout_text(), "setgroups 0\nsetresgid 0\nsetresuid 0\nsetuid EPERM\n");
  ASSERT_TRUE(c.info_at_exit());
  const ProcInfo& at_exit = *c.info_at_exit();  // the exec'd /bin/true, as nobody
  const std::string needle = fmt::format("\"pid\":{},", c.pid());
  const std::string root_caps = self_info().cap_eff;  // what the helper inherited
  ASSERT_FALSE(root_caps.empty());

  // Context while still root, before and after each call.
  ExpectedProcess as_root = expected_child(at_exit);
  as_root.executable = canonical(helper);
  as_root.name = "setuid_helper";
  as_root.uid = as_root.euid = as_root.suid = 0;
  as_root.gid = as_root.egid = 0;

  auto groups_ev = agent().wait_for(cred_event("setgroups", c.pid()), needle);
  ASSERT_TRUE(groups_ev) << "no setgroups event";
  expect_process(*groups_ev, as_root);
  EXPECT_EQ(cred_args(*groups_ev), (std::vector<uint64_t>{1, kNobody}))
      << "setgroups(1, {65534}): count and first group";
  EXPECT_EQ(str(*groups_ev, "event.outcome"), "success");
  expect_categorized(*groups_ev, "process", {"change"});
  EXPECT_EQ(num(*groups_ev, "privwatch.syscall"), SYS_setgroups);

  auto gid_ev = agent().wait_for(cred_event("setresgid", c.pid()), needle);
  ASSERT_TRUE(gid_ev) << "no setresgid event";
  ExpectedProcess after_gid = as_root;
  after_gid.gid = after_gid.egid = kNobody;  // the header carries the credentials at exit
  after_gid.monitored = true;                // still uid 0
  expect_process(*gid_ev, after_gid);
  EXPECT_EQ(cred_args(*gid_ev), (std::vector<uint64_t>{kNobody, kNobody, kNobody}));
  EXPECT_EQ(str(*gid_ev, "event.outcome"), "success");
  EXPECT_EQ(field(*gid_ev, "privwatch.cred.before_valid")->get<bool>(), true);
  expect_creds(*gid_ev, "before", {0, 0});
  expect_creds(*gid_ev, "after", {0, kNobody});

  auto uid_ev = agent().wait_for(cred_event("setresuid", c.pid()), needle);
  ASSERT_TRUE(uid_ev) << "no setresuid event";
  ExpectedProcess after_uid = after_gid;
  after_uid.uid = after_uid.euid = after_uid.suid = kNobody;
  after_uid.monitored = false;  // nobody is not a monitored subject
  expect_process(*uid_ev, after_uid);
  SCOPED_TRACE(short_dump(*uid_ev));
  expect_categorized(*uid_ev, "process", {"change"});
  EXPECT_EQ(str(*uid_ev, "event.outcome"), "success");
  EXPECT_FALSE(has(*uid_ev, "error"));
  EXPECT_EQ(num(*uid_ev, "privwatch.syscall"), SYS_setresuid);
  EXPECT_EQ(cred_args(*uid_ev), (std::vector<uint64_t>{kNobody, kNobody, kNobody}));
  EXPECT_EQ(field(*uid_ev, "privwatch.cred.before_valid")->get<bool>(), true);
  expect_creds(*uid_ev, "before", {0, kNobody});
  expect_creds(*uid_ev, "after", {kNobody, kNobody});
  EXPECT_EQ(str(*uid_ev, "privwatch.cred.before.cap_effective"), root_caps);
  EXPECT_EQ(str(*uid_ev, "privwatch.cred.after.cap_effective"), "0000000000000000")
      << "leaving uid 0 clears the capabilities";
  EXPECT_EQ(str(*uid_ev, "privwatch.cred.after.cap_permitted"), "0000000000000000");

  // The attempt to get root back fails, and the event says so.
  auto back_ev = agent().wait_for(cred_event("setuid", c.pid()), needle);
  ASSERT_TRUE(back_ev) << "no setuid event";
  expect_process(*back_ev, after_uid);
  {
    SCOPED_TRACE(short_dump(*back_ev));
    EXPECT_EQ(str(*back_ev, "event.outcome"), "failure");
    EXPECT_EQ(str(*back_ev, "error.code"), "EPERM");
    EXPECT_EQ(num(*back_ev, "privwatch.syscall"), SYS_setuid);
    EXPECT_EQ(cred_args(*back_ev), std::vector<uint64_t>{0});
    expect_creds(*back_ev, "before", {kNobody, kNobody});
    expect_creds(*back_ev, "after", {kNobody, kNobody});
  }

  // The program it then runs is attributed to nobody.
  auto exec_ev = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exec" && num(e, "process.pid") == c.pid() &&
               str(e, "process.name") == "true";
      },
      token);
  ASSERT_TRUE(exec_ev) << "no exec of /bin/true as nobody";
  ExpectedProcess as_nobody = expected_child(at_exit);
  as_nobody.executable = canonical("/bin/true");
  as_nobody.monitored = false;
  EXPECT_EQ(at_exit.uid, kNobody);
  expect_process(*exec_ev, as_nobody);
  EXPECT_EQ(field(*exec_ev, "process.args")->get<std::vector<std::string>>(),
            (std::vector<std::string>{"/bin/true", token}));
}

// capset(2) dropping CAP_SYS_ADMIN from the effective set: the event shows the sets the
// process asked for (effective, permitted, inheritable) and the capabilities before and after.
TEST_F(CredentialEventsTest, CapsetDroppingAnEffectiveCapability) {
  const std::string root_caps = self_info().cap_eff;
  ASSERT_FALSE(root_caps.empty());
  const uint64_t before = std::stoull(root_caps, nullptr, 16);
  ASSERT_TRUE(before & (1ull << CAP_SYS_ADMIN)) << "the test must run with CAP_SYS_ADMIN";
  const uint64_t after = before & ~(1ull << CAP_SYS_ADMIN);
  __user_cap_data_struct data[2] = {};
  Child c = Child::run([&] {
    __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    if (::syscall(SYS_capget, &hdr, data) != 0) return 100;
    data[0].effective &= ~(1u << CAP_SYS_ADMIN);
    data[0].inheritable = 0;
    return ::syscall(SYS_capset, &hdr, data) == 0 ? 0 : errno;
  });
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());
  // What the child asked for: its sets as capget returned them, minus CAP_SYS_ADMIN.
  const uint64_t permitted = std::stoull(self_info().cap_eff, nullptr, 16);  // root: eff == prm

  auto ev = agent().wait_for(cred_event("capset", c.pid()), fmt::format("\"pid\":{},", c.pid()));
  ASSERT_TRUE(ev) << "no capset event";
  ExpectedProcess e = expected_child(*c.info_at_exit());
  e.monitored = true;
  expect_process(*ev, e);
  SCOPED_TRACE(short_dump(*ev));
  EXPECT_EQ(str(*ev, "event.outcome"), "success");
  EXPECT_EQ(num(*ev, "privwatch.syscall"), SYS_capset);
  EXPECT_EQ(str(*ev, "privwatch.cred.before.cap_effective"), fmt::format("{:016x}", before));
  EXPECT_EQ(str(*ev, "privwatch.cred.after.cap_effective"), fmt::format("{:016x}", after));
  EXPECT_EQ(str(*ev, "privwatch.cred.after.cap_permitted"), fmt::format("{:016x}", permitted));
  // The requested sets (low 32 bits, as the kernel program documents): effective, permitted,
  // inheritable (the helper requests an empty inheritable set). Never a user-space pointer.
  EXPECT_EQ(cred_args(*ev),
            (std::vector<uint64_t>{after & 0xffffffffu, permitted & 0xffffffffu, 0u}));
}

TEST_F(CredentialEventsTest, SudoToNobodyKeepsTheHumanIdentity) {
  if (::access("/usr/bin/sudo", X_OK) != 0) {
    FAIL() << "sudo is required by the kernel integration tests (install the sudo package)";
  }
  const std::string token = unique_token();
  const std::vector<std::string> argv = {"/usr/bin/sudo", "-n", "-u",           "nobody",
                                         "/bin/sh",       "-c", "echo " + token};
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  // Like a login (pam_loginuid), the child first sets its audit loginuid to a human user
  // (daemon, uid 1, stands in for alice) — unless it already has one — then runs sudo.
  constexpr uint32_t kHuman = 1;
  const bool set_loginuid = self_info().loginuid == kUnsetId;
  Child c = Child::run(
      [&]() -> int {
        if (set_loginuid) {
          const int fd = ::open("/proc/self/loginuid", O_WRONLY);
          if (fd < 0 || ::write(fd, "1", 1) != 1) return 120;
          ::close(fd);
        }
        ::execv(av[0], av.data());
        return 127;
      },
      {.capture_stdout = true});
  ASSERT_EQ(describe_status(c.wait()), "exit 0") << "120: cannot set the loginuid";
  ASSERT_EQ(c.stdout_text(), token + "\n");
  ASSERT_TRUE(c.info_at_exit());
  const uint32_t sudo_pid = c.pid();
  const uint32_t loginuid = c.info_at_exit()->loginuid;
  const uint32_t sessionid = c.info_at_exit()->sessionid;
  if (set_loginuid) {
    ASSERT_EQ(loginuid, kHuman);
    ASSERT_NE(sessionid, kUnsetId) << "setting the loginuid starts an audit session";
  }

  // 1. The exec of sudo: a setuid-root image, run by root (the test).
  auto sudo_ev = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exec" && num(e, "process.pid") == sudo_pid &&
               str(e, "process.name") == "sudo";
      },
      token);
  ASSERT_TRUE(sudo_ev) << "no exec of sudo";
  ExpectedProcess sudo = expected_child(*c.info_at_exit());
  sudo.executable = canonical("/usr/bin/sudo");
  sudo.name = "sudo";
  sudo.uid = sudo.euid = sudo.suid = 0;
  sudo.gid = sudo.egid = 0;
  expect_process(*sudo_ev, sudo);
  EXPECT_EQ(field(*sudo_ev, "process.args")->get<std::vector<std::string>>(), argv);
  EXPECT_EQ(field(*sudo_ev, "privwatch.exec.setuid")->get<bool>(), true) << short_dump(*sudo_ev);
  expect_exe_identity(*sudo_ev, canonical("/usr/bin/sudo"));

  // 3. The command runs as nobody, in a child of sudo, and keeps the test's loginuid.
  auto sh_ev = agent().wait_for(
      [&](const json& e) {
        const json* args = field(e, "process.args");
        return str(e, "privwatch.kind") == "exec" && args != nullptr &&
               *args == json(std::vector<std::string>{"/bin/sh", "-c", "echo " + token});
      },
      token);
  ASSERT_TRUE(sh_ev) << "no exec of /bin/sh by sudo";
  SCOPED_TRACE(short_dump(*sh_ev));
  const auto sh_pid = static_cast<uint32_t>(num(*sh_ev, "process.pid"));
  const auto sh_ppid = static_cast<uint32_t>(num(*sh_ev, "process.parent.pid"));
  EXPECT_EQ(str(*sh_ev, "process.executable"), canonical("/bin/sh"));
  EXPECT_EQ(str(*sh_ev, "process.parent.executable"), canonical("/usr/bin/sudo"));
  EXPECT_EQ(str(*sh_ev, "process.parent.name"), "sudo");
  EXPECT_EQ(str(*sh_ev, "user.id"), std::to_string(kNobody));
  EXPECT_EQ(str(*sh_ev, "user.name"), "nobody");
  EXPECT_EQ(str(*sh_ev, "user.effective.id"), std::to_string(kNobody));
  EXPECT_EQ(str(*sh_ev, "process.user.id"), std::to_string(kNobody));
  EXPECT_EQ(str(*sh_ev, "process.real_group.id"), std::to_string(kNobody));
  EXPECT_EQ(field(*sh_ev, "privwatch.monitored")->get<bool>(), false);
  // The human behind the command: sudo must not change the audit loginuid or session.
  EXPECT_EQ(str(*sh_ev, "user.audit.id"), std::to_string(loginuid));
  EXPECT_EQ(str(*sh_ev, "user.audit.name"), user_name(loginuid));
  EXPECT_EQ(num(*sh_ev, "privwatch.audit_session_id"), sessionid);
  // sudo's process tree: the command's parent is sudo itself or a process sudo forked.
  std::set<uint32_t> sudo_tree = {sudo_pid};
  for (const json& f : agent().matching(
           [&](const json& e) {
             return str(e, "privwatch.kind") == "fork" && num(e, "process.pid") == sudo_pid;
           },
           fmt::format("\"pid\":{},", sudo_pid))) {
    sudo_tree.insert(static_cast<uint32_t>(num(f, "privwatch.fork.child_pid")));
  }
  EXPECT_TRUE(sudo_tree.count(sh_ppid)) << "parent " << sh_ppid << " is not sudo's";
  if (sh_ppid == sudo_pid) {
    EXPECT_EQ(str(*sh_ev, "process.parent.entity_id"),
              fmt::format("{}-{}", sudo_pid, c.info_at_exit()->start_ticks));
    EXPECT_EQ(field(*sh_ev, "process.parent.args")->get<std::vector<std::string>>(), argv);
  }

  // 2. The switch to nobody is recorded as credential events of sudo's tree, before the exec:
  // one of them moves the uid from 0 to 65534.
  sudo_tree.insert(sh_pid);
  const auto creds = agent().matching([&](const json& e) {
    return str(e, "privwatch.kind") == "cred" &&
           sudo_tree.count(static_cast<uint32_t>(num(e, "process.pid"))) != 0;
  });
  ASSERT_FALSE(creds.empty()) << "no credential events from sudo";
  const auto to_nobody = std::find_if(creds.begin(), creds.end(), [](const json& e) {
    return num(e, "privwatch.cred.before.uid") == 0 &&
           num(e, "privwatch.cred.after.uid") == kNobody &&
           num(e, "privwatch.cred.after.euid") == kNobody && str(e, "event.outcome") == "success";
  });
  ASSERT_NE(to_nobody, creds.end()) << "no credential change from uid 0 to 65534";
  const std::string action = str(*to_nobody, "event.action");
  EXPECT_TRUE(action == "setresuid" || action == "setreuid" || action == "setuid") << action;
  EXPECT_EQ(str(*to_nobody, "user.id"), std::to_string(kNobody));
  EXPECT_EQ(str(*to_nobody, "user.audit.id"), std::to_string(loginuid));
  EXPECT_EQ(num(*to_nobody, "privwatch.audit_session_id"), sessionid);
}

}  // namespace
}  // namespace privwatch::itest
