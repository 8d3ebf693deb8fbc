// JSON document for a response action (model/action.hpp): the agent's JSON lines output, the
// on-demand actions log, the store and exporters. Field names follow ECS where one exists
// (event.action, event.outcome, event.reason, session.id, rule.name, process.pid).
#pragma once

#include <string>

#include "model/action.hpp"

namespace privwatch::exporter {

// One JSON object, no trailing newline. privwatch.kind is "action".
[[nodiscard]] std::string action_json(const model::ResponseAction& a);

}  // namespace privwatch::exporter
