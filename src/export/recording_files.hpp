// Session recordings as files: one file per recording in recording.dir, chunks appended as
// they come (docs/recording.md). The interim home of recordings until the store keeps them;
// `privwatch replay` and `watch` read these files through session::FileChunkReader.
//
// A RecordSink: the pipeline thread only queues chunks (bounded, drops counted); a writer
// thread does the file I/O.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "model/record_sink.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace privwatch::exporter {

struct RecordingFilesStats {
  uint64_t chunks_written = 0;
  uint64_t bytes_written = 0;
  uint64_t write_errors = 0;  // chunks that could not be written (disk full, permissions)
  uint64_t dropped = 0;       // chunks dropped because the queue was full
};

class RecordingFiles : public model::RecordSink {
 public:
  // Creates `dir` (mode 0700) when missing.
  [[nodiscard]] static Result<std::unique_ptr<RecordingFiles>> open(const std::string& dir,
                                                                    size_t max_queue = 256);
  ~RecordingFiles() override;

  [[nodiscard]] std::string_view name() const override { return "recording-files"; }
  void on_event(const model::Event& /*ev*/) override {}
  void on_recording_chunk(const model::RecordingChunk& chunk) override;
  void flush() override;
  void close() override;

  [[nodiscard]] RecordingFilesStats file_stats() const;
  [[nodiscard]] model::SinkStats stats() const override {
    const auto f = file_stats();
    model::SinkStats m;
    m.delivered = f.chunks_written;
    m.dropped_queue_full = f.dropped;
    m.dropped_failed = f.write_errors;
    m.accepted = f.chunks_written + f.dropped + f.write_errors;
    return m;
  }

 private:
  RecordingFiles(std::string dir, size_t max_queue);
  void run();
  void write_chunk(const model::RecordingChunk& c);

  std::string dir_;
  size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<model::RecordingChunk> queue_;
  bool busy_ = false;
  bool stop_ = false;
  RecordingFilesStats stats_;
  uint64_t reported_errors_ = 0, reported_drops_ = 0;
  std::unordered_map<std::string, Fd> files_;  // writer thread only
  std::thread writer_;
};

}  // namespace privwatch::exporter
