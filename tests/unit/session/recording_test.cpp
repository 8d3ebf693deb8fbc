// Recording assembly, the chunk/file format and the read-back functions (asciicast, text,
// command log, search, schedule), from synthetic terminal events. The kernel side is covered
// by the SSH integration test (tests/integration/recording_test.cpp).
#include "session/recording.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "export/recording_files.hpp"
#include "session/recording_format.hpp"
#include "session/replay.hpp"

namespace privwatch::session {
namespace {

constexpr uint64_t kT0 = 1'795'000'000'000'000'000ull;  // wall ns
constexpr uint64_t kMs = 1'000'000ull;
constexpr uint32_t kPts3 = (136u << 20) | 3;

class RecorderTest : public ::testing::Test {
 protected:
  RecorderTest() {
    session_ = std::make_shared<model::Session>();
    session_->id = "b00t-100-200";
    session_->user = "alice";
    session_->human = "alice";
    session_->entry_type = model::EntryType::kSsh;
  }
  std::unique_ptr<Recorder> make(RecorderOptions o = {}) {
    o.host = "db-3";
    return std::make_unique<Recorder>(
        o, [this](const model::RecordingChunk& c) { chunks_.push_back(c); },
        [this] { return mono_; });
  }
  model::Event tty(model::TtyOp op, std::string data, uint64_t at_ms, uint32_t flags = 0,
                   int64_t result = -1, uint16_t rows = 24, uint16_t cols = 80) {
    model::Event ev;
    ev.kind = model::EventKind::kTty;
    ev.wall_time_ns = kT0 + at_ms * kMs;
    ev.proc.pid = 4242;
    ev.proc.comm = "bash";
    ev.attr.session = session_;
    model::TtyData t;
    t.op = op;
    t.flags = flags;
    t.dev = kPts3;
    t.tty = "pts3";
    t.rows = rows;
    t.cols = cols;
    t.oflag = model::kTtyOpost | model::kTtyOnlcr;
    t.result = result >= 0 ? result : static_cast<int64_t>(data.size());
    t.data = std::move(data);
    ev.data = std::move(t);
    return ev;
  }
  model::Event exec(uint32_t pid, std::vector<std::string> args, uint64_t at_ms) {
    model::Event ev;
    ev.kind = model::EventKind::kExec;
    ev.wall_time_ns = kT0 + at_ms * kMs;
    ev.proc.pid = pid;
    ev.proc.start_ns = pid * 1'000'000'000ull;
    ev.proc.tty_dev = kPts3;
    ev.user_name = "alice";
    ev.attr.session = session_;
    model::ExecData x;
    x.exe_path = "/usr/bin/" + args[0];
    x.cwd = "/home/alice";
    x.args = std::move(args);
    ev.data = std::move(x);
    return ev;
  }
  model::Event exit(uint32_t pid, int status, uint64_t at_ms) {
    model::Event ev;
    ev.kind = model::EventKind::kExit;
    ev.wall_time_ns = kT0 + at_ms * kMs;
    ev.proc.pid = pid;
    ev.proc.start_ns = pid * 1'000'000'000ull;
    ev.proc.tty_dev = kPts3;
    ev.data = model::ExitData{static_cast<uint32_t>(status << 8)};
    return ev;
  }
  std::vector<Frame> frames() {
    std::vector<Frame> out;
    uint64_t seq = 0;
    for (const auto& c : chunks_) {
      EXPECT_EQ(c.seq, seq++);
      auto raw = decompress(c);
      EXPECT_TRUE(raw) << raw.error().message;
      auto f = decode_frames(*raw);
      EXPECT_TRUE(f) << f.error().message;
      EXPECT_EQ(f->size(), c.frames);
      for (auto& fr : *f) out.push_back(std::move(fr));
    }
    return out;
  }
  void end_session(Recorder& r) {
    session_->end_wall_ns = kT0 + 60'000 * kMs;
    r.session_changed(*session_);
  }

