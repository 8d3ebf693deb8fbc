// Event bodies are stored compressed with a zstd dictionary trained on this host's first
// events (ECS JSON compresses ~10x with it: the keys and structure repeat). The dictionaries
// live in the `dicts` table. The hash chain covers the compressed body together with the hash
// of its dictionary (schema 3; schema 2 hashed the uncompressed body), so a damaged or replaced
// dictionary shows up in verify as edited records. Stored as a BLOB:
//   u32 dictionary id (little endian) | zstd frame.  Plain JSON bodies are stored as TEXT.
#pragma once

#include <array>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

struct sqlite3;
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
struct ZSTD_CDict_s;
struct ZSTD_DDict_s;

namespace privwatch::store {

// Reads compressed bodies (readers: verify, search, report).
class BodyDecoder {
 public:
  explicit BodyDecoder(sqlite3* db);
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;
  // `stored` is the BLOB; the JSON text goes to *out.
  [[nodiscard]] Status decode(std::string_view stored, std::string* out);

 private:
  sqlite3* db_;
  ZSTD_DCtx_s* dctx_;
  std::map<uint32_t, ZSTD_DDict_s*> dicts_;
};

// Compresses bodies on the writer side; trains the dictionary after kTrainSamples bodies or
// kTrainBytes of them, whichever comes first (~32 times the dictionary: zstd's advice is ~100,
// but 1 MiB of ECS JSON compresses as well as 2 or 4 (bench/RESULTS.md §4) and bounds the
// memory training takes).
class BodyEncoder {
 public:
  static constexpr size_t kTrainSamples = 4096;
  static constexpr size_t kTrainBytes = 1u << 20;
  static constexpr size_t kDictBytes = 32 * 1024;
  // db == nullptr: detached (another thread than the writer's): a trained dictionary is not
  // stored but handed out by take_new_dict(), to travel with the record that uses it first.
  explicit BodyEncoder(sqlite3* db);
  ~BodyEncoder();
  BodyEncoder(const BodyEncoder&) = delete;
  BodyEncoder& operator=(const BodyEncoder&) = delete;
  // Loads the newest dictionary of the database (if any).
  Status load();
  // Detached: starts from this dictionary (id 0: none yet).
  Status use_dict(uint32_t id, std::string_view dict);
  // Detached: the dictionary trained by the last encode() (true once per dictionary).
  bool take_new_dict(uint32_t* id, std::string* dict);
  // True and *out = the BLOB when the body was compressed; false: store it as plain text.
  // May train and insert a dictionary (inside the caller's transaction).
  bool encode(std::string_view body, std::string* out);
  // BLAKE2b-256 of the dictionary the last encode() used (record_digest_v3).
  [[nodiscard]] const std::array<uint8_t, 32>& dict_hash() const { return dict_hash_; }
  // The transaction that inserted a new dictionary committed / rolled back (forget it).
  void committed() { dict_committed_ = true; }
  void rollback();

 private:
  Status train();
  void start_training();
  Status install(std::string dict);  // a trained dictionary becomes the current one
  sqlite3* db_;
  ZSTD_CCtx_s* cctx_;
  ZSTD_CDict_s* cdict_ = nullptr;
  uint32_t dict_id_ = 0;
  std::array<uint8_t, 32> dict_hash_{};
  bool dict_committed_ = true;
  std::string samples_;  // the training samples, back to back
  std::vector<size_t> sample_sizes_;
  std::string scratch_;                        // compression output before it is copied out
  std::future<Result<std::string>> training_;  // detached mode
  bool training_failed_ = false;
  std::string new_dict_;
};

}  // namespace privwatch::store
