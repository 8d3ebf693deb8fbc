// Session tracker: entry leaders, nesting, escalations and losses from synthetic kernel events
// fed through the real enricher (the kernel-side behaviour is covered by the sshd/sudo
// integration tests).
#include "session/tracker.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "enrich/enricher.hpp"

namespace privwatch::session {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;
constexpr uint32_t kAlice = 1001;
constexpr uint32_t kBob = 1002;

enrich::UserDirectoryOptions fake_users() {
  static const std::map<uint32_t, std::string> users = {
      {0, "root"}, {kAlice, "alice"}, {kBob, "bob"}};
  enrich::UserDirectoryOptions o;
  o.lookup_user = [](uint32_t id, std::string& name) {
    auto it = users.find(id);
    if (it == users.end()) return enrich::LookupResult::kNotFound;
    name = it->second;
    return enrich::LookupResult::kFound;
  };
  o.lookup_group = [](uint32_t, std::string&) { return enrich::LookupResult::kNotFound; };
  return o;
}

struct Recorder : SessionObserver {
  std::vector<model::Session> sessions;  // every change, in order
  std::vector<model::Escalation> escalations;
  void session_changed(const model::Session& s) override { sessions.push_back(s); }
  void escalation(const model::Escalation& e) override { escalations.push_back(e); }
  // Latest version of each session id.
  std::map<std::string, model::Session> latest() const {
    std::map<std::string, model::Session> m;
    for (const auto& s : sessions) m[s.id] = s;
    return m;
  }
};

// A process as the kernel describes it; start times in whole seconds.
struct Proc {
  uint32_t pid = 0;
  uint64_t start = 0;
  uint32_t ppid = 0;
  uint64_t pstart = 0;
  uint32_t uid = 0, euid = 0;
  uint32_t loginuid = model::kUnsetId, sessionid = model::kUnsetId;
  std::string tty;
  uint32_t pidns = 4026531836u;
};

class TrackerTest : public ::testing::Test {
 protected:
  TrackerTest()
      : enricher_(4096, 30 * kSec, fake_users()),
        tracker_(enricher_.table(), enricher_.users(), rec_,
                 TrackerOptions{"host-1", "b00710ad", 4096}) {}

  model::ProcessContext ctx(const Proc& p) {
    model::ProcessContext c;
    c.pid = c.tid = p.pid;
    c.start_ns = p.start * kSec;
    c.ppid = p.ppid;
    c.parent_start_ns = p.pstart * kSec;
    c.uid = c.suid = c.fsuid = p.uid;
    c.euid = p.euid;
    c.loginuid = p.loginuid;
    c.sessionid = p.sessionid;
    c.tty = p.tty;
    c.pidns = p.pidns;
    c.comm = "x";
    return c;
  }

  model::Event& feed(model::Event& ev) {
    ev.ts_ns = ++now_;
    ev.seq = ++seq_;
    enricher_.process(ev);
    tracker_.process(ev);
    return ev;
  }

  model::Event exec(const Proc& p, const std::string& exe, std::vector<std::string> args,
                    uint32_t flags = 0) {
    model::Event ev;
    ev.kind = model::EventKind::kExec;
    ev.proc = ctx(p);
    model::ExecData d;
    d.exe_path = exe;
    d.filename = exe;
    d.args = std::move(args);
    d.flags = flags;
    ev.data = d;
    feed(ev);
    return ev;
  }
  model::Event fork(const Proc& parent, const Proc& child) {
    model::Event ev;
    ev.kind = model::EventKind::kFork;
    ev.proc = ctx(parent);
    ev.data = model::ForkData{child.pid, child.start * kSec};
    feed(ev);
    return ev;
  }
  model::Event exit(const Proc& p, int status) {
    model::Event ev;
    ev.kind = model::EventKind::kExit;
    ev.proc = ctx(p);
    model::ExitData x;
    x.exit_code = static_cast<uint32_t>(status) << 8;
    ev.data = x;
    feed(ev);
    return ev;
  }
  model::Event accept(const Proc& p, uint8_t last_octet, uint16_t port) {
    model::Event ev;
    ev.kind = model::EventKind::kNet;
    ev.proc = ctx(p);
    model::NetData n;
    n.op = model::NetOp::kAccept;
    n.family = 2;  // AF_INET
    n.remote_addr = {10, 0, 0, last_octet};
    n.remote_port = port;
    n.result = 5;
    ev.data = n;
    feed(ev);
    return ev;
  }
  model::Event cred(const Proc& p, uint32_t before_euid, uint32_t after_euid,
                    uint64_t caps_before = 0, uint64_t caps_after = 0) {
    model::Event ev;
    ev.kind = model::EventKind::kCred;
    ev.proc = ctx(p);
    model::CredData c;
    c.before_valid = true;
    c.before.uid = c.before.euid = c.before.suid = before_euid;
    c.after.uid = p.uid;
    c.after.euid = after_euid;
    c.before.cap_effective = caps_before;
    c.after.cap_effective = caps_after;
    ev.data = c;
    feed(ev);
    return ev;
  }

