// Multi-literal matching for the rule prefilter: an Aho-Corasick automaton over ASCII-lower-cased
// literals, matched case-insensitively. One pass over a text reports every literal that occurs in
// it, whatever the number of literals (the text is read once, one table lookup per byte).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace privwatch::detect {

class LiteralMatcher {
 public:
  // Adds `literal` (not empty) with the payload `id`. Before build() only.
  void add(std::string_view literal, uint32_t id);
  // Builds the automaton from the literals added. Call once.
  void build();

  [[nodiscard]] bool empty() const { return literals_ == 0; }
  [[nodiscard]] size_t literals() const { return literals_; }
  [[nodiscard]] size_t states() const { return classes_ == 0 ? 0 : delta_.size() / classes_; }
  [[nodiscard]] size_t memory_bytes() const {
    return delta_.size() * sizeof(uint32_t) + out_.size() * sizeof(uint32_t) +
           out_ids_.size() * sizeof(uint32_t) + sizeof(*this);
  }

  // Calls on_id(id) for the payload of every literal found in `text`, ASCII case-insensitively.
  // An id is reported once per occurrence of each of its literals (callers deduplicate).
  template <typename F>
  void scan(std::string_view text, F&& on_id) const {
    if (literals_ == 0) return;
    uint32_t s = 0;
    for (const char ch : text) {
      const uint32_t v = delta_[s * classes_ + cls_[static_cast<unsigned char>(ch)]];
      s = v >> 1;
      if ((v & 1u) != 0) {
        for (uint32_t i = out_[s]; i < out_[s + 1]; ++i) on_id(out_ids_[i]);
      }
    }
  }

 private:
  std::vector<std::pair<std::string, uint32_t>> pending_;  // until build()
  size_t literals_ = 0;
  std::array<uint8_t, 256> cls_{};  // byte → symbol class; 0 = a byte no literal contains
  uint32_t classes_ = 0;
  // (state * classes_ + class) → (next state << 1) | (next state reports ids)
  std::vector<uint32_t> delta_;
  std::vector<uint32_t> out_;      // state → first index in out_ids_ (states + 1 entries)
  std::vector<uint32_t> out_ids_;  // ids of each state, its own and its suffixes', deduplicated
};

}  // namespace privwatch::detect
