// Session recordings in the store: chunks from the real recorder go through the real StoreSink
// into records of kind recording; they come back as the same frames (replay, watch), their
// screen text is searchable with the session and the offset, they are chained (a flipped byte
// in a stored chunk is named by verify) and pruned by retention with a signed tombstone, after
// which the reader says the recording was removed by retention.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "session/recording.hpp"
#include "session/replay.hpp"
#include "store/query.hpp"
#include "store/recordings.hpp"
#include "store/sink.hpp"
#include "store/verify.hpp"
#include "store_test_util.hpp"

namespace privwatch::store {
namespace {

using testing::kSec;
using testing::TempDir;

constexpr uint64_t kMs = 1'000'000ull;
constexpr uint32_t kPts3 = (136u << 20) | 3;

config::StoreConfig config_in(const TempDir& dir) {
  config::StoreConfig c;
  c.path = dir / "db/privwatch.db";
  c.key_path = dir / "db/store.key";
  c.commit_interval_ms = 5;
  c.checkpoint_every = 100;
  return c;
}

// Terminal events of one session, fed to a real Recorder whose chunks are kept.
class Terminal {
 public:
  Terminal(std::string session_id, uint64_t t0, uint32_t chunk_bytes = 65536) : t0_(t0) {
    session_ = std::make_shared<model::Session>();
    session_->id = std::move(session_id);
    session_->user = "alice";
    session_->human = "alice";
    session_->entry_type = model::EntryType::kSsh;
    session::RecorderOptions o;
    o.host = "db-3";
    o.chunk_bytes = chunk_bytes;
    o.flush_ms = 1000;
    rec_ = std::make_unique<session::Recorder>(
        o, [this](const model::RecordingChunk& c) { chunks.push_back(c); },
        [this] { return mono_; });
  }
  void out(std::string data, uint64_t at_ms) { tty(model::TtyOp::kOutput, std::move(data), at_ms); }
  void in(std::string data, uint64_t at_ms, uint32_t flags = 0) {
    tty(model::TtyOp::kInput, std::move(data), at_ms, flags);
  }
  // A chunk boundary: the recorder's flush timer fires.
  void flush() {
    mono_ += 2000 * kMs;
    rec_->tick();
  }
  void end(uint64_t at_ms) {
    session_->end_wall_ns = t0_ + at_ms * kMs;
    rec_->session_changed(*session_);
  }
  [[nodiscard]] const std::string& id() const { return session_->id; }

  std::vector<model::RecordingChunk> chunks;

 private:
  void tty(model::TtyOp op, std::string data, uint64_t at_ms, uint32_t flags = 0) {
    model::Event ev;
    ev.kind = model::EventKind::kTty;
    ev.wall_time_ns = t0_ + at_ms * kMs;
    ev.proc.pid = 4242;
    ev.proc.comm = "bash";
    ev.attr.session = session_;
    model::TtyData t;
    t.op = op;
    t.flags = flags;
    t.dev = kPts3;
    t.tty = "pts3";
    t.rows = 24;
    t.cols = 80;
    t.oflag = model::kTtyOpost | model::kTtyOnlcr;
    t.result = static_cast<int64_t>(data.size());
    if (!(flags & model::kTtyEchoOff)) t.data = std::move(data);
    ev.data = std::move(t);
    rec_->process(ev);
  }

