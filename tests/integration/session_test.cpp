// Sessions and escalations end to end: a real OpenSSH server on a loopback port (started by the
// test with its own host key, config and test users), real logins over ssh with a pty, sudo -i,
// su, a wrong sudo password and a tmux pane — asserted in the agent's session, escalation and
// event records.
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "agent_fixture.hpp"
#include "sshd_fixture.hpp"

namespace privwatch::itest {
namespace {

using ssh::run_cmd;
using ssh::Sshd;
using ssh::TestUsers;

std::string password_of(const std::string& user) { return "pw-" + user + "-secret"; }

class SessionTest : public AgentSuite<SessionTest> {
 protected:
  static void SetUpTestSuite() {
    AgentSuite<SessionTest>::SetUpTestSuite();
    if (!kernel_skip_reason().empty()) return;
    users_ = std::make_unique<TestUsers>(std::vector<std::string>{"pwalice", "pwbob"}, password_of);
    write_file("/etc/sudoers.d/privwatch-test",
               "pwalice ALL=(ALL:ALL) NOPASSWD: ALL\npwbob ALL=(ALL:ALL) ALL\n", 0440);
    sshd_ = std::make_unique<Sshd>(suite_dir(), std::vector<std::string>{"pwalice", "pwbob"});
  }
  static void TearDownTestSuite() {
    sshd_.reset();
    std::remove("/etc/sudoers.d/privwatch-test");
    run_cmd("tmux -L pwtest kill-server >/dev/null 2>&1");
    users_.reset();
    AgentSuite<SessionTest>::TearDownTestSuite();
  }
  void SetUp() override {
    AgentSuite<SessionTest>::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(users_ && users_->ok()) << "could not create the test users";
    ASSERT_TRUE(sshd_ && sshd_->ready()) << "sshd did not start";
  }

  // The latest version of session `id` seen so far.
  static std::optional<json> session_record(const std::string& id) {
    std::optional<json> last;
    for (const auto& s : agent().matching(
             [&](const json& e) {
               return str(e, "privwatch.kind") == "session" && str(e, "session.id") == id;
             },
             id)) {
      last = s;
    }
    return last;
  }

  static inline std::unique_ptr<TestUsers> users_;
  static inline std::unique_ptr<Sshd> sshd_;
};

Predicate exec_with_arg(const std::string& token) {
  return [token](const json& e) {
    if (str(e, "event.action") != "exec") return false;
    const json* a = field(e, "process.args");
    if (a == nullptr) return false;
    for (const auto& x : *a) {
      if (x.is_string() && x.get<std::string>().find(token) != std::string::npos) return true;
    }
    return false;
  };
}

TEST_F(SessionTest, SshLoginSudoShellScriptAndSuKeepTheHuman) {
  const std::string token = unique_token();
  const std::string script = suite_dir() + "/" + token + ".sh";
  write_file(script, "#!/bin/sh\nid -u >/dev/null\n", 0755);
  Sshd::Login alice(*sshd_, "pwalice");
  alice.type(
      fmt::format("echo {0}-start\n"
                  "sudo -i\n"
                  "{1} {0}-as-root\n"
                  "su - pwbob -c 'echo {0}-as-bob'\n"
                  "exit\n",
                  token, script));
  // Only once the root shell is gone does alice's shell read again.
  auto root_exit = agent().wait_for(
      [](const json& e) {
        return str(e, "privwatch.kind") == "session" && str(e, "session.type") == "sudo" &&
               str(e, "privwatch.human") == "pwalice" && !e.at("session").value("active", true);
      },
      "pwalice", 30s);
  ASSERT_TRUE(root_exit) << "the sudo -i session never ended";
  alice.type("exit 0\n");
  const auto [status, out] = alice.finish();
  ASSERT_EQ(describe_status(status), "exit 0") << out;

  // The script ran as root, but it is alice's: her login session's nested sudo session.
  auto ev = agent().wait_for(exec_with_arg(token + "-as-root"), token);
  ASSERT_TRUE(ev) << "no exec event for the script";
  EXPECT_EQ(str(*ev, "user.name"), "root");
  EXPECT_EQ(str(*ev, "privwatch.human"), "pwalice") << short_dump(*ev);
  EXPECT_EQ(ev->at("privwatch").value("escalated", false), true);
  EXPECT_EQ(str(*ev, "privwatch.escalation"), "sudo");
  EXPECT_EQ(str(*ev, "privwatch.session.type"), "sudo");
  const std::string sudo_session = str(*ev, "privwatch.session.id");
  const std::string login_session = str(*ev, "privwatch.session.parent_id");
  ASSERT_FALSE(sudo_session.empty());
  ASSERT_FALSE(login_session.empty());
  EXPECT_EQ(str(*ev, "process.entry_leader.entry_meta.type"), "sudo");

  // The login: sshd entry leader, client address, alice as user and human, interactive.
  auto login = session_record(login_session);
  ASSERT_TRUE(login) << "no session record for " << login_session;
  EXPECT_EQ(str(*login, "session.type"), "sshd") << short_dump(*login);
  EXPECT_EQ(str(*login, "process.entry_leader.entry_meta.source.ip"), "127.0.0.1");
  EXPECT_GT(num(*login, "process.entry_leader.entry_meta.source.port"), 0);
  EXPECT_EQ(str(*login, "privwatch.human"), "pwalice");
  EXPECT_EQ(str(*login, "process.entry_leader.user.name"), "pwalice");
  EXPECT_EQ(login->at("session").value("interactive", false), true);
  EXPECT_GT(num(*login, "process.audit.login_uid"), 0);

  // The sudo session: nested in the login, runs as root, still alice's.
  auto nested = session_record(sudo_session);
  ASSERT_TRUE(nested);
  EXPECT_EQ(str(*nested, "session.parent_id"), login_session);
  EXPECT_EQ(str(*nested, "process.entry_leader.user.name"), "root");
  EXPECT_EQ(str(*nested, "privwatch.human"), "pwalice");

  // Escalations: alice → root by sudo (the shell), root → pwbob by su (the echo's shell).
  auto esc = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "escalation" &&
               str(e, "privwatch.escalation.method") == "sudo" &&
               str(e, "session.id") == login_session;
      },
      login_session);
  ASSERT_TRUE(esc) << "no sudo escalation record";
  EXPECT_EQ(str(*esc, "event.outcome"), "success");
  EXPECT_EQ(str(*esc, "user.name"), "pwalice");
  EXPECT_EQ(str(*esc, "user.target.name"), "root");
  EXPECT_EQ(str(*esc, "privwatch.human"), "pwalice");
  auto su = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "escalation" &&
               str(e, "privwatch.escalation.method") == "su" &&
               str(e, "user.target.name") == "pwbob";
      },
      "pwbob");
  ASSERT_TRUE(su) << "no su escalation record";
  EXPECT_EQ(str(*su, "user.name"), "root");
  EXPECT_EQ(str(*su, "privwatch.human"), "pwalice");
  EXPECT_EQ(str(*su, "session.id"), sudo_session);

  // The echo as pwbob: human is still alice.
  auto bob = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exec" && str(e, "user.name") == "pwbob" &&
               str(e, "process.command_line").find(token + "-as-bob") != std::string::npos;
      },
      token + "-as-bob");
  if (bob) {  // `su -c 'echo …'`: bash runs echo as a builtin; the shell exec carries it
    EXPECT_EQ(str(*bob, "privwatch.human"), "pwalice");
  } else {
    auto sh = agent().wait_for(exec_with_arg(token + "-as-bob"), token);
    ASSERT_TRUE(sh);
    EXPECT_EQ(str(*sh, "privwatch.human"), "pwalice");
    EXPECT_EQ(str(*sh, "user.name"), "pwbob");
  }

  // The login ends when alice logs out.
  const auto deadline = std::chrono::steady_clock::now() + kEventTimeout;
  std::optional<json> ended;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    ended = session_record(login_session);
    if (ended && ended->at("session").value("active", true) == false) break;
  }
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->at("session").value("active", true), false) << short_dump(*ended);
  EXPECT_TRUE(has(*ended, "session.end"));
}

