// ECS JSON serialisation: every event kind parsed back with nlohmann::json.
#include "export/ecs_json.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <array>
#include <nlohmann/json.hpp>

#include "util/time.hpp"

namespace privwatch::exporter {
namespace {

using nlohmann::json;

constexpr uint64_t kBootNs = 5'000'000'000ull;  // ts_ns: 5 s after boot
// 2026-11-22T02:14:15.123456789Z
constexpr uint64_t kWallNs = 1795313655ull * 1'000'000'000ull + 123'456'789ull;

model::Event base_event(model::EventKind kind) {
  model::Event ev;
  ev.kind = kind;
  ev.flags = model::kFlagMonitored;
  ev.syscall = 59;
  ev.ts_ns = kBootNs;
  ev.wall_time_ns = kWallNs;
  auto& p = ev.proc;
  p.start_ns = 1'000'000'000ull;  // 4 s before the event
  p.parent_start_ns = 500'000'000ull;
  p.cgroup_id = 4242;
  p.pid = 1234;
  p.tid = 1235;
  p.ppid = 1000;
  p.uid = 1000;
  p.euid = 0;
  p.gid = 1001;
  p.egid = 0;
  p.suid = 0;
  p.fsuid = 0;
  p.loginuid = 1000;
  p.sessionid = 7;
  p.tty_dev = (136u << 20) | 3u;
  p.pidns = 4026531836u;
  p.mntns = 4026531841u;
  p.comm = "bash";
  p.tty = "pts3";
  ev.user_name = "alice";
  ev.effective_user_name = "root";
  ev.login_user_name = "alice";
  ev.group_name = "alice";
  ev.exe = "/usr/bin/bash";
  ev.parent_exe = "/usr/bin/sudo";
  ev.parent_comm = "sudo";
  ev.parent_args = {"sudo", "-i"};
  return ev;
}

json to_json(const model::Event& ev, std::string_view host = "app-3") {
  std::string out;
  append_ecs_json(ev, out, host);
  EXPECT_EQ(out.find('\n'), std::string::npos) << out;
  json j = json::parse(out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not valid JSON: " << out;
  return j;
}

std::vector<std::string> strings(const json& a) {
  std::vector<std::string> v;
  for (const auto& e : a) v.push_back(e.get<std::string>());
  return v;
}

using Strs = std::vector<std::string>;

// --- building blocks ---------------------------------------------------------------------

TEST(EcsJsonTest, Rfc3339Timestamps) {
  auto ts = [](uint64_t ns) {
    std::string s;
    util::append_rfc3339_ns(s, ns);
    return s;
  };
  EXPECT_EQ(ts(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(ts(kWallNs), "2026-11-22T02:14:15.123456789Z");
  EXPECT_EQ(ts(1709251199ull * 1'000'000'000ull + 999'999'999ull),
            "2024-02-29T23:59:59.999999999Z");
  EXPECT_EQ(ts(951868800ull * 1'000'000'000ull + 1), "2000-03-01T00:00:00.000000001Z");
}

TEST(EcsJsonTest, EscapesQuotesBackslashAndControlCharacters) {
  const std::string raw = std::string("a\"b\\c\nd\re\tf\bg\fh") + '\x01' + '\x1f' + '\x7f' +
                          std::string(1, '\0') + "/end";
  std::string out;
  append_json_string(out, raw);
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001\\u001f\\u007f\\u0000/end\"");
  EXPECT_EQ(json::parse(out).get<std::string>(), raw);
}

TEST(EcsJsonTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string valid = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // é € 😀
  struct Case {
    std::string in, expected;
  };
  const std::string fffd = "\xef\xbf\xbd";
  const Case cases[] = {
      {valid, valid},
      {"a\xff"
       "b",
       "a" + fffd + "b"},
      {"\xe2\x82", fffd + fffd},                        // truncated sequence
      {"\xc0\xaf", fffd + fffd},                        // overlong '/'
      {"\xed\xa0\x80", fffd + fffd + fffd},             // UTF-16 surrogate
      {"\xf4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
      {"x\x80", "x" + fffd},                            // lone continuation byte
      {valid + "\xfe", valid + fffd},
  };
  for (const auto& c : cases) {
    std::string out;
    append_json_string(out, c.in);
    json j = json::parse(out, nullptr, false);  // nlohmann rejects invalid UTF-8
    ASSERT_FALSE(j.is_discarded()) << out;
    EXPECT_EQ(j.get<std::string>(), c.expected) << out;
  }
}

// A byte-by-byte reference for append_json_string, written independently of the encoder's
// 8-byte scan and its UTF-8 validator: decode the sequence and check its range.
std::string reference_json_string(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
      uint32_t cp = n == 4 ? c & 0x07u : n == 3 ? c & 0x0Fu : c & 0x1Fu;
      bool ok = n != 0 && i + n <= s.size() && c <= 0xF4;
      for (size_t k = 1; ok && k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        ok = (b & 0xC0) == 0x80;
        cp = (cp << 6) | (b & 0x3Fu);
      }
      static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};  // shortest form
      ok = ok && cp >= kMin[n] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
      out += ok ? std::string(s.substr(i, n)) : "\\ufffd";
      i += ok ? n : 1;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out + "\"";
}

TEST(EcsJsonTest, JsonStringMatchesAByteByByteReference) {
  EXPECT_EQ(reference_json_string("a\"\xc3\xa9\xff\x01"), "\"a\\\"\xc3\xa9\\ufffd\\u0001\"");
  // Strings of every length around the 8-byte words, plain runs broken by escapes and UTF-8
  // (valid, truncated, overlong) at every offset, appended after existing content.
  const std::string pieces[] = {"a",
                                "Z",
                                " ",
                                "~",
                                "\"",
                                "\\",
                                "\n",
                                "\x01",
                                "\x1f",
                                "\x7f",
                                "\xc3\xa9",
                                "\xe2\x82\xac",
                                "\xf0\x9f\x98\x80",
                                "\xc3",
                                "\xe2\x82",
                                "\xc0\xaf",
                                "\xed\xa0\x80",
                                "\xf4\x90\x80\x80",
                                "\x80",
                                "\xff",
                                "/usr/bin/",
                                "select 1",
                                "\b",
                                "\f",
                                "\t",
                                "\r",
                                std::string(1, '\0')};
  uint64_t x = 42;
  auto next = [&x] {  // xorshift64
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const size_t len = round % 500 == 0 ? 3000 + next() % 3000 : next() % 40;
    const unsigned plain_odds = 1 + next() % 16;  // from dense escapes to long plain runs
    while (s.size() < len) {
      s += next() % plain_odds != 0 ? std::string(1, static_cast<char>('a' + next() % 26))
                                    : pieces[next() % std::size(pieces)];
    }
    std::string out(next() % 24, '#');  // existing content stays
    const std::string prefix = out;
    if (round % 3 == 0) out.shrink_to_fit();
    append_json_string(out, s);
    ASSERT_EQ(out, prefix + reference_json_string(s)) << "round " << round;
  }
}

// Long values that expand six-fold: the buffer grows while escaping and nothing is lost.
TEST(EcsJsonTest, LongValuesFullOfEscapesGrowTheBuffer) {
  auto ev = base_event(model::EventKind::kTty);
  model::TtyData t;
  t.op = model::TtyOp::kOutput;
  t.tty = "pts3";
  for (int i = 0; i < 40000; ++i) t.data += (i % 3 == 0) ? "\x01\xff" : "\"x";
  t.result = static_cast<int64_t>(t.data.size());
  ev.data = t;
  std::string out = "prefix:";
  append_ecs_json(ev, out, "h");
  ASSERT_EQ(out.rfind("prefix:{", 0), 0u);
  const json j = json::parse(out.substr(7));
  std::string want;
  for (int i = 0; i < 40000; ++i) want += (i % 3 == 0) ? "\x01\xef\xbf\xbd" : "\"x";
  EXPECT_EQ(j["privwatch"]["tty"]["data"], want);
  EXPECT_EQ(j["privwatch"]["tty"]["captured_bytes"], t.data.size());
}

TEST(EcsJsonTest, NumbersAtEveryDigitCountBoundary) {
  std::vector<uint64_t> values = {0, 1, UINT64_MAX, UINT64_MAX - 1};
  for (uint64_t p = 1, k = 0; k < 20; ++k, p *= 10) {
    values.insert(values.end(), {p - 1, p, p + 1});
  }
  for (const uint64_t v : values) {
    auto ev = base_event(model::EventKind::kPtrace);
    ev.proc.cgroup_id = v;
    ev.proc.pid = static_cast<uint32_t>(v);
    ev.proc.start_ns = v;
    ev.proc.loginuid = static_cast<uint32_t>(v) == model::kUnsetId ? 0 : static_cast<uint32_t>(v);
    ev.data = model::PtraceData{-1, -static_cast<int64_t>(v >> 1), static_cast<uint32_t>(v)};
    const json j = to_json(ev);
    EXPECT_EQ(j["privwatch"]["cgroup_id"].get<uint64_t>(), v);
    EXPECT_EQ(j["process"]["pid"].get<uint32_t>(), static_cast<uint32_t>(v));
    EXPECT_EQ(j["user"]["audit"]["id"], std::to_string(ev.proc.loginuid));
    EXPECT_EQ(j["process"]["entity_id"], std::to_string(static_cast<uint32_t>(v)) + "-" +
                                             std::to_string(model::ns_to_ticks(v)));
    EXPECT_EQ(j["privwatch"]["ptrace"]["request"].get<int64_t>(), -static_cast<int64_t>(v >> 1));
  }
  auto ev = base_event(model::EventKind::kPtrace);
  ev.data = model::PtraceData{-1, INT64_MIN, 0};
  EXPECT_EQ(to_json(ev)["privwatch"]["ptrace"]["request"].get<int64_t>(), INT64_MIN);
}

TEST(EcsJsonTest, HostileStringsInEventsStayValidJson) {
  auto ev = base_event(model::EventKind::kExec);
  model::ExecData d;
  d.filename = "/tmp/\"evil\"\n\\x";
  d.exe_path = std::string("/tmp/\xff\xfe\x01name");
  d.args = {"sh", "-c", "echo \"}\n{\" \x1b[31m \xc3"};
  d.cwd = "/tmp";
  ev.data = d;
  ev.proc.comm = std::string("a\0b", 3);
  const json j = to_json(ev, "host\"\n");
  EXPECT_EQ(j["process"]["args"][2], "echo \"}\n{\" \x1b[31m \xef\xbf\xbd");
  EXPECT_EQ(j["process"]["command_line"], "sh -c echo \"}\n{\" \x1b[31m \xef\xbf\xbd");
  EXPECT_EQ(j["process"]["name"], std::string("a\0b", 3));
  EXPECT_EQ(j["privwatch"]["exec"]["filename"], "/tmp/\"evil\"\n\\x");
  EXPECT_EQ(j["host"]["hostname"], "host\"\n");
}

TEST(EcsJsonTest, AppendsToExistingContentAndReusesCapacity) {
  auto ev = base_event(model::EventKind::kFork);
  ev.data = model::ForkData{1300, 6'000'000'000ull};
  std::string out = "[";
  append_ecs_json(ev, out, "h");
  ASSERT_EQ(out.rfind("[{\"@timestamp\":", 0), 0u) << out;
  const std::string first = out.substr(1);
  out.clear();
  const size_t cap = out.capacity();
  append_ecs_json(ev, out, "h");
  EXPECT_EQ(out, first);  // deterministic
  EXPECT_EQ(out.capacity(), cap);
}

TEST(EcsJsonTest, NameTables) {
  EXPECT_EQ(errno_name(2), "ENOENT");
  EXPECT_EQ(errno_name(13), "EACCES");
  EXPECT_EQ(errno_name(524), "ENOTSUPP");
  EXPECT_EQ(errno_name(0), "");
  EXPECT_EQ(model::cred_syscall_name(SYS_setresuid), "setresuid");
  EXPECT_EQ(model::cred_syscall_name(SYS_capset), "capset");
  EXPECT_EQ(model::cred_syscall_name(SYS_read), "");
  EXPECT_EQ(ptrace_request_name(16), "PTRACE_ATTACH");
  EXPECT_EQ(ptrace_request_name(0x4206), "PTRACE_SEIZE");
  EXPECT_EQ(ptrace_request_name(12345), "");
  EXPECT_EQ(bpf_cmd_name(5), "BPF_PROG_LOAD");
  EXPECT_EQ(bpf_cmd_name(28), "BPF_LINK_CREATE");
  EXPECT_EQ(bpf_cmd_name(1000), "");
  EXPECT_EQ(bpf_prog_type_name(29), "BPF_PROG_TYPE_LSM");
  char buf[16];
  EXPECT_EQ(signal_name(15, buf), "SIGTERM");
  EXPECT_EQ(signal_name(9, buf), "SIGKILL");
  EXPECT_EQ(signal_name(0, buf), "");
  EXPECT_EQ(signal_name(32, buf), "SIG32");
  EXPECT_EQ(signal_name(34, buf), "SIGRTMIN");
  EXPECT_EQ(signal_name(36, buf), "SIGRTMIN+2");
  EXPECT_EQ(signal_name(60, buf), "SIGRTMAX-4");
  EXPECT_EQ(signal_name(64, buf), "SIGRTMAX");
  EXPECT_EQ(signal_name(65, buf), "");
}

// --- common fields -------------------------------------------------------------------------

TEST(EcsJsonTest, ExecEventCarriesProcessUserAndPrivwatchFields) {
  auto ev = base_event(model::EventKind::kExec);
  model::ExecData d;
  d.flags = model::kExecSetuid;
  d.args_size = 17;
  d.exe_mode = 0104755;
  d.exe_uid = 0;
  d.exe_ino = 99;
  d.exe_dev = 2049;
  d.filename = "passwd";
  d.exe_path = "/usr/bin/passwd";
  d.cwd = "/home/alice";
  d.args = {"passwd", "bob"};
  ev.data = d;
  const json j = to_json(ev);

  EXPECT_EQ(j["@timestamp"], "2026-11-22T02:14:15.123456789Z");
  EXPECT_EQ(j["event"]["kind"], "event");
  EXPECT_EQ(j["event"]["module"], "privwatch");
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"process"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"start"});
  EXPECT_EQ(j["event"]["action"], "exec");
  EXPECT_EQ(j["event"]["outcome"], "success");
  EXPECT_FALSE(j.contains("error"));
  EXPECT_EQ(j["host"]["hostname"], "app-3");

  const json& p = j["process"];
  EXPECT_EQ(p["pid"], 1234);
  EXPECT_EQ(p["thread"]["id"], 1235);
  EXPECT_EQ(p["name"], "bash");
  EXPECT_EQ(p["executable"], "/usr/bin/passwd");
  EXPECT_EQ(strings(p["args"]), (Strs{"passwd", "bob"}));
  EXPECT_EQ(p["args_count"], 2);
  EXPECT_EQ(p["command_line"], "passwd bob");
  EXPECT_EQ(p["working_directory"], "/home/alice");
  EXPECT_EQ(p["start"], "2026-11-22T02:14:11.123456789Z");  // 4 s before the event
  EXPECT_EQ(p["entity_id"], "1234-100");                    // 1 s after boot = 100 ticks
  EXPECT_EQ(p["tty"]["char_device"]["major"], 136);
  EXPECT_EQ(p["tty"]["char_device"]["minor"], 3);
  EXPECT_EQ(p["parent"]["pid"], 1000);
  EXPECT_EQ(p["parent"]["entity_id"], "1000-50");
  EXPECT_EQ(p["parent"]["start"], "2026-11-22T02:14:10.623456789Z");
  EXPECT_EQ(p["parent"]["executable"], "/usr/bin/sudo");
  EXPECT_EQ(p["parent"]["name"], "sudo");
  EXPECT_EQ(strings(p["parent"]["args"]), (Strs{"sudo", "-i"}));
  EXPECT_EQ(p["user"]["id"], "0");
  EXPECT_EQ(p["user"]["name"], "root");
  EXPECT_EQ(p["real_user"]["id"], "1000");
  EXPECT_EQ(p["real_user"]["name"], "alice");
  EXPECT_EQ(p["saved_user"]["id"], "0");
  EXPECT_EQ(p["group"]["id"], "0");
  EXPECT_EQ(p["real_group"]["id"], "1001");
  EXPECT_EQ(p["real_group"]["name"], "alice");
  EXPECT_FALSE(p.contains("exit_code"));

  EXPECT_EQ(j["user"]["id"], "1000");
  EXPECT_EQ(j["user"]["name"], "alice");
  EXPECT_EQ(j["user"]["effective"]["id"], "0");
  EXPECT_EQ(j["user"]["effective"]["name"], "root");
  EXPECT_EQ(j["user"]["audit"]["id"], "1000");
  EXPECT_EQ(j["user"]["audit"]["name"], "alice");
  EXPECT_EQ(j["group"]["id"], "1001");
  EXPECT_EQ(j["group"]["name"], "alice");

  const json& pw = j["privwatch"];
  EXPECT_EQ(pw["kind"], "exec");
  EXPECT_EQ(pw["monitored"], true);
  EXPECT_EQ(pw["sensitive"], false);
  EXPECT_EQ(pw["truncated"], false);
  EXPECT_EQ(pw["read_failure"], false);
  EXPECT_EQ(pw["syscall"], 59);
  EXPECT_EQ(pw["cgroup_id"], 4242);
  EXPECT_EQ(pw["pidns"], 4026531836u);
  EXPECT_EQ(pw["mntns"], 4026531841u);
  EXPECT_EQ(pw["audit_session_id"], 7);
  EXPECT_EQ(pw["tty"], "pts3");
  EXPECT_EQ(pw["exec"]["filename"], "passwd");
  EXPECT_EQ(pw["exec"]["setuid"], true);
  EXPECT_EQ(pw["exec"]["setgid"], false);
  EXPECT_EQ(pw["exec"]["memfd"], false);
  EXPECT_EQ(pw["exec"]["deleted"], false);
  EXPECT_EQ(pw["exec"]["args_truncated"], false);
  EXPECT_EQ(pw["exec"]["args_size"], 17);
  EXPECT_EQ(pw["exec"]["failed"], false);
  EXPECT_EQ(pw["exec"]["exe_mode"], "4755");
  EXPECT_EQ(pw["exec"]["exe_ino"], 99);
}

TEST(EcsJsonTest, UnknownAndUnsetFieldsAreOmittedButIdsStay) {
  model::Event ev;  // all defaults: root, no names, no tty, no loginuid
  ev.kind = model::EventKind::kExit;
  ev.syscall = ~0u;
  ev.data = model::ExitData{0};
  const json j = to_json(ev, "");
  EXPECT_FALSE(j.contains("host"));
  EXPECT_FALSE(j["process"].contains("name"));
  EXPECT_FALSE(j["process"].contains("executable"));
  EXPECT_FALSE(j["process"].contains("tty"));
  EXPECT_FALSE(j["process"].contains("start"));
  EXPECT_FALSE(j["process"].contains("args"));
  EXPECT_FALSE(j["process"]["parent"].contains("entity_id"));
  EXPECT_EQ(j["process"]["pid"], 0);
  EXPECT_EQ(j["process"]["parent"]["pid"], 0);
  EXPECT_EQ(j["process"]["user"]["id"], "0");
  EXPECT_FALSE(j["process"]["user"].contains("name"));
  EXPECT_EQ(j["user"]["id"], "0");
  EXPECT_FALSE(j["user"].contains("name"));
  EXPECT_FALSE(j["user"].contains("audit"));
  EXPECT_FALSE(j["event"].contains("outcome"));
  EXPECT_FALSE(j["privwatch"].contains("syscall"));
  EXPECT_FALSE(j["privwatch"].contains("audit_session_id"));
  EXPECT_FALSE(j["privwatch"].contains("tty"));
  EXPECT_EQ(j["privwatch"]["monitored"], false);
}

TEST(EcsJsonTest, PayloadThatDoesNotMatchTheKindStillSerialises) {
  auto ev = base_event(model::EventKind::kFile);
  ev.data = std::monostate{};
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"file"});
  EXPECT_FALSE(j.contains("file"));
}

// --- per kind ------------------------------------------------------------------------------

TEST(EcsJsonTest, FailedExecHasOutcomeAndErrorCode) {
  auto ev = base_event(model::EventKind::kExec);
  model::ExecData d;
  d.result = -2;
  d.flags = model::kExecFailed;
  d.filename = "/nonexistent";
  d.args = {"/nonexistent"};
  ev.data = d;
  const json j = to_json(ev);
  EXPECT_EQ(j["event"]["outcome"], "failure");
  EXPECT_EQ(j["error"]["code"], "ENOENT");
  EXPECT_EQ(j["error"]["message"], "No such file or directory");
  EXPECT_EQ(j["privwatch"]["exec"]["failed"], true);
  EXPECT_EQ(j["process"]["executable"], "/usr/bin/bash");  // still the old image
}

// Whatever ExecData.exe_path holds, a failed exec never reports the file it tried as the
// process's executable: that is privwatch.exec.filename / attempted_path.
TEST(EcsJsonTest, FailedExecNeverReportsTheAttemptedFileAsTheExecutable) {
  auto ev = base_event(model::EventKind::kExec);
  ev.syscall = SYS_execve;
  model::ExecData d;
  d.result = -2;
  d.flags = model::kExecFailed;
  d.filename = "./missing";
  d.exe_path = "/home/alice/missing";  // what an older decoder filled in
  d.cwd = "/home/alice";
  ev.data = d;
  json j = to_json(ev);
  EXPECT_EQ(j["process"]["executable"], "/usr/bin/bash");
  EXPECT_EQ(j["process"]["working_directory"], "/home/alice");
  EXPECT_EQ(j["privwatch"]["exec"]["filename"], "./missing");
  EXPECT_EQ(j["privwatch"]["exec"]["attempted_path"], "/home/alice/missing");

  // Failure told only by the result: the same.
  d.flags = 0;
  ev.data = d;
  j = to_json(ev);
  EXPECT_EQ(j["process"]["executable"], "/usr/bin/bash");
  EXPECT_EQ(j["privwatch"]["exec"]["failed"], true);

  // Unknown old image: absent, not the attempted file.
  ev.exe.clear();
  j = to_json(ev);
  EXPECT_FALSE(j["process"].contains("executable"));

  // A successful exec does report what it executed.
  d.result = 0;
  ev.data = d;
  j = to_json(ev);
  EXPECT_EQ(j["process"]["executable"], "/home/alice/missing");
  EXPECT_FALSE(j["privwatch"]["exec"].contains("attempted_path"));
}

TEST(EcsJsonTest, FailedExecAttemptedPathIsResolvedAgainstTheWorkingDirectory) {
  auto attempted = [](uint32_t syscall, std::string filename, std::string cwd) -> json {
    auto ev = base_event(model::EventKind::kExec);
    ev.syscall = syscall;
    model::ExecData d;
    d.result = -13;
    d.flags = model::kExecFailed;
    d.filename = std::move(filename);
    d.cwd = std::move(cwd);
    ev.data = d;
    const json j = to_json(ev);
    EXPECT_EQ(j["process"]["executable"], "/usr/bin/bash");
    const json& x = j["privwatch"]["exec"];
    return x.contains("attempted_path") ? x["attempted_path"] : json();
  };
  EXPECT_EQ(attempted(SYS_execve, "../bin/./tool", "/home/alice/src"), "/home/alice/bin/tool");
  EXPECT_EQ(attempted(SYS_execve, "x", "/"), "/x");
  EXPECT_EQ(attempted(SYS_execve, "//usr/../tmp//x", ""), "/tmp/x");  // absolute: no cwd needed
  EXPECT_EQ(attempted(SYS_execve, "../../..", "/a"), "/");
  EXPECT_EQ(attempted(SYS_execveat, "/tmp/./x", "/root"), "/tmp/x");
  // Relative to an execveat directory descriptor the event does not carry: no guess.
  EXPECT_TRUE(attempted(SYS_execveat, "x", "/root").is_null());
  EXPECT_TRUE(attempted(SYS_execve, "x", "").is_null());  // cwd unknown
}

TEST(EcsJsonTest, ForkEvent) {
  auto ev = base_event(model::EventKind::kFork);
  ev.syscall = ~0u;
  ev.data = model::ForkData{1300, 4'990'000'000ull};
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"process"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"start"});
  EXPECT_EQ(j["event"]["action"], "fork");
  EXPECT_FALSE(j["event"].contains("outcome"));
  EXPECT_EQ(j["privwatch"]["fork"]["child_pid"], 1300);
  EXPECT_EQ(j["privwatch"]["fork"]["child_entity_id"], "1300-499");
  EXPECT_EQ(j["privwatch"]["fork"]["child_start"], "2026-11-22T02:14:15.113456789Z");
}

TEST(EcsJsonTest, ExitEventNormalAndSignaled) {
  auto ev = base_event(model::EventKind::kExit);
  ev.data = model::ExitData{3u << 8};
  json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"end"});
  EXPECT_EQ(j["event"]["action"], "exit");
  EXPECT_EQ(j["process"]["exit_code"], 3);
  EXPECT_EQ(j["privwatch"]["exit"]["status"], 3);
  EXPECT_EQ(j["privwatch"]["exit"]["signal"], 0);
  EXPECT_FALSE(j["privwatch"]["exit"].contains("signal_name"));

