// Response actions against real processes and the real kernel:
//  - `privwatch respond` freezes, thaws and terminates a session-like process tree whose
//    members left the process group, started their own session (setsid) or were double-forked
//    and reparented — all found through their audit session id;
//  - warn writes a banner to the session's real terminal (a pty opened by the test);
//  - PID 1 and the agent are refused;
//  - the agent with respond.kill entries: a monitored process connecting to a listed
//    destination, or executing a listed file, is killed by the kernel (SIGKILL) at that
//    syscall and an action record appears; an unmonitored process is left alone;
//  - rules with a response, through the running agent, on real programs: over a real ssh
//    login (sshd on loopback), terminate ends the whole session including processes that
//    escaped the process group; freeze stops it and `privwatch respond thaw` resumes it; warn
//    shows the banner on the login's terminal; kill kills the offending process and
//    quarantines the session in the kernel (its next exec and connect are killed at the
//    syscall). Every action is recorded in the output and in the store; a process running
//    the privwatch binary is never a target; detect mode only records.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "agent_fixture.hpp"
#include "sshd_fixture.hpp"

namespace privwatch::itest {
namespace {

// ------------------------------------------------------------------------------------------
// Helpers (forked children use only syscalls)

// Puts the calling process into a new audit session: writing the loginuid (allowed to root,
// CAP_AUDIT_CONTROL) assigns a fresh /proc/self/sessionid.
bool new_audit_session() {
  const int fd = ::open("/proc/self/loginuid", O_WRONLY);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "0", 1) == 1;
  ::close(fd);
  return ok;
}

// Reports (role, pid) to the test; one write, so concurrent reports do not interleave.
void write_pid(int fd, uint32_t role = 0) {
  const uint32_t msg[2] = {role, static_cast<uint32_t>(::getpid())};
  (void)!::write(fd, msg, sizeof msg);
}

// Reads one (role, pid) report; 0 on failure.
uint32_t read_pid(int fd, uint32_t* role = nullptr) {
  uint32_t msg[2] = {0, 0};
  if (::read(fd, msg, sizeof msg) != static_cast<ssize_t>(sizeof msg)) return 0;
  if (role != nullptr) *role = msg[0];
  return msg[1];
}

[[noreturn]] void pause_forever() {
  for (;;) ::pause();
}

char proc_state(uint32_t pid) {
  std::ifstream f(fmt::format("/proc/{}/stat", pid));
  std::string s;
  std::getline(f, s);
  const size_t close = s.rfind(')');
  if (close == std::string::npos || close + 2 >= s.size()) return 0;  // gone
  return s[close + 2];
}

uint32_t session_of(uint32_t pid) {
  std::ifstream f(fmt::format("/proc/{}/sessionid", pid));
  uint64_t v = kUnsetId;
  f >> v;
  return static_cast<uint32_t>(v);
}

// Waits until pred() or the timeout (the kernel delivers signals asynchronously).
bool eventually(const std::function<bool()>& pred, Duration timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

struct CliResult {
  int status = -1;
  std::string out;
};

CliResult respond_cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {agent_binary(), "respond"};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions o;
  o.capture_stdout = true;
  o.stderr_to_stdout = true;
  Child c = Child::exec(argv, o);
  CliResult r;
  r.status = c.wait(60s);
  r.out = c.stdout_text();
  return r;
}

int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

std::vector<json> read_actions(const std::string& path) {
  std::vector<json> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// A session-like tree in its own audit session:
//   leader ─┬─ same-group child
//           ├─ setsid child (own session and process group)
//           ├─ setpgid child (escaped the process group)
//           └─ (double fork) orphan, reparented away from the leader, setsid
struct SessionTree {
  Child leader;
  uint32_t sid = kUnsetId;
  std::vector<uint32_t> pids;  // by role: leader, same group, setsid, setpgid, orphan

  ~SessionTree() {
    for (uint32_t p : pids) {
      if (p != 0 && session_of(p) == sid) ::kill(static_cast<pid_t>(p), SIGKILL);
    }
  }
};

void start_tree(SessionTree& t) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int w = fds[1];
  t.leader = Child::run([w]() -> int {
    if (!new_audit_session()) return 3;
    write_pid(w);
    if (::fork() == 0) {  // same process group
      write_pid(w, 1);
      pause_forever();
    }
    if (::fork() == 0) {  // its own session
      ::setsid();
      write_pid(w, 2);
      pause_forever();
    }
    if (::fork() == 0) {  // left the process group
      ::setpgid(0, 0);
      write_pid(w, 3);
      pause_forever();
    }
    const pid_t mid = ::fork();
    if (mid == 0) {  // double fork: the grandchild is orphaned and reparented
      if (::fork() == 0) {
        ::setsid();
        write_pid(w, 4);
        pause_forever();
      }
      ::_exit(0);
    }
    ::waitpid(mid, nullptr, 0);
    pause_forever();
  });
  ::close(w);
  t.pids.assign(5, 0);
  for (int i = 0; i < 5; ++i) {
    uint32_t role = 0;
    const uint32_t pid = read_pid(fds[0], &role);
    ASSERT_TRUE(pid != 0 && role < 5) << "the tree did not start (" << i << " of 5 reported)";
    t.pids[role] = pid;
  }
  ::close(fds[0]);
  t.sid = session_of(t.pids[0]);
  ASSERT_NE(t.sid, kUnsetId);
  // The orphan is no longer the leader's descendant in /proc: only the session id ties it.
  ASSERT_TRUE(eventually([&] {
    auto p = read_proc(t.pids[4]);
    return p && p->ppid != t.pids[0] && p->ppid != 0;
  }));
  for (uint32_t p : t.pids) ASSERT_EQ(session_of(p), t.sid) << "pid " << p;
}

// ------------------------------------------------------------------------------------------
// On demand: privwatch respond

class RespondCliTest : public ::testing::Test {
 protected:
  void SetUp() override { PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN(); }
  TempDir dir_{"pwrespond"};
  std::string log_ = dir_ / "actions.json";
};

TEST_F(RespondCliTest, FreezeThawTerminateReachEveryProcessOfTheSession) {
  SessionTree t;
  ASSERT_NO_FATAL_FAILURE(start_tree(t));
  const std::string sid = std::to_string(t.sid);

  auto r =
      respond_cli({"freeze", "--session", sid, "--reason", "freeze-test", "--actions-log", log_});
  ASSERT_EQ(exit_code(r.status), 0) << r.out;
  for (uint32_t p : t.pids) {
    EXPECT_TRUE(eventually([&] { return proc_state(p) == 'T'; }))
        << "pid " << p << " state " << proc_state(p) << "\n"
        << r.out;
  }

  r = respond_cli({"thaw", "--session", sid, "--actions-log", log_});
  ASSERT_EQ(exit_code(r.status), 0) << r.out;
  for (uint32_t p : t.pids) {
    EXPECT_TRUE(eventually([&] { return proc_state(p) == 'S'; }))
        << "pid " << p << " state " << proc_state(p);
  }

  r = respond_cli({"terminate", "--session", sid, "--actions-log", log_});
  ASSERT_EQ(exit_code(r.status), 0) << r.out;
  const int leader_status = t.leader.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(leader_status) && WTERMSIG(leader_status) == SIGKILL)
      << describe_status(leader_status);
  for (uint32_t p : t.pids) {
    EXPECT_TRUE(eventually([&] {
      const char s = proc_state(p);
      return s == 0 || s == 'Z' || session_of(p) != t.sid;  // gone (or a pid reused since)
    })) << "pid "
        << p << " survived terminate, state " << proc_state(p);
  }

