// privwatch sessions / session show over a large store (numbers → bench/RESULTS.md §11; never
// asserted).
//
//   bench_sessions [--logins N] [--dir D]
//
// Builds (or reuses) a store of N SSH logins over 30 days (8 users on 2 hosts, roles, a quarter
// of them with sudo -i into a nested root session, ~10 commands each with fork/exec/exit and
// file opens), 2 cron jobs per login, the 20 newest logins still active, and one login with
// 200,000 events. Then times the list with each filter, id prefix resolution and the detail of
// a typical and of the big session: median wall and CPU time of 7 runs.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "store/encode.hpp"
#include "store/session_format.hpp"
#include "store/session_query.hpp"
#include "store/store.hpp"

using namespace privwatch;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t kSec = 1'000'000'000ull;
const char* kUsers[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"};
const char* kRoles[] = {"dba", "sre", "dev", "sec"};
const char* kExes[] = {"/usr/bin/psql", "/usr/bin/ls",  "/usr/bin/cat", "/usr/bin/grep",
                       "/usr/bin/vim",  "/usr/bin/git", "/usr/bin/tar", "/usr/bin/systemctl"};

struct Gen {
  store::Store& st;
  uint64_t boot_wall;  // wall ns at boot
  uint32_t next_pid = 1000;
  uint64_t events = 0;
  store::Record r;

  void put_event(const model::Event& ev) {
    store::encode_event(ev, "app-3", r);
    if (!st.append(r)) std::abort();
    ++events;
  }
  void put_session(model::Session& s, uint64_t now) {
    ++s.version;
    store::encode_session(s, "app-3", now, r);
    if (!st.append(r)) std::abort();
  }

  model::Event ev(model::EventKind k, uint32_t pid, uint64_t start_wall, uint32_t ppid,
                  uint64_t pstart_wall, uint64_t wall, const std::string& user,
                  const std::string& human, const std::shared_ptr<model::Session>& s) {
    model::Event e;
    e.kind = k;
    e.wall_time_ns = wall;
    e.ts_ns = wall - boot_wall;
    e.proc.pid = e.proc.tid = pid;
    e.proc.ppid = ppid;
    e.proc.start_ns = start_wall - boot_wall;
    e.proc.parent_start_ns = pstart_wall - boot_wall;
    e.proc.uid = e.proc.euid = user == "root" ? 0 : 1000;
    e.proc.loginuid = 1000;
    e.proc.comm = "bash";
    e.user_name = e.effective_user_name = user;
    e.login_user_name = human;
    e.attr.host = s->host;
    e.attr.human = human;
    e.attr.session = s;
    e.attr.roles = s->roles;
    e.attr.cluster = s->cluster;
    e.attr.escalated = user != human;
    return e;
  }

  // One command: fork from the shell, exec with arguments, a file open, exit.
  void command(uint32_t shell, uint64_t shell_start, uint64_t& t, const std::string& user,
               const std::string& human, const std::shared_ptr<model::Session>& s, uint64_t h) {
    const uint32_t pid = next_pid++;
    const uint64_t start = t;
    put_event(ev(model::EventKind::kFork, shell, shell_start, 1, boot_wall, t, user, human, s));
    {
      auto e = ev(model::EventKind::kExec, pid, start, shell, shell_start, t, user, human, s);
      model::ExecData x;
      x.exe_path = kExes[h % 8];
      x.filename = x.exe_path;
      x.cwd = "/home/" + human;
      x.args = {x.exe_path.substr(x.exe_path.rfind('/') + 1), fmt::format("--opt{}", h % 50),
                fmt::format("/srv/{}/item{}", human, h % 5000)};
      e.data = std::move(x);
      put_event(e);
    }
    t += 3'000'000;
    {
      auto e = ev(model::EventKind::kFile, pid, start, shell, shell_start, t, user, human, s);
      model::FileData fd;
      fd.path = fmt::format("/var/lib/app/data/{}/file{}.db", h % 97, h % 1000);
      e.data = std::move(fd);
      put_event(e);
    }
    t += 2'000'000;
    {
      auto e = ev(model::EventKind::kExit, pid, start, shell, shell_start, t, user, human, s);
      e.data = model::ExitData{static_cast<uint32_t>((h % 7 == 0 ? 1 : 0) << 8)};
      put_event(e);
    }
    t += 2 * kSec;
  }

  std::string login(uint64_t i, uint64_t start, bool active, uint64_t commands) {
    const uint64_t h = i * 2654435761u;
    const std::string human = kUsers[h % 8];
    const uint32_t leader = next_pid++;
    auto s = std::make_shared<model::Session>();
    s->id = fmt::format("8a1f{:04x}-{}-{}", static_cast<unsigned>(i % 65536), leader,
                        (start - boot_wall) / 10'000'000ull);
    s->entry_type = model::EntryType::kSsh;
    s->leader = {leader, (start - boot_wall) / 10'000'000ull};
    s->leader_exe = "/usr/sbin/sshd";
    s->start_wall_ns = start;
    s->user = s->human = human;
    s->uid = s->loginuid = 1000;
    s->host = (h % 5 == 0) ? "db-1" : "app-3";
    s->cluster = (h % 5 == 0) ? "db-servers" : "app-servers";
    s->roles = {kRoles[h % 4]};
    s->client_ip = fmt::format("10.0.{}.{}", h % 200, h % 250);
    s->client_port = static_cast<uint16_t>(30000 + h % 30000);
    s->tty = "pts1";
    s->interactive = true;
    put_session(*s, start);
    uint64_t t = start + kSec;
    const uint32_t shell = next_pid++;
    const uint64_t shell_start = t;
    put_event(ev(model::EventKind::kFork, leader, start, 1, boot_wall, t, "root", human, s));
    for (uint64_t c = 0; c < commands; ++c) command(shell, shell_start, t, human, human, s, h + c);
    if (i % 4 == 0) {  // sudo -i: a nested root session with a few commands
      const uint32_t root = next_pid++;
      auto n = std::make_shared<model::Session>(*s);
      n->version = 0;
      n->id = fmt::format("8a1f{:04x}-{}-{}", static_cast<unsigned>(i % 65536), root,
                          (t - boot_wall) / 10'000'000ull);
      n->parent_id = s->id;
      n->entry_type = model::EntryType::kSudo;
      n->leader = {root, (t - boot_wall) / 10'000'000ull};
      n->start_wall_ns = t;
      n->user = "root";
      n->uid = 0;
      model::Escalation e;
      e.wall_ns = t;
      e.session_id = s->id;
      e.method = model::EscalationMethod::kSudo;
      e.from_user = human;
      e.to_user = "root";
      e.human = human;
      e.tool = "/usr/bin/sudo";
      e.tool_args = {"sudo", "-i"};
      e.command = "/bin/bash";
      store::encode_escalation(e, "app-3", r);
      if (!st.append(r)) std::abort();
      put_session(*n, t);
      const uint64_t root_start = t;
      for (int c = 0; c < 4; ++c) command(root, root_start, t, "root", human, n, h + 100 + c);
      n->end_wall_ns = t;
      put_session(*n, t);
    }
    if (!active) {
      s->end_wall_ns = t + kSec;
      put_session(*s, t + kSec);
    }
    return s->id;
  }

  void cron(uint64_t i, uint64_t start) {
    model::Session s;
    s.id = fmt::format("c7e0{:04x}-{}-{}", static_cast<unsigned>(i % 65536), next_pid++, i);
    s.entry_type = model::EntryType::kCron;
    s.leader_exe = "/usr/sbin/cron";
    s.start_wall_ns = start;
    s.user = "root";
    s.host = "app-3";
    put_session(s, start);
    s.end_wall_ns = start + 2 * kSec;
    put_session(s, start + 2 * kSec);
  }
};

struct Ids {
  std::string typical, big;
};

Ids build(const std::string& dir, uint64_t logins) {
  const std::string db = dir + "/privwatch.db";
  const std::string ids_file = dir + "/ids.txt";
  if (std::filesystem::exists(ids_file)) {
    Ids ids;
    std::FILE* f = std::fopen(ids_file.c_str(), "r");
    char a[128] = {}, b[128] = {};
    if (f != nullptr && std::fscanf(f, "%127s %127s", a, b) == 2) {
      ids = {a, b};
      std::fclose(f);
      std::printf("reusing %s\n", db.c_str());
      return ids;
    }
    if (f != nullptr) std::fclose(f);
  }
  std::filesystem::remove_all(dir);
  store::StoreOptions o;
  o.path = db;
  o.key_path = dir + "/store.key";
  o.host = "app-3";
  auto st = store::Store::open_writer(o);
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
    std::exit(1);
  }
  const uint64_t now = store::wall_now_ns();
  const uint64_t span = 30 * 86400 * kSec;
  Gen g{**st, now - span - 86400 * kSec};
  Ids ids;
  const auto t0 = Clock::now();
  if (!(*st)->begin()) std::abort();
  for (uint64_t i = 0; i < logins; ++i) {
    const uint64_t start = now - span + i * (span / logins);
    g.cron(2 * i, start + 60 * kSec);
    g.cron(2 * i + 1, start + 120 * kSec);
    const bool big = i == logins / 2;
    const std::string id = g.login(i, start, i + 20 >= logins, big ? 50000 : 8 + i % 5);
    if (i == logins / 3) ids.typical = id;
    if (big) ids.big = id;
    if (i % 500 == 499) {
      if (!(*st)->commit() || !(*st)->begin()) std::abort();
    }
  }
  if (!(*st)->commit()) std::abort();
  std::printf("built %s: %llu logins, %llu events in %.0f s\n", db.c_str(),
              static_cast<unsigned long long>(logins), static_cast<unsigned long long>(g.events),
              std::chrono::duration<double>(Clock::now() - t0).count());
  std::FILE* f = std::fopen(ids_file.c_str(), "w");
  std::fprintf(f, "%s %s\n", ids.typical.c_str(), ids.big.c_str());
  std::fclose(f);
  return ids;
}

