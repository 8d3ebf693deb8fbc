// The store in the real agent: events reach the database, verify passes and catches
// tampering, checkpoints go off the host (file and HTTP), kill -9 under load loses nothing
// committed, a full disk is survived and reported, a damaged database is moved aside.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

struct Cli {
  int status = -1;
  std::string out;
};

// Runs the privwatch binary (stdout and stderr together).
Cli privwatch(std::vector<std::string> args) {
  args.insert(args.begin(), agent_binary());
  Child c = Child::exec(args, {.capture_stdout = true, .stderr_to_stdout = true});
  Cli r;
  r.status = c.wait(120s);
  r.out = c.stdout_text();
  return r;
}

Cli sqlite(const std::string& db, const std::string& sql) {
  Child c = Child::exec({"/usr/bin/sqlite3", db, sql},
                        {.capture_stdout = true, .stderr_to_stdout = true});
  Cli r;
  r.status = c.wait(60s);
  r.out = c.stdout_text();
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r;
}

int64_t max_seq(const std::string& db) {
  const Cli r = sqlite(db, "SELECT coalesce(max(seq), 0) FROM records");
  return r.status == 0 ? std::strtoll(r.out.c_str(), nullptr, 10) : -1;
}

std::string store_config(const std::string& dir, const std::string& extra = "") {
  return "store:\n  path: " + dir + "/store/privwatch.db\n  key_path: " + dir +
         "/store/store.key\n  commit_interval_ms: 50\n" + extra;
}

// Polls `privwatch search` until a record for the words satisfies pred. (The search commands
// themselves are stored too: their arguments hold the same words.)
std::optional<json> wait_in_store(const std::string& db, const std::vector<std::string>& words,
                                  const Predicate& pred, Duration timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<std::string> args = {"search", "--db", db, "--json"};
    args.insert(args.end(), words.begin(), words.end());
    const Cli r = privwatch(args);
    size_t start = 0;
    while (r.status == 0 && start < r.out.size()) {
      const size_t end = r.out.find('\n', start);
      const auto j = json::parse(r.out.substr(start, end - start), nullptr, false);
      if (!j.is_discarded() && pred(j)) return j;
      if (end == std::string::npos) break;
      start = end + 1;
    }
    std::this_thread::sleep_for(100ms);
  }
  return std::nullopt;
}

json read_stats(const Agent& a) {
  std::ifstream f(a.dir() + "/stats.json");
  std::string text((std::istreambuf_iterator<char>(f)), {});
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json() : j;
}