  // Every action is recorded, with every process it acted on.
  const auto actions = read_actions(log_);
  ASSERT_EQ(actions.size(), 3u);
  const std::vector<std::string> kinds = {"freeze", "thaw", "terminate"};
  for (size_t i = 0; i < 3; ++i) {
    const json& a = actions[i];
    SCOPED_TRACE(a.dump());
    EXPECT_EQ(str(a, "privwatch.kind"), "action");
    EXPECT_EQ(str(a, "event.action"), kinds[i]);
    EXPECT_EQ(str(a, "event.outcome"), "success");
    EXPECT_EQ(str(a, "privwatch.action.origin"), "operator");
    EXPECT_EQ(str(a, "privwatch.action.result"), "success");
    EXPECT_EQ(num(a, "privwatch.action.target.audit_session_id"), t.sid);
    std::set<uint32_t> acted;
    for (const auto& p : *field(a, "privwatch.action.target.pids")) acted.insert(p.get<uint32_t>());
    for (uint32_t p : t.pids) EXPECT_EQ(acted.count(p), 1u) << "pid " << p;
    EXPECT_FALSE(str(a, "event.id").empty());
    EXPECT_FALSE(str(a, "user.name").empty());
  }
  EXPECT_EQ(str(actions[0], "event.reason"), "freeze-test");
}

TEST_F(RespondCliTest, PidTargetsTheProcessAndItsDescendantsOnly) {
  SessionTree t;
  ASSERT_NO_FATAL_FAILURE(start_tree(t));
  // pids[2] is the setsid child: no children, so only it is frozen.
  auto r = respond_cli({"freeze", "--pid", std::to_string(t.pids[2]), "--actions-log", log_});
  ASSERT_EQ(exit_code(r.status), 0) << r.out;
  EXPECT_TRUE(eventually([&] { return proc_state(t.pids[2]) == 'T'; }));
  for (uint32_t p : {t.pids[0], t.pids[1], t.pids[3], t.pids[4]}) {
    EXPECT_EQ(proc_state(p), 'S') << "pid " << p << " is not a descendant of " << t.pids[2];
  }
}

// "Every action is an audited record" holds across agent restarts: actions an operator takes
// while no agent runs, even when the log is rotated meanwhile, reach the agent's output and store
// when it starts again, and an action it already handed on is not handed on twice.
TEST_F(RespondCliTest, ActionsTakenWhileNoAgentRunsReachTheStoreWhenItStarts) {
  const std::string db = dir_ / "store/privwatch.db";
  const std::string cfg = fmt::format(
      "detect:\n  default_rules: false\n"
      "store:\n  path: {0}\n  key_path: {1}\n  commit_interval_ms: 50\n"
      "respond:\n  actions_log: {2}\n",
      db, dir_ / "store/store.key", log_);
  Child target = Child::exec({"/bin/sleep", "1000"});
  const std::string pid = std::to_string(target.pid());
  // One dry-run action (nothing is done to the target); its id is in the log's last line.
  auto act = [&](const char* action, const std::string& log) {
    auto r = respond_cli({action, "--pid", pid, "--dry-run", "--actions-log", log});
    EXPECT_EQ(exit_code(r.status), 0) << r.out;
    const auto lines = read_actions(log);
    return lines.empty() ? std::string() : str(lines.back(), "event.id");
  };
  auto handed_on = [](Agent& a, const std::string& id) {
    return a.wait_for(
        [&](const json& e) {
          return str(e, "privwatch.kind") == "action" && str(e, "event.id") == id;
        },
        id);
  };

  std::string err;
  auto first = Agent::start(cfg, &err);
  ASSERT_NE(first, nullptr) << err;
  const std::string seen_live = act("freeze", log_);
  ASSERT_FALSE(seen_live.empty());
  ASSERT_TRUE(handed_on(*first, seen_live)) << "the running agent did not pick up " << seen_live;
  EXPECT_EQ(describe_status(first->stop().status), "exit 0");

  // No agent: one action in the log, the log rotated away (logrotate's name), one in the new log.
  const std::string while_down = act("thaw", log_);
  std::filesystem::rename(log_, log_ + ".1");
  const std::string after_rotation = act("freeze", log_);
  ASSERT_FALSE(while_down.empty());
  ASSERT_FALSE(after_rotation.empty());

  auto second = Agent::start(cfg, &err);
  ASSERT_NE(second, nullptr) << err;
  for (const std::string& id : {while_down, after_rotation}) {
    auto e = handed_on(*second, id);
    ASSERT_TRUE(e) << "the action " << id << " taken while no agent ran is not in the output\n"
                   << second->stderr_text();
    EXPECT_EQ(str(*e, "privwatch.action.origin"), "operator");
    EXPECT_EQ(str(*e, "privwatch.action.result"), "dry_run");
  }
  EXPECT_NE(second->stderr_text().find("rotated while no agent ran"), std::string::npos)
      << second->stderr_text();
  const StopResult stopped = second->stop();
  EXPECT_EQ(describe_status(stopped.status), "exit 0") << stopped.stderr_text;
  EXPECT_TRUE(
      second->matching([&](const json& e) { return str(e, "event.id") == seen_live; }, seen_live)
          .empty())
      << "the action handed on before the restart was handed on again";

  // The store has each of the three once.
  Child search = Child::exec(
      {agent_binary(), "search", "--kind", "response", "--db", db, "--json", "-n", "1000"},
      {.capture_stdout = true, .stderr_to_stdout = true});
  ASSERT_EQ(search.wait(60s), 0) << search.stdout_text();
  std::map<std::string, int> stored;
  std::istringstream lines(search.stdout_text());
  for (std::string line; std::getline(lines, line);) {
    const auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("record")) ++stored[str(j["record"], "event.id")];
  }
  for (const std::string& id : {seen_live, while_down, after_rotation}) {
    EXPECT_EQ(stored[id], 1) << id << " in the store:\n" << search.stdout_text();
  }
  target.kill(SIGKILL);
}

