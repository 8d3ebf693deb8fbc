#include "store/verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "store/codec.hpp"
#include "store/keys.hpp"
#include "store/record.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

namespace privwatch::store {

namespace {

// The hashes of the compression dictionaries, by id (schema 3 binds each compressed body to
// its dictionary's hash). Loaded on first use; nullptr when the body names no stored one.
class DictHashes {
 public:
  explicit DictHashes(sqlite3* db) : db_(db) {}
  const Hash* hash_of(std::string_view packed) {
    if (packed.size() < 4) return nullptr;
    uint32_t id = 0;
    std::memcpy(&id, packed.data(), 4);
    auto it = cache_.find(id);
    if (it == cache_.end()) {
      std::optional<Hash> h;
      auto q = Stmt::prepare(db_, "SELECT dict FROM dicts WHERE id = ?");
      if (q) {
        q->bind(1, static_cast<int64_t>(id));
        if (q->step() == SQLITE_ROW) h = dict_digest(q->blob(0));
      }
      it = cache_.emplace(id, h).first;
    }
    return it->second ? &*it->second : nullptr;
  }

 private:
  sqlite3* db_;
  std::map<uint32_t, std::optional<Hash>> cache_;
};

using nlohmann::json;

struct Run {
  uint64_t first, last;
  Hash hash;
};

std::optional<Hash> parse_hash(const json& v) {
  if (!v.is_string()) return std::nullopt;
  Hash h{};
  if (!from_hex(v.get<std::string>(), h.data(), h.size())) return std::nullopt;
  return h;
}

// A signed checkpoint (from the store or off host), checked against `pk`.
struct Checkpoint {
  uint64_t seq = 0;
  Hash hash{};
  std::string chain;
};

std::optional<Checkpoint> parse_checkpoint(std::string_view text, const PublicKey& pk,
                                           std::string* why) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("type", "") != "privwatch.checkpoint") {
    *why = "not a privwatch checkpoint";
    return std::nullopt;
  }
  Checkpoint c;
  c.chain = j.value("chain", "");
  c.seq = j.value("seq", uint64_t{0});
  auto h = parse_hash(j.value("hash", json()));
  if (!h) {
    *why = "no valid hash";
    return std::nullopt;
  }
  c.hash = *h;
  const std::string msg =
      checkpoint_message(c.chain, c.seq, to_hex(c.hash), j.value("wall_ns", uint64_t{0}));
  if (!verify_hex(pk, msg, j.value("signature", ""))) {
    *why = "the signature does not verify with the trusted public key";
    return std::nullopt;
  }
  return c;
}

struct Walker {
  VerifyReport& rep;
  const VerifyOptions& opt;
  void problem(uint64_t seq, std::string what, std::string detail) {
    if (rep.problems.size() < opt.max_problems) {
      rep.problems.push_back({seq, std::move(what), std::move(detail)});
    }
  }
};