TEST(StoreAgentTest, EventsAreStoredSearchableReportedAndVerified) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir("pwstore");
  // A real HTTP receiver on a loopback port: appends every POSTed checkpoint to a file.
  const std::string port_file = dir / "port", received = dir / "received.jsonl";
  const std::string server =
      "import http.server,sys\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "  def do_POST(self):\n"
      "    n=int(self.headers['Content-Length']); b=self.rfile.read(n)\n"
      "    open(sys.argv[2],'ab').write(b+b'\\n'); self.send_response(204); self.end_headers()\n"
      "  def log_message(self,*a): pass\n"
      "s=http.server.HTTPServer(('127.0.0.1',0),H)\n"
      "open(sys.argv[1],'w').write(str(s.server_port))\n"
      "s.serve_forever()\n";
  write_file(dir / "recv.py", server);
  Child http = Child::exec({"/usr/bin/python3", dir / "recv.py", port_file, received});
  std::string port;
  for (int i = 0; i < 100 && port.empty(); ++i) {
    std::this_thread::sleep_for(50ms);
    port = read_file(port_file);
  }
  ASSERT_FALSE(port.empty()) << "the HTTP receiver did not start";

  std::string error;
  auto agent = Agent::start(
      store_config(dir.path(),
                   "  checkpoint_interval_s: 1\n"
                   "  checkpoint_file: " +
                       dir / "ckpt.jsonl" + "\n  checkpoint_url: http://127.0.0.1:" + port +
                       "/checkpoints\n"),
      &error);
  ASSERT_NE(agent, nullptr) << error;
  const std::string db = dir / "store/privwatch.db";
  struct stat st {};
  ASSERT_EQ(::stat((dir / "store/store.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir / "store").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  const std::string token = unique_token();
  Child c = Child::exec({"/bin/true", "--store-token", token});
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(agent->wait_for(kind_is("exec", static_cast<uint32_t>(c.pid())), token));
  const auto found = wait_in_store(
      db, {token}, [&](const json& j) { return num(j["record"], "process.pid") == c.pid(); });
  ASSERT_TRUE(found) << "the exec never reached the store";
  EXPECT_EQ((*found)["kind"], "event");
  EXPECT_EQ(num((*found)["record"], "process.pid"), c.pid());
  EXPECT_EQ(str((*found)["record"], "event.action"), "exec");
  const int64_t seq = (*found)["seq"].get<int64_t>();

  // Field filters agree.
  Cli r = privwatch({"search", "--db", db, "--kind", "exec", "--user", "root", "--since", "10m",
                     "--json", "-n", "1000000", token});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(token), std::string::npos);
  r = privwatch({"search", "--db", db, "--kind", "file", token});
  EXPECT_EQ(r.out.find(token), std::string::npos);

  const StopResult stopped = agent->stop();
  ASSERT_EQ(describe_status(stopped.status), "exit 0") << stopped.stderr_text;
  ASSERT_TRUE(stopped.stats.contains("store")) << stopped.stats.dump();
  EXPECT_EQ(stopped.stats["store"]["dropped_queue"], 0);
  EXPECT_EQ(stopped.stats["store"]["dropped_write"], 0);
  EXPECT_GE(stopped.stats["store"]["checkpoints"].get<int>(), 1);

  // The report sees the command.
  r = privwatch({"report", "--db", db, "--user", "root", "--since", "1h", "--format", "json"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("/usr/bin/true"), std::string::npos) << r.out;

  // Verify with the exported key and both off-host copies.
  r = privwatch({"store", "pubkey", "--key", dir / "store/store.key"});
  ASSERT_EQ(r.status, 0) << r.out;
  write_file(dir / "pubkey", r.out);
  for (int i = 0; i < 50 && read_file(received).empty(); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_FALSE(read_file(received).empty()) << "no checkpoint was POSTed";
  r = privwatch({"verify", "--db", db, "--pubkey", dir / "pubkey", "--checkpoints",
                 dir / "ckpt.jsonl", "--checkpoints", received});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("OK"), std::string::npos) << r.out;

  // Tampering: an edited record is named, exit status 1.
  ASSERT_EQ(
      sqlite(db, "UPDATE records SET text = 'nothing to see' WHERE seq = " + std::to_string(seq))
          .status,
      0);
  r = privwatch({"verify", "--db", db, "--pubkey", dir / "pubkey"});
  EXPECT_EQ(r.status, 1 << 8) << r.out;
  EXPECT_NE(r.out.find("first problem at record " + std::to_string(seq)), std::string::npos)
      << r.out;

  // Truncation: caught with the off-host checkpoints.
  const int64_t last = max_seq(db);
  ASSERT_EQ(sqlite(db, "DELETE FROM records WHERE seq > " + std::to_string(last - 1)).status, 0);
  r = privwatch(
      {"verify", "--db", db, "--checkpoints", received, "--from", std::to_string(seq + 1)});
  EXPECT_EQ(r.status, 1 << 8) << r.out;
  EXPECT_NE(r.out.find("truncation"), std::string::npos) << r.out;
  http.kill(SIGTERM);
}

TEST(StoreKill9Test, CommittedRecordsSurviveKill9UnderLoad) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir("pwstore");
  std::string error;
  auto agent = Agent::start(store_config(dir.path()), &error);
  ASSERT_NE(agent, nullptr) << error;
  const std::string db = dir / "store/privwatch.db";
  write_file(dir / "target", "x");
  Child flood = Child::exec({helper_path("open_flood"), dir / "target", "3000000"});
  // Wait until the store holds a good number of committed records, then read what is
  // committed (a reader only sees committed transactions) and kill the agent at once.
  int64_t committed = 0;
  for (int i = 0; i < 200 && committed < 20000; ++i) {
    std::this_thread::sleep_for(50ms);
    committed = max_seq(db);
  }
  ASSERT_GE(committed, 20000) << "the store did not fill under load";
  committed = max_seq(db);
  agent->signal(SIGKILL);
  flood.kill(SIGKILL);
  (void)agent->stop();

  const Cli ic = sqlite(db, "PRAGMA integrity_check");
  EXPECT_EQ(ic.out, "ok");
  EXPECT_GE(max_seq(db), committed);
  Cli r = privwatch({"verify", "--db", db});
  EXPECT_EQ(r.status, 0) << r.out;

  // The next agent continues the same chain.
  auto again = Agent::start(store_config(dir.path()), &error);
  ASSERT_NE(again, nullptr) << error;
  const int64_t before = max_seq(db);
  Child c = Child::exec({"/bin/true", unique_token()});
  c.wait();
  for (int i = 0; i < 100 && max_seq(db) <= before; ++i) std::this_thread::sleep_for(50ms);
  const StopResult s = again->stop();
  EXPECT_EQ(describe_status(s.status), "exit 0") << s.stderr_text;
  EXPECT_GT(max_seq(db), before);
  r = privwatch({"verify", "--db", db});
  EXPECT_EQ(r.status, 0) << r.out;
}

// A tmpfs of 2 MiB that the test creates and removes.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& path) : path_(path) {
    ::mkdir(path.c_str(), 0700);
    ok_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, "size=2m,mode=0700") == 0;
  }
  ~SmallDisk() {
    if (ok_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  bool grow() { return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, "size=256m") == 0; }

 private:
  std::string path_;
  bool ok_ = false;
};

