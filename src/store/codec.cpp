#include "store/codec.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#define ZDICT_STATIC_LINKING_ONLY  // ZDICT_optimizeTrainFromBuffer_fastCover (exported)
#include <zdict.h>
#include <zstd.h>

#include <chrono>
#include <cstring>

#include "store/record.hpp"
#include "store/sqlite.hpp"
#include "util/log.hpp"
#include "util/thread_priority.hpp"

namespace privwatch::store {

namespace {

constexpr int kLevel = 1;

Status ensure_table(sqlite3* db) {
  char* err = nullptr;
  const int rc = sqlite3_exec(
      db, "CREATE TABLE IF NOT EXISTS dicts(id INTEGER PRIMARY KEY, dict BLOB NOT NULL)", nullptr,
      nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return sqlite_error(db, rc, "create the dictionary table");
  return {};
}

}  // namespace

BodyDecoder::BodyDecoder(sqlite3* db) : db_(db), dctx_(ZSTD_createDCtx()) {}

BodyDecoder::~BodyDecoder() {
  for (auto& [id, d] : dicts_) ZSTD_freeDDict(d);
  ZSTD_freeDCtx(dctx_);
}

Status BodyDecoder::decode(std::string_view stored, std::string* out) {
  if (stored.size() < 4) {
    return Error{ErrorKind::kCorrupt, "a compressed body is shorter than its header", ""};
  }
  uint32_t id = 0;
  std::memcpy(&id, stored.data(), 4);
  auto it = dicts_.find(id);
  if (it == dicts_.end()) {
    auto q = Stmt::prepare(db_, "SELECT dict FROM dicts WHERE id = ?");
    if (!q) return q.error();
    q->bind(1, static_cast<int64_t>(id));
    if (q->step() != SQLITE_ROW) {
      return Error{ErrorKind::kCorrupt,
                   fmt::format("compression dictionary {} is missing from the store", id), ""};
    }
    const auto d = q->blob(0);
    ZSTD_DDict* dd = ZSTD_createDDict(d.data(), d.size());
    if (dd == nullptr) {
      return Error{ErrorKind::kCorrupt, fmt::format("compression dictionary {} is damaged", id),
                   ""};
    }
    it = dicts_.emplace(id, dd).first;
  }
  const char* src = stored.data() + 4;
  const size_t n = stored.size() - 4;
  const unsigned long long size = ZSTD_getFrameContentSize(src, n);
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (64u << 20)) {
    return Error{ErrorKind::kCorrupt, "a compressed body has no valid zstd frame", ""};
  }
  out->resize(size);
  const size_t got =
      ZSTD_decompress_usingDDict(dctx_, out->data(), out->size(), src, n, it->second);
  if (ZSTD_isError(got) || got != size) {
    return Error{ErrorKind::kCorrupt,
                 fmt::format("a compressed body cannot be decompressed: {}",
                             ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short"),
                 ""};
  }
  return {};
}

BodyEncoder::BodyEncoder(sqlite3* db) : db_(db), cctx_(ZSTD_createCCtx()) {}

BodyEncoder::~BodyEncoder() {
  ZSTD_freeCDict(cdict_);
  ZSTD_freeCCtx(cctx_);
}

Status BodyEncoder::load() {
  if (auto s = ensure_table(db_); !s) return s;
  auto q = Stmt::prepare(db_, "SELECT id, dict FROM dicts ORDER BY id DESC LIMIT 1");
  if (!q) return q.error();
  const int rc = q->step();
  if (rc == SQLITE_ROW) {
    dict_id_ = static_cast<uint32_t>(q->int64(0));
    const auto d = q->blob(1);
    cdict_ = ZSTD_createCDict(d.data(), d.size(), kLevel);
    if (cdict_ == nullptr) return Error{ErrorKind::kCorrupt, "compression dictionary damaged", ""};
    dict_hash_ = dict_digest(d);
  } else if (rc != SQLITE_DONE) {
    return sqlite_error(db_, rc, "read the compression dictionary");
  }
  return {};
}

namespace {

// What ZDICT_trainFromBuffer does (fastCover, d = 8, 4 steps over k) but with a 2^18-entry
// frequency table instead of 2^20: ~1.5 MB of working memory instead of ~11 MB, for the same
// compression of ECS JSON bodies (bench/RESULTS.md §4).
Result<std::string> train_dict(const std::string& samples, const std::vector<size_t>& sizes,
                               size_t dict_bytes, int level) {
  std::string dict(dict_bytes, '\0');
  ZDICT_fastCover_params_t params{};
  params.d = 8;
  params.steps = 4;
  params.f = 18;
  params.zParams.compressionLevel = level;
  const size_t n = ZDICT_optimizeTrainFromBuffer_fastCover(
      dict.data(), dict.size(), samples.data(), sizes.data(), static_cast<unsigned>(sizes.size()),
      &params);
  if (ZDICT_isError(n)) {
    return Error{
        ErrorKind::kInternal,
        fmt::format("training the compression dictionary failed: {}", ZDICT_getErrorName(n)), ""};
  }
  dict.resize(n);
  return dict;
}

}  // namespace

Status BodyEncoder::train() {
  auto dict = train_dict(samples_, sample_sizes_, kDictBytes, kLevel);
  std::string().swap(samples_);  // ~1 MB, needed once per store
  std::vector<size_t>().swap(sample_sizes_);
  if (!dict) return dict.error();
  return install(std::move(*dict));
}

// Detached: trained on a thread of its own (tens of ms of CPU: the encoder would stall that long
// and the sink's queue overflow at high rates); bodies are stored plain until it is ready.
void BodyEncoder::start_training() {
  training_ = std::async(std::launch::async, [samples = std::move(samples_),
                                              sizes = std::move(sample_sizes_)]() mutable {
    util::become_background_thread("pw-store-train");
    auto dict = train_dict(samples, sizes, kDictBytes, kLevel);
    std::string().swap(samples);
    return dict;
  });
  samples_.clear();
  sample_sizes_.clear();
}

Status BodyEncoder::install(std::string dict) {
  const uint32_t id = dict_id_ + 1;
  if (db_ != nullptr) {
    auto ins = Stmt::prepare(db_, "INSERT INTO dicts(id, dict) VALUES(?, ?)");
    if (!ins) return ins.error();
    ins->bind(1, static_cast<int64_t>(id));
    ins->bind_blob(2, dict.data(), dict.size());
    const int rc = ins->step();
    if (rc != SQLITE_DONE) return sqlite_error(db_, rc, "store the compression dictionary");
  }
  ZSTD_CDict* cd = ZSTD_createCDict(dict.data(), dict.size(), kLevel);
  if (cd == nullptr) return Error{ErrorKind::kInternal, "zstd cannot use the dictionary", ""};
  ZSTD_freeCDict(cdict_);
  cdict_ = cd;
  dict_id_ = id;
  dict_hash_ = dict_digest(dict);
  if (db_ != nullptr) {
    dict_committed_ = false;
  } else {
    new_dict_ = std::move(dict);
  }
  return {};
}

Status BodyEncoder::use_dict(uint32_t id, std::string_view dict) {
  if (id == 0) return {};
  ZSTD_CDict* cd = ZSTD_createCDict(dict.data(), dict.size(), kLevel);
  if (cd == nullptr) return Error{ErrorKind::kCorrupt, "compression dictionary damaged", ""};
  ZSTD_freeCDict(cdict_);
  cdict_ = cd;
  dict_id_ = id;
  dict_hash_ = dict_digest(dict);
  return {};
}

bool BodyEncoder::take_new_dict(uint32_t* id, std::string* dict) {
  if (new_dict_.empty()) return false;
  *id = dict_id_;
  *dict = std::move(new_dict_);
  new_dict_.clear();
  return true;
}

bool BodyEncoder::encode(std::string_view body, std::string* out) {
  if (cdict_ == nullptr) {
    if (training_failed_) return false;
    Status trained;
    if (training_.valid()) {  // detached: training on its own thread
      if (training_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
      auto dict = training_.get();
      trained = dict ? install(std::move(*dict)) : Status(dict.error());
    } else {
      if (samples_.empty()) samples_.reserve(kTrainBytes + 64 * 1024);
      samples_.append(body);
      sample_sizes_.push_back(body.size());
      if (sample_sizes_.size() < kTrainSamples && samples_.size() < kTrainBytes) return false;
      if (db_ == nullptr) {
        start_training();
        return false;
      }
      trained = train();
    }
    if (!trained) {
      log::warn("store: {}; event bodies are stored uncompressed", trained.error().to_string());
      training_failed_ = true;
      return false;
    }
  }
  // Into a scratch buffer of the worst-case size, then copied: the caller's string (one per
  // record in flight) keeps only the ~1/3 of that the frame takes.
  scratch_.resize(4 + ZSTD_compressBound(body.size()));
  std::memcpy(scratch_.data(), &dict_id_, 4);
  const size_t n = ZSTD_compress_usingCDict(cctx_, scratch_.data() + 4, scratch_.size() - 4,
                                            body.data(), body.size(), cdict_);
  if (ZSTD_isError(n)) return false;
  out->assign(scratch_.data(), 4 + n);
  return true;
}

void BodyEncoder::rollback() {
  // A dictionary inserted in a transaction that rolled back is gone from the table: drop it
  // here too (the next bodies are stored plain until a new one is trained).
  if (dict_committed_) return;
  ZSTD_freeCDict(cdict_);
  cdict_ = nullptr;
  dict_id_ = dict_id_ > 0 ? dict_id_ - 1 : 0;
  dict_committed_ = true;
  (void)load();
}

}  // namespace privwatch::store