std::string describe_row(uint64_t seq, int kind, uint64_t ts) {
  return fmt::format("record {} ({}, {})", seq, to_string(static_cast<RecordKind>(kind)),
                     util::format_rfc3339({static_cast<int64_t>(ts / 1'000'000'000ull), 0}));
}

}  // namespace

Result<VerifyReport> verify_store(const std::string& db_path, const VerifyOptions& opt) {
  auto st = Store::open_reader(db_path);
  if (!st) return st.error();
  sqlite3* db = (*st)->db();
  const bool v1 = (*st)->schema_version() < 2;   // schema 1: the chain hashes canonical bytes
  const bool v3 = (*st)->schema_version() >= 3;  // schema 3: bodies are hashed as stored
  VerifyReport rep;
  rep.chain_id = (*st)->chain_id();
  Walker w{rep, opt};

  // The trusted key.
  PublicKey pk{};
  if (!opt.public_key.empty()) {
    auto k = parse_public_key(opt.public_key);
    if (!k) return k.error();
    pk = *k;
  } else {
    auto m = Stmt::prepare(db, "SELECT value FROM meta WHERE key='public_key'");
    if (!m) return m.error();
    if (m->step() != SQLITE_ROW) {
      return Error{ErrorKind::kCorrupt, fmt::format("{}: no public key in the store", db_path),
                   "pass --pubkey with the key exported by 'privwatch store pubkey'"};
    }
    auto k = parse_public_key(std::string(m->text(0)));
    if (!k) return k.error();
    pk = *k;
    rep.notes.push_back(
        "signatures checked with the public key stored in the database; pass --pubkey with the "
        "key exported when the agent was installed for a check an intruder cannot defeat");
  }

  if (opt.integrity_check) {
    auto ic = Stmt::prepare(db, "PRAGMA integrity_check(10)");
    if (!ic) {
      w.problem(0, "damaged", ic.error().message);
    } else {
      std::string msgs;
      int rc;
      while ((rc = ic->step()) == SQLITE_ROW) {
        if (ic->text(0) != "ok") msgs += fmt::format("{}{}", msgs.empty() ? "" : "; ", ic->text(0));
      }
      if (rc != SQLITE_DONE) msgs += sqlite3_errmsg(db);
      if (!msgs.empty()) w.problem(0, "damaged", "SQLite integrity check: " + msgs);
    }
  }

  // Tombstones: the signed list of records that retention removed.
  std::map<uint64_t, Run> runs;  // by first seq
  {
    auto t = Stmt::prepare(
        db, "SELECT seq, body FROM records WHERE kind = 7 AND kind <> 1 ORDER BY seq");
    if (!t) return t.error();
    int rc;
    while ((rc = t->step()) == SQLITE_ROW) {
      const uint64_t seq = static_cast<uint64_t>(t->int64(0));
      const json j = json::parse(t->text(1), nullptr, false);
      std::vector<TombstoneRun> tr;
      bool parsed = j.is_object() && j.contains("runs") && j["runs"].is_array();
      if (parsed) {
        for (const auto& r : j["runs"]) {
          if (!r.is_array() || r.size() != 3 || !r[0].is_number_unsigned() ||
              !r[1].is_number_unsigned()) {
            parsed = false;
            break;
          }
          auto h = parse_hash(r[2]);
          if (!h) {
            parsed = false;
            break;
          }
          tr.push_back({r[0].get<uint64_t>(), r[1].get<uint64_t>(), *h});
        }
      }
      if (!parsed) {
        w.problem(seq, "edited", fmt::format("tombstone {} cannot be read", seq));
        continue;
      }
      const std::string msg =
          tombstone_message(j.value("chain", ""), j.value("kind", ""), j.value("before_ns", 0ull),
                            j.value("count", 0ull), tr);
      if (j.value("chain", "") != rep.chain_id || !verify_hex(pk, msg, j.value("signature", ""))) {
        w.problem(seq, "signature",
                  fmt::format("tombstone {}: the signature does not verify: the records it "
                              "claims were pruned were deleted by someone else",
                              seq));
        continue;
      }
      ++rep.tombstones;
      for (const auto& r : tr) runs[r.first] = {r.first, r.last, r.last_hash};
    }
    if (rc != SQLITE_DONE) w.problem(0, "damaged", sqlite_error(db, rc, "read tombstones").message);
  }

  // Off-host checkpoints: signed statements of the head at some time, kept elsewhere.
  std::map<uint64_t, std::pair<Hash, std::string>> offhost;  // seq -> hash, file
  for (const auto& file : opt.checkpoint_files) {
    std::ifstream f(file);
    if (!f) {
      return Error{ErrorKind::kNotFound,
                   fmt::format("checkpoint file {}: {}", file, std::strerror(errno)),
                   "pass the file written by store.checkpoint_file (a copy kept off the host)"};
    }
    std::string line;
    size_t lineno = 0;
    while (std::getline(f, line)) {
      ++lineno;
      if (line.empty()) continue;
      std::string why;
      auto c = parse_checkpoint(line, pk, &why);
      if (!c) {
        w.problem(0, "signature",
                  fmt::format("{}:{}: off-host checkpoint rejected: {}", file, lineno, why));
        continue;
      }
      if (c->chain != rep.chain_id) continue;  // another chain (an older, moved-aside store)
      offhost[c->seq] = {c->hash, fmt::format("{}:{}", file, lineno)};
    }
  }

  // Where to start: genesis, or the last signed checkpoint at or before opt.from.
  uint64_t expected = 1;
  Hash prev = genesis_hash(rep.chain_id);
  if (opt.from > 1) {
    auto a = Stmt::prepare(db,
                           "SELECT seq, body FROM records WHERE kind = 8 AND kind <> 1 AND seq <= "
                           "? ORDER BY seq DESC");
    if (!a) return a.error();
    a->bind(1, static_cast<int64_t>(opt.from));
    while (a->step() == SQLITE_ROW) {
      std::string why;
      auto c = parse_checkpoint(a->text(1), pk, &why);
      if (c && c->chain == rep.chain_id && c->seq + 1 == static_cast<uint64_t>(a->int64(0))) {
        expected = c->seq + 1;
        prev = c->hash;
        rep.notes.push_back(
            fmt::format("range check anchored at the signed checkpoint {}", a->int64(0)));
        break;
      }
    }
  }

  auto walk = Stmt::prepare(
      db,
      "SELECT seq,ts,kind,name,host,user,human,session,roles,cluster,ref,severity,flags,text,body,"
      "data,hash FROM records WHERE seq >= ? AND seq <= ? ORDER BY seq");
  if (!walk) return walk.error();
  walk->bind(1, static_cast<int64_t>(expected));
  walk->bind(2, opt.to == 0 ? INT64_MAX : static_cast<int64_t>(opt.to));
  std::string canon;
  Record r;
  BodyDecoder decoder(db);
  DictHashes dicts(db);
  int rc;
  bool first = true;
  while ((rc = walk->step()) == SQLITE_ROW) {
    const uint64_t seq = static_cast<uint64_t>(walk->int64(0));
    if (first) {
      rep.first_seq = seq;
      first = false;
    }
    bool linked = true;
    if (seq != expected) {
      // A gap: every missing record must be covered by a signed tombstone.
      uint64_t pos = expected;
      const Run* last_run = nullptr;
      while (pos < seq) {
        auto it = runs.upper_bound(pos);
        if (it == runs.begin()) break;
        --it;
        if (it->second.last < pos) break;
        last_run = &it->second;
        pos = it->second.last + 1;
      }
      if (pos == seq && last_run != nullptr) {
        prev = last_run->hash;
        rep.pruned += seq - expected;
        if (auto o = offhost.find(seq - 1); o != offhost.end()) {
          ++rep.offhost_checkpoints;
          if (o->second.first != prev) {
            w.problem(seq - 1, "edited",
                      fmt::format("record {} differs from the off-host checkpoint {}", seq - 1,
                                  o->second.second));
          }
        }
      } else {
        const uint64_t missing_to = pos < seq ? seq - 1 : seq - 1;
        w.problem(pos, "deleted",
                  fmt::format("record{} {}{} missing: deleted without a signed tombstone",
                              pos == missing_to ? "" : "s", pos,
                              pos == missing_to ? " is" : fmt::format("..{} are", missing_to)));
        linked = false;
      }
    }
    r.wall_ns = static_cast<uint64_t>(walk->int64(1));
    const int kind = static_cast<int>(walk->int64(2));
    r.kind = static_cast<RecordKind>(kind);
    r.name = walk->text(3);
    r.host = walk->text(4);
    r.user = walk->text(5);
    r.human = walk->text(6);
    r.session = walk->text(7);
    const std::string_view roles = walk->text(8);
    r.cluster = walk->text(9);
    r.ref = walk->text(10);
    r.severity = static_cast<int32_t>(walk->int64(11));
    r.flags = static_cast<uint32_t>(walk->int64(12));
    r.text = walk->text(13);
    std::string_view packed;
    const Hash* dict_hash = nullptr;
    if (walk->is_blob(14) && v3) {
      // Hashed as stored, with its dictionary's hash: no decompression.
      packed = walk->blob(14);
      r.body.clear();
      dict_hash = dicts.hash_of(packed);
      if (dict_hash == nullptr) {
        w.problem(seq, "edited",
                  fmt::format("{}: its body names a compression dictionary that is not in the "
                              "store",
                              describe_row(seq, kind, r.wall_ns)));
      }
    } else if (walk->is_blob(14)) {
      if (auto d = decoder.decode(walk->blob(14), &r.body); !d) {
        w.problem(seq, "edited",
                  fmt::format("{}: its body cannot be read: {}", describe_row(seq, kind, r.wall_ns),
                              d.error().message));
        r.body.clear();
      }
    } else {
      r.body = walk->text(14);
    }
    r.data = walk->blob(15);
    const std::string_view stored = walk->blob(16);
    Hash stored_hash{};
    const bool hash_ok = stored.size() == stored_hash.size();
    if (hash_ok) std::memcpy(stored_hash.data(), stored.data(), stored.size());
    const Hash before = prev;
    Hash h;
    if (v1) {
      canon.clear();
      append_canonical(canon, seq, r, roles);
      h = chain_hash(prev, canon);
    } else if (v3) {
      h = chain_hash_v2(
          prev, seq,
          record_digest_v3(r, roles, packed, dict_hash != nullptr ? *dict_hash : Hash{}));
    } else {
      h = chain_hash_v2(prev, seq, record_digest(r, roles));
    }
    if (linked && (!hash_ok || h != stored_hash)) {
      w.problem(seq, "edited",
                fmt::format("{} does not match the hash chain: it was edited or moved "
                            "(reordered), or the record before it was rewritten together with "
                            "its hash",
                            describe_row(seq, kind, r.wall_ns)));
    }
    prev = (linked && hash_ok && h == stored_hash) ? h : stored_hash;
    if (r.kind == RecordKind::kCheckpoint) {
      std::string why;
      auto c = parse_checkpoint(r.body, pk, &why);
      if (!c || c->chain != rep.chain_id) {
        w.problem(seq, "signature",
                  fmt::format("checkpoint {}: {}", seq, c ? "belongs to another chain" : why));
      } else if (linked && (c->seq + 1 != seq || c->hash != before)) {
        w.problem(seq, "edited",
                  fmt::format("checkpoint {} signed record {} with another hash: the records "
                              "before it were rewritten",
                              seq, c->seq));
      } else {
        ++rep.checkpoints;
        rep.last_signed_seq = c->seq;
      }
    }
    if (auto o = offhost.find(seq); o != offhost.end()) {
      ++rep.offhost_checkpoints;
      if (o->second.first != prev) {
        w.problem(seq, "edited",
                  fmt::format("record {} differs from the off-host checkpoint {}: the store was "
                              "rewritten up to here",
                              seq, o->second.second));
      }
    }
    ++rep.records;
    rep.last_seq = seq;
    expected = seq + 1;
  }
  if (rc != SQLITE_DONE) {
    w.problem(expected, "damaged",
              fmt::format("the database file is damaged at or after record {}: {}", expected,
                          sqlite3_errmsg(db)));
  }
  // Truncation: a checkpoint kept off the host names records the store no longer has.
  if (opt.to == 0 && !offhost.empty() && offhost.rbegin()->first > rep.last_seq) {
    const auto& [seq, v] = *offhost.rbegin();
    w.problem(rep.last_seq + 1, "truncated",
              fmt::format("the store ends at record {} but the off-host checkpoint {} covers "
                          "record {}: records {}..{} were removed (truncation)",
                          rep.last_seq, v.second, seq, rep.last_seq + 1, seq));
  }
  if (rep.last_seq > rep.last_signed_seq && opt.to == 0) {
    rep.notes.push_back(fmt::format(
        "records {}..{} are newer than the last signed checkpoint: an edit there is detected, "
        "a truncation only with off-host checkpoints (--checkpoints)",
        rep.last_signed_seq + 1, rep.last_seq));
  }
  if (opt.checkpoint_files.empty()) {
    rep.notes.push_back(
        "no off-host checkpoints given (--checkpoints FILE): truncation of the newest records "
        "cannot be detected from the database alone");
  }
  std::sort(rep.problems.begin(), rep.problems.end(),
            [](const VerifyProblem& a, const VerifyProblem& b) { return a.seq < b.seq; });
  return rep;
}

std::string format_report(const VerifyReport& r) {
  std::string out;
  out += fmt::format(
      "chain {}: {} records checked ({}..{}), {} signed checkpoints, {} "
      "tombstones ({} records pruned), {} off-host checkpoints compared\n",
      r.chain_id, r.records, r.first_seq, r.last_seq, r.checkpoints, r.tombstones, r.pruned,
      r.offhost_checkpoints);
  if (r.ok()) {
    out += "OK: the store is intact\n";
  } else {
    const auto& p = r.problems.front();
    out += fmt::format("TAMPERED: first problem at record {}: {}\n", p.seq, p.detail);
    for (const auto& q : r.problems) {
      out += fmt::format("  {:>10}  {:<9}  {}\n", q.seq, q.what, q.detail);
    }
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

}  // namespace privwatch::store
