// Export outputs against real receivers started by the test: OTLP/HTTP and webhooks (an HTTP
// server that decodes the payloads), syslog over UDP, TCP and TLS (listeners that parse RFC
// 5424 and octet-counted frames; the TLS certificate is generated with openssl). Includes
// receivers that are down, refuse, fail transiently or hang: the caller never waits, the
// queue stays bounded and every record is accounted for (delivered or counted as dropped).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "export/http_sinks.hpp"
#include "export/pipeline_metrics.hpp"
#include "export/syslog_sink.hpp"
#include "receivers.hpp"

namespace privwatch::exporter {
namespace {

using json = nlohmann::json;
using namespace testing;
namespace fs = std::filesystem;

model::Event exec_event(uint32_t pid, const std::string& exe) {
  model::Event ev;
  ev.kind = model::EventKind::kExec;
  ev.proc.pid = pid;
  ev.proc.comm = "nc";
  ev.user_name = "alice";
  ev.wall_time_ns = 1'763'780'000'123'456'789ull;
  ev.seq = pid;
  model::ExecData x;
  x.exe_path = exe;
  x.filename = exe;
  x.args = {"nc", "-l", "4444"};
  ev.data = x;
  return ev;
}

model::Alert alert(const std::string& id, model::Severity sev, const std::string& rule = "r1") {
  model::Alert a;
  a.id = id;
  a.severity = sev;
  a.rule = rule;
  a.title = "reverse shell by alice <x>";
  a.user = "root";
  a.human = "alice";
  a.host = "app-3";
  a.mitre = "T1059.004";
  a.wall_ns = 1'763'780'000'000'000'000ull;
  return a;
}

config::SinkConfig fast_sink(bool events, bool alerts) {
  config::SinkConfig c;
  c.events = events;
  c.alerts = alerts;
  c.min_severity = config::MinSeverity::kInfo;
  c.retry_initial_ms = 10;
  c.retry_max_ms = 50;
  c.timeout_ms = 2000;
  return c;
}

// Every record the sink accepted is delivered or counted as dropped once it is closed.
void expect_accounted(const model::RecordSink& s, uint64_t offered) {
  const model::SinkStats st = s.stats();
  EXPECT_EQ(st.accepted + st.dropped_queue_full, offered);
  EXPECT_EQ(st.delivered + st.dropped_failed, st.accepted);
  EXPECT_EQ(st.queue_depth, 0u);
}

// ---------------------------------------------------------------------------------------
// OTLP

TEST(OtlpSink, EventsAndAlertsArriveAsOtlpLogs) {
  HttpReceiver rx;
  config::OtlpConfig cfg;
  cfg.endpoint = rx.url("/otel");
  cfg.headers = {{"Authorization", "Bearer s3cret"}};
  cfg.metrics_interval_s = 0;
  cfg.linger_ms = 50;
  cfg.sink = fast_sink(true, true);
  cfg.sink.batch_size = 3;
  auto sink = OtlpSink::create(cfg, "host-a", nullptr);
  ASSERT_TRUE(sink) << sink.error().to_string();
  for (uint32_t pid = 100; pid < 105; ++pid) (*sink)->on_event(exec_event(pid, "/usr/bin/nc"));
  (*sink)->on_alert(alert("al-1", model::Severity::kHigh));
  (*sink)->close();
  expect_accounted(**sink, 6);
  EXPECT_EQ((*sink)->stats().delivered, 6u);

  std::vector<json> records;
  for (const auto& req : rx.requests()) {
    EXPECT_EQ(req.path, "/otel/v1/logs");
    EXPECT_EQ(req.headers.find("Authorization")->second, "Bearer s3cret");
    EXPECT_EQ(req.headers.find("Content-Type")->second, "application/json");
    const json doc = json::parse(req.body);
    const json& rl = doc["resourceLogs"][0];
    bool host_seen = false;
    for (const auto& a : rl["resource"]["attributes"]) {
      if (a["key"] == "host.name") host_seen = a["value"]["stringValue"] == "host-a";
    }
    EXPECT_TRUE(host_seen) << rl["resource"].dump();
    EXPECT_EQ(rl["scopeLogs"][0]["scope"]["name"], "privwatch");
    const json& lrs = rl["scopeLogs"][0]["logRecords"];
    EXPECT_LE(lrs.size(), 3u) << "batches are at most batch_size records";
    for (const auto& lr : lrs) records.push_back(lr);
  }
  ASSERT_EQ(records.size(), 6u);
  std::set<int64_t> pids;
  for (const auto& lr : records) {
    const json body = json::parse(lr["body"]["stringValue"].get<std::string>());
    std::string type;
    for (const auto& a : lr["attributes"]) {
      if (a["key"] == "privwatch.record") type = a["value"]["stringValue"];
    }
    if (type == "event") {
      EXPECT_EQ(lr["severityNumber"], 9);
      EXPECT_EQ(lr["timeUnixNano"], "1763780000123456789");
      EXPECT_EQ(body["process"]["executable"], "/usr/bin/nc");
      EXPECT_EQ(body["host"]["name"], "host-a");
      pids.insert(body["process"]["pid"].get<int64_t>());
    } else {
      EXPECT_EQ(type, "alert");
      EXPECT_EQ(lr["severityNumber"], 17);
      EXPECT_EQ(lr["severityText"], "HIGH");
      EXPECT_EQ(body["rule"]["name"], "r1");
    }
  }
  EXPECT_EQ(pids, (std::set<int64_t>{100, 101, 102, 103, 104}));
}

TEST(OtlpSink, MetricsArriveAsOtlpSumsGaugesAndHistograms) {
  HttpReceiver rx;
  MetricsRegistry reg;
  PipelineMetrics pm;
  model::Event ev = exec_event(1, "/bin/true");
  ev.ts_ns = 1;
  pm.on_event(ev, 2);
  source::SourceStats src;
  src.received[static_cast<size_t>(model::EventKind::kExec)] = 41;
  reg.publish(pm.snapshot(src, {}, {}));
  config::OtlpConfig cfg;
  cfg.endpoint = rx.url();
  cfg.metrics_interval_s = 1;
  cfg.sink = fast_sink(false, true);
  auto sink = OtlpSink::create(cfg, "host-m", &reg);
  ASSERT_TRUE(sink);
  ASSERT_TRUE(eventually([&] { return (*sink)->metric_exports() >= 1; }));
  (*sink)->close();
  const auto reqs = rx.requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_EQ(reqs[0].path, "/v1/metrics");
  const json doc = json::parse(reqs[0].body);
  std::map<std::string, json> metrics;
  for (const auto& m : doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"]) {
    metrics[m["name"]] = m;
  }
  const json& events = metrics.at("privwatch_events");
  EXPECT_EQ(events["sum"]["isMonotonic"], true);
  EXPECT_EQ(events["sum"]["aggregationTemporality"], 2);
  bool exec_seen = false;
  for (const auto& dp : events["sum"]["dataPoints"]) {
    if (dp["attributes"][0]["value"]["stringValue"] == "exec") {
      exec_seen = true;
      EXPECT_EQ(dp["asDouble"], 41);
    }
  }
  EXPECT_TRUE(exec_seen);
  EXPECT_TRUE(metrics.at("privwatch_active_sessions").contains("gauge"));
  const json& lat = metrics.at("privwatch_event_latency_seconds");
  EXPECT_EQ(lat["unit"], "s");
  const json& dp = lat["histogram"]["dataPoints"][0];
  EXPECT_EQ(dp["count"], "1");
  EXPECT_EQ(dp["bucketCounts"].size(), dp["explicitBounds"].size() + 1);
  uint64_t total = 0;
  for (const auto& c : dp["bucketCounts"]) total += std::stoull(c.get<std::string>());
  EXPECT_EQ(total, 1u);
}

TEST(OtlpSink, TransientFailuresAreRetriedWithBackoff) {
  HttpReceiver rx;
  rx.respond_with({503, 429, 500});
  config::OtlpConfig cfg;
  cfg.endpoint = rx.url();
  cfg.metrics_interval_s = 0;
  cfg.sink = fast_sink(false, true);
  auto sink = OtlpSink::create(cfg, "h", nullptr);
  ASSERT_TRUE(sink);
  (*sink)->on_alert(alert("a", model::Severity::kCritical));
  ASSERT_TRUE(eventually([&] { return (*sink)->stats().delivered == 1; }));
  EXPECT_EQ((*sink)->stats().retries, 3u);
  EXPECT_EQ(rx.requests().size(), 1u);
  (*sink)->close();
  expect_accounted(**sink, 1);
}

TEST(OtlpSink, ARejectedBatchIsDroppedAndCountedNotRetried) {
  HttpReceiver rx;
  rx.respond_with({400});
  config::OtlpConfig cfg;
  cfg.endpoint = rx.url();
  cfg.metrics_interval_s = 0;
  cfg.linger_ms = 1000;
  cfg.sink = fast_sink(true, false);
  cfg.sink.batch_size = 4;
  auto sink = OtlpSink::create(cfg, "h", nullptr);
  ASSERT_TRUE(sink);
  for (uint32_t i = 0; i < 4; ++i) (*sink)->on_event(exec_event(i + 1, "/bin/x"));
  ASSERT_TRUE(eventually([&] { return (*sink)->stats().dropped_failed == 4; }));
  EXPECT_EQ((*sink)->stats().retries, 0u);
  (*sink)->close();
  expect_accounted(**sink, 4);
}

// ---------------------------------------------------------------------------------------
// Webhooks

TEST(WebhookSink, GenericJsonCarriesTheAlertDocument) {
  HttpReceiver rx;
  config::WebhookConfig cfg;
  cfg.name = "soc";
  cfg.url = rx.url("/hooks/privwatch");
  cfg.headers = {{"X-Token", "t1"}};
  cfg.sink = fast_sink(false, true);
  cfg.sink.min_severity = config::MinSeverity::kMedium;
  auto sink = WebhookSink::create(cfg, "host-w");
  ASSERT_TRUE(sink) << sink.error().to_string();
  EXPECT_EQ((*sink)->name(), "soc");
  (*sink)->on_event(exec_event(1, "/bin/sh"));               // events not selected
  (*sink)->on_alert(alert("low-1", model::Severity::kLow));  // below min_severity
  (*sink)->on_alert(alert("high-1", model::Severity::kHigh));
  (*sink)->close();
  expect_accounted(**sink, 1);
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/hooks/privwatch");
  EXPECT_EQ(reqs[0].headers.find("X-Token")->second, "t1");
  const json j = json::parse(reqs[0].body);
  EXPECT_EQ(j["type"], "alert");
  EXPECT_EQ(j["host"], "host-w");
  EXPECT_EQ(j["alert"]["rule"]["name"], "r1");
  EXPECT_EQ(j["alert"]["privwatch"]["severity"], "high");
}

TEST(WebhookSink, SlackFormatIsATextMessage) {
  HttpReceiver rx;
  config::WebhookConfig cfg;
  cfg.name = "slack";
  cfg.url = rx.url("/services/T0/B0/x");
  cfg.format = config::WebhookFormat::kSlack;
  cfg.sink = fast_sink(true, true);
  auto sink = WebhookSink::create(cfg, "host-s");
  ASSERT_TRUE(sink);
  (*sink)->on_alert(alert("a1", model::Severity::kCritical, "reverse_shell"));
  (*sink)->on_event(exec_event(77, "/usr/bin/nc"));
  (*sink)->close();
  const auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 2u);
  std::vector<std::string> texts;
  for (const auto& r : reqs) {
    const json j = json::parse(r.body);
    ASSERT_EQ(j.size(), 1u) << r.body;  // exactly {"text": ...}
    texts.push_back(j["text"]);
  }
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts[0],
            "[CRITICAL] reverse shell by alice &lt;x&gt; — user root (human alice) on app-3 — rule "
            "reverse_shell (T1059.004)");
  EXPECT_EQ(texts[1], "exec by alice (nc, pid 77) on host-s: /usr/bin/nc -l 4444");
}

