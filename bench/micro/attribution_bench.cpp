// Per-event attribution cost (enrich::Attributor::attribute): host, cluster, roles, container,
// service account, drift. Caches warm (the steady state), plus the miss paths and an inventory
// reload. Run: build/bench/bench_micro --benchmark_filter=Attribut
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "enrich/attribution.hpp"

namespace {

using namespace privwatch;
namespace fs = std::filesystem;

const std::string kId = "4c9a1e8d2b7f03a5c6e1d9b8a7f6e5d4c3b2a19087f6e5d4c3b2a1908f7e6d5c";

// A realistic inventory: a dozen roles, clusters and service accounts.
std::string inventory_yaml() {
  std::string y = "clusters:\n";
  for (int i = 0; i < 12; ++i)
    y += "  c" + std::to_string(i) + ": [\"h" + std::to_string(i) + "-*\"]\n";
  y += "roles:\n";
  for (int i = 0; i < 12; ++i) {
    y += "  r" + std::to_string(i) + ": {users: [u" + std::to_string(i) + "], groups: [g" +
         std::to_string(i) + "]}\n";
  }
  y += "service_accounts:\n";
  for (int i = 0; i < 12; ++i) {
    const std::string n = std::to_string(i);
    y += "  sa" + n + ":\n    owner: team" + n + "\n    match: {users: [svc" + n +
         "], units: [\"svc" + n +
         "-*.service\"]}\n    profile:\n"
         "      executables: [/usr/bin/pg_dump, \"/opt/svc" +
         n +
         "/bin/*\"]\n"
         "      files: {read: [/var/lib/svc" +
         n + "/], write: [/srv/svc" + n +
         "/]}\n"
         "      destinations: [{cidr: 10.0.0.0/8, ports: [5432]}]\n";
  }
  y += "grants:\n";
  for (int i = 0; i < 8; ++i) {
    y += "  - {user: u" + std::to_string(i) +
         ", hosts: [\"h3-*\"], from: 2026-01-01T00:00:00Z, until: 2030-01-01T00:00:00Z, "
         "ticket: T" +
         std::to_string(i) + "}\n";
  }
  return y;
}

struct Fixture {
  fs::path proc;
  std::unique_ptr<enrich::Attributor> attributor;