  uint64_t t0_;
  uint64_t mono_ = 0;
  std::shared_ptr<model::Session> session_;
  std::unique_ptr<session::Recorder> rec_;
};

// Frames straight from the recorder's chunks (what replay showed from files).
std::vector<session::Frame> frames_of(const std::vector<model::RecordingChunk>& chunks) {
  std::vector<session::Frame> out;
  for (const auto& c : chunks) {
    auto raw = session::decompress(c);
    EXPECT_TRUE(raw);
    auto f = session::decode_frames(*raw);
    EXPECT_TRUE(f);
    for (auto& fr : *f) out.push_back(std::move(fr));
  }
  return out;
}

void store_all(const config::StoreConfig& cfg, const std::vector<model::RecordingChunk>& chunks,
               const model::Session* session = nullptr) {
  auto sink = StoreSink::open(cfg, "db-3");
  ASSERT_TRUE(sink) << sink.error().to_string();
  if (session != nullptr) (*sink)->on_session(*session);
  for (const auto& c : chunks) (*sink)->on_recording_chunk(c);
  (*sink)->close();
  EXPECT_EQ((*sink)->store_stats().dropped_queue, 0u);
  EXPECT_EQ((*sink)->store_stats().dropped_write, 0u);
}

Result<std::vector<session::Frame>> replay_from_store(const std::string& db, const std::string& id,
                                                      std::string* notice = nullptr) {
  auto r = StoreChunkReader::open(db, id);
  if (!r) return r.error();
  if (notice != nullptr) *notice = (*r)->notice();
  return session::read_all_frames(**r);
}

TEST(RecordingStore, ChunksComeBackAsTheSameFramesAndRecordsCarryTheSession) {
  TempDir dir;
  const auto cfg = config_in(dir);
  Terminal t("b00t-100-200", testing::kT0);
  t.out("$ ", 0);
  t.in("ls\r", 500);
  t.out("ls\r\nfile-a  file-b\r\n$ ", 600);
  t.flush();
  t.in("secret-typed-with-echo-off\n", 900, model::kTtyEchoOff);
  t.out("done\r\n", 1000);
  t.end(2000);
  ASSERT_EQ(t.chunks.size(), 2u);
  store_all(cfg, t.chunks);

  auto frames = replay_from_store(cfg.path, t.id());
  ASSERT_TRUE(frames) << frames.error().to_string();
  const auto expected = frames_of(t.chunks);
  ASSERT_EQ(frames->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*frames)[i].type, expected[i].type) << i;
    EXPECT_EQ((*frames)[i].wall_ns, expected[i].wall_ns) << i;
    EXPECT_EQ((*frames)[i].data, expected[i].data) << i;
  }
  const auto info = session::recording_info(*frames);
  EXPECT_TRUE(info.ended);
  EXPECT_EQ(info.end_reason, "session_end");
  EXPECT_EQ(info.gaps, 1u);  // the hidden input is a gap, its bytes are nowhere

  // The records: one per chunk, indexed by recording, session, user, tty; bytes as produced.
  auto st = Store::open_reader(cfg.path);
  ASSERT_TRUE(st);
  auto q = Stmt::prepare((*st)->db(),
                         "SELECT ref, session, user, human, name, host, body, data FROM records "
                         "WHERE kind = 5 ORDER BY seq");
  ASSERT_TRUE(q);
  size_t n = 0;
  while (q->step() == SQLITE_ROW) {
    ASSERT_LT(n, t.chunks.size());
    const auto& c = t.chunks[n];
    EXPECT_EQ(q->text(0), t.id());
    EXPECT_EQ(q->text(1), t.id());
    EXPECT_EQ(q->text(2), "alice");
    EXPECT_EQ(q->text(3), "alice");
    EXPECT_EQ(q->text(4), "pts3");
    EXPECT_EQ(q->text(5), "db-3");
    EXPECT_EQ(q->blob(7), c.data);
    // The codec: body + data give the chunk back.
    auto back = chunk_from_record(q->text(6), q->blob(7));
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->recording_id, c.recording_id);
    EXPECT_EQ(back->session_id, c.session_id);
    EXPECT_EQ(back->host, c.host);
    EXPECT_EQ(back->tty, c.tty);
    EXPECT_EQ(back->seq, c.seq);
    EXPECT_EQ(back->first_wall_ns, c.first_wall_ns);
    EXPECT_EQ(back->last_wall_ns, c.last_wall_ns);
    EXPECT_EQ(back->frames, c.frames);
    EXPECT_EQ(back->raw_bytes, c.raw_bytes);
    EXPECT_EQ(back->final, c.final);
    EXPECT_EQ(back->data, c.data);
    ++n;
  }
  EXPECT_EQ(n, t.chunks.size());
  auto list = list_recordings(**st);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].recording_id, t.id());
  EXPECT_EQ((*list)[0].chunks, 2u);
  EXPECT_TRUE((*list)[0].ended);
  EXPECT_EQ((*list)[0].end_reason, "session_end");
  EXPECT_EQ((*list)[0].user, "alice");
  EXPECT_EQ((*list)[0].start_wall_ns, testing::kT0);

  const auto rep = verify_store(cfg.path, {});
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok()) << format_report(*rep);

  auto missing = StoreChunkReader::open(cfg.path, "no-such-session");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find("no recording of session no-such-session"),
            std::string::npos)
      << missing.error().message;
}

