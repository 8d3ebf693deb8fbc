// Decoder tests: records are laid out exactly as the kernel programs write them.
#include "source/decode.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "events.h"

namespace privwatch::source {
namespace {

// Builds a record of type T with strings appended after the fixed part.
template <typename T>
class RecordBuilder {
 public:
  explicit RecordBuilder(uint16_t type) : buf_(sizeof(T), 0) {
    T v{};
    v.hdr.type = type;
    v.hdr.version = PRIVWATCH_EVENTS_SCHEMA_VERSION;
    v.hdr.ts_ns = 123456789;
    v.hdr.flags = PW_F_MONITORED;
    v.hdr.syscall = 257;
    v.hdr.proc.pid = 4242;
    v.hdr.proc.tid = 4243;
    v.hdr.proc.ppid = 1;
    v.hdr.proc.uid = 1000;
    v.hdr.proc.euid = 0;
    v.hdr.proc.loginuid = 1000;
    v.hdr.proc.sessionid = 7;
    v.hdr.proc.start_ns = 5'000'000'000ull;
    std::strcpy(v.hdr.proc.comm, "bash");
    std::strcpy(v.hdr.proc.tty, "pts3");
    std::memcpy(buf_.data(), &v, sizeof(T));
  }
  T& rec() { return *reinterpret_cast<T*>(buf_.data()); }
  // Appends bytes (with a NUL unless raw) and points `member` at them.
  void str(pw_str T::*member, const std::string& s, bool nul = true) {
    pw_str ref{};
    ref.off = static_cast<uint16_t>(buf_.size());
    ref.len = static_cast<uint16_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
    if (nul) buf_.push_back(0);
    rec().*member = ref;
  }
  std::vector<uint8_t>& finish() {
    rec().hdr.size = static_cast<uint32_t>(buf_.size());
    return buf_;
  }

