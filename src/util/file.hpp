// Small file helpers shared by the agent's state files.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace privwatch::util {

// Replaces `path` with `data` so that a reader (or a crash) sees the old content or the new one,
// never a mix: written to "<path>.tmp", synced, renamed over `path`, and the directory synced.
// The error names the file and the step that failed; `hint` is the Error's hint (what to check).
[[nodiscard]] Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode,
                                       std::string_view hint);

}  // namespace privwatch::util