TEST(RecordingStore, ChunkCodecRejectsABodyThatIsNotAChunkHeader) {
  EXPECT_FALSE(chunk_from_record("{\"event\":1}", "x"));
  EXPECT_FALSE(chunk_from_record("not json", "x"));
  auto c = chunk_from_record(R"({"recording_id":"r","chunk":7,"raw_bytes":3,"final":true})", "zz");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->seq, 7u);
  EXPECT_TRUE(c->final);
  EXPECT_EQ(c->data, "zz");
  // A chunk whose bytes do not decompress is refused by the replay path, not trusted.
  EXPECT_FALSE(session::decompress(*c));
}

TEST(RecordingStore, ScreenTextIsSearchableWithTheSessionAndTheOffset) {
  TempDir dir;
  const auto cfg = config_in(dir);
  Terminal t("b00t-7-8", testing::kT0);
  // Colours and a backspace correction: the bytes never hold "echo green-word".
  t.out("$ ec\x1b[1mX\x1b[0m\bho \x1b[32mgreen-word\x1b[0m\n", 0);
  t.flush();
  // A carriage-return overwrite, three seconds in, in the next chunk.
  t.out("progress 10%\rprogress 99%\n", 3000);
  t.in("hunter2-typed-hidden\n", 3500, model::kTtyEchoOff);
  t.end(4000);
  store_all(cfg, t.chunks);

  auto st = Store::open_reader(cfg.path);
  ASSERT_TRUE(st);
  SearchFilter f;
  f.kind = "recording";
  f.text = "echo green-word";
  auto rows = search(**st, f);
  ASSERT_TRUE(rows) << rows.error().to_string();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].ref, t.id());
  EXPECT_EQ((*rows)[0].session, t.id());
  auto hits = screen_hits((*rows)[0], f.text);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].line, "$ echo green-word");
  EXPECT_DOUBLE_EQ(hits[0].offset_s, 0.0);

  f.text = "99%";
  rows = search(**st, f);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  hits = screen_hits((*rows)[0], "progress 99");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].line, "progress 99%");
  EXPECT_DOUBLE_EQ(hits[0].offset_s, 3.0);

  // Overwritten on screen, or never shown: not found.
  f.text = "10%";
  rows = search(**st, f);
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->empty());
  f.text = "hunter2";
  rows = search(**st, f);
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->empty());
  // The word split by the colour escape in the raw bytes is one word on screen.
  f.text = "green*";
  f.kind.clear();
  rows = search(**st, f);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].kind, RecordKind::kRecording);
}

