#include "enrich/process_table.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace privwatch::enrich {
namespace {

namespace fs = std::filesystem;
using model::Event;
using model::EventKind;

constexpr uint64_t kSec = 1'000'000'000ull;

// ---------------------------------------------------------------------------------------
// Event builders

model::ProcessContext ctx(uint32_t pid, uint64_t start_ns, uint32_t ppid = 1,
                          uint64_t parent_start_ns = 0, const std::string& comm = "proc") {
  model::ProcessContext p;
  p.pid = p.tid = pid;
  p.start_ns = start_ns;
  p.ppid = ppid;
  p.parent_start_ns = parent_start_ns;
  p.comm = comm;
  p.uid = p.euid = 1000;
  p.gid = p.egid = 100;
  p.loginuid = 1000;
  p.sessionid = 3;
  return p;
}

Event exec_event(const model::ProcessContext& p, uint64_t ts, const std::string& exe,
                 std::vector<std::string> args = {}, const std::string& cwd = "/") {
  Event ev;
  ev.kind = EventKind::kExec;
  ev.ts_ns = ts;
  ev.proc = p;
  model::ExecData d;
  d.exe_path = exe;
  d.filename = exe;
  d.args = std::move(args);
  d.cwd = cwd;
  ev.data = std::move(d);
  return ev;
}

Event fork_event(const model::ProcessContext& parent, uint64_t ts, uint32_t child_pid,
                 uint64_t child_start_ns) {
  Event ev;
  ev.kind = EventKind::kFork;
  ev.ts_ns = ts;
  ev.proc = parent;
  ev.data = model::ForkData{child_pid, child_start_ns};
  return ev;
}

Event exit_event(const model::ProcessContext& p, uint64_t ts, uint32_t code) {
  Event ev;
  ev.kind = EventKind::kExit;
  ev.ts_ns = ts;
  ev.proc = p;
  ev.data = model::ExitData{code};
  return ev;
}

Event file_event(const model::ProcessContext& p, uint64_t ts) {
  Event ev;
  ev.kind = EventKind::kFile;
  ev.ts_ns = ts;
  ev.proc = p;
  model::FileData f;
  f.path = "/etc/shadow";
  ev.data = std::move(f);
  return ev;
}

// ---------------------------------------------------------------------------------------
// A fake /proc tree in a temporary directory

class FakeProc {
 public:
  FakeProc() {
    std::string tmpl = (fs::temp_directory_path() / "pw-fakeproc-XXXXXX").string();
    char* d = ::mkdtemp(tmpl.data());
    EXPECT_NE(d, nullptr);
    root_ = tmpl;
  }
  ~FakeProc() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  [[nodiscard]] const std::string& root() const { return root_; }

  struct Proc {
    uint32_t pid = 0, ppid = 0;
    std::string comm;
    uint64_t start_ticks = 0;
    std::string exe, cwd;  // "" = no link (kernel thread)
    std::string cmdline;   // raw, NUL separated
    uint32_t uid = 0, euid = 0, gid = 0, egid = 0;
    std::string loginuid = "4294967295", sessionid = "4294967295";
  };

  void add(const Proc& p) {
    const fs::path dir = fs::path(root_) / std::to_string(p.pid);
    fs::create_directories(dir);
    std::string stat = std::to_string(p.pid) + " (" + p.comm + ") S " + std::to_string(p.ppid);
    for (int field = 5; field <= 21; ++field) stat += " 0";
    stat += " " + std::to_string(p.start_ticks) + " 1000 200 18446744073709551615 1 1 0\n";
    write(dir / "stat", stat);
    write(dir / "status", "Name:\t" + p.comm + "\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t" +
                              std::to_string(p.uid) + "\t" + std::to_string(p.euid) + "\t" +
                              std::to_string(p.euid) + "\t" + std::to_string(p.euid) + "\nGid:\t" +
                              std::to_string(p.gid) + "\t" + std::to_string(p.egid) + "\t" +
                              std::to_string(p.egid) + "\t" + std::to_string(p.egid) +
                              "\nGroups:\t\n");
    write(dir / "cmdline", p.cmdline);
    write(dir / "loginuid", p.loginuid);
    write(dir / "sessionid", p.sessionid);
    if (!p.exe.empty()) fs::create_symlink(p.exe, dir / "exe");
    if (!p.cwd.empty()) fs::create_symlink(p.cwd, dir / "cwd");
  }