TEST(WebhookSink, ADownReceiverDropsBeyondTheQueueAndNeverBlocksTheCaller) {
  config::WebhookConfig cfg;
  cfg.name = "down";
  cfg.url = "http://127.0.0.1:" + std::to_string(dead_port()) + "/x";
  cfg.sink = fast_sink(false, true);
  cfg.sink.queue_size = 8;
  cfg.sink.batch_size = 1;  // as the configuration sets for webhooks: one record in flight
  cfg.sink.max_retries = 2;
  auto sink = WebhookSink::create(cfg, "h");
  ASSERT_TRUE(sink);
  constexpr int kOffered = 500;
  for (int i = 0; i < kOffered; ++i) {
    (*sink)->on_alert(alert(std::to_string(i), model::Severity::kHigh));
    EXPECT_LE((*sink)->pending(), 8u + 1u) << "queue bound (+1 batch in flight)";
  }
  const auto st = (*sink)->stats();
  EXPECT_GE(st.dropped_queue_full, kOffered - 9u);
  EXPECT_EQ(st.queue_capacity, 8u);
  (*sink)->close();
  expect_accounted(**sink, kOffered);
  EXPECT_EQ((*sink)->stats().delivered, 0u);
  EXPECT_GT((*sink)->stats().retries, 0u);
}