  ev.data = model::ExitData{9u | 0x80u};
  j = to_json(ev);
  EXPECT_EQ(j["process"]["exit_code"], 137);
  EXPECT_EQ(j["privwatch"]["exit"]["signal"], 9);
  EXPECT_EQ(j["privwatch"]["exit"]["signal_name"], "SIGKILL");
  EXPECT_EQ(j["privwatch"]["exit"]["core_dumped"], true);
}

model::FileData file_data(model::FileOp op, std::string path) {
  model::FileData f;
  f.op = op;
  f.path = std::move(path);
  f.requested_path = "rel/" + f.path.substr(f.path.rfind('/') + 1);
  return f;
}

TEST(EcsJsonTest, FileOpenCreatedIsCreationWithModeAndFlags) {
  auto ev = base_event(model::EventKind::kFile);
  ev.syscall = SYS_openat;
  auto f = file_data(model::FileOp::kOpen, "/etc/sudoers.d/evil");
  f.result = 3;
  f.open_flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  f.mode = 0600;
  f.file_flags = model::kFileCreated | model::kFileWrite;
  ev.data = f;
  ev.flags |= model::kFlagSensitive;
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"file"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"creation"});
  EXPECT_EQ(j["event"]["action"], "open");
  EXPECT_EQ(j["event"]["outcome"], "success");
  EXPECT_EQ(j["file"]["path"], "/etc/sudoers.d/evil");
  EXPECT_EQ(j["file"]["name"], "evil");
  EXPECT_EQ(j["file"]["directory"], "/etc/sudoers.d");
  EXPECT_EQ(j["file"]["mode"], "0600");
  EXPECT_FALSE(j["file"].contains("target_path"));
  EXPECT_EQ(strings(j["privwatch"]["file"]["flags"]),
            (Strs{"O_WRONLY", "O_CREAT", "O_EXCL", "O_CLOEXEC"}));
  EXPECT_EQ(j["privwatch"]["file"]["requested_path"], "rel/evil");
  EXPECT_EQ(j["privwatch"]["file"]["created"], true);
  EXPECT_EQ(j["privwatch"]["file"]["write"], true);
  EXPECT_EQ(j["privwatch"]["file"]["dirfd"], -100);
  EXPECT_EQ(j["privwatch"]["sensitive"], true);
}

