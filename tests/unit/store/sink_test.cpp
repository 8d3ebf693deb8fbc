// StoreSink: the pipeline side never blocks, drops are counted, everything accepted is
// committed and signed at close, retention runs in the writer.
#include "store/sink.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "store/query.hpp"
#include "store/sqlite.hpp"
#include "store/verify.hpp"
#include "store_test_util.hpp"

namespace privwatch::store {
namespace {

using testing::exec_event;
using testing::kSec;
using testing::TempDir;

config::StoreConfig config_in(const TempDir& dir) {
  config::StoreConfig c;
  c.path = dir / "db/privwatch.db";
  c.key_path = dir / "db/store.key";
  c.checkpoint_file = dir / "offhost/ckpt.jsonl";
  c.commit_interval_ms = 5;
  c.checkpoint_every = 100;
  return c;
}

// The queue is bounded in memory too (store.queue_max_mb): large records offered faster than
// the encoder takes them are dropped and counted, never buffered without limit. The bound
// covers the batch the encoder has in hand as well as what waits behind it.
TEST(StoreSink, TheQueueIsBoundedInMemoryAndDropsAreCounted) {
  TempDir dir;
  auto c = config_in(dir);
  c.queue_max_mb = 1;
  auto sink = StoreSink::open(c, "app-3");
  ASSERT_TRUE(sink) << sink.error().to_string();
  const uint64_t now = wall_now_ns();
  const std::string big = "{\"message\":\"" + std::string(256 * 1024, 'x') + "\"}";
  constexpr int kOffered = 400;  // 100 MiB offered at once
  for (int i = 0; i < kOffered; ++i) {
    (*sink)->on_rendered_event(exec_event(now + i, "alice", "root", "/bin/x", {"x"}), big);
  }
  (*sink)->close();
  const auto st = (*sink)->store_stats();
  EXPECT_GT(st.dropped_queue, 0u);
  EXPECT_EQ(st.committed - st.checkpoints + st.dropped_queue, static_cast<uint64_t>(kOffered))
      << "committed " << st.committed << " checkpoints " << st.checkpoints;
  EXPECT_GT(st.queue_bytes_peak, big.size());
  EXPECT_LE(st.queue_bytes_peak, (1u << 20) + 2 * big.size());  // one item may overshoot
}

// The WAL is checkpointed by the sink's own checkpointer thread, not by the writer's commits:
// once it passes 16 MiB, its pages reach the database file while the sink keeps running.
TEST(StoreSink, TheWalIsCheckpointedInTheBackground) {
  TempDir dir;
  auto c = config_in(dir);
  c.queue_max_mb = 256;
  c.checkpoint_file.clear();
  auto sink = StoreSink::open(c, "app-3");
  ASSERT_TRUE(sink) << sink.error().to_string();
  const uint64_t now = wall_now_ns();
  const std::string words = [] {
    std::string w;
    for (int i = 0; i < 300; ++i) w += "w" + std::to_string(i * 7919) + " ";
    return w;
  }();
  for (int i = 0; i < 12000; ++i) {
    (*sink)->on_event(
        exec_event(now + i, "alice", "root", "/bin/x", {"x", std::to_string(i), words}));
  }
  struct stat db {};
  bool checkpointed = false;
  for (int i = 0; i < 200 && !checkpointed; ++i) {  // up to 20 s on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    checkpointed = (*sink)->store_stats().wal_checkpoints > 0 &&
                   ::stat((dir / "db/privwatch.db").c_str(), &db) == 0 && db.st_size > (8 << 20);
  }
  EXPECT_TRUE(checkpointed) << "checkpoints " << (*sink)->store_stats().wal_checkpoints
                            << ", database file " << db.st_size << " bytes";
  (*sink)->close();
  EXPECT_EQ((*sink)->store_stats().dropped_queue + (*sink)->store_stats().dropped_write, 0u);
  auto rep = verify_store(dir / "db/privwatch.db", {});
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok()) << format_report(*rep);
}

// What the pipeline queues for an event (PackedEvent: one buffer) becomes the same record as
// encoding the event directly: every indexed field, the flags, the full text and the body.
TEST(StoreSink, APackedEventUnpacksToTheRecordOfTheEvent) {
  auto ev = exec_event(wall_now_ns(), "alice", "root", "/usr/bin/psql", {"psql", "-c", "select 1"});
  ev.attr.roles = {"dba", "oncall"};
  ev.attr.drift = 1;
  ev.flags |= model::kFlagSensitive;
  model::Event other_host = ev;
  other_host.attr.host.clear();  // the sink's host name then
  model::Event no_session = ev;
  no_session.attr.session.reset();
  no_session.attr.roles.clear();
  for (const auto* e : {&ev, &other_host, &no_session}) {
    Record want;
    encode_event(*e, "sink-host", want, "{\"rendered\":1}");
    PackedEvent p;
    pack_event(*e, "sink-host", "{\"rendered\":1}", p);
    EXPECT_EQ(p.part(PackedEvent::kBody), "{\"rendered\":1}");
    Record got;
    got.roles = {"stale"};  // records are reused: nothing of the last one may remain
    got.text = "stale";
    unpack_event_fields(p, got);
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_EQ(got.wall_ns, want.wall_ns);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.host, want.host);
    EXPECT_EQ(got.user, want.user);
    EXPECT_EQ(got.human, want.human);
    EXPECT_EQ(got.session, want.session);
    EXPECT_EQ(got.cluster, want.cluster);
    EXPECT_EQ(got.roles, want.roles);
    EXPECT_EQ(got.flags, want.flags);
    EXPECT_EQ(got.text, want.text);
    EXPECT_TRUE(got.body.empty());  // the body is compressed from the queue item by the caller
  }
  // Not rendered by the pipeline (on_event): rendered when packed, with the same host.
  Record want;
  encode_event(other_host, "sink-host", want);
  PackedEvent p;
  pack_event(other_host, "sink-host", {}, p);
  EXPECT_EQ(p.part(PackedEvent::kBody), want.body);
  EXPECT_EQ(p.part(PackedEvent::kHost), "sink-host");
}