TEST(WebhookSink, ASlowReceiverFillsOnlyItsOwnQueue) {
  HttpReceiver rx;
  rx.hold();  // every request blocks in the receiver until released
  config::WebhookConfig cfg;
  cfg.name = "slow";
  cfg.url = rx.url("/slow");
  cfg.sink = fast_sink(false, true);
  cfg.sink.queue_size = 16;
  cfg.sink.timeout_ms = 30000;  // the sender waits for the slow receiver, not the caller
  auto sink = WebhookSink::create(cfg, "h");
  ASSERT_TRUE(sink);
  (*sink)->on_alert(alert("first", model::Severity::kHigh));
  ASSERT_TRUE(eventually([&] { return rx.arrivals() >= 1; }));  // the worker is stuck
  constexpr int kOffered = 1000;
  for (int i = 0; i < kOffered; ++i)
    (*sink)->on_alert(alert(std::to_string(i), model::Severity::kHigh));
  auto st = (*sink)->stats();
  EXPECT_EQ(st.accepted, 17u) << "the one in flight + a full queue";
  EXPECT_EQ(st.dropped_queue_full, kOffered - 16u);
  EXPECT_EQ(st.queue_depth, 17u);
  rx.release();
  ASSERT_TRUE(eventually([&] { return (*sink)->stats().delivered == 17; }));
  (*sink)->close();
  expect_accounted(**sink, kOffered + 1);
  EXPECT_EQ(rx.requests().size(), 17u);
}

