// ECS JSON output pinned byte for byte: 3,000 varied events from a fixed seed (every kind and
// payload, empty and hostile strings, invalid UTF-8, long arguments, every flag) are encoded and
// each event's JSON is compared with fixtures/ecs_json_golden.txt (length and FNV-1a 64 of every
// line; the JSON itself is ~7 MB, too big to commit). The golden file was written by the encoder
// as it was before the fast writer, so a rewrite of the writer must reproduce it exactly.
//
// To see what changed, run the test of the old and of the new build with
// PRIVWATCH_GOLDEN_DUMP=<file> (the whole output is written there) and diff the two files.
// An intentional change of the output regenerates the golden file:
//   PRIVWATCH_UPDATE_GOLDEN=1 build/tests/privwatch_unit_tests --gtest_filter='EcsJsonGolden*'
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "export/ecs_json.hpp"

namespace privwatch::exporter {
namespace {

constexpr size_t kEvents = 3000;
const std::string kGoldenPath =
    std::string(PRIVWATCH_SOURCE_DIR) + "/tests/unit/export/fixtures/ecs_json_golden.txt";

// SplitMix64: the same sequence on every platform and standard library (std::*_distribution
// is implementation-defined, so it is not used). Every expression below draws at most once,
// or in an order the language fixes (braced lists, ?:, the comma operator), so that every
// compiler builds the same events.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  bool chance(uint64_t one_in) { return below(one_in) == 0; }
  uint32_t u32() { return static_cast<uint32_t>(next()); }
  template <typename T, size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }

 private:
  uint64_t s_;
};

const char* const kWords[] = {"alice",     "root",        "bash",      "/usr/bin/sudo",
                              "/home/bob", "/etc/shadow", "db-3",      "--password=x",
                              "select 1",  "pts/3",       "app-3",     "/var/lib/app/data",
                              "ÿ",         "café",        "中文路径",  "😀",
                              "a b c",     "x\ty",        "line\nnext"};

// Byte pieces that exercise every escape and every UTF-8 validation branch.
const char* const kPieces[] = {
    "\"",
    "\\",
    "\n",
    "\r",
    "\t",
    "\b",
    "\f",
    "\x01",
    "\x1f",
    "\x7f",
    "/",
    "\xc3\xa9",
    "\xe2\x82\xac",
    "\xf0\x9f\x98\x80",
    "\xef\xbf\xbd",
    "\xc0\x80",
    "\xc1\xbf",
    "\xc2",
    "\xe0\x80\x80",
    "\xe0\xa0\x80",
    "\xed\xa0\x80",
    "\xed\x9f\xbf",
    "\xf0\x80\x80\x80",
    "\xf0\x90\x80\x80",
    "\xf4\x8f\xbf\xbf",
    "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80",
    "\xff",
    "\xfe",
    "\x80",
    "\xbf",
    "\xe2\x82",
    "\xf0\x9f\x98",
    "<script>",
    "\\u0000",
    "%s%n",
    "'",
};

std::string random_bytes(Rng& r, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(r.below(256)));
  return s;
}

// A string field: often empty, mostly plain, sometimes hostile or long.
std::string str(Rng& r) {
  switch (r.below(12)) {
    case 0:
    case 1:
    case 2:
      return {};
    case 3:
    case 4:
    case 5:
      return r.pick(kWords);
    case 6: {  // printable ASCII, including quotes and backslashes
      std::string s;
      const size_t n = r.below(48);
      for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(0x20 + r.below(95)));
      return s;
    }
    case 7:
    case 8: {  // words and hostile pieces mixed
      std::string s;
      const size_t n = 1 + r.below(8);
      for (size_t i = 0; i < n; ++i) s += r.chance(2) ? r.pick(kWords) : r.pick(kPieces);
      return s;
    }
    case 9:
      return random_bytes(r, r.below(40));
    case 10: {  // long ASCII with an occasional escape (fast paths over long runs)
      std::string s;
      const size_t n = 16 + r.below(240);
      for (size_t i = 0; i < n; ++i) {
        s.push_back(r.chance(300) ? '"' : static_cast<char>('a' + r.below(26)));
      }
      return s;
    }
    default: {  // a path
      std::string s;
      const size_t n = 1 + r.below(5);
      for (size_t i = 0; i < n; ++i) {
        s += '/';
        s += r.chance(6) ? std::string(r.pick(kPieces)) : std::string(r.pick(kWords));
      }
      return s;
    }
  }
}

