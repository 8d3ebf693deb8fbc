#include "store/sink.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "export/ecs_json.hpp"
#include "store/encode.hpp"
#include "util/log.hpp"
#include "util/thread_priority.hpp"
#include "util/time.hpp"

namespace privwatch::store {

namespace {

constexpr size_t kWakeBatch = 8192;  // wake the encoder early at this queue depth
// The writer commits once its transaction holds this many records (or commit_interval_ms
// passed, or the encoder has nothing more): each commit flushes a full-text segment that later
// merges cost again, so small commits cost more per record.
constexpr size_t kCommitRecords = 8192;
constexpr size_t kChunk = 256;    // records per encoder → writer hand-over
constexpr size_t kMaxChunks = 4;  // encoded chunks waiting for the writer
// Encoded chunks kept for reuse. Each holds kChunk records whose strings keep their capacity
// (~1.1 KiB per record with the Record itself): what is kept is resident memory even when the
// agent is idle. Between the spare, the chunks waiting and the ones in hand, at most ~10 chunks
// (~3 MiB) exist; fewer (2 waiting) cost the store ~5 % of its insert rate.
constexpr size_t kSpareChunks = 1;
// The background checkpointer copies the WAL into the database once it holds this much.
constexpr int64_t kCheckpointWalBytes = 16 << 20;
constexpr auto kCheckpointPoll = std::chrono::milliseconds(250);
constexpr size_t kPruneChunk = 20000;                // rows per retention transaction
constexpr uint64_t kErrorLogNs = 10'000'000'000ull;  // one error line per 10 s at most

struct KindRetention {
  RecordKind kind;
  uint64_t config::StoreRetention::*field;
};
constexpr KindRetention kRetention[] = {
    {RecordKind::kEvent, &config::StoreRetention::event_s},
    {RecordKind::kSession, &config::StoreRetention::session_s},
    {RecordKind::kAlert, &config::StoreRetention::alert_s},
    {RecordKind::kEscalation, &config::StoreRetention::escalation_s},
    {RecordKind::kRecording, &config::StoreRetention::recording_s},
    {RecordKind::kResponse, &config::StoreRetention::response_s},
};

}  // namespace

Result<std::unique_ptr<StoreSink>> StoreSink::open(const config::StoreConfig& cfg,
                                                   std::string hostname) {
  StoreOptions o;
  o.path = cfg.path;
  o.key_path = cfg.key_path;
  o.host = hostname;
  auto st = Store::open_writer(o);
  if (!st) return st.error();
  (*st)->set_external_compression(true);
  return std::unique_ptr<StoreSink>(new StoreSink(cfg, std::move(hostname), std::move(*st)));
}

StoreSink::StoreSink(const config::StoreConfig& cfg, std::string hostname,
                     std::unique_ptr<Store> store)
    : cfg_(cfg),
      host_(std::move(hostname)),
      store_(std::move(store)),
      open_info_(store_->open_info()),
      schema_(store_->schema_version()),
      shipper_(ShipperOptions{cfg.checkpoint_file, cfg.checkpoint_syslog, cfg.checkpoint_url}) {
  head_seq_ = store_->head_seq();
  max_pending_bytes_ = size_t{cfg_.queue_max_mb} << 20;
  pending_.reserve(1024);
  const uint64_t now = wall_now_ns();
  next_checkpoint_ns_ = now + uint64_t{cfg_.checkpoint_interval_s} * 1'000'000'000ull;
  next_prune_ns_ = now;  // apply retention right after start
  if (auto d = store_->newest_dict(); !d) {
    log::warn("store: {}; event bodies are compressed with a new dictionary",
              d.error().to_string());
  } else if (auto u = body_encoder_.use_dict(d->first, d->second); !u) {
    log::warn("store: {}; event bodies are compressed with a new dictionary",
              u.error().to_string());
  }
  // Its own connection for the checkpointer; without one, the writer checkpoints as before.
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(cfg_.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  ckpt_db_ = Db(raw);
  if (rc == SQLITE_OK) {
    wal_path_ = cfg_.path + "-wal";
    (void)ckpt_db_.exec("PRAGMA cache_size=-256");
    if (auto s = store_->disable_auto_checkpoint(); !s) {
      log::warn("store: {}; the writer checkpoints the WAL itself", s.error().to_string());
      ckpt_db_.close();
    }
  } else {
    log::warn(
        "store {}: a second connection for WAL checkpoints failed ({}); the writer "
        "checkpoints the WAL itself",
        cfg_.path, sqlite3_errstr(rc));
    ckpt_db_.close();
  }
  encoder_ = std::thread([this] { run_encoder(); });
  writer_ = std::thread([this] { run_writer(); });
  if (ckpt_db_.get() != nullptr) checkpointer_ = std::thread([this] { run_checkpointer(); });
}

void StoreSink::run_checkpointer() {
  util::become_background_thread("pw-store-ckpt");
  uint64_t last_error_ns = 0;
  std::unique_lock<std::mutex> lock(ckpt_mu_);
  while (!ckpt_stop_) {
    ckpt_cv_.wait_for(lock, kCheckpointPoll, [this] { return ckpt_stop_; });
    if (ckpt_stop_) break;
    lock.unlock();
    struct stat st {};
    if (::stat(wal_path_.c_str(), &st) == 0 && st.st_size >= kCheckpointWalBytes) {
      const int rc = sqlite3_wal_checkpoint_v2(ckpt_db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                               nullptr, nullptr);
      if (rc == SQLITE_OK) {
        ++wal_checkpoints_;
      } else if (rc != SQLITE_BUSY && wall_now_ns() - last_error_ns >= kErrorLogNs) {
        // The records are safe in the WAL; the file only grows until a checkpoint works.
        log::warn("store {}: WAL checkpoint failed: {}; retrying", cfg_.path,
                  sqlite3_errmsg(ckpt_db_.get()));
        last_error_ns = wall_now_ns();
      }
    }
    lock.lock();
  }
}

StoreSink::~StoreSink() { close(); }

bool StoreSink::wake_encoder() const {
  return pending_.size() >= kWakeBatch || queued_bytes_ >= max_pending_bytes_ / 4;
}

void StoreSink::enqueue(Item item, size_t bytes) {
  bool wake = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto full = [&] {
      return pending_.size() >= cfg_.queue_size ||
             (pending_bytes_ + bytes > max_pending_bytes_ && pending_bytes_ != 0);
    };
    while (wait_when_full_ && !stop_ && full()) {
      cv_.notify_one();
      space_cv_.wait(lock);
    }
    if (stop_ || full()) {
      ++dropped_queue_;
      full_hint_.store(true, std::memory_order_relaxed);
      return;
    }
    const bool was_awake = wake_encoder();
    pending_bytes_ += bytes;
    pending_bytes_peak_ = std::max(pending_bytes_peak_, pending_bytes_);
    queued_bytes_ += bytes;
    pending_.push_back({std::move(item), bytes});
    wake = !was_awake && wake_encoder();
  }
  ++queued_;
  if (wake) cv_.notify_one();
}

void StoreSink::enqueue_event(const model::Event& ev, std::string_view rendered) {
  if (!wait_when_full_ && full_hint_.load(std::memory_order_relaxed)) {
    ++dropped_queue_;
    return;
  }
  PackedEvent p;
  pack_event(ev, host_, rendered, p);
  const size_t bytes = sizeof(Item) + p.buf.capacity();
  enqueue(std::move(p), bytes);
}

void StoreSink::on_event(const model::Event& ev) { enqueue_event(ev, {}); }
void StoreSink::on_rendered_event(const model::Event& ev, std::string_view ecs_json) {
  enqueue_event(ev, ecs_json);
}
// Alerts, sessions and escalations: ~1 KiB of strings each, roughly.
void StoreSink::on_alert(const model::Alert& alert) {
  enqueue(std::make_unique<model::Alert>(alert), sizeof(Item) + sizeof(model::Alert) + 1024);
}
void StoreSink::on_session(const model::Session& session) {
  enqueue(std::make_unique<model::Session>(session), sizeof(Item) + sizeof(model::Session) + 1024);
}
void StoreSink::on_escalation(const model::Escalation& e) {
  enqueue(std::make_unique<model::Escalation>(e), sizeof(Item) + sizeof(model::Escalation) + 1024);
}
void StoreSink::append(Record record) {
  const size_t bytes =
      sizeof(Item) + sizeof(Record) + record.body.size() + record.text.size() + record.data.size();
  enqueue(std::make_unique<Record>(std::move(record)), bytes);
}
void StoreSink::on_action(const model::ResponseAction& action) {
  Record r;
  encode_action(action, host_, r);
  append(std::move(r));
}

void StoreSink::on_recording_chunk(const model::RecordingChunk& chunk) {
  enqueue(std::make_unique<model::RecordingChunk>(chunk),
          sizeof(Item) + sizeof(model::RecordingChunk) + chunk.data.size());
}

void StoreSink::flush() {
  // Non-blocking: the writer commits at least every commit_interval_ms anyway.
}

void StoreSink::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !writer_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_one();
  space_cv_.notify_all();
  if (encoder_.joinable()) encoder_.join();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> lock(ckpt_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
  ckpt_db_.close();  // before the writer's: the last connection to close checkpoints the WAL
  shipper_.close();
  store_.reset();
}

void StoreSink::encode(const Item& item, Record& r) {
  const auto* pe = std::get_if<PackedEvent>(&item);
  std::string_view body;
  if (pe != nullptr) {
    unpack_event_fields(*pe, r);
    body = pe->part(PackedEvent::kBody);  // compressed from the queue item, not copied
  } else {
    if (const auto* a = std::get_if<std::unique_ptr<model::Alert>>(&item)) {
      encode_alert(**a, host_, r);
    } else if (const auto* e = std::get_if<std::unique_ptr<model::Escalation>>(&item)) {
      encode_escalation(**e, host_, r);
    } else if (const auto* s = std::get_if<std::unique_ptr<model::Session>>(&item)) {
      encode_session(**s, host_, wall_now_ns(), r);
    } else if (const auto* c = std::get_if<std::unique_ptr<model::RecordingChunk>>(&item)) {
      recordings_.encode(**c, host_, r);
    } else {
      r = *std::get<std::unique_ptr<Record>>(item);
      if (r.host.empty()) r.host = host_;
      if (r.wall_ns == 0) r.wall_ns = wall_now_ns();
    }
    body = r.body;
  }
  // The costly, order-free part of storing: compression and the record's own digest.
  r.packed.clear();
  r.new_dict.clear();
  r.new_dict_id = 0;
  const bool compressed = r.kind == RecordKind::kEvent && body_encoder_.encode(body, &r.packed);
  if (compressed) {
    body_encoder_.take_new_dict(&r.new_dict_id, &r.new_dict);
  } else {
    r.packed.clear();
  }
  if (pe != nullptr) {
    // The plain body only where the store needs it: stored uncompressed (before the
    // dictionary is trained), or hashed by schema 2's digest.
    if (!compressed || schema_ < 3) {
      r.body.assign(body);
    } else if (r.body.capacity() > 0) {
      std::string().swap(r.body);  // a spare record keeps no body memory
    }
  }
  roles_buf_.clear();
  append_roles(roles_buf_, r.roles);
  r.digest = schema_ >= 3 ? record_digest_v3(r, roles_buf_, r.packed, body_encoder_.dict_hash())
                          : record_digest(r, roles_buf_);
  r.has_digest = true;
  // The full-text tags too: the writer only inserts them.
  r.tags.clear();
  append_tags(r.tags, r.kind, r.name, r.user, r.human, r.session, roles_buf_, r.cluster, schema_);
}

void StoreSink::after_failure(const Error& e, uint64_t lost) {
  ++write_errors_;
  dropped_write_ += lost;
  offhost_pending_.clear();
  const bool full = e.message.find("full") != std::string::npos;
  const uint64_t now = wall_now_ns();
  if (full) {
    if (!disk_full_.exchange(true)) {
      full_since_ns_ = now;
      full_lost_ = 0;
      log::error(
          "store {}: the disk is full: records are dropped and counted (capture goes on); "
          "an alert is stored once space is back. Free space on that file system or "
          "shorten store.retention",
          cfg_.path);
      last_error_log_ns_ = now;
    }
    full_lost_ += lost;
  }
  if (now - last_error_log_ns_ >= kErrorLogNs) {
    log::error("store: {} records lost so far ({} in failed transactions): {}",
               dropped_write_.load() + dropped_queue_.load(), dropped_write_.load(), e.to_string());
    last_error_log_ns_ = now;
  }
}

// The alert a disk-full episode leaves in the chain once writing works again.
bool StoreSink::write_disk_full_notice() {
  const uint64_t now = wall_now_ns();
  Record r;
  r.kind = RecordKind::kAlert;
  r.wall_ns = now;
  r.name = "store.disk_full";
  r.host = host_;
  r.ref = fmt::format("store-disk-full-{}", full_since_ns_);
  r.severity = static_cast<int32_t>(model::Severity::kHigh);
  std::string since, until;
  util::append_rfc3339_ns(since, full_since_ns_);
  util::append_rfc3339_ns(until, now);
  const std::string title = fmt::format("store: disk full from {} to {}: {} records were dropped",
                                        since, until, full_lost_);
  r.text = title;
  nlohmann::json j;
  j["@timestamp"] = until;
  j["event"]["kind"] = "alert";
  j["event"]["id"] = r.ref;
  j["privwatch"]["severity"] = "high";
  j["privwatch"]["source"] = "store";
  j["rule"]["name"] = r.name;
  j["message"] = title;
  j["privwatch"]["details"] = {{"dropped", full_lost_}, {"since", since}, {"until", until}};
  j["host"]["name"] = host_;
  r.body = j.dump();
  if (auto s = store_->append(r); !s) return false;
  return true;
}

void StoreSink::append_chunks(std::vector<Chunk>& chunks) {
  size_t count = 0;
  for (const auto& c : chunks) count += c.n;
  for (auto& c : chunks) {
    // A new dictionary must reach the database even when its record is lost (disk full):
    // every later record is compressed with it. Kept by the store until a commit holds it.
    for (size_t i = 0; i < c.n; ++i) {
      Record& r = c.records[i];
      if (r.new_dict.empty()) continue;
      Status s = store_->keep_dict(r.new_dict_id, std::move(r.new_dict));
      r.new_dict.clear();
      if (!s && txn_open_) {
        store_->rollback();
        txn_open_ = false;
        after_failure(s.error(), txn_records_ + count);
        return;
      }
    }
  }
  if (!txn_open_) {
    if (auto s = store_->begin(); !s) {
      after_failure(s.error(), count);
      return;
    }
    txn_open_ = true;
    txn_records_ = 0;
    txn_written_ = 0;
    txn_notice_ = disk_full_.load();
    if (txn_notice_) {
      if (!write_disk_full_notice()) {
        store_->rollback();
        txn_open_ = false;
        after_failure(Error{ErrorKind::kIo, "store: disk full", ""}, count);
        return;
      }
      txn_written_ = 1;
    }
  }
  size_t done = 0;
  for (auto& c : chunks) {
    for (size_t i = 0; i < c.n; ++i) {
      if (auto s = store_->append(c.records[i]); !s) {
        store_->rollback();
        txn_open_ = false;
        after_failure(s.error(), txn_records_ + (count - done));
        return;
      }
      ++done;
      ++txn_records_;
      ++txn_written_;
      if (store_->since_checkpoint() >= cfg_.checkpoint_every) {
        std::string line;
        if (auto ck = store_->checkpoint(wall_now_ns(), &line); !ck) {
          store_->rollback();
          txn_open_ = false;
          after_failure(ck.error(), txn_records_ + (count - done));
          return;
        }
        offhost_pending_.push_back(std::move(line));
        ++txn_written_;
      }
    }
  }
}

void StoreSink::commit_txn() {
  if (!txn_open_) return;
  txn_open_ = false;
  if (auto s = store_->commit(); !s) {
    after_failure(s.error(), txn_records_);
    return;
  }
  if (txn_notice_) {
    log::warn("store: writing again after the disk was full; {} records were dropped", full_lost_);
    disk_full_ = false;
  }
  committed_ += txn_written_;
  ++commits_;
  head_seq_ = store_->head_seq();
  for (auto& line : offhost_pending_) {
    ++checkpoints_;
    shipper_.send(std::move(line));
  }
  offhost_pending_.clear();
}

void StoreSink::maybe_checkpoint(bool force) {
  const uint64_t now = wall_now_ns();
  if (!force && now < next_checkpoint_ns_) return;
  next_checkpoint_ns_ = now + uint64_t{cfg_.checkpoint_interval_s} * 1'000'000'000ull;
  if (store_->since_checkpoint() == 0 && !force) return;
  if (store_->since_checkpoint() == 0 && store_->head_seq() != 0) return;
  std::string line;
  Status s = store_->begin();
  if (s) s = store_->checkpoint(now, &line);
  if (s) s = store_->commit();
  if (!s) {
    store_->rollback();
    after_failure(s.error(), 0);
    return;
  }
  ++committed_;
  ++checkpoints_;
  head_seq_ = store_->head_seq();
  shipper_.send(std::move(line));
}

void StoreSink::maybe_prune() {
  const uint64_t now = wall_now_ns();
  if (!pruning_) {
    if (now < next_prune_ns_) return;
    pruning_ = true;
    prune_kind_ = 0;
  }
  // One chunk per call: retention never holds the writer for long.
  while (prune_kind_ < std::size(kRetention)) {
    const auto& k = kRetention[prune_kind_];
    const uint64_t keep_s = cfg_.retention.*(k.field);
    if (keep_s == 0 || now / 1'000'000'000ull < keep_s) {
      ++prune_kind_;
      continue;
    }
    auto res = store_->prune(k.kind, now - keep_s * 1'000'000'000ull, kPruneChunk, now);
    if (!res) {
      after_failure(res.error(), 0);
      break;
    }
    pruned_ += res->removed;
    if (res->removed != 0) {
      ++committed_;  // the tombstone
      head_seq_ = store_->head_seq();
    }
    if (res->removed < kPruneChunk) ++prune_kind_;
    return;
  }
  pruning_ = false;
  next_prune_ns_ = now + uint64_t{cfg_.prune_interval_s} * 1'000'000'000ull;
}

void StoreSink::run_encoder() {
  util::become_background_thread("pw-store-enc");
  std::vector<Queued> batch;
  batch.reserve(1024);
  const auto interval = std::chrono::milliseconds(cfg_.commit_interval_ms);
  while (true) {
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, interval, [this] { return stop_ || wake_encoder(); });
      batch.swap(pending_);
      queued_bytes_ = 0;
      full_hint_.store(false, std::memory_order_relaxed);
      stopping = stop_;
    }
    for (size_t i = 0; i < batch.size();) {
      std::vector<Record> recs;
      {
        std::lock_guard<std::mutex> lock(wmu_);
        if (!free_.empty()) {
          recs = std::move(free_.back());
          free_.pop_back();
        }
      }
      const size_t n = std::min(kChunk, batch.size() - i);
      if (recs.size() < n) recs.resize(n);
      size_t done_bytes = 0;
      for (size_t k = 0; k < n; ++k) {
        Queued& q = batch[i + k];
        encode(q.item, recs[k]);
        done_bytes += q.bytes;
        // Its memory goes now, not after the whole batch (another alternative destroys the
        // event; assigning an empty PackedEvent would keep its buffer).
        q.item = std::unique_ptr<Record>{};
      }
      bool drained = false;  // the last chunk of the batch, and nothing queued behind it
      {
        // The queue's memory bound covers the batch in hand, so it holds: queued plus in
        // encoding never exceed store.queue_max_mb.
        std::lock_guard<std::mutex> lock(mu_);
        pending_bytes_ -= done_bytes;
        full_hint_.store(false, std::memory_order_relaxed);  // room again
        drained = i + n == batch.size() && pending_.empty();
      }
      space_cv_.notify_all();  // the queue has room again (import waits for it)
      i += n;
      std::unique_lock<std::mutex> lock(wmu_);
      wspace_.wait(lock, [this] { return encoded_.size() < kMaxChunks; });
      encoded_.push_back({std::move(recs), n});
      if (drained) ++batch_ends_;  // nothing more to come for now: the writer may commit
      lock.unlock();
      wcv_.notify_one();
    }
    batch.clear();
    if (batch.capacity() > 4 * kWakeBatch) batch.shrink_to_fit();
    if (stopping) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pending_.empty()) continue;
      break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(wmu_);
    encoder_done_ = true;
  }
  wcv_.notify_one();
}

