// Lexical path normalisation shared by the decoder and the outputs. Pure: no I/O, no logging
// (the event decoder's fuzz target links it on its own).
#pragma once

#include <string>
#include <string_view>

namespace privwatch {

// `path` made absolute against `base` when relative (base empty → "/"), with "//", "." and
// ".." collapsed lexically: symlinks are not followed. ".." at the root stays at the root.
[[nodiscard]] std::string normalize_path(std::string_view base, std::string_view path);

}  // namespace privwatch