double cpu_ms() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
         (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

void measure(const char* name, const std::function<size_t()>& op) {
  std::vector<double> wall, cpu;
  size_t rows = 0;
  for (int i = 0; i < 7; ++i) {
    const double c0 = cpu_ms();
    const auto t0 = Clock::now();
    rows = op();
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    cpu.push_back(cpu_ms() - c0);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("| %s | %zu | %.2f | %.2f | %.2f |\n", name, rows, wall[3], wall[6], cpu[3]);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t logins = 20000;
  std::string dir = "/tmp/privwatch-bench-sessions";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--logins") == 0) logins = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  const Ids ids = build(dir, logins);
  auto st = store::Store::open_reader(dir + "/privwatch.db");
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
    return 1;
  }
  if (std::getenv("PW_NO_MMAP") == nullptr) store::map_for_scans(**st);  // as the CLI does
  double load[3] = {};
  getloadavg(load, 3);
  std::printf("load average %.2f %.2f %.2f\n\n", load[0], load[1], load[2]);
  std::printf("| operation | rows | median ms | max ms | median CPU ms |\n|---|--:|--:|--:|--:|\n");
  const uint64_t now = store::wall_now_ns();
  auto list = [&](store::SessionFilter f) {
    return [&st, f]() -> size_t {
      auto l = store::list_sessions(**st, f);
      if (!l) std::abort();
      return l->sessions.size();
    };
  };
  store::SessionFilter f;
  measure("sessions (newest 50)", list(f));
  f = {};
  f.user = "erin";
  measure("sessions --user erin", list(f));
  f = {};
  f.role = "sec";
  measure("sessions --role sec", list(f));
  f = {};
  f.host = "db-1";
  measure("sessions --host db-1", list(f));
  f = {};
  f.cluster = "db-servers";
  measure("sessions --cluster db-servers", list(f));
  f = {};
  f.active_only = true;
  measure("sessions --active (20 of them)", list(f));
  f = {};
  f.since_ns = now - 86400 * kSec;
  measure("sessions --since 1d", list(f));
  f = {};
  f.until_ns = now - 20 * 86400 * kSec;
  measure("sessions --until 20d (walks past 2/3 of the sessions)", list(f));
  f = {};
  f.user = "nosuchuser";
  measure("sessions --user nosuchuser (no match: every session record)", list(f));
  f = {};
  f.limit = 1000;
  measure("sessions -n 1000", list(f));
  measure("resolve an id prefix", [&]() -> size_t {
    auto r = store::resolve_session_id(**st, ids.typical.substr(0, 14));
    if (!r) std::abort();
    return 1;
  });
  auto show = [&](const std::string& id, size_t limit, bool text) {
    return [&st, id, limit, text]() -> size_t {
      store::SessionDetailOptions o;
      o.limit = limit;
      auto d = store::session_detail(**st, id, o);
      if (!d) std::abort();
      const std::string out =
          text ? store::session_detail_text(*d) : store::session_detail_json(*d);
      return d->counts.records_read + (out.empty() ? 1 : 0);
    };
  };
  measure("session show (typical login + nested sudo), text", show(ids.typical, 5000, true));
  measure("session show (typical login + nested sudo), JSON", show(ids.typical, 5000, false));
  measure("session show (200k-event login, limit 5000), text", show(ids.big, 5000, true));
  measure("session show (200k-event login, limit 100000), JSON", show(ids.big, 100000, false));
  return 0;
}
