// Session recording end to end: a real OpenSSH server on loopback, a real login over ssh -tt,
// typed commands with colours and backspaces, a window resize, and a sudo password prompt —
// then the recording read back from the store through `privwatch replay` (text, asciicast,
// search, command log), found by `privwatch search` in the screen text, followed live with
// `privwatch watch`, verified, and finally pruned by retention (verify still passes, replay
// says the recording was removed). The optional file export runs alongside and must agree.
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent_fixture.hpp"
#include "sshd_fixture.hpp"

namespace privwatch::itest {
namespace {

using ssh::Sshd;
using ssh::TestUsers;

std::string password_of(const std::string& user) { return "Pw-" + user + "-S3cret-tty"; }

class RecordingTest : public AgentSuite<RecordingTest> {
 public:
  static std::string config_body(const std::string& suite_dir) { return body(suite_dir, ""); }
  // The store lives in the suite directory: a second agent (retention) opens the same one.
  static std::string body(const std::string& suite_dir, const std::string& retention) {
    return fmt::format(
        "monitor:\n  all_logins: true\n"
        "recording:\n  enabled: true\n  files: true\n  dir: {0}/recordings\n  flush_ms: 100\n"
        "store:\n  path: {0}/store/privwatch.db\n  key_path: {0}/store/store.key\n"
        "  commit_interval_ms: 50\n{1}",
        suite_dir, retention);
  }

 protected:
  static void SetUpTestSuite() {
    AgentSuite<RecordingTest>::SetUpTestSuite();
    if (!kernel_skip_reason().empty()) return;
    users_ = std::make_unique<TestUsers>(std::vector<std::string>{"pwtty1", "pwtty2"}, password_of);
    // pwtty1 must type a password for sudo (the prompt the recording must not capture).
    write_file("/etc/sudoers.d/privwatch-tty-test",
               "pwtty1 ALL=(ALL:ALL) ALL\npwtty2 ALL=(ALL:ALL) NOPASSWD: ALL\n", 0440);
    sshd_ = std::make_unique<Sshd>(suite_dir(), std::vector<std::string>{"pwtty1", "pwtty2"});
  }
  static void TearDownTestSuite() {
    sshd_.reset();
    std::remove("/etc/sudoers.d/privwatch-tty-test");
    users_.reset();
    AgentSuite<RecordingTest>::TearDownTestSuite();
  }
  void SetUp() override {
    AgentSuite<RecordingTest>::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(users_ && users_->ok()) << "could not create the test users";
    ASSERT_TRUE(sshd_ && sshd_->ready()) << "sshd did not start";
  }

  static std::string rec_dir() { return suite_dir() + "/recordings"; }
  static std::string db() { return suite_dir() + "/store/privwatch.db"; }

  // privwatch ARGS... → {exit code, stdout (+ stderr when asked)}.
  static std::pair<int, std::string> run_privwatch(std::vector<std::string> args,
                                                   bool with_stderr = false) {
    args.insert(args.begin(), PRIVWATCH_BINARY);
    Child c = Child::exec(args, {.capture_stdout = true, .stderr_to_stdout = with_stderr});
    const int status = c.wait(60s);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, c.stdout_text()};
  }
  // privwatch replay from the store (store.path of the agent's configuration).
  static std::pair<int, std::string> replay(std::vector<std::string> args,
                                            bool with_stderr = false) {
    args.insert(args.begin(), {"replay", "-c", agent().config_path()});
    return run_privwatch(std::move(args), with_stderr);
  }
  // ... and from the recording files (the optional export).
  static std::pair<int, std::string> replay_files(std::vector<std::string> args) {
    args.insert(args.begin(), {"replay", "--dir", rec_dir()});
    return run_privwatch(std::move(args));
  }

  static std::optional<json> wait_output(const std::string& needle, Duration timeout = 20s) {
    return agent().wait_for(
        [&](const json& e) {
          return str(e, "event.action") == "tty-output" &&
                 str(e, "privwatch.tty.data").find(needle) != std::string::npos;
        },
        needle, timeout);
  }

