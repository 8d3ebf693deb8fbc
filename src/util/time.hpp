// RFC 3339 timestamps: the one parser and the one formatter of the agent. Pure: no I/O, no
// locale, no time zone database (the event decoder's fuzz target may link it on its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace privwatch::util {

// An instant as seconds since 1970-01-01T00:00:00Z (negative before) and nanoseconds.
struct UnixTime {
  int64_t seconds = 0;
  uint32_t nanos = 0;  // 0 to 999'999'999
  friend bool operator==(const UnixTime&, const UnixTime&) = default;
};

// The relaxations a caller allows on top of the strict form (see parse_rfc3339).
struct Rfc3339Syntax {
  bool date_only = false;     // "2026-11-22" alone: midnight UTC
  bool zoneless_utc = false;  // a date-time without a zone ("2026-11-22T05:00:00") is UTC
};

// Parses an RFC 3339 time. The whole text must be one of:
//
//   date-time  YYYY-MM-DD s HH:MM[:SS[.F]] zone
//   date       YYYY-MM-DD                      only with syntax.date_only
//   date-time without zone                     only with syntax.zoneless_utc (read as UTC)
//
//   YYYY  four digits, 0000-9999          MM  01-12
//   DD    01 to the last day of the month (29 February only in leap years)
//   s     'T', 't' or one space
//   HH    00-23    MM  00-59    SS  00-60 (60, a leap second, reads as the next second)
//   F     one or more digits: the first 9 are kept (nanoseconds), the rest are truncated
//   zone  'Z', 'z', or '+' / '-' followed by HH:MM (offset hours 00-23, minutes 00-59);
//         "+05:00" means 5 hours ahead of UTC
//
// Anything else is rejected: numbers with a missing or an extra digit ("2026-1-05",
// "2026-11-22T5:00Z"), out-of-range fields ("2026-02-29", "2026-11-22T24:00Z"), a '.' without
// digits, a zone without a time ("2026-11-22Z"), an offset without its colon ("+0200"), and
// leading or trailing characters (spaces included).
[[nodiscard]] std::optional<UnixTime> parse_rfc3339(std::string_view text,
                                                    Rfc3339Syntax syntax = {});

// The same as nanoseconds since the epoch; also nullopt for an instant before
// 1970-01-01T00:00:00Z or after 2554-07-21T23:34:33.709551615Z (the range of uint64_t ns).
[[nodiscard]] std::optional<uint64_t> parse_rfc3339_ns(std::string_view text,
                                                       Rfc3339Syntax syntax = {});

// The size of the longest form format_rfc3339 writes: "2026-11-22T02:14:15.123456789Z".
inline constexpr size_t kRfc3339MaxSize = 30;

// Writes `t` in UTC as YYYY-MM-DDTHH:MM:SS[.F]Z at `out` (kRfc3339MaxSize bytes free), with
// `frac_digits` digits of fraction (0 to 9, truncated; no '.' when 0). Returns the bytes
// written: 20, or 21 + frac_digits. The year must be 0000-9999 (asserted): a uint64_t ns
// (years 1970-2554) or anything parse_rfc3339 returned with a "Z" zone is.
size_t put_rfc3339(char* out, UnixTime t, int frac_digits);

// put_rfc3339 into a string: "2026-11-22T05:00:00Z" (frac_digits 0). Any `t`: a year outside
// 0000-9999 (no longer RFC 3339) is written with all its digits and its sign, "10000-01-01T…".
[[nodiscard]] std::string format_rfc3339(UnixTime t, int frac_digits = 0);

// Epoch ns with nanoseconds: "2026-11-22T02:14:15.123456789Z" (always 30 bytes).
[[nodiscard]] std::string format_rfc3339_ns(uint64_t epoch_ns);
void append_rfc3339_ns(std::string& out, uint64_t epoch_ns);

[[nodiscard]] constexpr UnixTime unix_time_from_ns(uint64_t epoch_ns) {
  return {static_cast<int64_t>(epoch_ns / 1'000'000'000ull),
          static_cast<uint32_t>(epoch_ns % 1'000'000'000ull)};
}

}  // namespace privwatch::util