TEST_F(RespondCliTest, WarnWritesABannerToTheSessionTerminal) {
  int master = -1, slave = -1;
  char name[128] = {};
  ASSERT_EQ(::openpty(&master, &slave, name, nullptr, nullptr), 0) << std::strerror(errno);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int w = fds[1];
  Child c = Child::run([slave, w]() -> int {
    ::setsid();
    if (::ioctl(slave, TIOCSCTTY, 0) != 0) return 4;
    if (!new_audit_session()) return 3;
    write_pid(w);
    pause_forever();
  });
  ::close(slave);
  ::close(w);
  const uint32_t pid = read_pid(fds[0]);
  ASSERT_NE(pid, 0u) << "child failed: " << describe_status(c.wait(5s));
  ::close(fds[0]);
  const uint32_t sid = session_of(pid);
  const std::string token = unique_token("warn");

  auto r = respond_cli(
      {"warn", "--session", std::to_string(sid), "--reason", token, "--actions-log", log_});
  ASSERT_EQ(exit_code(r.status), 0) << r.out;

  // Read the terminal back from the master side.
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  std::string seen;
  EXPECT_TRUE(eventually([&] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(master, buf, sizeof buf)) > 0) seen.append(buf, static_cast<size_t>(n));
    return seen.find(token) != std::string::npos;
  })) << "terminal showed: "
      << seen;
  EXPECT_NE(seen.find("privwatch security notice"), std::string::npos) << seen;
  ::close(master);

  const auto actions = read_actions(log_);
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(str(actions[0], "event.action"), "warn");
  EXPECT_EQ(str(actions[0], "event.outcome"), "success") << actions[0].dump();
  const json* ttys = field(actions[0], "privwatch.action.ttys");
  ASSERT_NE(ttys, nullptr) << actions[0].dump();
  EXPECT_EQ(ttys->dump(), json::array({std::string(name)}).dump());
}

TEST_F(RespondCliTest, RefusesPid1TheAgentAndTheUnsetSession) {
  auto r = respond_cli({"terminate", "--pid", "1", "--actions-log", log_});
  EXPECT_EQ(exit_code(r.status), 2) << r.out;
  EXPECT_NE(r.out.find("PID 1 (init) is never a response target"), std::string::npos) << r.out;
  EXPECT_EQ(proc_state(1), 'S');

  std::string error;
  auto agent = Agent::start("", &error);
  ASSERT_NE(agent, nullptr) << error;
  r = respond_cli({"freeze", "--pid", std::to_string(agent->pid()), "--actions-log", log_});
  EXPECT_EQ(exit_code(r.status), 2) << r.out;
  EXPECT_NE(r.out.find("runs the privwatch binary"), std::string::npos) << r.out;
  EXPECT_NE(proc_state(static_cast<uint32_t>(agent->pid())), 'T');
  EXPECT_TRUE(agent->alive());

  r = respond_cli({"terminate", "--session", "4294967295", "--actions-log", log_});
  EXPECT_EQ(exit_code(r.status), 2) << r.out;
  EXPECT_NE(r.out.find("outside a login session"), std::string::npos) << r.out;

  // The refusals that reached the actuator are recorded as such.
  const auto actions = read_actions(log_);
  ASSERT_EQ(actions.size(), 2u);
  for (const auto& a : actions) {
    EXPECT_EQ(str(a, "privwatch.action.result"), "refused") << a.dump();
    EXPECT_EQ(str(a, "event.outcome"), "failure") << a.dump();
  }
  EXPECT_EQ(num(actions[0], "process.pid"), 1);
  EXPECT_EQ(num(actions[1], "process.pid"), agent->pid());
}

// ------------------------------------------------------------------------------------------
// In the kernel: respond.kill

struct KillSetup {
  int listen_fd = -1;
  uint16_t port = 0;
  std::string forbidden;  // a copy of /bin/true listed under respond.kill exec
};
KillSetup g_kill;

class RespondKillTest : public AgentSuite<RespondKillTest> {
 public:
  static std::string config_body(const std::string& suite_dir) {
    g_kill.listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(g_kill.listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(g_kill.listen_fd, 16) != 0 ||
        ::getsockname(g_kill.listen_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "listener: " << std::strerror(errno);
    }
    g_kill.port = ntohs(a.sin_port);
    g_kill.forbidden = suite_dir + "/forbidden-tool";
    std::ifstream in("/bin/true", std::ios::binary);
    std::ofstream out(g_kill.forbidden, std::ios::binary);
    out << in.rdbuf();
    out.close();
    ::chmod(g_kill.forbidden.c_str(), 0755);
    ::chmod(suite_dir.c_str(), 0755);
    return fmt::format(
        "respond:\n"
        "  kill:\n"
        "    - {{name: test-port, connect: \"127.0.0.1:{}\"}}\n"
        "    - {{name: test-exe, exec: {}}}\n",
        g_kill.port, g_kill.forbidden);
  }
  // After the tests: the kernel's per-CPU kill counters reached the agent's statistics.
  static void TearDownTestSuite() {
    if (agent_ && (net_kills_ + exec_kills_) > 0) {
      const StopResult r = agent_->stop();
      const json* k = r.stats.is_null() ? nullptr : field(r.stats, "kernel_killed_by_type");
      EXPECT_NE(k, nullptr) << r.stats.dump();
      if (k != nullptr) {
        EXPECT_GE(k->value("net", 0), net_kills_) << r.stats.dump();
        EXPECT_GE(k->value("exec", 0), exec_kills_) << r.stats.dump();
      }
      // Each kernel kill became an action record.
      const json* resp = r.stats.is_null() ? nullptr : field(r.stats, "respond.kernel_kills");
      ASSERT_NE(resp, nullptr) << r.stats.dump();
      EXPECT_GE(resp->get<int>(), net_kills_ + exec_kills_) << r.stats.dump();
    }
    AgentSuite<RespondKillTest>::TearDownTestSuite();
    if (g_kill.listen_fd >= 0) ::close(g_kill.listen_fd);
  }
  static inline int net_kills_ = 0, exec_kills_ = 0;  // kills the tests caused
};

// Connects to the test listener and, if still alive, sends `token`.
int connect_and_send(const char* token) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(g_kill.port);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 5;
  (void)!::write(s, token, std::strlen(token));  // the effect a kill must prevent
  ::close(s);
  return 0;
}

