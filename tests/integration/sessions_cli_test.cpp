// privwatch sessions / privwatch session show end to end: the real agent with the store, a
// real SSH login on a loopback sshd, sudo -i and commands in the root shell (one exiting with
// 3), then the CLI over the database the agent wrote.
#include <fmt/format.h>

#include <functional>

#include "agent_fixture.hpp"
#include "sshd_fixture.hpp"

namespace privwatch::itest {
namespace {

struct Cli {
  int status = -1;
  std::string out;
};

Cli privwatch(std::vector<std::string> args) {
  args.insert(args.begin(), agent_binary());
  Child c = Child::exec(args, {.capture_stdout = true, .stderr_to_stdout = true});
  Cli r;
  r.status = c.wait(120s);
  r.out = c.stdout_text();
  return r;
}

// Depth-first search of the process tree; fills `path` with the nodes from the root to the
// match.
bool find_path(const json& nodes, const std::function<bool(const json&)>& pred,
               std::vector<const json*>& path) {
  for (const auto& n : nodes) {
    path.push_back(&n);
    if (pred(n)) return true;
    if (n.contains("children") && find_path(n["children"], pred, path)) return true;
    path.pop_back();
  }
  return false;
}

bool exec_has_arg(const json& node, const std::string& token) {
  for (const auto& e : node.value("execs", json::array())) {
    for (const auto& a : e.value("args", json::array())) {
      if (a.is_string() && a.get<std::string>().find(token) != std::string::npos) return true;
    }
  }
  return false;
}

TEST(SessionsCliTest, SshLoginSudoAndCommandsThroughTheStore) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  const std::string user = "pwsesscli";
  TempDir dir("pwsesscli");
  ssh::TestUsers users({user});
  ASSERT_TRUE(users.ok()) << "could not create the test user";
  const std::string sudoers = "/etc/sudoers.d/privwatch-sessions-cli-test";
  write_file(sudoers, user + " ALL=(ALL:ALL) NOPASSWD: ALL\n", 0440);
  struct Cleanup {
    std::string path;
    ~Cleanup() { std::remove(path.c_str()); }
  } cleanup{sudoers};
  ssh::Sshd server(dir.path(), {user});
  ASSERT_TRUE(server.ready()) << "sshd did not start";

  // The whole login is monitored (fork and exit events of the user's processes too).
  std::string error;
  auto agent = Agent::start(
      "store:\n  path: " + dir / "store/privwatch.db" + "\n  key_path: " + dir / "store/store.key" +
          "\n  commit_interval_ms: 50\nmonitor:\n  loginuids: [" + user + "]\n",
      &error);
  ASSERT_NE(agent, nullptr) << error;
  const std::string db = dir / "store/privwatch.db";

