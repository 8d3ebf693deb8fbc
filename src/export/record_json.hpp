// JSON documents for sessions and alerts (the store's record bodies, exporters' payloads).
// Field names follow ECS where one exists (process.entry_leader.*, rule.*, event.severity).
#pragma once

#include <string>

#include "model/alert.hpp"
#include "model/identity.hpp"

namespace privwatch::exporter {

// One JSON object, no trailing newline.
[[nodiscard]] std::string session_json(const model::Session& s);
[[nodiscard]] std::string alert_json(const model::Alert& a);
// event.category "iam", event.action "privilege-escalation", event.outcome success/failure.
[[nodiscard]] std::string escalation_json(const model::Escalation& e);

// ECS event.severity: info 1, low 21, medium 47, high 73, critical 99 (Elastic's risk bands).
[[nodiscard]] int ecs_severity(model::Severity s);

}  // namespace privwatch::exporter
