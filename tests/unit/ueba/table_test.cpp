#include "ueba/table.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace privwatch::ueba {
namespace {

TEST(DecayedTable, CountsLikeAMapWhileBelowTheBound) {
  DecayedTable t;
  std::map<uint32_t, double> ref;
  std::mt19937 rng(7);
  double total = 0;
  for (int i = 0; i < 20000; ++i) {
    const uint32_t k = 1 + rng() % 300;
    const float w = 1.0f + static_cast<float>(rng() % 3);
    const bool is_new = ref.find(k) == ref.end();
    EXPECT_EQ(t.add(k, w, 1000), is_new);
    ref[k] += w;
    total += w;
  }
  EXPECT_EQ(t.size(), ref.size());
  for (const auto& [k, w] : ref) EXPECT_FLOAT_EQ(t.weight(k), static_cast<float>(w)) << k;
  EXPECT_DOUBLE_EQ(t.total(), total);
  EXPECT_EQ(t.weight(100000), 0.0f);
}

TEST(DecayedTable, StaysWithinItsBoundAndKeepsTheHeavyValues) {
  DecayedTable t;
  // 8 heavy values, then a stream of one-off values far beyond the bound.
  for (uint32_t k = 1; k <= 8; ++k) t.add(k, 1000.0f, 32);
  for (uint32_t k = 1000; k < 6000; ++k) t.add(k, 1.0f, 32);
  EXPECT_LE(t.size(), 32u);
  EXPECT_LE(t.capacity(), 64u);
  EXPECT_GT(t.evictions(), 4000u);
  for (uint32_t k = 1; k <= 8; ++k) EXPECT_FLOAT_EQ(t.weight(k), 1000.0f) << k;
  // Evicted weight stays in the total: "never seen" remains calibrated.
  EXPECT_DOUBLE_EQ(t.total(), 8 * 1000.0 + 5000.0);
  EXPECT_DOUBLE_EQ(t.novel(), 8 * 1000.0 + 5000.0);
}

TEST(DecayedTable, ScaleAndRestoreKeepWeights) {
  DecayedTable t;
  for (uint32_t k = 1; k <= 50; ++k) t.add(k, static_cast<float>(k), 64);
  t.scale(0.5);
  EXPECT_FLOAT_EQ(t.weight(10), 5.0f);
  std::vector<DecayedTable::Slot> slots;
  for (uint32_t i = 0; i < t.capacity(); ++i) {
    if (t.slots()[i].key != 0) slots.push_back(t.slots()[i]);
  }
  DecayedTable r;
  r.restore(t.total(), t.novel(), slots.data(), static_cast<uint32_t>(slots.size()), 64);
  for (uint32_t k = 1; k <= 50; ++k) EXPECT_FLOAT_EQ(r.weight(k), t.weight(k));
  EXPECT_DOUBLE_EQ(r.total(), t.total());
  EXPECT_DOUBLE_EQ(r.mass_at_most(2.0f), 0.5 + 1.0 + 1.5 + 2.0);
}

}  // namespace
}  // namespace privwatch::ueba