  // An sshd listener (child of init) that accepted a connection and forked a session child
  // which logged alice in (audit session 7) and started her shell on pts/0.
  void ssh_login() {
    exec(sshd_, "/usr/sbin/sshd", {"/usr/sbin/sshd", "-D"});
    accept(sshd_, 5, 40222);
    fork(sshd_, priv_);
    exec(priv_, "/usr/sbin/sshd", {"sshd: alice [priv]"});
    Proc preauth{199, 20, 200, 20, 100, 100};  // privsep child: must not take the client
    fork(priv_, preauth);
    priv_.loginuid = kAlice;
    priv_.sessionid = 7;
    fork(priv_, shell_);
    exec(shell_, "/usr/bin/bash", {"-bash"});
  }

  uint64_t now_ = 100 * kSec;
  uint64_t seq_ = 0;
  enrich::Enricher enricher_;
  Recorder rec_;
  SessionTracker tracker_;

  Proc sshd_{100, 10, 1, 1};
  Proc priv_{200, 20, 100, 10};
  Proc shell_{201, 21, 200, 20, kAlice, kAlice, kAlice, 7, "pts/0"};
};

TEST_F(TrackerTest, SshLoginIsASessionWithClientAndHuman) {
  ssh_login();
  const auto ev = exec(shell_, "/usr/bin/ls", {"ls"});
  ASSERT_NE(ev.attr.session, nullptr);
  const auto& s = *ev.attr.session;
  EXPECT_EQ(s.entry_type, model::EntryType::kSsh);
  EXPECT_EQ(s.id, "b00710ad-200-2000");  // leader: the process that logged in
  EXPECT_EQ(s.client_ip, "10.0.0.5");
  EXPECT_EQ(s.client_port, 40222);
  EXPECT_EQ(s.human, "alice");
  EXPECT_EQ(s.loginuid, kAlice);
  EXPECT_EQ(s.audit_session, 7u);
  EXPECT_TRUE(s.interactive);
  EXPECT_EQ(s.tty, "pts/0");
  EXPECT_EQ(s.host, "host-1");
  EXPECT_EQ(ev.attr.human, "alice");
  EXPECT_FALSE(ev.attr.escalated);
  // The listener is a service session of its own; the login is not nested in it.
  const auto listener = tracker_.session_of({100, 1000});
  ASSERT_NE(listener, nullptr);
  EXPECT_EQ(listener->entry_type, model::EntryType::kSystemd);
  EXPECT_TRUE(s.parent_id.empty());
}

TEST_F(TrackerTest, SudoInteractiveShellNestsAndStaysTheHumans) {
  ssh_login();
  Proc sudo{300, 30, 201, 21, kAlice, 0, kAlice, 7, "pts/0"};
  exec(sudo, "/usr/bin/sudo", {"sudo", "-i"}, model::kExecSetuid);
  sudo.uid = 0;
  Proc root_shell{301, 31, 300, 30, 0, 0, kAlice, 7, "pts/0"};
  fork(sudo, root_shell);
  exec(root_shell, "/usr/bin/bash", {"-bash"});
  ASSERT_EQ(rec_.escalations.size(), 1u);
  const auto& e = rec_.escalations[0];
  EXPECT_TRUE(e.success);
  EXPECT_EQ(e.method, model::EscalationMethod::kSudo);
  EXPECT_EQ(e.from_user, "alice");
  EXPECT_EQ(e.to_user, "root");
  EXPECT_EQ(e.human, "alice");
  EXPECT_EQ(e.command, "/usr/bin/bash");
  EXPECT_EQ(e.tool_args, (std::vector<std::string>{"sudo", "-i"}));

  // alice → sudo -i → root → /tmp/x.sh: still alice's, escalated through sudo, in a nested
  // session whose parent is the ssh login.
  Proc script{302, 32, 301, 31, 0, 0, kAlice, 7, "pts/0"};
  const auto ev = exec(script, "/tmp/x.sh", {"/bin/sh", "/tmp/x.sh"});
  EXPECT_EQ(ev.attr.human, "alice");
  EXPECT_TRUE(ev.attr.escalated);
  EXPECT_EQ(ev.attr.escalation, model::EscalationMethod::kSudo);
  ASSERT_NE(ev.attr.session, nullptr);
  EXPECT_EQ(ev.attr.session->entry_type, model::EntryType::kSudo);
  EXPECT_EQ(ev.attr.session->parent_id, "b00710ad-200-2000");
  EXPECT_EQ(ev.attr.session->user, "root");
  EXPECT_EQ(ev.attr.session->human, "alice");
  EXPECT_EQ(e.session_id, "b00710ad-200-2000");  // it happened in the login session
}

TEST_F(TrackerTest, WrongSudoPasswordIsAFailedEscalation) {
  ssh_login();
  Proc sudo{310, 40, 201, 21, kAlice, 0, kAlice, 7, "pts/0"};
  exec(sudo, "/usr/bin/sudo", {"sudo", "-u", "bob", "id"}, model::kExecSetuid);
  exit(sudo, 1);
  ASSERT_EQ(rec_.escalations.size(), 1u);
  const auto& e = rec_.escalations[0];
  EXPECT_FALSE(e.success);
  EXPECT_EQ(e.exit_status, 1);
  EXPECT_EQ(e.to_user, "bob");
  EXPECT_EQ(e.from_user, "alice");
  EXPECT_EQ(e.method, model::EscalationMethod::kSudo);
  // sudo -l style runs that exit 0 without a command are not failures.
  Proc list{311, 41, 201, 21, kAlice, 0, kAlice, 7, "pts/0"};
  exec(list, "/usr/bin/sudo", {"sudo", "-l"}, model::kExecSetuid);
  exit(list, 0);
  EXPECT_EQ(rec_.escalations.size(), 1u);
}

TEST_F(TrackerTest, SuToAnotherUserFromRootNestsASuSession) {
  ssh_login();
  Proc su{320, 50, 201, 21, 0, 0, kAlice, 7, "pts/0"};
  exec(su, "/usr/bin/su", {"su", "-", "bob"}, model::kExecSetuid);
  Proc child{321, 51, 320, 50, 0, 0, kAlice, 7, "pts/0"};
  fork(su, child);
  child.uid = child.euid = kBob;
  exec(child, "/usr/bin/bash", {"-bash"});
  ASSERT_EQ(rec_.escalations.size(), 1u);
  EXPECT_EQ(rec_.escalations[0].method, model::EscalationMethod::kSu);
  EXPECT_EQ(rec_.escalations[0].to_user, "bob");
  const auto s = tracker_.session_of({321, 5100});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->entry_type, model::EntryType::kSu);
  EXPECT_EQ(s->user, "bob");
  EXPECT_EQ(s->human, "alice");
}