  void write(const fs::path& path, const std::string& content) {
    std::ofstream f(path, std::ios::binary);
    f << content;
  }

 private:
  std::string root_;
};

// ---------------------------------------------------------------------------------------
// /proc/<pid>/stat parsing

TEST(ProcessStatParse, CommWithSpacesAndParentheses) {
  ProcStat st;
  ASSERT_TRUE(parse_proc_stat(
      "4242 (evil) S 1 (x)) R 777 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 98765 0 0\n", st));
  // A comm can hold ") R 777 …": only the LAST ')' ends it.
  EXPECT_EQ(st.pid, 4242u);
  EXPECT_EQ(st.comm, "evil) S 1 (x)");
  EXPECT_EQ(st.ppid, 777u);
  EXPECT_EQ(st.start_ticks, 98765u);
}

TEST(ProcessStatParse, RejectsMalformedLines) {
  ProcStat st;
  EXPECT_FALSE(parse_proc_stat("", st));
  EXPECT_FALSE(parse_proc_stat("12 comm S 1 0", st));
  EXPECT_FALSE(parse_proc_stat("12 (comm) S 1 0 0", st));  // too short: no starttime
  EXPECT_FALSE(parse_proc_stat("x (comm) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5", st));
}

// ---------------------------------------------------------------------------------------
// Seeding

TEST(ProcessTableSeed, FakeProcTree) {
  FakeProc proc;
  proc.add({.pid = 1,
            .ppid = 0,
            .comm = "systemd",
            .start_ticks = 5,
            .exe = "/usr/lib/systemd",
            .cwd = "/",
            .cmdline = std::string("/sbin/init\0splash\0", 18)});
  proc.add({.pid = 2, .ppid = 0, .comm = "kthreadd", .start_ticks = 5});  // kernel thread
  proc.add({.pid = 4242,
            .ppid = 1,
            .comm = "my (weird) ) proc",
            .start_ticks = 123456,
            .exe = "/opt/weird bin/x",
            .cwd = "/home/alice",
            .cmdline = std::string("x\0--flag\0value with space\0", 26),
            .uid = 1000,
            .euid = 0,
            .gid = 100,
            .egid = 10,
            .loginuid = "1000",
            .sessionid = "7"});
  fs::create_directories(fs::path(proc.root()) / "99");   // vanished: directory, no stat
  fs::create_directories(fs::path(proc.root()) / "sys");  // not a pid
  proc.write(fs::path(proc.root()) / "uptime", "1.0 1.0\n");

  ProcessTable t(100, 10 * kSec);
  Result<size_t> r = t.seed_from_proc(proc.root());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(*r, 3u);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.seed_vanished(), 1u);

  const ProcessInfo* p = t.find({4242, 123456});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->comm, "my (weird) ) proc");
  EXPECT_EQ(p->parent.pid, 1u);
  EXPECT_EQ(p->parent.start_ticks, 5u);  // from the parent's stat
  EXPECT_EQ(p->start_ns, 123456u * 10'000'000ull);
  EXPECT_EQ(p->exe, "/opt/weird bin/x");
  EXPECT_EQ(p->cwd, "/home/alice");
  EXPECT_EQ(p->args, (std::vector<std::string>{"x", "--flag", "value with space"}));
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->euid, 0u);
  EXPECT_EQ(p->gid, 100u);
  EXPECT_EQ(p->egid, 10u);
  EXPECT_EQ(p->loginuid, 1000u);
  EXPECT_EQ(p->sessionid, 7u);
  EXPECT_TRUE(p->seeded);
  EXPECT_FALSE(p->exited);

  // The same pid with another start time is another process: not found.
  EXPECT_EQ(t.find({4242, 123457}), nullptr);

  const ProcessInfo* k = t.find({2, 5});
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->comm, "kthreadd");
  EXPECT_TRUE(k->exe.empty());
  EXPECT_TRUE(k->args.empty());
  EXPECT_EQ(k->loginuid, model::kUnsetId);
  EXPECT_EQ(k->sessionid, model::kUnsetId);
  EXPECT_EQ(k->parent, (ProcessKey{0, 0}));
}

