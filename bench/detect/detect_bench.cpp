// Rule evaluation throughput: the default ruleset plus 200 Sigma-style rules (bench_rules.hpp:
// process_creation, file_event, network_connection shapes with contains / endswith / startswith /
// wildcard / cidr selections and filters) on a realistic event mix, on execs only, and on execs
// whose command lines carry the rules' literals; with the full index (keys + literal prefilter),
// keys only, and no index, for ratios measured in one run.
//
//   build/bench/bench_detect --benchmark_min_time=2
//   build/bench/bench_detect --count N mix|exec|hits full|keys|none    (for callgrind)
//
// Numbers in bench/RESULTS.md §6.
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

std::unique_ptr<detect::Engine> make_engine(bool sigma,
                                            detect::RuleIndex index = detect::RuleIndex::kFull) {
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
  o.rule_index = index;
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

// Workloads: the mix above; only execs; only execs whose command lines hit the prefilter (one
// in two carries a literal of some rule — a Sigma rule's curlN / stageN.sh / --payloadN, or the
// default ruleset's socket / /dev/tcp/ / history -c — so that candidate rules are tested and
// mostly rejected: the prefilter's worst case).
enum class Load { kMix, kExecOnly, kExecHits };

std::vector<model::Event> events(Load load) {
  std::mt19937 rng(42);
  std::vector<model::Event> out;
  for (uint64_t i = 0; i < 8192; ++i) {
    out.push_back(make(rng, load != Load::kMix ? 55 : static_cast<int>(rng() % 100), i));
    if (load != Load::kExecHits || i % 2 != 0) continue;
    auto& x = std::get<model::ExecData>(out.back().data);
    const int r = static_cast<int>(rng() % 200);
    static const char* kDefault[] = {"import socket", "exec 3<>/dev/tcp/x", "history -c",
                                     "/var/log/syslog", "privwatch"};
    switch (rng() % 4) {
      case 0:
        x.args.push_back(fmt::format("https://example.com/curl{}", r));
        break;
      case 1:
        x.args.push_back(fmt::format("./stage{}.sh", r));
        break;
      case 2:
        x.args.push_back(fmt::format("--payload{}", r));
        break;
      default:
        x.args.push_back(kDefault[rng() % 5]);
    }
  }
  return out;
}

void run(benchmark::State& state, bool sigma, Load load,
         detect::RuleIndex index = detect::RuleIndex::kFull) {
  auto engine = make_engine(sigma, index);
  auto evs = events(load);
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

using detect::RuleIndex;
void BM_DefaultRules_Mix(benchmark::State& s) { run(s, false, Load::kMix); }
void BM_DefaultPlus200Sigma_Mix(benchmark::State& s) { run(s, true, Load::kMix); }
void BM_DefaultPlus200Sigma_ExecOnly(benchmark::State& s) { run(s, true, Load::kExecOnly); }
void BM_DefaultPlus200Sigma_ExecHits(benchmark::State& s) { run(s, true, Load::kExecHits); }
// The same without the literal prefilter (exact keys only: the index before the prefilter) and
// without any index (every rule of the event's kind), for ratios measured in one run.
void BM_KeysOnly_DefaultPlus200Sigma_Mix(benchmark::State& s) {
  run(s, true, Load::kMix, RuleIndex::kKeys);
}
void BM_KeysOnly_DefaultPlus200Sigma_ExecOnly(benchmark::State& s) {
  run(s, true, Load::kExecOnly, RuleIndex::kKeys);
}
void BM_NoIndex_DefaultPlus200Sigma_Mix(benchmark::State& s) {
  run(s, true, Load::kMix, RuleIndex::kNone);
}

BENCHMARK(BM_DefaultRules_Mix);
BENCHMARK(BM_DefaultPlus200Sigma_Mix);
BENCHMARK(BM_DefaultPlus200Sigma_ExecOnly);
BENCHMARK(BM_DefaultPlus200Sigma_ExecHits);
BENCHMARK(BM_KeysOnly_DefaultPlus200Sigma_Mix);
BENCHMARK(BM_KeysOnly_DefaultPlus200Sigma_ExecOnly);
BENCHMARK(BM_NoIndex_DefaultPlus200Sigma_Mix);

void BM_LoadDefaultPlus200Sigma(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(make_engine(true));
}
BENCHMARK(BM_LoadDefaultPlus200Sigma)->Unit(benchmark::kMillisecond);

// `bench_detect --count N WORKLOAD INDEX` (mix|exec|hits, full|keys|none, default + 200 Sigma):
// evaluates N events and exits, for instruction counts that do not depend on the machine's load:
// valgrind --tool=callgrind, once with N and once with 1, (Ir difference) / (N - 1).
int count_main(int argc, char** argv) {
  const long n = argc > 2 ? std::atol(argv[2]) : 100000;
  const std::string_view w = argc > 3 ? argv[3] : "mix";
  const std::string_view ix = argc > 4 ? argv[4] : "full";
  const Load load = w == "exec" ? Load::kExecOnly : w == "hits" ? Load::kExecHits : Load::kMix;
  const RuleIndex index = ix == "keys"   ? RuleIndex::kKeys
                          : ix == "none" ? RuleIndex::kNone
                                         : RuleIndex::kFull;
  auto engine = make_engine(true, index);
  auto evs = events(load);
  std::vector<model::Alert> out;
  uint64_t ts = 2'000'000'000ull;
  for (long i = 0; i < n; ++i) {
    model::Event& ev = evs[static_cast<size_t>(i) & 8191];
    ev.ts_ns = ts += 1000;
    engine->evaluate(ev, out);
    if (out.size() > 1024) out.clear();
  }
  fmt::print("events {} rule_evaluations {} alerts {}\n", engine->stats().events,
             engine->stats().rule_evaluations, engine->stats().alerts);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--count") return count_main(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