TEST_F(TrackerTest, TmuxPaneIsANestedTerminalSession) {
  ssh_login();
  Proc server{330, 60, 1, 1, kAlice, kAlice, kAlice, 7, ""};
  exec(server, "/usr/bin/tmux", {"tmux", "new-session", "-d"});
  Proc pane{331, 61, 330, 60, kAlice, kAlice, kAlice, 7, "pts/3"};
  const auto ev = exec(pane, "/usr/bin/bash", {"-bash"});
  ASSERT_NE(ev.attr.session, nullptr);
  EXPECT_EQ(ev.attr.session->entry_type, model::EntryType::kTerminal);
  EXPECT_EQ(ev.attr.human, "alice");
  // The tmux server was reparented to init but keeps alice's audit session: the login.
  EXPECT_EQ(ev.attr.session->parent_id, "b00710ad-200-2000");
}

TEST_F(TrackerTest, ShellOnAnotherTerminalOfTheLoginIsNestedEvenWithAnUnknownParent) {
  ssh_login();
  // A pane whose (daemonised) server the tracker never saw: same audit session, new tty.
  Proc pane{335, 65, 334, 64, kAlice, kAlice, kAlice, 7, "pts/5"};
  const auto ev = exec(pane, "/usr/bin/bash", {"bash", "--norc", "-i"});
  ASSERT_NE(ev.attr.session, nullptr);
  EXPECT_EQ(ev.attr.session->entry_type, model::EntryType::kTerminal);
  EXPECT_EQ(ev.attr.session->parent_id, "b00710ad-200-2000");
  // A script (not an interactive shell) on that terminal stays in the pane's session.
  Proc job{336, 66, 335, 65, kAlice, kAlice, kAlice, 7, "pts/5"};
  const auto ev2 = exec(job, "/usr/bin/bash", {"bash", "job.sh"});
  EXPECT_EQ(ev2.attr.session->id, ev.attr.session->id);
}

TEST_F(TrackerTest, AnotherPidNamespaceIsAContainerSessionNestedInTheCaller) {
  ssh_login();
  Proc runc{340, 70, 201, 21, 0, 0, kAlice, 7, "pts/0"};
  exec(runc, "/usr/bin/runc", {"runc", "exec", "-t", "c1", "sh"});
  Proc inside{341, 71, 340, 70, 0, 0, kAlice, 7, "pts/0", 4026532999u};
  const auto ev = exec(inside, "/bin/sh", {"sh"});
  ASSERT_NE(ev.attr.session, nullptr);
  EXPECT_EQ(ev.attr.session->entry_type, model::EntryType::kContainer);
  EXPECT_EQ(ev.attr.session->parent_id, "b00710ad-200-2000");
  EXPECT_EQ(ev.attr.human, "alice");
}

