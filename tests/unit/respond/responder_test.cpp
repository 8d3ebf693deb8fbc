// The actuator and the agent's responder against real processes (children of the test; no
// root needed): freeze → stopped, thaw → running, terminate → gone, dry runs touch nothing,
// alerts' responses follow their mode, and kernel kills are recorded with their entry.
#include "respond/responder.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "export/action_json.hpp"
#include "respond/actuator.hpp"

namespace privwatch::respond {
namespace {

using namespace std::chrono_literals;

char state_of(pid_t pid) {
  ProcSnapshot p;
  return read_proc(static_cast<uint32_t>(pid), p) ? p.state : 0;
}

bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A child with two grandchildren (one in its own session), all running sleep(1) (not the test
// binary: processes running the agent's own executable are never targets). Killed on exit.
struct Tree {
  pid_t root = -1;
  std::vector<pid_t> all;
  Tree() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    root = ::fork();
    if (root == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (int i = 0; i < 2; ++i) {
        if (::fork() == 0) {
          if (i == 1) ::setsid();
          const pid_t me = ::getpid();
          (void)!::write(fds[1], &me, sizeof me);
          ::execl("/bin/sleep", "sleep", "1000", nullptr);
          ::_exit(127);
        }
      }
      const pid_t me = ::getpid();
      (void)!::write(fds[1], &me, sizeof me);
      ::execl("/bin/sleep", "sleep", "1000", nullptr);
      ::_exit(127);
    }
    ::close(fds[1]);
    for (int i = 0; i < 3; ++i) {
      pid_t p = 0;
      EXPECT_EQ(::read(fds[0], &p, sizeof p), static_cast<ssize_t>(sizeof p));
      all.push_back(p);
    }
    ::close(fds[0]);
    // Wait until every process runs sleep (exec done, asleep).
    for (pid_t p : all) {
      eventually([p] {
        ProcSnapshot s;
        return read_proc(static_cast<uint32_t>(p), s) && s.comm == "sleep" && s.state == 'S';
      });
    }
  }
  ~Tree() {
    for (pid_t p : all) ::kill(p, SIGKILL);
    ::waitpid(root, nullptr, 0);
  }
  [[nodiscard]] TargetSpec spec() const {
    ProcSnapshot p;
    EXPECT_TRUE(read_proc(static_cast<uint32_t>(root), p));
    TargetSpec s;
    s.roots.push_back(p.key());
    return s;
  }
};

ActuatorOptions options(bool dry = false) {
  ActuatorOptions o;
  o.dry_run = dry;
  o.host = "testhost";
  o.warn_message = "{reason} on {host} ({id})";
  o.safety.self_pids = {static_cast<uint32_t>(::getpid())};
  return o;
}

TEST(Actuator, FreezeThawTerminateAProcessTree) {
  Tree t;
  const Actuator act(options());
  ActionRequest req;
  req.target = t.spec();
  req.action = model::ActionType::kFreeze;
  model::ResponseAction a = act.run(req);
  EXPECT_EQ(a.result, model::ActionResult::kSuccess) << exporter::action_json(a);
  EXPECT_EQ(a.pids.size(), 3u);
  for (pid_t p : t.all) EXPECT_EQ(state_of(p), 'T') << p;

  req.action = model::ActionType::kThaw;
  a = act.run(req);
  EXPECT_EQ(a.result, model::ActionResult::kSuccess) << exporter::action_json(a);
  for (pid_t p : t.all) EXPECT_TRUE(eventually([&] { return state_of(p) == 'S'; })) << p;

  req.action = model::ActionType::kTerminate;
  a = act.run(req);
  EXPECT_EQ(a.result, model::ActionResult::kSuccess) << exporter::action_json(a);
  int status = 0;
  ASSERT_EQ(::waitpid(t.root, &status, 0), t.root);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  for (pid_t p : t.all) {
    EXPECT_TRUE(eventually([&] {
      const char s = state_of(p);
      return s == 0 || s == 'Z';
    })) << p;
  }
  // Acting again finds nothing.
  a = act.run(req);
  EXPECT_EQ(a.result, model::ActionResult::kFailed);
  ASSERT_FALSE(a.errors.empty());
  EXPECT_EQ(a.errors[0], "no live process of the target was found");
}

TEST(Actuator, DryRunRecordsTheTargetsAndTouchesNothing) {
  Tree t;
  const Actuator act(options(/*dry=*/true));
  ActionRequest req;
  req.target = t.spec();
  req.action = model::ActionType::kTerminate;
  const model::ResponseAction a = act.run(req);
  EXPECT_EQ(a.result, model::ActionResult::kDryRun);
  EXPECT_EQ(a.pids.size(), 3u);
  for (pid_t p : t.all) EXPECT_EQ(state_of(p), 'S') << p;
}

TEST(Actuator, RefusesWhenTheNamedProcessIsProtected) {
  const Actuator act(options());
  ActionRequest req;
  req.action = model::ActionType::kTerminate;
  req.target.roots.push_back({static_cast<uint32_t>(::getpid()), 0});
  const model::ResponseAction a = act.run(req);
  EXPECT_EQ(a.result, model::ActionResult::kRefused);
  ASSERT_EQ(a.errors.size(), 1u);
  EXPECT_NE(a.errors[0].find("privwatch itself"), std::string::npos) << a.errors[0];
  req.target.roots = {{1, 0}};
  EXPECT_EQ(act.run(req).result, model::ActionResult::kRefused);
}

TEST(Actuator, BannerReplacesPlaceholdersAndStripsControlCharacters) {
  const Actuator act(options());
  const std::string b = act.banner("bad\x1b]0;x\x07 thing", "act-1");
  EXPECT_NE(b.find("bad ]0;x  thing on testhost (act-1)"), std::string::npos) << b;
  EXPECT_EQ(b.find('\x1b'), std::string::npos);
}

config::RespondConfig respond_cfg() {
  config::RespondConfig c;
  c.max_rounds = 20;
  c.warn_message = "{reason}";
  return c;
}

model::Event event_of(pid_t pid) {
  ProcSnapshot p;
  EXPECT_TRUE(read_proc(static_cast<uint32_t>(pid), p));
  model::Event ev;
  ev.proc.pid = p.pid;
  ev.proc.ppid = p.ppid;
  ev.proc.start_ns = p.start_ticks * 10'000'000ull;
  ev.proc.sessionid = 424242;  // not a real session: only quarantine sees it
  return ev;
}

std::vector<model::ResponseAction> wait_actions(Responder& r, size_t n) {
  std::vector<model::ResponseAction> out;
  eventually([&] {
    r.drain([&](const model::ResponseAction& a) { out.push_back(a); });
    return out.size() >= n;
  });
  return out;
}

TEST(Responder, EnforcedAlertFreezesDetectModeOnlyRecords) {
  Tree t;
  Responder r(respond_cfg(), "testhost", nullptr);
  model::Event ev = event_of(t.root);
  ev.proc.sessionid = model::kUnsetId;  // the tree is targeted through its root
  model::Alert alert;
  alert.id = "al-1";
  alert.rule = "test-rule";
  alert.title = "something bad";
  alert.details_json = R"({"response":["freeze"],"mode":"detect"})";
  r.on_alert(alert, &ev, nullptr);
  auto acts = wait_actions(r, 1);
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].result, model::ActionResult::kDryRun);
  EXPECT_EQ(acts[0].pids.size(), 3u);
  for (pid_t p : t.all) EXPECT_EQ(state_of(p), 'S') << p;

