// User-space pipeline throughput: decode → enrich → session (→ ECS JSON). Records are laid out exactly
// as the kernel writes them (events.h). Run: build/bench/bench_micro
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "enrich/enricher.hpp"
#include "events.h"
#include "export/ecs_json.hpp"
#include "session/tracker.hpp"
#include "source/decode.hpp"

namespace {

using namespace privwatch;

template <typename T>
void init_header(std::vector<uint8_t>& buf, uint16_t type, uint32_t pid) {
  buf.assign(sizeof(T), 0);
  T v{};
  v.hdr.type = type;
  v.hdr.version = PRIVWATCH_EVENTS_SCHEMA_VERSION;
  v.hdr.ts_ns = 1'000'000'000ull;
  v.hdr.flags = PW_F_MONITORED;
  v.hdr.syscall = 257;
  v.hdr.proc.pid = pid;
  v.hdr.proc.tid = pid;
  v.hdr.proc.ppid = 1;
  v.hdr.proc.start_ns = 500'000'000ull;
  v.hdr.proc.loginuid = 1000;
  v.hdr.proc.sessionid = 3;
  std::strcpy(v.hdr.proc.comm, "psql");
  std::memcpy(buf.data(), &v, sizeof(T));
}

template <typename T>
void add_str(std::vector<uint8_t>& buf, pw_str T::*member, std::string_view s, bool nul = true) {
  pw_str ref{};
  ref.off = static_cast<uint16_t>(buf.size());
  ref.len = static_cast<uint16_t>(s.size());
  buf.insert(buf.end(), s.begin(), s.end());
  if (nul) buf.push_back(0);
  std::memcpy(buf.data() + (reinterpret_cast<size_t>(&(static_cast<T*>(nullptr)->*member))), &ref,
              sizeof(ref));
}

template <typename T>
void finish(std::vector<uint8_t>& buf) {
  const uint32_t size = static_cast<uint32_t>(buf.size());
  std::memcpy(buf.data() + offsetof(pw_event_hdr, size), &size, sizeof(size));
}

std::vector<uint8_t> file_record(uint32_t pid) {
  std::vector<uint8_t> b;
  init_header<pw_file>(b, PW_EV_FILE, pid);
  add_str<pw_file>(b, &pw_file::path, "/var/lib/postgresql/15/main/base/16384/2619");
  add_str<pw_file>(b, &pw_file::resolved, "/var/lib/postgresql/15/main/base/16384/2619");
  finish<pw_file>(b);
  return b;
}

std::vector<uint8_t> exec_record(uint32_t pid) {
  std::vector<uint8_t> b;
  init_header<pw_exec>(b, PW_EV_EXEC, pid);
  add_str<pw_exec>(b, &pw_exec::exe_path, "/usr/bin/psql");
  add_str<pw_exec>(b, &pw_exec::filename, "/usr/bin/psql");
  add_str<pw_exec>(b, &pw_exec::cwd, "/home/alice");
  const std::string args("psql\0-h\0db-3\0-U\0alice\0-c\0select 1", 33);
  add_str<pw_exec>(b, &pw_exec::args, args, false);
  finish<pw_exec>(b);
  return b;
}

// A mix like a busy monitored host: mostly file events, some execs, from 512 processes.
std::vector<std::vector<uint8_t>> workload() {
  std::vector<std::vector<uint8_t>> recs;
  for (uint32_t i = 0; i < 4096; ++i) {
    const uint32_t pid = 1000 + (i % 512);
    recs.push_back(i % 16 == 0 ? exec_record(pid) : file_record(pid));
  }
  return recs;
}

void BM_Decode(benchmark::State& state) {
  const auto recs = workload();
  model::Event ev;
  size_t i = 0;
  for (auto _ : state) {
    auto st = source::decode_record(recs[i++ & 4095], {}, ev);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode);

void BM_DecodeEnrich(benchmark::State& state) {
  const auto recs = workload();
  enrich::Enricher enricher(65536, 30'000'000'000ull);
  model::Event ev;
  size_t i = 0;
  for (auto _ : state) {
    (void)source::decode_record(recs[i++ & 4095], {}, ev);
    enricher.process(ev);
    benchmark::DoNotOptimize(ev.exe.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEnrich);

struct NullObserver : session::SessionObserver {
  void session_changed(const model::Session&) override {}
  void escalation(const model::Escalation&) override {}
};

void BM_DecodeEnrichSession(benchmark::State& state) {
  const auto recs = workload();
  enrich::Enricher enricher(65536, 30'000'000'000ull);
  NullObserver obs;
  session::SessionTracker tracker(enricher.table(), enricher.users(), obs,
                                  session::TrackerOptions{"app-3", "b00710ad", 65536});
  model::Event ev;
  size_t i = 0;
  for (auto _ : state) {
    (void)source::decode_record(recs[i++ & 4095], {}, ev);
    enricher.process(ev);
    tracker.process(ev);
    benchmark::DoNotOptimize(ev.attr.session.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEnrichSession);

void BM_DecodeEnrichEcsJson(benchmark::State& state) {
  const auto recs = workload();
  enrich::Enricher enricher(65536, 30'000'000'000ull);
  model::Event ev;
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    (void)source::decode_record(recs[i++ & 4095], {}, ev);
    enricher.process(ev);
    out.clear();
    exporter::append_ecs_json(ev, out, "app-3");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeEnrichEcsJson);

}  // namespace

BENCHMARK_MAIN();
