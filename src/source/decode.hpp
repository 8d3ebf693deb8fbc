// Kernel record → typed event. Pure: no I/O, no logging, no libbpf (fuzzed on its own).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "model/event.hpp"
#include "util/path.hpp"

namespace privwatch::source {

enum class DecodeStatus {
  kOk = 0,
  kTooShort,    // shorter than the header or than its type's fixed payload
  kBadSize,     // header size disagrees with the record length
  kBadVersion,  // schema version differs from this build's
  kUnknownType,
  kBadString,  // a string reference points outside the record
};
inline constexpr size_t kDecodeStatusCount = 6;

[[nodiscard]] std::string_view to_string(DecodeStatus s);

struct DecodeOptions {
  uint32_t max_args = 64;  // argv entries kept; more sets kExecArgsTruncated
};

// Decodes one record into `ev`, reusing its string buffers. On error `ev` is unspecified.
[[nodiscard]] DecodeStatus decode_record(std::span<const uint8_t> rec, const DecodeOptions& opts,
                                         model::Event& ev);

// Lexical path normalisation (kept here for callers of the decoder).
using ::privwatch::normalize_path;

}  // namespace privwatch::source