  static inline std::unique_ptr<TestUsers> users_;
  static inline std::unique_ptr<Sshd> sshd_;
};

TEST_F(RecordingTest, SshSessionReplaysInOrderWithoutThePasswordAndIsSearchable) {
  const std::string t = unique_token("tty");
  const std::string password = password_of("pwtty1");
  Sshd::Login login(*sshd_, "pwtty1");

  // 1. Coloured output: on screen "colored-<t>", in the bytes an escape splits the word.
  login.type(fmt::format("printf 'col\\033[1;31mored-%s\\033[0m\\n' {}\n", t));
  ASSERT_TRUE(wait_output("ored-" + t)) << "no terminal output recorded for the login";
  // The login session (the recording's id): the session of a command run in it.
  login.type(fmt::format("/bin/true {}-probe\n", t));
  auto probe = agent().wait_for(
      [&](const json& e) {
        return str(e, "event.action") == "exec" &&
               str(e, "process.command_line").find(t + "-probe") != std::string::npos;
      },
      t + "-probe");
  ASSERT_TRUE(probe);
  const std::string session_id = str(*probe, "privwatch.session.id");
  ASSERT_FALSE(session_id.empty());
  EXPECT_EQ(str(*probe, "privwatch.session.type"), "sshd");

  // Follow the live recording (from the store) from here on.
  Child watch = Child::exec(
      {PRIVWATCH_BINARY, "watch", "-c", agent().config_path(), session_id, "--timeout", "60"},
      {.capture_stdout = true});

  // 2. A typing mistake corrected with backspace (DEL): readline redraws the line.
  login.type(fmt::format("echo {}-bsX\x7f-ok\n", t));
  ASSERT_TRUE(wait_output(t + "-bs-ok"));
  // 3. A window resize inside the session.
  login.type("stty cols 120 rows 40\n");
  // 4. sudo asks for the password with echo off; type it only once the prompt is shown. The
  //    waited-for texts are built by the shell ($P, $S) so the echo of the typed command line
  //    does not match them.
  login.type(
      fmt::format("P=PWPROMPT; S=sudo; sudo -k; sudo -p \"$P-{0}:\" /bin/echo {0}-\"$S\"-ok\n", t));
  ASSERT_TRUE(wait_output("PWPROMPT-" + t + ":")) << "the sudo prompt never appeared";
  std::this_thread::sleep_for(300ms);  // sudo turns echo off right after printing the prompt
  login.type(password + "\n");
  ASSERT_TRUE(wait_output(t + "-sudo-ok")) << "sudo did not run the command";
  // sudo relays the terminal until it exits: typing before that would go to its command.
  auto sudo_exec = agent().wait_for(
      [&](const json& e) {
        return str(e, "event.action") == "exec" &&
               str(e, "process.executable") == "/usr/bin/sudo" &&
               str(e, "process.command_line").find(t) != std::string::npos;
      },
      t);
  ASSERT_TRUE(sudo_exec);
  const auto sudo_pid = num(*sudo_exec, "process.pid");
  ASSERT_TRUE(agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "exit" && num(e, "process.pid") == sudo_pid;
      },
      std::to_string(sudo_pid), 20s))
      << "sudo did not exit";
  login.type("exit 0\n");
  const auto [status, out] = login.finish();
  ASSERT_EQ(describe_status(status), "exit 0") << out;

  // The recording ends with the login session: the store lists it as ended.
  bool ended = false;
  std::string listed;
  for (int i = 0; i < 100 && !ended; ++i) {
    listed = replay({"--list"}).second;
    std::istringstream ls(listed);
    std::string row;
    while (std::getline(ls, row)) {
      ended = ended || (row.rfind(session_id + " ", 0) == 0 &&
                        row.find("session_end") != std::string::npos &&
                        row.find("store") != std::string::npos);
    }
    if (!ended) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(ended) << "the stored recording of " << session_id
                     << " was not closed at the end of the session:\n"
                     << listed;

  // --- text after escape processing: content and order ---------------------------------------
  const auto [text_rc, text] = replay({session_id, "--format", "text"});
  ASSERT_EQ(text_rc, 0);
  const size_t colored = text.find("colored-" + t);
  const size_t corrected = text.find("echo " + t + "-bs-ok");
  const size_t prompt = text.find("PWPROMPT-" + t + ":");
  const size_t sudo_ok = text.find(t + "-sudo-ok\n");
  ASSERT_NE(colored, std::string::npos) << text;
  ASSERT_NE(corrected, std::string::npos) << "backspace not applied:\n" << text;
  ASSERT_NE(prompt, std::string::npos) << text;
  ASSERT_NE(sudo_ok, std::string::npos) << text;
  EXPECT_LT(colored, corrected);
  EXPECT_LT(corrected, prompt);
  EXPECT_LT(prompt, sudo_ok);
  // The file export holds the same recording (the store is the primary home).
  const auto [file_rc, file_text] = replay_files({session_id, "--format", "text"});
  EXPECT_EQ(file_rc, 0);
  EXPECT_EQ(file_text, text) << "the store and the recording file disagree";

  // --- the password is nowhere: not in the text, asciicast (input included), event output ----
  EXPECT_EQ(text.find(password), std::string::npos);
  const auto [cast_rc, cast] = replay({session_id, "--format", "asciicast"});
  ASSERT_EQ(cast_rc, 0);
  EXPECT_EQ(cast.find(password), std::string::npos) << "the sudo password was recorded";
  EXPECT_TRUE(
      agent()
          .matching([&](const json& e) { return e.dump().find(password) != std::string::npos; },
                    password)
          .empty())
      << "the password appears in the event output";

  // --- asciicast v2: header, ordered events, resize, a marker for the hidden input ---------
  std::istringstream lines(cast);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  const json header = json::parse(line);
  EXPECT_EQ(header.value("version", 0), 2);
  EXPECT_GT(header.value("width", 0), 0);
  EXPECT_GT(header.value("height", 0), 0);
  double prev = 0;
  std::string all_output, all_input;
  bool resized = false, hidden_marker = false, prompt_seen = false, marker_after_prompt = false;
  size_t events = 0;
  while (std::getline(lines, line)) {
    const json e = json::parse(line);  // throws (fails the test) if not JSON
    ASSERT_TRUE(e.is_array() && e.size() == 3) << line;
    ASSERT_TRUE(e[0].is_number() && e[1].is_string() && e[2].is_string()) << line;
    EXPECT_GE(e[0].get<double>(), prev) << "events out of order: " << line;
    prev = e[0].get<double>();
    const std::string code = e[1], data = e[2];
    ++events;
    if (code == "o") {
      all_output += data;
      if (all_output.find("PWPROMPT-" + t) != std::string::npos) prompt_seen = true;
    } else if (code == "i") {
      all_input += data;
    } else if (code == "r") {
      resized = resized || data == "120x40";
    } else if (code == "m") {
      if (data.find("echo off") != std::string::npos) {
        hidden_marker = true;
        marker_after_prompt = marker_after_prompt || prompt_seen;
      }
    } else {
      ADD_FAILURE() << "unknown asciicast event code " << code;
    }
  }
  EXPECT_GT(events, 10u);
  // Programs read a password a byte at a time: look at the streams, not single events.
  EXPECT_EQ(all_input.find(password), std::string::npos) << "the sudo password was recorded";
  EXPECT_EQ(all_input.find(password.substr(0, 4)), std::string::npos)
      << "part of the sudo password was recorded";
  EXPECT_EQ(all_output.find(password), std::string::npos);
  EXPECT_TRUE(resized) << "no resize event to 120x40";
  EXPECT_TRUE(hidden_marker) << "no gap marker for the password";
  EXPECT_TRUE(marker_after_prompt) << "the gap is not after the prompt";
  EXPECT_NE(all_input.find("stty cols 120"), std::string::npos) << "typed input missing";
  // The raw bytes need the escape processing: the coloured word is split by an escape.
  EXPECT_EQ(all_output.find("colored-" + t), std::string::npos);
  EXPECT_NE(all_output.find("col\x1b[1;31mored-" + t), std::string::npos);

  // --- the raw store (database and WAL bytes) never held the password (checked before any
  //     command below carries it in its arguments: exec events are stored too) --------------
  for (const char* suffix : {"", "-wal"}) {
    const std::string bytes = read_file(db() + suffix);
    EXPECT_FALSE(bytes.empty() && suffix[0] == '\0') << "no database at " << db();
    EXPECT_EQ(bytes.find(password), std::string::npos) << "the password is in " << db() << suffix;
    EXPECT_EQ(bytes.find(password.substr(3)), std::string::npos) << db() << suffix;
  }

  // --- search hits after escape processing ------------------------------------------------
  const auto [s_rc, hits] = replay({session_id, "--search", "COLORED-" + t});
  EXPECT_EQ(s_rc, 0);
  EXPECT_NE(hits.find("colored-" + t), std::string::npos) << hits;
  const auto [s2_rc, hits2] = replay({session_id, "--search", "echo " + t + "-bs-ok"});
  EXPECT_EQ(s2_rc, 0) << hits2;
  const auto [s3_rc, none] = replay({session_id, "--search", password});
  EXPECT_EQ(s3_rc, 1) << none;

  // --- command log: commands with args, cwd, exit code, offsets ----------------------------
  const auto [c_rc, cmds] = replay({session_id, "--commands"});
  ASSERT_EQ(c_rc, 0);
  EXPECT_NE(cmds.find("stty cols 120 rows 40"), std::string::npos) << cmds;
  EXPECT_NE(cmds.find("/bin/echo " + t + "-sudo-ok"), std::string::npos) << cmds;
  EXPECT_NE(cmds.find("/home/pwtty1"), std::string::npos) << cmds;
  std::istringstream cl(cmds);
  bool stty_ok = false;
  while (std::getline(cl, line)) {
    if (line.find("stty cols 120") == std::string::npos) continue;
    std::istringstream f(line);
    std::string at, duration, exit_code;
    f >> at >> duration >> exit_code;
    stty_ok = exit_code == "0" && at.find(':') != std::string::npos && duration != "running";
  }
  EXPECT_TRUE(stty_ok) << cmds;

  // --- watch followed the live session to its end -------------------------------------------
  const int wstatus = watch.wait(30s);
  EXPECT_EQ(describe_status(wstatus), "exit 0");
  EXPECT_NE(watch.stdout_text().find(t + "-sudo-ok"), std::string::npos) << watch.stdout_text();
  EXPECT_EQ(watch.stdout_text().find(password), std::string::npos);

  // --- privwatch search finds the screen text: session and offset ---------------------------
  const auto [q_rc, found] = run_privwatch(
      {"search", "--db", db(), "--kind", "recording", "--text", "colored-" + t, "--json"});
  ASSERT_EQ(q_rc, 0) << found;
  bool hit = false;
  std::istringstream fl(found);
  while (std::getline(fl, line)) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("session", "") != session_id) continue;
    for (const auto& h : j.value("screen", json::array())) {
      hit = hit || (h.value("line", "").find("colored-" + t) != std::string::npos &&
                    h.value("offset", "").find(':') != std::string::npos &&
                    h.value("offset_s", -1.0) >= 0);
    }
  }
  EXPECT_TRUE(hit) << "no search hit naming the session and the offset:\n" << found;
  const auto [q2_rc, table] =
      run_privwatch({"search", "--db", db(), "--kind", "recording", "--text", "colored-" + t});
  EXPECT_EQ(q2_rc, 0);
  EXPECT_NE(table.find("session " + session_id + " at "), std::string::npos) << table;

  // --- the password is not in the stored screen text ------------------------------------------
  const auto [sql_rc, stored_text] =
      run_privwatch({"search", "--db", db(), "--kind", "recording", "--session", session_id,
                     "--json", "-n", "100000"});
  ASSERT_EQ(sql_rc, 0);
  EXPECT_NE(stored_text.find("colored-" + t), std::string::npos) << "no screen text stored";
  EXPECT_EQ(stored_text.find(password), std::string::npos);

  // --- stop the agent: the store verifies -------------------------------------------------------
  const StopResult first = agent().stop();
  EXPECT_EQ(describe_status(first.status), "exit 0") << first.stderr_text;
  const auto [v_rc, verified] = run_privwatch({"verify", "--db", db()}, true);
  EXPECT_EQ(v_rc, 0) << verified;

  // --- retention: a new agent on the same store keeps recordings for 1 s ----------------------
  std::string error;
  auto pruner = Agent::start(body(suite_dir(), "  retention:\n    recording: 1s\n"), &error);
  ASSERT_NE(pruner, nullptr) << error;
  agent_ = std::move(pruner);  // the suite stops (and checks) this one at the end
  std::pair<int, std::string> gone;
  for (int i = 0; i < 150; ++i) {
    gone = replay({session_id, "--format", "text"}, true);
    if (gone.first != 0) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(gone.first, 1) << gone.second;
  EXPECT_NE(gone.second.find("was removed by retention"), std::string::npos) << gone.second;
  EXPECT_NE(gone.second.find("tombstone"), std::string::npos) << gone.second;
  const auto [v2_rc, verified2] = run_privwatch({"verify", "--db", db()}, true);
  EXPECT_EQ(v2_rc, 0) << verified2;
  EXPECT_NE(verified2.find("pruned"), std::string::npos) << verified2;
}

}  // namespace
}  // namespace privwatch::itest
