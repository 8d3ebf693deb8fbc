// Records: what the store keeps. One append-only sequence of records of several kinds, each
// extending a hash chain over its canonical bytes (docs/store.md "Integrity").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace privwatch::store {

// Stored as an integer: never renumber, only append.
enum class RecordKind : uint8_t {
  kEvent = 1,       // a kernel event (body: ECS JSON)
  kSession = 2,     // a session version (start, change, end): the latest per session id wins
  kAlert = 3,       // an alert (rules, baselines, the store itself)
  kEscalation = 4,  // a privilege escalation transition
  kRecording = 5,   // a terminal recording chunk (data: compressed bytes)
  kResponse = 6,    // a response action (kill, freeze, warn) and its outcome
  kTombstone = 7,   // signed: records removed by retention
  kCheckpoint = 8,  // signed: the chain head at a point in time
};
inline constexpr RecordKind kAllKinds[] = {
    RecordKind::kEvent,     RecordKind::kSession,  RecordKind::kAlert,     RecordKind::kEscalation,
    RecordKind::kRecording, RecordKind::kResponse, RecordKind::kTombstone, RecordKind::kCheckpoint};

[[nodiscard]] std::string_view to_string(RecordKind k);
[[nodiscard]] std::optional<RecordKind> kind_from_string(std::string_view s);

// Record flags (indexed facts used by reports).
inline constexpr uint32_t kRecEscalated = 1u << 0;  // event ran with escalated credentials
inline constexpr uint32_t kRecDrift = 1u << 1;      // service-account drift
inline constexpr uint32_t kRecSensitive = 1u << 2;  // sensitive path
inline constexpr uint32_t kRecFailed = 1u << 3;     // the syscall failed
// Session versions: whether it had ended (lets `privwatch sessions --active` skip the JSON).
// Records written before these flags have neither.
inline constexpr uint32_t kRecSessionActive = 1u << 4;
inline constexpr uint32_t kRecSessionEnded = 1u << 5;

using Hash = std::array<uint8_t, 32>;

// The generic unit of storage. Producers fill the descriptive fields; the store assigns seq and
// hash. Empty strings are stored as NULL.
struct Record {
  RecordKind kind = RecordKind::kEvent;
  uint64_t wall_ns = 0;  // when it happened (realtime ns)
  std::string name;      // event kind (exec, file...), alert rule, entry type, action...
  std::string host, user, human, session, cluster;
  std::vector<std::string> roles;
  std::string ref;        // the object's own id: alert id, session id, recording id...
  int32_t severity = -1;  // alerts: model::Severity; -1 otherwise
  uint32_t flags = 0;     // kRec*
  std::string text;       // full text indexed: commands, arguments, paths, terminal text
  std::string body;       // JSON document
  std::string data;       // binary payload (recording chunks), may be empty

  // Optional work done ahead of the writer (StoreSink's encoder thread); the store does it
  // itself when left empty.
  std::string packed;        // the body compressed (BodyEncoder BLOB); empty: store `body`
  uint32_t new_dict_id = 0;  // a compression dictionary trained with this record: stored with it
  std::string new_dict;
  std::string tags;  // the full-text tags (append_tags), when set by the producer; else the store
  bool has_digest = false;  // `digest` = the record's digest (record_digest_v3, or schema 2's)
  std::array<uint8_t, 32> digest{};

  // Set by the store on append.
  uint64_t seq = 0;
  Hash hash{};
};

// Roles as stored: joined by ',' (empty names add no separator). append_roles appends that
// form to `out` without a temporary string.
[[nodiscard]] std::string join_roles(const std::vector<std::string>& roles);
void append_roles(std::string& out, const std::vector<std::string>& roles);

// The bytes the chain hashes: every field but seq's hash, each length-prefixed, in a fixed
// order and byte order ("PWR1" version tag first). `roles` is the joined form.
void append_canonical(std::string& out, uint64_t seq, const Record& r, std::string_view roles);

