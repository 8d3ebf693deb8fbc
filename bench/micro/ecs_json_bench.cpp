// ECS JSON encoding alone (src/export/ecs_json.cpp): the agent's JSON lines output and the
// store both pay it for every event. Events are built once; the loop only encodes into a
// reused buffer. Run: build/bench/bench_micro --benchmark_filter=EcsJson
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "export/ecs_json.hpp"

namespace {

using namespace privwatch;

const char* const kUsers[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"};
const char* const kExes[] = {"/usr/bin/psql", "/usr/bin/ls",   "/usr/bin/cat", "/usr/bin/grep",
                             "/usr/bin/vim",  "/usr/bin/curl", "/usr/bin/ssh", "/usr/bin/git"};

// Shaped like bench/store/store_bench.cpp's events: an attributed human in a session, ~1 KiB.
model::Event attributed_event(uint32_t i, bool exec) {
  model::Event ev;
  const uint32_t h = i * 2654435761u;
  const std::string user = kUsers[h % 8];
  ev.wall_time_ns = 1'795'313'655'123'456'789ull + i * 1000ull;
  ev.ts_ns = 5'000'000'000ull + i;
  ev.proc.pid = 1000 + h % 30000;
  ev.proc.tid = ev.proc.pid;
  ev.proc.ppid = 999;
  ev.proc.start_ns = 4'000'000'000ull;
  ev.proc.uid = ev.proc.euid = (h % 3 == 0) ? 0 : 1000 + h % 8;
  ev.proc.loginuid = 1000 + h % 8;
  ev.proc.sessionid = 3;
  ev.proc.comm = "bash";
  ev.user_name = ev.effective_user_name = ev.proc.uid == 0 ? "root" : user;
  ev.login_user_name = user;
  ev.attr.cluster = (h % 2) ? "app-servers" : "db-servers";
  ev.attr.human = user;
  ev.attr.roles = {"dba"};
  ev.attr.escalated = ev.proc.uid == 0;
  auto s = std::make_shared<model::Session>();
  s->id = "9f3c-" + std::to_string(2000 + i % 64) + "-100007";
  s->entry_type = model::EntryType::kSsh;
  s->leader = {2000 + i % 64, 100007};
  s->leader_exe = "/usr/sbin/sshd";
  s->start_wall_ns = 1'795'300'000'000'000'000ull;
  s->uid = 1000 + h % 8;
  s->user = user;
  s->client_ip = "203.0.113.9";
  s->client_port = 51234;
  ev.attr.session = std::move(s);
  if (exec) {
    ev.kind = model::EventKind::kExec;
    ev.syscall = 59;
    model::ExecData x;
    x.exe_path = kExes[h % 8];
    x.filename = x.exe_path;
    x.cwd = "/home/" + user;
    x.args = {x.exe_path.substr(x.exe_path.rfind('/') + 1), "--opt" + std::to_string(h % 50),
              "/srv/" + user + "/item" + std::to_string(h % 5000)};
    x.exe_ino = 1234567;
    x.exe_mode = 0100755;
    ev.exe = x.exe_path;
    ev.data = std::move(x);
  } else {
    ev.kind = model::EventKind::kFile;
    ev.syscall = 257;
    model::FileData f;
    f.path = "/var/lib/app/data/" + std::to_string(h % 97) + "/file" + std::to_string(h % 1000);
    f.requested_path = f.path;
    ev.exe = "/usr/bin/python3";
    ev.data = std::move(f);
  }
  ev.parent_exe = "/usr/bin/bash";
  ev.parent_comm = "bash";
  return ev;
}

void BM_EcsJson(benchmark::State& state) {
  std::vector<model::Event> evs;
  for (uint32_t i = 0; i < 256; ++i) evs.push_back(attributed_event(i, state.range(0) != 0));
  std::string out;
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    out.clear();
    exporter::append_ecs_json(evs[i++ & 255], out, "app-3");
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes/event"] = static_cast<double>(bytes) / static_cast<double>(i);
}
BENCHMARK(BM_EcsJson)->Arg(1)->Arg(0)->ArgName("exec");

// Strings that need escaping: terminal output with control characters and UTF-8.
void BM_EcsJsonString(benchmark::State& state) {
  std::string s;
  for (int i = 0; i < 16; ++i) s += "\x1b[01;34mdirectory\x1b[0m  café  \"quoted\"\r\n";
  if (state.range(0) == 0) s = std::string(s.size(), 'a');  // plain ASCII
  std::string out;
  for (auto _ : state) {
    out.clear();
    exporter::append_json_string(out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_EcsJsonString)->Arg(0)->Arg(1)->ArgName("escapes");

}  // namespace