TEST(ProcessTableSeed, BoundsCmdline) {
  FakeProc proc;
  std::string many;
  for (int i = 0; i < 200; ++i) many += "arg" + std::to_string(i) + '\0';
  proc.add({.pid = 10, .ppid = 0, .comm = "many", .start_ticks = 1, .cmdline = many});
  proc.add({.pid = 11,
            .ppid = 0,
            .comm = "long",
            .start_ticks = 1,
            .cmdline = std::string(10000, 'a') + '\0'});
  ProcessTable t(100, kSec);
  ASSERT_TRUE(t.seed_from_proc(proc.root()));
  const ProcessInfo* m = t.find({10, 1});
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->args.size(), ProcessTable::kMaxSeedArgs);
  EXPECT_EQ(m->args.front(), "arg0");
  const ProcessInfo* l = t.find({11, 1});
  ASSERT_NE(l, nullptr);
  ASSERT_EQ(l->args.size(), 1u);
  EXPECT_EQ(l->args[0].size(), ProcessTable::kMaxSeedArgBytes);
}

TEST(ProcessTableSeed, MissingRootIsAnError) {
  ProcessTable t(10, kSec);
  Result<size_t> r = t.seed_from_proc("/nonexistent/privwatch-proc");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kIo);
  EXPECT_NE(r.error().message.find("/nonexistent/privwatch-proc"), std::string::npos);
}

