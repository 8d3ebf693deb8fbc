// `privwatch agent`: kernel source → enrich → outputs, until SIGTERM/SIGINT.
#pragma once

#include <string>

#include "config/config.hpp"

namespace privwatch::cli {

struct AgentOptions {
  std::string stats_file;  // JSON statistics written periodically and at exit ("" = none)
  int stats_interval_s = 10;
  int max_runtime_s = 0;  // stop after this long (0 = until signalled); for tests/benchmarks
};

[[nodiscard]] int run_agent(const config::Config& cfg, const AgentOptions& opts);

}  // namespace privwatch::cli
