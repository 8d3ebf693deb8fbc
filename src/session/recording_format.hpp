// The bytes of a recording: frames inside a chunk, chunks inside a recording file, and the
// reader interface replay and watch use (docs/recording.md). The store serves the same chunks
// through its own ChunkReader (store/recordings.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/recording.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace privwatch::session {

enum class FrameType : uint8_t {
  kMeta = 1,        // JSON: recording/session ids, host, tty, user, human, rows, cols
  kOutput = 2,      // raw bytes written to the terminal
  kInput = 3,       // raw bytes read from the terminal
  kResize = 4,      // 4 bytes: rows, cols (u16 little endian)
  kGap = 5,         // JSON: {"reason": "echo_off"|"truncated"|"session_limit"|"read_fail",
                    //        "bytes": N} — something happened that is not in the recording
  kCommand = 6,     // JSON: a command started (exec): pid, start, exe, args, cwd, user
  kCommandEnd = 7,  // JSON: it ended: pid, start, exit_code, signal
  kEnd = 8,         // JSON: {"reason": "session_end"|"evicted"|"agent_stop"}
};
[[nodiscard]] std::string_view to_string(FrameType t);

struct Frame {
  FrameType type = FrameType::kOutput;
  uint64_t wall_ns = 0;  // realtime ns since the epoch
  std::string data;
};

// Frame encoding: u8 type, u64 wall_ns, u32 length, bytes (little endian).
inline constexpr size_t kFrameHeaderBytes = 13;
void append_frame(std::string& out, FrameType type, uint64_t wall_ns, std::string_view data);
[[nodiscard]] Result<std::vector<Frame>> decode_frames(std::string_view raw);

// zstd. decompress() refuses chunks claiming more than kMaxChunkRawBytes.
inline constexpr uint32_t kMaxChunkRawBytes = 64u << 20;
[[nodiscard]] Result<std::string> compress(std::string_view raw, int level = 3);
[[nodiscard]] Result<std::string> decompress(const model::RecordingChunk& chunk);

// Chunk ↔ bytes (the record inside a recording file, after its u32 length).
[[nodiscard]] std::string encode_chunk(const model::RecordingChunk& c);
[[nodiscard]] Result<model::RecordingChunk> decode_chunk(std::string_view bytes);

// A recording file: kFileMagic, then [u32 length][encoded chunk] repeated.
inline constexpr std::string_view kFileMagic{"PWREC01\n", 8};
inline constexpr uint32_t kMaxChunkRecordBytes = 80u << 20;

// File name of a recording in `dir` (ids are sanitised to [A-Za-z0-9._-]).
[[nodiscard]] std::string recording_path(const std::string& dir, std::string_view recording_id);

// Where replay and watch get chunks from.
class ChunkReader {
 public:
  virtual ~ChunkReader() = default;
  // The next chunk, or nullopt when none is available (yet: a live recording may grow).
  [[nodiscard]] virtual Result<std::optional<model::RecordingChunk>> next() = 0;
  // Chunks removed on purpose from the start of the recording (store retention): the first
  // chunk next() returns carries this number instead of 0. Known after the first next().
  [[nodiscard]] virtual uint64_t removed_head() const { return 0; }
  // What the user should be told before the recording (what retention removed); "" if nothing.
  [[nodiscard]] virtual std::string notice() const { return {}; }
};

// Reads a recording file; a chunk still being written (short at the end) is retried on the
// next call, so watch can follow a live file.
class FileChunkReader : public ChunkReader {
 public:
  [[nodiscard]] static Result<std::unique_ptr<FileChunkReader>> open(const std::string& path);
  [[nodiscard]] Result<std::optional<model::RecordingChunk>> next() override;

 private:
  FileChunkReader(std::string path, Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  Fd fd_;
  uint64_t offset_ = 0;  // start of the next chunk record
};

// Every frame of every chunk available now, in order. Chunks out of sequence are an error
// (except the head the reader says retention removed).
[[nodiscard]] Result<std::vector<Frame>> read_all_frames(ChunkReader& reader);

}  // namespace privwatch::session
