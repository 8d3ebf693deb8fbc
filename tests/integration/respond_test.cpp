// Response actions against real processes and the real kernel:
//  - `privwatch respond` freezes, thaws and terminates a session-like process tree whose
//    members left the process group, started their own session (setsid) or were double-forked
//    and reparented — all found through their audit session id;
//  - warn writes a banner to the session's real terminal (a pty opened by the test);
//  - PID 1 and the agent are refused;
//  - the agent with respond.kill entries: a monitored process connecting to a listed
//    destination, or executing a listed file, is killed by the kernel (SIGKILL) at that
//    syscall and an action record appears; an unmonitored process is left alone.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "agent_fixture.hpp"

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

}  // namespace
}  // namespace privwatch::itest
