// Exact parsing of feed dates and date-times (ISO 8601 / RFC 3339 subsets) to UTC instants, and UTC formatting.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sluice {

// Seconds since 1970-01-01T00:00:00Z (negative before). Leap seconds are not represented (":60" is an error).
struct Instant {
  std::int64_t seconds = 0;
  auto operator<=>(const Instant&) const = default;
};

using InstantResult = Result<Instant>;

// For date-only values: the instant is 00:00:00 or 23:59:59 local time of that day.
enum class DateEnd { start_of_day, end_of_day };

// A day of the proleptic Gregorian calendar. The year is 64-bit so that every Instant has a civil date;
// year 0 is 1 BC, as in ISO 8601.
struct CivilDate {
  std::int64_t year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  auto operator<=>(const CivilDate&) const = default;
};

bool is_leap_year(std::int64_t year);

// 28-31; month must be 1-12.
int days_in_month(std::int64_t year, int month);

// Days since 1970-01-01 (negative before) for a valid date, and the inverse. Exact for every date whose day
// count fits comfortably in int64 (|year| up to about 10^15), which covers every Instant.
std::int64_t days_from_civil(CivilDate date);
CivilDate civil_from_days(std::int64_t days);

// Accepts the ISO 8601 / RFC 3339 forms used by product feeds:
//   2026-02-24T11:07+0100, 2026-02-24T11:07:30+01:00, 2026-02-24T11:07+01, 2026-02-24T11:07:30.250Z (the
//   fraction, after '.' or ',', is truncated to whole seconds), 2026-02-24 11:07:30+01:00 (space instead of
//   'T'), lowercase 't' and 'z', and a date only: 2026-02-24.
// A value without a zone designator (including every date-only value) uses default_offset_seconds, and is an
// error ("missing time zone") when that is not given. A date-only value means the start or the end
// (23:59:59) of that local day, as chosen by `end`. Years 0001-9999, offsets -23:59..+23:59 (also for
// default_offset_seconds), hours 00-23, minutes and seconds 00-59. Surrounding whitespace is an error: the
// caller decides whether to trim. Error messages say what is wrong without repeating the value, which the
// caller shows next to them; character positions are 0-based.
InstantResult parse_datetime(std::string_view text, std::optional<std::int32_t> default_offset_seconds = std::nullopt,
                             DateEnd end = DateEnd::start_of_day);

// An ISO 8601 interval "start/end", each side as accepted by parse_datetime, e.g. Google Merchant Center's
// sale_price_effective_date "2016-02-24T11:07+0100/2016-02-29T23:07+0100". A date-only start means the start
// of its day and a date-only end the end of its day, so "2026-02-24/2026-02-24" covers that whole day. End must
// not be before start. Durations ("P7D") are not supported.
struct Interval {
  Instant start, end;
  auto operator<=>(const Interval&) const = default;
};
Result<Interval> parse_interval(std::string_view text,
                                std::optional<std::int32_t> default_offset_seconds = std::nullopt);

// Canonical UTC text: "2026-02-24T10:07:00Z". Years outside 0000-9999 (which parse_datetime rejects anyway)
// use the ISO 8601 expanded form with a sign, e.g. "+10000-01-01T00:00:00Z", "-0001-12-31T23:59:59Z".
std::string format_utc(Instant instant);

}  // namespace sluice
