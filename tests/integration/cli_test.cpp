// What an operator sees when the agent cannot or must not start, and `privwatch doctor`.
#include <fmt/format.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

TEST(CliTest, InvalidConfigIsRefusedNamingFileAndLine) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir;
  const std::string token = unique_token();
  const std::string cfg = dir / ("pwbad-" + token + ".yaml");
  const std::string key = "ring_bufer_mb_" + token;  // unknown key on line 4
  write_file(cfg, fmt::format("log_level: info\n"
                              "capture:\n"
                              "  max_args: 64\n"
                              "  {}: 16\n",
                              key));
  const std::string out = dir / "events.jsonl";
  Child c = Child::exec({agent_binary(), "agent", "--config", cfg, "--output", out},
                        {.capture_stdout = true, .stderr_to_stdout = true});
  const int status = c.wait(60s);
  EXPECT_EQ(describe_status(status), "exit 2") << c.stdout_text();
  EXPECT_NE(c.stdout_text().find(cfg + ":4:"), std::string::npos)
      << "the message must name the file and line: " << c.stdout_text();
  EXPECT_NE(c.stdout_text().find(key), std::string::npos) << c.stdout_text();
  EXPECT_NE(::access(out.c_str(), F_OK), 0) << "nothing may be captured with a bad config";
}

TEST(CliTest, AgentRunAsAnUnprivilegedUserRefusesAndSaysItNeedsRoot) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir;  // 0755: readable by nobody
  const std::string cfg = dir / "privwatch.yaml";
  write_file(cfg, "log_level: info\n", 0644);
  const std::string out_dir = dir / "out";
  ASSERT_EQ(::mkdir(out_dir.c_str(), 0777), 0);
  ::chmod(out_dir.c_str(), 0777);
  const std::string out = out_dir + "/events.jsonl";
  const std::vector<std::string> argv = {agent_binary(), "agent", "--config", cfg, "--output", out};
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  // Like `setpriv --reuid=65534 --regid=65534 --clear-groups privwatch agent ...`.
  Child c = Child::run(
      [&] {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0) {
          return 125;
        }
        ::execv(av[0], av.data());
        return 127;
      },
      {.capture_stdout = true, .stderr_to_stdout = true});
  const int status = c.wait(60s);
  ASSERT_NE(describe_status(status), "timeout") << c.stdout_text();
  ASSERT_TRUE(WIFEXITED(status)) << describe_status(status) << ": " << c.stdout_text();
  EXPECT_NE(WEXITSTATUS(status), 0) << c.stdout_text();
  EXPECT_NE(WEXITSTATUS(status), 125) << "could not drop privileges";
  EXPECT_NE(WEXITSTATUS(status), 127) << "could not run " << argv[0] << " as nobody";
  EXPECT_NE(c.stdout_text().find("root"), std::string::npos)
      << "the refusal must say that root is needed: " << c.stdout_text();
}

TEST(CliTest, DoctorPassesHereAndChecksTheTracepoints) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  Child c = Child::exec({agent_binary(), "doctor"}, {.capture_stdout = true});
  ASSERT_EQ(describe_status(c.wait(60s)), "exit 0") << c.stdout_text();
  const std::string out = c.stdout_text();
  // The tracepoints every privwatch program family hangs off.
  for (const char* tp :
       {"sched_process_exec", "sched_process_fork", "sched_process_exit",
        "syscalls:sys_exit_execve", "syscalls:sys_exit_openat", "syscalls:sys_exit_connect",
        "syscalls:sys_exit_setresuid", "syscalls:sys_enter_setresuid"}) {
    bool found = false;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find(fmt::format("tracepoint {} ", tp)) != std::string::npos) {
        found = true;
        EXPECT_EQ(line.rfind("ok", 0), 0u) << line;
        EXPECT_NE(line.find("present"), std::string::npos) << line;
      }
    }
    EXPECT_TRUE(found) << "doctor does not check tracepoint " << tp << ":\n" << out;
  }
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    EXPECT_NE(line.rfind("FAIL", 0), 0u) << "exit 0 with a failed check: " << line;
  }
  EXPECT_NE(out.find("privwatch can run on this host"), std::string::npos) << out;
}

}  // namespace
}  // namespace privwatch::itest