 private:
  std::vector<uint8_t> buf_;
};

TEST(Decode, ExecWithArgsAndContext) {
  RecordBuilder<pw_exec> b(PW_EV_EXEC);
  b.rec().exec_flags = PW_EXEC_SETUID;
  b.rec().args_size = 14;
  b.str(&pw_exec::filename, "./x.sh");
  b.str(&pw_exec::exe_path, "/tmp/x.sh");
  b.str(&pw_exec::cwd, "/tmp");
  b.str(&pw_exec::args, std::string("x.sh\0-a\0b c\0", 12), false);
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  EXPECT_EQ(ev.kind, model::EventKind::kExec);
  EXPECT_EQ(ev.proc.pid, 4242u);
  EXPECT_EQ(ev.proc.tid, 4243u);
  EXPECT_EQ(ev.proc.loginuid, 1000u);
  EXPECT_EQ(ev.proc.comm, "bash");
  EXPECT_EQ(ev.proc.tty, "pts3");
  EXPECT_EQ(ev.proc.key().start_ticks, 500u);  // 5 s at 100 Hz
  EXPECT_TRUE(ev.flags & model::kFlagMonitored);
  const auto& x = std::get<model::ExecData>(ev.data);
  EXPECT_EQ(x.exe_path, "/tmp/x.sh");
  EXPECT_EQ(x.filename, "./x.sh");
  EXPECT_EQ(x.cwd, "/tmp");
  ASSERT_EQ(x.args.size(), 3u);
  EXPECT_EQ(x.args[0], "x.sh");
  EXPECT_EQ(x.args[1], "-a");
  EXPECT_EQ(x.args[2], "b c");
  EXPECT_TRUE(x.flags & model::kExecSetuid);
  EXPECT_FALSE(x.flags & model::kExecArgsTruncated);
}

// A failed exec ran nothing: the attempted path is `filename`, never the executed file.
TEST(Decode, FailedExecHasNoExecutedFile) {
  RecordBuilder<pw_exec> b(PW_EV_EXEC);
  b.rec().hdr.syscall = 59;
  b.rec().result = -2;
  b.rec().exec_flags = PW_EXEC_FAILED;
  b.str(&pw_exec::filename, "./missing");
  b.str(&pw_exec::cwd, "/tmp/work");
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& x = std::get<model::ExecData>(ev.data);
  EXPECT_EQ(x.result, -2);
  EXPECT_TRUE(x.flags & model::kExecFailed);
  EXPECT_EQ(x.filename, "./missing");
  EXPECT_EQ(x.cwd, "/tmp/work");
  EXPECT_EQ(x.exe_path, "");
  EXPECT_TRUE(x.args.empty());

  // Reusing the event for another failed exec leaves no executed file behind either.
  RecordBuilder<pw_exec> ok(PW_EV_EXEC);
  ok.str(&pw_exec::exe_path, "/usr/bin/id");
  ASSERT_EQ(decode_record(ok.finish(), {}, ev), DecodeStatus::kOk);
  EXPECT_EQ(std::get<model::ExecData>(ev.data).exe_path, "/usr/bin/id");
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  EXPECT_EQ(std::get<model::ExecData>(ev.data).exe_path, "");
}

// A successful exec whose path the kernel could not walk: bprm->filename stands in.
TEST(Decode, ExecWithoutKernelPathFallsBackToTheResolvedFilename) {
  RecordBuilder<pw_exec> b(PW_EV_EXEC);
  b.str(&pw_exec::filename, "../bin/./tool");
  b.str(&pw_exec::cwd, "/home/alice/src");
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  EXPECT_EQ(std::get<model::ExecData>(ev.data).exe_path, "/home/alice/bin/tool");
}

TEST(Decode, ExecArgsBoundedByMaxArgs) {
  RecordBuilder<pw_exec> b(PW_EV_EXEC);
  b.str(&pw_exec::args, std::string("a\0b\0c\0d\0", 8), false);
  model::Event ev;
  DecodeOptions o;
  o.max_args = 2;
  ASSERT_EQ(decode_record(b.finish(), o, ev), DecodeStatus::kOk);
  const auto& x = std::get<model::ExecData>(ev.data);
  EXPECT_EQ(x.args.size(), 2u);
  EXPECT_TRUE(x.flags & model::kExecArgsTruncated);
}

TEST(Decode, ExecArgsCutMidArgumentKeepsPrefix) {
  RecordBuilder<pw_exec> b(PW_EV_EXEC);
  b.rec().exec_flags = PW_EXEC_ARGS_TRUNC;
  b.str(&pw_exec::args, std::string("python3\0-c\0impo", 15), false);
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& x = std::get<model::ExecData>(ev.data);
  ASSERT_EQ(x.args.size(), 3u);
  EXPECT_EQ(x.args[2], "impo");
  EXPECT_TRUE(x.flags & model::kExecArgsTruncated);
}

TEST(Decode, RelativeOpenResolvedAgainstBase) {
  RecordBuilder<pw_file> b(PW_EV_FILE);
  b.rec().op = PW_FILE_OPEN;
  b.rec().result = -2;
  b.rec().dirfd = -100;
  b.str(&pw_file::path, "../etc/./shadow");
  b.str(&pw_file::base, "/root/work");
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& f = std::get<model::FileData>(ev.data);
  EXPECT_EQ(f.path, "/root/etc/shadow");
  EXPECT_EQ(f.requested_path, "../etc/./shadow");
  EXPECT_EQ(f.result, -2);
}

TEST(Decode, KernelResolvedPathWins) {
  RecordBuilder<pw_file> b(PW_EV_FILE);
  b.rec().op = PW_FILE_OPEN;
  b.rec().result = 3;
  b.rec().file_flags = PW_FILE_CREATED | PW_FILE_WRITE;
  b.str(&pw_file::path, "link-to-file");
  b.str(&pw_file::resolved, "/var/data/real-file");
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& f = std::get<model::FileData>(ev.data);
  EXPECT_EQ(f.path, "/var/data/real-file");
  EXPECT_TRUE(f.file_flags & model::kFileCreated);
}

// What the kernel sends for a successful open: the resolved path only (the requested string
// is not copied then, bpf/file.bpf.c).
TEST(Decode, SuccessfulOpenWithOnlyTheResolvedPath) {
  RecordBuilder<pw_file> b(PW_EV_FILE);
  b.rec().op = PW_FILE_OPEN;
  b.rec().result = 4;
  b.rec().dirfd = -100;
  b.str(&pw_file::resolved, "/etc/ssh/sshd_config");
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& f = std::get<model::FileData>(ev.data);
  EXPECT_EQ(f.path, "/etc/ssh/sshd_config");
  EXPECT_EQ(f.requested_path, "");
  EXPECT_EQ(f.result, 4);
}

TEST(Decode, RenameTargetResolved) {
  RecordBuilder<pw_file> b(PW_EV_FILE);
  b.rec().op = PW_FILE_RENAME;
  b.str(&pw_file::path, "/tmp/a");
  b.str(&pw_file::path2, "b");
  b.str(&pw_file::base2, "/usr/local/bin");
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& f = std::get<model::FileData>(ev.data);
  EXPECT_EQ(f.op, model::FileOp::kRename);
  EXPECT_EQ(f.path, "/tmp/a");
  EXPECT_EQ(f.target_path, "/usr/local/bin/b");
}

TEST(Decode, NetIpv4AndIpv6) {
  RecordBuilder<pw_net> b(PW_EV_NET);
  b.rec().op = PW_NET_CONNECT;
  b.rec().family = 2;
  b.rec().remote_port = 4444;
  const uint8_t ip[4] = {203, 0, 113, 9};
  std::memcpy(b.rec().remote_addr, ip, 4);
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& n = std::get<model::NetData>(ev.data);
  EXPECT_EQ(n.remote_ip(), "203.0.113.9");
  EXPECT_EQ(n.remote_port, 4444);

  RecordBuilder<pw_net> b6(PW_EV_NET);
  b6.rec().op = PW_NET_ACCEPT;
  b6.rec().family = 10;
  b6.rec().local_addr[15] = 1;  // ::1
  ASSERT_EQ(decode_record(b6.finish(), {}, ev), DecodeStatus::kOk);
  EXPECT_EQ(std::get<model::NetData>(ev.data).local_ip(), "::1");
}

TEST(Decode, CredBeforeAfter) {
  RecordBuilder<pw_cred> b(PW_EV_CRED);
  b.rec().result = 0;
  b.rec().before_valid = 1;
  b.rec().before.uid = 1000;
  b.rec().before.euid = 1000;
  b.rec().after.uid = 0;
  b.rec().after.euid = 0;
  b.rec().arg[0] = 0;
  model::Event ev;
  ASSERT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kOk);
  const auto& c = std::get<model::CredData>(ev.data);
  EXPECT_TRUE(c.before_valid);
  EXPECT_EQ(c.before.euid, 1000u);
  EXPECT_EQ(c.after.euid, 0u);
}

TEST(Decode, RejectsWrongVersion) {
  RecordBuilder<pw_exit> b(PW_EV_EXIT);
  b.rec().hdr.version = PRIVWATCH_EVENTS_SCHEMA_VERSION + 1;
  model::Event ev;
  EXPECT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kBadVersion);
}

