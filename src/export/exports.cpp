#include "export/exports.hpp"

#include "export/http_sinks.hpp"
#include "export/syslog_sink.hpp"

namespace privwatch::exporter {

Result<std::vector<std::unique_ptr<model::RecordSink>>> make_export_sinks(
    const config::ExportsConfig& cfg, const std::string& hostname,
    const MetricsRegistry* registry) {
  std::vector<std::unique_ptr<model::RecordSink>> sinks;
  if (cfg.otlp.enabled) {
    auto s = OtlpSink::create(cfg.otlp, hostname, registry);
    if (!s) return s.error();
    sinks.push_back(std::move(*s));
  }
  if (cfg.syslog.enabled) {
    auto s = SyslogSink::create(cfg.syslog, hostname);
    if (!s) return s.error();
    sinks.push_back(std::move(*s));
  }
  for (const auto& w : cfg.webhooks) {
    auto s = WebhookSink::create(w, hostname);
    if (!s) return s.error();
    sinks.push_back(std::move(*s));
  }
  return sinks;
}

}  // namespace privwatch::exporter