std::string path(Rng& r) {
  switch (r.below(6)) {
    case 0:
      return {};
    case 1:
      return "relative/" + str(r);
    case 2:
      return "/";
    case 3:
      return "/usr/bin/" + std::string(r.pick(kWords));
    default: {  // one draw per statement: operands of + are evaluated in any order
      std::string s = "/" + str(r);
      s += "/";
      s += str(r);
      return s;
    }
  }
}

std::vector<std::string> strs(Rng& r, size_t max) {
  std::vector<std::string> v(r.below(max + 1));
  for (auto& s : v) s = r.chance(100) ? std::string(1000 + r.below(3000), 'A') : str(r);
  return v;
}

uint32_t id(Rng& r) {
  switch (r.below(5)) {
    case 0:
      return 0;
    case 1:
      return model::kUnsetId;
    case 2:
      return 1000 + r.below(10);
    default:
      return r.u32();
  }
}

int64_t result(Rng& r) {
  switch (r.below(6)) {
    case 0:
      return -static_cast<int64_t>(1 + r.below(133));  // a named errno
    case 1:
      return -static_cast<int64_t>(512 + r.below(20));  // kernel-internal codes and holes
    case 2:
      return -static_cast<int64_t>(r.below(100000));  // unnamed (and 0)
    case 3:
      return static_cast<int64_t>(r.next());
    default:
      return static_cast<int64_t>(r.below(4));
  }
}

uint64_t boot_ns(Rng& r) {
  switch (r.below(4)) {
    case 0:
      return 0;
    case 1:
      return r.next();
    default:
      return r.below(10'000'000'000'000ull);
  }
}

std::array<uint8_t, 16> addr(Rng& r) {
  std::array<uint8_t, 16> a{};
  switch (r.below(4)) {
    case 0:
      break;  // zero
    case 1:
      a = {127, 0, 0, 1};
      break;
    case 2:
      a[10] = 0xff, a[11] = 0xff, a[12] = 10, a[15] = 7;  // v4-mapped in v6
      break;
    default:
      for (auto& b : a) b = static_cast<uint8_t>(r.below(256));
  }
  return a;
}

model::Creds creds(Rng& r) {
  model::Creds c;
  c.uid = id(r), c.euid = id(r), c.suid = id(r), c.fsuid = id(r);
  c.gid = id(r), c.egid = id(r), c.sgid = id(r), c.fsgid = id(r);
  c.cap_effective = r.chance(2) ? 0 : r.next();
  c.cap_permitted = r.chance(3) ? 0x1ffffffffffull : r.next();
  return c;
}

const uint32_t kSyscalls[] = {
    SYS_execve,
    SYS_execveat,
    SYS_open,
    SYS_openat,
    SYS_setuid,
    SYS_setgid,
    SYS_setreuid,
    SYS_setregid,
    SYS_setresuid,
    SYS_setresgid,
    SYS_setfsuid,
    SYS_setfsgid,
    SYS_setgroups,
    SYS_capset,
    SYS_connect,
    SYS_accept4,
    SYS_ptrace,
    SYS_kill,
    SYS_mount,
    SYS_umount2,
    SYS_bpf,
    SYS_write,
    0,
    ~0u,
};

