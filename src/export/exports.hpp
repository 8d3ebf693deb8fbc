// Builds the export outputs configured under `exports:` (docs/exports.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/exports_config.hpp"
#include "export/metrics.hpp"
#include "model/record_sink.hpp"
#include "util/result.hpp"

namespace privwatch::exporter {

// One sink per enabled output (otlp, syslog, each webhook), started and ready. `registry`
// feeds OTLP metrics (may be null: no metrics). Fails on the first invalid output.
[[nodiscard]] Result<std::vector<std::unique_ptr<model::RecordSink>>> make_export_sinks(
    const config::ExportsConfig& cfg, const std::string& hostname, const MetricsRegistry* registry);

}  // namespace privwatch::exporter