TEST(EcsJsonTest, FileOpenForReadingIsAccessWithoutMode) {
  auto ev = base_event(model::EventKind::kFile);
  auto f = file_data(model::FileOp::kOpen, "/etc/shadow");
  f.open_flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
  f.mode = 0;
  ev.data = f;
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"access"});
  EXPECT_FALSE(j["file"].contains("mode"));
  EXPECT_EQ(strings(j["privwatch"]["file"]["flags"]),
            (Strs{"O_RDONLY", "O_NOFOLLOW", "O_CLOEXEC"}));

  f.open_flags = O_RDWR | O_TMPFILE | O_SYNC;
  f.mode = 0644;
  ev.data = f;
  const json t = to_json(ev);
  EXPECT_EQ(strings(t["privwatch"]["file"]["flags"]), (Strs{"O_RDWR", "O_SYNC", "O_TMPFILE"}));
  EXPECT_EQ(t["file"]["mode"], "0644");
}

TEST(EcsJsonTest, FileOpsMapToEcsTypesAndActions) {
  struct Case {
    model::FileOp op;
    const char* action;
    const char* type;
  };
  const Case cases[] = {
      {model::FileOp::kUnlink, "unlink", "deletion"},
      {model::FileOp::kRmdir, "rmdir", "deletion"},
      {model::FileOp::kRename, "rename", "change"},
      {model::FileOp::kChmod, "chmod", "change"},
      {model::FileOp::kChown, "chown", "change"},
      {model::FileOp::kTruncate, "truncate", "change"},
      {model::FileOp::kMkdir, "mkdir", "creation"},
      {model::FileOp::kLink, "link", "creation"},
      {model::FileOp::kSymlink, "symlink", "creation"},
  };
  for (const auto& c : cases) {
    auto ev = base_event(model::EventKind::kFile);
    ev.data = file_data(c.op, "/srv/x");
    const json j = to_json(ev);
    EXPECT_EQ(j["event"]["action"], c.action);
    EXPECT_EQ(strings(j["event"]["type"]), Strs{c.type}) << c.action;
    EXPECT_FALSE(j["privwatch"]["file"].contains("flags")) << c.action;
  }
}

