#include "store/store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "export/ecs_json.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace privwatch::store {

namespace {

// Schema 3. Secondary B-tree indexes cost most of an insert, so events carry only the primary
// key and the full-text index; the text index also holds each record's indexed fields as tags
// (record.hpp append_tags), which is how field filters (user, human, session, role, cluster,
// kind, event kind) are searched and intersected with words — and how a session's records are
// found (schema 2 also kept a B-tree index on session: 7,600 instructions per event). `blocks` maps
// 4096-record ranges of seq to their time range (bounded scans for --since/--until). Kinds other
// than events are few and keep their kind / ref indexes (partial: events skip them).
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(
  seq INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  name TEXT, host TEXT, user TEXT, human TEXT, session TEXT, roles TEXT, cluster TEXT, ref TEXT,
  severity INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  text TEXT,
  body TEXT,
  data BLOB,
  hash BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS records_kind ON records(kind, ts) WHERE kind <> 1;
CREATE INDEX IF NOT EXISTS records_kind_name ON records(kind, name) WHERE kind <> 1;
CREATE INDEX IF NOT EXISTS records_ref ON records(ref) WHERE ref IS NOT NULL;
CREATE TABLE IF NOT EXISTS blocks(id INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL,
                                  max_ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dicts(id INTEGER PRIMARY KEY, dict BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS hosts(name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS records_fts USING fts5(text, tags, content='', columnsize=0);
)sql";

// Full-text merge policy of new stores (kept in records_fts_config). Each commit flushes a
// new segment; FTS5 merges `automerge` segments of one level into one of the next, so every
// indexed token is rewritten about log_automerge(records / records per commit) times. With the
// default (4) merging was the largest part of a commit and grew with the store (≈ 14,000
// instructions per event at 200k events); 16 rewrites each token about half as often, and
// searches over 10 M events cost the same CPU (bench/RESULTS.md §4).
constexpr const char* kFtsConfig =
    "INSERT INTO records_fts(records_fts, rank) VALUES('automerge', 16);"
    "INSERT INTO records_fts(records_fts, rank) VALUES('crisismerge', 64);";

constexpr const char* kInsert =
    "INSERT INTO records(seq,ts,kind,name,host,user,human,session,roles,cluster,ref,severity,"
    "flags,text,body,data,hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

Status make_dirs(const std::string& file) {
  for (size_t i = 1; i < file.size(); ++i) {
    if (file[i] != '/') continue;
    const std::string dir = file.substr(0, i);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error{
          ErrorKind::kIo,
          fmt::format("store {}: cannot create directory {}: {}", file, dir, std::strerror(errno)),
          "create it (mode 0700) or set store.path to a writable location"};
    }
  }
  return {};
}

std::string random_chain_id() {
  uint8_t b[16];
  randombytes_buf(b, sizeof b);
  return to_hex(b, sizeof b);
}

Status step_done(Stmt& st, sqlite3* db, std::string_view what) {
  const int rc = st.step();
  st.reset();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sqlite_error(db, rc, what);
  return {};
}

}  // namespace

uint64_t wall_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string utc_stamp(uint64_t wall_ns) {
  const time_t t = static_cast<time_t>(wall_ns / 1'000'000'000ull);
  tm tmv{};
  gmtime_r(&t, &tmv);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tmv);
  return buf;
}

std::string checkpoint_message(std::string_view chain, uint64_t seq, std::string_view hash_hex,
                               uint64_t wall_ns) {
  return fmt::format("privwatch-checkpoint-v1\n{}\n{}\n{}\n{}\n", chain, seq, hash_hex, wall_ns);
}

std::string tombstone_message(std::string_view chain, std::string_view kind, uint64_t before_ns,
                              uint64_t count, const std::vector<TombstoneRun>& runs) {
  std::string m =
      fmt::format("privwatch-tombstone-v1\n{}\n{}\n{}\n{}\n", chain, kind, before_ns, count);
  for (const auto& r : runs) m += fmt::format("{}-{}:{}\n", r.first, r.last, to_hex(r.last_hash));
  return m;
}

Store::~Store() {
  if (in_txn_) rollback();
  release_statements();
  db_.close();
}

void Store::release_statements() {
  insert_.finalize();
  insert_fts_.finalize();
  upsert_block_.finalize();
  insert_dict_.finalize();
  insert_host_.finalize();
}

namespace {

// The schema version of an existing store (0: a new, empty file).
Result<int> read_schema_version(sqlite3* db) {
  auto has = Stmt::prepare(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'");
  if (!has) return has.error();
  const int rc = has->step();
  if (rc == SQLITE_DONE) return 0;
  if (rc != SQLITE_ROW) return sqlite_error(db, rc, "read the schema");
  auto v = Stmt::prepare(db, "SELECT value FROM meta WHERE key='schema_version'");
  if (!v) return v.error();
  if (v->step() != SQLITE_ROW) return 0;
  return std::atoi(std::string(v->text(0)).c_str());
}

Error old_schema_error(const std::string& path, int version) {
  if (version > kSchemaVersion) {
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("store {} has schema version {}, written by a newer privwatch; this "
                             "one writes version {}",
                             path, version, kSchemaVersion),
                 "run the newer privwatch, or give this one another store.path"};
  }
  return Error{
      ErrorKind::kInvalidArgument,
      fmt::format("store {} has schema version {}; this privwatch writes version {} (a faster "
                  "chain and search index)",
                  path, version, kSchemaVersion),
      fmt::format("move the old store aside (mv {0} {0}.v{1}; also its -wal/-shm files); "
                  "'privwatch verify --db {0}.v{1}' still checks it, and the agent starts a new "
                  "store at {0}",
                  path, version)};
}

}  // namespace

Status Store::open_db(const std::string& path, bool writer) {
  configure_sqlite();
  sqlite3* raw = nullptr;
  const int flags = writer ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX)
                           : (SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ = Db(raw);
  if (rc != SQLITE_OK) return sqlite_error(raw, rc, "open");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  path_ = path;
  return {};
}

Status Store::init_schema() {
  auto version = read_schema_version(db_.get());
  if (!version) return version.error();
  if (*version != 0 && (*version < kOldestWritableSchema || *version > kSchemaVersion)) {
    return old_schema_error(path_, *version);
  }
  // A schema-2 store goes on with schema 2's record digest (verify reads the version).
  schema_version_ = *version == 0 ? kSchemaVersion : *version;
  // WAL: readers never block the writer; synchronous=NORMAL: a committed transaction survives
  // a crash of the process (kill -9); only a power loss can lose the last commits. Page cache
  // 2 MiB: the agent's memory budget is 30 MB, and 2, 4 and 16 MiB insert at the same rate
  // (bench/RESULTS.md §1, §4).
  if (auto s = db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                        "PRAGMA cache_size=-2048; PRAGMA temp_store=MEMORY; PRAGMA "
                        "wal_autocheckpoint=16384; PRAGMA journal_size_limit=67108864;");
      !s) {
    return s;
  }
  if (auto s = db_.exec(std::string("BEGIN;") + kSchema); !s) {
    (void)db_.exec("ROLLBACK");
    return s;
  }
  auto get = Stmt::prepare(db_.get(), "SELECT value FROM meta WHERE key='chain_id'");
  if (!get) return get.error();
  int rc = get->step();
  if (rc == SQLITE_ROW) {
    chain_id_ = std::string(get->text(0));
  } else if (rc == SQLITE_DONE) {
    chain_id_ = random_chain_id();
    open_info_.created = true;
    auto put = Stmt::prepare(db_.get(), "INSERT INTO meta(key,value) VALUES(?,?)");
    if (!put) return put.error();
    const std::string pk = format_public_key(key_.pub);
    const std::string version = std::to_string(kSchemaVersion);
    const std::string created = std::to_string(wall_now_ns());
    const std::pair<const char*, const std::string*> rows[] = {{"chain_id", &chain_id_},
                                                               {"schema_version", &version},
                                                               {"public_key", &pk},
                                                               {"host", &host_},
                                                               {"created_ns", &created}};
    for (const auto& [k, v] : rows) {
      put->bind_text(1, k);
      put->bind_text(2, *v, true);
      if (auto s = step_done(*put, db_.get(), "write meta"); !s) return s;
    }
  } else {
    return sqlite_error(db_.get(), rc, "read meta");
  }
  get->finalize();
  if (open_info_.created) {
    if (auto s = db_.exec(kFtsConfig); !s) return s;
  }
  return db_.exec("COMMIT");
}

Status Store::load_head() {
  auto last = Stmt::prepare(db_.get(), "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1");
  if (!last) return last.error();
  const int rc = last->step();
  if (rc == SQLITE_ROW) {
    head_seq_ = static_cast<uint64_t>(last->int64(0));
    const auto h = last->blob(1);
    if (h.size() != head_hash_.size()) {
      return Error{ErrorKind::kCorrupt,
                   fmt::format("store {}: record {} has no valid chain hash", path_, head_seq_),
                   "run 'privwatch verify' on the file"};
    }
    std::memcpy(head_hash_.data(), h.data(), h.size());
  } else if (rc == SQLITE_DONE) {
    head_seq_ = 0;
    head_hash_ = genesis_hash(chain_id_);
  } else {
    return sqlite_error(db_.get(), rc, "read the chain head");
  }
  auto ck = Stmt::prepare(db_.get(), "SELECT max(seq) FROM records WHERE kind=8 AND kind<>1");
  if (!ck) return ck.error();
  const int rc2 = ck->step();
  if (rc2 != SQLITE_ROW) return sqlite_error(db_.get(), rc2, "find the last checkpoint");
  checkpoint_seq_ = ck->is_null(0) ? 0 : static_cast<uint64_t>(ck->int64(0));
  committed_seq_ = head_seq_;
  committed_hash_ = head_hash_;
  committed_checkpoint_seq_ = checkpoint_seq_;
  return {};
}

Status Store::prepare_writer_statements() {
  auto ins = Stmt::prepare(db_.get(), kInsert);
  if (!ins) return ins.error();
  insert_ = std::move(*ins);
  auto fts = Stmt::prepare(db_.get(), "INSERT INTO records_fts(rowid, text, tags) VALUES(?,?,?)");
  if (!fts) return fts.error();
  insert_fts_ = std::move(*fts);
  auto blk =
      Stmt::prepare(db_.get(),
                    "INSERT INTO blocks(id, min_ts, max_ts) VALUES(?,?,?) ON CONFLICT(id) DO "
                    "UPDATE SET min_ts = min(min_ts, excluded.min_ts), max_ts = "
                    "max(max_ts, excluded.max_ts)");
  if (!blk) return blk.error();
  upsert_block_ = std::move(*blk);
  auto hosts = Stmt::prepare(db_.get(), "SELECT name FROM hosts");
  if (!hosts) return hosts.error();
  while (hosts->step() == SQLITE_ROW) hosts_.insert(std::string(hosts->text(0)));
  auto host = Stmt::prepare(db_.get(), "INSERT OR IGNORE INTO hosts(name) VALUES(?)");
  if (!host) return host.error();
  insert_host_ = std::move(*host);
  auto dict = Stmt::prepare(db_.get(), "INSERT OR REPLACE INTO dicts(id, dict) VALUES(?,?)");
  if (!dict) return dict.error();
  insert_dict_ = std::move(*dict);
  encoder_ = std::make_unique<BodyEncoder>(db_.get());
  return encoder_->load();
}

Result<std::unique_ptr<Store>> Store::open_writer(const StoreOptions& options) {
  if (sodium_init() < 0) return Error{ErrorKind::kInternal, "libsodium cannot start", ""};
  if (auto s = make_dirs(options.path); !s) return s.error();
  auto key = load_or_create_key(options.key_path);
  if (!key) return key.error();
  // One writer per store: the chain head lives in the writer's memory.
  const std::string lock_path = options.path + ".lock";
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.ok()) {
    return Error{
        ErrorKind::kIo,
        fmt::format("store {}: cannot open {}: {}", options.path, lock_path, std::strerror(errno)),
        "check the permissions of the store directory"};
  }
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    return Error{ErrorKind::kIo,
                 fmt::format("store {} is being written by another process (lock {})", options.path,
                             lock_path),
                 "stop the other privwatch agent, or give this one another store.path"};
  }

  auto attempt = [&](OpenInfo info) -> Result<std::unique_ptr<Store>> {
    std::unique_ptr<Store> st(new Store());
    st->host_ = options.host;
    st->key_ = *key;
    st->open_info_ = std::move(info);
    if (auto s = st->open_db(options.path, true); !s) return s.error();
    st->lock_ = Fd(::dup(lock.get()));
    ::chmod(options.path.c_str(), 0600);
    if (auto s = st->init_schema(); !s) return s.error();
    if (auto s = st->load_head(); !s) return s.error();
    // The newest record must still link to its predecessor: a torn or edited tail is damage.
    if (auto s = st->prepare_writer_statements(); !s) return s.error();
    return st;
  };

  auto st = attempt({});
  if (st || st.error().kind != ErrorKind::kCorrupt) return st;
  const Error damage = st.error();
  if (!options.move_aside_corrupt) return damage;
  // Never silently lose data: keep the damaged file (and its WAL) under a new name, log it,
  // and record the event as the first record of the new chain.
  const std::string aside = options.path + ".corrupt-" + utc_stamp(wall_now_ns());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string from = options.path + suffix, to = aside + suffix;
    if (::access(from.c_str(), F_OK) != 0) continue;
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return Error{ErrorKind::kIo,
                   fmt::format("{}; moving it aside to {} failed: {}", damage.message, to,
                               std::strerror(errno)),
                   "move the damaged file away by hand, then start the agent again"};
    }
  }
  log::error(
      "store {} is damaged ({}); moved it aside to {} and started a new chain. "
      "Inspect the old file with: privwatch verify --db {}",
      options.path, damage.message, aside, aside);
  OpenInfo info;
  info.moved_aside = aside;
  info.damage = damage.message;
  auto fresh = attempt(std::move(info));
  if (!fresh) return fresh;
  Store& s = **fresh;
  // The notice: an alert record in the new chain.
  Record r;
  r.kind = RecordKind::kAlert;
  r.wall_ns = wall_now_ns();
  r.name = "store.damaged_database";
  r.host = options.host;
  r.ref = "store-damaged-" + s.chain_id_;
  r.severity = 3;  // high
  r.text = "store database damaged moved aside " + aside;
  nlohmann::json j;
  std::string ts;
  util::append_rfc3339_ns(ts, r.wall_ns);
  j["@timestamp"] = ts;
  j["event"]["kind"] = "alert";
  j["event"]["id"] = r.ref;
  j["privwatch"]["severity"] = "high";
  j["privwatch"]["source"] = "store";
  j["rule"]["name"] = r.name;
  j["message"] = fmt::format("the store database was damaged and moved aside to {}", aside);
  j["privwatch"]["explanation"] = damage.message;
  j["host"]["name"] = options.host;
  r.body = j.dump();
  if (auto b = s.begin(); !b) return b.error();
  if (auto a = s.append(r); !a) return a.error();
  if (auto c = s.commit(); !c) return c.error();
  return fresh;
}

