// Log-linear latency histogram: constant memory, O(1) record, percentile estimates
// within 1/8 of a power of two (≈ 12%). No allocation after construction.
#pragma once

#include <array>
#include <cstdint>

namespace privwatch {

class LatencyHistogram {
 public:
  static constexpr int kSubBuckets = 8;
  static constexpr int kOctaves = 48;

  void record(uint64_t v) {
    ++buckets_[index(v)];
    ++count_;
    sum_ += v;
    if (v > max_) max_ = v;
  }
  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] uint64_t max() const { return max_; }
  [[nodiscard]] uint64_t sum() const { return sum_; }
  // Upper bound of the bucket holding the q-quantile (0 < q <= 1); 0 when empty.
  [[nodiscard]] uint64_t quantile(double q) const;
  void merge(const LatencyHistogram& o);
  void reset() { *this = LatencyHistogram{}; }

  // Bucket upper bounds, for exporting as a cumulative histogram.
  [[nodiscard]] static uint64_t bucket_upper(int i);
  [[nodiscard]] static constexpr int bucket_count() { return kOctaves * kSubBuckets; }
  [[nodiscard]] uint64_t bucket(int i) const { return buckets_[i]; }

 private:
  static int index(uint64_t v);
  std::array<uint64_t, kOctaves * kSubBuckets> buckets_{};
  uint64_t count_ = 0, sum_ = 0, max_ = 0;
};

}  // namespace privwatch