TEST(EcsJsonTest, FailedUnlinkHasErrorCode) {
  auto ev = base_event(model::EventKind::kFile);
  auto f = file_data(model::FileOp::kUnlink, "/var/log/auth.log");
  f.result = -13;
  ev.data = f;
  const json j = to_json(ev);
  EXPECT_EQ(j["event"]["outcome"], "failure");
  EXPECT_EQ(j["error"]["code"], "EACCES");
}

TEST(EcsJsonTest, RenameChmodChownSymlinkDetails) {
  auto ev = base_event(model::EventKind::kFile);
  auto f = file_data(model::FileOp::kRename, "/tmp/x");
  f.target_path = "/usr/local/bin/x";
  f.requested_target = "/usr/local/bin/x";
  ev.data = f;
  json j = to_json(ev);
  EXPECT_EQ(j["file"]["path"], "/tmp/x");
  EXPECT_EQ(j["file"]["target_path"], "/usr/local/bin/x");
  EXPECT_EQ(j["privwatch"]["file"]["requested_target"], "/usr/local/bin/x");

  f = file_data(model::FileOp::kChmod, "/tmp/x");
  f.mode = 04755;
  ev.data = f;
  j = to_json(ev);
  EXPECT_EQ(j["file"]["mode"], "4755");

  f = file_data(model::FileOp::kChown, "/tmp/x");
  f.uid = 0;
  f.gid = model::kUnsetId;
  ev.data = f;
  j = to_json(ev);
  EXPECT_EQ(j["file"]["uid"], "0");
  EXPECT_FALSE(j["file"].contains("gid"));
  EXPECT_FALSE(j["file"].contains("mode"));

  // symlink(target="../etc/shadow", linkpath="s") in /tmp: ECS file.path is the link and
  // file.target_path its content as stored.
  f = file_data(model::FileOp::kSymlink, "/etc/shadow");
  f.requested_path = "../etc/shadow";
  f.target_path = "/tmp/s";
  f.requested_target = "s";
  ev.data = f;
  j = to_json(ev);
  EXPECT_EQ(j["file"]["path"], "/tmp/s");
  EXPECT_EQ(j["file"]["name"], "s");
  EXPECT_EQ(j["file"]["directory"], "/tmp");
  EXPECT_EQ(j["file"]["target_path"], "../etc/shadow");
  EXPECT_EQ(j["file"]["type"], "symlink");
  EXPECT_EQ(j["privwatch"]["file"]["requested_path"], "s");
  EXPECT_EQ(j["privwatch"]["file"]["requested_target"], "../etc/shadow");

  f = file_data(model::FileOp::kMkdir, "/x");
  f.mode = 0755;
  ev.data = f;
  j = to_json(ev);
  EXPECT_EQ(j["file"]["directory"], "/");
  EXPECT_EQ(j["file"]["name"], "x");
  EXPECT_EQ(j["file"]["type"], "dir");
  EXPECT_EQ(j["file"]["mode"], "0755");
}

