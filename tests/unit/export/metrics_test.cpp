// Metrics: Prometheus exposition (checked by the real promtool), cardinality guard, the
// agent's metric families, the registry's snapshot hand-over.
#include "export/metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

#include "export/pipeline_metrics.hpp"

namespace privwatch::exporter {
namespace {

// Runs `promtool check metrics` on `text`; returns its output and exit status.
std::pair<int, std::string> promtool_check(const std::string& text) {
  char path[] = "/tmp/pw-metrics-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  const std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int status = p != nullptr ? ::pclose(p) : -1;
  ::unlink(path);
  return {status, out};
}

bool have_promtool() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

// The value of one sample line `name{labels} value` in a rendering; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

model::Event file_event(const std::string& path, uint32_t flags, int64_t result = 3) {
  model::Event ev;
  ev.kind = model::EventKind::kFile;
  model::FileData f;
  f.path = path;
  f.file_flags = flags;
  f.result = result;
  ev.data = f;
  return ev;
}

class FakeSink : public model::RecordSink {
 public:
  std::string_view name() const override { return "fake"; }
  void on_event(const model::Event&) override {}
  model::SinkStats stats() const override {
    model::SinkStats s;
    s.queue_depth = 7;
    s.queue_capacity = 10;
    s.delivered = 5;
    s.dropped_queue_full = 3;
    s.dropped_failed = 2;
    s.retries = 4;
    return s;
  }
};

TEST(Metrics, RenderingIsCleanUnderPromtool) {
  if (!have_promtool()) GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
  PipelineMetrics m(MetricsLimits{3, 10});
  for (int i = 0; i < 5; ++i) m.on_event(file_event(fmt::format("/tmp/a\"b\\c\n{}", i), 1), 0);
  model::Alert a;
  a.rule = "rule with \"quotes\"";
  a.severity = model::Severity::kHigh;
  m.on_alert(a, 2'000'000);
  m.set_active_sessions(4);
  m.set_baseline_counts("user", 4, 1);
  m.set_baseline_counts("role", 2, 2);
  m.set_baseline_counts("cluster", 0, 0);
  m.set_baseline_counts("nonsense", 9, 9);  // ignored
  m.set_baseline_learned(1234);
  source::SourceStats src;
  src.received[1] = 10;
  src.kernel_lost[4] = 2;
  src.decode_errors[1] = 1;
  FakeSink sink;
  auto snap = m.snapshot(src, {&sink}, ProcessSample{1.5, 0.5, 10240, 1024, 42, 9, 1, 0});
  const std::string text = render_prometheus(*snap);
  const auto [status, out] = promtool_check(text);
  EXPECT_EQ(status, 0) << out << "\n" << text;
  EXPECT_EQ(out, "") << text;  // no lint complaints either

  EXPECT_EQ(sample(text, R"(privwatch_events_total{kind="exec"})"), 10);
  EXPECT_EQ(sample(text, R"(privwatch_events_lost_total{kind="file",cause="ring_buffer_full"})"),
            2);
  EXPECT_EQ(
      sample(text, R"(privwatch_events_lost_total{kind="unknown",cause="undecodable_too_short"})"),
      1)
      << text;
  EXPECT_EQ(sample(text, R"(privwatch_sink_queue_depth{sink="fake"})"), 7);
  EXPECT_EQ(sample(text, R"(privwatch_sink_dropped_total{sink="fake",cause="queue_full"})"), 3);
  EXPECT_EQ(sample(text, R"(privwatch_sink_dropped_total{sink="fake",cause="delivery_failed"})"),
            2);
  EXPECT_EQ(sample(text, R"(privwatch_alerts_total{severity="high",rule="rule with \"quotes\""})"),
            1)
      << text;
  EXPECT_EQ(sample(text, R"(privwatch_alert_latency_seconds_bucket{le="0.002"})"), 1);
  EXPECT_EQ(sample(text, R"(privwatch_alert_latency_seconds_bucket{le="0.001"})"), 0);
  EXPECT_EQ(sample(text, R"(privwatch_alert_latency_seconds_count)"), 1);
  EXPECT_EQ(sample(text, R"(privwatch_active_sessions)"), 4);
  EXPECT_EQ(sample(text, R"(privwatch_baseline_maturity{dimension="user"})"), 0.25);
  EXPECT_EQ(sample(text, R"(privwatch_baseline_maturity{dimension="role"})"), 1.0);
  EXPECT_EQ(sample(text, R"(privwatch_baseline_maturity{dimension="cluster"})"), 0.0);
  EXPECT_EQ(sample(text, R"(privwatch_baseline_entities{dimension="user",state="learning"})"), 3);
  EXPECT_EQ(sample(text, R"(privwatch_baseline_entities{dimension="user",state="mature"})"), 1);
  EXPECT_EQ(sample(text, R"(privwatch_baseline_entities{dimension="role",state="learning"})"), 0);
  EXPECT_EQ(sample(text, R"(privwatch_baseline_learned_events_total)"), 1234);
  EXPECT_EQ(text.find("nonsense"), std::string::npos);
  {
    // Baselines disabled: the families are described, without samples.
    PipelineMetrics off;
    const std::string t = render_prometheus(*off.snapshot(src, {}, ProcessSample{}));
    EXPECT_NE(t.find("# TYPE privwatch_baseline_maturity gauge"), std::string::npos);
    EXPECT_EQ(t.find("privwatch_baseline_maturity{"), std::string::npos);
    EXPECT_EQ(t.find("privwatch_baseline_entities{"), std::string::npos);
  }
  EXPECT_EQ(sample(text, R"(privwatch_agent_resident_memory_bytes{area="agent"})"), 9216 * 1024);
  EXPECT_EQ(sample(text, R"(privwatch_agent_resident_memory_bytes{area="ring_buffer"})"),
            1024 * 1024);
  EXPECT_EQ(sample(text, R"(privwatch_agent_cpu_seconds_total{mode="user"})"), 1.5);
  // The escaped label: backslash, quote and newline.
  EXPECT_NE(text.find(R"(path="/tmp/a\"b\\c\n0")"), std::string::npos) << text;
}

TEST(Metrics, FileCreatedCountsOnlyCreatedFilesAndFoldsExcessSeries) {
  PipelineMetrics m(MetricsLimits{2, 10});
  m.on_event(file_event("/etc/a", model::kFileCreated), 0);
  m.on_event(file_event("/etc/a", model::kFileCreated), 0);
  m.on_event(file_event("/etc/b", model::kFileCreated | model::kFileWrite), 0);
  m.on_event(file_event("/etc/opened", model::kFileWrite), 0);         // not created
  m.on_event(file_event("/etc/failed", model::kFileCreated, -13), 0);  // failed open
  m.on_event(file_event("/etc/c", model::kFileCreated), 0);            // over the limit
  m.on_event(file_event("/etc/d", model::kFileCreated), 0);            // over the limit
  const GuardedCounter& fc = m.file_created();
  EXPECT_EQ(fc.value({"/etc/a", "a"}), 2u);
  EXPECT_EQ(fc.value({"/etc/b", "b"}), 1u);
  EXPECT_EQ(fc.value({"/etc/opened", "opened"}), 0u);
  EXPECT_EQ(fc.value({"/etc/c", "c"}), 0u);
  EXPECT_EQ(fc.value({"_overflow_", "_overflow_"}), 2u);
  EXPECT_EQ(fc.folded(), 2u);
  EXPECT_EQ(fc.series(), 3u);  // two real + the overflow series

  auto snap = m.snapshot({}, {}, {});
  const std::string text = render_prometheus(*snap);
  EXPECT_EQ(sample(text, R"(privwatch_file_created_total{path="_overflow_",name="_overflow_"})"),
            2);
  EXPECT_EQ(
      sample(text,
             R"(privwatch_metric_series_folded_total{metric="privwatch_file_created_total"})"),
      2);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  FixedHistogram h({10, 100, 1000});
  for (uint64_t v : {5, 10, 11, 100, 5000}) h.record(v);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{2, 2, 0, 1}));
  MetricsSnapshot s;
  s.family("x_seconds", "help", MetricType::kHistogram).add_histogram({}, h, 1.0);
  const std::string text = render_prometheus(s);
  EXPECT_EQ(sample(text, R"(x_seconds_bucket{le="10"})"), 2);
  EXPECT_EQ(sample(text, R"(x_seconds_bucket{le="100"})"), 4);
  EXPECT_EQ(sample(text, R"(x_seconds_bucket{le="1000"})"), 4);
  EXPECT_EQ(sample(text, R"(x_seconds_bucket{le="+Inf"})"), 5);
  EXPECT_EQ(sample(text, "x_seconds_sum"), 5126);
  EXPECT_EQ(sample(text, "x_seconds_count"), 5);
}

