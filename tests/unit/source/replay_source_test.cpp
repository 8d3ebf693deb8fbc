// ECS JSON lines → model::Event → ECS JSON lines gives the same line back (import of
// privwatch's own output), and audit logs captured with auditd parse into events.
#include "source/replay_source.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <filesystem>
#include <fstream>

#include "export/ecs_json.hpp"

namespace privwatch::source {
namespace {

constexpr uint64_t kBoot = 1'000'000'000'000ull;                    // boot time of the recording
constexpr uint64_t kWallOffset = 1767571200ull * 1'000'000'000ull;  // wall = boot + this

model::Event base(model::EventKind k, uint64_t ts) {
  model::Event ev;
  ev.kind = k;
  ev.ts_ns = kBoot + ts;
  ev.wall_time_ns = kWallOffset + ev.ts_ns;
  ev.flags = model::kFlagMonitored;
  auto& p = ev.proc;
  p.pid = p.tid = 4242;
  p.ppid = 4000;
  p.start_ns = 990'000'000'000ull;
  p.parent_start_ns = 900'000'000'000ull;
  p.uid = p.euid = p.suid = p.fsuid = 1000;
  p.gid = p.egid = 1000;
  p.loginuid = 1000;
  p.sessionid = 7;
  p.tty_dev = (136u << 20) | 3;
  p.tty = "pts3";
  p.cgroup_id = 1234;
  p.pidns = 4026531836u;
  p.mntns = 4026531840u;
  p.comm = "nc";
  ev.user_name = ev.effective_user_name = ev.login_user_name = "alice";
  ev.group_name = "alice";
  ev.exe = "/usr/bin/nc";
  ev.parent_exe = "/usr/bin/bash";
  ev.parent_comm = "bash";
  ev.parent_args = {"-bash"};
  // Attribution as the inventory and the session tracker fill it.
  ev.attr.host = "db-1";
  ev.attr.cluster = "db-servers";
  ev.attr.human = "alice";
  ev.attr.roles = {"dba", "oncall"};
  ev.attr.escalated = true;
  ev.attr.escalation = model::EscalationMethod::kSudo;
  auto s = std::make_shared<model::Session>();
  s->id = "0a1b2c3d-3999-99000";
  s->parent_id = "0a1b2c3d-3000-90000";
  s->entry_type = model::EntryType::kSsh;
  s->leader = {3999, 99000};
  s->start_wall_ns = kWallOffset + 990'000'000'000ull;
  s->leader_exe = "/usr/sbin/sshd";
  s->client_ip = "198.51.100.7";
  s->client_port = 51234;
  s->uid = 1000;
  s->user = "alice";
  s->lost_events = 3;
  ev.attr.session = s;
  ev.attr.container.id = std::string(64, 'a');
  ev.attr.container.runtime = "containerd";
  ev.attr.container.pod_uid = "1234-5678";
  ev.attr.container.pod_name = "web-0";
  ev.attr.container.k8s_namespace = "prod";
  ev.attr.drift = model::kDriftExecutable | model::kDriftShell;
  ev.attr.drift_reason = "declared: /usr/bin/psql; ran: /usr/bin/nc";
  return ev;
}

std::vector<model::Event> samples() {
  std::vector<model::Event> v;
  {
    auto ev = base(model::EventKind::kExec, 1);
    ev.syscall = SYS_execve;
    model::ExecData x;
    x.filename = "/usr/bin/nc";
    x.exe_path = "/usr/bin/nc";
    x.cwd = "/home/alice";
    x.args = {"nc", "203.0.113.9", "4444", "a \"quoted\" arg"};
    x.args_size = 30;
    x.exe_ino = 1234;
    x.exe_mode = 0100755;
    x.exe_dev = 2049;
    ev.data = x;
    v.push_back(ev);
  }
  {
    auto ev = base(model::EventKind::kNet, 2);
    ev.syscall = SYS_connect;
    model::NetData n;
    n.op = model::NetOp::kConnect;
    n.family = AF_INET;
    n.sock_type = SOCK_STREAM;
    n.fd = 3;
    n.local_port = 50000;
    n.remote_port = 4444;
    n.local_addr = {10, 0, 0, 5};
    n.remote_addr = {203, 0, 113, 9};
    ev.data = n;
    v.push_back(ev);
  }
  {
    auto ev = base(model::EventKind::kFile, 3);
    ev.syscall = SYS_openat;
    model::FileData f;
    f.op = model::FileOp::kOpen;
    f.path = "/etc/shadow";
    f.requested_path = "shadow";
    f.open_flags = O_RDONLY | O_CLOEXEC;
    f.dirfd = 5;
    ev.data = f;
    ev.flags |= model::kFlagSensitive;
    v.push_back(ev);
  }
  {
    auto ev = base(model::EventKind::kFile, 4);
    ev.syscall = SYS_openat;
    model::FileData f;
    f.op = model::FileOp::kOpen;
    f.result = -13;
    f.path = "/root/x";
    f.requested_path = "/root/x";
    f.open_flags = O_WRONLY | O_CREAT | O_TRUNC;
    f.mode = 0644;
    f.file_flags = model::kFileWrite;
    ev.data = f;
    v.push_back(ev);
  }
  {
    auto ev = base(model::EventKind::kCred, 5);
    ev.syscall = SYS_setresuid;
    model::CredData c;
    c.args = {0, 0, 0};
    c.before_valid = true;
    c.before = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 0, 0};
    c.after = {0, 0, 0, 0, 1000, 1000, 1000, 1000, 0x1ffffffffffull, 0x1ffffffffffull};
    ev.data = c;
    v.push_back(ev);
  }
  {
    auto ev = base(model::EventKind::kExit, 6);
    model::ExitData x;
    x.exit_code = (3 << 8);
    ev.data = x;
    v.push_back(ev);
  }
  {
    auto ev = base(model::EventKind::kModule, 7);
    ev.syscall = SYS_finit_module;
    model::ModuleData m;
    m.op = model::ModuleOp::kFinit;
    m.name = "/tmp/rootkit.ko";
    ev.data = m;
    v.push_back(ev);
  }
  {
    auto ev = base(model::EventKind::kTty, 8);
    ev.syscall = SYS_write;
    model::TtyData t;
    t.op = model::TtyOp::kOutput;
    t.tty = "pts3";
    t.dev = (136u << 20) | 3;
    t.rows = 24;
    t.cols = 80;
    t.result = 12;
    t.data = "\x1b[31mhello\r\n";
    t.flags = model::kTtyTruncated;
    ev.data = t;
    v.push_back(ev);
    t.op = model::TtyOp::kInput;
    t.flags = model::kTtyEchoOff;
    t.data.clear();
    t.result = 9;
    ev.syscall = SYS_read;
    ev.data = t;
    v.push_back(ev);
  }
  return v;
}

TEST(ReplayJsonLines, PrivwatchOutputParsesBackToTheSameEvent) {
  for (const auto& ev : samples()) {
    std::string line;
    exporter::append_ecs_json(ev, line, "db-1");
    model::Event back;
    std::string why;
    ASSERT_TRUE(parse_ecs_event(line, back, why)) << why << "\n" << line;
    EXPECT_EQ(back.kind, ev.kind);
    EXPECT_EQ(back.wall_time_ns, ev.wall_time_ns);
    EXPECT_EQ(back.attr.host, "db-1");
    std::string again;
    exporter::append_ecs_json(back, again, "db-1");
    EXPECT_EQ(again, line);
  }
}

TEST(ReplayJsonLines, NonEventsAreSkippedAndGarbageIsReported) {
  model::Event ev;
  std::string why;
  EXPECT_FALSE(parse_ecs_event(R"({"event":{"kind":"alert"},"rule":{"name":"x"}})", ev, why));
  EXPECT_TRUE(why.empty());
  EXPECT_FALSE(parse_ecs_event(
      R"({"event":{"kind":"event"},"privwatch":{"kind":"session"},"session":{"id":"x"}})", ev,
      why));
  EXPECT_TRUE(why.empty());
  EXPECT_FALSE(parse_ecs_event("{not json", ev, why));
  EXPECT_EQ(why, "not a JSON object");
  EXPECT_FALSE(
      parse_ecs_event(R"({"event":{"kind":"event"},"privwatch":{"kind":"exec"}})", ev, why));
  EXPECT_NE(why.find("@timestamp"), std::string::npos);
}

TEST(ReplayJsonLines, TimestampsFollowTheSharedRfc3339Parser) {
  constexpr uint64_t k0214 = 1795313655ull * 1'000'000'000ull;  // 2026-11-22T02:14:15Z
  auto wall = [](const std::string& ts, std::string& why) -> uint64_t {
    model::Event ev;
    why.clear();
    const std::string line =
        R"({"@timestamp":")" + ts + R"(","event":{"kind":"event"},"privwatch":{"kind":"exec"}})";
    return parse_ecs_event(line, ev, why) ? ev.wall_time_ns : 0;
  };
  std::string why;
  EXPECT_EQ(wall("2026-11-22T02:14:15.5Z", why), k0214 + 500'000'000) << why;
  EXPECT_EQ(wall("2026-11-22T02:14:15", why), k0214) << why;  // no zone: UTC, as before
  // The offset counts (the sscanf parser ignored it and read 04:14:15 UTC).
  EXPECT_EQ(wall("2026-11-22T04:14:15+02:00", why), k0214) << why;
  for (const char* bad : {"2026-13-22T02:14:15Z", "2026-11-22T02:14:15Z junk", "2026-1-2T2:1:1Z"}) {
    EXPECT_EQ(wall(bad, why), 0u) << bad;
    EXPECT_NE(why.find("@timestamp"), std::string::npos) << bad;
  }
}

class CountingSink : public EventSink {
 public:
  void on_event(model::Event& ev) override { events.push_back(ev); }
  std::vector<model::Event> events;
};

TEST(ReplaySource, ReadsAFileCountsErrorsAndDetectsTheFormat) {
  const std::string path = "/tmp/pw-replay-test.jsonl";
  {
    std::ofstream f(path);
    for (const auto& ev : samples()) {
      std::string line;
      exporter::append_ecs_json(ev, line, "db-1");
      f << line << "\n";
    }
    f << "{\"event\":{\"kind\":\"alert\"}}\n";
    f << "this is not json\n";
  }
  auto src = ReplaySource::open(path, {});
  ASSERT_TRUE(src) << src.error().to_string();
  EXPECT_EQ((*src)->format(), ReplayFormat::kJsonLines);
  CountingSink sink;
  while (!(*src)->exhausted()) ASSERT_TRUE((*src)->poll(sink, 0));
  EXPECT_EQ(sink.events.size(), samples().size());
  const auto& rs = (*src)->replay_stats();
  EXPECT_EQ(rs.other_records, 1u);
  EXPECT_EQ(rs.errors, 1u);
  ASSERT_EQ(rs.error_samples.size(), 1u);
  // The garbage line follows the samples and the alert line.
  EXPECT_EQ(rs.error_samples[0],
            path + ":" + std::to_string(samples().size() + 2) + ": not a JSON object");
  std::filesystem::remove(path);

  auto missing = ReplaySource::open("/nonexistent/file", {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/nonexistent/file"), std::string::npos);
  EXPECT_FALSE(parse_replay_format("xml"));
}

// A real audit log: captured on the development machine with auditd 3.0.9 (ENRICHED format)
// and the rule `-a always,exit -F arch=b64 -S execve,connect,openat -F uid=4242 -k pwtest`
// while running, as uid 4242:
//   setpriv --reuid=4242 --regid=4242 --clear-groups bash -c 'cd /tmp; ls / >/dev/null;
//     cat /etc/hostname >/dev/null; echo hi > /tmp/pw-auditd-write.txt;
//     (exec 3<>/dev/tcp/127.0.0.1/9); /usr/bin/env true "arg with space"'
// (only the records of the test's events are kept).
TEST(AuditImport, RealAuditdLogBecomesEvents) {
  const std::string path =
      std::string(PRIVWATCH_SOURCE_DIR) + "/tests/unit/source/fixtures/auditd_enriched.log";
  auto src = ReplaySource::open(path, {});
  ASSERT_TRUE(src) << src.error().to_string();
  EXPECT_EQ((*src)->format(), ReplayFormat::kAuditd);
  CountingSink sink;
  while (!(*src)->exhausted()) ASSERT_TRUE((*src)->poll(sink, 0));
  EXPECT_EQ((*src)->replay_stats().errors, 0u);

  const model::Event* env = nullptr;
  const model::Event* conn = nullptr;
  const model::Event* write = nullptr;
  size_t failed_execs = 0;
  for (const auto& ev : sink.events) {
    EXPECT_NE(ev.wall_time_ns, 0u);
    if (const auto* x = std::get_if<model::ExecData>(&ev.data)) {
      if (x->flags & model::kExecFailed) ++failed_execs;
      if (x->exe_path == "/usr/bin/env") env = &ev;
    }
    if (ev.kind == model::EventKind::kNet) conn = &ev;
    if (const auto* f = std::get_if<model::FileData>(&ev.data)) {
      if (f->path == "/tmp/pw-auditd-write.txt") write = &ev;
    }
  }
  // setpriv looked for bash along PATH: failed execve attempts (ENOENT) before the real one.
  EXPECT_GT(failed_execs, 0u);
  ASSERT_NE(env, nullptr);
  const auto& x = std::get<model::ExecData>(env->data);
  EXPECT_EQ(x.args, (std::vector<std::string>{"/usr/bin/env", "true", "arg with space"}));
  EXPECT_EQ(x.cwd, "/tmp");
  EXPECT_EQ(env->proc.uid, 4242u);
  EXPECT_EQ(env->proc.euid, 4242u);
  EXPECT_EQ(env->proc.loginuid, model::kUnsetId);
  EXPECT_EQ(env->syscall, static_cast<uint32_t>(SYS_execve));
  EXPECT_EQ(env->user_name, "unknown(4242)");  // ENRICHED: the name auditd resolved
  ASSERT_NE(conn, nullptr);
  const auto& n = std::get<model::NetData>(conn->data);
  EXPECT_EQ(n.op, model::NetOp::kConnect);
  EXPECT_EQ(n.family, AF_INET);
  EXPECT_EQ(conn->proc.comm, "bash");
  EXPECT_EQ(n.remote_ip(), "127.0.0.1");
  EXPECT_EQ(n.remote_port, 9);
  EXPECT_EQ(n.result, -111);  // ECONNREFUSED: nothing listens on the discard port
  ASSERT_NE(write, nullptr);
  const auto& f = std::get<model::FileData>(write->data);
  EXPECT_TRUE(f.file_flags & model::kFileCreated);
  EXPECT_TRUE(f.file_flags & model::kFileWrite);
  EXPECT_EQ(f.open_flags & O_ACCMODE, static_cast<uint32_t>(O_WRONLY));
}

TEST(AuditImport, FieldsQuotedHexAndChunkedArguments) {
  auto f = AuditParser::fields(
      R"(argc=3 a0="ls" a1=2D6C61 a2="x y" cwd=2F746D702F6120622063 exe="/usr/bin/ls")"
      "\x1d"
      R"(AUID="alice" UID="root")");
  EXPECT_EQ(f["a0"], "ls");
  EXPECT_EQ(f["a1"], "-la");
  EXPECT_EQ(f["a2"], "x y");
  EXPECT_EQ(f["cwd"], "/tmp/a b c");
  EXPECT_EQ(f["AUID"], "alice");
  EXPECT_EQ(f["UID"], "root");

  AuditParser p;
  std::deque<model::Event> out;
  std::string why;
  const char* lines[] = {
      R"(type=USER_LOGIN msg=audit(1700000000.000:10): pid=900 uid=0 auid=1000 ses=5 msg='op=login id=1000 exe="/usr/sbin/sshd" hostname=203.0.113.7 addr=203.0.113.7 terminal=/dev/pts/1 res=success')",
      R"(type=SYSCALL msg=audit(1700000001.250:11): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=2 ppid=1000 pid=1001 auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts1 ses=5 comm="curl" exe="/usr/bin/curl" key=(null))",
      R"(type=EXECVE msg=audit(1700000001.250:11): argc=2 a0="curl" a1_len=10 a1[0]=68747470 a1[1]=3A2F2F78)",
      R"(type=CWD msg=audit(1700000001.250:11): cwd="/root")",
      R"(type=PATH msg=audit(1700000001.250:11): item=0 name="/usr/bin/curl" inode=1 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL)",
      R"(type=PROCTITLE msg=audit(1700000001.250:11): proctitle=6375726C)",
      R"(type=EOE msg=audit(1700000001.250:11): )",
  };
  for (const char* l : lines) ASSERT_TRUE(p.feed(l, out, why)) << why;
  ASSERT_EQ(out.size(), 1u);
  const auto& ev = out.front();
  EXPECT_EQ(ev.wall_time_ns, 1700000001250000000ull);
  EXPECT_EQ(ev.proc.loginuid, 1000u);
  EXPECT_EQ(ev.proc.tty, "pts1");
  ASSERT_TRUE(ev.attr.session);
  EXPECT_EQ(ev.attr.session->client_ip, "203.0.113.7");
  EXPECT_TRUE(ev.attr.session->interactive);
  EXPECT_EQ(std::get<model::ExecData>(ev.data).args,
            (std::vector<std::string>{"curl", "http://x"}));
  EXPECT_FALSE(p.feed("garbage line", out, why));
  EXPECT_NE(why.find("type="), std::string::npos);
}

}  // namespace
}  // namespace privwatch::source