TEST(StoreSink, CommitsEverythingAndSignsTheHeadAtClose) {
  TempDir dir;
  ASSERT_EQ(::mkdir((dir / "offhost").c_str(), 0700), 0);
  auto sink = StoreSink::open(config_in(dir), "app-3");
  ASSERT_TRUE(sink) << sink.error().to_string();
  const uint64_t now = wall_now_ns();
  for (int i = 0; i < 1000; ++i) {
    (*sink)->on_event(exec_event(now + i, "alice", "root", "/bin/x", {"x", std::to_string(i)}));
  }
  model::Alert a;
  a.id = "a1";
  a.wall_ns = now;
  a.rule = "r";
  a.title = "t";
  (*sink)->on_alert(a);
  model::Session s;
  s.id = "s-1";
  s.start_wall_ns = now;
  (*sink)->on_session(s);
  model::Escalation esc;
  esc.wall_ns = now;
  esc.session_id = "s-1";
  esc.method = model::EscalationMethod::kSudo;
  esc.from_user = "alice";
  esc.to_user = "root";
  esc.human = "alice";
  esc.tool = "/usr/bin/sudo";
  esc.tool_args = {"sudo", "-i"};
  (*sink)->on_escalation(esc);
  Record rec;
  rec.kind = RecordKind::kRecording;
  rec.name = "tty";
  rec.session = "s-1";
  rec.data = std::string("\x28\xb5\x2f\xfd\x00binary\0data", 17);
  (*sink)->append(rec);
  (*sink)->close();
  const auto st = (*sink)->store_stats();
  EXPECT_EQ(st.queued, 1004u);
  EXPECT_EQ(st.dropped_queue, 0u);
  EXPECT_EQ(st.dropped_write, 0u);
  // 1003 records + one checkpoint per 100 + the closing checkpoint.
  EXPECT_EQ(st.committed, st.head_seq);
  EXPECT_GE(st.checkpoints, 10u);
  EXPECT_EQ(st.head_seq, 1004u + st.checkpoints);
  EXPECT_EQ(st.offhost_sent, st.checkpoints);

  VerifyOptions o;
  o.checkpoint_files = {dir / "offhost/ckpt.jsonl"};
  auto rep = verify_store(dir / "db/privwatch.db", o);
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok()) << format_report(*rep);
  EXPECT_EQ(rep->last_signed_seq + 1, rep->last_seq);  // the closing checkpoint covers all
  EXPECT_EQ(rep->offhost_checkpoints, st.checkpoints);

  auto reader = Store::open_reader(dir / "db/privwatch.db");
  ASSERT_TRUE(reader);
  SearchFilter e;
  e.kind = "escalation";
  e.user = "alice";
  auto escs = search(**reader, e);
  ASSERT_TRUE(escs);
  ASSERT_EQ(escs->size(), 1u);
  EXPECT_EQ((*escs)[0].name, "sudo");
  EXPECT_EQ((*escs)[0].user, "root");
  EXPECT_NE((*escs)[0].body.find("privilege-escalation"), std::string::npos) << (*escs)[0].body;
  SearchFilter f;
  f.kind = "recording";
  auto rows = search(**reader, f);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  auto blob = Stmt::prepare((*reader)->db(), "SELECT data FROM records WHERE kind = 5");
  ASSERT_TRUE(blob);
  ASSERT_EQ(blob->step(), SQLITE_ROW);
  EXPECT_EQ(blob->blob(0), rec.data);
}

