#include "detect/literal_matcher.hpp"

#include <algorithm>
#include <cassert>
#include <deque>

namespace privwatch::detect {

namespace {

constexpr uint32_t kNone = UINT32_MAX;

unsigned char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

}  // namespace

void LiteralMatcher::add(std::string_view literal, uint32_t id) {
  assert(classes_ == 0 && "add() after build()");
  if (literal.empty()) return;
  std::string l(literal);
  for (char& c : l) c = static_cast<char>(lower(static_cast<unsigned char>(c)));
  pending_.emplace_back(std::move(l), id);
  ++literals_;
}

void LiteralMatcher::build() {
  // Symbol classes: one per distinct byte of the literals (upper case folded onto lower case),
  // class 0 for every other byte. Small classes keep the transition table small.
  cls_.fill(0);
  uint32_t n = 1;
  for (const auto& [lit, id] : pending_) {
    for (const char ch : lit) {
      const auto c = static_cast<unsigned char>(ch);
      if (cls_[c] == 0) cls_[c] = static_cast<uint8_t>(n++);
    }
  }
  for (unsigned c = 'A'; c <= 'Z'; ++c) cls_[c] = cls_[c + 32];
  classes_ = n;

  // The trie.
  std::vector<uint32_t> go(n, kNone);  // state * n + class → child (kNone: none)
  std::vector<std::vector<uint32_t>> ids(1);
  for (const auto& [lit, id] : pending_) {
    uint32_t s = 0;
    for (const char ch : lit) {
      const uint32_t c = cls_[static_cast<unsigned char>(ch)];
      if (go[s * n + c] == kNone) {
        go[s * n + c] = static_cast<uint32_t>(ids.size());
        ids.emplace_back();
        go.resize(go.size() + n, kNone);
      }
      s = go[s * n + c];
    }
    ids[s].push_back(id);
  }
  pending_.clear();
  pending_.shrink_to_fit();

  // Failure links in breadth-first order turn the trie into a complete automaton; each state
  // reports its own ids and those of its longest proper suffix that is a state (already final,
  // being shallower).
  const size_t states = ids.size();
  std::vector<uint32_t> fail(states, 0);
  delta_.assign(states * n, 0);
  std::deque<uint32_t> queue;
  for (uint32_t c = 0; c < n; ++c) {
    const uint32_t v = go[c];
    if (v == kNone) continue;
    delta_[c] = v;
    fail[v] = 0;
    queue.push_back(v);
  }
  while (!queue.empty()) {
    const uint32_t u = queue.front();
    queue.pop_front();
    auto& own = ids[u];
    const auto& inherited = ids[fail[u]];
    own.insert(own.end(), inherited.begin(), inherited.end());
    std::sort(own.begin(), own.end());
    own.erase(std::unique(own.begin(), own.end()), own.end());
    for (uint32_t c = 0; c < n; ++c) {
      const uint32_t v = go[u * n + c];
      if (v == kNone) {
        delta_[u * n + c] = delta_[fail[u] * n + c];
      } else {
        delta_[u * n + c] = v;
        fail[v] = delta_[fail[u] * n + c];
        queue.push_back(v);
      }
    }
  }
  // Encode "the target state reports ids" in the low bit, lay out the ids.
  out_.assign(states + 1, 0);
  for (size_t s = 0; s < states; ++s) {
    out_[s + 1] = out_[s] + static_cast<uint32_t>(ids[s].size());
    out_ids_.insert(out_ids_.end(), ids[s].begin(), ids[s].end());
  }
  for (uint32_t& t : delta_) t = (t << 1) | (ids[t].empty() ? 0u : 1u);
}

}  // namespace privwatch::detect