Result<std::unique_ptr<Store>> Store::open_reader(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) {
    return Error{ErrorKind::kNotFound,
                 fmt::format("no store at {}: {}", path, std::strerror(errno)),
                 "pass --db with the agent's store.path, or --config with its configuration"};
  }
  std::unique_ptr<Store> st(new Store());
  if (auto s = st->open_db(path, false); !s) return s.error();
  auto get = Stmt::prepare(st->db(), "SELECT value FROM meta WHERE key='chain_id'");
  if (!get) return get.error();
  const int rc = get->step();
  if (rc != SQLITE_ROW) {
    return Error{ErrorKind::kCorrupt, fmt::format("{} is not a privwatch store", path),
                 "pass the file named by store.path"};
  }
  st->chain_id_ = std::string(get->text(0));
  get->finalize();
  auto version = read_schema_version(st->db());
  if (!version) return version.error();
  st->schema_version_ = *version == 0 ? 1 : *version;
  return st;
}

Result<std::pair<uint32_t, std::string>> Store::newest_dict() const {
  auto q = Stmt::prepare(db_.get(), "SELECT id, dict FROM dicts ORDER BY id DESC LIMIT 1");
  if (!q) return q.error();
  const int rc = q->step();
  if (rc == SQLITE_DONE) return std::pair<uint32_t, std::string>{0, ""};
  if (rc != SQLITE_ROW) return sqlite_error(db_.get(), rc, "read the compression dictionary");
  return std::pair<uint32_t, std::string>{static_cast<uint32_t>(q->int64(0)),
                                          std::string(q->blob(1))};
}