model::NetData net_v4(model::NetOp op) {
  model::NetData n;
  n.op = op;
  n.family = AF_INET;
  n.sock_type = SOCK_STREAM;
  n.protocol = IPPROTO_TCP;
  n.fd = 5;
  inet_pton(AF_INET, "10.0.0.5", n.local_addr.data());
  inet_pton(AF_INET, "203.0.113.9", n.remote_addr.data());
  n.local_port = 51000;
  n.remote_port = 4444;
  return n;
}

TEST(EcsJsonTest, NetConnectIsEgressFromLocalToRemote) {
  auto ev = base_event(model::EventKind::kNet);
  ev.data = net_v4(model::NetOp::kConnect);
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"network"});
  EXPECT_EQ(strings(j["event"]["type"]), (Strs{"connection", "start"}));
  EXPECT_EQ(j["event"]["action"], "connect");
  EXPECT_EQ(j["source"]["ip"], "10.0.0.5");
  EXPECT_EQ(j["source"]["port"], 51000);
  EXPECT_EQ(j["destination"]["ip"], "203.0.113.9");
  EXPECT_EQ(j["destination"]["port"], 4444);
  EXPECT_EQ(j["network"]["transport"], "tcp");
  EXPECT_EQ(j["network"]["type"], "ipv4");
  EXPECT_EQ(j["network"]["direction"], "egress");
  EXPECT_EQ(j["network"]["iana_number"], "6");
  EXPECT_EQ(j["privwatch"]["net"]["fd"], 5);
  EXPECT_EQ(j["privwatch"]["net"]["socket_type"], "stream");
}