TEST_F(TrackerTest, SetuidCallAndCapabilityGainAreEscalations) {
  ssh_login();
  Proc p{350, 80, 201, 21, kAlice, kAlice, kAlice, 7, "pts/0"};
  exec(p, "/tmp/exploit", {"/tmp/exploit"});
  cred(p, kAlice, 0);
  ASSERT_EQ(rec_.escalations.size(), 1u);
  EXPECT_EQ(rec_.escalations[0].method, model::EscalationMethod::kSetuidCall);
  EXPECT_EQ(rec_.escalations[0].to_user, "alice");  // uid unchanged, euid root
  Proc q{351, 81, 201, 21, kAlice, kAlice, kAlice, 7, "pts/0"};
  exec(q, "/tmp/capper", {"/tmp/capper"});
  cred(q, kAlice, kAlice, 0, 1ull << 21);
  ASSERT_EQ(rec_.escalations.size(), 2u);
  EXPECT_EQ(rec_.escalations[1].method, model::EscalationMethod::kCapset);
  // Root dropping privileges is not an escalation.
  Proc r{352, 82, 1, 1, 0, 0};
  exec(r, "/usr/sbin/daemon", {"daemon"});
  cred(r, 0, 1000);
  EXPECT_EQ(rec_.escalations.size(), 2u);
}

TEST_F(TrackerTest, SetuidBinaryExecIsAnEscalation) {
  ssh_login();
  Proc p{360, 90, 201, 21, kAlice, 0, kAlice, 7, "pts/0"};
  const auto ev = exec(p, "/usr/bin/passwd", {"passwd"}, model::kExecSetuid);
  ASSERT_EQ(rec_.escalations.size(), 1u);
  EXPECT_EQ(rec_.escalations[0].method, model::EscalationMethod::kSetuidBinary);
  EXPECT_EQ(rec_.escalations[0].to_user, "root");
  EXPECT_TRUE(ev.attr.escalated);
}

TEST_F(TrackerTest, LossesMarkActiveSessionsIncompleteAndLeaderExitEndsTheSession) {
  ssh_login();
  tracker_.note_losses(12);
  auto latest = rec_.latest();
  ASSERT_TRUE(latest.count("b00710ad-200-2000"));
  EXPECT_TRUE(latest["b00710ad-200-2000"].incomplete());
  EXPECT_EQ(latest["b00710ad-200-2000"].lost_events, 12u);
  EXPECT_EQ(tracker_.stats().sessions_active, 2u);  // the sshd service and the login
  exit(shell_, 0);
  exit(priv_, 0);
  latest = rec_.latest();
  EXPECT_NE(latest["b00710ad-200-2000"].end_wall_ns, 0u);
  EXPECT_GT(latest["b00710ad-200-2000"].version, 2u);
  EXPECT_EQ(tracker_.stats().sessions_active, 1u);
  // Losses after the end do not touch it.
  tracker_.note_losses(5);
  EXPECT_EQ(rec_.latest()["b00710ad-200-2000"].lost_events, 12u);
}

TEST_F(TrackerTest, ProcessesOlderThanTheAgentResolveThroughTheProcessTable) {
  // No fork/exec seen for 401/402: their first events carry ppid/parent start only; the
  // parent chain comes from the process table (here: the login's shell).
  ssh_login();
  Proc child{401, 95, 201, 21, kAlice, kAlice, kAlice, 7, "pts/0"};
  model::Event ev;
  ev.kind = model::EventKind::kFile;
  ev.proc = ctx(child);
  ev.data = model::FileData{};
  feed(ev);
  ASSERT_NE(ev.attr.session, nullptr);
  EXPECT_EQ(ev.attr.session->id, "b00710ad-200-2000");
}

TEST_F(TrackerTest, BoundedProcessState) {
  enrich::Enricher enricher(4096, 30 * kSec, fake_users());
  Recorder rec;
  SessionTracker small(enricher.table(), enricher.users(), rec, TrackerOptions{"h", "b", 100});
  for (uint32_t i = 0; i < 1000; ++i) {
    Proc p{1000 + i, 200 + i, 1, 1};
    model::Event ev;
    ev.kind = model::EventKind::kFile;
    ev.proc = ctx(p);
    ev.data = model::FileData{};
    ev.ts_ns = (200 + i) * kSec;
    enricher.process(ev);
    small.process(ev);
  }
  EXPECT_LE(small.stats().processes, 100u);
  EXPECT_GT(small.stats().process_evictions, 0u);
}

}  // namespace
}  // namespace privwatch::session