// What the listener received from the next connection ("" when it was closed unused).
std::string accept_and_read() {
  const int c = ::accept4(g_kill.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return "<accept failed>";
  timeval tv{5, 0};
  ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string got;
  char buf[256];
  ssize_t n;
  while ((n = ::read(c, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
  ::close(c);
  return got;
}

Predicate kernel_kill_action(uint32_t pid) {
  return [pid](const json& e) {
    return str(e, "privwatch.kind") == "action" && str(e, "event.action") == "kill" &&
           num(e, "process.pid") == pid;
  };
}

TEST_F(RespondKillTest, MonitoredConnectToAListedDestinationIsKilledAtTheSyscall) {
  const std::string token = unique_token("kill");
  Child c = Child::run([&]() -> int { return connect_and_send(token.c_str()); });
  const std::string received = accept_and_read();
  const int status = c.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);
  ++net_kills_;
  EXPECT_EQ(received.find(token), std::string::npos)
      << "the killed process still used the connection: " << received;

  const auto pid = static_cast<uint32_t>(c.pid());
  auto net = agent().wait_for(
      [pid](const json& e) {
        return str(e, "privwatch.kind") == "net" && str(e, "event.action") == "connect" &&
               num(e, "process.pid") == pid;
      },
      std::to_string(pid));
  ASSERT_TRUE(net) << "no connect event for " << pid;
  EXPECT_EQ(
      field(*net, "privwatch.killed") != nullptr && field(*net, "privwatch.killed")->get<bool>(),
      true)
      << short_dump(*net);

  auto act = agent().wait_for(kernel_kill_action(pid), std::to_string(pid));
  ASSERT_TRUE(act) << "no action record for the kernel kill of " << pid;
  EXPECT_EQ(str(*act, "privwatch.action.origin"), "kernel");
  EXPECT_EQ(str(*act, "privwatch.action.result"), "success");
  EXPECT_EQ(str(*act, "rule.name"), "respond.kill:test-port");
  EXPECT_NE(str(*act, "event.reason").find(fmt::format("127.0.0.1 port {}", g_kill.port)),
            std::string::npos)
      << short_dump(*act);
}

TEST_F(RespondKillTest, AnIpv4MappedIpv6AddressDoesNotEvadeAnIpv4Entry) {
  const std::string token = unique_token("mapped");
  Child c = Child::run([&]() -> int {
    const int s = ::socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(g_kill.port);
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
    if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 5;
    (void)!::write(s, token.c_str(), token.size());
    return 0;
  });
  const std::string received = accept_and_read();
  const int status = c.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);
  ++net_kills_;
  EXPECT_EQ(received.find(token), std::string::npos) << received;
  const auto pid = static_cast<uint32_t>(c.pid());
  auto act = agent().wait_for(kernel_kill_action(pid), std::to_string(pid));
  ASSERT_TRUE(act) << "no action record for the kernel kill of " << pid;
  EXPECT_EQ(str(*act, "rule.name"), "respond.kill:test-port") << short_dump(*act);
}

TEST_F(RespondKillTest, UnmonitoredProcessConnectingThereIsLeftAlone) {
  // nobody, without supplementary groups: not a monitored subject (monitor.root, sudo/wheel).
  const std::string token = unique_token("free");
  Child c = Child::run([&]() -> int {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      return 6;
    }
    return connect_and_send(token.c_str());
  });
  const std::string received = accept_and_read();
  EXPECT_EQ(describe_status(c.wait(10s)), "exit 0");
  EXPECT_NE(received.find(token), std::string::npos);
  const auto pid = static_cast<uint32_t>(c.pid());
  auto net = agent().wait_for(
      [pid](const json& e) {
        return str(e, "privwatch.kind") == "net" && str(e, "event.action") == "connect" &&
               num(e, "process.pid") == pid;
      },
      std::to_string(pid));
  ASSERT_TRUE(net);
  EXPECT_EQ(field(*net, "privwatch.killed"), nullptr) << short_dump(*net);
  EXPECT_TRUE(agent().matching(kernel_kill_action(pid), std::to_string(pid)).empty());
}

TEST_F(RespondKillTest, MonitoredExecOfAListedFileIsKilledBeforeItRuns) {
  Child c = Child::exec({g_kill.forbidden});
  const int status = c.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);
  ++exec_kills_;
  const auto pid = static_cast<uint32_t>(c.pid());
  auto act = agent().wait_for(kernel_kill_action(pid), std::to_string(pid));
  ASSERT_TRUE(act) << "no action record for the kernel kill of " << pid;
  EXPECT_EQ(str(*act, "rule.name"), "respond.kill:test-exe");
  EXPECT_NE(str(*act, "event.reason").find(g_kill.forbidden), std::string::npos)
      << short_dump(*act);
}

// ------------------------------------------------------------------------------------------
// From rules: the agent carries out a rule's response (docs/response.md "From rules")

constexpr const char* kSshUser = "pwrespu";

struct RuleSetup {
  std::string tok;       // in every trigger: the rules match nothing but these tests' programs
  std::string work;      // world-writable: the ssh user's shells write pid files here
  std::string db;        // the agent's store
  std::string watchdir;  // an empty recording directory for `privwatch watch`
};
RuleSetup g_rule;

