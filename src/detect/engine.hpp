// The rule engine: evaluates every event against the loaded rules on the pipeline thread and
// turns matches into model::Alert (deduplicated, rate-limited, every suppression counted).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "detect/rules.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "util/result.hpp"

namespace privwatch::detect {

// Which rules an event is tested against (docs/rules.md, "Performance"). kNone: every rule of
// the event's kind (the reference the differential tests compare with); kKeys: single-event rules
// with an exact necessary key (executable basename, process name, destination port, file.write)
// only when the event has it; kFull: kKeys plus the literal prefilter (one multi-literal pass per
// field: rules whose necessary literals do not occur in the event are not tested).
enum class RuleIndex : uint8_t { kNone, kKeys, kFull };

struct EngineOptions {
  uint64_t dedup_window_ns = 60'000'000'000ull;  // identical alerts folded within this window
  uint32_t rate_limit_per_minute = 60;           // alerts per rule and minute; 0 = unlimited
  uint32_t max_sequence_states = 10000;          // partial sequence matches kept (all rules)
  uint32_t max_tree_entries = 65536;             // pid → process-tree root map (sequence keys)
  uint32_t self_pid = 0;                         // 0: getpid()
  std::string host;                              // alert host when the event carries none
  RuleIndex rule_index = RuleIndex::kFull;       // alerts are the same whatever the index
};

struct EngineStats {
  uint64_t events = 0;
  uint64_t rule_evaluations = 0;  // rule conditions evaluated (after the kind, key, literal index)
  uint64_t matches = 0;           // conditions that matched (before exceptions)
  uint64_t excepted = 0;          // matches suppressed by an exception
  uint64_t alerts = 0;            // alerts emitted
  uint64_t deduplicated = 0;      // alerts folded into an earlier identical one
  uint64_t rate_limited = 0;      // alerts dropped by the per-rule rate limit
  uint64_t dedup_evictions = 0;   // dedup entries evicted because the table was full
  uint64_t sequence_started = 0;
  uint64_t sequence_completed = 0;
  uint64_t sequence_expired = 0;  // partial matches older than the rule's window
  uint64_t sequence_evicted = 0;  // partial matches evicted (state bound reached)
  uint64_t tree_evictions = 0;    // process-tree entries evicted
  uint64_t sequence_states = 0;   // current partial matches
};

class Engine {
 public:
  Engine(RuleSet rules, EngineOptions opts);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Appends the alerts `ev` raises to `out`. No allocation unless a rule matches (besides
  // sequence keys for events a sequence rule looks at).
  void evaluate(const model::Event& ev, std::vector<model::Alert>& out);

  [[nodiscard]] const RuleSet& rules() const { return rules_; }
  [[nodiscard]] const Rule* rule(std::string_view name) const;
  [[nodiscard]] const EngineStats& stats() const { return stats_; }
  // Per-rule alert counts, in rules() order.
  [[nodiscard]] const std::vector<uint64_t>& alerts_by_rule() const { return alerts_by_rule_; }
  // How the rules were indexed: per event kind, rules tested on every event of the kind
  // (unguarded), by an exact key, by the literal prefilter; and the prefilter's literals.
  struct IndexInfo {
    size_t unguarded = 0, by_key = 0, by_literal = 0;  // (kind, rule) pairs
    size_t literals = 0, automaton_bytes = 0;
  };
  [[nodiscard]] IndexInfo index_info() const;
  // {"rules":N,"events":...} for the agent's stats file.
  [[nodiscard]] std::string stats_json() const;

  // After a reload: keep the counters, the dedup table and the process-tree map of the engine
  // this one replaces (partial sequence matches of rules that still exist are kept too).
  void take_state_from(Engine& old);

 private:
  struct Impl;
  RuleSet rules_;
  EngineOptions opts_;
  EngineStats stats_;
  std::vector<uint64_t> alerts_by_rule_;
  std::unique_ptr<Impl> impl_;
};

// Which default ruleset privwatch uses, in this order: the source tree's config/rules when the
// binary runs from its build tree; <prefix>/share/privwatch/rules next to an installed binary;
// the copy compiled into the binary. `where` is set to the directory or "<embedded default>".
[[nodiscard]] Status add_default_rules(RuleSetBuilder& b, std::string* where);

// The rules of the configuration: the default ruleset (when enabled) then each path.
[[nodiscard]] Result<RuleSet> load_rules(bool default_rules, const std::vector<std::string>& paths,
                                         std::string* default_where);

}  // namespace privwatch::detect
