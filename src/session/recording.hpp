// Recording assembly: turns terminal events (kind tty), and the exec/exit events of processes
// on a recorded terminal, into per-session recordings cut into compressed chunks
// (docs/recording.md). Runs on the pipeline thread after the session tracker; no I/O — chunks
// go to a callback (the pipeline hands them to every RecordSink::on_recording_chunk).
//
// A recording belongs to a terminal while the session that first wrote to it lives: output of
// nested sessions on the same terminal (sudo -i, su -) goes into the same recording; the
// recording ends with that session (or when evicted: max_open).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <unordered_map>

#include "enrich/process_table.hpp"
#include "model/event.hpp"
#include "model/identity.hpp"
#include "model/recording.hpp"

namespace privwatch::session {

struct RecorderOptions {
  std::string host;
  uint32_t chunk_bytes = 65536;  // raw frame bytes per chunk
  uint32_t flush_ms = 1000;      // a partial chunk goes out after this
  uint32_t max_open = 1024;      // recordings open at once (least recently written closed)
  int zstd_level = 3;
};

struct RecorderStats {
  uint64_t recordings_started = 0;
  uint64_t recordings_open = 0;
  uint64_t chunks = 0;
  uint64_t raw_bytes = 0;         // frame bytes before compression
  uint64_t compressed_bytes = 0;  // chunk data after compression
  uint64_t output_bytes = 0, input_bytes = 0;
  uint64_t gaps_echo_off = 0;    // password-style reads not recorded
  uint64_t truncated_bytes = 0;  // bytes cut at the per-event bound
  uint64_t session_limits = 0;   // recordings whose per-session budget was spent
  uint64_t commands = 0;
  uint64_t evictions = 0;
  uint64_t compress_errors = 0;
};

class Recorder {
 public:
  using ChunkFn = std::function<void(const model::RecordingChunk&)>;
  using ClockFn = std::function<uint64_t()>;  // monotonic ns (tests pass a fake)

  Recorder(RecorderOptions opts, ChunkFn emit, ClockFn clock = {});

  // Every event, after the session tracker attributed it.
  void process(const model::Event& ev);
  // Session changes from the tracker: an ended session closes its recordings.
  void session_changed(const model::Session& s);
  // Emit partial chunks older than flush_ms (call at least every flush_ms).
  void tick();
  // Close every recording (agent stop).
  void close_all();

  [[nodiscard]] const RecorderStats& stats() const { return stats_; }
  [[nodiscard]] size_t open_recordings() const { return recs_.size(); }

 private:
  struct Rec {
    std::string id;
    std::string session_id;
    std::string tty;
    uint32_t dev = 0;
    uint16_t rows = 0, cols = 0;
    uint64_t seq = 0;
    std::string buf;  // encoded frames not yet emitted
    uint32_t frames = 0;
    uint64_t first_wall = 0, last_wall = 0;
    uint64_t buf_since_mono = 0;  // when buf got its first frame
    bool limit_reached = false;
    // The last frame in buf is an echo-off gap starting here (hidden input read a byte at a
    // time is merged into one gap); npos otherwise.
    size_t hidden_off = std::string::npos;
    int64_t hidden_bytes = 0;
    uint64_t hidden_wall = 0;
    std::list<uint32_t>::iterator lru;
  };

  Rec* find(uint32_t dev);
  Rec& open(const model::Event& ev, const model::TtyData& t);
  void append(Rec& r, uint8_t type, uint64_t wall, std::string_view data);
  void emit(Rec& r, bool final);
  void end(uint32_t dev, std::string_view reason, uint64_t wall);
  void touch(Rec& r);
  void on_tty(const model::Event& ev, const model::TtyData& t);
  void on_exec(const model::Event& ev, const model::ExecData& x);
  void on_exit(const model::Event& ev, const model::ExitData& x);
  [[nodiscard]] uint64_t now() const;

  RecorderOptions opts_;
  ChunkFn emit_;
  ClockFn clock_;
  std::unordered_map<uint32_t, Rec> recs_;  // by terminal device
  std::list<uint32_t> lru_;                 // devices, most recently written first
  // Last known window size per terminal (a resize may come before the first output).
  std::unordered_map<uint32_t, std::pair<uint16_t, uint16_t>> sizes_;
  // Commands running on a recorded terminal: process → terminal device.
  std::unordered_map<model::ProcessKey, uint32_t, enrich::ProcessKeyHash> commands_;
  std::string onlcr_;  // scratch for "\n" → "\r\n"
  RecorderStats stats_;
};

}  // namespace privwatch::session