std::string response_rules(const std::string& tok) {
  std::string out = "rules:\n";
  struct R {
    const char* name;
    const char* response;
    const char* mode;
  };
  for (const R& r : {R{"resp-terminate", "[terminate]", "enforce"},
                     R{"resp-freeze", "[freeze]", "enforce"}, R{"resp-warn", "[warn]", "enforce"},
                     R{"resp-kill", "[kill]", "enforce"}, R{"resp-dry", "[terminate]", "detect"}}) {
    out += fmt::format(
        "  - name: {0}\n"
        "    severity: high\n"
        "    description: response test rule {0}\n"
        "    condition:\n"
        "      event.action: exec\n"
        "      process.args: {{contains: {1}-{2}}}\n"
        "    output: \"{0} saw {{process.command_line}}\"\n"
        "    response: {3}\n"
        "    mode: {4}\n",
        r.name, tok, std::string(r.name).substr(5), r.response, r.mode);
  }
  return out;
}

class RespondRuleTest : public AgentSuite<RespondRuleTest> {
 public:
  static std::string config_body(const std::string& dir) {
    g_rule.tok = unique_token("pwrr");
    g_rule.work = dir + "/work";
    g_rule.db = dir + "/store/privwatch.db";
    g_rule.watchdir = dir + "/recordings";
    ::mkdir(g_rule.work.c_str(), 0777);
    ::chmod(g_rule.work.c_str(), 0777);
    ::chmod(dir.c_str(), 0755);
    ::mkdir(g_rule.watchdir.c_str(), 0755);
    ::mkdir((dir + "/rules").c_str(), 0755);
    write_file(dir + "/rules/respond.yaml", response_rules(g_rule.tok));
    // The ssh user is a monitored subject (its loginuid), so that a quarantine reaches it.
    return fmt::format(
        "monitor:\n  root: true\n  groups: [sudo, wheel]\n  loginuids: [{0}]\n"
        "detect:\n  default_rules: false\n  rules: [{1}/rules]\n  dedup_window_s: 0\n"
        "store:\n  path: {2}\n  key_path: {1}/store/store.key\n  commit_interval_ms: 50\n"
        "respond:\n  actions_log: {1}/actions.json\n",
        kSshUser, dir, g_rule.db);
  }
  static void SetUpTestSuite() {
    if (!kernel_skip_reason().empty()) return;
    // The user exists before the agent starts: monitor.loginuids is resolved at start.
    users_ = std::make_unique<ssh::TestUsers>(std::vector<std::string>{kSshUser});
    AgentSuite<RespondRuleTest>::SetUpTestSuite();
    if (suite_dir_) {
      ::mkdir((suite_dir() + "/sshd").c_str(), 0755);
      sshd_ =
          std::make_unique<ssh::Sshd>(suite_dir() + "/sshd", std::vector<std::string>{kSshUser});
    }
  }
  static void TearDownTestSuite() {
    sshd_.reset();
    AgentSuite<RespondRuleTest>::TearDownTestSuite();
    users_.reset();
  }

 protected:
  void SetUp() override {
    AgentSuite<RespondRuleTest>::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(users_ && users_->ok()) << "could not create the test user";
    ASSERT_TRUE(sshd_ && sshd_->ready()) << "sshd did not start";
  }

  // The action record a rule produced for an alert of `rule` whose trigger carried `id`.
  static std::optional<json> rule_action(const std::string& action, const std::string& rule,
                                         const std::string& id, Duration timeout = 30s) {
    return agent().wait_for(
        [&](const json& e) {
          return str(e, "privwatch.kind") == "action" && str(e, "event.action") == action &&
                 str(e, "rule.name") == rule &&
                 str(e, "event.reason").find(id) != std::string::npos;
        },
        id, timeout);
  }

  // Waits for `name` in the work directory (written by a shell of the test) and reads a pid.
  static uint32_t pid_file(const std::string& name) {
    const std::string path = g_rule.work + "/" + name;
    uint32_t pid = 0;
    eventually(
        [&] {
          const std::string s = read_file(path);
          if (s.empty() || s.back() != '\n') return false;
          pid = static_cast<uint32_t>(std::strtoul(s.c_str(), nullptr, 10));
          return pid != 0;
        },
        20s);
    return pid;
  }

  static bool gone(uint32_t pid, uint32_t sid) {
    const char s = proc_state(pid);
    return s == 0 || s == 'Z' || session_of(pid) != sid;  // gone (or a pid reused since)
  }

  // Every live process of audit session `sid`.
  static std::vector<uint32_t> session_members(uint32_t sid) {
    std::vector<uint32_t> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      const std::string n = e.path().filename();
      if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
      const auto pid = static_cast<uint32_t>(std::stoul(n));
      if (session_of(pid) == sid && proc_state(pid) != 'Z' && proc_state(pid) != 0) {
        out.push_back(pid);
      }
    }
    return out;
  }

  // The stored record of `kind` whose event.id is `id`, polling `privwatch search`/`alerts`.
  static std::optional<json> stored(const std::vector<std::string>& cmd, const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::vector<std::string> argv = {agent_binary()};
      argv.insert(argv.end(), cmd.begin(), cmd.end());
      argv.insert(argv.end(), {"--db", g_rule.db, "--json", "-n", "100000"});
      Child c = Child::exec(argv, {.capture_stdout = true, .stderr_to_stdout = true});
      const int st = c.wait(60s);
      std::istringstream lines(c.stdout_text());
      std::string line;
      while (st == 0 && std::getline(lines, line)) {
        const auto j = json::parse(line, nullptr, false);
        if (!j.is_discarded() && j.contains("record") && str(j["record"], "event.id") == id) {
          return j;
        }
      }
      std::this_thread::sleep_for(200ms);
    }
    return std::nullopt;
  }

  // The action record is in the output with its alert, and in the store (search / alerts).
  static void expect_audited(const json& act) {
    SCOPED_TRACE(short_dump(act));
    const std::string alert_id = str(act, "privwatch.action.alert_id");
    ASSERT_FALSE(alert_id.empty());
    auto alert = agent().wait_for(
        [&](const json& e) {
          return str(e, "event.kind") == "alert" && str(e, "event.id") == alert_id;
        },
        alert_id);
    ASSERT_TRUE(alert) << "no alert " << alert_id << " in the output";
    EXPECT_EQ(str(*alert, "rule.name"), str(act, "rule.name"));
    EXPECT_EQ(str(*alert, "session.id"), str(act, "session.id"));
    auto s = stored({"search", "--kind", "response"}, str(act, "event.id"));
    ASSERT_TRUE(s) << "action " << str(act, "event.id") << " not found by privwatch search";
    EXPECT_EQ(str(*s, "kind"), "response");
    EXPECT_EQ(str((*s)["record"], "privwatch.action.result"), str(act, "privwatch.action.result"));
    EXPECT_EQ(str((*s)["record"], "privwatch.action.alert_id"), alert_id);
    auto a = stored({"alerts", "--rule", str(act, "rule.name")}, alert_id);
    ASSERT_TRUE(a) << "alert " << alert_id << " not found by privwatch alerts";
  }

  static inline std::unique_ptr<ssh::TestUsers> users_;
  static inline std::unique_ptr<ssh::Sshd> sshd_;
};

