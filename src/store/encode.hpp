// Pipeline objects → store records (indexed columns + JSON body + full text).
#pragma once

#include <string>
#include <string_view>

#include "model/action.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "model/identity.hpp"
#include "store/record.hpp"

namespace privwatch::store {

// `r` is reused between calls (its strings keep their capacity).
// `rendered`: the event's ECS JSON when the pipeline rendered it already (the body then is a
// copy of it); empty: rendered here.
void encode_event(const model::Event& ev, std::string_view hostname, Record& r,
                  std::string_view rendered = {});
void encode_alert(const model::Alert& a, std::string_view hostname, Record& r);
void encode_escalation(const model::Escalation& e, std::string_view hostname, Record& r);
void encode_session(const model::Session& s, std::string_view hostname, uint64_t now_ns, Record& r);
// A response action (docs/response.md): kind response, name = the action (warn, kill...),
// ref = the action id, failed results flagged kRecFailed; text = reason, rule, alert, errors.
void encode_action(const model::ResponseAction& a, std::string_view hostname, Record& r);

}  // namespace privwatch::store
