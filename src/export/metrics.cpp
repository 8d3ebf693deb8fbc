#include "export/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace privwatch::exporter {

FixedHistogram::FixedHistogram(std::vector<uint64_t> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

void FixedHistogram::record(uint64_t v) {
  // First bound >= v ("le"); past the end is +Inf.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += v;
}

std::vector<uint64_t> latency_bounds_ns() {
  constexpr uint64_t kUs = 1000, kMs = 1000 * kUs, kS = 1000 * kMs;
  return {10 * kUs,  25 * kUs, 50 * kUs,   100 * kUs, 250 * kUs, 500 * kUs, 1 * kMs,
          2 * kMs,   5 * kMs,  10 * kMs,   25 * kMs,  50 * kMs,  100 * kMs, 250 * kMs,
          500 * kMs, 1 * kS,   2500 * kMs, 5 * kS,    10 * kS};
}

void MetricFamily::add(std::vector<std::string> labels, double value) {
  Sample s;
  s.labels = std::move(labels);
  s.value = value;
  samples.push_back(std::move(s));
}

void MetricFamily::add_histogram(std::vector<std::string> labels, const FixedHistogram& h,
                                 double scale) {
  Sample s;
  s.labels = std::move(labels);
  s.histogram.bounds.reserve(h.bounds().size());
  for (uint64_t b : h.bounds()) s.histogram.bounds.push_back(static_cast<double>(b) * scale);
  s.histogram.counts = h.counts();
  s.histogram.count = h.count();
  s.histogram.sum = static_cast<double>(h.sum()) * scale;
  samples.push_back(std::move(s));
}

MetricFamily& MetricsSnapshot::family(std::string name, std::string help, MetricType type,
                                      std::vector<std::string> label_names) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  f.label_names = std::move(label_names);
  families.push_back(std::move(f));
  return families.back();
}

const MetricFamily* MetricsSnapshot::find(std::string_view name) const {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

namespace {

void append_escaped(std::string& out, std::string_view v, bool help) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '"':
        if (help) {
          out += c;
        } else {
          out += "\\\"";
        }
        break;
      default:
        out += c;
    }
  }
}

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<int64_t>(v));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

// {a="x",b="y"} plus an optional extra label (le for histogram buckets).
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    append_escaped(out, values[i], false);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

}  // namespace

std::string render_prometheus(const MetricsSnapshot& s) {
  std::string out;
  out.reserve(16 * 1024);
  for (const auto& f : s.families) {
    const std::string name = f.type == MetricType::kCounter ? f.name + "_total" : f.name;
    const char* type = f.type == MetricType::kCounter ? "counter"
                       : f.type == MetricType::kGauge ? "gauge"
                                                      : "histogram";
    out += "# HELP ";
    out += name;
    out += ' ';
    append_escaped(out, f.help, true);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
    for (const auto& smp : f.samples) {
      if (f.type != MetricType::kHistogram) {
        out += name;
        append_labels(out, f.label_names, smp.labels);
        out += ' ';
        append_number(out, smp.value);
        out += '\n';
        continue;
      }
      const HistogramValue& h = smp.histogram;
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= h.bounds.size(); ++i) {
        cumulative += i < h.counts.size() ? h.counts[i] : 0;
        std::string le;
        if (i == h.bounds.size()) {
          le = "+Inf";
        } else {
          append_number(le, h.bounds[i]);
        }
        out += name;
        out += "_bucket";
        append_labels(out, f.label_names, smp.labels, "le", le);
        fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
      }
      out += name;
      out += "_sum";
      append_labels(out, f.label_names, smp.labels);
      out += ' ';
      append_number(out, h.sum);
      out += '\n';
      out += name;
      out += "_count";
      append_labels(out, f.label_names, smp.labels);
      fmt::format_to(std::back_inserter(out), " {}\n", h.count);
    }
  }
  return out;
}

void MetricsRegistry::publish(std::shared_ptr<const MetricsSnapshot> s) {
  std::lock_guard lock(mu_);
  current_.swap(s);
  ++publications_;
  // The old snapshot (now in s) is released outside the lock when s goes out of scope.
}

std::shared_ptr<const MetricsSnapshot> MetricsRegistry::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

uint64_t MetricsRegistry::publications() const {
  std::lock_guard lock(mu_);
  return publications_;
}

GuardedCounter::GuardedCounter(std::vector<std::string> label_names, size_t max_series)
    : label_names_(std::move(label_names)), max_series_(max_series) {
  key_.resize(label_names_.size());
}

void GuardedCounter::inc(const std::vector<std::string_view>& labels, uint64_t by) {
  for (size_t i = 0; i < key_.size(); ++i) key_[i].assign(i < labels.size() ? labels[i] : "");
  auto it = values_.find(key_);
  if (it != values_.end()) {
    it->second += by;
    return;
  }
  if (values_.size() < max_series_) {
    values_.emplace(key_, by);
    return;
  }
  // Over the limit: fold into the overflow series (which does not count against the limit).
  folded_ += by;
  std::vector<std::string> overflow(key_.size(), std::string(kOverflow));
  values_[overflow] += by;
}

uint64_t GuardedCounter::value(const std::vector<std::string>& labels) const {
  const auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void GuardedCounter::export_to(MetricFamily& f) const {
  for (const auto& [labels, v] : values_) f.add(labels, static_cast<double>(v));
}

GuardedGauge::GuardedGauge(std::vector<std::string> label_names, size_t max_series)
    : label_names_(std::move(label_names)), max_series_(max_series) {}

void GuardedGauge::set(const std::vector<std::string_view>& labels, double value) {
  std::vector<std::string> key(label_names_.size());
  for (size_t i = 0; i < key.size(); ++i) key[i].assign(i < labels.size() ? labels[i] : "");
  auto it = values_.find(key);
  if (it != values_.end()) {
    it->second = value;
  } else if (values_.size() < max_series_) {
    values_.emplace(std::move(key), value);
  } else {
    ++folded_;  // a gauge cannot be summed into an overflow series: the update is counted
  }
}

void GuardedGauge::export_to(MetricFamily& f) const {
  for (const auto& [labels, v] : values_) f.add(labels, v);
}

}  // namespace privwatch::exporter