TEST(StoreDiskFullTest, CaptureGoesOnDropsAreCountedAndAnAlertIsStored) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir("pwstore");
  SmallDisk disk(dir / "disk");
  ASSERT_TRUE(disk.ok()) << "mount tmpfs: " << std::strerror(errno);
  std::string error;
  const std::string db = dir / "disk/privwatch.db";
  auto agent = Agent::start("store:\n  path: " + db + "\n  key_path: " + dir / "disk/store.key" +
                                "\n  commit_interval_ms: 50\n",
                            &error, {"--stats-interval", "1"});
  ASSERT_NE(agent, nullptr) << error;
  write_file(dir / "target", "x");
  Child flood = Child::exec({helper_path("open_flood"), dir / "target", "100000000"});
  json stats;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(100ms);
    stats = read_stats(*agent);
    if (stats.contains("store") && stats["store"].value("disk_full", false) &&
        stats["store"].value("dropped_write", 0) > 0) {
      break;
    }
  }
  ASSERT_TRUE(stats.contains("store") && stats["store"].value("disk_full", false))
      << "the disk never filled: " << stats.dump();
  // Capture goes on while the store cannot write.
  const uint64_t events_then = stats.value("events_total", uint64_t{0});
  std::this_thread::sleep_for(1500ms);
  stats = read_stats(*agent);
  EXPECT_GT(stats.value("events_total", uint64_t{0}), events_then);
  EXPECT_TRUE(agent->alive());
  flood.kill(SIGKILL);
  flood.wait();
  // Space comes back: the store writes again and records what happened.
  ASSERT_TRUE(disk.grow());
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(100ms);
    stats = read_stats(*agent);
    if (stats.contains("store") && !stats["store"].value("disk_full", true)) break;
  }
  EXPECT_FALSE(stats["store"].value("disk_full", true)) << stats.dump();
  const StopResult s = agent->stop();
  EXPECT_EQ(describe_status(s.status), "exit 0") << s.stderr_text;
  EXPECT_NE(s.stderr_text.find("disk is full"), std::string::npos) << s.stderr_text;
  const auto dropped = s.stats["store"]["dropped_write"].get<uint64_t>();
  EXPECT_GT(dropped, 0u);

  Cli r = privwatch({"alerts", "--db", db, "--rule", "store.disk_full", "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  const auto alert = json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
  ASSERT_FALSE(alert.is_discarded()) << r.out;
  EXPECT_EQ(str(alert["record"], "rule.name"), "store.disk_full");
  EXPECT_GT(num(alert["record"], "privwatch.details.dropped"), 0);
  r = privwatch({"verify", "--db", db});
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST(StoreCorruptTest, ADamagedDatabaseIsMovedAsideAndANewChainStarts) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir("pwstore");
  ::mkdir((dir / "store").c_str(), 0700);
  const std::string db = dir / "store/privwatch.db";
  const std::string garbage(16384, '\x5a');
  write_file(db, garbage, 0600);
  std::string error;
  auto agent = Agent::start(store_config(dir.path()), &error);
  ASSERT_NE(agent, nullptr) << error;
  const StopResult s = agent->stop();
  EXPECT_EQ(describe_status(s.status), "exit 0") << s.stderr_text;
  const size_t at = s.stderr_text.find("moved it aside to ");
  ASSERT_NE(at, std::string::npos) << s.stderr_text;
  std::string aside = s.stderr_text.substr(at + 18);
  aside = aside.substr(0, aside.find(' '));
  EXPECT_EQ(read_file(aside), garbage);  // kept byte for byte
  Cli r = privwatch({"alerts", "--db", db, "--json"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"store.damaged_database\""), std::string::npos) << r.out;
  r = privwatch({"verify", "--db", db});
  EXPECT_EQ(r.status, 0) << r.out;
  // verify on the damaged file: a clear error, non-zero.
  r = privwatch({"verify", "--db", aside});
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(aside), std::string::npos) << r.out;
}

}  // namespace
}  // namespace privwatch::itest
