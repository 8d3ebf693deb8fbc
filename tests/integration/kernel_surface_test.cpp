// The kernel attack surface, captured for everyone: ptrace attach, kernel module loading,
// bpf() program loads by other processes, mount / umount, and signals sent to the agent.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <thread>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

class KernelSurfaceTest : public AgentSuite<KernelSurfaceTest> {};

std::string pid_needle(uint32_t pid) { return fmt::format("\"pid\":{},", pid); }

// The exec of a helper (argv tagged with token) and its context, as an exec'd child.
ExpectedProcess expected_helper(const Child& c, const std::string& helper) {
  ExpectedProcess e = expected_child(*c.info_at_exit());
  e.executable = canonical(helper_path(helper));
  e.monitored = true;
  return e;
}

TEST_F(KernelSurfaceTest, PtraceAttachNamesTheTarget) {
  const std::string token = unique_token();
  Child c = Child::exec({helper_path("ptrace_helper"), token}, {.capture_stdout = true});
  ASSERT_EQ(describe_status(c.wait()), "exit 0") << c.stdout_text();
  ASSERT_TRUE(c.info_at_exit());
  unsigned target = 0;
  ASSERT_EQ(std::sscanf(c.stdout_text().c_str(), "target %u\nattach 0\n", &target), 1)
      << c.stdout_text();
  ASSERT_NE(c.stdout_text().find("attach 0"), std::string::npos) << c.stdout_text();

  auto ev = agent().wait_for(kind_is("ptrace", c.pid()), pid_needle(c.pid()));
  ASSERT_TRUE(ev) << "no ptrace event from pid " << c.pid();
  expect_process(*ev, expected_helper(c, "ptrace_helper"));
  SCOPED_TRACE(short_dump(*ev));
  expect_categorized(*ev, "process", {"access"});
  EXPECT_EQ(str(*ev, "event.action"), "ptrace");
  EXPECT_EQ(str(*ev, "event.outcome"), "success");
  EXPECT_EQ(num(*ev, "privwatch.syscall"), SYS_ptrace);
  EXPECT_EQ(num(*ev, "privwatch.ptrace.request"), 16);
  EXPECT_EQ(str(*ev, "privwatch.ptrace.request_name"), "PTRACE_ATTACH");
  EXPECT_EQ(num(*ev, "privwatch.ptrace.target_pid"), target);
}

// A kernel built without loadable modules (CONFIG_MODULES unset, as on the CI machine) has
// neither the module syscalls nor their tracepoints: nothing can be loaded, so there is
// nothing to observe. The agent must then say which syscalls it does not observe.
bool kernel_has_modules() { return ::access("/proc/modules", F_OK) == 0; }

TEST_F(KernelSurfaceTest, AgentNamesModuleSyscallsItCannotObserve) {
  if (kernel_has_modules()) GTEST_SKIP() << "kernel has module support: covered below";
  const std::string log = agent().stderr_text();
  EXPECT_NE(log.find("not observed:"), std::string::npos) << log;
  EXPECT_NE(log.find("sys_exit_finit_module"), std::string::npos) << log;
  EXPECT_NE(log.find("sys_exit_init_module"), std::string::npos) << log;
}

TEST_F(KernelSurfaceTest, ModuleLoadAttemptIsReportedWithTheFile) {
  if (!kernel_has_modules()) {
    GTEST_SKIP() << "kernel without loadable module support (no /proc/modules): "
                    "finit_module does not exist here";
  }
  TempDir dir;
  const std::string path = dir / ("notamodule-" + unique_token() + ".ko");
  write_file(path, "this is not an ELF kernel module\n");
  Child c = Child::run([&] {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 100;
    return ::syscall(SYS_finit_module, fd, "", 0) == 0 ? 0 : errno;
  });
  const int status = c.wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 100)
      << "finit_module of a text file must fail: " << describe_status(status);
  const int err = WEXITSTATUS(status);
  ASSERT_TRUE(c.info_at_exit());

  auto ev = agent().wait_for(kind_is("module", c.pid()), pid_needle(c.pid()));
  ASSERT_TRUE(ev) << "no module event from pid " << c.pid();
  ExpectedProcess e = expected_child(*c.info_at_exit());
  e.monitored = true;
  expect_process(*ev, e);
  SCOPED_TRACE(short_dump(*ev));
  expect_categorized(*ev, "driver", {"start"});
  EXPECT_EQ(str(*ev, "event.action"), "finit_module");
  EXPECT_EQ(str(*ev, "event.outcome"), "failure");
  EXPECT_EQ(str(*ev, "error.code"), strerrorname_np(err)) << "the child saw " << strerror(err);
  EXPECT_EQ(num(*ev, "privwatch.syscall"), SYS_finit_module);
  EXPECT_EQ(str(*ev, "privwatch.module.op"), "finit");
  EXPECT_EQ(str(*ev, "privwatch.module.name"), path);
  EXPECT_EQ(num(*ev, "privwatch.module.flags"), 0);
  EXPECT_FALSE(has(*ev, "privwatch.module.params"));
}

