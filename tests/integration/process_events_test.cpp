// Process lifecycle: exec (arguments, bounds, failure, memfd / deleted images) and exit
// (exit code, death by signal), each attributed to the process the test started.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <numeric>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

class ProcessEventsTest : public AgentSuite<ProcessEventsTest> {
 protected:
  // The exec event of `pid` whose argv contains `token` (an exec'd child of the test).
  json wait_exec(uint32_t pid, const std::string& token) {
    auto ev = agent().wait_for(
        [&](const json& e) {
          if (str(e, "privwatch.kind") != "exec" || num(e, "process.pid") != pid) return false;
          const json* args = field(e, "process.args");
          if (args == nullptr) return false;
          for (const auto& a : *args) {
            if (a.is_string() && a.get<std::string>().find(token) != std::string::npos) {
              return true;
            }
          }
          return false;
        },
        token);
    EXPECT_TRUE(ev.has_value()) << "no exec event of pid " << pid << " with " << token;
    return ev.value_or(json());
  }

  // The exit event of the process (pid, start ticks).
  json wait_exit(uint32_t pid, uint64_t start_ticks) {
    const std::string entity = fmt::format("{}-{}", pid, start_ticks);
    auto ev = agent().wait_for(
        [&](const json& e) {
          return str(e, "privwatch.kind") == "exit" && num(e, "process.pid") == pid &&
                 str(e, "process.entity_id") == entity;
        },
        entity);
    EXPECT_TRUE(ev.has_value()) << "no exit event of " << entity;
    return ev.value_or(json());
  }
};

size_t argv_bytes(const std::vector<std::string>& argv) {
  return std::accumulate(argv.begin(), argv.end(), size_t{0},
                         [](size_t n, const std::string& a) { return n + a.size() + 1; });
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
  return s;
}

TEST_F(ProcessEventsTest, ExecCarriesExactArgumentsWorkingDirectoryAndAttribution) {
  TempDir dir;
  const std::string token = unique_token();
  const std::vector<std::string> argv = {
      "/bin/echo", token, "two words", "ünïcødé ✓ 日本語", "quote\" back\\slash\ttab", "", "last"};
  Child c = Child::exec(argv, {.cwd = dir.path()});
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());
  const ProcInfo& info = *c.info_at_exit();

  const json ev = wait_exec(c.pid(), token);
  ASSERT_FALSE(ev.is_null());
  ExpectedProcess e = expected_child(info);
  e.executable = canonical("/bin/echo");
  e.name = "echo";
  e.monitored = true;  // root
  expect_process(ev, e);

  SCOPED_TRACE(short_dump(ev));
  expect_categorized(ev, "process", {"start"});
  EXPECT_EQ(str(ev, "event.action"), "exec");
  EXPECT_EQ(str(ev, "event.outcome"), "success");
  EXPECT_FALSE(has(ev, "error"));
  ASSERT_TRUE(has(ev, "process.args"));
  EXPECT_EQ(field(ev, "process.args")->get<std::vector<std::string>>(), argv);
  EXPECT_EQ(num(ev, "process.args_count"), static_cast<int64_t>(argv.size()));
  EXPECT_EQ(str(ev, "process.command_line"), join(argv));
  EXPECT_EQ(str(ev, "process.working_directory"), dir.path());
  EXPECT_EQ(str(ev, "privwatch.exec.filename"), "/bin/echo");
  EXPECT_EQ(num(ev, "privwatch.exec.args_size"), static_cast<int64_t>(argv_bytes(argv)));
  EXPECT_EQ(field(ev, "privwatch.exec.args_truncated")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.exec.memfd")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.exec.deleted")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.exec.setuid")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.exec.setgid")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.exec.failed")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.truncated")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.read_failure")->get<bool>(), false);
  EXPECT_EQ(field(ev, "privwatch.sensitive")->get<bool>(), false);
  EXPECT_FALSE(has(ev, "privwatch.syscall")) << "exec comes from the scheduler tracepoint";
  expect_exe_identity(ev, canonical("/bin/echo"));

  // The exit of the same process: status 0, attributed to the image it ran.
  const json exit_ev = wait_exit(c.pid(), info.start_ticks);
  ASSERT_FALSE(exit_ev.is_null());
  expect_process(exit_ev, e);
  expect_categorized(exit_ev, "process", {"end"});
  EXPECT_EQ(str(exit_ev, "event.action"), "exit");
  EXPECT_EQ(num(exit_ev, "process.exit_code"), 0);
  EXPECT_EQ(num(exit_ev, "privwatch.exit.status"), 0);
  EXPECT_EQ(num(exit_ev, "privwatch.exit.signal"), 0);
  EXPECT_FALSE(has(exit_ev, "privwatch.exit.signal_name"));
  EXPECT_EQ(field(exit_ev, "privwatch.exit.core_dumped")->get<bool>(), false);
}

