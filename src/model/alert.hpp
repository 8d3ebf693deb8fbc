// An alert: produced by detect (rules and baselines), persisted by store, sent by export.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace privwatch::model {

enum class Severity : uint8_t { kInfo = 0, kLow, kMedium, kHigh, kCritical };
[[nodiscard]] std::string_view to_string(Severity s);

struct Alert {
  std::string id;  // unique (uuid-like)
  uint64_t wall_ns = 0;
  Severity severity = Severity::kMedium;
  std::string source;       // "rule" or "baseline"
  std::string rule;         // rule name (or "baseline:<feature>")
  std::string mitre;        // ATT&CK technique id(s), e.g. "T1059.004"
  std::string title;        // rendered output template
  std::string explanation;  // human-checkable evidence
  std::string host, cluster, user, human, session_id;
  std::vector<std::string> roles;
  std::vector<std::string> event_ids;  // ids of the triggering events (store ids or keys)
  std::string details_json;            // engine-specific evidence, a JSON object
  uint32_t count = 1;                  // deduplicated occurrences folded into this alert
};

}  // namespace privwatch::model
