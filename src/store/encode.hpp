// Pipeline objects → store records (indexed columns + JSON body + full text).
#pragma once

#include <array>
#include <cstdint>
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

// An event as the store sink queues it until the encoder thread makes its record: the rendered
// ECS JSON and the indexed fields in one buffer, so a queued event is one allocation and ~100
// bytes besides its text (a queued model::Event was ~1.1 KiB inline plus every string it owns).
struct PackedEvent {
  enum Part : uint8_t { kBody, kText, kHost, kUser, kHuman, kSession, kCluster, kRoles, kParts };
  uint64_t wall_ns = 0;
  uint32_t flags = 0;  // kRec*
  model::EventKind kind = model::EventKind::kExec;
  std::array<uint32_t, kParts> end{};  // end offset of every part in buf
  std::string buf;                     // the parts, in order; roles joined by ','

  [[nodiscard]] std::string_view part(Part p) const {
    const uint32_t begin = p == kBody ? 0 : end[p - 1];
    return std::string_view(buf).substr(begin, end[p] - begin);
  }
  [[nodiscard]] size_t memory_bytes() const { return sizeof(*this) + buf.capacity(); }
};

// The pipeline's side: `rendered` is the event's ECS JSON (empty: rendered here).
void pack_event(const model::Event& ev, std::string_view hostname, std::string_view rendered,
                PackedEvent& out);
// The encoder's side: every field of the record but the body, which is left to the caller
// (it compresses p.part(kBody) without copying it). `r` is reused (strings keep capacity).
void unpack_event_fields(const PackedEvent& p, Record& r);
void encode_alert(const model::Alert& a, std::string_view hostname, Record& r);
void encode_escalation(const model::Escalation& e, std::string_view hostname, Record& r);
void encode_session(const model::Session& s, std::string_view hostname, uint64_t now_ns, Record& r);
// A response action (docs/response.md): kind response, name = the action (warn, kill...),
// ref = the action id, failed results flagged kRecFailed; text = reason, rule, alert, errors.
void encode_action(const model::ResponseAction& a, std::string_view hostname, Record& r);

}  // namespace privwatch::store