model::Payload payload(Rng& r, size_t variant) {
  switch (variant) {
    case 1: {
      model::ExecData d;
      d.result = r.chance(3) ? result(r) : 0;
      d.flags = static_cast<uint32_t>(r.below(64));
      d.args_size = r.u32();
      if (!r.chance(3)) {
        d.exe_mode = static_cast<uint32_t>(r.below(0200000));
        d.exe_uid = id(r), d.exe_dev = r.u32(), d.exe_ino = r.next();
      }
      d.filename = r.chance(3) ? std::string(r.pick(kWords)) : path(r);
      if (r.chance(4)) d.filename = "../" + d.filename;
      d.exe_path = path(r);
      d.cwd = r.chance(4) ? str(r) : path(r);
      d.args = strs(r, 8);
      return d;
    }
    case 2:
      return model::ForkData{r.u32(), boot_ns(r)};
    case 3:
      return model::ExitData{r.chance(2) ? static_cast<uint32_t>(r.below(256)) << 8
                                         : static_cast<uint32_t>(r.below(0x10000))};
    case 4: {
      model::FileData d;
      d.result = result(r);
      d.op = static_cast<model::FileOp>(1 + r.below(10));
      d.dirfd = r.chance(2) ? -100 : static_cast<int32_t>(r.u32());
      d.open_flags = r.chance(2) ? static_cast<uint32_t>(r.below(8)) : r.u32();
      d.mode = r.u32();
      d.uid = id(r), d.gid = id(r);
      d.file_flags = static_cast<uint32_t>(r.below(8));
      d.path = path(r), d.requested_path = path(r), d.target_path = path(r);
      d.requested_target = path(r);
      return d;
    }
    case 5: {
      model::NetData d;
      d.result = result(r);
      d.op = static_cast<model::NetOp>(1 + r.below(4));
      d.fd = static_cast<int32_t>(r.u32());
      const uint16_t families[] = {AF_INET, AF_INET6, AF_UNIX, 0, AF_NETLINK};
      d.family = r.pick(families);
      const uint16_t types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_RDM, 0, 99};
      d.sock_type = r.pick(types);
      const uint16_t protos[] = {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 132};
      d.protocol = r.pick(protos);
      d.local_port = r.chance(2) ? 0 : static_cast<uint16_t>(r.next());
      d.remote_port = r.chance(4) ? 0 : static_cast<uint16_t>(r.next());
      d.backlog = r.u32();
      d.local_addr = addr(r);
      d.remote_addr = addr(r);
      d.unix_path = r.chance(2) ? std::string() : path(r);
      return d;
    }
    case 6: {
      model::CredData d;
      d.result = result(r);
      d.args = {r.chance(2) ? r.u32() : r.next(), r.next(), r.u32()};
      d.before_valid = r.chance(2);
      d.before = creds(r);
      d.after = creds(r);
      return d;
    }
    case 7: {
      const int64_t requests[] = {0, 4, 9, 12, 16, 17, 24, 33, 0x4206, 0x420f, 0x4210, -1};
      return model::PtraceData{
          result(r), r.chance(4) ? static_cast<int64_t>(r.next()) : r.pick(requests), r.u32()};
    }
    case 8: {
      model::ModuleData d;
      d.result = result(r);
      d.op = static_cast<model::ModuleOp>(1 + r.below(3));
      d.flags = r.u32();
      d.name = str(r);
      d.params = str(r);
      return d;
    }
    case 9: {
      model::BpfData d;
      d.result = result(r);
      d.cmd = r.chance(8) ? r.u32() : static_cast<uint32_t>(r.below(40));
      d.prog_type = r.chance(3) ? 0 : static_cast<uint32_t>(r.below(36));
      d.prog_name = str(r);
      return d;
    }
    case 10: {
      model::MountData d;
      d.result = result(r);
      d.op = static_cast<model::MountOp>(1 + r.below(2));
      d.flags = r.chance(3) ? (MS_MGC_VAL | r.below(0x10000)) : r.next();
      d.source = str(r), d.target = path(r), d.fstype = str(r);
      return d;
    }
    case 11:
      return model::SignalData{result(r), r.u32(), static_cast<uint32_t>(r.below(70))};
    case 12: {
      model::TtyData d;
      d.result = result(r);
      d.op = static_cast<model::TtyOp>(1 + r.below(3));
      d.flags = static_cast<uint32_t>(r.below(16));
      d.dev = r.u32();
      d.rows = static_cast<uint16_t>(r.next());
      d.cols = static_cast<uint16_t>(r.next());
      d.oflag = r.u32();
      d.tty = str(r);
      d.data = r.chance(3) ? random_bytes(r, r.below(300)) : str(r);
      return d;
    }
    default:
      return std::monostate{};
  }
}

