// Where replay and watch find recordings: the store (store.path of the configuration, or
// --db) first, then recording files (recording.dir, or --dir alone, or a path to a .pwrec
// file): files remain for stores that are disabled, for the optional file export and for
// recordings made before the store kept them (docs/recording.md).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "session/recording_format.hpp"
#include "util/result.hpp"

namespace privwatch::cli {

// The command-line options shared by replay and watch.
struct RecordingLocation {
  std::string dir;     // --dir: read recording files from here only
  std::string db;      // --db: this store
  std::string config;  // -c/--config: store.path, store.enabled, recording.dir
  void add_options(CLI::App* cmd);
};

// Resolved: the store to read ("" when not used) and the file directory ("" when not used).
struct RecordingSources {
  std::string db;
  std::string dir;
};
[[nodiscard]] Result<RecordingSources> resolve_sources(const RecordingLocation& loc);

// SESSION is a recording id (privwatch replay --list) or a path to a .pwrec file (contains
// '/'). The store is asked first; a recording it does not hold is looked for in the files.
[[nodiscard]] Result<std::unique_ptr<session::ChunkReader>> open_recording(
    const std::string& session, const RecordingSources& src);
// Every frame of it; *notice gets what the reader says (what retention removed).
[[nodiscard]] Result<std::vector<session::Frame>> load_recording(const std::string& session,
                                                                 const RecordingSources& src,
                                                                 std::string* notice = nullptr);
int print_cmd_error(const Error& e);

}  // namespace privwatch::cli
