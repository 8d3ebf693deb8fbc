// StoreSink: the pipeline's end that persists everything into the store. The pipeline thread
// only copies into a bounded queue (full queue: the record is dropped and counted); an encoder
// thread turns items into records (ECS JSON, full text, zstd, the record digest of the hash
// chain); a writer thread only appends them to SQLite and commits in batches, writes signed
// checkpoints, sends them off the host and applies retention. Disk full: the batch is dropped and
// counted, capture goes on, and an alert record is written once space returns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "config/config.hpp"
#include "model/record_sink.hpp"
#include "store/codec.hpp"
#include "store/encode.hpp"
#include "store/record.hpp"
#include "store/recordings.hpp"
#include "store/shipper.hpp"
#include "store/sqlite.hpp"
#include "store/store.hpp"
#include "util/result.hpp"

namespace privwatch::store {

struct StoreSinkStats {
  uint64_t queued = 0;         // accepted into the queue
  uint64_t committed = 0;      // records durably committed (checkpoints and tombstones too)
  uint64_t dropped_queue = 0;  // queue full: never reached the writer
  uint64_t dropped_write = 0;  // a failed transaction (disk full, I/O error) lost them
  uint64_t write_errors = 0;   // failed transactions
  uint64_t commits = 0;
  uint64_t checkpoints = 0;
  uint64_t pruned = 0;
  uint64_t offhost_sent = 0, offhost_failed = 0, offhost_dropped = 0;
  uint64_t head_seq = 0;
  uint64_t wal_checkpoints = 0;   // checkpoints run by the background checkpointer
  uint64_t queue_bytes_peak = 0;  // most memory queued + being encoded at once (store.queue_max_mb)
  bool disk_full = false;         // the last transaction failed for lack of space
};

class StoreSink : public model::RecordSink {
 public:
  // Opens (or creates) the store and starts the writer thread.
  static Result<std::unique_ptr<StoreSink>> open(const config::StoreConfig& cfg,
                                                 std::string hostname);
  ~StoreSink() override;

  [[nodiscard]] std::string_view name() const override { return "store"; }
  void on_event(const model::Event& ev) override;
  void on_rendered_event(const model::Event& ev, std::string_view ecs_json) override;
  void on_alert(const model::Alert& alert) override;
  void on_session(const model::Session& session) override;
  void on_escalation(const model::Escalation& escalation) override;
  void on_action(const model::ResponseAction& action) override;  // encoded here (rare)
  // One record of kind recording per chunk, with its screen text (store/recordings.hpp); the
  // screen model runs on the writer thread (~50 ns per output byte: too much for the pipeline).
  void on_recording_chunk(const model::RecordingChunk& chunk) override;
  void flush() override;
  void close() override;

  // Back-pressure instead of drops: a full queue makes the caller wait for the writer
  // (privwatch import, where the source can wait; never the agent, whose kernel cannot).
  void set_wait_when_full(bool wait) { wait_when_full_ = wait; }

  // The generic entry for other producers (recordings, response actions, escalations).
  void append(Record record);

  [[nodiscard]] StoreSinkStats store_stats() const;
  [[nodiscard]] model::SinkStats stats() const override;  // the common view (metrics)
  [[nodiscard]] std::string stats_json() const;
  [[nodiscard]] const OpenInfo& open_info() const { return open_info_; }

 private:
  // Queued items are small (~100 bytes besides what they own): events packed (encode.hpp
  // PackedEvent), everything else behind a pointer.
  using Item = std::variant<PackedEvent, std::unique_ptr<model::Alert>,
                            std::unique_ptr<model::Session>, std::unique_ptr<model::Escalation>,
                            std::unique_ptr<Record>, std::unique_ptr<model::RecordingChunk>>;
  struct Queued {
    Item item;
    size_t bytes = 0;  // counted in pending_bytes_ until the encoder is done with it
  };
  StoreSink(const config::StoreConfig& cfg, std::string hostname, std::unique_ptr<Store> store);
  // `bytes`: what the item holds in memory, roughly (store.queue_max_mb counts them).
  void enqueue(Item item, size_t bytes);
  void enqueue_event(const model::Event& ev, std::string_view rendered);
  void run_encoder();
  void run_writer();
  void run_checkpointer();
  void after_failure(const Error& e, uint64_t lost);
  void maybe_checkpoint(bool force);
  void maybe_prune();
  void encode(const Item& item, Record& r);
  bool write_disk_full_notice();

