// Output of `privwatch sessions` and `privwatch session show`: terminal text and JSON
// (docs/sessions.md "Sessions in the store"). Text is safe for a terminal: control characters
// in commands and paths (which any process can choose) are shown escaped, never sent raw.
#pragma once

#include <cstdint>
#include <string>

#include "store/session_query.hpp"

namespace privwatch::store {

// A table, one session per line, and a line saying how many (and whether the limit cut it).
[[nodiscard]] std::string sessions_text(const SessionList& list, size_t limit);
// {"sessions": [...], "count": N, "truncated": bool, "limit": N}
[[nodiscard]] std::string sessions_json(const SessionList& list, size_t limit);

[[nodiscard]] std::string session_detail_text(const SessionDetail& d);
[[nodiscard]] std::string session_detail_json(const SessionDetail& d);

// "45s", "12m03s", "3h02m", "2d04h".
[[nodiscard]] std::string format_duration(uint64_t ns);
// Arguments joined as a shell would need them (quoted when they hold spaces or quotes),
// control characters escaped.
[[nodiscard]] std::string shell_join(const std::vector<std::string>& args);
// Control characters and DEL as \xNN, so that a crafted name cannot drive the terminal.
[[nodiscard]] std::string printable(std::string_view s);

}  // namespace privwatch::store