TEST(EcsJsonTest, NetConnectWithUnboundLocalOmitsSource) {
  auto ev = base_event(model::EventKind::kNet);
  auto n = net_v4(model::NetOp::kConnect);
  n.local_addr = {};
  n.local_port = 0;
  n.result = -111;
  ev.data = n;
  const json j = to_json(ev);
  EXPECT_FALSE(j.contains("source"));
  EXPECT_EQ(j["destination"]["port"], 4444);
  EXPECT_EQ(j["error"]["code"], "ECONNREFUSED");
}

TEST(EcsJsonTest, NetAcceptIpv6IsIngressFromPeer) {
  auto ev = base_event(model::EventKind::kNet);
  model::NetData n;
  n.op = model::NetOp::kAccept;
  n.family = AF_INET6;
  n.protocol = IPPROTO_TCP;
  inet_pton(AF_INET6, "2001:db8::1", n.local_addr.data());
  inet_pton(AF_INET6, "2001:db8::77", n.remote_addr.data());
  n.local_port = 22;
  n.remote_port = 40000;
  ev.data = n;
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["type"]), (Strs{"connection", "start"}));
  EXPECT_EQ(j["source"]["ip"], "2001:db8::77");
  EXPECT_EQ(j["source"]["port"], 40000);
  EXPECT_EQ(j["destination"]["ip"], "2001:db8::1");
  EXPECT_EQ(j["destination"]["port"], 22);
  EXPECT_EQ(j["network"]["type"], "ipv6");
  EXPECT_EQ(j["network"]["direction"], "ingress");
}