Status Store::keep_dict(uint32_t id, std::string dict) {
  uncommitted_dicts_.emplace_back(id, std::move(dict));
  // A transaction already open (the sink streams chunks into one) must hold it too: begin()
  // has run, and the commit forgets the uncommitted dictionaries.
  if (in_txn_) return store_dict(id, uncommitted_dicts_.back().second);
  return {};
}

Status Store::store_dict(uint32_t id, std::string_view dict) {
  insert_dict_.bind(1, static_cast<int64_t>(id));
  insert_dict_.bind_blob(2, dict.data(), dict.size());
  return step_done(insert_dict_, db_.get(), "store a compression dictionary");
}

Status Store::write_blocks() {
  for (const auto& b : blocks_) {
    upsert_block_.bind(1, b.id);
    upsert_block_.bind(2, b.min_ts);
    upsert_block_.bind(3, b.max_ts);
    if (auto s = step_done(upsert_block_, db_.get(), "index time blocks"); !s) return s;
  }
  blocks_.clear();
  return {};
}

Status Store::begin() {
  if (auto s = db_.exec("BEGIN"); !s) return s;
  in_txn_ = true;
  // Dictionaries of a transaction that rolled back: the producer compresses with them still.
  for (const auto& [id, dict] : uncommitted_dicts_) {
    if (auto s = store_dict(id, dict); !s) {
      rollback();
      return s;
    }
  }
  return {};
}

