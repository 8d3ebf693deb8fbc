// The embedded, tamper-evident store: one SQLite database (WAL) holding an append-only, hash
// chained sequence of records, signed checkpoints, a full-text index and retention with signed
// tombstones. One writer (the agent's StoreSink); any number of readers (search, report,
// verify). See docs/store.md.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/codec.hpp"
#include "store/keys.hpp"
#include "store/record.hpp"
#include "store/sqlite.hpp"
#include "util/fd.hpp"
#include "util/result.hpp"

namespace privwatch::store {

// 2: chain over per-record digests, field tags in the full-text index, fewer B-tree indexes,
// time blocks. Schema 1 stores can still be verified; the writer refuses them (docs/store.md).
inline constexpr int kSchemaVersion = 3;
// The oldest schema the writer still appends to (2 and 3 differ only in the record digest and
// in the session index, which schema 3 does not create: sessions are found by their tag).
inline constexpr int kOldestWritableSchema = 2;
// Records per `blocks` row (seq >> kBlockShift): the time range of each run of 4096 records.
inline constexpr int kBlockShift = 12;

struct StoreOptions {
  std::string path;      // database file
  std::string key_path;  // Ed25519 signing key (created 0600 when missing)
  std::string host;      // this host's name (checkpoint and notice records)
  // Damaged database at start: move it aside (<path>.corrupt-<UTC time>) and start a new chain
  // (true), or fail (false).
  bool move_aside_corrupt = true;
};

// What open_writer found.
struct OpenInfo {
  bool created = false;     // a new database (and chain) was started
  std::string moved_aside;  // a damaged database was moved here ("" when not)
  std::string damage;       // what was wrong with it
};

struct PruneResult {
  uint64_t removed = 0;
  uint64_t tombstone_seq = 0;  // 0 when nothing was removed
};

// The signed statements (also checked by verify).
[[nodiscard]] std::string checkpoint_message(std::string_view chain, uint64_t seq,
                                             std::string_view hash_hex, uint64_t wall_ns);
struct TombstoneRun {
  uint64_t first = 0, last = 0;
  Hash last_hash{};  // the chain hash of record `last` (the next kept record links to it)
};
[[nodiscard]] std::string tombstone_message(std::string_view chain, std::string_view kind,
                                            uint64_t before_ns, uint64_t count,
                                            const std::vector<TombstoneRun>& runs);

class Store {
 public:
  // Writer. Creates the directory (0700), the database and the key when missing. Returns a
  // kCorrupt error for a damaged database unless options.move_aside_corrupt.
  static Result<std::unique_ptr<Store>> open_writer(const StoreOptions& options);
  // Reader: read only; never creates, moves or writes anything.
  static Result<std::unique_ptr<Store>> open_reader(const std::string& path);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  [[nodiscard]] const OpenInfo& open_info() const { return open_info_; }
  [[nodiscard]] sqlite3* db() const { return db_.get(); }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] const std::string& chain_id() const { return chain_id_; }
  [[nodiscard]] int schema_version() const { return schema_version_; }
  // The writer: records arrive compressed (Record::packed) by the producer; the store never
  // compresses or trains a dictionary itself. Call before the first append.
  void set_external_compression(bool on) { external_compression_ = on; }
  // Another connection checkpoints the WAL (StoreSink's checkpointer): commits never do.
  Status disable_auto_checkpoint() const { return db_.exec("PRAGMA wal_autocheckpoint=0"); }
  // A dictionary the producer compresses with from now on: stored in the open transaction, or
  // by the next begin() (and again after every rolled-back transaction until one commits).
  Status keep_dict(uint32_t id, std::string dict);
  // The newest compression dictionary stored (id 0 and empty when none).
  Result<std::pair<uint32_t, std::string>> newest_dict() const;
  [[nodiscard]] uint64_t head_seq() const { return head_seq_; }
  [[nodiscard]] const Hash& head_hash() const { return head_hash_; }
  [[nodiscard]] const PublicKey& public_key() const { return key_.pub; }
  // Records appended since the last checkpoint record (committed or not).
  [[nodiscard]] uint64_t since_checkpoint() const { return head_seq_ - checkpoint_seq_; }

  // Writes happen inside begin() .. commit(). A failed commit (disk full) rolls back: the
  // chain head returns to the last committed record.
  Status begin();
  Status commit();
  void rollback();

  // Appends `r` (assigning r.seq and r.hash). Only inside a transaction.
  Status append(Record& r);
  // Appends a signed checkpoint over the current head. *offhost gets the JSON object to send
  // off the host.
  Status checkpoint(uint64_t wall_ns, std::string* offhost);
  // Removes up to max_rows records of `kind` older than before_ns and appends one signed
  // tombstone naming them. Its own transaction (do not call inside begin/commit).
  Result<PruneResult> prune(RecordKind kind, uint64_t before_ns, size_t max_rows, uint64_t now_ns);

 private:
  Store() = default;
  Status open_db(const std::string& path, bool writer);
  Status init_schema();
  Status load_head();
  Status prepare_writer_statements();
  void release_statements();

  Status write_blocks();
  Status store_dict(uint32_t id, std::string_view dict);

  Fd lock_{-1};  // writer: flock on <path>.lock, one writer per store
  Db db_;
  std::string path_;
  std::string host_;
  std::string chain_id_;
  SigningKey key_;
  OpenInfo open_info_;
  uint64_t head_seq_ = 0, committed_seq_ = 0;
  Hash head_hash_{}, committed_hash_{};
  uint64_t checkpoint_seq_ = 0, committed_checkpoint_seq_ = 0;
  bool in_txn_ = false;
  int schema_version_ = kSchemaVersion;
  bool external_compression_ = false;
  Stmt insert_, insert_fts_, upsert_block_, insert_dict_, insert_host_;
  std::set<std::string> hosts_;         // every host name stored (table `hosts`)
  std::vector<std::string> new_hosts_;  // added by the open transaction
  struct Block {
    int64_t id, min_ts, max_ts;
  };
  std::vector<Block> blocks_;  // touched by the open transaction
  // Dictionaries appended since the last commit (re-stored after a rollback: later records
  // of the producer use them).
  std::vector<std::pair<uint32_t, std::string>> uncommitted_dicts_;
  std::string roles_, tags_;
  std::unique_ptr<BodyEncoder> encoder_;  // writer only
  std::string canon_, packed_;            // reused buffers
};

// "2026-11-22T04:05:06Z" style suffix used when moving a damaged store aside.
[[nodiscard]] std::string utc_stamp(uint64_t wall_ns);
[[nodiscard]] uint64_t wall_now_ns();

}  // namespace privwatch::store