TEST(EcsJsonTest, NetBindListenAndUnix) {
  auto ev = base_event(model::EventKind::kNet);
  auto n = net_v4(model::NetOp::kListen);
  n.local_addr = {};
  n.local_port = 8080;
  n.backlog = 128;
  ev.data = n;
  json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"connection"});
  EXPECT_EQ(j["event"]["action"], "listen");
  EXPECT_EQ(j["source"]["ip"], "0.0.0.0");
  EXPECT_EQ(j["source"]["port"], 8080);
  EXPECT_FALSE(j.contains("destination"));
  EXPECT_FALSE(j["network"].contains("direction"));
  EXPECT_EQ(j["privwatch"]["net"]["backlog"], 128);

  model::NetData u;
  u.op = model::NetOp::kBind;
  u.family = AF_UNIX;
  u.sock_type = SOCK_DGRAM;
  u.unix_path = "/run/evil.sock";
  ev.data = u;
  j = to_json(ev);
  EXPECT_EQ(j["event"]["action"], "bind");
  EXPECT_FALSE(j.contains("source"));
  EXPECT_EQ(j["network"]["type"], "unix");
  EXPECT_FALSE(j["network"].contains("transport"));
  EXPECT_EQ(j["privwatch"]["net"]["unix_path"], "/run/evil.sock");
  EXPECT_EQ(j["privwatch"]["net"]["socket_type"], "dgram");
}

TEST(EcsJsonTest, CredEventNamesTheSyscallAndShowsBeforeAfter) {
  auto ev = base_event(model::EventKind::kCred);
  ev.syscall = SYS_setresuid;
  model::CredData c;
  c.args = {0, 0xffffffffull, 0};
  c.before_valid = true;
  c.before.uid = c.before.euid = c.before.suid = c.before.fsuid = 1000;
  c.before.cap_effective = 0;
  c.after.cap_effective = 0x1ffffffffffull;
  c.after.cap_permitted = 0x1ffffffffffull;
  ev.data = c;
  json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"process"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"change"});
  EXPECT_EQ(j["event"]["action"], "setresuid");
  EXPECT_EQ(j["event"]["outcome"], "success");
  const json& pc = j["privwatch"]["cred"];
  EXPECT_EQ(pc["args"], json::parse("[0, 4294967295, 0]"));
  EXPECT_EQ(pc["before_valid"], true);
  EXPECT_EQ(pc["before"]["uid"], 1000);
  EXPECT_EQ(pc["before"]["cap_effective"], "0000000000000000");
  EXPECT_EQ(pc["after"]["uid"], 0);
  EXPECT_EQ(pc["after"]["cap_effective"], "000001ffffffffff");
  EXPECT_EQ(pc["after"]["cap_permitted"], "000001ffffffffff");

  ev.syscall = SYS_setuid;
  c.before_valid = false;
  c.result = -1;
  ev.data = c;
  j = to_json(ev);
  EXPECT_EQ(j["event"]["action"], "setuid");
  EXPECT_EQ(j["privwatch"]["cred"]["args"], json::parse("[0]"));
  EXPECT_FALSE(j["privwatch"]["cred"].contains("before"));
  EXPECT_EQ(j["error"]["code"], "EPERM");

  ev.syscall = SYS_capset;
  ev.data = model::CredData{};
  EXPECT_EQ(to_json(ev)["event"]["action"], "capset");
}

// privwatch.cred.args follows what bpf/cred.bpf.c stores per call, never a pointer.
TEST(EcsJsonTest, CredArgsPerSyscall) {
  auto args = [](uint32_t nr, std::array<uint64_t, 3> a) -> json {
    auto ev = base_event(model::EventKind::kCred);
    ev.syscall = nr;
    model::CredData c;
    c.args = a;
    ev.data = c;
    const json j = to_json(ev);
    const json& pc = j["privwatch"]["cred"];
    return pc.contains("args") ? pc["args"] : json::array();
  };
  constexpr uint64_t kPtr = 0x7ffd12345678ull;  // what a raw pointer argument looks like
  // capset: the requested effective, permitted, inheritable sets (low 32 bits).
  EXPECT_EQ(args(SYS_capset, {0xfedfffffull, 0xfeffffffull, 0}),
            json::parse("[4276092927, 4278190079, 0]"));
  EXPECT_EQ(args(SYS_capset, {0xffffffff00000001ull, 2, 3}), json::parse("[1, 2, 3]"));
  // setgroups: the count as passed (an int) and the first requested gid, or -1 as unsigned.
  EXPECT_EQ(args(SYS_setgroups, {1, 65534, 0}), json::parse("[1, 65534]"));
  EXPECT_EQ(args(SYS_setgroups, {0, 4294967295u, 0}), json::parse("[0, 4294967295]"));
  EXPECT_EQ(args(SYS_setgroups, {~0ull, 4294967295u, 0}), json::parse("[-1, 4294967295]"));
  // set*id: ids, as many as the call takes; -1 ("unchanged") as 4294967295.
  EXPECT_EQ(args(SYS_setuid, {0, kPtr, kPtr}), json::parse("[0]"));
  EXPECT_EQ(args(SYS_setgid, {100, kPtr, kPtr}), json::parse("[100]"));
  EXPECT_EQ(args(SYS_setfsuid, {1000, kPtr, kPtr}), json::parse("[1000]"));
  EXPECT_EQ(args(SYS_setfsgid, {~0ull, kPtr, kPtr}), json::parse("[4294967295]"));
  EXPECT_EQ(args(SYS_setreuid, {~0ull, 0, kPtr}), json::parse("[4294967295, 0]"));
  EXPECT_EQ(args(SYS_setregid, {5, 6, kPtr}), json::parse("[5, 6]"));
  EXPECT_EQ(args(SYS_setresuid, {1, 2, 3}), json::parse("[1, 2, 3]"));
  EXPECT_EQ(args(SYS_setresgid, {0xffffffffull, 2, 3}), json::parse("[4294967295, 2, 3]"));
  // A call whose layout is unknown prints nothing rather than raw values.
  EXPECT_EQ(args(SYS_read, {3, kPtr, 4096}), json::array());
}

TEST(EcsJsonTest, PtraceEvent) {
  auto ev = base_event(model::EventKind::kPtrace);
  ev.data = model::PtraceData{0, 16, 4321};
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"process"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"access"});
  EXPECT_EQ(j["event"]["action"], "ptrace");
  EXPECT_EQ(j["privwatch"]["ptrace"]["request"], 16);
  EXPECT_EQ(j["privwatch"]["ptrace"]["request_name"], "PTRACE_ATTACH");
  EXPECT_EQ(j["privwatch"]["ptrace"]["target_pid"], 4321);
}

