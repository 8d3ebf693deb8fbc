// metrics: and exports: configuration: defaults, every key applied, errors that name
// file:line:col, the key, what is wrong and what to do.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace privwatch::config {
namespace {

TEST(ExportsConfig, DefaultsAreOffAndDocumented) {
  auto cfg = load_default();
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  EXPECT_FALSE(cfg->metrics.enabled);
  EXPECT_EQ(cfg->metrics.listen, "127.0.0.1:9469");
  EXPECT_EQ(cfg->metrics.file_created_max_series, 1000u);
  EXPECT_FALSE(cfg->exports.otlp.enabled);
  EXPECT_FALSE(cfg->exports.syslog.enabled);
  EXPECT_TRUE(cfg->exports.webhooks.empty());
  // The struct defaults agree with the embedded YAML.
  const MetricsConfig m;
  EXPECT_EQ(m.listen, cfg->metrics.listen);
  EXPECT_EQ(m.interval_ms, cfg->metrics.interval_ms);
  EXPECT_EQ(m.max_series, cfg->metrics.max_series);
  const OtlpConfig o;
  EXPECT_EQ(o.endpoint, cfg->exports.otlp.endpoint);
  EXPECT_EQ(o.metrics_interval_s, cfg->exports.otlp.metrics_interval_s);
  EXPECT_EQ(o.linger_ms, cfg->exports.otlp.linger_ms);
  const SinkConfig s;
  for (const SinkConfig* c : {&cfg->exports.otlp.sink, &cfg->exports.syslog.sink}) {
    EXPECT_EQ(s.events, c->events);
    EXPECT_EQ(s.alerts, c->alerts);
    EXPECT_EQ(s.min_severity, c->min_severity);
    EXPECT_EQ(s.queue_size, c->queue_size);
    EXPECT_EQ(s.batch_size, c->batch_size);
    EXPECT_EQ(s.max_retries, c->max_retries);
    EXPECT_EQ(s.retry_initial_ms, c->retry_initial_ms);
    EXPECT_EQ(s.retry_max_ms, c->retry_max_ms);
    EXPECT_EQ(s.timeout_ms, c->timeout_ms);
  }
  const SyslogConfig sl;
  EXPECT_EQ(sl.address, cfg->exports.syslog.address);
  EXPECT_EQ(sl.facility_code, cfg->exports.syslog.facility_code);
  EXPECT_EQ(sl.transport, cfg->exports.syslog.transport);
}

TEST(ExportsConfig, EveryKeyIsApplied) {
  auto cfg = parse(R"(
metrics:
  enabled: true
  listen: "[::1]:9999"
  interval_ms: 500
  file_created_max_series: 7
  max_series: 9
exports:
  otlp:
    enabled: true
    endpoint: https://otel.example.com:4318/base
    headers: {Authorization: "Bearer x", X-Scope: t1}
    records: [events, alerts]
    min_severity: high
    metrics_interval_s: 0
    linger_ms: 10
    queue_size: 5
    batch_size: 2
    max_retries: 0
    retry_initial_ms: 1
    retry_max_ms: 2
    timeout_ms: 3
    tls: {ca_file: /etc/ssl/ca.pem, verify: false}
  syslog:
    enabled: true
    transport: tls
    address: "logs.example.com:6514"
    facility: local4
    app_name: pw
    records: [events]
    tls: {ca_file: /etc/ssl/ca.pem, server_name: logs.example.com}
  webhooks:
    - url: https://hooks.slack.com/services/T/B/X
      format: slack
      min_severity: critical
    - name: soc
      url: http://127.0.0.1:8080/hook
      headers: {X-Token: abc}
      records: [alerts, events]
      queue_size: 3
)",
                   "privwatch.yaml");
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  EXPECT_TRUE(cfg->metrics.enabled);
  EXPECT_EQ(cfg->metrics.listen, "[::1]:9999");
  EXPECT_EQ(cfg->metrics.interval_ms, 500u);
  EXPECT_EQ(cfg->metrics.file_created_max_series, 7u);
  EXPECT_EQ(cfg->metrics.max_series, 9u);
  const OtlpConfig& o = cfg->exports.otlp;
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.endpoint, "https://otel.example.com:4318/base");
  ASSERT_EQ(o.headers.size(), 2u);
  EXPECT_EQ(o.headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer x"}));
  EXPECT_TRUE(o.sink.events);
  EXPECT_TRUE(o.sink.alerts);
  EXPECT_EQ(o.sink.min_severity, MinSeverity::kHigh);
  EXPECT_EQ(o.metrics_interval_s, 0u);
  EXPECT_EQ(o.linger_ms, 10u);
  EXPECT_EQ(o.sink.queue_size, 5u);
  EXPECT_EQ(o.sink.batch_size, 2u);
  EXPECT_EQ(o.sink.max_retries, 0u);
  EXPECT_EQ(o.sink.retry_initial_ms, 1u);
  EXPECT_EQ(o.sink.retry_max_ms, 2u);
  EXPECT_EQ(o.sink.timeout_ms, 3u);
  EXPECT_EQ(o.tls.ca_file, "/etc/ssl/ca.pem");
  EXPECT_FALSE(o.tls.verify);
  const SyslogConfig& s = cfg->exports.syslog;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.transport, SyslogTransport::kTls);
  EXPECT_EQ(s.address, "logs.example.com:6514");
  EXPECT_EQ(s.facility_code, 20u);
  EXPECT_EQ(s.app_name, "pw");
  EXPECT_TRUE(s.sink.events);
  EXPECT_FALSE(s.sink.alerts);
  EXPECT_EQ(s.tls.server_name, "logs.example.com");
  ASSERT_EQ(cfg->exports.webhooks.size(), 2u);
  const WebhookConfig& w0 = cfg->exports.webhooks[0];
  EXPECT_EQ(w0.name, "webhook0");
  EXPECT_EQ(w0.format, WebhookFormat::kSlack);
  EXPECT_EQ(w0.sink.min_severity, MinSeverity::kCritical);
  EXPECT_FALSE(w0.sink.events);
  const WebhookConfig& w1 = cfg->exports.webhooks[1];
  EXPECT_EQ(w1.name, "soc");
  EXPECT_EQ(w1.format, WebhookFormat::kJson);
  EXPECT_TRUE(w1.sink.events);
  EXPECT_EQ(w1.sink.queue_size, 3u);
  EXPECT_EQ(w1.headers[0].second, "abc");
}

