#include "cli/recording_source.hpp"

#include <cstdio>

#include "config/config.hpp"

namespace privwatch::cli {

Result<std::string> recording_dir(const std::string& dir_flag, const std::string& config_path) {
  if (!dir_flag.empty()) return dir_flag;
  auto cfg = config_path.empty() ? config::load_default() : config::load_file(config_path);
  if (!cfg) return cfg.error();
  return cfg->recording.dir;
}

Result<std::unique_ptr<session::ChunkReader>> open_recording(const std::string& session,
                                                             const std::string& dir) {
  const std::string path =
      session.find('/') != std::string::npos ? session : session::recording_path(dir, session);
  auto r = session::FileChunkReader::open(path);
  if (!r) return r.error();
  return std::unique_ptr<session::ChunkReader>(std::move(*r));
}

Result<std::vector<session::Frame>> load_recording(const std::string& session,
                                                   const std::string& dir) {
  auto r = open_recording(session, dir);
  if (!r) return r.error();
  return session::read_all_frames(**r);
}

int print_cmd_error(const Error& e) {
  std::fprintf(stderr, "privwatch: error: %s\n", e.to_string().c_str());
  return e.kind == ErrorKind::kInvalidArgument ? 2 : 1;
}

}  // namespace privwatch::cli