// The encoder thread compresses and has the dictionary trained off its path; the dictionary
// travels with the first record that uses it, so what the writer commits decodes, verifies and is
// searchable.
TEST(StoreSink, BodiesCompressedAheadOfTheWriterVerifyAndSearch) {
  TempDir dir;
  ASSERT_EQ(::mkdir((dir / "offhost").c_str(), 0700), 0);
  const uint64_t now = wall_now_ns();
  size_t n = 0;  // events offered
  {
    auto c = config_in(dir);
    c.queue_max_mb = 64;  // the whole burst is kept (4,096 events offered at once)
    auto sink = StoreSink::open(c, "app-3");
    ASSERT_TRUE(sink) << sink.error().to_string();
    auto offer = [&] {
      (*sink)->on_event(exec_event(now + n, n % 2 ? "alice" : "bob", "root", "/usr/bin/tool",
                                   {"tool", "item" + std::to_string(n)}));
      ++n;
    };
    while (n < BodyEncoder::kTrainSamples) offer();
    // The dictionary trains on a thread of its own while bodies are stored plain: events go on
    // (one every 50 ms) until a compressed one is committed, then 300 more, all compressed.
    auto blobs = [&] {
      auto rd = Store::open_reader(dir / "db/privwatch.db");
      if (!rd) return int64_t{0};
      auto q = Stmt::prepare((*rd)->db(), "SELECT count(*) FROM records WHERE typeof(body)='blob'");
      return q && q->step() == SQLITE_ROW ? q->int64(0) : int64_t{0};
    };
    for (int t = 0; t < 600 && blobs() == 0; ++t) {  // 30 s at most
      offer();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (int k = 0; k < 300; ++k) offer();
    (*sink)->close();
    EXPECT_EQ((*sink)->store_stats().dropped_queue + (*sink)->store_stats().dropped_write, 0u);
  }
  auto rd = Store::open_reader(dir / "db/privwatch.db");
  ASSERT_TRUE(rd);
  auto q = Stmt::prepare((*rd)->db(),
                         "SELECT count(*), (SELECT count(*) FROM dicts) FROM records WHERE "
                         "typeof(body) = 'blob'");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->step(), SQLITE_ROW);
  EXPECT_GT(q->int64(0), 200);
  EXPECT_EQ(q->int64(1), 1);
  SearchFilter f;
  f.text = "item" + std::to_string(n - 1);
  const bool odd = (n - 1) % 2 != 0;  // odd events are alice's
  f.user = odd ? "alice" : "bob";
  auto rows = search(**rd, f);
  ASSERT_TRUE(rows) << rows.error().to_string();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE((*rows)[0].body.find("item" + std::to_string(n - 1)), std::string::npos);
  f.user = odd ? "bob" : "alice";  // the word exists, the filter excludes it
  rows = search(**rd, f);
  ASSERT_TRUE(rows);
  EXPECT_TRUE(rows->empty());
  VerifyOptions o;
  o.checkpoint_files = {dir / "offhost/ckpt.jsonl"};
  auto rep = verify_store(dir / "db/privwatch.db", o);
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok()) << format_report(*rep);
  EXPECT_GT(rep->records, n);  // the events, checkpoints included
  EXPECT_EQ(rep->records, rep->last_seq);
}

