#include "util/histogram.hpp"

#include <bit>

namespace privwatch {

// Values below kSubBuckets get exact buckets; above, each power of two is cut in 8.
int LatencyHistogram::index(uint64_t v) {
  if (v < kSubBuckets) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);  // >= 3
  const int octave = msb - 2;                // 1..61
  const int sub = static_cast<int>((v >> (msb - 3)) & (kSubBuckets - 1));
  const int i = octave * kSubBuckets + sub;
  return i < kOctaves * kSubBuckets ? i : kOctaves * kSubBuckets - 1;
}

uint64_t LatencyHistogram::bucket_upper(int i) {
  if (i < kSubBuckets) return static_cast<uint64_t>(i);
  const int octave = i / kSubBuckets;
  const int sub = i % kSubBuckets;
  const int msb = octave + 2;
  const uint64_t base = 1ull << msb;
  const uint64_t step = 1ull << (msb - 3);
  return base + step * static_cast<uint64_t>(sub + 1) - 1;
}

uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto target = static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5);
  uint64_t seen = 0;
  for (int i = 0; i < bucket_count(); ++i) {
    seen += buckets_[i];
    if (seen >= target && buckets_[i] != 0) {
      const uint64_t up = bucket_upper(i);
      return up < max_ ? up : max_;
    }
  }
  return max_;
}

void LatencyHistogram::merge(const LatencyHistogram& o) {
  for (int i = 0; i < bucket_count(); ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  if (o.max_ > max_) max_ = o.max_;
}

}  // namespace privwatch
