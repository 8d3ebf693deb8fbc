// Session recordings in the store (docs/recording.md, docs/store.md): every chunk is one
// record of kind `recording` — ref = recording id, session = session id, data = the zstd
// compressed frames as the recorder produced them, text = the screen text (after terminal
// escape processing) that the chunk wrote, indexed for full-text search, body = the chunk
// header as JSON plus the offset of every text line. Records are hash chained, checkpointed
// and pruned like every other record.
//
// Writing: RecordingIndexer turns chunks into records (it keeps one screen model per open
// recording). Reading: StoreChunkReader serves a recording's chunks to replay and watch (a
// live recording grows while it is read); list_recordings() and screen_hits() serve
// `privwatch replay --list` and `privwatch search`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/recording.hpp"
#include "session/recording_format.hpp"
#include "session/vt.hpp"
#include "store/query.hpp"
#include "store/record.hpp"
#include "store/store.hpp"
#include "util/result.hpp"

namespace privwatch::store {

struct RecordingIndexerStats {
  uint64_t chunks = 0;
  uint64_t text_lines = 0;
  uint64_t undecodable = 0;  // chunks stored without text (did not decompress or decode)
  uint64_t evicted = 0;      // screen models dropped (max_open): later text may be off
};

// Chunk → record. Not thread-safe: one caller (the store sink).
class RecordingIndexer {
 public:
  explicit RecordingIndexer(size_t max_open = 4096) : max_open_(max_open == 0 ? 1 : max_open) {}
  // `r` is overwritten. Never fails: a chunk that cannot be decoded is stored without text
  // (its bytes are kept as they are; counted in stats().undecodable).
  void encode(const model::RecordingChunk& chunk, std::string_view hostname, Record& r);
  [[nodiscard]] const RecordingIndexerStats& stats() const { return stats_; }
  [[nodiscard]] size_t open_recordings() const { return open_.size(); }

 private:
  struct Open {
    std::unique_ptr<session::TerminalText> vt;
    uint64_t start_wall_ns = 0;
    std::string user, human, session_type;
    uint64_t last_use = 0;
  };
  Open& state(const model::RecordingChunk& c);

  size_t max_open_;
  uint64_t clock_ = 0;
  std::unordered_map<std::string, Open> open_;
  RecordingIndexerStats stats_;
};

// The chunk a record holds (kind recording), from its body and data columns.
[[nodiscard]] Result<model::RecordingChunk> chunk_from_record(std::string_view body,
                                                              std::string_view data);

// In the message of StoreChunkReader::open when retention certainly removed the recording
// (the store still holds the session's other, newer records).
inline constexpr std::string_view kRemovedByRetention = "was removed by retention";

// A recording's chunks from the store, in the order they were stored. next() returns nullopt
// when no further chunk is stored yet (a live recording goes on growing).
class StoreChunkReader : public session::ChunkReader {
 public:
  // kNotFound when the store holds no chunk of the recording; the message then says whether
  // retention removed it (signed tombstones of recordings) and from when.
  [[nodiscard]] static Result<std::unique_ptr<StoreChunkReader>> open(const std::string& db_path,
                                                                      std::string recording_id);
  [[nodiscard]] Result<std::optional<model::RecordingChunk>> next() override;
  [[nodiscard]] uint64_t removed_head() const override { return removed_head_; }
  [[nodiscard]] std::string notice() const override { return notice_; }

 private:
  StoreChunkReader(std::unique_ptr<Store> st, std::string id, Stmt next)
      : store_(std::move(st)), id_(std::move(id)), next_(std::move(next)) {}
  std::unique_ptr<Store> store_;
  std::string id_;
  Stmt next_;
  uint64_t after_seq_ = 0;  // store seq of the last chunk returned
  uint64_t removed_head_ = 0;
  std::string notice_;
};

// Why a recording is not (or not wholly) in the store: the newest tombstone of recordings.
struct RecordingRetention {
  uint64_t tombstone_seq = 0;  // 0: retention never removed recordings from this store
  uint64_t before_ns = 0;      // it removed recordings older than this
};
[[nodiscard]] Result<RecordingRetention> recording_retention(const Store& st);

struct RecordingSummary {
  std::string recording_id, session_id, user, tty, end_reason;
  uint64_t start_wall_ns = 0, end_wall_ns = 0;
  uint64_t chunks = 0, commands = 0;
  uint64_t first_chunk = 0;  // > 0: the beginning was removed by retention
  bool ended = false;
};
// Every recording in the store, oldest first.
[[nodiscard]] Result<std::vector<RecordingSummary>> list_recordings(const Store& st);

// Lines of a recording record's screen text that match a search (the words of `query`, case
// insensitive; all words when a line holds them all, else any), with their offsets in the
// recording. Empty query: every line.
struct ScreenHit {
  double offset_s = 0;
  std::string line;
};
[[nodiscard]] std::vector<ScreenHit> screen_hits(const Row& row, std::string_view query);

}  // namespace privwatch::store