TEST(Metrics, GaugeGuardCountsUpdatesBeyondTheLimit) {
  GuardedGauge g({"dimension", "subject"}, 1);
  g.set({"user", "alice"}, 0.5);
  g.set({"user", "alice"}, 0.6);
  g.set({"user", "bob"}, 0.1);
  EXPECT_EQ(g.folded(), 1u);
  MetricFamily f;
  g.export_to(f);
  ASSERT_EQ(f.samples.size(), 1u);
  EXPECT_EQ(f.samples[0].value, 0.6);
}

TEST(Metrics, RegistryHandsOverWholeSnapshotsAcrossThreads) {
  MetricsRegistry reg;
  EXPECT_EQ(reg.current(), nullptr);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> torn{0};
  std::thread reader([&] {
    while (!stop.load()) {
      auto s = reg.current();
      if (!s) continue;
      // Every published snapshot has both families with equal values.
      if (s->families.size() != 2 ||
          s->families[0].samples[0].value != s->families[1].samples[0].value) {
        torn.fetch_add(1);
      }
    }
  });
  for (int i = 0; i < 2000; ++i) {
    auto s = std::make_shared<MetricsSnapshot>();
    s->family("a", "a", MetricType::kGauge).add({}, i);
    s->family("b", "b", MetricType::kGauge).add({}, i);
    reg.publish(std::move(s));
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(reg.publications(), 2000u);
  EXPECT_EQ(reg.current()->families[0].samples[0].value, 1999);
}

}  // namespace
}  // namespace privwatch::exporter