// Independent of parse_proc_stat on purpose: field 22 of /proc/<pid>/stat.
uint64_t start_ticks_of(const std::string& stat_path, uint32_t* ppid = nullptr) {
  std::ifstream f(stat_path);
  std::string line;
  std::getline(f, line);
  const size_t close = line.rfind(')');
  std::vector<std::string> fields;
  std::string cur;
  for (char c : line.substr(close + 2)) {
    if (c == ' ') {
      fields.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  fields.push_back(cur);
  if (ppid != nullptr) *ppid = static_cast<uint32_t>(std::stoul(fields.at(1)));
  return std::stoull(fields.at(19));  // fields[0] is field 3
}

TEST(ProcessTableSeed, RealProcFindsThisProcess) {
  ProcessTable t(1 << 16, kSec);
  Result<size_t> r = t.seed_from_proc();
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_GT(*r, 0u);

  uint32_t ppid = 0;
  const uint64_t ticks = start_ticks_of("/proc/self/stat", &ppid);
  const auto pid = static_cast<uint32_t>(::getpid());
  const ProcessInfo* self = t.find({pid, ticks});
  ASSERT_NE(self, nullptr) << "pid " << pid << " start " << ticks;
  EXPECT_EQ(self->exe, fs::read_symlink("/proc/self/exe").string());
  EXPECT_EQ(self->cwd, fs::current_path().string());
  EXPECT_EQ(self->uid, ::getuid());
  EXPECT_EQ(self->euid, ::geteuid());
  EXPECT_EQ(self->gid, ::getgid());
  ASSERT_FALSE(self->args.empty());
  EXPECT_EQ(self->parent.pid, ppid);
  EXPECT_EQ(self->parent.pid, static_cast<uint32_t>(::getppid()));
  EXPECT_EQ(self->parent.start_ticks, start_ticks_of("/proc/" + std::to_string(ppid) + "/stat"));
  EXPECT_NE(t.find(self->parent), nullptr);
  // Wrong start time: not this process.
  EXPECT_EQ(t.find({pid, ticks + 1}), nullptr);
}

// ---------------------------------------------------------------------------------------
// Event flow

TEST(ProcessTableApply, ExecForkExitFlow) {
  ProcessTable t(100, 5 * kSec);
  const auto bash = ctx(100, 1 * kSec, 1, 0, "bash");
  t.apply(exec_event(bash, 10 * kSec, "/usr/bin/bash", {"bash", "-l"}, "/root"));

  const ProcessInfo* p = t.find({100, 100});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->exe, "/usr/bin/bash");
  EXPECT_EQ(p->args, (std::vector<std::string>{"bash", "-l"}));
  EXPECT_EQ(p->cwd, "/root");
  EXPECT_EQ(p->comm, "bash");
  EXPECT_EQ(p->uid, 1000u);
  EXPECT_EQ(p->loginuid, 1000u);
  EXPECT_EQ(p->last_seen_ns, 10 * kSec);
  EXPECT_FALSE(p->seeded);

  t.apply(fork_event(bash, 11 * kSec, 101, 11 * kSec));
  const ProcessInfo* c = t.find({101, 1100});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->parent, (ProcessKey{100, 100}));
  EXPECT_EQ(c->exe, "/usr/bin/bash");  // inherited until it execs
  EXPECT_EQ(c->args, (std::vector<std::string>{"bash", "-l"}));
  EXPECT_EQ(c->cwd, "/root");
  EXPECT_EQ(c->comm, "bash");
  EXPECT_EQ(c->start_ns, 11 * kSec);
  EXPECT_EQ(c->loginuid, 1000u);

  auto child = ctx(101, 11 * kSec, 100, 1 * kSec, "id");
  t.apply(exec_event(child, 12 * kSec, "/usr/bin/id", {"id", "-u"}, "/root"));
  c = t.find({101, 1100});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->exe, "/usr/bin/id");
  EXPECT_EQ(c->args, (std::vector<std::string>{"id", "-u"}));
  EXPECT_EQ(c->comm, "id");
  EXPECT_EQ(c->parent, (ProcessKey{100, 100}));

  // A failed exec does not change the image.
  Event failed = exec_event(child, 12 * kSec + 1, "/nope", {"nope"});
  std::get<model::ExecData>(failed.data).flags |= model::kExecFailed;
  std::get<model::ExecData>(failed.data).result = -2;
  t.apply(failed);
  EXPECT_EQ(t.find({101, 1100})->exe, "/usr/bin/id");

  t.apply(exit_event(child, 13 * kSec, 1 << 8));
  c = t.find({101, 1100});
  ASSERT_NE(c, nullptr);  // still findable during the grace period
  EXPECT_TRUE(c->exited);
  EXPECT_EQ(c->exit_ns, 13 * kSec);
  EXPECT_EQ(c->exit_code, 1u << 8);

  t.expire(18 * kSec);  // exit + grace: not yet past
  EXPECT_NE(t.find({101, 1100}), nullptr);
  t.expire(18 * kSec + 1);
  EXPECT_EQ(t.find({101, 1100}), nullptr);
  EXPECT_NE(t.find({100, 100}), nullptr);  // live parent stays, however old
  t.expire(1000 * kSec);
  EXPECT_NE(t.find({100, 100}), nullptr);
  EXPECT_EQ(t.expired(), 1u);
  EXPECT_EQ(t.evictions(), 0u);
}

TEST(ProcessTableApply, UnknownProcessGetsMinimalEntry) {
  ProcessTable t(100, kSec);
  auto p = ctx(300, 3 * kSec, 299, 2 * kSec, "curl");
  p.uid = 0;
  p.euid = 0;
  t.apply(file_event(p, 20 * kSec));
  const ProcessInfo* e = t.find({300, 300});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->comm, "curl");
  EXPECT_EQ(e->parent, (ProcessKey{299, 200}));
  EXPECT_EQ(e->uid, 0u);
  EXPECT_EQ(e->loginuid, 1000u);
  EXPECT_TRUE(e->exe.empty());
  EXPECT_EQ(e->last_seen_ns, 20 * kSec);

  // Later events refresh last_seen and credentials (setuid happened meanwhile).
  p.euid = 1000;
  t.apply(file_event(p, 21 * kSec));
  EXPECT_EQ(t.find({300, 300})->last_seen_ns, 21 * kSec);
  EXPECT_EQ(t.find({300, 300})->euid, 1000u);
  EXPECT_EQ(t.size(), 1u);
}