TEST(Decode, RejectsSizeMismatchAndShortRecords) {
  RecordBuilder<pw_exit> b(PW_EV_EXIT);
  auto rec = b.finish();
  model::Event ev;
  rec.push_back(0);  // header says N, buffer has N+1
  EXPECT_EQ(decode_record(rec, {}, ev), DecodeStatus::kBadSize);
  std::vector<uint8_t> tiny(8, 0);
  EXPECT_EQ(decode_record(tiny, {}, ev), DecodeStatus::kTooShort);
  // a file header claiming to be complete but shorter than pw_file
  RecordBuilder<pw_exit> small(PW_EV_FILE);
  EXPECT_EQ(decode_record(small.finish(), {}, ev), DecodeStatus::kTooShort);
}

TEST(Decode, RejectsUnknownTypeAndOutOfBoundsStrings) {
  RecordBuilder<pw_exit> b(PW_EV_MAX);
  model::Event ev;
  EXPECT_EQ(decode_record(b.finish(), {}, ev), DecodeStatus::kUnknownType);

  RecordBuilder<pw_file> f(PW_EV_FILE);
  auto& rec = f.finish();
  pw_file v;
  std::memcpy(&v, rec.data(), sizeof(v));
  v.path.off = static_cast<uint16_t>(rec.size() - 2);
  v.path.len = 100;
  std::memcpy(rec.data(), &v, sizeof(v));
  EXPECT_EQ(decode_record(rec, {}, ev), DecodeStatus::kBadString);
}