TEST(EcsJsonTest, ModuleEvents) {
  auto ev = base_event(model::EventKind::kModule);
  model::ModuleData m;
  m.op = model::ModuleOp::kFinit;
  m.name = "/tmp/rootkit.ko";
  m.params = "hide=1";
  ev.data = m;
  json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"driver"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"start"});
  EXPECT_EQ(j["event"]["action"], "finit_module");
  EXPECT_EQ(j["privwatch"]["module"]["op"], "finit");
  EXPECT_EQ(j["privwatch"]["module"]["name"], "/tmp/rootkit.ko");
  EXPECT_EQ(j["privwatch"]["module"]["params"], "hide=1");

  m.op = model::ModuleOp::kDelete;
  m.name = "auditd_mod";
  m.params.clear();
  ev.data = m;
  j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"end"});
  EXPECT_EQ(j["event"]["action"], "delete_module");
  EXPECT_FALSE(j["privwatch"]["module"].contains("params"));

  m.op = model::ModuleOp::kInit;
  ev.data = m;
  EXPECT_EQ(to_json(ev)["event"]["action"], "init_module");
}

TEST(EcsJsonTest, BpfEvent) {
  auto ev = base_event(model::EventKind::kBpf);
  model::BpfData b;
  b.cmd = 5;
  b.prog_type = 2;
  b.prog_name = "hide_pid";
  ev.data = b;
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"driver"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"start"});
  EXPECT_EQ(j["event"]["action"], "bpf");
  EXPECT_EQ(j["privwatch"]["bpf"]["cmd"], 5);
  EXPECT_EQ(j["privwatch"]["bpf"]["cmd_name"], "BPF_PROG_LOAD");
  EXPECT_EQ(j["privwatch"]["bpf"]["prog_type"], 2);
  EXPECT_EQ(j["privwatch"]["bpf"]["prog_type_name"], "BPF_PROG_TYPE_KPROBE");
  EXPECT_EQ(j["privwatch"]["bpf"]["prog_name"], "hide_pid");
}

TEST(EcsJsonTest, MountAndUmountEvents) {
  auto ev = base_event(model::EventKind::kMount);
  model::MountData m;
  m.op = model::MountOp::kMount;
  m.source = "/tmp/fake";
  m.target = "/etc/shadow";
  m.fstype = "none";
  m.flags = 0xC0ED0000ull | MS_BIND | MS_REC;
  ev.data = m;
  json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"file"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"change"});
  EXPECT_EQ(j["event"]["action"], "mount");
  EXPECT_EQ(j["file"]["path"], "/etc/shadow");
  EXPECT_EQ(j["privwatch"]["mount"]["source"], "/tmp/fake");
  EXPECT_EQ(j["privwatch"]["mount"]["target"], "/etc/shadow");
  EXPECT_EQ(j["privwatch"]["mount"]["fstype"], "none");
  EXPECT_EQ(strings(j["privwatch"]["mount"]["flag_names"]), (Strs{"MS_BIND", "MS_REC"}));

  model::MountData u;
  u.op = model::MountOp::kUmount;
  u.target = "/mnt/x";
  u.flags = MNT_DETACH;
  u.result = -16;
  ev.data = u;
  j = to_json(ev);
  EXPECT_EQ(j["event"]["action"], "umount");
  EXPECT_EQ(strings(j["privwatch"]["mount"]["flag_names"]), Strs{"MNT_DETACH"});
  EXPECT_FALSE(j["privwatch"]["mount"].contains("source"));
  EXPECT_EQ(j["error"]["code"], "EBUSY");
}

TEST(EcsJsonTest, SignalEvent) {
  auto ev = base_event(model::EventKind::kSignal);
  ev.data = model::SignalData{0, 777, 15};
  const json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"process"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"access"});
  EXPECT_EQ(j["event"]["action"], "signal");
  EXPECT_EQ(j["privwatch"]["signal"]["number"], 15);
  EXPECT_EQ(j["privwatch"]["signal"]["name"], "SIGTERM");
  EXPECT_EQ(j["privwatch"]["signal"]["target_pid"], 777);
}

TEST(EcsJsonTest, TtyEvents) {
  auto ev = base_event(model::EventKind::kTty);
  model::TtyData t;
  t.op = model::TtyOp::kOutput;
  t.dev = (136u << 20) | 3;
  t.tty = "pts3";
  t.rows = 24;
  t.cols = 80;
  t.result = 5000;
  t.flags = model::kTtyTruncated;
  t.data = std::string("\x1b[31mok\xff\0", 9);
  ev.data = t;
  json j = to_json(ev);
  EXPECT_EQ(strings(j["event"]["category"]), Strs{"session"});
  EXPECT_EQ(strings(j["event"]["type"]), Strs{"info"});
  EXPECT_EQ(j["event"]["action"], "tty-output");
  const auto& x = j["privwatch"]["tty"];
  EXPECT_EQ(x["name"], "pts3");
  EXPECT_EQ(x["dev_major"], 136);
  EXPECT_EQ(x["dev_minor"], 3);
  EXPECT_EQ(x["bytes"], 5000);
  EXPECT_EQ(x["captured_bytes"], 9);
  EXPECT_EQ(x["truncated"], true);
  EXPECT_EQ(x["data"], std::string("\x1b[31mok\xef\xbf\xbd\0", 11));  // valid JSON always

  t.op = model::TtyOp::kInput;
  t.flags = model::kTtyEchoOff;
  t.data.clear();
  t.result = 9;
  ev.data = t;
  j = to_json(ev);
  EXPECT_EQ(j["event"]["action"], "tty-input-hidden");
  EXPECT_EQ(j["privwatch"]["tty"]["echo_off"], true);
  EXPECT_FALSE(j["privwatch"]["tty"].contains("data"));

  t.op = model::TtyOp::kResize;
  t.flags = 0;
  t.rows = 40;
  t.cols = 120;
  ev.data = t;
  j = to_json(ev);
  EXPECT_EQ(j["event"]["action"], "tty-resize");
  EXPECT_EQ(j["privwatch"]["tty"]["cols"], 120);
  EXPECT_FALSE(j["privwatch"]["tty"].contains("bytes"));
}

}  // namespace
}  // namespace privwatch::exporter
