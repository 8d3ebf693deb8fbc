// Export costs on the pipeline thread: metrics per event, the periodic snapshot + Prometheus
// rendering, and handing an event to a queued output (format + enqueue; the output's own
// thread sends concurrently). Run: build/bench/bench_micro --benchmark_filter=Export
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "export/metrics.hpp"
#include "export/pipeline_metrics.hpp"
#include "export/syslog_sink.hpp"

namespace {

using namespace privwatch;

model::Event file_event(int i, bool created) {
  model::Event ev;
  ev.kind = model::EventKind::kFile;
  ev.ts_ns = 1;
  ev.proc.pid = 1234;
  ev.proc.comm = "psql";
  ev.user_name = "postgres";
  ev.wall_time_ns = 1'763'780'000'000'000'000ull;
  model::FileData f;
  f.path = "/var/lib/postgresql/15/main/base/pgsql_tmp/f" + std::to_string(i % 500);
  f.file_flags = created ? model::kFileCreated : 0;
  ev.data = f;
  return ev;
}

void BM_ExportMetricsOnEvent(benchmark::State& state) {
  exporter::PipelineMetrics m;
  std::vector<model::Event> evs;
  for (int i = 0; i < 1024; ++i) evs.push_back(file_event(i, state.range(0) != 0));
  size_t i = 0;
  for (auto _ : state) {
    m.on_event(evs[i++ & 1023], 2);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ExportMetricsOnEvent)->Arg(0)->Arg(1)->ArgName("created");

void BM_ExportSnapshotAndRender(benchmark::State& state) {
  exporter::PipelineMetrics m;
  for (int i = 0; i < 1000; ++i) m.on_event(file_event(i * 7919, true), 2);
  source::SourceStats src;
  size_t bytes = 0;
  for (auto _ : state) {
    auto snap = m.snapshot(src, {}, {});
    bytes = exporter::render_prometheus(*snap).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_ExportSnapshotAndRender)->Unit(benchmark::kMicrosecond);

// A UDP syslog output to a socket nobody reads: what the pipeline thread pays per event.
void BM_ExportSyslogUdpHandOff(benchmark::State& state) {
  const int rx = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len);
  config::SyslogConfig cfg;
  cfg.address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  cfg.sink.events = true;
  auto sink = exporter::SyslogSink::create(cfg, "bench-host");
  const model::Event ev = file_event(1, true);
  for (auto _ : state) (*sink)->on_event(ev);
  (*sink)->close();
  const auto st = (*sink)->stats();
  state.SetItemsProcessed(state.iterations());
  state.counters["delivered_pct"] =
      100.0 * static_cast<double>(st.delivered) / static_cast<double>(state.iterations());
  state.counters["dropped_pct"] =
      100.0 * static_cast<double>(st.dropped_queue_full) / static_cast<double>(state.iterations());
  ::close(rx);
}
BENCHMARK(BM_ExportSyslogUdpHandOff);

}  // namespace