TEST_F(SessionTest, WrongSudoPasswordIsAFailedEscalation) {
  const std::string token = unique_token();
  const auto [status, out] = sshd_->login(
      "pwbob", fmt::format("echo not-the-password | sudo -S -k -p '' true {}\nexit 0\n", token));
  ASSERT_EQ(describe_status(status), "exit 0") << out;
  auto esc = agent().wait_for(
      [&](const json& e) {
        if (str(e, "privwatch.kind") != "escalation") return false;
        const json* a = field(e, "privwatch.escalation.tool.args");
        return a != nullptr && a->dump().find(token) != std::string::npos;
      },
      token, 20s);  // PAM delays a failed authentication by ~2 s
  ASSERT_TRUE(esc) << "no escalation record for the failed sudo";
  EXPECT_EQ(str(*esc, "event.outcome"), "failure");
  EXPECT_EQ(str(*esc, "privwatch.escalation.method"), "sudo");
  EXPECT_EQ(str(*esc, "user.name"), "pwbob");
  EXPECT_EQ(str(*esc, "user.target.name"), "root");
  EXPECT_EQ(num(*esc, "privwatch.escalation.exit_status"), 1);
  EXPECT_EQ(str(*esc, "privwatch.human"), "pwbob");
}

TEST_F(SessionTest, TmuxPaneIsANestedTerminalSessionOfTheLogin) {
  const std::string token = unique_token();
  const auto [status, out] = sshd_->login(
      "pwalice", fmt::format("tmux -L pwtest new-session -d -s {0} 'bash --norc -i'\n"
                             "sleep 0.5\n"
                             "tmux -L pwtest send-keys -t {0} '/bin/echo {0}-in-pane' Enter\n"
                             "sleep 0.5\n"
                             "tmux -L pwtest kill-session -t {0}\n"
                             "exit 0\n",
                             token));
  ASSERT_EQ(describe_status(status), "exit 0") << out;
  auto ev = agent().wait_for(
      [&](const json& e) {
        return exec_with_arg(token + "-in-pane")(e) &&
               str(e, "process.executable").find("echo") != std::string::npos;
      },
      token);
  ASSERT_TRUE(ev) << "no exec event from the tmux pane";
  EXPECT_EQ(str(*ev, "privwatch.human"), "pwalice");
  EXPECT_EQ(str(*ev, "privwatch.session.type"), "terminal") << short_dump(*ev);
  const std::string parent = str(*ev, "privwatch.session.parent_id");
  ASSERT_FALSE(parent.empty());
  auto login = session_record(parent);
  ASSERT_TRUE(login);
  EXPECT_EQ(str(*login, "session.type"), "sshd");
  EXPECT_EQ(str(*login, "privwatch.human"), "pwalice");
}

}  // namespace
}  // namespace privwatch::itest