// ---------------------------------------------------------------------------------------
// syslog

// <PRI>1 TIMESTAMP HOSTNAME APP PROCID MSGID [SD] MSG
const std::regex kRfc5424(
    R"(^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) (\S+) (\d+) (\S+) (\[privwatch@32473(?:[^\]\\]|\\.)*\]) (\{.*\})$)");

struct Parsed {
  int pri = -1;
  std::string timestamp, host, app, msgid, sd;
  json msg;
};

Parsed parse_5424(const std::string& m) {
  std::smatch g;
  Parsed p;
  if (!std::regex_match(m, g, kRfc5424)) {
    ADD_FAILURE() << "not RFC 5424: " << m.substr(0, 300);
    return p;
  }
  p.pri = std::stoi(g[1]);
  p.timestamp = g[2];
  p.host = g[3];
  p.app = g[4];
  EXPECT_EQ(std::stoul(g[5].str()), static_cast<unsigned long>(::getpid()));
  p.msgid = g[6];
  p.sd = g[7];
  p.msg = json::parse(g[8].str());
  return p;
}

config::SyslogConfig syslog_cfg(config::SyslogTransport t, int port) {
  config::SyslogConfig c;
  c.enabled = true;
  c.transport = t;
  c.address = "127.0.0.1:" + std::to_string(port);
  c.facility = "local3";
  c.facility_code = 19;
  c.app_name = "pwtest";
  c.sink = fast_sink(true, true);
  return c;
}

