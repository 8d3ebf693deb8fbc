// Configuration of metrics and exports (`metrics:` and `exports:`; docs/configuration.md,
// docs/exports.md). Parsed by exports_config.cpp into these typed structs.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace YAML {
class Node;
}

namespace privwatch::config {

struct MetricsConfig {
  bool enabled = false;  // serve GET /metrics
  std::string listen = "127.0.0.1:9469";
  uint32_t file_created_max_series = 1000;  // cardinality guard of privwatch_file_created_total
  uint32_t max_series = 1000;               // guard of other labelled families
  uint32_t interval_ms = 1000;              // how often the pipeline publishes a snapshot
};

enum class MinSeverity : uint8_t { kInfo = 0, kLow, kMedium, kHigh, kCritical };

// What every export output shares: which records, the queue, retries.
struct SinkConfig {
  bool events = false;                           // send events
  bool alerts = true;                            // send alerts
  MinSeverity min_severity = MinSeverity::kLow;  // alerts below are not sent
  uint32_t queue_size = 10000;                   // records waiting at most; more are dropped
  uint32_t batch_size = 100;                     // records per request (OTLP) / send (syslog)
  uint32_t max_retries = 5;                      // per batch, then dropped (counted)
  uint32_t retry_initial_ms = 200;               // first backoff, doubled each retry
  uint32_t retry_max_ms = 10000;
  uint32_t timeout_ms = 5000;  // connect / request timeout
};

struct TlsConfig {
  std::string ca_file;      // "" = the system's trust store
  bool verify = true;       // verify the server certificate and its name
  std::string server_name;  // name to verify / SNI; "" = the host of the address
};

struct OtlpConfig {
  bool enabled = false;
  std::string endpoint = "http://127.0.0.1:4318";  // /v1/logs and /v1/metrics are appended
  std::vector<std::pair<std::string, std::string>> headers;
  uint32_t metrics_interval_s = 30;  // 0 = no metrics
  uint32_t linger_ms = 200;          // wait this long to fill a batch
  SinkConfig sink;
  TlsConfig tls;
};

enum class SyslogTransport : uint8_t { kUdp, kTcp, kTls };

struct SyslogConfig {
  bool enabled = false;
  SyslogTransport transport = SyslogTransport::kUdp;
  std::string address = "127.0.0.1:514";
  std::string facility = "authpriv";
  uint32_t facility_code = 10;
  std::string app_name = "privwatch";
  SinkConfig sink;
  TlsConfig tls;
};

enum class WebhookFormat : uint8_t { kJson, kSlack };

struct WebhookConfig {
  std::string name;  // metrics label; default webhook<N>
  std::string url;
  WebhookFormat format = WebhookFormat::kJson;
  std::vector<std::pair<std::string, std::string>> headers;
  SinkConfig sink;
  TlsConfig tls;
};

struct ExportsConfig {
  OtlpConfig otlp;
  SyslogConfig syslog;
  std::vector<WebhookConfig> webhooks;
};

// Parsers used by config.cpp (errors name origin:line:col, what is wrong, what to do).
[[nodiscard]] Status apply_metrics_section(const YAML::Node& section, const std::string& origin,
                                           MetricsConfig& out);
[[nodiscard]] Status apply_exports_section(const YAML::Node& section, const std::string& origin,
                                           ExportsConfig& out);

}  // namespace privwatch::config
