// `privwatch import` runs the agent's whole pipeline over a recording: sessions (with the
// human's roles and cluster from the inventory), escalations, rule alerts, baselines and the
// store, keeping the recorded times.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/cli.hpp"
#include "cli/pipeline.hpp"
#include "config/config.hpp"
#include "export/ecs_json.hpp"
#include "export/json_lines_output.hpp"
#include "store/query.hpp"
#include "store/store.hpp"
#include "ueba/engine.hpp"
#include "ueba_test_util.hpp"

namespace privwatch::ueba {
namespace {

using namespace testing;  // NOLINT

int run_cli(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return cli::run(static_cast<int>(args.size()), argv.data());
}

constexpr uint64_t kBoot = kT0 - 3600 * kSec;  // the recording host booted an hour before

struct Proc {
  uint32_t pid, ppid, uid, euid, loginuid, sessionid;
  uint64_t start_ns, parent_start_ns;  // boot time
  std::string exe, tty;
};

model::Event base(const Proc& p, uint64_t t) {
  model::Event ev;
  ev.wall_time_ns = t;
  ev.ts_ns = t - kBoot;
  auto& c = ev.proc;
  c.pid = c.tid = p.pid;
  c.ppid = p.ppid;
  c.uid = c.suid = p.uid;
  c.euid = c.fsuid = p.euid;
  c.loginuid = p.loginuid;
  c.sessionid = p.sessionid;
  c.start_ns = p.start_ns;
  c.parent_start_ns = p.parent_start_ns;
  c.tty = p.tty;
  c.comm = p.exe.substr(p.exe.rfind('/') + 1);
  ev.exe = p.exe;
  auto name = [](uint32_t u) -> std::string {
    return u == 0 ? "root" : u == 1001 ? "alice" : u == model::kUnsetId ? "" : "x";
  };
  ev.user_name = name(p.uid);
  ev.effective_user_name = name(p.euid);
  ev.login_user_name = name(p.loginuid);
  return ev;
}

model::Event exec(const Proc& p, uint64_t t, std::vector<std::string> args) {
  model::Event ev = base(p, t);
  ev.kind = model::EventKind::kExec;
  model::ExecData x;
  x.exe_path = x.filename = p.exe;
  x.args = std::move(args);
  ev.data = std::move(x);
  return ev;
}

model::Event open_file(const Proc& p, uint64_t t, const std::string& path) {
  model::Event ev = base(p, t);
  ev.kind = model::EventKind::kFile;
  model::FileData f;
  f.op = model::FileOp::kOpen;
  f.path = f.requested_path = path;
  f.result = 3;
  ev.data = f;
  return ev;
}

model::Event exit_of(const Proc& p, uint64_t t) {
  model::Event ev = base(p, t);
  ev.kind = model::EventKind::kExit;
  ev.data = model::ExitData{};
  return ev;
}

// The pipeline renders each event's document once: the store keeps exactly the line the output
// wrote (same host too: the recording's, not this machine's).
void expect_stored_events_are_output_lines(const store::Store& st, const std::string& out_path) {
  std::set<std::string> lines;
  {
    std::ifstream out(out_path);
    for (std::string line; std::getline(out, line);) lines.insert(line);
  }
  store::SearchFilter f;
  f.kind = "event";
  f.limit = 100000;
  auto events = store::search(st, f);
  ASSERT_TRUE(events);
  ASSERT_FALSE(events->empty());
  for (const auto& e : *events) EXPECT_EQ(lines.count(e.body), 1u) << e.body;
}

TEST(ImportPipeline, SessionsEscalationsRulesBaselinesAndStoreFromAJsonlRecording) {
  char tmpl[] = "/tmp/pw-import-pipe-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/inventory.yaml") << "roles:\n  dba:\n    users: [alice]\n"
                                            "clusters:\n  databases:\n    hosts: [\"db-*\"]\n";
  const std::string config = dir + "/privwatch.yaml";
  std::ofstream(config) << "inventory:\n  path: " << dir
                        << "/inventory.yaml\n"
                           "store:\n  path: "
                        << dir << "/store/privwatch.db\n  key_path: " << dir
                        << "/store/store.key\n  commit_interval_ms: 50\n"
                           "baselines:\n  enabled: true\n  state_file: "
                        << dir << "/baselines.state\n";
  const uint64_t t = kT0 + 9 * 3600 * kSec;  // Mon 09:00 UTC
  const uint64_t s0 = 100 * kSec;            // boot-time starts
  const uint32_t unset = model::kUnsetId;
  const Proc sshd{100, 1, 0, 0, unset, unset, s0, 1 * kSec, "/usr/sbin/sshd", ""};
  const Proc shell{200, 100, 1001, 1001, 1001, 7, s0 + kSec, s0, "/usr/bin/bash", "pts/0"};
  const Proc sudo{201, 200, 1001, 0, 1001, 7, s0 + 2 * kSec, s0 + kSec, "/usr/bin/sudo", "pts/0"};
  const Proc cat{202, 201, 0, 0, 1001, 7, s0 + 3 * kSec, s0 + 2 * kSec, "/usr/bin/cat", "pts/0"};
  {
    std::ofstream h(dir + "/recording.jsonl");
    auto put = [&h](const model::Event& ev) {
      std::string line;
      exporter::append_ecs_json(ev, line, "db-7");
      h << line << "\n";
    };
    put(exec(sshd, t, {"sshd", "-D"}));
    put(exec(shell, t + kSec, {"-bash"}));
    put(exec(sudo, t + 2 * kSec, {"sudo", "cat", "/etc/shadow"}));
    put(exec(cat, t + 3 * kSec, {"cat", "/etc/shadow"}));
    put(open_file(cat, t + 4 * kSec, "/etc/shadow"));
    put(exit_of(cat, t + 5 * kSec));
    put(exit_of(sudo, t + 6 * kSec));
    put(exit_of(shell, t + 7 * kSec));
  }
  ASSERT_EQ(run_cli({"privwatch", "import", dir + "/recording.jsonl", "--format", "jsonl", "-c",
                     config, "-o", dir + "/out.jsonl"}),
            0);