TEST(SyslogSink, UdpDatagramsAreRfc5424WithEcsJson) {
  UdpReceiver rx;
  auto sink = SyslogSink::create(syslog_cfg(config::SyslogTransport::kUdp, rx.port()), "host-u");
  ASSERT_TRUE(sink) << sink.error().to_string();
  (*sink)->on_event(exec_event(4242, "/usr/bin/nc"));
  (*sink)->on_alert(alert("al-9", model::Severity::kCritical, "rule \"x\" ]"));
  const Parsed ev = parse_5424(rx.receive());
  const Parsed al = parse_5424(rx.receive());
  (*sink)->close();
  expect_accounted(**sink, 2);
  EXPECT_EQ(ev.pri, 19 * 8 + 6);  // local3.info
  EXPECT_EQ(ev.timestamp, "2025-11-22T02:53:20.123456Z");
  EXPECT_EQ(ev.host, "host-u");
  EXPECT_EQ(ev.app, "pwtest");
  EXPECT_EQ(ev.msgid, "event");
  EXPECT_EQ(ev.sd, R"([privwatch@32473 kind="exec" seq="4242"])");
  EXPECT_EQ(ev.msg["process"]["pid"], 4242);
  EXPECT_EQ(al.pri, 19 * 8 + 2);  // local3.crit
  EXPECT_EQ(al.msgid, "alert");
  EXPECT_EQ(al.sd, R"([privwatch@32473 rule="rule \"x\" \]" severity="critical" id="al-9"])");
  EXPECT_EQ(al.msg["rule"]["name"], "rule \"x\" ]");
}

TEST(SyslogSink, TcpUsesOctetCountingAndReconnectsAfterTheReceiverDropsIt) {
  StreamReceiver rx;
  auto sink = SyslogSink::create(syslog_cfg(config::SyslogTransport::kTcp, rx.port()), "host-t");
  ASSERT_TRUE(sink);
  for (uint32_t pid = 1; pid <= 50; ++pid) (*sink)->on_event(exec_event(pid, "/bin/a"));
  ASSERT_TRUE(eventually([&] { return rx.frames().size() == 50; })) << rx.frames().size();
  rx.drop_connection();
  ASSERT_TRUE(eventually([&] { return rx.connections() == 1 && rx.frames().size() == 50; }));
  std::this_thread::sleep_for(50ms);  // let the sender's socket see the close (not asserted)
  for (uint32_t pid = 51; pid <= 100; ++pid) (*sink)->on_event(exec_event(pid, "/bin/b"));
  (*sink)->close();
  ASSERT_TRUE(eventually([&] { return rx.frames().size() >= 100; })) << rx.frames().size();
  const auto frames = rx.frames();
  ASSERT_EQ(frames.size(), 100u);
  EXPECT_EQ(rx.connections(), 2u);
  for (size_t i = 0; i < frames.size(); ++i) {
    const Parsed p = parse_5424(frames[i]);
    EXPECT_EQ(p.msg["process"]["pid"], i + 1) << "in order, none lost or repeated";
  }
  expect_accounted(**sink, 100);
  EXPECT_EQ((*sink)->stats().delivered, 100u);
}

