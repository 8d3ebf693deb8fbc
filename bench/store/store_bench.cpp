// Store benchmarks (numbers → bench/RESULTS.md; never asserted in tests).
//
//   bench_store insert [--events N] [--dir D]   sustained insert: StoreSink fed at full speed
//                                               from the pipeline thread, encode + append +
//                                               commit + checkpoints on the writer thread
//   bench_store search [--events N] [--dir D]   builds an N-event store (default 10 million,
//                                               reused when present) and times searches
//                                               (--batch B: records per transaction, 50000)
//   bench_store raw [--events N] [--batch B]    the writer alone, one thread, B per commit
//                                               (8192): deterministic, for callgrind
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/encode.hpp"
#include "store/query.hpp"
#include "store/sink.hpp"
#include "store/store.hpp"

using namespace privwatch;
using Clock = std::chrono::steady_clock;

namespace {

const char* kUsers[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"};
const char* kRoles[] = {"dba", "sre", "dev", "sec"};
const char* kExes[] = {"/usr/bin/psql", "/usr/bin/ls",   "/usr/bin/cat", "/usr/bin/grep",
                       "/usr/bin/vim",  "/usr/bin/curl", "/usr/bin/ssh", "/usr/bin/systemctl",
                       "/usr/bin/git",  "/usr/bin/tar",  "/usr/bin/awk", "/usr/bin/python3"};

// Deterministic, realistic events: execs with arguments and file opens, 8 users, sessions,
// roles, 2 clusters; ~1 in 200000 runs a rare command ("ncat") to search for.
model::Event make_event(uint64_t i, uint64_t wall_ns) {
  model::Event ev;
  const uint64_t h = i * 2654435761u;
  const char* user = kUsers[h % 8];
  ev.wall_time_ns = wall_ns;
  ev.ts_ns = i;
  ev.seq = i + 1;
  ev.proc.pid = 1000 + static_cast<uint32_t>(h % 30000);
  ev.proc.ppid = 999;
  ev.proc.uid = ev.proc.euid = (h % 3 == 0) ? 0 : 1000 + static_cast<uint32_t>(h % 8);
  ev.proc.loginuid = 1000 + static_cast<uint32_t>(h % 8);
  ev.proc.comm = "bash";
  ev.user_name = ev.effective_user_name = ev.proc.uid == 0 ? "root" : user;
  ev.login_user_name = user;
  ev.attr.host = "app-3";
  ev.attr.cluster = (h % 2) ? "app-servers" : "db-servers";
  ev.attr.human = user;
  ev.attr.roles = {kRoles[h % 4]};
  ev.attr.escalated = ev.proc.uid == 0;
  static std::vector<std::shared_ptr<model::Session>> sessions;
  if (sessions.empty()) {
    for (int s = 0; s < 4096; ++s) {
      auto x = std::make_shared<model::Session>();
      x->id = fmt::format("9f3c-{}-{}", 2000 + s, 100000 + s * 7);
      sessions.push_back(x);
    }
  }
  ev.attr.session = sessions[(i / 500) % sessions.size()];
  if (h % 4 == 0) {
    ev.kind = model::EventKind::kFile;
    model::FileData f;
    f.path = fmt::format("/var/lib/app/data/{}/file{}.db", h % 97, h % 1000);
    f.open_flags = 0;
    ev.data = std::move(f);
  } else {
    ev.kind = model::EventKind::kExec;
    model::ExecData x;
    const bool rare = i % 200003 == 17;
    x.exe_path = rare ? "/usr/bin/ncat" : kExes[h % 12];
    x.filename = x.exe_path;
    x.cwd = "/home/" + std::string(user);
    x.args = {x.exe_path.substr(x.exe_path.rfind('/') + 1), fmt::format("--opt{}", h % 50),
              fmt::format("/srv/{}/item{}", kUsers[(h >> 8) % 8], h % 5000)};
    if (rare) x.args.push_back("203.0.113.9");
    ev.exe = x.exe_path;
    ev.data = std::move(x);
  }
  return ev;
}

uint64_t wall_now() { return store::wall_now_ns(); }

// CPU seconds (user + system) of the whole process so far: all threads.
double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int insert(uint64_t n, const std::string& dir) {
  std::filesystem::remove_all(dir);
  config::StoreConfig c;
  c.path = dir + "/privwatch.db";
  c.key_path = dir + "/store.key";
  c.queue_size = 1 << 20;
  c.queue_max_mb = 4096;  // the bench paces itself below (in flight ≤ 32768 records)
  c.commit_interval_ms = 200;
  auto sink = store::StoreSink::open(c, "app-3");
  if (!sink) {
    std::fprintf(stderr, "%s\n", sink.error().to_string().c_str());
    return 1;
  }
  // Pre-build events so that the producer measures the sink, not the generator.
  std::vector<model::Event> evs;
  evs.reserve(100000);
  const uint64_t base = wall_now();
  for (uint64_t i = 0; i < 100000; ++i) evs.push_back(make_event(i, base + i * 1000));
  const auto t0 = Clock::now();
  const double cpu0 = cpu_seconds();
  uint64_t pushed = 0;
  // Offer events at full speed but never more than the queue holds: a sustained rate, not a
  // burst into the queue. (A real pipeline would drop and count beyond it.)
  while (pushed < n) {
    const auto st = (*sink)->store_stats();
    const uint64_t in_flight = st.queued - std::min(st.queued, st.committed);
    if (in_flight > 32768) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    for (int k = 0; k < 4096 && pushed < n; ++k, ++pushed) {
      (*sink)->on_event(evs[pushed % evs.size()]);
    }
  }
  (*sink)->close();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  const auto st = (*sink)->store_stats();
  struct stat sb {};
  ::stat(c.path.c_str(), &sb);
  std::printf(
      "insert: %llu events in %.2f s = %.0f events/s committed (encode + hash chain + SQLite + "
      "FTS5 + %llu checkpoints), dropped %llu, db %.1f MiB (%.0f bytes/event)\n",
      static_cast<unsigned long long>(n), secs, static_cast<double>(st.committed) / secs,
      static_cast<unsigned long long>(st.checkpoints),
      static_cast<unsigned long long>(st.dropped_queue + st.dropped_write),
      static_cast<double>(sb.st_size) / (1 << 20), static_cast<double>(sb.st_size) / n);
  std::printf(
      "insert: CPU %.2f s (all threads: producer + encoder + writer) = %.2f us/event; "
      "on 2 idle cores at most %.0f events/s\n",
      cpu, cpu / n * 1e6, 2.0 / (cpu / n));
  return 0;
}

// The writer alone (one thread, deterministic): events encoded, then appended in transactions
// of `batch` records (the sink's are ~8192 under load). For callgrind: the cost of
// Store::append's SQLite steps and of Store::commit, per event, without thread timing noise.
int raw(uint64_t n, const std::string& dir, uint64_t batch) {
  std::filesystem::remove_all(dir);
  store::StoreOptions o;
  o.path = dir + "/privwatch.db";
  o.key_path = dir + "/store.key";
  o.host = "app-3";
  auto st = store::Store::open_writer(o);
  if (!st) return 1;
  std::vector<store::Record> recs(batch);
  const uint64_t base = wall_now();
  double append_s = 0;
  for (uint64_t i = 0; i < n;) {
    const uint64_t m = std::min(batch, n - i);
    for (uint64_t k = 0; k < m; ++k) {
      store::encode_event(make_event(i + k, base + (i + k) * 1000), "app-3", recs[k]);
    }
    const auto t0 = Clock::now();
    if (!(*st)->begin()) return 1;
    for (uint64_t k = 0; k < m; ++k) {
      if (auto s = (*st)->append(recs[k]); !s) return 1;
    }
    if (!(*st)->commit()) return 1;
    append_s += std::chrono::duration<double>(Clock::now() - t0).count();
    i += m;
  }
  std::printf("raw append: %.0f records/s (append + commit, one thread, batches of %llu)\n",
              n / append_s, static_cast<unsigned long long>(batch));
  return 0;
}

int build(uint64_t n, const std::string& dir, uint64_t batch) {
  store::StoreOptions o;
  o.path = dir + "/privwatch.db";
  o.key_path = dir + "/store.key";
  o.host = "app-3";
  auto st = store::Store::open_writer(o);
  if (!st) {
    std::fprintf(stderr, "%s\n", st.error().to_string().c_str());
    return 1;
  }
  if ((*st)->head_seq() >= n) return 0;
  std::printf("building a %llu-event store in %s ...\n", static_cast<unsigned long long>(n),
              dir.c_str());
  const auto t0 = Clock::now();
  const uint64_t start = (*st)->head_seq();
  // 10 M events over 30 days.
  const uint64_t span = 30ull * 86400 * 1'000'000'000ull;
  const uint64_t base = wall_now() - span;
  store::Record r;
  for (uint64_t i = start; i < n;) {
    if (!(*st)->begin()) return 1;
    for (uint64_t k = 0; k < batch && i < n; ++k, ++i) {
      store::encode_event(make_event(i, base + span / n * i), "app-3", r);
      if (auto s = (*st)->append(r); !s) {
        std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
        return 1;
      }
      if ((*st)->since_checkpoint() >= 100000)
        (void)(*st)->checkpoint(base + span / n * i, nullptr);
    }
    if (auto s = (*st)->commit(); !s) return 1;
    if (i % 1000000 == 0) {
      std::printf("  %llu M (%.0f s)\n", static_cast<unsigned long long>(i / 1000000),
                  std::chrono::duration<double>(Clock::now() - t0).count());
      std::fflush(stdout);
    }
  }
  (void)sqlite3_exec((*st)->db(), "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;", nullptr, nullptr,
                     nullptr);
  std::printf("built in %.0f s\n", std::chrono::duration<double>(Clock::now() - t0).count());
  return 0;
}

int search(uint64_t n, const std::string& dir, uint64_t batch) {
  if (int rc = build(n, dir, batch); rc != 0) return rc;
  auto st = store::Store::open_reader(dir + "/privwatch.db");
  if (!st) return 1;
  struct Case {
    const char* name;
    store::SearchFilter f;
  };
  const uint64_t now = wall_now();
  std::vector<Case> cases;
  auto add = [&](const char* name, auto fill) {
    store::SearchFilter f;
    f.limit = 100;
    fill(f);
    cases.push_back({name, f});
  };
  add("newest 100 (no filter)", [](auto&) {});
  add("--user alice", [](auto& f) { f.user = "alice"; });
  add("--kind exec --user dave", [](auto& f) { f.kind = "exec", f.user = "dave"; });
  add("--session <one session>", [](auto& f) { f.session = "9f3c-2100-100700"; });
  add("--role sec", [](auto& f) { f.role = "sec"; });
  add("--cluster db-servers", [](auto& f) { f.cluster = "db-servers"; });
  add("--host app-3 --since 1d", [&](auto& f) {
    f.host = "app-3";
    f.since_ns = now - 86400ull * 1'000'000'000ull;
  });
  add("--since 20d --until 19d", [&](auto& f) {
    f.since_ns = now - 20 * 86400ull * 1'000'000'000ull;
    f.until_ns = now - 19 * 86400ull * 1'000'000'000ull;
  });
  add("text: ncat (rare, ~50 hits)", [](auto& f) { f.text = "ncat"; });
  add("text: curl (common)", [](auto& f) { f.text = "curl"; });
  add("text: \"/srv/alice/item42\"", [](auto& f) { f.text = "\"/srv/alice/item42\""; });
  add("text: ncat --user alice", [](auto& f) {
    f.text = "ncat";
    f.user = "alice";
  });
  add("text: curl --role dba --since 7d", [&](auto& f) {
    f.text = "curl";
    f.role = "dba";
    f.since_ns = now - 7 * 86400ull * 1'000'000'000ull;
  });
  add("--user nosuchuser (empty result)", [](auto& f) { f.user = "nosuchuser"; });
  add("--session <one> --kind file", [](auto& f) {
    f.session = "9f3c-2100-100700";
    f.kind = "file";
  });
  add("--user alice --since 20d --until 19d", [&](auto& f) {
    f.user = "alice";
    f.since_ns = now - 20 * 86400ull * 1'000'000'000ull;
    f.until_ns = now - 19 * 86400ull * 1'000'000'000ull;
  });
  add("--kind alert (none stored)", [](auto& f) { f.kind = "alert"; });
  add("--host nosuchhost (empty result)", [](auto& f) { f.host = "nosuchhost"; });
  std::printf("%-36s %8s %10s %10s %12s\n", "search (limit 100)", "rows", "median ms", "max ms",
              "median CPU ms");
  for (auto& c : cases) {
    std::vector<double> ms, cpu_ms;
    size_t rows = 0;
    for (int k = 0; k < 7; ++k) {
      timespec c0{}, c1{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
      const auto t0 = Clock::now();
      auto r = store::search(**st, c.f);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
      cpu_ms.push_back(static_cast<double>(c1.tv_sec - c0.tv_sec) * 1e3 +
                       static_cast<double>(c1.tv_nsec - c0.tv_nsec) / 1e6);
      if (!r) {
        std::fprintf(stderr, "%s: %s\n", c.name, r.error().to_string().c_str());
        return 1;
      }
      rows = r->size();
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu_ms.begin(), cpu_ms.end());
    std::printf("%-36s %8zu %10.2f %10.2f %12.2f\n", c.name, rows, ms[ms.size() / 2], ms.back(),
                cpu_ms[cpu_ms.size() / 2]);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_store insert|search [--events N] [--dir DIR]\n");
    return 2;
  }
  const std::string mode = argv[1];
  uint64_t n = mode == "insert" ? 2'000'000 : 10'000'000;
  uint64_t batch = 8192;  // raw; search builds in transactions of 50000 unless --batch
  bool batch_set = false;
  std::string dir = mode == "insert" ? "/tmp/privwatch-bench-insert" : "/tmp/privwatch-bench-10m";
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0) n = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--batch") == 0) {
      batch = std::max<uint64_t>(1, std::stoull(argv[i + 1]));
      batch_set = true;
    }
  }
  if (mode == "insert") return insert(n, dir);
  if (mode == "search") return search(n, dir, batch_set ? batch : 50000);
  if (mode == "raw") return raw(n, dir, batch);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
