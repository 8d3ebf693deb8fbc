// libbpf's diagnostics: routed to the debug log and kept (last lines) for error messages.
#pragma once

#include <string>

namespace privwatch::capture {

void install_libbpf_log();
void clear_libbpf_log();
[[nodiscard]] std::string libbpf_log_tail(size_t max_lines);

}  // namespace privwatch::capture
