// HTTP outputs: webhooks (generic JSON or Slack-compatible) and OpenTelemetry OTLP/HTTP with
// JSON encoding (logs for events and alerts, metrics from the MetricsRegistry).
#pragma once

#include <memory>
#include <string>

#include "config/exports_config.hpp"
#include "export/metrics.hpp"
#include "export/queued_sink.hpp"
#include "util/result.hpp"

namespace httplib {
class Client;
}

namespace privwatch::exporter {

struct Url {
  std::string scheme_host_port;  // "https://hooks.example.com:8443"
  std::string path;              // "/services/x" ("/" when empty)
};
// http(s)://host[:port][/path]; errors say what is wrong with `url`.
[[nodiscard]] Result<Url> parse_url(const std::string& url);

// A webhook: one POST per record. Generic JSON: {"type":"alert","host":...,"alert":{...}} or
// {"type":"event","host":...,"event":{...ECS...}}. Slack: {"text":"..."}.
class WebhookSink : public QueuedSink {
 public:
  [[nodiscard]] static Result<std::unique_ptr<WebhookSink>> create(const config::WebhookConfig& cfg,
                                                                   std::string hostname);
  ~WebhookSink() override;

 protected:
  bool format_event(const model::Event& ev, Record& rec) override;
  bool format_alert(const model::Alert& a, Record& rec) override;
  Delivery deliver(const std::vector<Record>& batch, size_t& done) override;

 private:
  WebhookSink(const config::WebhookConfig& cfg, std::string hostname, Url url);
  config::WebhookConfig cfg_;
  Url url_;
  std::unique_ptr<httplib::Client> client_;
  bool failing_ = false;
};

// The one-line text of a Slack message for an alert / an event.
[[nodiscard]] std::string slack_text(const model::Alert& a);
[[nodiscard]] std::string slack_text(const model::Event& ev, std::string_view hostname);

// OTLP/HTTP JSON. Logs: batches of batch_size records to <endpoint>/v1/logs. Metrics: the
// registry's current snapshot to <endpoint>/v1/metrics every metrics_interval_s (cumulative
// sums and histograms; a failed push is not retried: the next one carries the totals).
class OtlpSink : public QueuedSink {
 public:
  [[nodiscard]] static Result<std::unique_ptr<OtlpSink>> create(const config::OtlpConfig& cfg,
                                                                std::string hostname,
                                                                const MetricsRegistry* registry);
  ~OtlpSink() override;
  [[nodiscard]] uint64_t metric_exports() const { return metric_exports_.load(); }
  [[nodiscard]] uint64_t metric_export_failures() const { return metric_export_failures_.load(); }

 protected:
  bool format_event(const model::Event& ev, Record& rec) override;
  Delivery deliver(const std::vector<Record>& batch, size_t& done) override;
  void tick() override;

 private:
  OtlpSink(const config::OtlpConfig& cfg, std::string hostname, Url url,
           const MetricsRegistry* registry);
  Delivery post(const std::string& path, const std::string& body, std::string* why);
  config::OtlpConfig cfg_;
  Url url_;
  const MetricsRegistry* registry_;
  std::unique_ptr<httplib::Client> client_;
  std::string resource_json_;
  std::chrono::steady_clock::time_point next_metrics_;
  bool failing_ = false;
  std::atomic<uint64_t> metric_exports_{0}, metric_export_failures_{0};
};

// OTLP JSON documents, exposed for tests.
[[nodiscard]] std::string otlp_logs_json(const std::vector<Record>& batch, size_t from,
                                         const std::string& resource_json);
[[nodiscard]] std::string otlp_metrics_json(const MetricsSnapshot& s,
                                            const std::string& resource_json);
[[nodiscard]] std::string otlp_resource_json(std::string_view hostname);

}  // namespace privwatch::exporter