Status Store::commit() {
  if (auto b = write_blocks(); !b) {
    rollback();
    return b;
  }
  int rc = 0;
  auto s = db_.exec("COMMIT", &rc);
  if (!s) {
    rollback();
    return s;
  }
  in_txn_ = false;
  committed_seq_ = head_seq_;
  committed_hash_ = head_hash_;
  committed_checkpoint_seq_ = checkpoint_seq_;
  uncommitted_dicts_.clear();
  new_hosts_.clear();
  if (encoder_) encoder_->committed();
  return {};
}

void Store::rollback() {
  if (sqlite3_get_autocommit(db_.get()) == 0) (void)db_.exec("ROLLBACK");
  in_txn_ = false;
  head_seq_ = committed_seq_;
  head_hash_ = committed_hash_;
  checkpoint_seq_ = committed_checkpoint_seq_;
  blocks_.clear();
  for (const auto& h : new_hosts_) hosts_.erase(h);
  new_hosts_.clear();
  if (encoder_) encoder_->rollback();
}

Status Store::append(Record& r) {
  const uint64_t seq = head_seq_ + 1;
  roles_.clear();
  append_roles(roles_, r.roles);
  // Event bodies compressed (by the producer, or here).
  std::string_view packed = r.packed;
  if (packed.empty() && r.kind == RecordKind::kEvent && !external_compression_ && encoder_ &&
      encoder_->encode(r.body, &packed_)) {
    packed = packed_;
  }
  Hash digest = r.digest;
  if (!r.has_digest) {
    digest = schema_version_ >= 3
                 ? record_digest_v3(r, roles_, packed, encoder_ ? encoder_->dict_hash() : Hash{})
                 : record_digest(r, roles_);
  }
  const Hash h = chain_hash_v2(head_hash_, seq, digest);
  if (!r.host.empty() && hosts_.count(r.host) == 0) {  // the hosts seen (a handful)
    insert_host_.bind_text(1, r.host);
    if (auto s = step_done(insert_host_, db_.get(), "index hosts"); !s) return s;
    hosts_.insert(r.host);
    new_hosts_.push_back(r.host);
  }
  if (!r.new_dict.empty()) {
    // Kept before trying: if this transaction fails, the next one stores it (the producer
    // goes on compressing with it).
    uncommitted_dicts_.emplace_back(r.new_dict_id, r.new_dict);
    if (auto s = store_dict(r.new_dict_id, r.new_dict); !s) return s;
  }
  Stmt& st = insert_;
  st.bind(1, static_cast<int64_t>(seq));
  st.bind(2, static_cast<int64_t>(r.wall_ns));
  st.bind(3, static_cast<int64_t>(r.kind));
  st.bind_text(4, r.name);
  st.bind_text(5, r.host);
  st.bind_text(6, r.user);
  st.bind_text(7, r.human);
  st.bind_text(8, r.session);
  st.bind_text(9, roles_);
  st.bind_text(10, r.cluster);
  st.bind_text(11, r.ref);
  st.bind(12, r.severity);
  st.bind(13, r.flags);
  st.bind_text(14, r.text);
  if (!packed.empty()) {
    st.bind_blob(15, packed.data(), packed.size());
  } else {
    st.bind_text(15, r.body);
  }
  if (r.data.empty()) {
    st.bind_null(16);
  } else {
    st.bind_blob(16, r.data.data(), r.data.size());
  }
  st.bind_blob(17, h.data(), h.size());
  int rc = st.step();
  st.reset_keep_bindings();  // all 17 bound above for every record
  if (rc != SQLITE_DONE) return sqlite_error(db_.get(), rc, "append a record");
  if (r.tags.empty()) {
    tags_.clear();
    append_tags(tags_, r.kind, r.name, r.user, r.human, r.session, roles_, r.cluster,
                schema_version_);
  }
  insert_fts_.bind(1, static_cast<int64_t>(seq));
  insert_fts_.bind_text(2, r.text);
  insert_fts_.bind_text(3, r.tags.empty() ? std::string_view(tags_) : std::string_view(r.tags));
  rc = insert_fts_.step();
  insert_fts_.reset_keep_bindings();
  if (rc != SQLITE_DONE) return sqlite_error(db_.get(), rc, "index text");
  const int64_t block = static_cast<int64_t>(seq >> kBlockShift);
  const auto ts = static_cast<int64_t>(r.wall_ns);
  if (blocks_.empty() || blocks_.back().id != block) {
    blocks_.push_back({block, ts, ts});
  } else {
    blocks_.back().min_ts = std::min(blocks_.back().min_ts, ts);
    blocks_.back().max_ts = std::max(blocks_.back().max_ts, ts);
  }
  r.seq = seq;
  r.hash = h;
  head_seq_ = seq;
  head_hash_ = h;
  if (r.kind == RecordKind::kCheckpoint) checkpoint_seq_ = seq;
  return {};
}