std::shared_ptr<model::Session> session(Rng& r) {
  auto s = std::make_shared<model::Session>();
  s->version = r.u32();
  s->id = r.chance(4) ? str(r) : "9f3c-" + std::to_string(r.below(100000));
  s->parent_id = r.chance(2) ? std::string() : str(r);
  s->entry_type = static_cast<model::EntryType>(r.below(10));
  s->leader = {r.u32(), r.next()};
  s->leader_exe = path(r);
  s->start_wall_ns = r.chance(4) ? 0 : r.next();
  s->uid = id(r);
  s->user = str(r);
  s->client_ip = r.chance(2) ? std::string() : (r.chance(2) ? "203.0.113.9" : str(r));
  s->client_port = r.chance(3) ? 0 : static_cast<uint16_t>(r.next());
  s->lost_events = r.chance(3) ? r.next() : 0;
  return s;
}

model::Event make_event(Rng& r, size_t i) {
  model::Event ev;
  ev.kind = static_cast<model::EventKind>(1 + i % 12);
  // Mostly the payload of the kind; sometimes another one (or none) to cover mismatches.
  const size_t variant = r.chance(10) ? r.below(13) : 1 + i % 12;
  ev.data = payload(r, variant);
  ev.flags = static_cast<uint32_t>(r.below(32));
  ev.syscall = r.chance(8) ? r.u32() : r.pick(kSyscalls);
  ev.ts_ns = boot_ns(r);
  ev.wall_time_ns =
      r.chance(10) ? 0
                   : (r.chance(10) ? r.next() : 1'700'000'000'000'000'000ull + r.below(1ull << 55));
  auto& p = ev.proc;
  p.start_ns = boot_ns(r);
  p.parent_start_ns = boot_ns(r);
  p.cgroup_id = r.next();
  p.pid = r.u32(), p.tid = r.u32(), p.ppid = r.chance(8) ? 0 : r.u32();
  p.uid = id(r), p.euid = id(r), p.gid = id(r), p.egid = id(r), p.suid = id(r), p.fsuid = id(r);
  p.loginuid = id(r), p.sessionid = id(r);
  p.tty_dev = r.chance(2) ? 0 : r.u32();
  p.pidns = r.u32(), p.mntns = r.u32();
  p.comm = str(r);
  p.tty = str(r);
  ev.user_name = str(r);
  ev.effective_user_name = str(r);
  ev.login_user_name = str(r);
  ev.group_name = str(r);
  ev.exe = path(r);
  ev.parent_exe = path(r);
  ev.parent_comm = str(r);
  ev.parent_args = strs(r, 4);
  ev.seq = r.next();
  auto& a = ev.attr;
  a.host = str(r);
  a.cluster = str(r);
  a.human = str(r);
  a.roles = strs(r, 3);
  a.service_account = str(r);
  if (!r.chance(3)) a.session = session(r);
  a.escalated = r.chance(2);
  a.escalation = static_cast<model::EscalationMethod>(r.below(8));
  if (r.chance(3)) {
    a.container.id = r.chance(4) ? std::string() : str(r);
    a.container.runtime = str(r);
    a.container.name = str(r);
    a.container.image = str(r);
    a.container.pod_uid = r.chance(2) ? std::string() : str(r);
    a.container.pod_name = str(r);
    a.container.k8s_namespace = str(r);
  }
  a.drift = r.chance(2) ? 0 : static_cast<uint32_t>(r.below(32));
  a.drift_reason = str(r);
  return ev;
}