void StoreSink::run_writer() {
  util::become_background_thread("pw-store-write");
  std::vector<Chunk> chunks;
  const auto interval = std::chrono::milliseconds(cfg_.commit_interval_ms);
  auto txn_deadline = std::chrono::steady_clock::time_point::max();
  while (true) {
    bool done = false;
    bool batch_end = false;
    {
      std::unique_lock<std::mutex> lock(wmu_);
      // Chunks are appended as they come, into one transaction; the commit waits for
      // kCommitRecords records, the encoder's "nothing more queued", or commit_interval_ms.
      wcv_.wait_for(lock, interval, [this] { return encoder_done_ || !encoded_.empty(); });
      batch_end = batch_ends_ > 0;
      batch_ends_ = 0;
      chunks.swap(encoded_);
      done = encoder_done_ && chunks.empty();
    }
    wspace_.notify_one();
    if (!chunks.empty() || (disk_full_.load() && !txn_open_)) {
      if (!txn_open_) txn_deadline = std::chrono::steady_clock::now() + interval;
      append_chunks(chunks);
    }
    {
      std::lock_guard<std::mutex> lock(wmu_);
      for (auto& c : chunks) {
        if (free_.size() < kSpareChunks) free_.push_back(std::move(c.records));
      }
    }
    const bool idle = chunks.empty();
    chunks.clear();
    // Commit when the transaction is big enough, when the encoder has nothing more queued,
    // when nothing more came, at stop, or when the transaction has been open for
    // commit_interval_ms (a record never waits longer than that twice).
    if (txn_open_ && (txn_records_ >= kCommitRecords || batch_end || idle || done ||
                      std::chrono::steady_clock::now() >= txn_deadline)) {
      commit_txn();
    }
    if (done) break;
    if (!txn_open_) {
      maybe_checkpoint(false);
      maybe_prune();
    }
  }
  commit_txn();
  maybe_checkpoint(true);  // a signed head at shutdown: everything written is covered
}

