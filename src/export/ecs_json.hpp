// Events as Elastic Common Schema (ECS) JSON objects, one per line (docs/events.md).
// Hand-written JSON on the hot path: written through a raw pointer into the caller's buffer,
// which is resized once per event (no allocation when the caller reuses it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/event.hpp"
#include "util/json_sink.hpp"

namespace privwatch::exporter {

// Appends ONE JSON object for `ev` to `out` (no trailing newline). Fields that are empty or
// unknown are omitted; numeric ids are always present. Every string is escaped so that the
// output is valid JSON even for control characters and invalid UTF-8 (each invalid byte
// becomes U+FFFD).
void append_ecs_json(const model::Event& ev, std::string& out, std::string_view hostname);

// Building blocks, exposed for other writers and for tests.

// Appends `s` as a quoted JSON string (escapes quotes, backslash, control characters and DEL;
// invalid UTF-8 bytes become "\ufffd"): util/json_sink.hpp, the escaper this writer uses.
using util::append_json_string;

// RFC 3339 timestamps: util/time.hpp (util::append_rfc3339_ns writes the form used here).

// Names used in the output (also used by docs and tests). Empty when unknown.
[[nodiscard]] std::string_view errno_name(int err);  // 2 → "ENOENT"
[[nodiscard]] std::string_view ptrace_request_name(int64_t request);
[[nodiscard]] std::string_view bpf_cmd_name(uint32_t cmd);
[[nodiscard]] std::string_view bpf_prog_type_name(uint32_t type);
// 15 → "SIGTERM"; real-time signals as `kill -l` names them ("SIGRTMIN+2"). Writes into buf.
[[nodiscard]] std::string_view signal_name(uint32_t sig, char (&buf)[16]);

}  // namespace privwatch::exporter