TEST(Decode, TtyRecordKeepsBinaryDataAndRejectsBadLengths) {
  RecordBuilder<pw_tty> b(PW_EV_TTY);
  b.rec().result = 9;
  b.rec().op = PW_TTY_OUTPUT;
  b.rec().tty_flags = PW_TTY_TRUNCATED;
  b.rec().dev = (136u << 20) | 3;
  b.rec().rows = 24;
  b.rec().cols = 80;
  b.rec().oflag = 5;
  std::strcpy(b.rec().tty, "pts3");
  const std::string data("a\0\x1b[1m", 6);
  b.rec().data_len = static_cast<uint32_t>(data.size());
  auto& rec = b.finish();
  rec.insert(rec.end(), data.begin(), data.end());
  pw_tty v;
  std::memcpy(&v, rec.data(), sizeof(v));
  v.hdr.size = static_cast<uint32_t>(rec.size());
  std::memcpy(rec.data(), &v, sizeof(v));
  model::Event ev;
  ASSERT_EQ(decode_record(rec, {}, ev), DecodeStatus::kOk);
  EXPECT_EQ(ev.kind, model::EventKind::kTty);
  const auto& t = std::get<model::TtyData>(ev.data);
  EXPECT_EQ(t.op, model::TtyOp::kOutput);
  EXPECT_EQ(t.data, data) << "NUL bytes are data, not terminators";
  EXPECT_EQ(t.tty, "pts3");
  EXPECT_EQ(t.rows, 24);
  EXPECT_EQ(t.cols, 80);
  EXPECT_EQ(t.oflag, 5u);
  EXPECT_EQ(t.result, 9);
  EXPECT_EQ(t.flags, model::kTtyTruncated);

  v.data_len = static_cast<uint32_t>(data.size()) + 1;  // beyond the record
  std::memcpy(rec.data(), &v, sizeof(v));
  EXPECT_EQ(decode_record(rec, {}, ev), DecodeStatus::kBadString);
  v.data_len = static_cast<uint32_t>(data.size());
  v.op = 9;
  std::memcpy(rec.data(), &v, sizeof(v));
  EXPECT_EQ(decode_record(rec, {}, ev), DecodeStatus::kBadString);
}

TEST(NormalizePath, Cases) {
  EXPECT_EQ(normalize_path("", "/a//b/./c/../d"), "/a/b/d");
  EXPECT_EQ(normalize_path("/home/alice", "x/y"), "/home/alice/x/y");
  EXPECT_EQ(normalize_path("/", "../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(normalize_path("/a/b", ".."), "/a");
  EXPECT_EQ(normalize_path("/a", "../.."), "/");
  EXPECT_EQ(normalize_path("", "/"), "/");
}

}  // namespace
}  // namespace privwatch::source
