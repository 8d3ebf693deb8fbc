// Metrics and exports with the REAL agent: a real Prometheus server scrapes the agent's
// /metrics (file_created_total and events_total after a real file creation); the agent's
// syslog output reaches a TCP receiver started by the test; a dead webhook fills only its own
// queue while events keep flowing (drops counted and visible in /metrics).
#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "../unit/export/receivers.hpp"
#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

using exporter::testing::dead_port;
using exporter::testing::eventually;
using exporter::testing::StreamReceiver;

// The port the agent logged ("metrics: serving http://127.0.0.1:PORT/metrics"); 0 if none.
int metrics_port(const Agent& a) {
  std::smatch m;
  const std::string err = a.stderr_text();
  static const std::regex re(R"(metrics: serving http://127\.0\.0\.1:(\d+)/metrics)");
  return std::regex_search(err, m, re) ? std::stoi(m[1]) : 0;
}

std::string scrape(int port) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Get("/metrics");
  return r && r->status == 200 ? r->body : std::string();
}

// The value of one series in a scrape; -1 when absent.
double series(const std::string& text, const std::string& name_and_labels) {
  const size_t at = text.find("\n" + name_and_labels + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + name_and_labels.size() + 2));
}

// Creates `path` (O_CREAT|O_EXCL) from a forked child; returns its pid.
pid_t create_file(const std::string& path) {
  Child c = Child::run([&] {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return 1;
    ::close(fd);
    return 0;
  });
  const pid_t pid = c.pid();
  EXPECT_EQ(describe_status(c.wait()), "exit 0");
  return pid;
}

// The privwatch_sink_* lines of a scrape (failure messages).
std::string sink_lines(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while ((pos = text.find("\nprivwatch_sink_", pos)) != std::string::npos) {
    const size_t end = text.find('\n', pos + 1);
    out += text.substr(pos, end - pos);
    pos = end;
  }
  return out;
}

int free_port() { return dead_port(); }  // bound and released: free right now

// A real Prometheus server (Debian's prometheus) scraping one target every second.
class Prometheus {
 public:
  Prometheus(int target_port, const TempDir& dir) : dir_(dir.path()) {
    port_ = free_port();
    write_file(dir / "prometheus.yml",
               fmt::format("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                           "scrape_configs:\n  - job_name: privwatch\n    static_configs:\n"
                           "      - targets: ['127.0.0.1:{}']\n",
                           target_port));
    ::mkdir((dir / "data").c_str(), 0700);
    child_ =
        Child::exec({"/usr/bin/prometheus", "--config.file=" + (dir / "prometheus.yml"),
                     "--storage.tsdb.path=" + (dir / "data"),
                     fmt::format("--web.listen-address=127.0.0.1:{}", port_), "--log.level=warn"});
  }
  ~Prometheus() {
    if (child_.running()) {
      child_.kill(SIGTERM);
      child_.wait(30s);
    }
  }
  bool running() { return child_.running(); }
  // The value of an instant query with one result; nullopt when empty or unreachable.
  std::optional<double> query(const std::string& promql) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(5, 0);
    auto r = c.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
    if (!r || r->status != 200) return std::nullopt;
    const json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
    const json& res = j["data"]["result"];
    if (!res.is_array() || res.size() != 1) return std::nullopt;
    return std::stod(res[0]["value"][1].get<std::string>());
  }

 private:
  std::string dir_;
  int port_ = 0;
  Child child_;
};

