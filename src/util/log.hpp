// The one logging facade. Never log per event: count, and export the counters.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace privwatch::log {

// Logs go to stderr so that stdout can carry event JSON lines.
void init(std::string_view level);

template <typename... Args>
void info(spdlog::format_string_t<Args...> f, Args&&... args) {
  spdlog::info(f, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> f, Args&&... args) {
  spdlog::warn(f, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> f, Args&&... args) {
  spdlog::error(f, std::forward<Args>(args)...);
}
template <typename... Args>
void debug(spdlog::format_string_t<Args...> f, Args&&... args) {
  spdlog::debug(f, std::forward<Args>(args)...);
}

}  // namespace privwatch::log