// Forks are reported only for monitored subjects. A process the table never saw, whose parent
// it knows, has not exec'd (execs are always reported): it runs its parent's image.
TEST(ProcessTableApply, UnreportedForkChildRunsItsParentsImage) {
  ProcessTable t(100, kSec);
  const auto sh = ctx(600, kSec, 1, 0, "sh");
  t.apply(exec_event(sh, 2 * kSec, "/usr/bin/sh", {"sh", "-c", "job"}, "/srv"));
  const auto child = ctx(601, 3 * kSec, 600, kSec, "sh");  // forked unseen
  t.apply(file_event(child, 4 * kSec));
  const ProcessInfo* c = t.find({601, 300});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->exe, "/usr/bin/sh");
  EXPECT_EQ(c->args, (std::vector<std::string>{"sh", "-c", "job"}));
  EXPECT_EQ(c->cwd, "/srv");
  EXPECT_EQ(c->comm, "sh");
  EXPECT_EQ(c->parent, (ProcessKey{600, 100}));
  EXPECT_EQ(c->start_ns, 3 * kSec);

  // Its own unreported child inherits in turn.
  t.apply(file_event(ctx(602, 5 * kSec, 601, 3 * kSec, "sh"), 6 * kSec));
  ASSERT_NE(t.find({602, 500}), nullptr);
  EXPECT_EQ(t.find({602, 500})->exe, "/usr/bin/sh");

  // Its failed exec changes nothing; its exec replaces the image.
  Event failed = exec_event(ctx(603, 5 * kSec, 600, kSec, "sh"), 6 * kSec, "/nope");
  std::get<model::ExecData>(failed.data).flags |= model::kExecFailed;
  std::get<model::ExecData>(failed.data).exe_path.clear();
  t.apply(failed);
  ASSERT_NE(t.find({603, 500}), nullptr);
  EXPECT_EQ(t.find({603, 500})->exe, "/usr/bin/sh");
  t.apply(exec_event(ctx(604, 5 * kSec, 600, kSec, "id"), 6 * kSec, "/usr/bin/id", {"id"}));
  EXPECT_EQ(t.find({604, 500})->exe, "/usr/bin/id");
  EXPECT_EQ(t.find({604, 500})->args, (std::vector<std::string>{"id"}));
}

TEST(ProcessTableApply, ChildBornBeforeItsParentsExecDoesNotInheritTheNewImage) {
  ProcessTable t(100, kSec);
  const auto p = ctx(610, kSec, 1, 0, "python3");
  // The child was forked at 2 s, the parent exec'd at 3 s: the child runs the parent's old
  // image, which the table no longer knows.
  t.apply(exec_event(p, 3 * kSec, "/usr/bin/python3", {"python3"}));
  t.apply(file_event(ctx(611, 2 * kSec, 610, kSec, "python3"), 4 * kSec));
  ASSERT_NE(t.find({611, 200}), nullptr);
  EXPECT_EQ(t.find({611, 200})->exe, "");
  EXPECT_TRUE(t.find({611, 200})->args.empty());
}

TEST(ProcessTableApply, OrphanAdoptedByInitDoesNotInheritInitsImage) {
  ProcessTable t(100, kSec);
  const auto init = ctx(1, kSec / 100, 0, 0, "systemd");
  t.apply(exec_event(init, kSec / 100, "/usr/lib/systemd/systemd", {"/sbin/init"}));
  // A daemon double-forked from some unseen process: by its first event its parent is init.
  t.apply(file_event(ctx(620, 5 * kSec, 1, kSec / 100, "mydaemon"), 6 * kSec));
  ASSERT_NE(t.find({620, 500}), nullptr);
  EXPECT_EQ(t.find({620, 500})->exe, "");
}

TEST(ProcessTableApply, EvictedProcessDoesNotInheritWhenItComesBack) {
  ProcessTable t(2, 3600 * kSec);
  const auto sh = ctx(630, kSec, 1, 0, "sh");
  t.apply(exec_event(sh, kSec, "/usr/bin/sh", {"sh"}));
  // 631 was forked (unseen), then exec'd /usr/bin/vim (seen), and gets evicted.
  const auto vim = ctx(631, 2 * kSec, 630, kSec, "sh");
  t.apply(exec_event(vim, 3 * kSec, "/usr/bin/vim", {"vim"}));
  t.apply(file_event(sh, 4 * kSec));  // sh seen more recently than vim
  t.apply(exec_event(ctx(632, 5 * kSec, 1, 0, "x"), 5 * kSec, "/bin/x"));
  ASSERT_EQ(t.find({631, 200}), nullptr) << "the test needs 631 evicted";
  ASSERT_NE(t.find({630, 100}), nullptr);
  // 631 is back with the comm of sh (no prctl), but it may have exec'd: no guess.
  t.apply(file_event(vim, 6 * kSec));
  ASSERT_NE(t.find({631, 200}), nullptr);
  EXPECT_EQ(t.find({631, 200})->exe, "");
}

