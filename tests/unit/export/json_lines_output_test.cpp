// JSON lines output: buffering, rotation, write errors.
#include "export/json_lines_output.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace privwatch::exporter {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "privwatch-jsonl-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// An event whose process.pid carries a sequence number, with a payload of some size.
model::Event numbered_event(uint32_t seq) {
  model::Event ev;
  ev.kind = model::EventKind::kExec;
  ev.syscall = 59;
  ev.ts_ns = 1'000'000'000ull;
  ev.wall_time_ns = 1'800'000'000'000'000'000ull;
  ev.proc.pid = seq;
  ev.proc.tid = seq;
  ev.proc.comm = "worker";
  model::ExecData d;
  d.exe_path = "/usr/bin/worker";
  d.args = {"worker", "--seq", std::to_string(seq), std::string(100, 'x')};
  ev.data = d;
  return ev;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses every line of a file (each must be one complete JSON object); returns the pids.
std::vector<uint32_t> pids_in(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<uint32_t> pids;
  EXPECT_TRUE(text.empty() || text.back() == '\n') << path << " ends mid-line";
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << path << ": not a JSON line: " << line;
    if (j.is_discarded()) continue;
    pids.push_back(j["process"]["pid"].get<uint32_t>());
  }
  return pids;
}

config::OutputConfig file_config(const std::string& path, uint32_t max_files = 5) {
  config::OutputConfig cfg;
  cfg.path = path;
  cfg.max_size_mb = 100;
  cfg.max_files = max_files;
  return cfg;
}

TEST(JsonLinesOutputTest, WritesOneParsableLinePerEventAndBuffersUntilFlush) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  const mode_t old_umask = ::umask(022);
  auto out = JsonLinesOutput::open(file_config(path), "host-1");
  ::umask(old_umask);
  ASSERT_TRUE(out) << out.error().to_string();

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);

  for (uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE((*out)->write(numbered_event(i)));
  EXPECT_EQ(read_file(path), "") << "written before flush: not buffered";
  EXPECT_EQ((*out)->lines_written(), 0u);

  ASSERT_TRUE((*out)->flush());
  EXPECT_EQ(pids_in(path), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ((*out)->lines_written(), 3u);
  EXPECT_EQ((*out)->write_errors(), 0u);
  EXPECT_EQ((*out)->rotations(), 0u);
  const json first = json::parse(read_file(path).substr(0, read_file(path).find('\n')));
  EXPECT_EQ(first["host"]["hostname"], "host-1");
}

TEST(JsonLinesOutputTest, AppendsToAnExistingFileAndFlushesOnDestruction) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  {
    std::ofstream pre(path);
    pre << "{\"pre\":1}\n";
  }
  {
    auto out = JsonLinesOutput::open(file_config(path), "h");
    ASSERT_TRUE(out);
    ASSERT_TRUE((*out)->write(numbered_event(9)));
  }
  const std::string text = read_file(path);
  ASSERT_EQ(text.rfind("{\"pre\":1}\n{", 0), 0u) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(JsonLinesOutputTest, FlushesByItselfWhenTheBufferFills) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  JsonLinesLimits limits;
  limits.buffer_bytes = 4096;
  auto out = JsonLinesOutput::open(file_config(path), "h", limits);
  ASSERT_TRUE(out);
  uint32_t n = 0;
  while (read_file(path).empty() && n < 1000) ASSERT_TRUE((*out)->write(numbered_event(++n)));
  EXPECT_LT(n, 1000u) << "buffer never flushed";
  EXPECT_GT(n, 1u);
  EXPECT_EQ(pids_in(path).size(), (*out)->lines_written());
}