  std::shared_ptr<model::Session> session_;
  std::vector<model::RecordingChunk> chunks_;
  uint64_t mono_ = 0;
};

TEST_F(RecorderTest, FramesInOrderWithMetaResizeGapAndEnd) {
  auto r = make();
  r->process(tty(model::TtyOp::kOutput, "$ ", 0));
  r->process(tty(model::TtyOp::kInput, "l", 100));
  r->process(tty(model::TtyOp::kOutput, "line\n", 200));
  r->process(tty(model::TtyOp::kInput, "", 300, model::kTtyEchoOff, 9));  // a password
  r->process(tty(model::TtyOp::kResize, "", 400, 0, 0, 30, 100));
  r->process(tty(model::TtyOp::kOutput, "x", 500, model::kTtyTruncated, 5000, 30, 100));
  EXPECT_TRUE(chunks_.empty()) << "nothing emitted before a chunk fills or the flush interval";
  end_session(*r);
  ASSERT_EQ(chunks_.size(), 1u);
  EXPECT_TRUE(chunks_[0].final);
  EXPECT_EQ(chunks_[0].recording_id, "b00t-100-200");
  EXPECT_EQ(chunks_[0].tty, "pts3");
  EXPECT_EQ(chunks_[0].host, "db-3");
  const auto f = frames();
  std::vector<FrameType> types;
  for (const auto& fr : f) types.push_back(fr.type);
  EXPECT_EQ(types, (std::vector<FrameType>{FrameType::kMeta, FrameType::kOutput, FrameType::kInput,
                                           FrameType::kOutput, FrameType::kGap, FrameType::kResize,
                                           FrameType::kOutput, FrameType::kGap, FrameType::kEnd}));
  EXPECT_EQ(f[3].data, "line\r\n") << "ONLCR: the terminal showed \\r\\n";
  const auto gap = nlohmann::json::parse(f[4].data);
  EXPECT_EQ(gap["reason"], "echo_off");
  EXPECT_EQ(gap["bytes"], 9);
  EXPECT_EQ(nlohmann::json::parse(f[7].data)["bytes"], 4999);
  EXPECT_EQ(nlohmann::json::parse(f[8].data)["reason"], "session_end");
  const auto info = recording_info(f);
  EXPECT_EQ(info.user, "alice");
  EXPECT_EQ(info.rows, 24);
  EXPECT_EQ(info.cols, 80);
  EXPECT_TRUE(info.ended);
  EXPECT_EQ(r->stats().gaps_echo_off, 1u);
  EXPECT_EQ(r->stats().truncated_bytes, 4999u);
  EXPECT_EQ(r->open_recordings(), 0u);
}

TEST_F(RecorderTest, HiddenInputReadByteByByteIsOneGap) {
  auto r = make();
  r->process(tty(model::TtyOp::kOutput, "Password:", 0));
  for (int i = 0; i < 6; ++i)
    r->process(tty(model::TtyOp::kInput, "", 100 + i, model::kTtyEchoOff, 1));
  r->process(tty(model::TtyOp::kOutput, "\n", 200));
  r->process(tty(model::TtyOp::kInput, "", 300, model::kTtyEchoOff, 4));  // another prompt
  end_session(*r);
  std::vector<nlohmann::json> gaps;
  for (const auto& fr : frames()) {
    if (fr.type == FrameType::kGap) gaps.push_back(nlohmann::json::parse(fr.data));
  }
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0]["bytes"], 6);
  EXPECT_EQ(gaps[1]["bytes"], 4);
  EXPECT_EQ(r->stats().gaps_echo_off, 2u);
}

TEST_F(RecorderTest, ChunksBySizeAndByTime) {
  RecorderOptions o;
  o.chunk_bytes = 4096;
  o.flush_ms = 1000;
  auto r = make(o);
  for (int i = 0; i < 100; ++i) r->process(tty(model::TtyOp::kOutput, std::string(100, 'a'), i));
  EXPECT_GE(chunks_.size(), 2u) << "10 KB of output in 4 KB chunks";
  const size_t by_size = chunks_.size();
  r->process(tty(model::TtyOp::kOutput, "tail", 200));
  mono_ = 500 * kMs;
  r->tick();
  EXPECT_EQ(chunks_.size(), by_size) << "younger than flush_ms";
  mono_ = 2000 * kMs;
  r->tick();
  ASSERT_EQ(chunks_.size(), by_size + 1);
  EXPECT_FALSE(chunks_.back().final);
  std::string all;
  for (const auto& fr : frames()) {
    if (fr.type == FrameType::kOutput) all += fr.data;
  }
  EXPECT_EQ(all, std::string(10000, 'a') + "tail");
}

TEST_F(RecorderTest, NestedSessionOnTheSameTerminalStaysInOneRecording) {
  auto r = make();
  r->process(tty(model::TtyOp::kOutput, "alice$ ", 0));
  auto nested = std::make_shared<model::Session>();
  nested->id = "b00t-300-400";
  nested->parent_id = session_->id;
  auto ev = tty(model::TtyOp::kOutput, "root# ", 10);
  ev.attr.session = nested;
  r->process(ev);
  nested->end_wall_ns = kT0 + 20 * kMs;
  r->session_changed(*nested);
  EXPECT_EQ(r->open_recordings(), 1u) << "the nested session's end does not end the recording";
  end_session(*r);
  std::string all;
  for (const auto& fr : frames()) {
    if (fr.type == FrameType::kOutput) all += fr.data;
  }
  EXPECT_EQ(all, "alice$ root# ");
}