// Schema 1: h(seq) = BLAKE2b-256(h(seq-1) || canonical(record)).
[[nodiscard]] Hash chain_hash(const Hash& prev, std::string_view canonical);
// Schema 2 (current): every field but seq is hashed on its own (so that this, the costly part,
// can run ahead of the writer on another thread):
//   d(seq) = BLAKE2b-256("PWR2" || fields, length-prefixed as in append_canonical)
//   h(seq) = BLAKE2b-256(h(seq-1) || u64le seq || d(seq))
// The first record's predecessor is genesis(chain id).
[[nodiscard]] Hash record_digest(const Record& r, std::string_view roles);
[[nodiscard]] Hash chain_hash_v2(const Hash& prev, uint64_t seq, const Hash& digest);
// Schema 3 (current): as schema 2, but the body is hashed as stored — the compressed BLOB
// (`packed`, dictionary id included) bound to the BLAKE2b-256 of the dictionary it needs
// (`dict_hash`), or the plain text (`packed` empty) — so that neither the writer side nor
// verify has to touch the ~10x larger uncompressed JSON, and a replaced dictionary still shows
// as edited records:
//   d(seq) = BLAKE2b-256("PWR3" || fields as in schema 2 up to text ||
//                        u64le 1 || str(packed) || dict_hash   (compressed)
//                        u64le 0 || str(body)                  (plain)   || str(data))
// The chain link is chain_hash_v2.
[[nodiscard]] Hash record_digest_v3(const Record& r, std::string_view roles,
                                    std::string_view packed, const Hash& dict_hash);
// BLAKE2b-256 of a compression dictionary.
[[nodiscard]] Hash dict_digest(std::string_view dict);

// The search tokens of a record's indexed fields (the `tags` column of the full-text index):
// pwk<kind> (all but events), pwn<name>, pwu<user>, pwh<human>, pws<session>, pwr<role>
// (each), pwc<cluster>. The value part keeps any value one case-sensitive token of
// [0-9a-z]: hex of the value (schema 2: always; schema 3: values of at most kTagHexMax bytes),
// else (schema 3) 13 base-32 characters of its 64-bit FNV-1a hash — an odd length, so never
// equal to a hex form. Hashed tags are not exact: every query that matches a tag also tests
// the column on the row (search, reports, kSessionRecordsFrom).
inline constexpr size_t kTagHexMax = 6;
inline constexpr size_t kTagHashChars = 13;
void append_tags(std::string& out, RecordKind kind, std::string_view name, std::string_view user,
                 std::string_view human, std::string_view session, std::string_view roles,
                 std::string_view cluster, int schema);
// One tag: prefix ("pwu") + the value part, as a store of that schema version writes it.
[[nodiscard]] std::string tag(std::string_view prefix, std::string_view value, int schema);
// The same tag as an FTS5 string (quoted), for MATCH expressions.
[[nodiscard]] std::string quoted_tag(std::string_view prefix, std::string_view value, int schema);

// SQL for "the records of one session", in sequence order, through the full-text index's
// session tag (events have no B-tree index on session; the tag indexes every kind). Selects
// from `records r`; binds ?1 = session_match(id, schema), ?2 = id (the exact test on the row).
inline constexpr const char* kSessionRecordsFrom =
    "records_fts f CROSS JOIN records r ON r.seq = f.rowid WHERE records_fts MATCH ?1 AND "
    "r.session = ?2";
[[nodiscard]] std::string session_match(std::string_view session_id, int schema);
[[nodiscard]] Hash genesis_hash(std::string_view chain_id);

[[nodiscard]] std::string to_hex(const uint8_t* p, size_t n);
[[nodiscard]] inline std::string to_hex(const Hash& h) { return to_hex(h.data(), h.size()); }
[[nodiscard]] bool from_hex(std::string_view hex, uint8_t* out, size_t n);

}  // namespace privwatch::store