// Rotation: path, path.1 .. path.N; the oldest beyond N deleted; whole lines only.
void check_rotation(size_t buffer_bytes, bool async = false) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  constexpr uint32_t kMaxFiles = 3;
  constexpr uint64_t kMaxBytes = 4096;
  JsonLinesLimits limits;
  limits.max_size_bytes = kMaxBytes;
  limits.buffer_bytes = buffer_bytes;
  limits.async = async;
  limits.max_queued_buffers = 2;  // the writer falls behind: write() must wait, not drop
  auto out = JsonLinesOutput::open(file_config(path, kMaxFiles), "h", limits);
  ASSERT_TRUE(out);
  constexpr uint32_t kEvents = 200;  // ~700 bytes each: many rotations
  for (uint32_t i = 1; i <= kEvents; ++i) ASSERT_TRUE((*out)->write(numbered_event(i)));
  ASSERT_TRUE((*out)->flush());

  EXPECT_GE((*out)->rotations(), kMaxFiles + 1);
  EXPECT_EQ((*out)->lines_written(), kEvents);
  EXPECT_EQ((*out)->write_errors(), 0u);
  ASSERT_TRUE(fs::exists(path));
  for (uint32_t i = 1; i <= kMaxFiles; ++i) {
    EXPECT_TRUE(fs::exists(path + "." + std::to_string(i))) << i;
  }
  EXPECT_FALSE(fs::exists(path + "." + std::to_string(kMaxFiles + 1)));

  // Oldest to newest, the kept files hold a contiguous run of events ending with the last one.
  std::vector<uint32_t> all;
  for (uint32_t i = kMaxFiles; i >= 1; --i) {
    const std::string p = path + "." + std::to_string(i);
    EXPECT_LE(fs::file_size(p), kMaxBytes) << p;
    const auto pids = pids_in(p);
    EXPECT_FALSE(pids.empty()) << p;
    all.insert(all.end(), pids.begin(), pids.end());
  }
  EXPECT_LE(fs::file_size(path), kMaxBytes);
  const auto current = pids_in(path);
  all.insert(all.end(), current.begin(), current.end());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), kEvents);
  for (size_t i = 1; i < all.size(); ++i) ASSERT_EQ(all[i], all[i - 1] + 1) << "gap at " << i;
  // Rotated files are full: the line that starts the next file would not have fit.
  const std::string next = read_file(path);
  EXPECT_GT(fs::file_size(path + ".1") + next.find('\n') + 1, kMaxBytes);
}

TEST(JsonLinesOutputTest, RotatesBySizeWithLargeBuffer) { check_rotation(64 * 1024); }
TEST(JsonLinesOutputTest, RotatesBySizeFlushingEveryLine) { check_rotation(1); }
// The same guarantees (every line, in order, whole lines per file) with the writer thread.
TEST(JsonLinesOutputTest, AsyncWriterRotatesAndKeepsEveryLineInOrder) { check_rotation(512, true); }

TEST(JsonLinesOutputTest, AsyncWriterReportsDiskFullOnTheNextCall) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full not writable here";
  JsonLinesLimits limits;
  limits.async = true;
  limits.buffer_bytes = 1;  // every line is handed to the writer thread
  auto out = JsonLinesOutput::open(file_config("/dev/full"), "h", limits);
  ASSERT_TRUE(out) << out.error().to_string();
  // A write only queues its line; the writer thread's error comes back on a later call: a write
  // made after the thread failed, or else the flush, which waits for the thread. Which call it is
  // depends on timing, so the test asks only that the error reaches the caller by the flush, and
  // that each failure is reported at most once.
  std::vector<Status> calls;
  calls.push_back((*out)->write(numbered_event(1)));
  calls.push_back((*out)->write(numbered_event(2)));
  calls.push_back((*out)->flush());
  size_t reported = 0;
  for (const Status& c : calls) {
    if (c) continue;
    ++reported;
    EXPECT_NE(c.error().message.find(std::strerror(ENOSPC)), std::string::npos)
        << c.error().message;
  }
  EXPECT_GE(reported, 1u) << "the disk-full error never reached the caller";
  EXPECT_LE(reported, (*out)->write_errors());
  EXPECT_EQ((*out)->lines_written(), 0u);
  EXPECT_EQ((*out)->lines_dropped(), 2u);
  EXPECT_GE((*out)->write_errors(), 1u);
  EXPECT_TRUE((*out)->flush()) << "an error is reported once";
}

TEST(JsonLinesOutputTest, ExistingFileOverTheLimitIsRotatedFirst) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  {
    std::ofstream pre(path);
    pre << std::string(5000, 'a') << "\n";
  }
  JsonLinesLimits limits;
  limits.max_size_bytes = 4096;
  auto out = JsonLinesOutput::open(file_config(path, 2), "h", limits);
  ASSERT_TRUE(out);
  ASSERT_TRUE((*out)->write(numbered_event(1)));
  ASSERT_TRUE((*out)->flush());
  EXPECT_EQ((*out)->rotations(), 1u);
  EXPECT_EQ(read_file(path + ".1"), std::string(5000, 'a') + "\n");
  EXPECT_EQ(pids_in(path), std::vector<uint32_t>{1});
}

TEST(JsonLinesOutputTest, LineLargerThanTheLimitGetsAFileOfItsOwn) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  JsonLinesLimits limits;
  limits.max_size_bytes = 100;  // every line is larger
  auto out = JsonLinesOutput::open(file_config(path, 10), "h", limits);
  ASSERT_TRUE(out);
  for (uint32_t i = 1; i <= 4; ++i) ASSERT_TRUE((*out)->write(numbered_event(i)));
  ASSERT_TRUE((*out)->flush());
  EXPECT_EQ(pids_in(path), std::vector<uint32_t>{4});
  EXPECT_EQ(pids_in(path + ".1"), std::vector<uint32_t>{3});
  EXPECT_EQ(pids_in(path + ".2"), std::vector<uint32_t>{2});
  EXPECT_EQ(pids_in(path + ".3"), std::vector<uint32_t>{1});
  EXPECT_FALSE(fs::exists(path + ".4"));
  EXPECT_EQ((*out)->rotations(), 3u);
}