struct Bad {
  const char* name;
  std::string yaml;
  std::string location;
  std::string what;
};
void PrintTo(const Bad& b, std::ostream* os) { *os << b.name; }

class ExportsConfigErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(ExportsConfigErrors, NameWhereWhatAndHowToFix) {
  const Bad& b = GetParam();
  auto r = parse(b.yaml, "privwatch.yaml");
  ASSERT_FALSE(r) << "accepted:\n" << b.yaml;
  EXPECT_EQ(r.error().message.rfind(b.location + ": ", 0), 0u) << r.error().to_string();
  EXPECT_NE(r.error().message.find(b.what), std::string::npos) << r.error().to_string();
  EXPECT_FALSE(r.error().hint.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Exports, ExportsConfigErrors,
    ::testing::Values(
        Bad{"UnknownMetricsKey", "metrics:\n  listen_on: x\n", "privwatch.yaml:2:3",
            "unknown key 'listen_on' in 'metrics'"},
        Bad{"ListenWithoutPort", "metrics:\n  listen: localhost\n", "privwatch.yaml:2:11",
            "metrics.listen: 'localhost' is not host:port"},
        Bad{"ListenBadPort", "metrics:\n  listen: \"127.0.0.1:70000\"\n", "privwatch.yaml:2:11",
            "is not host:port"},
        Bad{"IntervalOutOfRange", "metrics:\n  interval_ms: 5\n", "privwatch.yaml:2:16",
            "metrics.interval_ms: 5 is out of range (100..60000)"},
        Bad{"BadTransport", "exports:\n  syslog:\n    transport: relp\n", "privwatch.yaml:3:16",
            "exports.syslog.transport: 'relp' is not one of udp, tcp, tls"},
        Bad{"BadFacility", "exports:\n  syslog:\n    facility: local9\n", "privwatch.yaml:3:15",
            "exports.syslog.facility"},
        Bad{"BadRecords", "exports:\n  otlp:\n    records: [events, sessions]\n",
            "privwatch.yaml:3:23", "exports.otlp.records[1]: 'sessions' is neither"},
        Bad{"BadSeverity", "exports:\n  otlp:\n    min_severity: urgent\n", "privwatch.yaml:3:19",
            "exports.otlp.min_severity: 'urgent' is not one of info, low, medium, high, critical"},
        Bad{"EndpointNotUrl", "exports:\n  otlp:\n    endpoint: collector:4318\n",
            "privwatch.yaml:3:15", "is not an http:// or https:// URL"},
        Bad{"HeadersNotMap", "exports:\n  otlp:\n    headers: [a]\n", "privwatch.yaml:3:14",
            "exports.otlp.headers: expected a mapping"},
        Bad{"WebhookWithoutUrl", "exports:\n  webhooks:\n    - format: slack\n",
            "privwatch.yaml:3:7", "exports.webhooks[0]: 'url' is missing"},
        Bad{"WebhookBadFormat",
            "exports:\n  webhooks:\n    - url: http://x/\n      format: teams\n",
            "privwatch.yaml:4:15", "exports.webhooks[0].format: 'teams'"},
        Bad{"WebhookDuplicateName",
            "exports:\n  webhooks:\n    - {name: a, url: http://x/}\n    - {name: a, url: "
            "http://y/}\n",
            "privwatch.yaml:4:14", "'a' is used twice"},
        Bad{"QueueZero", "exports:\n  syslog:\n    queue_size: 0\n", "privwatch.yaml:3:17",
            "exports.syslog.queue_size: 0 is out of range"},
        Bad{"UnknownTlsKey", "exports:\n  syslog:\n    tls: {cafile: x}\n", "privwatch.yaml:3:11",
            "unknown key 'cafile' in 'exports.syslog.tls'"},
        Bad{"AppNameWithSpace", "exports:\n  syslog:\n    app_name: \"priv watch\"\n",
            "privwatch.yaml:3:15", "RFC 5424 APP-NAME"}));

}  // namespace
}  // namespace privwatch::config
