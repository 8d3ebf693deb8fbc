// `privwatch doctor`: feature probing with precise findings and what to do about each.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace privwatch::capture {

struct Finding {
  enum class Level { kOk, kWarn, kFail };
  Level level = Level::kOk;
  std::string check;   // what was checked
  std::string detail;  // what was found
  std::string fix;     // what to do (for kWarn / kFail)
};

// Runs every check. `cfg` may be null when the configuration itself failed to load.
[[nodiscard]] std::vector<Finding> run_doctor(const config::Config* cfg);

}  // namespace privwatch::capture
