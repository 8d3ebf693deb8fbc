// A bounded table of exponentially decayed counts: how often each value of one feature was
// seen for one entity (a user, a role, a cluster). Open addressing with linear probing on
// 32-bit value hashes; grows by doubling up to a capacity limit, then evicts the lightest
// value (its weight stays in the total, so "never seen" stays calibrated).
//
// Decay is "forward decay" (Cormode et al., 2009): an observation at time t adds
// 2^((t - landmark) / half_life) instead of 1, so nothing needs to be touched when time
// passes; the decayed count at `now` is the stored weight times 2^(-(now - landmark) /
// half_life). The engine rescales every table when the landmark moves.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace privwatch::ueba {

class DecayedTable {
 public:
  struct Slot {
    uint32_t key = 0;  // 0 = empty
    float weight = 0;
  };

  // Weight stored for `key` (0 when the value is not in the table).
  [[nodiscard]] float weight(uint32_t key) const;
  // Adds `w`; returns true when the value was new to the table (counts toward novelty).
  bool add(uint32_t key, float w, uint32_t max_values);
  // Sum of the weights of values at most as heavy as `w` (values just as rare, or rarer).
  [[nodiscard]] double mass_at_most(float w) const;
  // Multiply every weight (landmark moved).
  void scale(double factor);

  [[nodiscard]] double total() const { return total_; }
  [[nodiscard]] double novel() const { return novel_; }
  [[nodiscard]] uint32_t size() const { return used_; }
  [[nodiscard]] uint32_t capacity() const { return cap_; }
  [[nodiscard]] uint64_t evictions() const { return evictions_; }
  [[nodiscard]] size_t memory_bytes() const { return sizeof(*this) + cap_ * sizeof(Slot); }

  // Snapshot access.
  [[nodiscard]] const Slot* slots() const { return slots_.get(); }
  void restore(double total, double novel, const Slot* slots, uint32_t count, uint32_t max_values);

 private:
  [[nodiscard]] uint32_t find(uint32_t key) const;  // index of key or of the empty slot
  void grow(uint32_t new_cap);
  void erase_at(uint32_t i);
  void insert_new(uint32_t key, float w);

  std::unique_ptr<Slot[]> slots_;
  uint32_t cap_ = 0;  // power of two (0 before the first value)
  uint32_t used_ = 0;
  double total_ = 0;  // every weight ever added (evicted values included)
  double novel_ = 0;  // weight of observations whose value was new to the table
  uint64_t evictions_ = 0;
};

}  // namespace privwatch::ueba