TEST(SyslogSink, TcpReceiverDownCountsDropsAndRecovers) {
  const int port = dead_port();
  auto cfg = syslog_cfg(config::SyslogTransport::kTcp, port);
  cfg.sink.queue_size = 10;
  cfg.sink.max_retries = 1;
  auto sink = SyslogSink::create(cfg, "h");
  ASSERT_TRUE(sink);
  for (uint32_t pid = 1; pid <= 100; ++pid) (*sink)->on_event(exec_event(pid, "/bin/a"));
  ASSERT_TRUE(eventually([&] { return (*sink)->stats().queue_depth == 0; }));
  const auto st = (*sink)->stats();
  EXPECT_EQ(st.delivered, 0u);
  EXPECT_GE(st.dropped_queue_full, 80u);  // at most 10 queued + a batch of 10 in flight
  EXPECT_EQ(st.dropped_failed + st.dropped_queue_full, 100u);
  (*sink)->close();
  expect_accounted(**sink, 100);
}

class TlsCerts {
 public:
  TlsCerts() {
    dir_ = fs::temp_directory_path() / ("pw-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=privwatch-test "
        "-addext subjectAltName=IP:127.0.0.1,DNS:syslog.test -keyout " +
        key() + " -out " + cert());
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout " +
        (dir_ / "other.key").string() + " -out " + other_ca());
  }
  ~TlsCerts() { fs::remove_all(dir_); }
  std::string cert() const { return (dir_ / "cert.pem").string(); }
  std::string key() const { return (dir_ / "key.pem").string(); }
  std::string other_ca() const { return (dir_ / "other.pem").string(); }

 private:
  static void run(const std::string& cmd) {
    ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
  }
  fs::path dir_;
};

TEST(SyslogSink, TlsVerifiesTheServerAndDelivers) {
  TlsCerts certs;
  StreamReceiver rx(certs.cert(), certs.key());
  auto cfg = syslog_cfg(config::SyslogTransport::kTls, rx.port());
  cfg.tls.ca_file = certs.cert();  // self-signed: it is its own CA
  cfg.sink.batch_size = 5;
  auto sink = SyslogSink::create(cfg, "host-tls");
  ASSERT_TRUE(sink) << sink.error().to_string();
  for (uint32_t pid = 1; pid <= 10; ++pid) (*sink)->on_event(exec_event(pid, "/bin/tls"));
  ASSERT_TRUE(eventually([&] { return rx.frames().size() == 10; }));
  // Later batches reuse the connection (TLS 1.3 session tickets are not mistaken for a close).
  for (uint32_t pid = 11; pid <= 20; ++pid) (*sink)->on_event(exec_event(pid, "/bin/tls"));
  (*sink)->on_alert(alert("t1", model::Severity::kMedium));
  (*sink)->close();
  expect_accounted(**sink, 21);
  EXPECT_EQ((*sink)->stats().delivered, 21u);
  ASSERT_TRUE(eventually([&] { return rx.frames().size() >= 21; }));
  const auto frames = rx.frames();
  ASSERT_EQ(frames.size(), 21u);
  EXPECT_EQ(parse_5424(frames[0]).msg["process"]["executable"], "/bin/tls");
  const Parsed al = parse_5424(frames[20]);
  EXPECT_EQ(al.pri, 19 * 8 + 4);
  EXPECT_EQ(al.host, "host-tls");
  EXPECT_EQ(rx.connections(), 1u);

  // By DNS name (server_name) as well.
  StreamReceiver rx2(certs.cert(), certs.key());
  auto cfg2 = syslog_cfg(config::SyslogTransport::kTls, rx2.port());
  cfg2.tls.ca_file = certs.cert();
  cfg2.tls.server_name = "syslog.test";
  auto sink2 = SyslogSink::create(cfg2, "h");
  ASSERT_TRUE(sink2);
  (*sink2)->on_alert(alert("t2", model::Severity::kHigh));
  (*sink2)->close();
  EXPECT_TRUE(eventually([&] { return rx2.frames().size() == 1; }));
}