Status Store::checkpoint(uint64_t wall_ns, std::string* offhost) {
  const std::string hash_hex = to_hex(head_hash_);
  const std::string sig =
      sign_hex(key_, checkpoint_message(chain_id_, head_seq_, hash_hex, wall_ns));
  nlohmann::json j;
  j["type"] = "privwatch.checkpoint";
  j["chain"] = chain_id_;
  j["seq"] = head_seq_;
  j["hash"] = hash_hex;
  j["wall_ns"] = wall_ns;
  std::string ts;
  util::append_rfc3339_ns(ts, wall_ns);
  j["@timestamp"] = ts;
  j["host"] = host_;
  j["public_key"] = format_public_key(key_.pub);
  j["signature"] = sig;
  Record r;
  r.kind = RecordKind::kCheckpoint;
  r.wall_ns = wall_ns;
  r.name = "checkpoint";
  r.host = host_;
  r.ref = std::to_string(head_seq_);
  r.body = j.dump();
  if (auto s = append(r); !s) return s;
  if (offhost != nullptr) *offhost = r.body;
  return {};
}

Result<PruneResult> Store::prune(RecordKind kind, uint64_t before_ns, size_t max_rows,
                                 uint64_t now_ns) {
  PruneResult out;
  if (kind == RecordKind::kTombstone || kind == RecordKind::kCheckpoint) return out;
  struct Victim {
    uint64_t seq;
    std::string text, tags;
    Hash hash;
  };
  std::vector<Victim> victims;
  {
    // Events have no kind index: only the time blocks that began before the cut-off can hold
    // expired events, so scan those (in seq order) and no further.
    int64_t last_seq = INT64_MAX;
    if (kind == RecordKind::kEvent) {
      auto b = Stmt::prepare(db_.get(), "SELECT max(id) FROM blocks WHERE min_ts < ?");
      if (!b) return b.error();
      b->bind(1, static_cast<int64_t>(before_ns));
      if (b->step() != SQLITE_ROW) return sqlite_error(db_.get(), SQLITE_ERROR, "read blocks");
      if (b->is_null(0)) return out;
      last_seq = ((b->int64(0) + 1) << kBlockShift) - 1;
    }
    auto sel = Stmt::prepare(
        db_.get(), kind == RecordKind::kEvent
                       ? "SELECT seq, text, hash, name, user, human, session, roles, cluster "
                         "FROM records WHERE seq <= ? AND kind = ? AND ts < ? ORDER BY seq LIMIT ?"
                       : "SELECT seq, text, hash, name, user, human, session, roles, cluster "
                         "FROM records WHERE ? AND kind = ? AND kind <> 1 AND ts < ? ORDER BY ts "
                         "LIMIT ?");
    if (!sel) return sel.error();
    sel->bind(1, last_seq);
    sel->bind(2, static_cast<int64_t>(kind));
    sel->bind(3, static_cast<int64_t>(before_ns));
    sel->bind(4, static_cast<int64_t>(max_rows));
    int rc;
    while ((rc = sel->step()) == SQLITE_ROW) {
      Victim v{static_cast<uint64_t>(sel->int64(0)), std::string(sel->text(1)), {}, {}};
      append_tags(v.tags, kind, sel->text(3), sel->text(4), sel->text(5), sel->text(6),
                  sel->text(7), sel->text(8), schema_version_);
      const auto h = sel->blob(2);
      if (h.size() == v.hash.size()) std::memcpy(v.hash.data(), h.data(), h.size());
      victims.push_back(std::move(v));
    }
    if (rc != SQLITE_DONE) return sqlite_error(db_.get(), rc, "select records to prune");
  }
  if (victims.empty()) return out;
  std::sort(victims.begin(), victims.end(),
            [](const Victim& a, const Victim& b) { return a.seq < b.seq; });
  std::vector<TombstoneRun> runs;
  for (const auto& v : victims) {
    if (!runs.empty() && runs.back().last + 1 == v.seq) {
      runs.back().last = v.seq;
      runs.back().last_hash = v.hash;
    } else {
      runs.push_back({v.seq, v.seq, v.hash});
    }
  }
  if (auto s = begin(); !s) return s.error();
  auto fail = [&](Error e) -> Result<PruneResult> {
    rollback();
    return e;
  };
  auto del = Stmt::prepare(db_.get(), "DELETE FROM records WHERE seq = ?");
  // The text index is contentless: removing a row names the exact tokens it indexed.
  auto del_fts = Stmt::prepare(
      db_.get(),
      "INSERT INTO records_fts(records_fts, rowid, text, tags) VALUES('delete', ?, ?, ?)");
  if (!del) return fail(del.error());
  if (!del_fts) return fail(del_fts.error());
  for (const auto& v : victims) {
    del_fts->bind(1, static_cast<int64_t>(v.seq));
    del_fts->bind_text(2, v.text);
    del_fts->bind_text(3, v.tags);
    if (auto s = step_done(*del_fts, db_.get(), "unindex text"); !s) return fail(s.error());
    del->bind(1, static_cast<int64_t>(v.seq));
    if (auto s = step_done(*del, db_.get(), "prune"); !s) return fail(s.error());
  }
  const std::string kind_name(to_string(kind));
  const std::string sig =
      sign_hex(key_, tombstone_message(chain_id_, kind_name, before_ns, victims.size(), runs));
  nlohmann::json j;
  j["type"] = "privwatch.tombstone";
  j["chain"] = chain_id_;
  j["kind"] = kind_name;
  j["before_ns"] = before_ns;
  j["count"] = victims.size();
  nlohmann::json jr = nlohmann::json::array();
  for (const auto& r : runs) jr.push_back({r.first, r.last, to_hex(r.last_hash)});
  j["runs"] = std::move(jr);
  j["public_key"] = format_public_key(key_.pub);
  j["signature"] = sig;
  Record t;
  t.kind = RecordKind::kTombstone;
  t.wall_ns = now_ns;
  t.name = kind_name;
  t.host = host_;
  t.body = j.dump();
  if (auto s = append(t); !s) return fail(s.error());
  if (auto s = commit(); !s) return s.error();
  out.removed = victims.size();
  out.tombstone_seq = t.seq;
  return out;
}

}  // namespace privwatch::store
