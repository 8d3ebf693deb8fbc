#include "util/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace privwatch::log {

void init(std::string_view level) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_color_mt("privwatch");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    spdlog::set_default_logger(logger);
    done = true;
  }
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace privwatch::log
