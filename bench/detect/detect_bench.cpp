// Rule evaluation throughput: the default ruleset plus 200 Sigma-style rules (process_creation,
// file_event, network_connection shapes with contains / endswith / startswith / wildcard / cidr
// selections and filters) on a realistic event mix, and on the worst case (only execs).
//
//   build/bench/bench_detect --benchmark_min_time=2
//
// Numbers in bench/RESULTS.md.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>

#include <random>

#include "bench_rules.hpp"
#include "detect/engine.hpp"

namespace {

using namespace privwatch;

std::unique_ptr<detect::Engine> make_engine(bool sigma) {
  detect::RuleSetBuilder b;
  std::string where;
  if (auto s = detect::add_default_rules(b, &where); !s) {
    fmt::print(stderr, "{}\n", s.error().to_string());
    std::abort();
  }
  if (sigma) {
    for (int i = 0; i < 200; ++i) {
      if (auto s = b.add_text(bench::sigma_rule(i), fmt::format("bench-{}.yml", i)); !s)
        std::abort();
    }
  }
  auto set = std::move(b).finish();
  if (!set.skipped.empty()) {
    fmt::print(stderr, "skipped: {}\n", set.skipped[0]);
    std::abort();
  }
  detect::EngineOptions o;
  o.host = "bench";
  return std::make_unique<detect::Engine>(std::move(set), o);
}

model::Event make(std::mt19937& rng, int kind_pick, uint64_t i) {
  static const char* kExes[] = {
      "/usr/bin/ls",    "/usr/bin/grep", "/usr/bin/python3", "/usr/bin/bash",
      "/usr/sbin/sshd", "/usr/bin/curl", "/usr/bin/git",     "/usr/lib/postgresql/15/bin/postgres"};
  static const char* kPaths[] = {"/etc/passwd",
                                 "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                 "/home/alice/project/src/main.cpp",
                                 "/var/lib/dpkg/status",
                                 "/etc/ssl/certs/ca-certificates.crt",
                                 "/tmp/build-1234/obj.o",
                                 "/proc/self/status",
                                 "/etc/ld.so.cache"};
  model::Event ev;
  ev.proc.pid = 1000 + static_cast<uint32_t>(rng() % 5000);
  ev.proc.ppid = 1;
  ev.proc.uid = ev.proc.euid = (rng() % 3 == 0) ? 0 : 1000;
  ev.proc.comm = "worker";
  ev.proc.sessionid = static_cast<uint32_t>(rng() % 50);
  ev.user_name = ev.proc.uid == 0 ? "root" : "alice";
  ev.effective_user_name = ev.user_name;
  ev.exe = kExes[rng() % 8];
  ev.parent_exe = "/usr/bin/bash";
  ev.parent_comm = "bash";
  ev.ts_ns = 1'000'000'000ull + i * 1000;
  ev.seq = i;
  if (kind_pick < 50) {
    ev.kind = model::EventKind::kFile;
    model::FileData f;
    f.op = (rng() % 10 == 0) ? model::FileOp::kUnlink : model::FileOp::kOpen;
    f.path = kPaths[rng() % 8];
    f.open_flags = (rng() % 4 == 0) ? (O_WRONLY | O_CREAT) : O_RDONLY;
    ev.data = std::move(f);
  } else if (kind_pick < 65) {
    ev.kind = model::EventKind::kExec;
    model::ExecData x;
    x.exe_path = kExes[rng() % 8];
    x.filename = x.exe_path;
    x.args = {x.exe_path.substr(x.exe_path.rfind('/') + 1), "--color=auto", "-la",
              fmt::format("/home/alice/file{}.txt", rng() % 100)};
    ev.proc.comm = x.args[0].substr(0, 15);
    ev.data = std::move(x);
  } else if (kind_pick < 80) {
    ev.kind = model::EventKind::kNet;
    model::NetData n;
    n.op = model::NetOp::kConnect;
    n.family = AF_INET;
    n.sock_type = SOCK_STREAM;
    n.remote_port = (rng() % 2) ? 443 : 5432;
    const char* ip = (rng() % 3 == 0) ? "10.0.3.4" : "140.82.112.3";
    inet_pton(AF_INET, ip, n.remote_addr.data());
    ev.data = n;
  } else if (kind_pick < 90) {
    ev.kind = model::EventKind::kFork;
    ev.data = model::ForkData{ev.proc.pid + 1, 0};
  } else {
    ev.kind = model::EventKind::kExit;
    ev.data = model::ExitData{0};
  }
  return ev;
}

std::vector<model::Event> events(bool exec_only) {
  std::mt19937 rng(42);
  std::vector<model::Event> out;
  for (uint64_t i = 0; i < 8192; ++i) {
    out.push_back(make(rng, exec_only ? 55 : static_cast<int>(rng() % 100), i));
  }
  return out;
}

void run(benchmark::State& state, bool sigma, bool exec_only) {
  auto engine = make_engine(sigma);
  auto evs = events(exec_only);
  std::vector<model::Alert> out;
  size_t i = 0;
  uint64_t ts = 2'000'000'000ull;
  for (auto _ : state) {
    model::Event& ev = evs[i++ & 8191];
    ev.ts_ns = ts += 1000;
    engine->evaluate(ev, out);
    if (out.size() > 1024) out.clear();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["rules"] = static_cast<double>(engine->rules().rules.size());
  state.counters["alerts"] = static_cast<double>(engine->stats().alerts);
  state.counters["evals_per_event"] = static_cast<double>(engine->stats().rule_evaluations) /
                                      static_cast<double>(engine->stats().events);
}

void BM_DefaultRules_Mix(benchmark::State& s) { run(s, false, false); }
void BM_DefaultPlus200Sigma_Mix(benchmark::State& s) { run(s, true, false); }
void BM_DefaultPlus200Sigma_ExecOnly(benchmark::State& s) { run(s, true, true); }

BENCHMARK(BM_DefaultRules_Mix);
BENCHMARK(BM_DefaultPlus200Sigma_Mix);
BENCHMARK(BM_DefaultPlus200Sigma_ExecOnly);

void BM_LoadDefaultPlus200Sigma(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(make_engine(true));
}
BENCHMARK(BM_LoadDefaultPlus200Sigma)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