TEST_F(RecorderTest, CommandLogWithExitCodeAndDuration) {
  auto r = make();
  r->process(tty(model::TtyOp::kOutput, "$ ", 0));
  r->process(exec(500, {"ls", "-l", "/etc"}, 1000));
  r->process(tty(model::TtyOp::kOutput, "total 0\n", 1100));
  r->process(exit(500, 2, 1250));
  r->process(exec(501, {"sleep", "9"}, 2000));
  auto other = exec(502, {"cron-job"}, 2100);
  other.proc.tty_dev = 0;  // not on the terminal: not a command of the recording
  r->process(other);
  end_session(*r);
  auto cmds = command_log(frames());
  ASSERT_TRUE(cmds);
  ASSERT_EQ(cmds->size(), 2u);
  EXPECT_EQ((*cmds)[0].args, (std::vector<std::string>{"ls", "-l", "/etc"}));
  EXPECT_EQ((*cmds)[0].cwd, "/home/alice");
  EXPECT_TRUE((*cmds)[0].ended);
  EXPECT_EQ((*cmds)[0].exit_code, 2);
  EXPECT_EQ((*cmds)[0].duration_ns, 250 * kMs);
  EXPECT_DOUBLE_EQ((*cmds)[0].offset_s, 1.0);
  EXPECT_FALSE((*cmds)[1].ended);
}

TEST_F(RecorderTest, MaxOpenEvictsTheLeastRecentlyWritten) {
  RecorderOptions o;
  o.max_open = 1;
  auto r = make(o);
  r->process(tty(model::TtyOp::kOutput, "one", 0));
  auto ev = tty(model::TtyOp::kOutput, "two", 10);
  std::get<model::TtyData>(ev.data).dev = kPts3 + 1;
  std::get<model::TtyData>(ev.data).tty = "pts4";
  r->process(ev);
  EXPECT_EQ(r->stats().evictions, 1u);
  ASSERT_EQ(chunks_.size(), 1u);
  EXPECT_TRUE(chunks_[0].final);
  EXPECT_EQ(chunks_[0].tty, "pts3");
  auto f = frames();
  EXPECT_EQ(nlohmann::json::parse(f.back().data)["reason"], "evicted");
}

TEST_F(RecorderTest, AsciicastIsValidV2WithMarkersAndSplitUtf8) {
  auto r = make();
  r->process(tty(model::TtyOp::kOutput, "\x1b[31mred\x1b[0m caf\xc3", 0));  // é split
  r->process(tty(model::TtyOp::kOutput, "\xa9\n", 250));
  r->process(tty(model::TtyOp::kInput, "", 500, model::kTtyEchoOff, 7));
  r->process(tty(model::TtyOp::kResize, "", 750, 0, 0, 40, 120));
  r->process(tty(model::TtyOp::kOutput, "bad \xff byte", 1000, 0, -1, 40, 120));
  end_session(*r);
  std::istringstream in(to_asciicast(frames()));
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const auto header = nlohmann::json::parse(line);
  EXPECT_EQ(header["version"], 2);
  EXPECT_EQ(header["width"], 80);
  EXPECT_EQ(header["height"], 24);
  std::vector<nlohmann::json> events;
  while (std::getline(in, line)) events.push_back(nlohmann::json::parse(line));  // throws if bad
  ASSERT_EQ(events.size(), 5u);
  double prev = 0;
  for (const auto& e : events) {
    ASSERT_TRUE(e.is_array());
    ASSERT_EQ(e.size(), 3u);
    EXPECT_GE(e[0].get<double>(), prev);
    prev = e[0].get<double>();
  }
  EXPECT_EQ(events[0][1], "o");
  EXPECT_EQ(events[0][2], "\x1b[31mred\x1b[0m caf") << "the incomplete é waits for its end";
  EXPECT_EQ(events[1][2], "\xc3\xa9\r\n");
  EXPECT_EQ(events[2][1], "m");
  EXPECT_NE(events[2][2].get<std::string>().find("echo off"), std::string::npos);
  EXPECT_EQ(events[3][1], "r");
  EXPECT_EQ(events[3][2], "120x40");
  EXPECT_EQ(events[4][2], "bad \xef\xbf\xbd byte");
  EXPECT_DOUBLE_EQ(events[4][0].get<double>(), 1.0);
}

TEST_F(RecorderTest, TextAndSearchAfterEscapeProcessing) {
  auto r = make();
  // Colours, a backspace correction, a carriage-return overwrite.
  r->process(tty(model::TtyOp::kOutput, "$ ec\x1b[1mX\x1b[0m\bho \x1b[32mgreen-word\x1b[0m\n", 0));
  r->process(tty(model::TtyOp::kOutput, "progress 10%\rprogress 99%\n", 3000));
  end_session(*r);
  const auto f = frames();
  const auto text = screen_text(f);
  ASSERT_EQ(text.size(), 2u);
  EXPECT_EQ(text[0].text, "$ echo green-word");
  EXPECT_EQ(text[1].text, "progress 99%");
  const auto hits = search(f, "ECHO GREEN");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_DOUBLE_EQ(hits[0].offset_s, 0.0);
  const auto later = search(f, "99%");
  ASSERT_EQ(later.size(), 1u);
  EXPECT_DOUBLE_EQ(later[0].offset_s, 3.0);
  EXPECT_TRUE(search(f, "10%").empty()) << "overwritten on screen";
}

