#include "store/recordings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

#include "export/ecs_json.hpp"
#include "store/codec.hpp"
#include "util/time.hpp"

namespace privwatch::store {

namespace {

using nlohmann::json;

constexpr int64_t kRecordingKind = static_cast<int64_t>(RecordKind::kRecording);

template <typename T>
T jget(const json& j, const char* k, T def) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return def;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return def;
  }
}

// A body column as JSON text (plain TEXT today; a compressed BLOB is decoded).
std::string body_text(const Stmt& st, int col, BodyDecoder& decoder) {
  if (!st.is_blob(col)) return std::string(st.text(col));
  std::string out;
  if (auto d = decoder.decode(st.blob(col), &out); !d) return {};
  return out;
}

std::string lower(std::string_view s) {
  std::string o(s);
  std::transform(o.begin(), o.end(), o.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return o;
}

// The words and "phrases" of a search, lower case, without the trailing * of a prefix.
std::vector<std::string> query_terms(std::string_view q) {
  std::vector<std::string> terms;
  size_t i = 0;
  while (i < q.size()) {
    while (i < q.size() && std::isspace(static_cast<unsigned char>(q[i]))) ++i;
    if (i >= q.size()) break;
    std::string term;
    if (q[i] == '"') {
      const size_t end = q.find('"', i + 1);
      term = std::string(q.substr(i + 1, (end == std::string_view::npos ? q.size() : end) - i - 1));
      i = end == std::string_view::npos ? q.size() : end + 1;
    } else {
      const size_t start = i;
      while (i < q.size() && !std::isspace(static_cast<unsigned char>(q[i]))) ++i;
      term = std::string(q.substr(start, i - start));
    }
    while (!term.empty() && term.back() == '*') term.pop_back();
    if (!term.empty()) terms.push_back(lower(term));
  }
  return terms;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writing

RecordingIndexer::Open& RecordingIndexer::state(const model::RecordingChunk& c) {
  auto it = open_.find(c.recording_id);
  if (it == open_.end()) {
    if (open_.size() >= max_open_) {
      auto oldest = open_.begin();
      for (auto o = open_.begin(); o != open_.end(); ++o) {
        if (o->second.last_use < oldest->second.last_use) oldest = o;
      }
      open_.erase(oldest);
      ++stats_.evicted;
    }
    it = open_.emplace(c.recording_id, Open{}).first;
    // Replaced by the recording's meta frame (its first frame); a recording whose model was
    // evicted goes on with a blank 80x24 screen.
    it->second.vt = std::make_unique<session::TerminalText>(24, 80);
    it->second.start_wall_ns = c.first_wall_ns;
  }
  it->second.last_use = ++clock_;
  return it->second;
}

void RecordingIndexer::encode(const model::RecordingChunk& c, std::string_view hostname,
                              Record& r) {
  r = Record{};
  r.kind = RecordKind::kRecording;
  r.wall_ns = c.first_wall_ns != 0 ? c.first_wall_ns : c.last_wall_ns;
  if (r.wall_ns == 0) r.wall_ns = wall_now_ns();
  r.name = c.tty;
  r.host = c.host.empty() ? std::string(hostname) : c.host;
  r.session = c.session_id;
  r.ref = c.recording_id;
  r.data = c.data;
  ++stats_.chunks;

  Open& o = state(c);
  uint32_t commands = 0;
  std::string end_reason, error;
  std::vector<session::TextLine> lines;
  auto raw = session::decompress(c);
  auto frames =
      raw ? session::decode_frames(*raw) : Result<std::vector<session::Frame>>(raw.error());
  if (!frames) {
    error = frames.error().message;
    ++stats_.undecodable;
  } else {
    for (const auto& f : *frames) {
      switch (f.type) {
        case session::FrameType::kMeta: {
          // A recording's first frame (again after an agent restart: a new segment).
          auto j = json::parse(f.data, nullptr, false);
          if (!j.is_object()) j = json::object();
          const int rows = jget<int>(j, "rows", 0), cols = jget<int>(j, "cols", 0);
          o.vt =
              std::make_unique<session::TerminalText>(rows > 0 ? rows : 24, cols > 0 ? cols : 80);
          o.start_wall_ns = jget<uint64_t>(j, "start_wall_ns", f.wall_ns);
          o.user = jget<std::string>(j, "user", "");
          o.human = jget<std::string>(j, "human", "");
          o.session_type = jget<std::string>(j, "session_type", "");
          break;
        }
        case session::FrameType::kOutput:
          o.vt->feed(f.data, f.wall_ns);
          break;
        case session::FrameType::kResize:
          if (f.data.size() == 4) {
            const auto* p = reinterpret_cast<const unsigned char*>(f.data.data());
            const int rows = p[0] | (p[1] << 8), cols = p[2] | (p[3] << 8);
            if (rows > 0 && cols > 0) o.vt->resize(rows, cols);
          }
          break;
        case session::FrameType::kCommand:
          ++commands;
          break;
        case session::FrameType::kEnd:
          end_reason = jget<std::string>(json::parse(f.data, nullptr, false), "reason", "");
          break;
        default:
          break;
      }
    }
    lines = o.vt->take_changed();
  }
  r.user = o.user;
  r.human = o.human;

  json offsets = json::array();
  for (const auto& l : lines) {
    if (!r.text.empty()) r.text += '\n';
    r.text += l.text;
    offsets.push_back(l.wall_ns > o.start_wall_ns ? (l.wall_ns - o.start_wall_ns) / 1'000'000 : 0);
  }
  stats_.text_lines += lines.size();
  json b = {{"recording_id", c.recording_id},
            {"session_id", c.session_id},
            {"host", r.host},
            {"tty", c.tty},
            {"chunk", c.seq},
            {"first_wall_ns", c.first_wall_ns},
            {"last_wall_ns", c.last_wall_ns},
            {"frames", c.frames},
            {"raw_bytes", c.raw_bytes},
            {"compressed_bytes", c.data.size()},
            {"final", c.final},
            {"start_wall_ns", o.start_wall_ns},
            {"commands", commands},
            {"lines_ms", std::move(offsets)}};
  if (!o.session_type.empty()) b["session_type"] = o.session_type;
  if (!end_reason.empty()) b["end_reason"] = end_reason;
  if (!error.empty()) b["text_error"] = error;
  r.body = b.dump(-1, ' ', false, json::error_handler_t::replace);
  if (c.final) open_.erase(c.recording_id);
}

// ---------------------------------------------------------------------------------------------
// Reading

Result<model::RecordingChunk> chunk_from_record(std::string_view body, std::string_view data) {
  const auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("recording_id") || !j.contains("chunk")) {
    return make_error(ErrorKind::kCorrupt,
                      "a recording record's body is not a recording chunk header");
  }
  model::RecordingChunk c;
  c.recording_id = jget<std::string>(j, "recording_id", "");
  c.session_id = jget<std::string>(j, "session_id", "");
  c.host = jget<std::string>(j, "host", "");
  c.tty = jget<std::string>(j, "tty", "");
  c.seq = jget<uint64_t>(j, "chunk", 0);
  c.first_wall_ns = jget<uint64_t>(j, "first_wall_ns", 0);
  c.last_wall_ns = jget<uint64_t>(j, "last_wall_ns", 0);
  c.frames = jget<uint32_t>(j, "frames", 0);
  c.raw_bytes = jget<uint32_t>(j, "raw_bytes", 0);
  c.final = jget<bool>(j, "final", false);
  c.data.assign(data);
  return c;
}

Result<RecordingRetention> recording_retention(const Store& st) {
  auto q = Stmt::prepare(st.db(),
                         "SELECT seq, body FROM records WHERE kind = ? AND name = 'recording' "
                         "ORDER BY seq DESC LIMIT 1");
  if (!q) return q.error();
  q->bind(1, static_cast<int64_t>(RecordKind::kTombstone));
  RecordingRetention out;
  const int rc = q->step();
  if (rc == SQLITE_ROW) {
    out.tombstone_seq = static_cast<uint64_t>(q->int64(0));
    out.before_ns =
        jget<uint64_t>(json::parse(q->text(1), nullptr, false), "before_ns", uint64_t{0});
  } else if (rc != SQLITE_DONE) {
    return sqlite_error(st.db(), rc, "read recording tombstones");
  }
  return out;
}

namespace {

// Why `id` has no chunk in the store.
Error not_in_store(const Store& st, const std::string& id) {
  auto ret = recording_retention(st);
  if (!ret) return ret.error();
  Error e =
      make_error(ErrorKind::kNotFound, "no recording of session {} in the store {}", id, st.path());
  e.hint = "check the session id (privwatch replay --list shows the recordings kept)";
  if (ret->tombstone_seq == 0) return e;
  // When did the session happen? Its other records (session versions, events, alerts) may
  // still be there.
  const std::string session = id.substr(0, id.find('.'));
  auto q = Stmt::prepare(st.db(), fmt::format("SELECT max(ts) FROM (SELECT r.ts AS ts FROM {} AND "
                                              "r.kind != ?3 UNION ALL SELECT ts FROM records "
                                              "WHERE ref = ?2 AND kind != ?3)",
                                              kSessionRecordsFrom));
  uint64_t last_seen = 0;
  const std::string match = session_match(session, st.schema_version());
  if (q) {
    q->bind_text(1, match);
    q->bind_text(2, session);
    q->bind(3, kRecordingKind);
    if (q->step() == SQLITE_ROW && !q->is_null(0)) last_seen = static_cast<uint64_t>(q->int64(0));
  }
  const std::string when = util::format_rfc3339_ns(ret->before_ns);
  if (last_seen != 0 && last_seen < ret->before_ns) {
    e.message = fmt::format(
        "the recording of session {} {}: recordings older than {} were pruned "
        "(store.retention.recording; signed tombstone record {} in {}); the session's other "
        "records are still there",
        id, kRemovedByRetention, when, ret->tombstone_seq, st.path());
    e.hint = "recordings are kept for store.retention.recording (docs/store.md#retention)";
  } else if (last_seen == 0) {
    e.message = fmt::format(
        "no recording of session {} in the store {}; recordings older than {} were removed by "
        "retention (signed tombstone record {}): if the session is older, its recording is gone",
        id, st.path(), when, ret->tombstone_seq);
  }
  return e;
}

}  // namespace

Result<std::unique_ptr<StoreChunkReader>> StoreChunkReader::open(const std::string& db_path,
                                                                 std::string recording_id) {
  auto st = Store::open_reader(db_path);
  if (!st) return st.error();
  auto first = Stmt::prepare((*st)->db(),
                             "SELECT seq, ts, body FROM records WHERE ref = ? AND kind = ? "
                             "ORDER BY seq LIMIT 1");
  if (!first) return first.error();
  first->bind_text(1, recording_id);
  first->bind(2, kRecordingKind);
  const int rc = first->step();
  if (rc == SQLITE_DONE) return not_in_store(**st, recording_id);
  if (rc != SQLITE_ROW) return sqlite_error((*st)->db(), rc, "read a recording");
  BodyDecoder decoder((*st)->db());
  const auto head = json::parse(body_text(*first, 2, decoder), nullptr, false);
  const uint64_t first_chunk = head.is_object() ? jget<uint64_t>(head, "chunk", 0) : 0;
  const uint64_t first_ts = static_cast<uint64_t>(first->int64(1));
  const uint64_t start = head.is_object() ? jget<uint64_t>(head, "start_wall_ns", first_ts) : 0;
  first->finalize();

  auto next = Stmt::prepare((*st)->db(),
                            "SELECT seq, body, data FROM records WHERE ref = ? AND kind = ? AND "
                            "seq > ? ORDER BY seq LIMIT 1");
  if (!next) return next.error();
  auto r = std::unique_ptr<StoreChunkReader>(
      new StoreChunkReader(std::move(*st), std::move(recording_id), std::move(*next)));
  if (first_chunk != 0) {
    auto ret = recording_retention(*r->store_);
    if (!ret) return ret.error();
    // Retention removes the oldest records first: the head of a long recording goes first.
    // (A head deleted any other way is left to the chunk check, and to verify.)
    if (ret->tombstone_seq != 0 && start < ret->before_ns) {
      r->removed_head_ = first_chunk;
      r->notice_ = fmt::format(
          "the first {} chunks of this recording (before {}) were removed by retention "
          "(store.retention.recording; signed tombstone record {})",
          first_chunk, util::format_rfc3339_ns(ret->before_ns), ret->tombstone_seq);
    }
  }
  return r;
}

Result<std::optional<model::RecordingChunk>> StoreChunkReader::next() {
  next_.bind_text(1, id_);
  next_.bind(2, kRecordingKind);
  next_.bind(3, static_cast<int64_t>(after_seq_));
  const int rc = next_.step();
  if (rc == SQLITE_DONE) {
    next_.reset();
    return std::optional<model::RecordingChunk>{};
  }
  if (rc != SQLITE_ROW) {
    Error e = sqlite_error(store_->db(), rc, "read a recording");
    next_.reset();
    return e;
  }
  const uint64_t seq = static_cast<uint64_t>(next_.int64(0));
  BodyDecoder decoder(store_->db());
  auto c = chunk_from_record(body_text(next_, 1, decoder), next_.blob(2));
  next_.reset();
  if (!c) {
    Error e = c.error();
    e.message = fmt::format("{}: record {}: {}", store_->path(), seq, e.message);
    return e;
  }
  after_seq_ = seq;
  return std::optional<model::RecordingChunk>(std::move(*c));
}

Result<std::vector<RecordingSummary>> list_recordings(const Store& st) {
  // Bodies only (the chunk bytes are not read): the header of every chunk, in store order.
  auto q = Stmt::prepare(st.db(),
                         "SELECT ref, ts, user, name, session, body FROM records WHERE kind = ? "
                         "ORDER BY seq");
  if (!q) return q.error();
  q->bind(1, kRecordingKind);
  BodyDecoder decoder(st.db());
  std::vector<RecordingSummary> out;
  std::map<std::string, size_t> index;
  int rc;
  while ((rc = q->step()) == SQLITE_ROW) {
    const std::string ref(q->text(0));
    auto [it, fresh] = index.emplace(ref, out.size());
    if (fresh) {
      out.emplace_back();
      out.back().recording_id = ref;
    }
    RecordingSummary& s = out[it->second];
    const auto j = json::parse(body_text(*q, 5, decoder), nullptr, false);
    const uint64_t ts = static_cast<uint64_t>(q->int64(1));
    if (fresh) {
      s.start_wall_ns = j.is_object() ? jget<uint64_t>(j, "start_wall_ns", ts) : ts;
      s.first_chunk = j.is_object() ? jget<uint64_t>(j, "chunk", 0) : 0;
      s.session_id = std::string(q->text(4));
      s.tty = std::string(q->text(3));
    }
    if (s.user.empty()) s.user = std::string(q->text(2));
    ++s.chunks;
    if (!j.is_object()) continue;
    s.end_wall_ns = std::max(s.end_wall_ns, jget<uint64_t>(j, "last_wall_ns", ts));
    s.commands += jget<uint64_t>(j, "commands", 0);
    if (jget<bool>(j, "final", false)) {
      s.ended = true;
      s.end_reason = jget<std::string>(j, "end_reason", "");
    }
  }
  if (rc != SQLITE_DONE) return sqlite_error(st.db(), rc, "list recordings");
  return out;
}

std::vector<ScreenHit> screen_hits(const Row& row, std::string_view query) {
  std::vector<ScreenHit> hits;
  if (row.kind != RecordKind::kRecording || row.text.empty()) return hits;
  const auto j = json::parse(row.body, nullptr, false);
  std::vector<uint64_t> offsets;
  if (j.is_object()) offsets = jget<std::vector<uint64_t>>(j, "lines_ms", {});
  const auto terms = query_terms(query);
  std::vector<ScreenHit> any;
  size_t start = 0, n = 0;
  while (start <= row.text.size()) {
    size_t end = row.text.find('\n', start);
    if (end == std::string::npos) end = row.text.size();
    const std::string_view line(row.text.data() + start, end - start);
    const double at = n < offsets.size() ? static_cast<double>(offsets[n]) / 1000.0 : 0.0;
    ++n;
    start = end + 1;
    if (terms.empty()) {
      hits.push_back({at, std::string(line)});
      continue;
    }
    const std::string l = lower(line);
    size_t found = 0;
    for (const auto& t : terms) found += l.find(t) != std::string::npos ? 1 : 0;
    if (found == terms.size()) {
      hits.push_back({at, std::string(line)});
    } else if (found > 0) {
      any.push_back({at, std::string(line)});
    }
  }
  return hits.empty() ? any : hits;
}

}  // namespace privwatch::store