TEST(StoreSink, AFullQueueDropsAndCountsWithoutBlocking) {
  TempDir dir;
  auto cfg = config_in(dir);
  cfg.queue_size = 1024;
  cfg.queue_max_mb = 4096;         // the count bound here (the byte bound also wakes the encoder)
  cfg.commit_interval_ms = 60000;  // the encoder only wakes for a full batch (8192) or close
  auto sink = StoreSink::open(cfg, "h");
  ASSERT_TRUE(sink);
  const auto ev = exec_event(wall_now_ns(), "alice", "alice", "/bin/x", {"x"});
  for (int i = 0; i < 3000; ++i) (*sink)->on_event(ev);
  (*sink)->close();
  const auto st = (*sink)->store_stats();
  EXPECT_EQ(st.queued, 1024u);
  EXPECT_EQ(st.dropped_queue, 3000u - 1024u);
  EXPECT_EQ(st.committed, 1024u + st.checkpoints);
}

TEST(StoreSink, RetentionRunsAtStartAndLeavesAVerifiableChain) {
  TempDir dir;
  auto cfg = config_in(dir);
  cfg.checkpoint_file.clear();
  {
    auto sink = StoreSink::open(cfg, "h");
    ASSERT_TRUE(sink);
    const uint64_t now = wall_now_ns();
    for (int i = 0; i < 50; ++i) {
      (*sink)->on_event(exec_event(now - 3 * 86400 * kSec, "alice", "alice", "/bin/old", {"x"}));
    }
    (*sink)->on_event(exec_event(now, "alice", "alice", "/bin/new", {"x"}));
    model::Alert a;
    a.id = "old-alert";
    a.wall_ns = now - 3 * 86400 * kSec;
    (*sink)->on_alert(a);
    (*sink)->close();
  }
  cfg.retention.event_s = 86400;  // events: 1 day; alerts: 7 years
  auto sink = StoreSink::open(cfg, "h");
  ASSERT_TRUE(sink);
  for (int i = 0; i < 200 && (*sink)->store_stats().pruned < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (*sink)->close();
  EXPECT_EQ((*sink)->store_stats().pruned, 50u);
  auto rep = verify_store(cfg.path, {});
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok()) << format_report(*rep);
  EXPECT_EQ(rep->pruned, 50u);
  EXPECT_EQ(rep->tombstones, 1u);
  auto reader = Store::open_reader(cfg.path);
  ASSERT_TRUE(reader);
  SearchFilter f;
  f.kind = "event";
  auto rows = search(**reader, f);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_NE((*rows)[0].text.find("/bin/new"), std::string::npos);
  f.kind = "alert";
  rows = search(**reader, f);
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 1u);
}

TEST(StoreSink, AnUnwritableLocationIsAClearError) {
  config::StoreConfig c;
  c.path = "/proc/privwatch-cannot/privwatch.db";
  c.key_path = "/proc/privwatch-cannot/store.key";
  auto sink = StoreSink::open(c, "h");
  ASSERT_FALSE(sink);
  EXPECT_NE(sink.error().message.find("/proc/privwatch-cannot"), std::string::npos)
      << sink.error().message;
  EXPECT_FALSE(sink.error().hint.empty());
}

}  // namespace
}  // namespace privwatch::store