  auto st = store::Store::open_reader(dir + "/store/privwatch.db");
  ASSERT_TRUE(st) << st.error().to_string();
  expect_stored_events_are_output_lines(**st, dir + "/out.jsonl");
  auto rows = [&](const std::string& kind) {
    store::SearchFilter f;
    f.kind = kind;
    auto r = store::search(**st, f);
    EXPECT_TRUE(r) << (r ? "" : r.error().to_string());
    return r ? *r : std::vector<store::Row>{};
  };
  // Events keep their recorded wall time.
  const auto events = rows("event");
  ASSERT_EQ(events.size(), 8u);
  for (const auto& e : events) {
    EXPECT_GE(e.wall_ns, t);
    EXPECT_LE(e.wall_ns, t + 7 * kSec);
  }
  // alice's login session: human, roles and cluster from the inventory, recorded times.
  const auto sessions = rows("session");
  const store::Row* login = nullptr;
  for (const auto& s : sessions) {
    if (s.human == "alice") login = &s;
  }
  ASSERT_NE(login, nullptr) << sessions.size() << " sessions";
  EXPECT_EQ(login->roles, "dba");
  EXPECT_EQ(login->cluster, "databases");
  EXPECT_EQ(login->host, "db-7");
  EXPECT_EQ(login->wall_ns, t + 7 * kSec);  // its end
  const auto body = nlohmann::json::parse(login->body);
  EXPECT_EQ(body["privwatch"]["roles"], nlohmann::json::array({"dba"}));
  EXPECT_EQ(body["privwatch"]["cluster"], "databases");
  EXPECT_EQ(body["session"]["type"], "sshd");
  // sudo → root, in that session.
  const auto escalations = rows("escalation");
  ASSERT_EQ(escalations.size(), 1u);
  EXPECT_EQ(escalations[0].human, "alice");
  EXPECT_EQ(escalations[0].session, login->session);
  EXPECT_EQ(escalations[0].wall_ns, t + 3 * kSec);
  // The rule engine ran: cat read /etc/shadow.
  bool shadow = false;
  for (const auto& a : rows("alert")) {
    if (a.name == "read-shadow") {
      shadow = true;
      EXPECT_EQ(a.wall_ns, t + 4 * kSec);
      EXPECT_EQ(a.session, login->session);
      EXPECT_EQ(a.cluster, "databases");
    }
  }
  EXPECT_TRUE(shadow);
  // Baselines learned alice (role dba, cluster databases) and kept it.
  auto cfg = config::load_file(config);
  ASSERT_TRUE(cfg);
  auto engine = Engine::create(cfg->baselines, "", 0);
  ASSERT_TRUE(engine);
  bool alice = false, dba = false, databases = false;
  for (const auto& e : (*engine)->entities()) {
    alice |= e.dim == Dim::kUser && e.name == "alice" && e.events > 0;
    dba |= e.dim == Dim::kRole && e.name == "dba" && e.events > 0;
    databases |= e.dim == Dim::kCluster && e.name == "databases" && e.events > 0;
  }
  EXPECT_TRUE(alice && dba && databases);
  std::filesystem::remove_all(dir);
}

TEST(ImportPipeline, AuditLogRunsSessionsAndRulesIntoTheStore) {
  const std::string fixture =
      std::string(PRIVWATCH_SOURCE_DIR) + "/tests/unit/source/fixtures/auditd_enriched.log";
  char tmpl[] = "/tmp/pw-import-audit-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string config = dir + "/privwatch.yaml";
  std::ofstream(config) << "store:\n  path: " << dir << "/store/privwatch.db\n  key_path: " << dir
                        << "/store/store.key\n  commit_interval_ms: 50\n";
  ASSERT_EQ(run_cli({"privwatch", "import", fixture, "--format", "auditd", "-c", config, "-o",
                     dir + "/out.jsonl"}),
            0);
  auto st = store::Store::open_reader(dir + "/store/privwatch.db");
  ASSERT_TRUE(st) << st.error().to_string();
  store::SearchFilter f;
  f.kind = "event";
  f.limit = 100000;
  auto events = store::search(**st, f);
  ASSERT_TRUE(events);
  ASSERT_FALSE(events->empty());
  // The audit log's own times (msg=audit(1795323752.144:...)), not the time of the import.
  for (const auto& e : *events) {
    EXPECT_GE(e.wall_ns, 1795323752ull * kSec);
    EXPECT_LT(e.wall_ns, 1795323752ull * kSec + 3600 * kSec);
  }
  expect_stored_events_are_output_lines(**st, dir + "/out.jsonl");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace privwatch::ueba

namespace privwatch::ueba {
namespace {

// The live path (the agent's): a session starting gets the human's roles and this host's
// cluster from the inventory, in its first record.
TEST(PipelineSessions, LiveSessionsCarryRolesAndCluster) {
  char tmpl[] = "/tmp/pw-pipe-live-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/inventory.yaml") << "host:\n  name: h1\n  cluster: ops\nclusters:\n  ops: "
                                            "[h1]\nroles:\n  sre:\n    users: [root]\n";
  std::ofstream(dir + "/privwatch.yaml")
      << "inventory:\n  path: " << dir << "/inventory.yaml\noutput:\n  path: " << dir
      << "/out.jsonl\n";
  auto cfg = config::load_file(dir + "/privwatch.yaml");
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  auto out = exporter::JsonLinesOutput::open(cfg->output, "h1");
  ASSERT_TRUE(out);
  {
    cli::Pipeline p(*cfg, std::move(*out), "h1");
    auto loaded = p.load_inventory(cfg->inventory);
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    const uint32_t unset = model::kUnsetId;
    const uint64_t s0 = 100 * kSec;
    const Proc sshd{300, 1, 0, 0, unset, unset, s0, kSec, "/usr/sbin/sshd", ""};
    const Proc shell{301, 300, 0, 0, 0, 42, s0 + kSec, s0, "/usr/bin/bash", "pts/9"};
    model::Event a = exec(sshd, kT0, {"sshd"});
    model::Event b = exec(shell, kT0 + kSec, {"-bash"});
    p.on_event(a);
    p.on_event(b);
    ASSERT_TRUE(p.output().flush());
  }
  bool found = false;
  std::ifstream f(dir + "/out.jsonl");
  std::string line;
  while (std::getline(f, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j["privwatch"]["kind"] != "session") continue;
    if (j["privwatch"].value("human", "") != "root") continue;
    found = true;
    EXPECT_EQ(j["privwatch"]["roles"], nlohmann::json::array({"sre"})) << line;
    EXPECT_EQ(j["privwatch"]["cluster"], "ops") << line;
    EXPECT_EQ(j["session"]["version"], 1) << line;  // in the start record already
  }
  EXPECT_TRUE(found);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace privwatch::ueba
