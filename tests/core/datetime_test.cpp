// Tests for sluice date-time parsing, intervals, UTC formatting and the civil calendar conversions.
#include "core/datetime.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace sluice {
namespace {

// Expected epoch seconds below were computed independently with Python's datetime module.
constexpr std::int64_t k20160224T1107p0100 = 1456308420;
constexpr std::int32_t kPlusOneHour = 3600;
constexpr std::int64_t kMinSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr std::int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z

// Reference calendar, deliberately different from the implementation: count leap years directly.
bool ref_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
int ref_month_length(std::int64_t y, int m) {
  constexpr std::array<int, 13> lengths = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && ref_leap(y) ? 29 : lengths[m];
}
// Days since 1970-01-01 for years >= 1: whole years before y, then whole months, then the day.
std::int64_t ref_days(std::int64_t y, int m, int d) {
  const std::int64_t prior = y - 1;
  std::int64_t days = prior * 365 + prior / 4 - prior / 100 + prior / 400;  // days from 0001-01-01
  for (int i = 1; i < m; ++i) days += ref_month_length(y, i);
  return days + d - 1 - 719162;  // 719162 = days from 0001-01-01 to 1970-01-01
}

std::string pad(std::int64_t value, int width) {
  std::string s = std::to_string(value);
  return std::string(static_cast<std::size_t>(width) - std::min<std::size_t>(s.size(), width), '0') + s;
}

std::int64_t parse_ok(std::string_view text, std::optional<std::int32_t> default_offset = std::nullopt,
                      DateEnd end = DateEnd::start_of_day) {
  const InstantResult r = parse_datetime(text, default_offset, end);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error;
  return r.ok() ? r->seconds : INT64_MIN;
}

std::string parse_error(std::string_view text, std::optional<std::int32_t> default_offset = std::nullopt) {
  const InstantResult r = parse_datetime(text, default_offset);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? format_utc(*r) : "");
  return r.error;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ParseDatetime, AcceptedForms) {
  EXPECT_EQ(parse_ok("2016-02-24T11:07+0100"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T11:07+01:00"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T11:07+01"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T11:07:00+01:00"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24 11:07:00+01:00"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24t11:07+01:00"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T10:07Z"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T10:07:00z"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T10:07:00+00:00"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T10:07:00-00:00"), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2026-02-24T11:07+01:00"), 1771927620);
  EXPECT_EQ(parse_ok("2026-02-24T11:07:30+01:00"), 1771927650);
  EXPECT_EQ(parse_ok("2026-02-24T11:07:30Z"), 1771931250);
}

TEST(ParseDatetime, FractionalSecondsAreTruncated) {
  EXPECT_EQ(parse_ok("2026-02-24T11:07:30.250Z"), 1771931250);
  EXPECT_EQ(parse_ok("2026-02-24T11:07:30.999999999Z"), 1771931250);
  EXPECT_EQ(parse_ok("2026-02-24T11:07:30,5+01:00"), 1771927650);
  EXPECT_EQ(parse_ok("1969-12-31T23:59:59.9Z"), -1);
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07:30.Z"), "expected digits after the decimal point"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07.5Z"), "a fraction needs seconds"));
}

TEST(ParseDatetime, NegativeAndUnusualOffsets) {
  EXPECT_EQ(parse_ok("2026-02-24T11:07:30-05:30"), 1771951050);
  EXPECT_EQ(parse_ok("2026-02-24T11:07-0500"), 1771949220);
  EXPECT_EQ(parse_ok("2026-02-24T11:07-05"), 1771949220);
  EXPECT_EQ(parse_ok("2026-02-24T11:07+23:59"), 1771844880);
  EXPECT_EQ(parse_ok("2026-02-24T11:07-23:59"), 1772017560);
}

TEST(ParseDatetime, OffsetOutOfRange) {
  EXPECT_EQ(parse_error("2026-02-24T11:07+24:00"), "offset +24:00 is out of range (-23:59 to +23:59)");
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07-2400"), "offset -24:00 is out of range"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07+01:60"), "offset minute 60 is out of range"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07+1"), "expected a 2-digit offset hour at position 17"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07+01:0"), "expected a 2-digit offset minute at position 20"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07+010"), "expected a 2-digit offset minute at position 19"));
}