// All events, one JSON object per line, appended to one buffer as the JSON lines output does.
std::string encode_all(std::set<size_t>* variants) {
  Rng r(20261203);
  const char* const hosts[] = {"app-3", "", "h\"ost\xff", "db-servers-01.example.com"};
  std::string out;
  for (size_t i = 0; i < kEvents; ++i) {
    const model::Event ev = make_event(r, i);
    if (variants != nullptr) variants->insert(ev.data.index());
    append_ecs_json(ev, out, r.pick(hosts));
    out.push_back('\n');
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) v.push_back(line);
  return v;
}

// "<index> <bytes> <fnv1a64 hex>" for one event's JSON.
std::string digest_line(size_t i, std::string_view json) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : json) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%zu %zu %016llx", i, json.size(),
                static_cast<unsigned long long>(h));
  return buf;
}

TEST(EcsJsonGoldenTest, OutputIsByteIdenticalToTheGoldenFile) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the golden file holds x86_64 syscall numbers and open flags";
#endif
  std::set<size_t> variants;
  const std::string out = encode_all(&variants);
  EXPECT_EQ(variants.size(), std::variant_size_v<model::Payload>) << "every payload covered";
  const std::vector<std::string> got = lines_of(out);
  ASSERT_EQ(got.size(), kEvents) << "one line per event, no newline inside one";
  if (const char* dump = std::getenv("PRIVWATCH_GOLDEN_DUMP"); dump && *dump) {
    std::ofstream(dump, std::ios::binary | std::ios::trunc) << out;
  }
  std::string digests;
  for (size_t i = 0; i < kEvents; ++i) digests += digest_line(i, got[i]) + "\n";

  if (const char* update = std::getenv("PRIVWATCH_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream f(kGoldenPath, std::ios::binary | std::ios::trunc);
    f << digests;
    ASSERT_TRUE(f.good()) << "cannot write " << kGoldenPath;
    GTEST_SKIP() << "wrote " << kGoldenPath;
  }

  std::ifstream f(kGoldenPath, std::ios::binary);
  ASSERT_TRUE(f.is_open()) << "missing " << kGoldenPath;
  std::stringstream golden;
  golden << f.rdbuf();
  const std::vector<std::string> want = lines_of(golden.str());
  ASSERT_EQ(want.size(), kEvents) << kGoldenPath << ": one line per event";
  size_t differ = 0;
  for (size_t i = 0; i < kEvents; ++i) {
    const std::string have = digest_line(i, got[i]);
    if (have == want[i]) continue;
    if (++differ > 3) continue;  // the first three are enough to start from
    ADD_FAILURE() << "event " << i << ": want " << want[i] << ", got " << have
                  << "\n  JSON now: " << got[i].substr(0, 400);
  }
  EXPECT_EQ(differ, 0u) << "events whose JSON differs from the golden file "
                           "(PRIVWATCH_GOLDEN_DUMP=file writes the whole output to diff)";
}

// The same events encoded one by one into a reused buffer give the same bytes as appending
// them all to one buffer (empty-object rollback and growth never depend on what came before).
TEST(EcsJsonGoldenTest, EncodingDoesNotDependOnTheBufferContent) {
  const std::vector<std::string> all = lines_of(encode_all(nullptr));
  ASSERT_EQ(all.size(), kEvents);
  Rng r(20261203);
  const char* const hosts[] = {"app-3", "", "h\"ost\xff", "db-servers-01.example.com"};
  std::string one;
  one.reserve(16);  // small: the encoder has to grow it
  for (size_t i = 0; i < kEvents; ++i) {
    const model::Event ev = make_event(r, i);
    one.clear();
    append_ecs_json(ev, one, r.pick(hosts));
    ASSERT_EQ(one, all[i]) << "event " << i;
  }
}

}  // namespace
}  // namespace privwatch::exporter
