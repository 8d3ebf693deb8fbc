// RFC 3339 timestamps: the one parser and the one formatter of the agent. Pure: no I/O, no
// locale, no time zone database (the event decoder's fuzz target may link it on its own).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
inline size_t put_rfc3339(char* out, UnixTime t, int frac_digits);

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

// "00" "01" … "99": two decimal digits per lookup (also used by the JSON writer's numbers).
inline constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// ---- inline so that the event path's put_rfc3339(…, 9) folds its constants ----------------

namespace detail {

struct Civil {
  int64_t year;
  unsigned month, day;
};

inline Civil civil_from_days(int64_t z) {
  z += 719468;  // H. Hinnant, "chrono-compatible low-level date algorithms"; any year
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2), month, day};
}

inline void put2(char* p, unsigned v) { std::memcpy(p, kDigitPairs + v * 2, 2); }  // v < 100

// Everything after the year: "-MM-DDTHH:MM:SS[.F]Z" (16 + fraction bytes).
inline size_t put_after_year(char* p, const Civil& c, unsigned sod, uint32_t nanos,
                             int frac_digits) {
  p[0] = '-';
  put2(p + 1, c.month);
  p[3] = '-';
  put2(p + 4, c.day);
  p[6] = 'T';
  put2(p + 7, sod / 3600);
  p[9] = ':';
  put2(p + 10, sod / 60 % 60);
  p[12] = ':';
  put2(p + 13, sod % 60);
  size_t n = 15;
  if (frac_digits == 9) {  // the event path's form: independent divisions, no loop
    p[15] = '.';
    put2(p + 16, nanos / 10'000'000);
    put2(p + 18, nanos / 100'000 % 100);
    put2(p + 20, nanos / 1'000 % 100);
    put2(p + 22, nanos / 10 % 100);
    p[24] = static_cast<char>('0' + nanos % 10);
    n = 25;
  } else if (frac_digits > 0) {
    p[n++] = '.';
    uint32_t f = nanos;
    for (int i = frac_digits; i < 9; ++i) f /= 10;
    for (int i = frac_digits - 1; i >= 0; --i, f /= 10) p[n + i] = static_cast<char>('0' + f % 10);
    n += static_cast<size_t>(frac_digits);
  }
  p[n++] = 'Z';
  return n;
}

struct Split {
  Civil civil;
  unsigned sod;  // second of the day
};

inline Split split(int64_t seconds) {
  if (seconds >= 0) [[likely]] {  // unsigned division: cheaper, and all the event path needs
    const auto s = static_cast<uint64_t>(seconds);
    return {civil_from_days(static_cast<int64_t>(s / 86400)), static_cast<unsigned>(s % 86400)};
  }
  int64_t days = seconds / 86400;
  int64_t sod = seconds % 86400;
  if (sod < 0) sod += 86400, --days;
  return {civil_from_days(days), static_cast<unsigned>(sod)};
}

}  // namespace detail

inline size_t put_rfc3339(char* out, UnixTime t, int frac_digits) {
  assert(frac_digits >= 0 && frac_digits <= 9);
  const detail::Split sp = detail::split(t.seconds);
  assert(sp.civil.year >= 0 && sp.civil.year <= 9999);
  const auto y = static_cast<unsigned>(sp.civil.year);
  detail::put2(out, y / 100);
  detail::put2(out + 2, y % 100);
  return 4 + detail::put_after_year(out + 4, sp.civil, sp.sod, t.nanos, frac_digits);
}

}  // namespace privwatch::util