  config::StoreConfig cfg_;
  bool wait_when_full_ = false;
  std::condition_variable space_cv_;  // the writer took a batch (wait_when_full_)
  std::string host_;
  std::unique_ptr<Store> store_;
  OpenInfo open_info_;
  int schema_;  // the store's schema version: which record digest the encoder computes
  CheckpointShipper shipper_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Queued> pending_;
  size_t pending_bytes_ = 0;       // bytes of pending_ and of the batch being encoded (mu_)
  size_t queued_bytes_ = 0;        // bytes of pending_ (mu_)
  size_t pending_bytes_peak_ = 0;  // (mu_)
  // The encoder starts on the queue before commit_interval_ms when it holds kWakeBatch items
  // or a quarter of its memory bound (mu_ held).
  [[nodiscard]] bool wake_encoder() const;
  size_t max_pending_bytes_ = 0;  // store.queue_max_mb
  // Set when an item was refused for lack of room, cleared whenever the encoder makes room:
  // while set, events are counted as dropped without being packed first (an overloaded
  // pipeline should not spend time on copies it throws away).
  std::atomic<bool> full_hint_{false};
  bool stop_ = false;
  bool flush_requested_ = false;
  std::thread encoder_, writer_;

  // Encoder → writer: chunks of encoded records (bounded: the encoder waits when the writer is
  // kMaxChunks behind, and the pipeline's queue above fills and counts drops).
  struct Chunk {
    std::vector<Record> records;
    size_t n = 0;
  };
  // One transaction for all the records of these chunks, in order (no gathering copy).
  // The writer streams encoded chunks into one open transaction (so that it works while the
  // encoder is still on the rest of the batch) and commits at the end of each encoder batch.
  void append_chunks(std::vector<Chunk>& chunks);
  void commit_txn();
  bool txn_open_ = false;
  bool txn_notice_ = false;   // the transaction carries the disk-full notice
  uint64_t txn_records_ = 0;  // records of the open transaction (lost if it fails)
  uint64_t txn_written_ = 0;  // ... plus the notice and checkpoints (committed_ on success)
  std::mutex wmu_;
  std::condition_variable wcv_, wspace_;
  std::vector<Chunk> encoded_;
  size_t batch_ends_ = 0;  // the encoder found its queue empty after a chunk in encoded_ (wmu_)
  std::vector<std::vector<Record>> free_;  // record vectors to reuse (their strings keep capacity)
  bool encoder_done_ = false;
  BodyEncoder body_encoder_{nullptr};  // encoder thread
  std::string roles_buf_;              // encoder thread

  std::atomic<uint64_t> queued_{0}, committed_{0}, dropped_queue_{0}, dropped_write_{0},
      write_errors_{0}, commits_{0}, checkpoints_{0}, pruned_{0}, head_seq_{0};
  std::atomic<bool> disk_full_{false};

  // Writer-thread state.
  uint64_t next_checkpoint_ns_ = 0;
  uint64_t next_prune_ns_ = 0;
  size_t prune_kind_ = 0;  // index into the retention list while a retention run is going
  bool pruning_ = false;
  uint64_t full_since_ns_ = 0, full_lost_ = 0;  // the current disk-full episode
  uint64_t last_error_log_ns_ = 0;
  std::vector<std::string> offhost_pending_;

  // The WAL is checkpointed by a thread of its own, on its own connection (PASSIVE: never
  // waits for the writer), instead of by the writer's commit that crosses SQLite's threshold:
  // copying ~64 MiB of WAL into the database stalled the writer for longer than the queue
  // holds, and records were dropped at 50,000 events/s on an idle machine (bench/RESULTS.md §1).
  Db ckpt_db_;
  std::string wal_path_;
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ = false;
  std::atomic<uint64_t> wal_checkpoints_{0};

  // Writer-thread state (encode): the screen model of every open recording.
  mutable RecordingIndexer recordings_;
};

}  // namespace privwatch::store
