// Where replay and watch find recordings: recording.dir from the configuration (or --dir), or
// a path to a .pwrec file. The store will serve the same chunks through its own ChunkReader.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "session/recording_format.hpp"
#include "util/result.hpp"

namespace privwatch::cli {

// --dir if given, else recording.dir of the configuration file (or the embedded default).
[[nodiscard]] Result<std::string> recording_dir(const std::string& dir_flag,
                                                const std::string& config_path);
// SESSION may be an id (file in dir) or a path (contains '/').
[[nodiscard]] Result<std::unique_ptr<session::ChunkReader>> open_recording(
    const std::string& session, const std::string& dir);
[[nodiscard]] Result<std::vector<session::Frame>> load_recording(const std::string& session,
                                                                 const std::string& dir);
int print_cmd_error(const Error& e);

}  // namespace privwatch::cli
