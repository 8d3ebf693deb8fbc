// Session recordings: a terminal's output and input, resizes, gaps and the commands run, in
// order, cut into compressed chunks (docs/recording.md). Produced by the session stage
// (session/recording.hpp), persisted by sinks (RecordSink::on_recording_chunk). Depends on
// nothing.
#pragma once

#include <cstdint>
#include <string>

namespace privwatch::model {

// One chunk of a recording: a run of frames (session/recording_format.hpp), zstd-compressed.
// Chunks of one recording share `recording_id` and are numbered from 0 without holes; a
// store keeps them as rows with a blob column and chains them like every other record.
struct RecordingChunk {
  std::string recording_id;  // the session id of the terminal's session (file name)
  std::string session_id;    // same as recording_id today; kept apart for the store's index
  std::string host;
  std::string tty;                               // "pts3"
  uint64_t seq = 0;                              // 0, 1, 2 ... within the recording
  uint64_t first_wall_ns = 0, last_wall_ns = 0;  // times of the first and last frame
  uint32_t frames = 0;
  uint32_t raw_bytes = 0;  // size of the uncompressed frames
  bool final = false;      // the recording ended with this chunk (session end or eviction)
  std::string data;        // zstd frame holding the encoded frames (binary)
};

}  // namespace privwatch::model
