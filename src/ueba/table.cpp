#include "ueba/table.hpp"

#include <algorithm>
#include <cassert>

namespace privwatch::ueba {

namespace {
constexpr uint32_t kMinCap = 8;
constexpr uint32_t kEvictWindow = 64;

inline uint32_t mix(uint32_t k) {  // keys are hashes already; spread the low bits
  k ^= k >> 16;
  k *= 0x7feb352dU;
  k ^= k >> 15;
  return k;
}
}  // namespace

uint32_t DecayedTable::find(uint32_t key) const {
  const uint32_t mask = cap_ - 1;
  uint32_t i = mix(key) & mask;
  while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask;
  return i;
}

float DecayedTable::weight(uint32_t key) const {
  if (cap_ == 0) return 0;
  const Slot& s = slots_[find(key)];
  return s.key == key ? s.weight : 0;
}

void DecayedTable::grow(uint32_t new_cap) {
  auto old = std::move(slots_);
  const uint32_t old_cap = cap_;
  slots_ = std::make_unique<Slot[]>(new_cap);
  cap_ = new_cap;
  used_ = 0;
  for (uint32_t i = 0; i < old_cap; ++i) {
    if (old[i].key != 0) insert_new(old[i].key, old[i].weight);
  }
}

void DecayedTable::insert_new(uint32_t key, float w) {
  const uint32_t i = find(key);
  assert(slots_[i].key == 0);
  slots_[i] = {key, w};
  ++used_;
}

// Backward-shift deletion keeps linear probing chains intact without tombstones.
void DecayedTable::erase_at(uint32_t i) {
  const uint32_t mask = cap_ - 1;
  uint32_t j = i;
  while (true) {
    j = (j + 1) & mask;
    if (slots_[j].key == 0) break;
    const uint32_t home = mix(slots_[j].key) & mask;
    // Move j into the hole at i when its home is not cyclically in (i, j].
    const bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!in_range) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = {};
  --used_;
}

bool DecayedTable::add(uint32_t key, float w, uint32_t max_values) {
  if (key == 0) key = 1;
  total_ += w;
  if (cap_ == 0) grow(kMinCap);
  uint32_t i = find(key);
  if (slots_[i].key == key) {
    slots_[i].weight += w;
    return false;
  }
  novel_ += w;
  if (used_ >= max_values) {
    // Full: a light value leaves (its weight stays in total_). The lightest of a window of
    // kEvictWindow slots starting at a position given by the new key: O(1) per insert, and
    // close to the global minimum because weights are spread evenly over the table.
    uint32_t lightest = cap_;
    const uint32_t start = mix(key * 2654435761U) & (cap_ - 1);
    for (uint32_t n = 0; n < std::min(cap_, kEvictWindow); ++n) {
      const uint32_t k = (start + n) & (cap_ - 1);
      if (slots_[k].key != 0 && (lightest == cap_ || slots_[k].weight < slots_[lightest].weight)) {
        lightest = k;
      }
    }
    if (lightest != cap_) {
      erase_at(lightest);
      ++evictions_;
    }
  } else if ((used_ + 1) * 4 > cap_ * 3) {
    grow(cap_ * 2);
  }
  insert_new(key, w);
  return true;
}

double DecayedTable::mass_at_most(float w) const {
  double m = 0;
  for (uint32_t k = 0; k < cap_; ++k) {
    if (slots_[k].key != 0 && slots_[k].weight <= w) m += slots_[k].weight;
  }
  return m;
}

void DecayedTable::scale(double factor) {
  total_ *= factor;
  novel_ *= factor;
  for (uint32_t k = 0; k < cap_; ++k) {
    slots_[k].weight = static_cast<float>(slots_[k].weight * factor);
  }
}

void DecayedTable::restore(double total, double novel, const Slot* slots, uint32_t count,
                           uint32_t max_values) {
  slots_.reset();
  cap_ = used_ = 0;
  uint32_t cap = kMinCap;
  while (count * 4 > cap * 3) cap *= 2;
  grow(cap);
  for (uint32_t k = 0; k < count && used_ < std::max(max_values, count); ++k) {
    if (slots[k].key != 0 && weight(slots[k].key) == 0) insert_new(slots[k].key, slots[k].weight);
  }
  total_ = total;
  novel_ = novel;
}

}  // namespace privwatch::ueba