TEST_F(RespondRuleTest, TerminateEndsTheWholeSshSessionIncludingEscapedProcesses) {
  const std::string id = unique_token("term");
  const std::string w = g_rule.work + "/" + id;
  ssh::Sshd::Login login(*sshd_, kSshUser);
  // A background job, a setsid'd process (own session and group), a double-forked orphan
  // (reparented away from the shell, own session) and a nohup'd one.
  login.type(
      fmt::format("sleep 1000 & echo $! > {0}.bg\n"
                  "setsid sh -c 'echo $$ > {0}.setsid; exec sleep 1000' &\n"
                  "( setsid sh -c 'echo $$ > {0}.orphan; exec sleep 1000' & )\n"
                  "nohup sh -c 'echo $$ > {0}.nohup; exec sleep 1000' >/dev/null 2>&1 &\n"
                  "echo $$ > {0}.shell\n",
                  w));
  std::vector<uint32_t> pids;
  for (const char* f : {".shell", ".bg", ".setsid", ".orphan", ".nohup"}) {
    pids.push_back(pid_file(id + f));
    ASSERT_NE(pids.back(), 0u) << "the login did not write " << id << f;
  }
  const uint32_t sid = session_of(pids[0]);
  ASSERT_NE(sid, kUnsetId);
  for (uint32_t p : pids) ASSERT_EQ(session_of(p), sid) << "pid " << p;
  ASSERT_TRUE(eventually([&] {
    auto p = read_proc(pids[3]);
    return p && p->ppid != pids[0];
  })) << "the orphan was not reparented";

  login.type(fmt::format("/bin/true {}-terminate {}\n", g_rule.tok, id));
  // The server ends the login: ssh exits by itself (the input is still open).
  const auto [status, out] = login.wait_exit(30s);
  EXPECT_NE(status, -1) << "the ssh session was still running 30 s after the trigger\n" << out;
  for (uint32_t p : pids) {
    EXPECT_TRUE(eventually([&] { return gone(p, sid); }))
        << "pid " << p << " survived terminate, state " << proc_state(p);
  }
  EXPECT_TRUE(eventually([&] { return session_members(sid).empty(); }))
      << "left in the session: " << session_members(sid).size();
  EXPECT_TRUE(sshd_ && ::kill(sshd_->pid(), 0) == 0) << "the listening sshd was hit";

  auto act = rule_action("terminate", "resp-terminate", id);
  ASSERT_TRUE(act) << "no terminate action record";
  EXPECT_EQ(str(*act, "privwatch.action.origin"), "rule") << short_dump(*act);
  EXPECT_EQ(str(*act, "privwatch.action.result"), "success") << short_dump(*act);
  EXPECT_EQ(str(*act, "event.outcome"), "success");
  EXPECT_EQ(str(*act, "user.name"), "privwatch-agent");
  EXPECT_EQ(num(*act, "privwatch.action.target.audit_session_id"), sid);
  std::set<uint32_t> acted;
  for (const auto& p : *field(*act, "privwatch.action.target.pids")) {
    acted.insert(p.get<uint32_t>());
  }
  for (uint32_t p : pids) EXPECT_EQ(acted.count(p), 1u) << "pid " << p << " not in the record";
  EXPECT_NE(str(*act, "session.id"), "");
  expect_audited(*act);
}

TEST_F(RespondRuleTest, FreezeStopsTheSshSessionAndThawResumesIt) {
  const std::string id = unique_token("frz");
  const std::string w = g_rule.work + "/" + id;
  ssh::Sshd::Login login(*sshd_, kSshUser);
  login.type(
      fmt::format("setsid -f sh -c 'echo $$ > {0}.setsid; exec sleep 1000'\n"
                  "( sh -c 'echo $$ > {0}.orphan; exec sleep 1000' & )\n"
                  "echo $$ > {0}.shell\n",
                  w));
  std::vector<uint32_t> pids;
  for (const char* f : {".shell", ".setsid", ".orphan"}) {
    pids.push_back(pid_file(id + f));
    ASSERT_NE(pids.back(), 0u) << "the login did not write " << id << f;
  }
  const uint32_t sid = session_of(pids[0]);
  ASSERT_NE(sid, kUnsetId);
  struct Cleanup {
    std::vector<uint32_t> pids;
    ~Cleanup() {
      for (uint32_t p : pids) ::kill(static_cast<pid_t>(p), SIGKILL);
    }
  } cleanup{{pids[1], pids[2]}};

  login.type(fmt::format("/bin/true {}-freeze {}\n", g_rule.tok, id));
  auto act = rule_action("freeze", "resp-freeze", id);
  ASSERT_TRUE(act) << "no freeze action record";
  EXPECT_EQ(str(*act, "privwatch.action.result"), "success") << short_dump(*act);
  EXPECT_EQ(str(*act, "privwatch.action.origin"), "rule");
  // Every process of the login is stopped: the shell, the escaped ones, sshd's session side.
  const std::vector<uint32_t> members = session_members(sid);
  EXPECT_GE(members.size(), 3u);
  for (uint32_t p : members) {
    EXPECT_TRUE(eventually([&] { return proc_state(p) == 'T'; }))
        << "pid " << p << " state " << proc_state(p);
  }
  for (uint32_t p : pids) EXPECT_EQ(proc_state(p), 'T') << "pid " << p;

  // The operator's thaw goes to the actions log the agent follows (respond.actions_log).
  const std::string log = suite_dir() + "/actions.json";
  auto r = respond_cli({"thaw", "--session", std::to_string(sid), "--actions-log", log});
  ASSERT_EQ(exit_code(r.status), 0) << r.out;
  std::string thaw_id;
  {
    std::istringstream lines(read_file(log));
    for (std::string line; std::getline(lines, line);) {
      const auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded() && str(j, "event.action") == "thaw") thaw_id = str(j, "event.id");
    }
  }
  ASSERT_FALSE(thaw_id.empty()) << read_file(log);
  for (uint32_t p : members) {
    EXPECT_TRUE(eventually([&] {
      const char s = proc_state(p);
      return s != 'T' && s != 't';
    })) << "pid "
        << p << " still stopped";
  }
  // The login works again: the shell reads and runs what is typed next.
  login.type(fmt::format("echo $(( 6 * 7 ))-{}-alive\nexit 0\n", id));
  const auto [status, out] = login.finish();
  EXPECT_EQ(describe_status(status), "exit 0") << out;
  EXPECT_NE(out.find("42-" + id + "-alive"), std::string::npos) << out;
  expect_audited(*act);
  // The agent picked the operator's action up: in its output and in its store.
  auto seen = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "action" && str(e, "event.id") == thaw_id;
      },
      thaw_id);
  ASSERT_TRUE(seen) << "the operator's thaw " << thaw_id << " is not in the agent's output";
  EXPECT_EQ(str(*seen, "privwatch.action.origin"), "operator");
  EXPECT_EQ(str(*seen, "privwatch.action.result"), "success");
  auto s = stored({"search", "--kind", "response"}, thaw_id);
  ASSERT_TRUE(s) << "the operator's thaw " << thaw_id << " is not in the store";
  EXPECT_EQ(str((*s)["record"], "event.action"), "thaw");
}

