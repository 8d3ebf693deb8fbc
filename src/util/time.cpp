#include "util/time.hpp"

#include <cassert>
#include <charconv>

namespace privwatch::util {

namespace {

constexpr int64_t kSecondsPerDay = 86400;
using detail::put_after_year;
using detail::Split;
using detail::split;

bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

unsigned days_in_month(int64_t y, unsigned m) {
  constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible
// low-level date algorithms"; detail::civil_from_days is the way back), for any year.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Reads exactly n digits at the front of s.
bool read_digits(std::string_view& s, size_t n, unsigned& out) {
  if (s.size() < n) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  out = v;
  s.remove_prefix(n);
  return true;
}

bool eat(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

// "HH:MM" with HH 00-23 and MM 00-59 (a time of day without seconds, or a zone offset).
bool read_hh_mm(std::string_view& s, unsigned& h, unsigned& m) {
  return read_digits(s, 2, h) && eat(s, ':') && read_digits(s, 2, m) && h <= 23 && m <= 59;
}

}  // namespace

std::optional<UnixTime> parse_rfc3339(std::string_view s, Rfc3339Syntax syntax) {
  unsigned year = 0, month = 0, day = 0;
  if (!read_digits(s, 4, year) || !eat(s, '-') || !read_digits(s, 2, month) || !eat(s, '-') ||
      !read_digits(s, 2, day) || month < 1 || month > 12 || day < 1 ||
      day > days_in_month(year, month)) {
    return std::nullopt;
  }
  const int64_t days = days_from_civil(year, month, day);
  if (s.empty()) {
    if (!syntax.date_only) return std::nullopt;
    return UnixTime{days * kSecondsPerDay, 0};
  }
  if (s[0] != 'T' && s[0] != 't' && s[0] != ' ') return std::nullopt;
  s.remove_prefix(1);
  unsigned hour = 0, minute = 0, second = 0;
  uint32_t nanos = 0;
  if (!read_hh_mm(s, hour, minute)) return std::nullopt;
  if (eat(s, ':')) {
    if (!read_digits(s, 2, second) || second > 60) return std::nullopt;
    if (eat(s, '.')) {
      size_t n = 0;
      for (; n < s.size() && s[n] >= '0' && s[n] <= '9'; ++n) {
        if (n < 9) nanos = nanos * 10 + static_cast<uint32_t>(s[n] - '0');
      }
      if (n == 0) return std::nullopt;
      for (size_t i = n; i < 9; ++i) nanos *= 10;
      s.remove_prefix(n);
    }
  }
  int64_t offset_s = 0;
  if (eat(s, 'Z') || eat(s, 'z')) {
  } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    const int64_t sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
    unsigned oh = 0, om = 0;
    if (!read_hh_mm(s, oh, om)) return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  } else if (!s.empty() || !syntax.zoneless_utc) {
    return std::nullopt;  // without zone, a time is ambiguous unless the caller says it is UTC
  }
  if (!s.empty()) return std::nullopt;
  return UnixTime{days * kSecondsPerDay + hour * 3600 + minute * 60 + second - offset_s, nanos};
}

std::optional<uint64_t> parse_rfc3339_ns(std::string_view text, Rfc3339Syntax syntax) {
  const auto t = parse_rfc3339(text, syntax);
  constexpr uint64_t kMax = UINT64_MAX;
  if (!t || t->seconds < 0 || static_cast<uint64_t>(t->seconds) > kMax / 1'000'000'000ull) {
    return std::nullopt;
  }
  const uint64_t whole = static_cast<uint64_t>(t->seconds) * 1'000'000'000ull;
  if (whole > kMax - t->nanos) return std::nullopt;
  return whole + t->nanos;
}

std::string format_rfc3339(UnixTime t, int frac_digits) {
  const Split sp = split(t.seconds);
  char buf[48];
  if (sp.civil.year >= 0 && sp.civil.year <= 9999) {
    return {buf, put_rfc3339(buf, t, frac_digits)};
  }
  char* p = std::to_chars(buf, buf + 24, sp.civil.year).ptr;  // at most 20 bytes
  return {buf,
          static_cast<size_t>(p - buf) + put_after_year(p, sp.civil, sp.sod, t.nanos, frac_digits)};
}

std::string format_rfc3339_ns(uint64_t epoch_ns) {
  std::string s;
  append_rfc3339_ns(s, epoch_ns);
  return s;
}

void append_rfc3339_ns(std::string& out, uint64_t epoch_ns) {
  char buf[kRfc3339MaxSize];
  out.append(buf, put_rfc3339(buf, unix_time_from_ns(epoch_ns), 9));
}

}  // namespace privwatch::util