  const std::string token = unique_token();
  {
    ssh::Sshd::Login login(server, user);
    login.type(
        fmt::format("echo {0}-start\n"
                    "sudo -i\n"
                    "/bin/echo {0}-as-root\n"
                    "/bin/sh -c 'exit 3' {0}-fails\n"
                    "exit\n",
                    token));
    auto root_exit = agent->wait_for(
        [&](const json& e) {
          return str(e, "privwatch.kind") == "session" && str(e, "session.type") == "sudo" &&
                 str(e, "privwatch.human") == user && !e.at("session").value("active", true);
        },
        user, 30s);
    ASSERT_TRUE(root_exit) << "the sudo -i session never ended";
    login.type("exit 0\n");
    const auto [status, out] = login.finish();
    ASSERT_EQ(describe_status(status), "exit 0") << out;
  }
  auto login_end = agent->wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "session" && str(e, "session.type") == "sshd" &&
               str(e, "privwatch.human") == user && !e.at("session").value("active", true);
      },
      user, 30s);
  ASSERT_TRUE(login_end) << "the login session never ended";
  const std::string login_id = str(*login_end, "session.id");
  const StopResult stopped = agent->stop();
  ASSERT_EQ(describe_status(stopped.status), "exit 0") << stopped.stderr_text;
  EXPECT_EQ(stopped.stats["store"]["dropped_queue"], 0);

  // privwatch sessions --user: the login and its nested root session, both the user's.
  Cli r = privwatch({"sessions", "--db", db, "--user", user, "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  const json list = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(list.is_discarded()) << r.out;
  const json* login = nullptr;
  const json* nested = nullptr;
  for (const auto& s : list["sessions"]) {
    EXPECT_EQ(s.value("human", ""), user) << s.dump();
    if (s["id"] == login_id) login = &s;
    if (s.value("parent_id", "") == login_id && s["type"] == "sudo") nested = &s;
  }
  ASSERT_NE(login, nullptr) << r.out;
  ASSERT_NE(nested, nullptr) << r.out;
  EXPECT_EQ((*login)["type"], "sshd");
  EXPECT_EQ((*login)["active"], false);
  EXPECT_EQ((*login)["client"]["ip"], "127.0.0.1");
  EXPECT_EQ((*login)["escalated_to"], json({"root"})) << login->dump();
  EXPECT_GE((*login)["counts"]["commands"].get<int>(), 2);  // the shell, sudo, echo...
  EXPECT_EQ((*nested)["user"], "root");
  EXPECT_GE((*nested)["counts"]["commands"].get<int>(), 3);  // -bash, echo, sh

  r = privwatch({"sessions", "--db", db, "--user", user});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(login_id), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(user + "→root"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from 127.0.0.1:"), std::string::npos) << r.out;

  // privwatch session show PREFIX --json.
  const std::string prefix = login_id.substr(0, login_id.size() - 2);
  r = privwatch({"session", "show", "--db", db, prefix, "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  const json d = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(d.is_discarded()) << r.out;
  EXPECT_EQ(d["session"]["id"], login_id);
  EXPECT_EQ(d["session"]["type"], "sshd");
  EXPECT_EQ(d["session"]["human"], user);
  EXPECT_EQ(d["session"]["user"], user);
  EXPECT_NE(d["session"]["entry_leader"].value("executable", "").find("sshd"), std::string::npos)
      << d["session"].dump();
  EXPECT_GT(d["session"]["entry_leader"]["pid"].get<int>(), 0);
  EXPECT_EQ(d["session"]["client"]["ip"], "127.0.0.1");
  EXPECT_GT(d["session"]["client"]["port"].get<int>(), 0);
  EXPECT_EQ(d["truncated"], false);

  // The nested sudo session: root, still the user's.
  std::string sudo_id;
  for (const auto& n : d["nested_sessions"]) {
    if (n["type"] == "sudo") sudo_id = n["id"];
  }
  ASSERT_FALSE(sudo_id.empty()) << d["nested_sessions"].dump();

  // The escalation: user → root by sudo, in the login session, running the root shell.
  const json* esc = nullptr;
  for (const auto& e : d["escalations"]) {
    if (e["method"] == "sudo" && e["outcome"] == "success") esc = &e;
  }
  ASSERT_NE(esc, nullptr) << d["escalations"].dump();
  EXPECT_EQ((*esc)["from_user"], user);
  EXPECT_EQ((*esc)["to_user"], "root");
  EXPECT_EQ((*esc)["session_id"], login_id);
  EXPECT_EQ((*esc)["human"], user);

  // The commands, their exit codes and where they sit in the tree.
  std::vector<const json*> path;
  ASSERT_TRUE(find_path(
      d["process_tree"], [&](const json& n) { return exec_has_arg(n, token + "-fails"); }, path))
      << r.out;
  const json& fails = *path.back();
  ASSERT_TRUE(fails["exit"].is_object()) << fails.dump();
  EXPECT_EQ(fails["exit"]["code"], 3) << fails.dump();
  EXPECT_EQ(fails["user"], "root");
  EXPECT_EQ(fails["human"], user);  // the human after the escalation
  EXPECT_EQ(fails["session_id"], sudo_id);
  EXPECT_EQ(fails["execs"][0]["escalated"], true);
  EXPECT_EQ(fails["execs"][0]["outcome"], "success");
  // Its ancestors: the root shell of the sudo session (its entry leader), sudo run by the
  // user in the login session, and the login's entry leader at the top.
  bool saw_sudo = false, saw_root_shell = false;
  for (const json* n : path) {
    for (const auto& e : (*n)["execs"]) {
      if (e.value("executable", "").ends_with("/sudo")) {
        saw_sudo = true;
        EXPECT_EQ((*n)["session_id"], login_id);
      }
    }
    if ((*n)["session_id"] == sudo_id && (*n)["entry_leader"] == true) saw_root_shell = true;
  }
  EXPECT_TRUE(saw_sudo) << r.out;
  EXPECT_TRUE(saw_root_shell) << r.out;
  EXPECT_EQ((*path.front())["entry_leader"], true) << path.front()->dump();
  EXPECT_EQ((*path.front())["session_id"], login_id);

  path.clear();
  ASSERT_TRUE(find_path(
      d["process_tree"], [&](const json& n) { return exec_has_arg(n, token + "-as-root"); }, path));
  EXPECT_EQ((*path.back())["exit"]["code"], 0) << path.back()->dump();
  EXPECT_EQ((*path.back())["human"], user);

  // The same as text for a terminal.
  r = privwatch({"session", "show", "--db", db, login_id});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("exit 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(user + " → root  success"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[sudo session " + sudo_id + "]"), std::string::npos) << r.out;

  // An unknown id: a clear error and a non-zero exit.
  r = privwatch({"session", "show", "--db", db, "no-such-session"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("no session 'no-such-session'"), std::string::npos) << r.out;
}

// A login still active when the agent stops, that ends while no agent runs, is closed by the
// next agent at its start: not active any more, end not observed, incomplete.
TEST(SessionsCliTest, SessionLeftActiveWhenTheAgentStoppedIsClosedAtTheNextStart) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  const std::string user = "pwsessgone";
  TempDir dir("pwsessgone");
  ssh::TestUsers users({user});
  ASSERT_TRUE(users.ok()) << "could not create the test user";
  ssh::Sshd server(dir.path(), {user});
  ASSERT_TRUE(server.ready()) << "sshd did not start";
  const std::string db = dir / "store/privwatch.db";
  const std::string config = "store:\n  path: " + db + "\n  key_path: " + dir / "store/store.key" +
                             "\n  commit_interval_ms: 50\nmonitor:\n  loginuids: [" + user + "]\n";
  std::string error;
  auto agent = Agent::start(config, &error);
  ASSERT_NE(agent, nullptr) << error;

  ssh::Sshd::Login login(server, user);
  login.type("echo started\n");
  auto start = agent->wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "session" && str(e, "session.type") == "sshd" &&
               str(e, "privwatch.human") == user;
      },
      user, 30s);
  ASSERT_TRUE(start) << "no session record for the login";
  const std::string id = str(*start, "session.id");
  StopResult stopped = agent->stop();
  ASSERT_EQ(describe_status(stopped.status), "exit 0") << stopped.stderr_text;

  Cli r = privwatch({"sessions", "--db", db, "--user", user, "--active", "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(id), std::string::npos) << "the login is active in the store\n" << r.out;

  // The login ends while no agent runs; the next agent closes it.
  login.type("exit 0\n");
  const auto [status, out] = login.finish();
  ASSERT_EQ(describe_status(status), "exit 0") << out;
  agent = Agent::start(config, &error);
  ASSERT_NE(agent, nullptr) << error;
  stopped = agent->stop();
  ASSERT_EQ(describe_status(stopped.status), "exit 0") << stopped.stderr_text;
  EXPECT_NE(stopped.stderr_text.find("ended while privwatch was not running"), std::string::npos)
      << stopped.stderr_text;

  r = privwatch({"sessions", "--db", db, "--user", user, "--active", "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find(id), std::string::npos) << "still active after the restart\n" << r.out;
  r = privwatch({"session", "show", "--db", db, id, "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  const json d = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(d.is_discarded()) << r.out;
  EXPECT_EQ(d["session"]["active"], false) << r.out;
  EXPECT_EQ(d["session"]["end_observed"], false) << r.out;
  EXPECT_EQ(d["session"]["incomplete"], true) << r.out;
  EXPECT_EQ(d["session"]["client"]["ip"], "127.0.0.1") << "the earlier versions' facts are kept";
  r = privwatch({"session", "show", "--db", db, id});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("(ended while privwatch was not running)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace privwatch::itest