TEST_F(ProcessEventsTest, ArgvLongerThanTheByteBoundIsTruncatedAndSaysSo) {
  const std::string token = unique_token();
  const std::vector<std::string> argv = {"/bin/true", token, std::string(3000, 'a'),
                                         std::string(3000, 'b'), "tail-" + token};
  Child c = Child::exec(argv);
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());

  const json ev = wait_exec(c.pid(), token);
  ASSERT_FALSE(ev.is_null());
  ExpectedProcess e = expected_child(*c.info_at_exit());
  e.executable = canonical("/bin/true");
  e.name = "true";
  expect_process(ev, e);

  SCOPED_TRACE(short_dump(ev));
  EXPECT_EQ(field(ev, "privwatch.exec.args_truncated")->get<bool>(), true);
  EXPECT_EQ(field(ev, "privwatch.truncated")->get<bool>(), true);
  // args_size is what the process really has; the capture stops at capture.max_arg_bytes
  // (4096 by default).
  EXPECT_EQ(num(ev, "privwatch.exec.args_size"), static_cast<int64_t>(argv_bytes(argv)));
  const auto args = field(ev, "process.args")->get<std::vector<std::string>>();
  ASSERT_EQ(args.size(), 4u) << "the first three arguments whole, the fourth cut";
  EXPECT_EQ(args[0], argv[0]);
  EXPECT_EQ(args[1], argv[1]);
  EXPECT_EQ(args[2], argv[2]);
  EXPECT_FALSE(args[3].empty());
  EXPECT_LT(args[3].size(), argv[3].size());
  EXPECT_EQ(args[3], argv[3].substr(0, args[3].size()));
  size_t captured = argv_bytes(args) - 1;  // the cut argument has no terminating NUL
  EXPECT_EQ(captured, 4096u);
  EXPECT_LT(captured, argv_bytes(argv));
  EXPECT_EQ(num(ev, "process.args_count"), 4);
}

TEST_F(ProcessEventsTest, ArgvWithMoreEntriesThanTheCountBoundIsTruncatedAndSaysSo) {
  const std::string token = unique_token();
  std::vector<std::string> argv = {"/bin/true", token};
  for (int i = 0; i < 98; ++i) argv.push_back(std::to_string(i));
  Child c = Child::exec(argv);
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());

  const json ev = wait_exec(c.pid(), token);
  ASSERT_FALSE(ev.is_null());
  SCOPED_TRACE(short_dump(ev));
  EXPECT_EQ(field(ev, "privwatch.exec.args_truncated")->get<bool>(), true);
  EXPECT_EQ(num(ev, "privwatch.exec.args_size"), static_cast<int64_t>(argv_bytes(argv)));
  const auto args = field(ev, "process.args")->get<std::vector<std::string>>();
  ASSERT_EQ(args.size(), 64u) << "capture.max_args is 64 by default";
  EXPECT_EQ(args, std::vector<std::string>(argv.begin(), argv.begin() + 64));
  EXPECT_EQ(num(ev, "process.args_count"), 64);
}