  explicit Fixture(size_t processes, bool runtime_sockets = false) {
    proc = fs::temp_directory_path() / ("pw-attr-bench-" + std::to_string(::getpid()));
    fs::remove_all(proc);
    for (size_t p = 1; p <= processes; ++p) {
      fs::create_directories(proc / std::to_string(p));
      std::ofstream f(proc / std::to_string(p) / "cgroup");
      if (p % 4 == 0) {
        f << "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
             "8d1f6c2e_3b4a_4c5d_9e8f_7a6b5c4d3e2f.slice/cri-containerd-"
          << kId << ".scope\n";
      } else if (p % 4 == 1) {
        f << "0::/system.slice/svc3-main.service\n";
      } else {
        f << "0::/user.slice/user-1000.slice/session-" << p % 7 << ".scope\n";
      }
    }
    auto inv = enrich::Inventory::parse(inventory_yaml(), "bench.yaml", {"h3-db", nullptr});
    if (!inv) std::abort();
    enrich::AttributorOptions o;
    o.containers.proc_root = proc.string();
    o.containers.cgroup2_root = "";
    if (runtime_sockets) {  // as the agent runs: docker + CRI-O clients (sockets absent here)
      o.containers.runtimes.push_back(enrich::make_docker_client((proc / "docker.sock").string()));
      o.containers.runtimes.push_back(enrich::make_crio_client((proc / "crio.sock").string()));
    }
    o.lookup_groups = [](std::string_view, uint32_t, std::vector<std::string>& g) {
      g = {"g1", "g7", "users"};
      return true;
    };
    attributor = std::make_unique<enrich::Attributor>(*inv, std::move(o));
  }
  ~Fixture() { fs::remove_all(proc); }
};

model::Event make_event(uint32_t pid, int kind) {
  model::Event ev;
  ev.proc.pid = pid;
  ev.proc.start_ns = 1'000'000'000ull * pid;
  ev.proc.cgroup_id = 10'000 + pid % 64;  // 64 cgroups
  ev.proc.loginuid = 1000;
  ev.wall_time_ns = 1'795'323'600'000'000'000ull;
  if (pid % 4 == 1) {  // service account processes
    ev.proc.uid = ev.proc.euid = 993;
    ev.user_name = "svc3";
  } else {
    ev.proc.uid = ev.proc.euid = pid % 3 == 0 ? 0 : 1000;
    ev.user_name = ev.proc.uid == 0 ? "root" : "u1";
    ev.attr.human = "u1";
  }
  if (kind == 0) {
    ev.kind = model::EventKind::kExec;
    model::ExecData x;
    x.exe_path = pid % 2 ? "/usr/bin/pg_dump" : "/usr/bin/curl";
    ev.data = x;
  } else {
    ev.kind = model::EventKind::kFile;
    model::FileData f;
    f.path = pid % 2 ? "/var/lib/svc3/data" : "/etc/shadow";
    f.open_flags = O_RDONLY;
    ev.data = f;
  }
  return ev;
}

// Steady state: 64 processes cycling, caches warm; 1/16 exec, 15/16 file events.
void BM_AttributeWarm(benchmark::State& state) {
  Fixture fx(64);
  std::vector<model::Event> events;
  for (uint32_t i = 0; i < 1024; ++i) events.push_back(make_event(1 + i % 64, i % 16 == 0 ? 0 : 1));
  for (auto& ev : events) fx.attributor->attribute(ev);  // warm
  size_t i = 0;
  for (auto _ : state) {
    model::Event& ev = events[i++ & 1023];
    ev.attr.drift_reason.clear();
    fx.attributor->attribute(ev);
    benchmark::DoNotOptimize(ev.attr.drift);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AttributeWarm);

// The same with runtime clients configured, as in the agent: names are looked up by the
// resolver's background thread; the event path only checks an atomic flag for answers.
void BM_AttributeWarmRuntimeClients(benchmark::State& state) {
  Fixture fx(64, /*runtime_sockets=*/true);
  std::vector<model::Event> events;
  for (uint32_t i = 0; i < 1024; ++i) events.push_back(make_event(1 + i % 64, i % 16 == 0 ? 0 : 1));
  for (auto& ev : events) fx.attributor->attribute(ev);  // warm
  size_t i = 0;
  for (auto _ : state) {
    model::Event& ev = events[i++ & 1023];
    ev.attr.drift_reason.clear();
    fx.attributor->attribute(ev);
    benchmark::DoNotOptimize(ev.attr.drift);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AttributeWarmRuntimeClients);

// Human events only (no service account, no drift text): the common case on a login host.
void BM_AttributeHumanWarm(benchmark::State& state) {
  Fixture fx(64);
  model::Event ev = make_event(2, 1);
  ev.proc.uid = ev.proc.euid = 1000;
  fx.attributor->attribute(ev);
  for (auto _ : state) {
    fx.attributor->attribute(ev);
    benchmark::DoNotOptimize(ev.attr.roles.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AttributeHumanWarm);

// A service-account event that drifts (reason text built every time).
void BM_AttributeServiceAccountDrift(benchmark::State& state) {
  Fixture fx(64);
  model::Event ev = make_event(1, 0);
  std::get<model::ExecData>(ev.data).exe_path = "/usr/bin/nc";
  fx.attributor->attribute(ev);
  for (auto _ : state) {
    fx.attributor->attribute(ev);
    benchmark::DoNotOptimize(ev.attr.drift_reason.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AttributeServiceAccountDrift);

// Cache miss: a new process every event (/proc/<pid>/cgroup read + parse), on the real /proc
// (this benchmark's own process), as on a host where every event is a new short-lived process.
void BM_ContainerCacheMissRealProc(benchmark::State& state) {
  enrich::ContainerResolverOptions o;
  o.cgroup2_root = "";
  enrich::ContainerResolver r(std::move(o));
  const auto self = static_cast<uint32_t>(::getpid());
  uint64_t id = 1;
  for (auto _ : state) {
    r.forget_process(self, 1);
    benchmark::DoNotOptimize(r.resolve(self, 1, id++).container.id.size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ContainerCacheMissRealProc);

// Reload: parse + validate the inventory (SIGHUP path, not per event).
void BM_InventoryParse(benchmark::State& state) {
  const std::string y = inventory_yaml();
  for (auto _ : state) {
    auto inv = enrich::Inventory::parse(y, "bench.yaml", {"h3-db", nullptr});
    benchmark::DoNotOptimize(inv);
  }
}
BENCHMARK(BM_InventoryParse);

}  // namespace