TEST(JsonLinesOutputTest, ReopenFollowsAnExternalRotation) {
  TempDir dir;
  const std::string path = dir.file("events.json");
  auto out = JsonLinesOutput::open(file_config(path), "h");
  ASSERT_TRUE(out);
  ASSERT_TRUE((*out)->write(numbered_event(1)));
  ASSERT_TRUE((*out)->flush());
  fs::rename(path, path + ".old");  // what logrotate does before sending SIGHUP
  ASSERT_TRUE((*out)->write(numbered_event(2)));
  ASSERT_TRUE((*out)->reopen());
  ASSERT_TRUE((*out)->write(numbered_event(3)));
  ASSERT_TRUE((*out)->flush());
  EXPECT_EQ(pids_in(path + ".old"), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(pids_in(path), std::vector<uint32_t>{3});
}

TEST(JsonLinesOutputTest, DiskFullIsCountedAndReturnedNotFatal) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full not writable here";
  config::OutputConfig cfg = file_config("/dev/full");
  auto out = JsonLinesOutput::open(cfg, "h");
  ASSERT_TRUE(out) << out.error().to_string();
  ASSERT_TRUE((*out)->write(numbered_event(1)));
  ASSERT_TRUE((*out)->write(numbered_event(2)));
  Status st = (*out)->flush();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("/dev/full"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(std::strerror(ENOSPC)), std::string::npos);
  EXPECT_FALSE(st.error().hint.empty());
  EXPECT_EQ((*out)->write_errors(), 1u);
  EXPECT_EQ((*out)->lines_written(), 0u);
  EXPECT_EQ((*out)->lines_dropped(), 2u);

  // Keeps going: every failed flush is one more counted error, the buffer does not grow.
  ASSERT_TRUE((*out)->write(numbered_event(3)));
  EXPECT_FALSE((*out)->flush());
  EXPECT_EQ((*out)->write_errors(), 2u);
  EXPECT_EQ((*out)->lines_dropped(), 3u);
  EXPECT_TRUE((*out)->flush()) << "nothing left to write";
}

TEST(JsonLinesOutputTest, UnopenablePathIsAnErrorNamingIt) {
  TempDir dir;
  const std::string path = dir.file("missing-dir/events.json");
  auto out = JsonLinesOutput::open(file_config(path), "h");
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find(path), std::string::npos);
  EXPECT_FALSE(out.error().hint.empty());
}

TEST(JsonLinesOutputTest, StalledReaderTimesOutAndLaterLinesStayParsable) {
  TempDir dir;
  const std::string path = dir.file("fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  JsonLinesLimits limits;
  limits.write_timeout_ms = 50;
  auto out = JsonLinesOutput::open(file_config(path), "h", limits);
  ASSERT_TRUE(out) << out.error().to_string();

  // Nobody reads: the pipe fills and flush gives up instead of blocking.
  Status st;
  uint32_t n = 0;
  while (st && n < 10000) {
    ASSERT_TRUE((*out)->write(numbered_event(++n)));
    st = (*out)->flush();
  }
  ASSERT_FALSE(st) << "a full pipe never reported an error";
  EXPECT_EQ((*out)->write_errors(), 1u);
  EXPECT_GE((*out)->lines_dropped(), 1u);

  // Drain, then write one more line: it must come out as a line of its own.
  std::string text;
  char buf[65536];
  ssize_t r;
  while ((r = ::read(reader, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(r));
  ASSERT_TRUE((*out)->write(numbered_event(424242)));
  ASSERT_TRUE((*out)->flush());
  while ((r = ::read(reader, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(r));
  ::close(reader);
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  text.pop_back();
  const std::string last = text.substr(text.rfind('\n') + 1);
  const json j = json::parse(last, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << last;
  EXPECT_EQ(j["process"]["pid"], 424242);
  EXPECT_EQ((*out)->lines_written() + (*out)->lines_dropped(), n + 1);
}

TEST(JsonLinesOutputTest, StdoutWhenPathIsDash) {
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(::dup2(pipefd[1], STDOUT_FILENO), STDOUT_FILENO);
  Status st;
  {
    config::OutputConfig cfg;
    cfg.path = "-";
    auto out = JsonLinesOutput::open(cfg, "h");
    if (out) {
      (void)(*out)->write(numbered_event(5));
      st = (*out)->flush();
    } else {
      st = out.error();
    }
  }
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(pipefd[1]);
  ASSERT_TRUE(st) << st.error().to_string();
  std::string text;
  char buf[4096];
  ssize_t r;
  while ((r = ::read(pipefd[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(r));
  ::close(pipefd[0]);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_EQ(json::parse(text)["process"]["pid"], 5);
}

}  // namespace
}  // namespace privwatch::exporter