StoreSinkStats StoreSink::store_stats() const {
  StoreSinkStats s;
  s.queued = queued_;
  s.committed = committed_;
  s.dropped_queue = dropped_queue_;
  s.dropped_write = dropped_write_;
  s.write_errors = write_errors_;
  s.commits = commits_;
  s.checkpoints = checkpoints_;
  s.pruned = pruned_;
  s.offhost_sent = shipper_.sent();
  s.offhost_failed = shipper_.failed();
  s.offhost_dropped = shipper_.dropped();
  s.head_seq = head_seq_;
  s.disk_full = disk_full_;
  s.wal_checkpoints = wal_checkpoints_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.queue_bytes_peak = pending_bytes_peak_;
  }
  return s;
}

model::SinkStats StoreSink::stats() const {
  const StoreSinkStats s = store_stats();
  model::SinkStats m;
  m.queue_capacity = cfg_.queue_size;
  m.accepted = s.queued;
  m.delivered = s.committed;
  m.dropped_queue_full = s.dropped_queue;
  m.dropped_failed = s.dropped_write;
  // Committed counts checkpoints and tombstones too: an estimate, never negative.
  const uint64_t done = s.committed + s.dropped_write;
  m.queue_depth = s.queued > done ? s.queued - done : 0;
  return m;
}

std::string StoreSink::stats_json() const {
  const auto s = store_stats();
  return fmt::format(
      "{{\"queued\":{},\"committed\":{},\"dropped_queue\":{},\"dropped_write\":{},"
      "\"write_errors\":{},\"commits\":{},\"checkpoints\":{},\"pruned\":{},\"offhost_sent\":{},"
      "\"offhost_failed\":{},\"offhost_dropped\":{},\"head_seq\":{},\"queue_bytes_peak\":{},"
      "\"wal_checkpoints\":{},\"disk_full\":{}}}",
      s.queued, s.committed, s.dropped_queue, s.dropped_write, s.write_errors, s.commits,
      s.checkpoints, s.pruned, s.offhost_sent, s.offhost_failed, s.offhost_dropped, s.head_seq,
      s.queue_bytes_peak, s.wal_checkpoints, s.disk_full ? "true" : "false");
}

}  // namespace privwatch::store
