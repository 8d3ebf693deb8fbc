// Target selection: which processes a session / process-tree response reaches, and which it
// never touches. Pure over synthetic process lists.
#include "respond/targets.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "enrich/process_table.hpp"
#include "model/event.hpp"
#include "respond/responder.hpp"

namespace privwatch::respond {
namespace {

ProcSnapshot proc(uint32_t pid, uint32_t ppid, uint32_t sid, std::string comm = "sh",
                  uint64_t ticks = 0) {
  ProcSnapshot p;
  p.pid = pid;
  p.ppid = ppid;
  p.sessionid = sid;
  p.comm = std::move(comm);
  p.start_ticks = ticks != 0 ? ticks : 1000 + pid;
  p.state = 'S';
  p.exe = "/usr/bin/" + p.comm;
  return p;
}

std::vector<uint32_t> pids(const Selection& s) {
  std::vector<uint32_t> out;
  for (const auto& p : s.targets) out.push_back(p.pid);
  return out;
}

// init, kthreadd + a kernel thread, sshd, the agent, and session 7:
//   100 sshd (sid 7) → 101 bash → 102 vim
//   103 setsid'd child of 101 (sid 7), 104 double-forked orphan (ppid 1, sid 7)
//   105 child of 101 that changed its loginuid (new sid 9): reached by ancestry
//   200 another user's shell (sid 8)
std::vector<ProcSnapshot> host() {
  std::vector<ProcSnapshot> v = {
      proc(1, 0, model::kUnsetId, "systemd"),
      proc(2, 0, model::kUnsetId, "kthreadd"),
      proc(50, 1, model::kUnsetId, "sshd"),
      proc(60, 1, model::kUnsetId, "privwatch"),
      proc(100, 50, 7, "sshd"),
      proc(101, 100, 7, "bash"),
      proc(102, 101, 7, "vim"),
      proc(103, 101, 7, "sleep"),
      proc(104, 1, 7, "nc"),
      proc(105, 101, 9, "sh"),
      proc(106, 105, 9, "sleep"),
      proc(200, 50, 8, "bash"),
  };
  v[1].flags = kPfKthread;
  ProcSnapshot kworker = proc(3, 2, model::kUnsetId, "kworker/0:1");
  kworker.flags = kPfKthread;
  v.push_back(kworker);
  return v;
}

TEST(SelectTargets, AuditSessionReachesEscapedProcessesAndDescendants) {
  TargetSpec spec;
  spec.audit_session = 7;
  const Selection s = select_targets(host(), spec, Safety{});
  EXPECT_EQ(pids(s), (std::vector<uint32_t>{100, 101, 102, 103, 104, 105, 106}));
  EXPECT_TRUE(s.spared.empty());
}

TEST(SelectTargets, RootPidReachesItsSubtreeOnly) {
  TargetSpec spec;
  spec.roots.push_back({101, 1101});
  const Selection s = select_targets(host(), spec, Safety{});
  // 104 was reparented to init: /proc alone cannot tie it to 101.
  EXPECT_EQ(pids(s), (std::vector<uint32_t>{101, 102, 103, 105, 106}));
}

TEST(SelectTargets, ProcessTableKnowledgeReachesTheReparentedOrphan) {
  TargetSpec spec;
  spec.roots.push_back({101, 1101});
  spec.known.push_back({104, 1104});
  const Selection s = select_targets(host(), spec, Safety{});
  EXPECT_EQ(pids(s), (std::vector<uint32_t>{101, 102, 103, 104, 105, 106}));
}

TEST(SelectTargets, AReusedPidIsNotTheRoot) {
  TargetSpec spec;
  spec.roots.push_back({101, 999});  // 101 now has start time 1101: another process
  EXPECT_TRUE(select_targets(host(), spec, Safety{}).targets.empty());
}

TEST(SelectTargets, UnsetSessionSelectsNothing) {
  TargetSpec spec;  // audit_session unset, no roots
  EXPECT_TRUE(spec.empty());
  EXPECT_TRUE(select_targets(host(), spec, Safety{}).targets.empty());
}

TEST(SelectTargets, NeverInitKernelThreadsTheAgentOrProtectedProcesses) {
  auto procs = host();
  // Put everything into session 7 to see the safety rules act on their own.
  for (auto& p : procs) p.sessionid = 7;
  Safety safety;
  safety.self_pids = {60};
  safety.self_exe = "/usr/local/bin/privwatch";
  safety.protected_processes = {"sshd", "/usr/bin/vim"};
  procs.push_back(proc(300, 1, 7, "pw-copy"));
  procs.back().exe = "/usr/local/bin/privwatch";  // another privwatch process (the agent)
  TargetSpec spec;
  spec.audit_session = 7;
  const Selection s = select_targets(procs, spec, safety);
  EXPECT_EQ(pids(s), (std::vector<uint32_t>{101, 103, 104, 105, 106, 200}));
  std::vector<uint32_t> spared;
  for (const auto& [pid, why] : s.spared) {
    spared.push_back(pid);
    EXPECT_FALSE(why.empty());
  }
  std::sort(spared.begin(), spared.end());
  EXPECT_EQ(spared, (std::vector<uint32_t>{1, 2, 3, 50, 60, 100, 102, 300}));
  EXPECT_EQ(refusal(procs[0], safety), "PID 1 (init) is never a response target");
  EXPECT_NE(refusal(procs[1], safety).find("kernel thread"), std::string::npos);
  EXPECT_NE(refusal(procs[3], safety).find("privwatch itself"), std::string::npos);
  EXPECT_NE(refusal(procs.back(), safety).find("privwatch binary"), std::string::npos);
  EXPECT_NE(refusal(procs[6], safety).find("respond.protected ('/usr/bin/vim')"),
            std::string::npos);
}

TEST(ParseProcStat, RealProcessReadsBack) {
  ProcSnapshot self;
  ASSERT_TRUE(read_proc(static_cast<uint32_t>(::getpid()), self));
  EXPECT_EQ(self.pid, static_cast<uint32_t>(::getpid()));
  EXPECT_EQ(self.ppid, static_cast<uint32_t>(::getppid()));
  EXPECT_EQ(self.state, 'R');
  EXPECT_GT(self.start_ticks, 0u);
  EXPECT_FALSE(self.exe.empty());
  ProcSnapshot init;
  ASSERT_TRUE(read_proc(1, init));
  EXPECT_EQ(init.pid, 1u);
  EXPECT_EQ(init.ppid, 0u);
  ProcSnapshot none;
  EXPECT_FALSE(read_proc(4194304 + 7, none));
}

TEST(ParseSessionArg, AuditIdsAndTrackerIds) {
  TargetSpec a;
  ASSERT_TRUE(parse_session_arg("17", a));
  EXPECT_EQ(a.audit_session, 17u);
  TargetSpec b;
  ASSERT_TRUE(parse_session_arg("3fa9c2-4242-98765", b));
  ASSERT_EQ(b.roots.size(), 1u);
  EXPECT_EQ(b.roots[0].pid, 4242u);
  EXPECT_EQ(b.roots[0].start_ticks, 98765u);
  for (const char* bad : {"4294967295", "alice", "", "-3", "x-0-5"}) {
    TargetSpec c;
    auto s = parse_session_arg(bad, c);
    EXPECT_FALSE(s) << bad;
    if (!s) {
      EXPECT_FALSE(s.error().hint.empty()) << bad;
    }
  }
}

TEST(AlertResponse, ParsesTheAgreedShape) {
  auto r = parse_alert_response(R"({"response":["freeze","warn"],"mode":"enforce","x":1})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->enforce);
  EXPECT_EQ(r->actions,
            (std::vector<model::ActionType>{model::ActionType::kFreeze, model::ActionType::kWarn}));
  EXPECT_TRUE(r->problems.empty());

  r = parse_alert_response(R"({"response":["kill"]})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->enforce);  // detect unless said otherwise

  r = parse_alert_response(R"({"response":["explode", 3],"mode":"yes"})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->actions.empty());
  EXPECT_EQ(r->problems.size(), 3u);

  EXPECT_FALSE(parse_alert_response(""));
  EXPECT_FALSE(parse_alert_response(R"({"score":3})"));
  EXPECT_FALSE(parse_alert_response("not json \"response\""));
  r = parse_alert_response(R"({"response":["kill"],"process":{"pid":42,"start_ticks":7}})");
  ASSERT_TRUE(r && r->process);
  EXPECT_EQ(r->process->pid, 42u);
  EXPECT_EQ(r->process->start_ticks, 7u);
}

TEST(AlertTarget, SessionFromTheTriggerKillNarrowsToTheProcess) {
  model::Event ev;
  ev.proc.pid = 500;
  ev.proc.start_ns = 123 * 10'000'000ull;
  ev.proc.sessionid = 7;
  auto session = std::make_shared<model::Session>();
  session->leader = {400, 55};
  session->entry_type = model::EntryType::kSsh;
  ev.attr.session = session;
  model::Alert alert;
  const TargetSpec s = alert_target(alert, &ev, std::nullopt, false);
  EXPECT_EQ(s.audit_session, 7u);
  ASSERT_EQ(s.roots.size(), 1u);
  EXPECT_EQ(s.roots[0], (model::ProcessKey{400, 55}));
  const TargetSpec k = alert_target(alert, &ev, std::nullopt, true);
  EXPECT_EQ(k.audit_session, model::kUnsetId);
  ASSERT_EQ(k.roots.size(), 1u);
  EXPECT_EQ(k.roots[0], (model::ProcessKey{500, 123}));
  // A session led by init is not acted on as a whole: the process's subtree is.
  session->leader = {1, 1};
  session->entry_type = model::EntryType::kInit;
  ev.proc.sessionid = model::kUnsetId;
  const TargetSpec i = alert_target(alert, &ev, std::nullopt, false);
  ASSERT_EQ(i.roots.size(), 1u);
  EXPECT_EQ(i.roots[0], (model::ProcessKey{500, 123}));
  // A systemd service, or an unknown entry without a login (no audit session), is a daemon's
  // tree: only the offender's subtree, and no audit session.
  for (const auto t : {model::EntryType::kSystemd, model::EntryType::kUnknown}) {
    session->leader = {400, 55};
    session->entry_type = t;
    ev.proc.sessionid = t == model::EntryType::kSystemd ? 9 : model::kUnsetId;
    const TargetSpec d = alert_target(alert, &ev, std::nullopt, false);
    ASSERT_EQ(d.roots.size(), 1u);
    EXPECT_EQ(d.roots[0], (model::ProcessKey{500, 123}));
    EXPECT_EQ(d.audit_session, model::kUnsetId);
  }
  // An unknown entry that started an audit session is a login: the whole session.
  session->entry_type = model::EntryType::kUnknown;
  ev.proc.sessionid = 9;
  const TargetSpec u = alert_target(alert, &ev, std::nullopt, false);
  ASSERT_EQ(u.roots.size(), 1u);
  EXPECT_EQ(u.roots[0], (model::ProcessKey{400, 55}));
  EXPECT_EQ(u.audit_session, 9u);
  // Without the event: the session id's leader.
  alert.session_id = "b00t-400-55";
  const TargetSpec t = alert_target(alert, nullptr, std::nullopt, false);
  ASSERT_EQ(t.roots.size(), 1u);
  EXPECT_EQ(t.roots[0], (model::ProcessKey{400, 55}));
}

TEST(AddKnownFromTable, FollowsForkLinksThatSurviveReparenting) {
  enrich::ProcessTable table(1024, 30'000'000'000ull);
  auto fork = [&](uint32_t parent, uint64_t parent_ticks, uint32_t child, uint64_t child_ticks,
                  uint32_t sid) {
    model::Event ev;
    ev.kind = model::EventKind::kFork;
    ev.ts_ns = child_ticks * 10'000'000ull;
    ev.proc.pid = parent;
    ev.proc.tid = parent;
    ev.proc.start_ns = parent_ticks * 10'000'000ull;
    ev.proc.ppid = 1;
    ev.proc.sessionid = sid;
    ev.data = model::ForkData{child, child_ticks * 10'000'000ull};
    table.apply(ev);
  };
  fork(101, 11, 150, 20, model::kUnsetId);  // 101 → 150 (the double fork's middle)
  fork(150, 20, 151, 21, model::kUnsetId);  // 150 → 151 (the orphan, reparented later)
  fork(300, 30, 301, 31, model::kUnsetId);  // unrelated
  TargetSpec spec;
  spec.roots.push_back({101, 11});
  add_known_from_table(spec, table);
  std::vector<uint32_t> known;
  for (const auto& k : spec.known) known.push_back(k.pid);
  std::sort(known.begin(), known.end());
  EXPECT_EQ(known, (std::vector<uint32_t>{150, 151}));
}

TEST(TtyPath, FindsTheDeviceOfATerminalNumber) {
  EXPECT_EQ(tty_path(0), "");
  // /dev/null is 1:3; tty_nr encoding: minor low byte | major << 8.
  EXPECT_EQ(tty_path((1u << 8) | 3u), "/dev/null");
}

}  // namespace
}  // namespace privwatch::respond