TEST(RecordingStore, AFlippedByteInAStoredChunkIsNamedByVerify) {
  TempDir dir;
  const auto cfg = config_in(dir);
  Terminal t("b00t-9-9", testing::kT0);
  t.out("some output that will be tampered with afterwards\r\n", 0);
  t.end(100);
  ASSERT_EQ(t.chunks.size(), 1u);
  store_all(cfg, t.chunks);  // closing checkpoints the WAL into the main file
  uint64_t seq = 0;
  {
    auto st = Store::open_reader(cfg.path);
    ASSERT_TRUE(st);
    auto q = Stmt::prepare((*st)->db(), "SELECT seq FROM records WHERE kind = 5");
    ASSERT_TRUE(q);
    ASSERT_EQ(q->step(), SQLITE_ROW);
    seq = static_cast<uint64_t>(q->int64(0));
  }
  std::string bytes;
  {
    std::ifstream f(cfg.path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  const std::string& data = t.chunks[0].data;
  const size_t at = bytes.find(data);
  ASSERT_NE(at, std::string::npos) << "the chunk's bytes are not in the database file";
  {
    std::fstream f(cfg.path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(at + data.size() / 2));
    f.put(static_cast<char>(bytes[at + data.size() / 2] ^ 0x01));
  }
  const auto rep = verify_store(cfg.path, {});
  ASSERT_TRUE(rep);
  ASSERT_FALSE(rep->ok());
  EXPECT_EQ(rep->problems[0].what, "edited") << format_report(*rep);
  EXPECT_EQ(rep->problems[0].seq, seq) << format_report(*rep);
}

TEST(RecordingStore, RetentionPrunesVerifiablyAndReplaySaysTheRecordingWasRemoved) {
  TempDir dir;
  auto cfg = config_in(dir);
  const uint64_t now = wall_now_ns();
  const uint64_t old = now - 10 * 86400 * kSec;
  // An old recording (with its session record), and one that started long ago and goes on.
  Terminal gone("b00t-1-1", old);
  gone.out("old secret output\r\n", 0);
  gone.end(1000);
  Terminal spans("b00t-2-2", old, 4096);
  spans.out("first day\r\n", 0);
  spans.flush();
  spans.out(std::string(5000, 'x') + "\r\n", 100);  // a chunk of its own (chunk_bytes)
  // ... still recording today.
  const uint64_t today_ms = (now - old) / kMs;
  spans.flush();
  spans.out("today's line\r\n", today_ms);
  spans.end(today_ms + 100);
  ASSERT_EQ(spans.chunks.size(), 3u);
  std::vector<model::RecordingChunk> chunks = gone.chunks;
  for (const auto& c : spans.chunks) chunks.push_back(c);
  model::Session s;
  s.id = "b00t-1-1";
  s.user = "alice";
  s.start_wall_ns = old;
  s.end_wall_ns = old + kSec;
  store_all(cfg, chunks, &s);

  cfg.retention.recording_s = 86400;  // recordings: one day; sessions keep their 7 years
  {
    auto sink = StoreSink::open(cfg, "db-3");
    ASSERT_TRUE(sink);
    const uint64_t expect = gone.chunks.size() + 2;  // the spanning recording's old chunks
    for (int i = 0; i < 500 && (*sink)->store_stats().pruned < expect; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    (*sink)->close();
    EXPECT_EQ((*sink)->store_stats().pruned, expect);
  }
  const auto rep = verify_store(cfg.path, {});
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok()) << format_report(*rep);
  EXPECT_EQ(rep->pruned, gone.chunks.size() + 2);
  EXPECT_EQ(rep->tombstones, 1u);

  auto r = StoreChunkReader::open(cfg.path, "b00t-1-1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(r.error().message.find("was removed by retention"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("tombstone"), std::string::npos) << r.error().message;

  // The long recording: its head is gone, the rest replays, and the reader says why.
  std::string notice;
  auto frames = replay_from_store(cfg.path, "b00t-2-2", &notice);
  ASSERT_TRUE(frames) << frames.error().to_string();
  EXPECT_NE(notice.find("first 2 chunks of this recording"), std::string::npos) << notice;
  EXPECT_NE(notice.find("removed by retention"), std::string::npos) << notice;
  const auto text = session::screen_text(*frames);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text[0].text, "today's line");
}

}  // namespace
}  // namespace privwatch::store