TEST_F(RespondRuleTest, WarnWritesTheBannerOnTheSshTerminal) {
  const std::string id = unique_token("warn");
  ssh::Sshd::Login login(*sshd_, kSshUser);
  login.type(fmt::format("/bin/true {}-warn {}\n", g_rule.tok, id));
  auto act = rule_action("warn", "resp-warn", id);
  ASSERT_TRUE(act) << "no warn action record";
  EXPECT_EQ(str(*act, "privwatch.action.result"), "success") << short_dump(*act);
  const json* ttys = field(*act, "privwatch.action.ttys");
  ASSERT_TRUE(ttys != nullptr && ttys->size() == 1) << short_dump(*act);
  EXPECT_EQ(ttys->at(0).get<std::string>().rfind("/dev/pts/", 0), 0u) << short_dump(*act);
  login.type("exit 0\n");
  const auto [status, out] = login.finish();
  EXPECT_EQ(describe_status(status), "exit 0") << out;
  // What the login's terminal showed (relayed by sshd from the pty): the banner, with the
  // alert and the rule in the reason.
  EXPECT_NE(out.find("*** privwatch security notice ***"), std::string::npos) << out;
  EXPECT_NE(out.find("(resp-warn): resp-warn saw /bin/true"), std::string::npos) << out;
  EXPECT_NE(out.find(str(*act, "event.id")), std::string::npos) << out;  // {id} of the message
  expect_audited(*act);
}

TEST_F(RespondRuleTest, KillKillsTheOffenderAndTheKernelKillsTheSessionsNextExecAndConnect) {
  const std::string id = unique_token("kill");
  const std::string w = g_rule.work + "/" + id;
  // A listener the quarantined shell will try to reach.
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 4), 0);
  ASSERT_EQ(::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const uint16_t port = ntohs(a.sin_port);

  // The offender loops in the shell (no exec): an exec would be killed by the kernel as soon
  // as the session is quarantined, before the user-space kill reaches it (docs/response.md).
  ssh::Sshd::Login login(*sshd_, kSshUser);
  login.type(
      fmt::format("echo $$ > {0}.shell\n"
                  "sh -c 'echo $$ > {0}.victim; while :; do :; done' {1}-kill {2}\n",
                  w, g_rule.tok, id));
  const uint32_t shell = pid_file(id + ".shell");
  ASSERT_NE(shell, 0u);
  const uint32_t sid = session_of(shell);
  auto act = rule_action("kill", "resp-kill", id);
  ASSERT_TRUE(act) << "no kill action record";
  EXPECT_EQ(str(*act, "privwatch.action.result"), "success") << short_dump(*act);
  // The offender is the process the rule fired on. It may be killed before its shell wrote
  // the pid file (the alert can beat `sh` to its first command); when the file is there, it
  // names the same process.
  const auto victim = static_cast<uint32_t>(num(*act, "process.pid"));
  ASSERT_NE(victim, 0u) << short_dump(*act);
  if (const std::string v = read_file(w + ".victim"); !v.empty() && v.back() == '\n') {
    EXPECT_EQ(std::strtoul(v.c_str(), nullptr, 10), victim) << short_dump(*act);
  }
  EXPECT_TRUE(eventually([&] { return gone(victim, sid); })) << "the offender survived";
  EXPECT_NE(proc_state(shell), 0) << "kill reaches the offending process only";

  // The session is quarantined: its next exec is killed before the program runs (the file
  // is never created), its next connect is killed at the syscall (nothing is sent).
  const std::string created = w + ".created";
  login.type(fmt::format("touch {0}\necho {1}-sent > /dev/tcp/127.0.0.1/{2}\n", created, id, port));
  const auto [status, out] = login.wait_exit(30s);  // the shell itself is killed at connect
  EXPECT_NE(status, -1) << "the quarantined shell survived its connect\n" << out;
  EXPECT_FALSE(std::filesystem::exists(created)) << "touch ran in a quarantined session";
  timeval tv{2, 0};
  ::setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const int c = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0) {  // the handshake may complete before the connect returns; no data follows
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    const ssize_t n = ::read(c, buf, sizeof buf);
    EXPECT_LE(n, 0) << "the killed shell sent: " << std::string(buf, n > 0 ? n : 0);
    ::close(c);
  }
  ::close(lfd);

  auto touch_kill = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "action" &&
               str(e, "privwatch.action.origin") == "kernel" &&
               str(e, "rule.name") == "respond.quarantine" &&
               str(e, "event.reason").find("exec of /usr/bin/touch") != std::string::npos &&
               num(e, "process.audit.session_id") == sid;
      },
      "respond.quarantine");
  ASSERT_TRUE(touch_kill) << "no kernel kill record for touch";
  auto connect_kill = agent().wait_for(kernel_kill_action(shell), std::to_string(shell));
  ASSERT_TRUE(connect_kill) << "no kernel kill record for the shell's connect";
  EXPECT_EQ(str(*connect_kill, "rule.name"), "respond.quarantine");
  EXPECT_NE(
      str(*connect_kill, "event.reason").find(fmt::format("connect to 127.0.0.1 port {}", port)),
      std::string::npos)
      << short_dump(*connect_kill);
  auto net = agent().wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "net" && num(e, "process.pid") == shell &&
               num(e, "destination.port") == port;
      },
      std::to_string(shell));
  ASSERT_TRUE(net) << "no connect event for the shell";
  const json* killed = field(*net, "privwatch.killed");
  EXPECT_TRUE(killed != nullptr && killed->get<bool>()) << short_dump(*net);
  expect_audited(*act);
}