TEST_F(ProcessEventsTest, ExitCodeIsReported) {
  const std::string token = unique_token();
  const std::vector<std::string> argv = {"/bin/sh", "-c", "exit 7", token};
  Child c = Child::exec(argv);
  ASSERT_EQ(describe_status(c.wait()), "exit 7");
  ASSERT_TRUE(c.info_at_exit());
  const ProcInfo& info = *c.info_at_exit();

  const json ev = wait_exec(c.pid(), token);
  ASSERT_FALSE(ev.is_null());
  ExpectedProcess e = expected_child(info);
  e.executable = canonical("/bin/sh");
  e.name = "sh";
  expect_process(ev, e);
  EXPECT_EQ(field(ev, "process.args")->get<std::vector<std::string>>(), argv);

  const json exit_ev = wait_exit(c.pid(), info.start_ticks);
  ASSERT_FALSE(exit_ev.is_null());
  expect_process(exit_ev, e);
  SCOPED_TRACE(short_dump(exit_ev));
  EXPECT_EQ(num(exit_ev, "process.exit_code"), 7);
  EXPECT_EQ(num(exit_ev, "privwatch.exit.status"), 7);
  EXPECT_EQ(num(exit_ev, "privwatch.exit.signal"), 0);
  EXPECT_FALSE(has(exit_ev, "privwatch.exit.signal_name"));
}

TEST_F(ProcessEventsTest, DeathBySignalIsReported) {
  const std::string token = unique_token();
  // sh (tagged with the token) replaces itself with sleep: same pid, second exec.
  Child c = Child::exec({"/bin/sh", "-c", "exec /bin/sleep 1000", token});
  const json sh_ev = wait_exec(c.pid(), token);
  ASSERT_FALSE(sh_ev.is_null());
  auto sleep_ev = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exec" && num(e, "process.pid") == c.pid() &&
               str(e, "process.name") == "sleep";
      },
      fmt::format("\"pid\":{},", c.pid()));
  ASSERT_TRUE(sleep_ev) << "no exec of sleep by pid " << c.pid();
  const auto alive = read_proc(c.pid());
  ASSERT_TRUE(alive);
  ExpectedProcess e = expected_child(*alive);
  e.executable = canonical("/bin/sleep");
  e.name = "sleep";
  expect_process(*sleep_ev, e);
  EXPECT_EQ(field(*sleep_ev, "process.args")->get<std::vector<std::string>>(),
            (std::vector<std::string>{"/bin/sleep", "1000"}));

  c.kill(SIGKILL);
  ASSERT_EQ(describe_status(c.wait()), "signal 9");
  const json exit_ev = wait_exit(c.pid(), alive->start_ticks);
  ASSERT_FALSE(exit_ev.is_null());
  expect_process(exit_ev, e);
  SCOPED_TRACE(short_dump(exit_ev));
  EXPECT_EQ(num(exit_ev, "privwatch.exit.signal"), 9);
  EXPECT_EQ(str(exit_ev, "privwatch.exit.signal_name"), "SIGKILL");
  EXPECT_EQ(num(exit_ev, "privwatch.exit.status"), 0);
  EXPECT_EQ(num(exit_ev, "process.exit_code"), 128 + 9);
  EXPECT_EQ(field(exit_ev, "privwatch.exit.core_dumped")->get<bool>(), false);
}

TEST_F(ProcessEventsTest, FailedExecIsReportedWithErrno) {
  TempDir dir;
  const std::string token = unique_token();
  const std::string missing = dir / ("missing-" + token);
  Child c = Child::run(
      [&]() -> int {
        char* const argv[] = {const_cast<char*>(missing.c_str()), const_cast<char*>(token.c_str()),
                              nullptr};
        char* const envp[] = {nullptr};
        ::syscall(SYS_execve, missing.c_str(), argv, envp);
        return errno;
      },
      {.cwd = dir.path()});
  ASSERT_EQ(describe_status(c.wait()), fmt::format("exit {}", ENOENT));
  ASSERT_TRUE(c.info_at_exit());

  auto ev = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exec" && num(e, "process.pid") == c.pid() &&
               str(e, "privwatch.exec.filename") == missing;
      },
      token);
  ASSERT_TRUE(ev) << "no failed exec event for " << missing;
  // The image did not change: the process is still the forked test binary.
  expect_process(*ev, expected_child(*c.info_at_exit()));
  SCOPED_TRACE(short_dump(*ev));
  expect_categorized(*ev, "process", {"start"});
  EXPECT_EQ(str(*ev, "event.action"), "exec");
  EXPECT_EQ(str(*ev, "event.outcome"), "failure");
  EXPECT_EQ(str(*ev, "error.code"), "ENOENT");
  EXPECT_EQ(str(*ev, "error.message"), std::strerror(ENOENT));
  EXPECT_EQ(field(*ev, "privwatch.exec.failed")->get<bool>(), true);
  EXPECT_EQ(num(*ev, "privwatch.syscall"), SYS_execve);
  EXPECT_EQ(str(*ev, "process.working_directory"), dir.path());
}