TEST(ProcessTableApply, UnreportedForkOfASeededProcess) {
  timespec now{};
  ASSERT_EQ(::clock_gettime(CLOCK_BOOTTIME, &now), 0);
  const uint64_t boot_ns = static_cast<uint64_t>(now.tv_sec) * kSec;  // at or before the seed
  FakeProc proc;
  proc.add({.pid = 700,
            .ppid = 1,
            .comm = "cron",
            .start_ticks = 1,
            .exe = "/usr/sbin/cron",
            .cwd = "/var/spool/cron",
            .cmdline = std::string("/usr/sbin/cron\0-f\0", 18)});
  ProcessTable t(100, kSec);
  ASSERT_TRUE(t.seed_from_proc(proc.root()));
  // Born after the scan: still cron's image.
  const uint64_t later = boot_ns + 3600 * kSec;
  t.apply(file_event(ctx(701, later, 700, 10'000'000ull, "cron"), later + kSec));
  const ProcessInfo* c = t.find({701, model::ns_to_ticks(later)});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->exe, "/usr/sbin/cron");
  EXPECT_EQ(c->args, (std::vector<std::string>{"/usr/sbin/cron", "-f"}));
  EXPECT_EQ(c->cwd, "/var/spool/cron");
  // Born before the scan but not in it: cron may have exec'd since, so no guess.
  t.apply(file_event(ctx(702, kSec, 700, 10'000'000ull, "cron"), later + kSec));
  ASSERT_NE(t.find({702, 100}), nullptr);
  EXPECT_EQ(t.find({702, 100})->exe, "");
}

TEST(ProcessTableApply, ExitOfUnknownProcessAddsNothing) {
  ProcessTable t(100, kSec);
  t.apply(exit_event(ctx(400, kSec), 2 * kSec, 0));
  EXPECT_EQ(t.size(), 0u);
}

TEST(ProcessTableApply, PidReuseKeepsProcessesApart) {
  ProcessTable t(100, 10 * kSec);
  const auto old_proc = ctx(200, 5 * kSec, 1, 0, "old");
  t.apply(exec_event(old_proc, 6 * kSec, "/bin/old", {"old"}));
  t.apply(exit_event(old_proc, 7 * kSec, 0));

  // pid 200 comes back with a new start time, first via exec ...
  const auto new_proc = ctx(200, 8 * kSec, 1, 0, "new");
  t.apply(exec_event(new_proc, 8 * kSec, "/bin/new", {"new"}));
  // ... and again via fork from a parent.
  const auto parent = ctx(50, kSec, 1, 0, "sshd");
  t.apply(exec_event(parent, 2 * kSec, "/usr/sbin/sshd"));
  t.apply(exit_event(new_proc, 9 * kSec, 0));
  t.apply(fork_event(parent, 20 * kSec, 200, 20 * kSec));

  const ProcessInfo* o = t.find({200, 500});
  const ProcessInfo* n = t.find({200, 800});
  const ProcessInfo* f = t.find({200, 2000});
  ASSERT_NE(o, nullptr);
  ASSERT_NE(n, nullptr);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(o->exe, "/bin/old");
  EXPECT_EQ(n->exe, "/bin/new");
  EXPECT_EQ(f->exe, "/usr/sbin/sshd");
  EXPECT_TRUE(o->exited);
  EXPECT_TRUE(n->exited);
  EXPECT_FALSE(f->exited);
  EXPECT_EQ(f->parent, (ProcessKey{50, 100}));

  // An event of the old incarnation still lands on the old entry.
  t.apply(file_event(old_proc, 20 * kSec));
  EXPECT_EQ(t.find({200, 500})->exe, "/bin/old");
  EXPECT_EQ(t.find({200, 2000})->exe, "/usr/sbin/sshd");

  // Expiry removes only the incarnations whose grace is over.
  t.expire(18 * kSec);  // old exited at 7 s (+10 s grace)
  EXPECT_EQ(t.find({200, 500}), nullptr);
  EXPECT_NE(t.find({200, 800}), nullptr);
  EXPECT_NE(t.find({200, 2000}), nullptr);
}