TEST_F(KernelSurfaceTest, BpfProgramLoadByAnotherProcess) {
  std::random_device rd;
  const std::string prog_name = fmt::format("pw{:08x}", rd());  // < 16 chars, [a-z0-9]
  Child c = Child::exec({helper_path("bpf_helper"), prog_name}, {.capture_stdout = true});
  ASSERT_EQ(describe_status(c.wait()), "exit 0") << c.stdout_text();
  ASSERT_EQ(c.stdout_text(), "prog_load 0\n");
  ASSERT_TRUE(c.info_at_exit());

  auto ev = agent().wait_for(
      [&](const json& e) {
        return kind_is("bpf", c.pid())(e) && str(e, "privwatch.bpf.prog_name") == prog_name;
      },
      prog_name);
  ASSERT_TRUE(ev) << "no bpf event for program " << prog_name;
  expect_process(*ev, expected_helper(c, "bpf_helper"));
  SCOPED_TRACE(short_dump(*ev));
  expect_categorized(*ev, "driver", {"start"});
  EXPECT_EQ(str(*ev, "event.action"), "bpf");
  EXPECT_EQ(str(*ev, "event.outcome"), "success");
  EXPECT_EQ(num(*ev, "privwatch.syscall"), SYS_bpf);
  EXPECT_EQ(num(*ev, "privwatch.bpf.cmd"), 5);
  EXPECT_EQ(str(*ev, "privwatch.bpf.cmd_name"), "BPF_PROG_LOAD");
  EXPECT_EQ(num(*ev, "privwatch.bpf.prog_type"), 1);
  EXPECT_EQ(str(*ev, "privwatch.bpf.prog_type_name"), "BPF_PROG_TYPE_SOCKET_FILTER");
}

TEST_F(KernelSurfaceTest, MountAndUmountOfATmpfs) {
  TempDir dir;
  const std::string target = dir / "mnt";
  ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
  const std::string source = "pwsrc-" + unique_token();
  Child c = Child::run([&] {
    if (::mount(source.c_str(), target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0) {
      return errno;
    }
    return ::umount2(target.c_str(), 0) == 0 ? 0 : 200;
  });
  const int status = c.wait();
  if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    ::umount2(target.c_str(), MNT_DETACH);  // never leave a mount behind
  }
  ASSERT_EQ(describe_status(status), "exit 0");
  ASSERT_TRUE(c.info_at_exit());
  ExpectedProcess e = expected_child(*c.info_at_exit());
  e.monitored = true;

  auto mnt = agent().wait_for(action_is("mount", c.pid()), source);
  ASSERT_TRUE(mnt) << "no mount event for " << source;
  expect_process(*mnt, e);
  {
    SCOPED_TRACE(short_dump(*mnt));
    expect_categorized(*mnt, "file", {"change"});
    EXPECT_EQ(str(*mnt, "privwatch.kind"), "mount");
    EXPECT_EQ(str(*mnt, "event.outcome"), "success");
    EXPECT_EQ(num(*mnt, "privwatch.syscall"), SYS_mount);
    EXPECT_EQ(str(*mnt, "privwatch.mount.op"), "mount");
    EXPECT_EQ(str(*mnt, "privwatch.mount.source"), source);
    EXPECT_EQ(str(*mnt, "privwatch.mount.target"), target);
    EXPECT_EQ(str(*mnt, "privwatch.mount.fstype"), "tmpfs");
    EXPECT_EQ(num(*mnt, "privwatch.mount.flags"), MS_NOSUID | MS_NODEV);
    EXPECT_EQ(field(*mnt, "privwatch.mount.flag_names")->get<std::vector<std::string>>(),
              (std::vector<std::string>{"MS_NOSUID", "MS_NODEV"}));
    EXPECT_EQ(str(*mnt, "file.path"), target);
  }

  auto umnt = agent().wait_for(
      [&](const json& ev) {
        return action_is("umount", c.pid())(ev) && str(ev, "privwatch.mount.target") == target;
      },
      pid_needle(c.pid()));
  ASSERT_TRUE(umnt) << "no umount event for " << target;
  expect_process(*umnt, e);
  SCOPED_TRACE(short_dump(*umnt));
  EXPECT_EQ(str(*umnt, "privwatch.kind"), "mount");
  EXPECT_EQ(str(*umnt, "event.outcome"), "success");
  EXPECT_EQ(num(*umnt, "privwatch.syscall"), SYS_umount2);
  EXPECT_EQ(str(*umnt, "privwatch.mount.op"), "umount");
  EXPECT_EQ(num(*umnt, "privwatch.mount.flags"), 0);
  EXPECT_FALSE(has(*umnt, "privwatch.mount.source"));
  EXPECT_EQ(str(*umnt, "file.path"), target);
}

TEST_F(KernelSurfaceTest, SignalSentToTheAgent) {
  const pid_t agent_pid = agent().pid();
  Child c = Child::run([&] { return ::kill(agent_pid, SIGHUP) == 0 ? 0 : errno; });
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());

  auto ev = agent().wait_for(kind_is("signal", c.pid()), pid_needle(c.pid()));
  ASSERT_TRUE(ev) << "no signal event from pid " << c.pid();
  ExpectedProcess e = expected_child(*c.info_at_exit());
  e.monitored = true;
  expect_process(*ev, e);
  SCOPED_TRACE(short_dump(*ev));
  expect_categorized(*ev, "process", {"access"});
  EXPECT_EQ(str(*ev, "event.action"), "signal");
  EXPECT_EQ(str(*ev, "event.outcome"), "success");
  EXPECT_EQ(num(*ev, "privwatch.syscall"), SYS_kill);
  EXPECT_EQ(num(*ev, "privwatch.signal.target_pid"), agent_pid);
  EXPECT_EQ(num(*ev, "privwatch.signal.number"), SIGHUP);
  EXPECT_EQ(str(*ev, "privwatch.signal.name"), "SIGHUP");

  // SIGHUP is handled: the agent keeps running and says what it did.
  EXPECT_TRUE(agent().alive());
  const auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  while (agent().stderr_text().find("SIGHUP") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(agent().stderr_text().find("SIGHUP"), std::string::npos) << agent().stderr_text();
}

}  // namespace
}  // namespace privwatch::itest