  alert.details_json = R"({"response":["freeze"],"mode":"enforce"})";
  r.on_alert(alert, &ev, nullptr);
  acts = wait_actions(r, 1);
  ASSERT_EQ(acts.size(), 1u);
  const auto& a = acts[0];
  EXPECT_EQ(a.result, model::ActionResult::kSuccess) << exporter::action_json(a);
  EXPECT_EQ(a.origin, model::ActionOrigin::kRule);
  EXPECT_EQ(a.alert_id, "al-1");
  EXPECT_EQ(a.rule, "test-rule");
  EXPECT_EQ(a.reason, "alert al-1 (test-rule): something bad");
  for (pid_t p : t.all) EXPECT_EQ(state_of(p), 'T') << p;
  EXPECT_EQ(r.stats().alerts_with_response, 2u);
}

TEST(Responder, KillSignalsTheOffendingProcessAndQuarantinesItsSession) {
  Tree t;
  std::vector<uint32_t> quarantined;
  Responder r(respond_cfg(), "testhost", [&](uint32_t sid) -> Status {
    quarantined.push_back(sid);
    return {};
  });
  const pid_t victim = t.all[0] != t.root ? t.all[0] : t.all[1];  // a grandchild
  const model::Event ev = event_of(victim);
  model::Alert alert;
  alert.id = "al-2";
  alert.details_json = R"({"response":["kill"],"mode":"enforce"})";
  r.on_alert(alert, &ev, nullptr);
  auto acts = wait_actions(r, 1);
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].result, model::ActionResult::kSuccess) << exporter::action_json(acts[0]);
  EXPECT_EQ(acts[0].pids, std::vector<uint32_t>{static_cast<uint32_t>(victim)});
  EXPECT_EQ(quarantined, std::vector<uint32_t>{424242});
  EXPECT_TRUE(eventually([&] {
    const char s = state_of(victim);
    return s == 0 || s == 'Z';
  }));
  EXPECT_EQ(state_of(t.root), 'S');  // only the offending process
}