TEST(ParseDatetime, DateOnly) {
  EXPECT_EQ(parse_ok("2026-02-24", kPlusOneHour), 1771887600);
  EXPECT_EQ(parse_ok("2026-02-24", kPlusOneHour, DateEnd::end_of_day), 1771973999);
  EXPECT_EQ(parse_ok("2026-02-24", 0), 1771891200);
  EXPECT_EQ(parse_ok("2026-02-24", 0, DateEnd::end_of_day), 1771891200 + 86399);
  // `end` only affects date-only values.
  EXPECT_EQ(parse_ok("2026-02-24T00:00Z", std::nullopt, DateEnd::end_of_day), 1771891200);
  EXPECT_EQ(parse_error("2026-02-24"), "missing time zone (a date alone needs a default time zone)");
  EXPECT_TRUE(contains(parse_error("2026-02-24Z"), "a time zone needs a time"));
  EXPECT_TRUE(contains(parse_error("2026-02-24+01:00"), "a time zone needs a time"));
}

TEST(ParseDatetime, MissingZoneAndDefaultOffset) {
  EXPECT_EQ(parse_error("2016-02-24T11:07"), "missing time zone (add Z or an offset like +01:00)");
  EXPECT_EQ(parse_error("2016-02-24T11:07:00.5"), "missing time zone (add Z or an offset like +01:00)");
  EXPECT_EQ(parse_ok("2016-02-24T11:07", kPlusOneHour), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T10:07", 0), k20160224T1107p0100);
  // An explicit zone wins over the default.
  EXPECT_EQ(parse_ok("2016-02-24T10:07Z", -7 * 3600), k20160224T1107p0100);
  EXPECT_EQ(parse_ok("2016-02-24T11:07", 86340), k20160224T1107p0100 + 3600 - 86340);
  EXPECT_EQ(parse_ok("2016-02-24T11:07", -86340), k20160224T1107p0100 + 3600 + 86340);
  EXPECT_EQ(parse_ok("2016-02-24T11:07", 3600 + 1), k20160224T1107p0100 - 1);  // a default may have seconds
  EXPECT_TRUE(contains(parse_error("2016-02-24T11:07Z", INT32_MIN), "of -2147483648 seconds is out of range"));
  EXPECT_TRUE(contains(parse_error("2016-02-24T11:07Z", INT32_MAX), "of 2147483647 seconds is out of range"));
  EXPECT_TRUE(
      contains(parse_error("2016-02-24T11:07Z", 86400), "default time zone offset of 86400 seconds is out of range"));
  EXPECT_TRUE(contains(parse_error("2016-02-24T11:07Z", -86401), "default time zone offset of -86401 seconds"));
}

TEST(ParseDatetime, CalendarValidation) {
  EXPECT_EQ(parse_ok("2024-02-29T12:00Z"), 1709208000);
  EXPECT_EQ(parse_ok("2000-02-29", 0), ref_days(2000, 2, 29) * 86400);
  EXPECT_EQ(parse_error("2026-02-29T12:00Z"), "day 29 does not exist in February 2026");
  EXPECT_EQ(parse_error("2026-02-30T12:00Z"), "day 30 does not exist in February 2026");
  EXPECT_EQ(parse_error("1900-02-29", 0), "day 29 does not exist in February 1900");
  EXPECT_EQ(parse_error("2026-04-31T12:00Z"), "day 31 does not exist in April 2026");
  EXPECT_EQ(parse_error("2026-01-32T12:00Z"), "day 32 is out of range (01-31)");
  EXPECT_EQ(parse_error("2026-01-00T12:00Z"), "day 0 is out of range (01-31)");
  EXPECT_EQ(parse_error("2026-13-01T12:00Z"), "month 13 is out of range (01-12)");
  EXPECT_EQ(parse_error("2026-00-01T12:00Z"), "month 0 is out of range (01-12)");
  EXPECT_EQ(parse_error("0000-01-01T00:00Z"), "year 0000 is out of range (0001-9999)");
  EXPECT_EQ(parse_ok("0001-01-01T00:00Z"), kMinSeconds);
  EXPECT_EQ(parse_ok("9999-12-31T23:59:59Z"), kMaxSeconds);
  // Offsets may push the instant just outside the year range; that is still a valid instant.
  EXPECT_EQ(parse_ok("0001-01-01T00:00+01:00"), kMinSeconds - 3600);
  EXPECT_EQ(parse_ok("9999-12-31T23:59:59-01:00"), kMaxSeconds + 3600);
}

TEST(ParseDatetime, TimeValidation) {
  EXPECT_EQ(parse_error("2026-02-24T24:00Z"), "hour 24 is out of range (00-23)");
  EXPECT_EQ(parse_error("2026-02-24T24:00:00+01:00"), "hour 24 is out of range (00-23)");
  EXPECT_EQ(parse_error("2026-02-24T11:60Z"), "minute 60 is out of range (00-59)");
  EXPECT_EQ(parse_error("2026-02-24T23:59:60Z"), "second 60 is out of range (00-59; leap seconds are not supported)");
  EXPECT_EQ(parse_ok("2026-02-24T23:59:59Z"), 1771891200 + 86399);
  EXPECT_EQ(parse_ok("2026-02-24T00:00:00Z"), 1771891200);
}

TEST(ParseDatetime, ShapeErrors) {
  EXPECT_TRUE(contains(parse_error(""), "empty"));
  EXPECT_TRUE(contains(parse_error("garbage"), "expected a 4-digit year at position 0, found 'g'"));
  EXPECT_TRUE(contains(parse_error("garbage"), "a date-time looks like 2026-02-24T11:07+01:00"));
  EXPECT_TRUE(
      contains(parse_error("2026-2-24T11:07Z"), "expected a 2-digit month at position 5, found \"2\" then '-'"));
  EXPECT_TRUE(contains(parse_error("2026-02-4T11:07Z"), "expected a 2-digit day at position 8"));
  EXPECT_TRUE(contains(parse_error("20260224T110700Z"), "expected '-' after the year at position 4"));
  EXPECT_TRUE(contains(parse_error("2026/02/24"), "expected '-' after the year at position 4, found '/'"));
  EXPECT_TRUE(contains(parse_error("24.02.2026"), "expected a 4-digit year at position 0, found \"24\" then '.'"));
  EXPECT_TRUE(contains(parse_error("2026-02-24X11:07Z"), "expected 'T' or a space between date and time"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T1107Z"), "expected ':' after the hour at position 13"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11Z"), "expected ':' after the hour at position 13, found 'Z'"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T"), "expected a 2-digit hour at position 11, found the end"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07:3Z"), "expected a 2-digit second at position 17"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07 UTC"), "expected a time zone (Z or an offset like +01:00)"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07CET"), "found 'C'"));
  EXPECT_EQ(parse_error(" 2026-02-24T11:07Z"), "has leading or trailing whitespace");
  EXPECT_EQ(parse_error("2026-02-24T11:07Z\n"), "has leading or trailing whitespace");
  EXPECT_TRUE(contains(parse_error(std::string_view("2026-02-24T11:07\0Z", 18)), "found byte 0x00"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07\xe2\x88\x92"
                                   "05:00"),
                       "found byte 0xe2"));
}