TEST_F(RecorderTest, ScheduleHonoursSpeedIdleLimitAndFrom) {
  auto r = make();
  r->process(tty(model::TtyOp::kOutput, "a", 0));
  r->process(tty(model::TtyOp::kOutput, "b", 2000));
  r->process(tty(model::TtyOp::kOutput, "c", 62000));
  end_session(*r);
  const auto f = frames();
  auto s = play_schedule(f, {2.0, 0, 0});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].delay_ns, 1000 * kMs);
  EXPECT_EQ(s[2].delay_ns, 30000 * kMs);
  s = play_schedule(f, {1.0, 0.5, 0});
  EXPECT_EQ(s[2].delay_ns, 500 * kMs);
  s = play_schedule(f, {1.0, 0, 10});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].data, "ab");
  EXPECT_EQ(s[0].delay_ns, 0u);
  EXPECT_EQ(s[1].delay_ns, 60000 * kMs);
}

TEST(RecordingFormat, OffsetsParseAndFormat) {
  EXPECT_DOUBLE_EQ(parse_offset("90"), 90);
  EXPECT_DOUBLE_EQ(parse_offset("1:30"), 90);
  EXPECT_DOUBLE_EQ(parse_offset("1:02:03"), 3723);
  EXPECT_DOUBLE_EQ(parse_offset("1m30s"), 90);
  EXPECT_DOUBLE_EQ(parse_offset("2.5"), 2.5);
  EXPECT_LT(parse_offset("abc"), 0);
  EXPECT_LT(parse_offset("1:"), 0);
  EXPECT_EQ(format_offset(62.5), "01:02.500");
  EXPECT_EQ(format_offset(3723), "1:02:03.000");
}

TEST(RecordingFormat, CorruptInputIsRejectedNotTrusted) {
  EXPECT_FALSE(decode_frames(std::string("\x02\x01\x02", 3)));
  std::string bad;
  append_frame(bad, FrameType::kOutput, 1, "x");
  bad[0] = 42;
  EXPECT_FALSE(decode_frames(bad));
  model::RecordingChunk c;
  c.raw_bytes = 10;
  c.data = "not zstd";
  EXPECT_FALSE(decompress(c));
  c.raw_bytes = kMaxChunkRawBytes + 1;
  EXPECT_FALSE(decompress(c));
  std::string enc = encode_chunk(c);
  EXPECT_FALSE(decode_chunk(enc.substr(0, enc.size() - 1)));
  EXPECT_TRUE(decode_chunk(enc));
}

TEST_F(RecorderTest, FilesSinkWritesWhatTheReaderReadsBackIncludingALiveTail) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("pwrec-test-" + std::to_string(getpid())))
          .string();
  std::filesystem::remove_all(dir);
  auto files = exporter::RecordingFiles::open(dir + "/nested/dir");
  ASSERT_TRUE(files) << files.error().message;
  auto r = std::make_unique<Recorder>(
      RecorderOptions{"db-3", 4096, 1000, 16},
      [&](const model::RecordingChunk& c) { (*files)->on_recording_chunk(c); },
      [this] { return mono_; });
  for (int i = 0; i < 50; ++i) r->process(tty(model::TtyOp::kOutput, std::string(200, 'z'), i));
  (*files)->close();  // drains the queue
  const std::string path = recording_path(dir + "/nested/dir", "b00t-100-200");
  auto reader = FileChunkReader::open(path);
  ASSERT_TRUE(reader) << reader.error().message;
  auto frames_now = read_all_frames(**reader);
  ASSERT_TRUE(frames_now);
  size_t bytes = 0;
  for (const auto& fr : *frames_now) bytes += fr.type == FrameType::kOutput ? fr.data.size() : 0;
  EXPECT_GT(bytes, 0u);
  EXPECT_LT(bytes, 10000u) << "the last partial chunk was not written yet";
  // A half-written record at the end is not an error: the reader waits for the rest.
  {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f.write("\x40\x00\x00\x00partial", 11);
  }
  auto again = FileChunkReader::open(path);
  ASSERT_TRUE(again);
  EXPECT_TRUE(read_all_frames(**again));
  EXPECT_EQ((*files)->file_stats().write_errors, 0u);
  EXPECT_EQ((*files)->file_stats().dropped, 0u);
  auto missing = FileChunkReader::open(dir + "/none.pwrec");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace privwatch::session
