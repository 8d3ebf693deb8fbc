#include "util/histogram.hpp"

#include <gtest/gtest.h>

namespace privwatch {
namespace {

TEST(LatencyHistogram, QuantilesWithinBucketPrecision) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);  // 1 µs .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.max(), 100'000'000u);
  const double p50 = static_cast<double>(h.quantile(0.5));
  const double p99 = static_cast<double>(h.quantile(0.99));
  EXPECT_NEAR(p50, 50e6, 50e6 * 0.13);
  EXPECT_NEAR(p99, 99e6, 99e6 * 0.13);
  EXPECT_LE(h.quantile(1.0), h.max());
}

TEST(LatencyHistogram, EmptyAndSmallValues) {
  LatencyHistogram h;
  EXPECT_EQ(h.quantile(0.99), 0u);
  h.record(0);
  h.record(3);
  EXPECT_EQ(h.quantile(1.0), 3u);
  EXPECT_EQ(h.quantile(0.5), 0u);
}

TEST(LatencyHistogram, BucketBoundsAreMonotonic) {
  for (int i = 1; i < LatencyHistogram::bucket_count(); ++i) {
    EXPECT_GT(LatencyHistogram::bucket_upper(i), LatencyHistogram::bucket_upper(i - 1)) << i;
  }
}

}  // namespace
}  // namespace privwatch