// ---------------------------------------------------------------------------------------
// Bounds

TEST(ProcessTableBound, FloodOfDistinctProcessesStaysBounded) {
  constexpr size_t kMax = 1000;
  ProcessTable t(kMax, 60 * kSec);
  const auto daemon = ctx(1, kSec, 0, 0, "daemon");
  t.apply(exec_event(daemon, kSec, "/usr/sbin/daemon"));

  size_t peak = 0;
  size_t batches = 0;  // applies that evicted: amortised, not one O(n) pass per insert
  uint64_t evicted = 0;
  for (uint32_t i = 0; i < 10 * kMax; ++i) {
    const uint64_t ts = 2 * kSec + i * 1000;
    const auto p = ctx(1000 + i, ts, 1, kSec, "flood");
    if (i % 3 == 0) {
      t.apply(exec_event(p, ts, "/bin/x"));
    } else if (i % 3 == 1) {
      t.apply(fork_event(daemon, ts, 1000 + i, ts));
    } else {
      t.apply(file_event(p, ts));
    }
    if (i % 100 == 0) t.apply(file_event(daemon, ts));  // keeps being seen
    peak = std::max(peak, t.size());
    if (t.evictions() != evicted) ++batches;
    evicted = t.evictions();
  }
  EXPECT_LE(peak, kMax);  // hard bound: batches evict before inserting
  EXPECT_GE(t.size(), kMax - t.eviction_slack());
  EXPECT_GE(t.evictions(), 9 * kMax);
  EXPECT_LE(batches, t.evictions() / t.eviction_slack() + 1);
  // The recently seen survive; the long-lived daemon survives by being seen.
  EXPECT_NE(t.find({1000 + 10 * kMax - 1, model::ns_to_ticks(2 * kSec + (10 * kMax - 1) * 1000)}),
            nullptr);
  EXPECT_NE(t.find({1, 100}), nullptr);
  EXPECT_EQ(t.find({1000, model::ns_to_ticks(2 * kSec)}), nullptr);
}

TEST(ProcessTableBound, ExitedAreEvictedBeforeLive) {
  constexpr size_t kMax = 100;
  ProcessTable t(kMax, 3600 * kSec);
  for (uint32_t i = 0; i < 50; ++i) {  // live, seen long ago
    t.apply(exec_event(ctx(10 + i, kSec), kSec + i, "/bin/live"));
  }
  for (uint32_t i = 0; i < 50; ++i) {  // exited recently
    const auto p = ctx(1000 + i, 2 * kSec);
    t.apply(exec_event(p, 100 * kSec + i, "/bin/short"));
    t.apply(exit_event(p, 200 * kSec + i, 0));
  }
  ASSERT_EQ(t.size(), kMax);
  t.apply(exec_event(ctx(5000, 300 * kSec), 300 * kSec, "/bin/new"));
  EXPECT_LE(t.size(), kMax);
  EXPECT_EQ(t.evictions(), t.eviction_slack());
  for (uint32_t i = 0; i < 50; ++i) {
    EXPECT_NE(t.find({10 + i, 100}), nullptr) << "live process " << 10 + i << " was evicted";
  }
  // Oldest exits went first.
  EXPECT_EQ(t.find({1000, 200}), nullptr);
  EXPECT_NE(t.find({1049, 200}), nullptr);
  EXPECT_NE(t.find({5000, 30000}), nullptr);
}

TEST(ProcessTableBound, TinyTableForkStillBounded) {
  ProcessTable t(1, kSec);
  const auto p = ctx(10, kSec);
  t.apply(exec_event(p, kSec, "/bin/sh"));
  t.apply(fork_event(p, 2 * kSec, 11, 2 * kSec));
  EXPECT_EQ(t.size(), 1u);
  const ProcessInfo* c = t.find({11, 200});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->parent, (ProcessKey{10, 100}));
}

}  // namespace
}  // namespace privwatch::enrich
