#include "cli/recording_source.hpp"

#include <sys/stat.h>

#include <cstdio>

#include "config/config.hpp"
#include "store/recordings.hpp"

namespace privwatch::cli {

void RecordingLocation::add_options(CLI::App* cmd) {
  cmd->add_option("-c,--config", config,
                  "configuration file (store.path, recording.dir; default: the embedded one)");
  cmd->add_option("--db", db, "store database (default: store.path of the configuration)");
  cmd->add_option("--dir", dir, "read recording files from this directory only (not the store)");
}

Result<RecordingSources> resolve_sources(const RecordingLocation& loc) {
  if (!loc.dir.empty()) return RecordingSources{"", loc.dir};
  auto cfg = loc.config.empty() ? config::load_default() : config::load_file(loc.config);
  if (!cfg) return cfg.error();
  RecordingSources s;
  s.dir = cfg->recording.dir;
  if (!loc.db.empty()) {
    s.db = loc.db;
  } else if (cfg->store.enabled) {
    s.db = cfg->store.path;
  }
  return s;
}

Result<std::unique_ptr<session::ChunkReader>> open_recording(const std::string& session,
                                                             const RecordingSources& src) {
  if (session.find('/') != std::string::npos) {
    auto r = session::FileChunkReader::open(session);
    if (!r) return r.error();
    return std::unique_ptr<session::ChunkReader>(std::move(*r));
  }
  std::optional<Error> store_error;
  struct stat st {};
  if (!src.db.empty() && ::stat(src.db.c_str(), &st) == 0) {
    auto r = store::StoreChunkReader::open(src.db, session);
    if (r) return std::unique_ptr<session::ChunkReader>(std::move(*r));
    if (r.error().kind != ErrorKind::kNotFound) return r.error();
    store_error = r.error();
  }
  if (src.dir.empty()) {
    if (store_error) return *store_error;
    return make_error(ErrorKind::kNotFound, "no store at {} and no recording directory", src.db);
  }
  // Recording files: the optional export, a store that is disabled, older recordings. A
  // recording the store's retention removed is not served from an export behind its back.
  const std::string path = session::recording_path(src.dir, session);
  if (store_error && store_error->message.find(store::kRemovedByRetention) != std::string::npos) {
    Error e = *store_error;
    if (::stat(path.c_str(), &st) == 0) {
      e.hint = fmt::format("the file export still holds it: privwatch replay {}", path);
    }
    return e;
  }
  auto r = session::FileChunkReader::open(path);
  if (r) return std::unique_ptr<session::ChunkReader>(std::move(*r));
  if (store_error && r.error().kind == ErrorKind::kNotFound) {
    Error e = *store_error;
    e.message += fmt::format(" (nor a recording file in {})", src.dir);
    return e;
  }
  return r.error();
}

Result<std::vector<session::Frame>> load_recording(const std::string& session,
                                                   const RecordingSources& src,
                                                   std::string* notice) {
  auto r = open_recording(session, src);
  if (!r) return r.error();
  auto frames = session::read_all_frames(**r);
  if (notice != nullptr) *notice = (*r)->notice();
  return frames;
}

int print_cmd_error(const Error& e) {
  std::fprintf(stderr, "privwatch: error: %s\n", e.to_string().c_str());
  return e.kind == ErrorKind::kInvalidArgument ? 2 : 1;
}

}  // namespace privwatch::cli
