// Processes older than the agent: the agent learns them from /proc when it starts, so that
// their later activity (and their children's) is attributed as well as for new processes.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

TEST(SeedingTest, ProcessStartedBeforeTheAgentIsAttributedFromProc) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir;
  const std::string token = unique_token();
  const std::string fifo = dir / ("fifo-" + token);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);

  // The shell blocks opening the FIFO; `/bin/true` is not its last command, so the shell
  // forks a child for it instead of exec'ing it in place.
  const std::string script = fmt::format("read x < {}; /bin/true {}; exit 0", fifo, token);
  Child sh = Child::exec({"/bin/sh", "-c", script});
  const std::string sh_exe = canonical("/bin/sh");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::optional<ProcInfo> sh_info;
  for (;;) {  // the shell must be running (exec done) before the agent scans /proc
    sh_info = read_proc(sh.pid());
    if (sh_info && sh_info->exe == sh_exe && sh_info->comm == "sh") break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the shell did not start";
    std::this_thread::sleep_for(5ms);
  }

  std::string error;
  auto agent = Agent::start({}, &error);
  ASSERT_NE(agent, nullptr) << error;
  const auto still = read_proc(sh.pid());
  ASSERT_TRUE(still && still->start_ticks == sh_info->start_ticks) << "the shell is gone";

  // Release the shell.
  const int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(w, 0) << std::strerror(errno);
  ASSERT_EQ(::write(w, "go\n", 3), 3);
  ::close(w);
  ASSERT_EQ(describe_status(sh.wait()), "exit 0");

  // The child the old shell forked: its parent is known only from the /proc scan.
  auto exec_ev = agent->wait_for(
      [&](const json& e) {
        const json* args = field(e, "process.args");
        return str(e, "privwatch.kind") == "exec" && num(e, "process.parent.pid") == sh.pid() &&
               args != nullptr && *args == json(std::vector<std::string>{"/bin/true", token});
      },
      token);
  ASSERT_TRUE(exec_ev) << "no exec of /bin/true " << token;
  {
    SCOPED_TRACE(short_dump(*exec_ev));
    EXPECT_EQ(str(*exec_ev, "process.executable"), canonical("/bin/true"));
    EXPECT_EQ(str(*exec_ev, "process.name"), "true");
    EXPECT_EQ(str(*exec_ev, "process.parent.entity_id"),
              fmt::format("{}-{}", sh.pid(), sh_info->start_ticks));
    EXPECT_EQ(str(*exec_ev, "process.parent.executable"), sh_exe)
        << "the parent's image comes from /proc/<pid>/exe at agent start";
    EXPECT_EQ(str(*exec_ev, "process.parent.name"), "sh");
    ASSERT_TRUE(has(*exec_ev, "process.parent.args"));
    EXPECT_EQ(field(*exec_ev, "process.parent.args")->get<std::vector<std::string>>(),
              sh_info->cmdline);
  }
  const auto true_pid = static_cast<uint32_t>(num(*exec_ev, "process.pid"));

  // The shell's fork of that child (root: monitored) names the same process.
  auto fork_ev = agent->wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "fork" && num(e, "process.pid") == sh.pid() &&
               num(e, "privwatch.fork.child_pid") == true_pid;
      },
      fmt::format("\"pid\":{},", sh.pid()));
  ASSERT_TRUE(fork_ev) << "no fork event from the shell";
  EXPECT_EQ(str(*fork_ev, "privwatch.fork.child_entity_id"), str(*exec_ev, "process.entity_id"));
  ExpectedProcess shell = expected_process(*sh_info, self_info());
  shell.executable = sh_exe;
  shell.monitored = true;
  expect_process(*fork_ev, shell);

  // The shell's own open of the FIFO, blocked since before the agent started: attributed
  // from the /proc scan (image, parent) too.
  auto open_ev = agent->wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "file" && num(e, "process.pid") == sh.pid() &&
               str(e, "file.path") == fifo;
      },
      token);
  ASSERT_TRUE(open_ev) << "no open event of " << fifo;
  expect_process(*open_ev, shell);

  // And its exit.
  auto exit_ev = agent->wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exit" && num(e, "process.pid") == sh.pid() &&
               str(e, "process.entity_id") == fmt::format("{}-{}", sh.pid(), sh_info->start_ticks);
      },
      fmt::format("\"pid\":{},", sh.pid()));
  ASSERT_TRUE(exit_ev) << "no exit event of the shell";
  expect_process(*exit_ev, shell);
  EXPECT_EQ(num(*exit_ev, "process.exit_code"), 0);

  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

}  // namespace
}  // namespace privwatch::itest