TEST_F(ProcessEventsTest, ExecFromMemfdIsFlagged) {
  const std::string token = unique_token();
  const std::string memfd_name = "pwmemfd";
  // sh from a memfd waits on stdin so that /proc/<pid>/exe can be read while it runs.
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  Child c = Child::exec(
      {helper_path("fexec_helper"), "memfd", "/bin/sh", memfd_name, "sh", "-c", "read x", token},
      {.stdin_fd = in[0]});
  ::close(in[0]);
  auto ev = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exec" && num(e, "process.pid") == c.pid() &&
               str(e, "process.name") != "fexec_helper";
      },
      token);
  const auto alive = read_proc(c.pid());
  ASSERT_EQ(::write(in[1], "\n", 1), 1);  // lets `read` return
  ::close(in[1]);
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(ev) << "no exec of the memfd image by pid " << c.pid();
  ASSERT_TRUE(alive);

  ExpectedProcess e = expected_child(*alive);
  e.executable.reset();  // checked below against /proc/<pid>/exe
  expect_process(*ev, e);
  SCOPED_TRACE(short_dump(*ev));
  EXPECT_EQ(field(*ev, "privwatch.exec.memfd")->get<bool>(), true);
  EXPECT_EQ(field(*ev, "privwatch.exec.setuid")->get<bool>(), false);
  EXPECT_EQ(field(*ev, "process.args")->get<std::vector<std::string>>(),
            (std::vector<std::string>{"sh", "-c", "read x", token}));
  EXPECT_EQ(str(*ev, "event.outcome"), "success");
  // /proc says "/memfd:pwmemfd (deleted)": the agent must at least name the memfd.
  EXPECT_NE(str(*ev, "process.executable").find("memfd:" + memfd_name), std::string::npos)
      << "/proc/" << c.pid() << "/exe was " << alive->exe;
}

TEST_F(ProcessEventsTest, ExecOfADeletedFileIsFlagged) {
  TempDir dir;
  const std::string token = unique_token();
  const std::string copy = dir / ("pwdel-" + token);
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  Child c = Child::exec(
      {helper_path("fexec_helper"), "deleted", "/bin/sh", copy, "sh", "-c", "read x", token},
      {.stdin_fd = in[0]});
  ::close(in[0]);
  auto ev = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exec" && num(e, "process.pid") == c.pid() &&
               str(e, "process.name") != "fexec_helper";
      },
      token);
  const auto alive = read_proc(c.pid());
  ASSERT_EQ(::write(in[1], "\n", 1), 1);
  ::close(in[1]);
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(ev) << "no exec of the deleted file by pid " << c.pid();
  ASSERT_TRUE(alive);
  EXPECT_EQ(::access(copy.c_str(), F_OK), -1) << "the helper must have unlinked " << copy;

  ExpectedProcess e = expected_child(*alive);
  e.executable = copy;  // the name it had; /proc shows "<copy> (deleted)"
  expect_process(*ev, e);
  SCOPED_TRACE(short_dump(*ev));
  EXPECT_EQ(alive->exe, copy + " (deleted)");
  EXPECT_EQ(field(*ev, "privwatch.exec.deleted")->get<bool>(), true);
  EXPECT_EQ(field(*ev, "privwatch.exec.memfd")->get<bool>(), false);
  EXPECT_EQ(field(*ev, "process.args")->get<std::vector<std::string>>(),
            (std::vector<std::string>{"sh", "-c", "read x", token}));
}

}  // namespace
}  // namespace privwatch::itest