TEST(SyslogSink, TlsRefusesAnUntrustedOrMisnamedServer) {
  TlsCerts certs;
  StreamReceiver rx(certs.cert(), certs.key());
  for (const std::string variant : {"untrusted", "wrong-name"}) {
    auto cfg = syslog_cfg(config::SyslogTransport::kTls, rx.port());
    cfg.sink.max_retries = 1;
    if (variant == "untrusted") {
      cfg.tls.ca_file = certs.other_ca();
    } else {
      cfg.tls.ca_file = certs.cert();
      cfg.tls.server_name = "not-the-server.test";
    }
    auto sink = SyslogSink::create(cfg, "h");
    ASSERT_TRUE(sink);
    (*sink)->on_alert(alert("x", model::Severity::kHigh));
    ASSERT_TRUE(eventually([&] { return (*sink)->stats().dropped_failed == 1; })) << variant;
    (*sink)->close();
    expect_accounted(**sink, 1);
    EXPECT_EQ((*sink)->stats().delivered, 0u) << variant;
  }
  EXPECT_TRUE(rx.frames().empty());
  EXPECT_GE(rx.handshake_failures(), 2u);
}

TEST(WebhookSink, HttpsVerifiesTheReceiverCertificate) {
  TlsCerts certs;
  httplib::SSLServer srv(certs.cert().c_str(), certs.key().c_str());
  ASSERT_TRUE(srv.is_valid());
  srv.set_keep_alive_timeout(1);
  std::mutex mu;
  std::vector<std::string> bodies;
  srv.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    bodies.push_back(req.body);
    res.status = 204;
  });
  const int port = srv.bind_to_any_port("127.0.0.1");
  std::thread t([&] { srv.listen_after_bind(); });
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/hook";

  config::WebhookConfig good;
  good.name = "tls-good";
  good.url = url;
  good.tls.ca_file = certs.cert();
  good.sink = fast_sink(false, true);
  auto ok = WebhookSink::create(good, "h");
  ASSERT_TRUE(ok);
  (*ok)->on_alert(alert("a1", model::Severity::kHigh));
  (*ok)->close();
  EXPECT_EQ((*ok)->stats().delivered, 1u);

  config::WebhookConfig bad = good;
  bad.name = "tls-untrusted";
  bad.tls.ca_file = certs.other_ca();
  bad.sink.max_retries = 1;
  auto refused = WebhookSink::create(bad, "h");
  ASSERT_TRUE(refused);
  (*refused)->on_alert(alert("a2", model::Severity::kHigh));
  (*refused)->close();
  EXPECT_EQ((*refused)->stats().delivered, 0u);
  EXPECT_EQ((*refused)->stats().dropped_failed, 1u);
  expect_accounted(**refused, 1);

  srv.stop();
  t.join();
  std::lock_guard lock(mu);
  ASSERT_EQ(bodies.size(), 1u) << "only the verified client got through";
  EXPECT_EQ(json::parse(bodies[0])["alert"]["event"]["id"], "a1");
}

TEST(SyslogSink, AMissingCaFileIsAConfigurationError) {
  auto cfg = syslog_cfg(config::SyslogTransport::kTls, 6514);
  cfg.tls.ca_file = "/nonexistent/ca.pem";
  auto sink = SyslogSink::create(cfg, "h");
  ASSERT_FALSE(sink);
  EXPECT_NE(sink.error().message.find("exports.syslog.tls.ca_file"), std::string::npos);
  EXPECT_NE(sink.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST(SyslogSink, Rfc5424Pieces) {
  EXPECT_EQ(syslog_timestamp(0), "-");
  EXPECT_EQ(syslog_timestamp(1'000'000'000ull * 86400 + 999'999'999),
            "1970-01-02T00:00:00.999999Z");
  EXPECT_EQ(syslog_facility_code("authpriv"), 10);
  EXPECT_EQ(syslog_facility_code("local7"), 23);
  EXPECT_EQ(syslog_facility_code("nope"), -1);
  EXPECT_EQ(syslog_severity(model::Severity::kInfo), 6);
  EXPECT_EQ(syslog_severity(model::Severity::kHigh), 3);
}

}  // namespace
}  // namespace privwatch::exporter
