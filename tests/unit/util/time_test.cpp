// The shared RFC 3339 parser and formatter (util/time.hpp). Expected values were computed
// independently (Python's calendar.timegm), not with the code under test.
#include "util/time.hpp"

#include <gtest/gtest.h>

#include <string>

namespace privwatch::util {
namespace {

constexpr int64_t k20261122 = 1795305600;  // 2026-11-22T00:00:00Z
constexpr uint64_t kNs = 1'000'000'000ull;

constexpr Rfc3339Syntax kStrict{};
constexpr Rfc3339Syntax kDate{.date_only = true};
constexpr Rfc3339Syntax kZoneless{.zoneless_utc = true};
constexpr Rfc3339Syntax kAll{.date_only = true, .zoneless_utc = true};

struct Accepted {
  const char* text;
  Rfc3339Syntax syntax;
  int64_t seconds;
  uint32_t nanos;
};

TEST(Rfc3339Parse, AcceptedForms) {
  const Accepted cases[] = {
      {"2026-11-22T04:50:01Z", kStrict, 1795323001, 0},
      {"2026-11-22T04:50:01.81Z", kStrict, 1795323001, 810'000'000},
      {"2026-11-22T04:50:01.8Z", kStrict, 1795323001, 800'000'000},
      {"2026-11-22T04:50:01.123456789Z", kStrict, 1795323001, 123'456'789},
      {"2026-11-22T04:50:01.000000001Z", kStrict, 1795323001, 1},
      // digits after the 9th are truncated, not rounded
      {"2026-11-22T04:50:01.1234567899999Z", kStrict, 1795323001, 123'456'789},
      {"2026-11-22t04:50:01z", kStrict, 1795323001, 0},
      {"2026-11-22 04:50:01Z", kStrict, 1795323001, 0},
      {"2026-11-22 05:00Z", kStrict, k20261122 + 5 * 3600, 0},  // seconds may be left out
      {"2026-11-22T07:00:00+02:00", kStrict, k20261122 + 5 * 3600, 0},
      {"2026-11-22T07:30:00.5+02:30", kStrict, k20261122 + 5 * 3600, 500'000'000},
      {"2026-11-21T23:00:00-06:00", kStrict, k20261122 + 5 * 3600, 0},
      {"2026-11-22T05:00:00+00:00", kStrict, k20261122 + 5 * 3600, 0},
      {"2026-11-22T05:00:00-00:00", kStrict, k20261122 + 5 * 3600, 0},
      {"2026-12-31T23:30:00-23:59", kStrict, 1798759800 + 23 * 3600 + 59 * 60, 0},
      {"2024-02-29T12:00:00Z", kStrict, 1709208000, 0},  // leap year
      {"2000-02-29T00:00:00Z", kStrict, 951782400, 0},   // divisible by 400: leap
      {"2016-12-31T23:59:60Z", kStrict, 1483228800, 0},  // leap second: the next second
      {"1970-01-01T00:00:00Z", kStrict, 0, 0},
      {"1969-12-31T23:59:59Z", kStrict, -1, 0},
      {"0001-01-01T00:00:00Z", kStrict, -62135596800, 0},
      {"0000-01-01T00:00:00Z", kStrict, -62167219200, 0},
      {"9999-12-31T23:59:59.999999999Z", kStrict, 253402300799, 999'999'999},
      {"2026-11-22", kDate, k20261122, 0},
      {"2026-11-22T05:00:00", kZoneless, k20261122 + 5 * 3600, 0},
      {"2026-11-22 05:00", kZoneless, k20261122 + 5 * 3600, 0},
      {"2026-11-22T05:00:00.25", kAll, k20261122 + 5 * 3600, 250'000'000},
      {"2026-11-22", kAll, k20261122, 0},
  };
  for (const Accepted& c : cases) {
    SCOPED_TRACE(c.text);
    const auto t = parse_rfc3339(c.text, c.syntax);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->seconds, c.seconds);
    EXPECT_EQ(t->nanos, c.nanos);
  }
}

TEST(Rfc3339Parse, RejectedForms) {
  const char* const rejected[] = {
      "",
      "yesterday",
      "2026-11-22T04:50:01Z ",  // trailing space
      " 2026-11-22T04:50:01Z",  // leading space
      "2026-11-22T04:50:01Zx",  // trailing garbage
      "2026-11-22T04:50:01+02:00x",
      "2026-11-22T04:50:01.Z",  // '.' without digits
      "2026-11-22T04:50:01.",   //
      "2026-11-22T04:50Z.5",    // fraction without seconds
      "2026-11-22T04:50:01",    // no zone (strict)
      "2026-11-22",             // date alone (strict)
      "2026-11-22Z",            // zone without a time
      "2026-11-22T",            //
      "2026-11-22T04Z",         // no minutes
      "2026-11-22T04:5Z",       // one digit
      "2026-11-22T4:50:01Z",
      "2026-1-22T04:50:01Z",
      "2026-11-2T04:50:01Z",
      "26-11-22T04:50:01Z",
      "+2026-11-22T04:50:01Z",
      "20261-11-22T04:50:01Z",
      "2026/11/22T04:50:01Z",
      "2026-11-22X04:50:01Z",   // bad separator
      "2026-11-22  04:50:01Z",  // two spaces
      "2026-00-22T04:50:01Z",   // month 0
      "2026-13-22T04:50:01Z",   // month 13
      "2026-11-00T04:50:01Z",   // day 0
      "2026-11-31T04:50:01Z",   // 30 days in November
      "2026-02-29T04:50:01Z",   // not a leap year
      "1900-02-29T04:50:01Z",   // divisible by 100, not by 400: not a leap year
      "2026-02-30",
      "2026-11-22T24:00:00Z",       // hour 24
      "2026-11-22T23:60:00Z",       // minute 60
      "2026-11-22T23:59:61Z",       // second 61
      "2026-11-22T04:50:01+24:00",  // offset hour 24
      "2026-11-22T04:50:01+02:60",  // offset minute 60
      "2026-11-22T04:50:01+0200",   // offset without colon
      "2026-11-22T04:50:01+02",     // offset without minutes
      "2026-11-22T04:50:01 +02:00",
      "2026-11-22T04:50:01UTC",
      "2026-11-22T-4:50:01Z",
      "2026-11-22T04:50:01.12a3Z",
  };
  for (const char* text : rejected) {
    SCOPED_TRACE(text);
    // Rejected even with every relaxation, except the two forms the relaxations are for.
    EXPECT_FALSE(parse_rfc3339(text, kStrict).has_value());
    const std::string s = text;
    if (s != "2026-11-22" && s != "2026-11-22T04:50:01") {
      EXPECT_FALSE(parse_rfc3339(text, kAll).has_value());
    }
  }
  // The relaxations do not leak into each other.
  EXPECT_FALSE(parse_rfc3339("2026-11-22", kZoneless).has_value());
  EXPECT_FALSE(parse_rfc3339("2026-11-22T04:50:01", kDate).has_value());
  // A NUL inside is not the end.
  EXPECT_FALSE(parse_rfc3339(std::string_view("2026-11-22T04:50:01Z\0x", 23)).has_value());
}

TEST(Rfc3339Parse, NanosecondsAndTheirRange) {
  EXPECT_EQ(parse_rfc3339_ns("2026-11-22T04:50:01.81Z"), 1795323001 * kNs + 810'000'000);
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00.000000001Z"), 1u);
  EXPECT_EQ(parse_rfc3339_ns("1970-01-01T00:00:00Z"), 0u);
  EXPECT_EQ(parse_rfc3339_ns("2026-11-22", kDate), static_cast<uint64_t>(k20261122) * kNs);
  // uint64_t ns end at 2554-07-21T23:34:33.709551615Z.
  EXPECT_EQ(parse_rfc3339_ns("2554-07-21T23:34:33.709551615Z"), UINT64_MAX);
  EXPECT_FALSE(parse_rfc3339_ns("2554-07-21T23:34:33.709551616Z").has_value());
  EXPECT_FALSE(parse_rfc3339_ns("2554-07-21T23:34:34Z").has_value());
  EXPECT_FALSE(parse_rfc3339_ns("9999-12-31T23:59:59Z").has_value());
  // Before the epoch.
  EXPECT_FALSE(parse_rfc3339_ns("1969-12-31T23:59:59.999999999Z").has_value());
  EXPECT_FALSE(parse_rfc3339_ns("1970-01-01T00:30:00+01:00").has_value());
  EXPECT_FALSE(parse_rfc3339_ns("not a time").has_value());
}

TEST(Rfc3339Format, FixedFormsInUtc) {
  EXPECT_EQ(format_rfc3339_ns(1795323001 * kNs + 810'000'000), "2026-11-22T04:50:01.810000000Z");
  EXPECT_EQ(format_rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_ns(UINT64_MAX), "2554-07-21T23:34:33.709551615Z");
  EXPECT_EQ(format_rfc3339({1795323600, 0}), "2026-11-22T05:00:00Z");
  EXPECT_EQ(format_rfc3339({1709208000, 0}), "2024-02-29T12:00:00Z");
  EXPECT_EQ(format_rfc3339({1795323001, 123'456'789}, 3), "2026-11-22T04:50:01.123Z");
  EXPECT_EQ(format_rfc3339({1795323001, 123'456'789}, 6), "2026-11-22T04:50:01.123456Z");
  EXPECT_EQ(format_rfc3339({1795323001, 999'999'999}, 1), "2026-11-22T04:50:01.9Z");  // truncated
  EXPECT_EQ(format_rfc3339({-1, 0}), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_rfc3339({-62167219200, 0}), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339({253402300799, 0}), "9999-12-31T23:59:59Z");
  // Outside 0000-9999: every digit of the year, so that nothing reads as another time.
  EXPECT_EQ(format_rfc3339({253402300800, 0}), "10000-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339({-62167219201, 0}), "-1-12-31T23:59:59Z");
  std::string out = "at ";
  append_rfc3339_ns(out, 5);
  EXPECT_EQ(out, "at 1970-01-01T00:00:00.000000005Z");
}

TEST(Rfc3339, FormatThenParseIsTheSameInstant) {
  for (const int64_t s : {int64_t{0}, int64_t{951782400}, int64_t{1483228799}, int64_t{1795323001},
                          int64_t{-62135596800}, int64_t{253402300799}}) {
    for (const uint32_t ns : {0u, 1u, 810'000'000u, 999'999'999u}) {
      const UnixTime t{s, ns};
      EXPECT_EQ(parse_rfc3339(format_rfc3339(t, 9)), t) << s << " " << ns;
    }
  }
}

}  // namespace
}  // namespace privwatch::util