// A session-like tree in its own audit session (root, not over ssh) with a member that runs
// the privwatch binary; its leader runs `/bin/true <args>` whenever the test writes a line.
struct RuleTree {
  Child leader;
  int go = -1;                 // write one byte per trigger
  std::vector<uint32_t> pids;  // leader, setsid child, orphan, privwatch
  uint32_t sid = kUnsetId;
  ~RuleTree() {
    if (go >= 0) ::close(go);
    for (uint32_t p : pids) {
      if (p != 0 && session_of(p) == sid) ::kill(static_cast<pid_t>(p), SIGKILL);
    }
  }
};

void start_rule_tree(RuleTree& t, const std::vector<std::vector<std::string>>& triggers) {
  int rep[2], go[2];
  ASSERT_EQ(::pipe(rep), 0);
  ASSERT_EQ(::pipe(go), 0);
  const int w = rep[1], r = go[0];
  const std::string pw = agent_binary();
  const std::string wd = g_rule.watchdir;
  // argv arrays prepared before the fork (the child only makes syscalls).
  std::vector<std::vector<char*>> targv;
  std::vector<std::vector<std::string>> tstore = triggers;
  for (auto& v : tstore) {
    targv.emplace_back();
    for (auto& s : v) targv.back().push_back(s.data());
    targv.back().push_back(nullptr);
  }
  std::vector<std::string> pws = {pw, "watch", "no-such-session", "--dir", wd, "--wait", "300"};
  std::vector<char*> pwargv;
  for (auto& s : pws) pwargv.push_back(s.data());
  pwargv.push_back(nullptr);
  t.leader = Child::run([&, w, r]() -> int {
    if (!new_audit_session()) return 3;
    write_pid(w);
    if (::fork() == 0) {
      ::setsid();
      write_pid(w, 1);
      pause_forever();
    }
    const pid_t mid = ::fork();
    if (mid == 0) {
      if (::fork() == 0) {
        ::setsid();
        write_pid(w, 2);
        pause_forever();
      }
      ::_exit(0);
    }
    ::waitpid(mid, nullptr, 0);
    if (::fork() == 0) {  // a process running the privwatch binary: never a target
      write_pid(w, 3);
      ::execv(pwargv[0], pwargv.data());
      ::_exit(127);
    }
    for (auto& argv : targv) {
      char c;
      if (::read(r, &c, 1) != 1) break;
      const pid_t k = ::fork();
      if (k == 0) {
        ::execv(argv[0], argv.data());
        ::_exit(127);
      }
      ::waitpid(k, nullptr, 0);
    }
    pause_forever();
  });
  ::close(w);
  ::close(r);
  t.go = go[1];
  t.pids.assign(4, 0);
  for (int i = 0; i < 4; ++i) {
    uint32_t role = 0;
    const uint32_t pid = read_pid(rep[0], &role);
    ASSERT_TRUE(pid != 0 && role < 4) << "the tree did not start (" << i << " of 4 reported)";
    t.pids[role] = pid;
  }
  ::close(rep[0]);
  t.sid = session_of(t.pids[0]);
  ASSERT_NE(t.sid, kUnsetId);
  ASSERT_TRUE(eventually([&] {
    auto p = read_proc(t.pids[3]);
    return p && p->exe == agent_binary();
  })) << "the privwatch member did not start";
}

TEST_F(RespondRuleTest, DetectModeOnlyRecordsAndTerminateSparesThePrivwatchBinary) {
  const std::string id = unique_token("tree");
  RuleTree t;
  ASSERT_NO_FATAL_FAILURE(start_rule_tree(
      t, {{"/bin/true", g_rule.tok + "-dry", id}, {"/bin/true", g_rule.tok + "-terminate", id}}));

  // detect mode: recorded as a dry run with the processes it would reach, nothing touched.
  ASSERT_EQ(::write(t.go, "x", 1), 1);
  auto dry = rule_action("terminate", "resp-dry", id);
  ASSERT_TRUE(dry) << "no dry-run action record";
  EXPECT_EQ(str(*dry, "privwatch.action.result"), "dry_run") << short_dump(*dry);
  EXPECT_EQ(str(*dry, "event.outcome"), "unknown");
  std::set<uint32_t> would;
  for (const auto& p : *field(*dry, "privwatch.action.target.pids")) {
    would.insert(p.get<uint32_t>());
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(would.count(t.pids[i]), 1u) << "pid " << t.pids[i];
  EXPECT_EQ(would.count(t.pids[3]), 0u) << "the privwatch binary would have been hit";
  for (uint32_t p : t.pids) EXPECT_NE(proc_state(p), 0) << "pid " << p << " gone in detect mode";
  expect_audited(*dry);

  // enforce: every member dies but the one running the privwatch binary (and the agent).
  ASSERT_EQ(::write(t.go, "x", 1), 1);
  auto act = rule_action("terminate", "resp-terminate", id);
  ASSERT_TRUE(act) << "no terminate action record";
  EXPECT_EQ(str(*act, "privwatch.action.result"), "success") << short_dump(*act);
  const int leader_status = t.leader.wait(10s);
  EXPECT_TRUE(WIFSIGNALED(leader_status) && WTERMSIG(leader_status) == SIGKILL)
      << describe_status(leader_status);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(eventually([&] { return gone(t.pids[i], t.sid); })) << "pid " << t.pids[i];
  }
  EXPECT_NE(proc_state(t.pids[3]), 0) << "the privwatch binary was killed";
  EXPECT_NE(proc_state(t.pids[3]), 'T') << "the privwatch binary was stopped";
  EXPECT_TRUE(agent().alive());
  const json* errors = field(*act, "privwatch.action.errors");
  ASSERT_NE(errors, nullptr) << short_dump(*act);
  EXPECT_NE(errors->dump().find(fmt::format("spared: {} ", t.pids[3])), std::string::npos)
      << errors->dump();
  EXPECT_NE(errors->dump().find("runs the privwatch binary"), std::string::npos) << errors->dump();
  expect_audited(*act);
}

}  // namespace
}  // namespace privwatch::itest