TEST(ExportPrometheus, RealPrometheusScrapesFileCreatedAndEventCounters) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  ASSERT_EQ(::access("/usr/bin/prometheus", X_OK), 0)
      << "install the Debian package prometheus (scripts/install-deps.sh)";
  std::string error;
  auto agent = Agent::start(
      "metrics:\n  enabled: true\n  listen: \"127.0.0.1:0\"\n  interval_ms: 200\n"
      "baselines:\n  enabled: true\n",
      &error);
  ASSERT_NE(agent, nullptr) << error;
  const int port = metrics_port(*agent);
  ASSERT_GT(port, 0) << agent->stderr_text();

  TempDir dir("pwprom");
  const std::string name = unique_token("created");
  const std::string path = dir / name;
  const pid_t pid = create_file(path);
  // The event itself, in the agent's output: the file was seen as created.
  auto ev = agent->wait_for(
      [&](const json& e) { return str(e, "file.path") == path && num(e, "process.pid") == pid; },
      name);
  ASSERT_TRUE(ev) << "no file event for " << path;

  // Our own scrape is clean under promtool and already has the series.
  std::string text;
  const std::string file_series =
      fmt::format(R"(privwatch_file_created_total{{path="{}",name="{}"}})", path, name);
  ASSERT_TRUE(eventually([&] {
    text = scrape(port);
    return series(text, file_series) == 1;
  })) << text.substr(0, 2000);
  {
    TempDir tmp("pwpromtool");
    write_file(tmp / "m.txt", text);
    Child check = Child::exec({"/bin/sh", "-c", "promtool check metrics < " + (tmp / "m.txt")},
                              {.capture_stdout = true, .stderr_to_stdout = true});
    EXPECT_EQ(describe_status(check.wait()), "exit 0") << check.stdout_text();
  }

  // A real Prometheus server scrapes the agent.
  TempDir pdir("pwpromsrv");
  Prometheus prom(port, pdir);
  ASSERT_TRUE(eventually([&] { return prom.query("up{job=\"privwatch\"}") == 1.0; }, 60s))
      << "Prometheus never saw the agent up";
  EXPECT_TRUE(eventually(
      [&] {
        return prom.query(fmt::format(R"(privwatch_file_created_total{{name="{}"}})", name)) == 1.0;
      },
      30s));
  EXPECT_TRUE(eventually(
      [&] {
        const auto v = prom.query(R"(privwatch_events_total{kind="file"})");
        return v && *v >= 1;
      },
      30s));
  EXPECT_TRUE(eventually(
      [&] {
        const auto v = prom.query(R"(privwatch_event_latency_seconds_count{stage="processed"})");
        return v && *v >= 1;
      },
      30s));
  // Baseline maturity, per dimension: a share in [0, 1], and the entity counts by state.
  for (const char* dim : {"user", "role", "cluster"}) {
    EXPECT_TRUE(eventually(
        [&] {
          const auto v =
              prom.query(fmt::format(R"(privwatch_baseline_maturity{{dimension="{}"}})", dim));
          return v && *v >= 0 && *v <= 1;
        },
        30s))
        << dim;
    EXPECT_TRUE(prom.query(
        fmt::format(R"(privwatch_baseline_entities{{dimension="{}",state="learning"}})", dim)))
        << dim;
    EXPECT_TRUE(prom.query(
        fmt::format(R"(privwatch_baseline_entities{{dimension="{}",state="mature"}})", dim)))
        << dim;
  }
  EXPECT_TRUE(prom.query("privwatch_baseline_learned_events_total"));
  const auto rss = prom.query(R"(privwatch_agent_resident_memory_bytes{area="agent"})");
  ASSERT_TRUE(rss);
  EXPECT_GT(*rss, 1024 * 1024);
  EXPECT_TRUE(prom.running());

  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

TEST(ExportSyslog, AgentEventsReachATcpSyslogReceiver) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  StreamReceiver rx;
  std::string error;
  auto agent = Agent::start(fmt::format("exports:\n  syslog:\n    enabled: true\n"
                                        "    transport: tcp\n    address: \"127.0.0.1:{}\"\n"
                                        "    records: [events]\n",
                                        rx.port()),
                            &error);
  ASSERT_NE(agent, nullptr) << error;
  TempDir dir("pwsyslog");
  const std::string name = unique_token("viasyslog");
  const pid_t pid = create_file(dir / name);
  std::string frame;
  ASSERT_TRUE(eventually([&] {
    for (const auto& f : rx.frames()) {
      if (f.find(name) != std::string::npos && f.find("\"action\":\"open\"") != std::string::npos) {
        frame = f;
        return true;
      }
    }
    return false;
  })) << rx.frames().size()
      << " frames, none about " << name;
  // <PRI>1 TIMESTAMP HOST privwatch PID event [privwatch@32473 kind="file" seq=".."] {json}
  static const std::regex head(
      R"(^<86>1 \S+Z \S+ privwatch (\d+) event \[privwatch@32473 kind="file" seq="\d+"\] )");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(frame, m, head)) << frame.substr(0, 300);
  EXPECT_EQ(std::stoi(m[1]), agent->pid());
  const json j = json::parse(frame.substr(m[0].length()));
  EXPECT_EQ(num(j, "process.pid"), pid);
  EXPECT_EQ(str(j, "file.name"), name);
  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