TEST(ParseDatetime, TrailingCharacters) {
  EXPECT_TRUE(
      contains(parse_error("2026-02-24T11:07ZZ"), "found 'Z' at position 17 after the time zone, expected the end"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07+01:00:00"), "found ':' at position 22 after the time zone"));
  EXPECT_TRUE(contains(parse_error("2026-02-24T11:07+01:0012"), "found '1' at position 22 after the time zone"));
  EXPECT_TRUE(
      contains(parse_error("2026-02-24T11:07:30.5Z (CET)"), "found a space at position 22 after the time zone"));
  EXPECT_TRUE(contains(parse_error("2026-02-241", 0), "expected 'T' or a space between date and time at position 10"));
  EXPECT_TRUE(contains(parse_error("20260-02-24", 0), "expected '-' after the year at position 4, found '0'"));
}

TEST(ParseInterval, Accepted) {
  const Result<Interval> r = parse_interval("2016-02-24T11:07+0100/2016-02-29T23:07+0100");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r->start.seconds, k20160224T1107p0100);
  EXPECT_EQ(r->end.seconds, 1456783620);

  const Result<Interval> same = parse_interval("2016-02-24T10:07Z/2016-02-24T11:07+01:00");
  ASSERT_TRUE(same.ok()) << same.error;
  EXPECT_EQ(same->start, same->end);

  // Date-only sides cover whole days: start of the first, end of the last.
  const Result<Interval> days = parse_interval("2026-02-24/2026-02-24", 0);
  ASSERT_TRUE(days.ok()) << days.error;
  EXPECT_EQ(days->start.seconds, 1771891200);
  EXPECT_EQ(days->end.seconds, 1771891200 + 86399);

  const Result<Interval> defaulted = parse_interval("2016-02-24T11:07/2016-02-29T23:07", kPlusOneHour);
  ASSERT_TRUE(defaulted.ok()) << defaulted.error;
  EXPECT_EQ(defaulted->start.seconds, k20160224T1107p0100);
  EXPECT_EQ(defaulted->end.seconds, 1456783620);
}

TEST(ParseInterval, Errors) {
  auto error = [](std::string_view text, std::optional<std::int32_t> offset = std::nullopt) {
    const Result<Interval> r = parse_interval(text, offset);
    EXPECT_FALSE(r.ok()) << text;
    return r.error;
  };
  EXPECT_EQ(error("2016-02-29T23:07+0100/2016-02-24T11:07+0100"),
            "end 2016-02-24T10:07:00Z is before start 2016-02-29T22:07:00Z");
  EXPECT_TRUE(contains(error("2016-02-24T11:07+0100"), "missing '/' between start and end"));
  EXPECT_TRUE(contains(error("2016-02-24T11:07+0100 2016-02-29T23:07+0100"), "missing '/'"));
  EXPECT_TRUE(contains(error("2016-02-24T11:07Z/2016-02-25T11:07Z/2016-02-26T11:07Z"),
                       "more than one '/' (at positions 17 and 35)"));
  EXPECT_TRUE(contains(error(""), "empty"));
  EXPECT_EQ(error("2016-13-24T11:07+0100/2016-02-29T23:07+0100"),
            "start of interval: month 13 is out of range (01-12)");
  EXPECT_EQ(error("2016-02-24T11:07+0100/2016-02-30T23:07+0100"),
            "end of interval: day 30 does not exist in February 2016");
  // Positions point into the whole value, not into the side.
  EXPECT_TRUE(contains(error("2016-02-24T11:07+0100/2016-02-29X23:07+0100"),
                       "end of interval: expected 'T' or a space between date and time at position 32"));
  EXPECT_EQ(error("2016-02-24T11:07/2016-02-29T23:07+0100"),
            "start of interval: missing time zone (add Z or an offset like +01:00)");
  EXPECT_TRUE(contains(error("/2016-02-29T23:07+0100"), "start of interval: is empty"));
  EXPECT_TRUE(contains(error("2016-02-29T23:07+0100/"), "end of interval: is empty"));
  EXPECT_EQ(error("2016-02-24T11:07+0100 / 2016-02-29T23:07+0100"),
            "start of interval: has leading or trailing whitespace");
  EXPECT_TRUE(contains(error("2016-02-24T11:07+0100/P7D"), "end of interval: durations like P7D are not supported"));
  EXPECT_TRUE(contains(error("2016-02-24/2016-02-29"), "start of interval: missing time zone"));
  EXPECT_TRUE(contains(error("2016-02-24/2016-02-29", 90000), "default time zone offset"));
}

TEST(FormatUtc, KnownValues) {
  EXPECT_EQ(format_utc(Instant{0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(Instant{-1}), "1969-12-31T23:59:59Z");
  EXPECT_EQ(format_utc(Instant{k20160224T1107p0100}), "2016-02-24T10:07:00Z");
  EXPECT_EQ(format_utc(Instant{1771927620}), "2026-02-24T10:07:00Z");
  EXPECT_EQ(format_utc(Instant{1709208000}), "2024-02-29T12:00:00Z");
  EXPECT_EQ(format_utc(Instant{kMinSeconds}), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(Instant{kMaxSeconds}), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_utc(Instant{kMinSeconds - 1}), "0000-12-31T23:59:59Z");
  EXPECT_EQ(format_utc(Instant{kMaxSeconds + 1}), "+10000-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(Instant{kMinSeconds - 366 * 86400 - 1}), "-0001-12-31T23:59:59Z");
}

TEST(FormatUtc, ExtremeInstantsDoNotOverflow) {
  // Only checks that the whole int64 range formats (sanitizers catch overflow); the text is expanded-year.
  for (const std::int64_t s : {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1}) {
    const std::string text = format_utc(Instant{s});
    EXPECT_TRUE(text.front() == '+' || text.front() == '-') << text;
    EXPECT_EQ(text.back(), 'Z');
  }
}

TEST(FormatUtc, RoundTripProperty) {
  std::mt19937_64 rng(20260224);
  std::uniform_int_distribution<std::int64_t> seconds(kMinSeconds, kMaxSeconds);
  for (int i = 0; i < 100000; ++i) {
    const Instant x{seconds(rng)};
    const std::string text = format_utc(x);
    const InstantResult back = parse_datetime(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.error;
    ASSERT_EQ(*back, x) << text;
  }
  for (const std::int64_t s : {kMinSeconds, kMinSeconds + 1, std::int64_t{-1}, std::int64_t{0}, kMaxSeconds}) {
    EXPECT_EQ(parse_ok(format_utc(Instant{s})), s);
  }
}

TEST(ParseDatetime, RandomFieldsAgainstReference) {
  // Builds texts from random fields in several accepted shapes and checks against the reference calendar.
  std::mt19937_64 rng(7);
  auto uniform = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t y = uniform(1, 9999);
    const int m = static_cast<int>(uniform(1, 12));
    const int d = static_cast<int>(uniform(1, ref_month_length(y, m)));
    const std::int64_t h = uniform(0, 23), mi = uniform(0, 59), s = uniform(0, 59);
    const std::int64_t off_h = uniform(0, 23), off_m = uniform(0, 59);
    const bool negative = uniform(0, 1) == 1;
    const std::int64_t offset = (negative ? -1 : 1) * (off_h * 3600 + off_m * 60);
    const std::string date = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2);
    const std::string zone = std::string(negative ? "-" : "+") + pad(off_h, 2) + (i % 2 ? ":" : "") + pad(off_m, 2);
    const std::string text = date + (i % 3 ? "T" : " ") + pad(h, 2) + ":" + pad(mi, 2) + ":" + pad(s, 2) + zone;
    const std::int64_t expected = ref_days(y, m, d) * 86400 + h * 3600 + mi * 60 + s - offset;
    ASSERT_EQ(parse_ok(text), expected) << text;
  }
}

TEST(Calendar, KnownDays) {
  EXPECT_EQ(days_from_civil({1970, 1, 1}), 0);
  EXPECT_EQ(days_from_civil({1969, 12, 31}), -1);
  EXPECT_EQ(days_from_civil({2000, 3, 1}), 11017);
  EXPECT_EQ(days_from_civil({1, 1, 1}), kMinSeconds / 86400);
  EXPECT_EQ(days_from_civil({0, 3, 1}), -719468);
  EXPECT_EQ(days_from_civil({-1, 12, 31}), days_from_civil({0, 1, 1}) - 1);
  EXPECT_EQ(civil_from_days(0), (CivilDate{1970, 1, 1}));
  EXPECT_EQ(civil_from_days(-1), (CivilDate{1969, 12, 31}));
  EXPECT_EQ(civil_from_days(11016), (CivilDate{2000, 2, 29}));
  EXPECT_TRUE(is_leap_year(2000));
  EXPECT_TRUE(is_leap_year(2024));
  EXPECT_TRUE(is_leap_year(0));
  EXPECT_TRUE(is_leap_year(-4));
  EXPECT_FALSE(is_leap_year(1900));
  EXPECT_FALSE(is_leap_year(2026));
  EXPECT_FALSE(is_leap_year(-1));
  EXPECT_EQ(days_in_month(2024, 2), 29);
  EXPECT_EQ(days_in_month(2026, 2), 28);
  EXPECT_EQ(days_in_month(2026, 4), 30);
  EXPECT_EQ(days_in_month(2026, 12), 31);
}

TEST(Calendar, ConsecutiveAcrossEveryMonthBoundary) {
  // Walks every day from 0001-01-01 to 9999-12-31 with an independent month table: each date must be one day
  // after the previous one, match the reference count, and convert back to itself.
  std::int64_t expected = ref_days(1, 1, 1);
  for (std::int64_t y = 1; y <= 9999; ++y) {
    for (int m = 1; m <= 12; ++m) {
      ASSERT_EQ(days_in_month(y, m), ref_month_length(y, m)) << y << "-" << m;
      for (int d = 1; d <= ref_month_length(y, m); ++d) {
        const CivilDate date{y, m, d};
        ASSERT_EQ(days_from_civil(date), expected) << y << "-" << m << "-" << d;
        ASSERT_EQ(civil_from_days(expected), date) << expected;
        ++expected;
      }
    }
  }
  EXPECT_EQ(expected, kMaxSeconds / 86400 + 1);
}

TEST(Calendar, RoundTripOutsideFeedYears) {
  std::mt19937_64 rng(99);
  std::uniform_int_distribution<std::int64_t> days(-400'000'000'000'000, 400'000'000'000'000);
  for (int i = 0; i < 10000; ++i) {
    const std::int64_t n = days(rng);
    const CivilDate date = civil_from_days(n);
    ASSERT_GE(date.month, 1);
    ASSERT_LE(date.month, 12);
    ASSERT_GE(date.day, 1);
    ASSERT_LE(date.day, days_in_month(date.year, date.month));
    ASSERT_EQ(days_from_civil(date), n);
    const CivilDate next = civil_from_days(n + 1);
    ASSERT_TRUE(next > date);
  }
}

}  // namespace
}  // namespace sluice