TEST(ParseAlertResponse, ReadsTheRuleEnginesShapeAndTheFlatOne) {
  // What detect::Engine writes into every alert's details (docs/rules.md).
  auto r = parse_alert_response(R"({"rule":{"origin":"r.yaml:3:5","source":"rule"},)"
                                R"("response":{"actions":["warn","terminate"],"mode":"enforce"},)"
                                R"("process":{"pid":42,"tid":42,"start_ticks":7,"ppid":1}})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->problems.empty());
  EXPECT_EQ(r->actions, (std::vector<model::ActionType>{model::ActionType::kWarn,
                                                        model::ActionType::kTerminate}));
  EXPECT_TRUE(r->enforce);
  ASSERT_TRUE(r->process);
  EXPECT_EQ(r->process->pid, 42u);
  EXPECT_EQ(r->process->start_ticks, 7u);

  r = parse_alert_response(R"({"response":{"actions":["freeze"],"mode":"detect"}})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->enforce);
  EXPECT_EQ(r->actions, std::vector<model::ActionType>{model::ActionType::kFreeze});

  // A rule without a response: nothing to do, nothing recorded.
  EXPECT_FALSE(parse_alert_response(R"({"response":{"actions":[],"mode":"detect"}})"));
  EXPECT_FALSE(parse_alert_response(R"({"response":[]})"));

  r = parse_alert_response(R"({"response":["thaw"],"mode":"enforce"})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->enforce);
  EXPECT_EQ(r->actions, std::vector<model::ActionType>{model::ActionType::kThaw});

  r = parse_alert_response(R"({"response":{"mode":"enforce"}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_NE(r->problems[0].find("no \"actions\""), std::string::npos) << r->problems[0];
  r = parse_alert_response(R"({"response":{"actions":["warn"],"mode":"later"}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_NE(r->problems[0].find("\"later\""), std::string::npos) << r->problems[0];
}

TEST(Responder, AnAlertWhoseOffenderIsPid1OrTheAgentIsRefused) {
  Responder r(respond_cfg(), "testhost", nullptr);
  for (const uint32_t pid : {1u, static_cast<uint32_t>(::getpid())}) {
    SCOPED_TRACE(pid);
    const char before = state_of(static_cast<pid_t>(pid));
    const model::Event ev = event_of(static_cast<pid_t>(pid));
    model::Alert alert;
    alert.id = "al-pid";
    alert.rule = "matches-everything";
    for (const char* resp : {R"({"response":{"actions":["kill"],"mode":"enforce"}})",
                             R"({"response":{"actions":["terminate"],"mode":"enforce"}})",
                             R"({"response":{"actions":["freeze"],"mode":"enforce"}})"}) {
      alert.details_json = resp;
      model::Event e = ev;
      e.proc.sessionid = model::kUnsetId;  // no quarantine of "every process outside a login"
      r.on_alert(alert, &e, nullptr);
      auto acts = wait_actions(r, 1);
      ASSERT_EQ(acts.size(), 1u);
      EXPECT_EQ(acts[0].result, model::ActionResult::kRefused) << exporter::action_json(acts[0]);
      ASSERT_FALSE(acts[0].errors.empty());
      EXPECT_NE(acts[0].errors[0].find(pid == 1 ? "PID 1" : "privwatch itself"), std::string::npos)
          << acts[0].errors[0];
    }
    EXPECT_EQ(state_of(static_cast<pid_t>(pid)), before);
  }
}

TEST(Responder, MalformedResponseIsRecordedAsFailed) {
  Responder r(respond_cfg(), "testhost", nullptr);
  model::Alert alert;
  alert.id = "al-3";
  alert.details_json = R"({"response":["nuke"],"mode":"enforce"})";
  r.on_alert(alert, nullptr, nullptr);
  auto acts = wait_actions(r, 1);
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(acts[0].result, model::ActionResult::kFailed);
  ASSERT_FALSE(acts[0].errors.empty());
  EXPECT_NE(acts[0].errors[0].find("\"nuke\""), std::string::npos);
}

TEST(Responder, DisabledIgnoresAlerts) {
  auto cfg = respond_cfg();
  cfg.enabled = false;
  Responder r(cfg, "testhost", nullptr);
  model::Alert alert;
  alert.details_json = R"({"response":["warn"],"mode":"enforce"})";
  r.on_alert(alert, nullptr, nullptr);
  r.wait_idle(1000);
  size_t n = 0;
  r.drain([&](const model::ResponseAction&) { ++n; });
  EXPECT_EQ(n, 0u);
}

TEST(Responder, KernelKillIsRecordedWithTheEntryThatMatched) {
  auto cfg = respond_cfg();
  config::KillEntry exe;
  exe.name = "no-true";
  exe.exec = "/bin/true";
  config::KillEntry net;
  net.name = "c2";
  net.connect = true;
  net.family = AF_INET;
  inet_pton(AF_INET, "203.0.113.0", net.addr.data());
  net.prefix_bits = 24;
  net.port = 4444;
  cfg.kill = {exe, net};
  Responder r(cfg, "testhost", nullptr);

  struct stat st {};
  ASSERT_EQ(::stat("/bin/true", &st), 0);
  model::Event e;
  e.kind = model::EventKind::kExec;
  e.flags = model::kFlagKilled;
  e.proc.pid = 77;
  e.proc.sessionid = 5;
  model::ExecData x;
  x.exe_path = "/usr/bin/true";
  x.exe_ino = st.st_ino;
  x.exe_dev = (major(st.st_dev) << 20) | minor(st.st_dev);
  e.data = x;
  auto a = r.on_kernel_kill(e);
  EXPECT_EQ(a.origin, model::ActionOrigin::kKernel);
  EXPECT_EQ(a.action, model::ActionType::kKill);
  EXPECT_EQ(a.result, model::ActionResult::kSuccess);
  EXPECT_EQ(a.rule, "respond.kill:no-true");
  EXPECT_EQ(a.pids, std::vector<uint32_t>{77});
  EXPECT_EQ(a.reason,
            "killed by the kernel at exec of /usr/bin/true: respond.kill entry 'no-true'");

  model::Event n;
  n.kind = model::EventKind::kNet;
  n.flags = model::kFlagKilled;
  n.proc.pid = 78;
  n.proc.sessionid = 6;
  model::NetData d;
  d.family = AF_INET;
  d.remote_port = 4444;
  inet_pton(AF_INET, "203.0.113.77", d.remote_addr.data());
  n.data = d;
  a = r.on_kernel_kill(n);
  EXPECT_EQ(a.rule, "respond.kill:c2");
  model::NetData mapped = d;  // ::ffff:203.0.113.77 from an IPv6 socket
  mapped.family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:203.0.113.77", mapped.remote_addr.data());
  n.data = mapped;
  EXPECT_EQ(r.on_kernel_kill(n).rule, "respond.kill:c2");
  d.remote_port = 4445;  // no entry: the session was quarantined
  n.data = d;
  a = r.on_kernel_kill(n);
  EXPECT_EQ(a.rule, "respond.quarantine");
  EXPECT_NE(a.reason.find("audit session 6 is quarantined"), std::string::npos) << a.reason;
  EXPECT_EQ(r.stats().kernel_kills, 4u);
}

}  // namespace
}  // namespace privwatch::respond