TEST(ExportOtlp, AgentEventsAndMetricsReachAnOtlpReceiver) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  exporter::testing::HttpReceiver rx;
  std::string error;
  auto agent =
      Agent::start(fmt::format("metrics:\n  enabled: true\n  listen: \"127.0.0.1:0\"\n"
                               "exports:\n  otlp:\n    enabled: true\n    endpoint: {}\n"
                               "    headers: {{X-Tenant: pw-test}}\n    records: [events]\n"
                               "    metrics_interval_s: 1\n    linger_ms: 50\n"
                               "baselines:\n  enabled: true\n",
                               rx.url("/otlp")),
                   &error);
  ASSERT_NE(agent, nullptr) << error;
  TempDir dir("pwotlp");
  const std::string name = unique_token("viaotlp");
  const pid_t pid = create_file(dir / name);
  // The file event as an OTLP log record whose body is the ECS document. Requests are scanned
  // once each (a busy host sends many).
  json found;
  bool metrics_seen = false;
  bool maturity_seen = false;  // privwatch_baseline_maturity{dimension="user"} as an OTLP gauge
  size_t scanned = 0;
  const auto scan = [&] {
    const auto reqs = rx.requests_since(scanned);
    scanned += reqs.size();
    for (const auto& req : reqs) {
      if (req.path == "/otlp/v1/metrics") {
        const json doc = json::parse(req.body);  // named: a temporary would dangle in the loop
        for (const auto& m : doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]) {
          if (m["name"] == "privwatch_baseline_maturity" && m.contains("gauge")) {
            for (const auto& dp : m["gauge"]["dataPoints"]) {
              if (dp["attributes"][0]["value"]["stringValue"] == "user") maturity_seen = true;
            }
          }
          if (m["name"] != "privwatch_events") continue;
          for (const auto& dp : m["sum"]["dataPoints"]) {
            if (dp["attributes"][0]["value"]["stringValue"] == "file" && dp["asDouble"] >= 1) {
              metrics_seen = true;
            }
          }
        }
        continue;
      }
      EXPECT_EQ(req.path, "/otlp/v1/logs");
      EXPECT_EQ(req.headers.find("X-Tenant")->second, "pw-test");
      if (req.body.find(name) == std::string::npos) continue;
      const json doc = json::parse(req.body);
      for (const auto& lr : doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"]) {
        const json body = json::parse(lr["body"]["stringValue"].get<std::string>());
        if (str(body, "file.name") == name && str(body, "event.action") == "open") found = body;
      }
    }
    return !found.is_null() && metrics_seen && maturity_seen;
  };
  const auto summary = [&] {
    std::map<std::string, int> by_path;
    std::string last;
    for (const auto& r : rx.requests_since(0)) {
      by_path[r.path]++;
      last = r.body.substr(0, 600);
    }
    std::string dbg;
    for (const auto& [p, n] : by_path) dbg += fmt::format("{}={} ", p, n);
    return dbg + "\nlast: " + last;
  };
  ASSERT_TRUE(eventually(scan, 30s))
      << summary() << " " << scanned << " requests; event found: " << !found.is_null()
      << ", metrics with file events: " << metrics_seen << ", baseline maturity: " << maturity_seen
      << "\n"
      << agent->stderr_text() << sink_lines(scrape(metrics_port(*agent)));
  EXPECT_EQ(num(found, "process.pid"), pid);
  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

TEST(ExportBackpressure, ADeadWebhookDropsCountedWhileEventsKeepFlowing) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  std::string error;
  auto agent = Agent::start(
      fmt::format("metrics:\n  enabled: true\n  listen: \"127.0.0.1:0\"\n  interval_ms: 200\n"
                  "exports:\n  webhooks:\n    - name: deadhook\n"
                  "      url: http://127.0.0.1:{}/never\n      records: [events]\n"
                  "      queue_size: 16\n      max_retries: 1000\n      retry_initial_ms: 1000\n",
                  dead_port()),
      &error);
  ASSERT_NE(agent, nullptr) << error;
  const int port = metrics_port(*agent);
  ASSERT_GT(port, 0);
  TempDir dir("pwbp");
  const std::string prefix = unique_token("bp");
  constexpr int kFiles = 300;
  Child c = Child::run([&] {
    char path[512];
    for (int i = 0; i < kFiles; ++i) {
      std::snprintf(path, sizeof path, "%s/%s-%d", dir.path().c_str(), prefix.c_str(), i);
      const int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0) return 1;
      ::close(fd);
    }
    return 0;
  });
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  // Progress: every creation reaches the agent's output although the webhook is dead.
  const std::string last = fmt::format("{}/{}-{}", dir.path(), prefix, kFiles - 1);
  ASSERT_TRUE(agent->wait_for([&](const json& e) { return str(e, "file.path") == last; }, prefix));
  EXPECT_EQ(agent
                ->matching(
                    [&](const json& e) {
                      return str(e, "event.action") == "open" && num(e, "process.pid") == c.pid();
                    },
                    prefix)
                .size(),
            static_cast<size_t>(kFiles));
  // The drops are counted and visible; the queue holds at most its bound.
  std::string text;
  ASSERT_TRUE(eventually([&] {
    text = scrape(port);
    return series(text, R"(privwatch_sink_dropped_total{sink="deadhook",cause="queue_full"})") >=
           kFiles - 17;
  })) << text.substr(0, 3000);
  EXPECT_LE(series(text, R"(privwatch_sink_queue_depth{sink="deadhook"})"), 17);
  EXPECT_EQ(series(text, R"(privwatch_sink_queue_capacity{sink="deadhook"})"), 16);
  EXPECT_EQ(series(text, R"(privwatch_sink_delivered_total{sink="deadhook"})"), 0);
  EXPECT_GE(series(text, R"(privwatch_sink_retries_total{sink="deadhook"})"), 1);
  const StopResult r = agent->stop();  // closing gives up on the dead receiver promptly
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
}

}  // namespace
}  // namespace privwatch::itest
