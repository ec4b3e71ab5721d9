// Date-time parsing for feed values: a hand-written scanner for the ISO 8601 / RFC 3339 shapes, calendar math.
#include "core/datetime.hpp"

#include <array>

namespace sluice {

namespace {

constexpr std::int64_t seconds_per_day = 86400;
// -23:59..+23:59: the range RFC 3339 grammar allows. Real zones stay within -12:00..+14:00, but feeds write
// odd but well-formed offsets and rejecting those would not make the instant any more correct.
constexpr std::int32_t max_offset_seconds = 23 * 3600 + 59 * 60;

constexpr std::string_view shape_hint = "; a date-time looks like 2026-02-24T11:07+01:00 and a date like 2026-02-24";
constexpr std::string_view interval_hint = "; an interval looks like 2016-02-24T11:07+0100/2016-02-29T23:07+0100";

constexpr std::array<std::string_view, 12> month_names = {"January",   "February", "March",    "April",
                                                          "May",       "June",     "July",     "August",
                                                          "September", "October",  "November", "December"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

std::string two_digits(int value) {
  return std::string{static_cast<char>('0' + value / 10), static_cast<char>('0' + value % 10)};
}

// Messages are shown to people and the value may hold anything; show one character safely.
std::string describe(std::string_view text, std::size_t pos) {
  if (pos >= text.size()) return "the end";
  const auto c = static_cast<unsigned char>(text[pos]);
  if (c == ' ') return "a space";
  if (c < 0x20 || c >= 0x7f) {
    constexpr char hex[] = "0123456789abcdef";
    return std::string("byte 0x") + hex[c >> 4] + hex[c & 0xf];
  }
  return std::string("'") + static_cast<char>(c) + "'";
}

// What the scanner found, before the zone default and date-only rules turn it into an instant.
struct Fields {
  CivilDate date;
  bool has_time = false;
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::optional<std::int32_t> offset_seconds;
};

// Scans one date or date-time. `base` is where `text` starts inside the value the user sees (non-zero for
// interval sides), so reported positions point into that value.
class Scanner {
 public:
  Scanner(std::string_view text, std::size_t base) : text_(text), base_(base) {}

  Result<Fields> scan() {
    Fields f;
    if (!read_date(f) || !read_time_and_zone(f)) return Result<Fields>::failure(std::move(error_));
    if (pos_ != text_.size()) {
      const std::string after = f.offset_seconds ? "the time zone" : f.has_time ? "the time" : "the date";
      return Result<Fields>::failure("found " + found() + " at " + position() + " after " + after +
                                     ", expected the end" + std::string(shape_hint));
    }
    return Result<Fields>::success(f);
  }

 private:
  bool read_date(Fields& f) {
    int year = 0;
    if (!read_digits(4, year, "a 4-digit year") || !expect('-', "after the year")) return false;
    // Only four digits are read, so year 0 is the one value below the range.
    if (year == 0) return fail("year 0000 is out of range (0001-9999)");
    if (!read_digits(2, f.date.month, "a 2-digit month")) return false;
    if (f.date.month < 1 || f.date.month > 12) {
      return fail("month " + std::to_string(f.date.month) + " is out of range (01-12)");
    }
    if (!expect('-', "after the month") || !read_digits(2, f.date.day, "a 2-digit day")) return false;
    f.date.year = year;
    if (f.date.day < 1 || f.date.day > 31)
      return fail("day " + std::to_string(f.date.day) + " is out of range (01-31)");
    if (f.date.day > days_in_month(year, f.date.month)) {
      return fail("day " + std::to_string(f.date.day) + " does not exist in " +
                  std::string(month_names[f.date.month - 1]) + " " + std::to_string(year));
    }
    return true;
  }

  bool read_time_and_zone(Fields& f) {
    if (pos_ == text_.size()) return true;  // date only
    const char sep = text_[pos_];
    if (sep == 'Z' || sep == 'z' || sep == '+' || sep == '-') {
      return fail("a time zone needs a time: found " + found() + " at " + position() + " right after the date" +
                  std::string(shape_hint));
    }
    if (sep != 'T' && sep != 't' && sep != ' ') {
      return fail("expected 'T' or a space between date and time at " + position() + ", found " + found() +
                  std::string(shape_hint));
    }
    ++pos_;
    f.has_time = true;
    if (!read_digits(2, f.hour, "a 2-digit hour")) return false;
    // 24:00 is valid ISO 8601 for the end of a day, but feeds that write it are rare and usually mean a bug.
    if (f.hour > 23) return fail("hour " + std::to_string(f.hour) + " is out of range (00-23)");
    if (!expect(':', "after the hour") || !read_digits(2, f.minute, "a 2-digit minute")) return false;
    if (f.minute > 59) return fail("minute " + std::to_string(f.minute) + " is out of range (00-59)");
    if (accept(':')) {
      if (!read_digits(2, f.second, "a 2-digit second")) return false;
      if (f.second > 59) {
        return fail("second " + std::to_string(f.second) + " is out of range (00-59; leap seconds are not supported)");
      }
      if (peek() == '.' || peek() == ',') {
        ++pos_;
        // Sub-second precision is dropped: instants are whole seconds, and truncating keeps a sale that
        // ends at 23:59:59.999 inside the same second rather than rounding it into the next day.
        if (!is_digit(peek())) {
          return fail("expected digits after the decimal point at " + position() + ", found " + found() +
                      std::string(shape_hint));
        }
        while (is_digit(peek())) ++pos_;
      }
    } else if (peek() == '.' || peek() == ',') {
      return fail("a fraction needs seconds (HH:MM:SS.fff), found " + found() + " at " + position() +
                  std::string(shape_hint));
    }
    return read_zone(f);
  }

  bool read_zone(Fields& f) {
    if (pos_ == text_.size()) return true;  // the caller applies the default or reports the missing zone
    const char c = text_[pos_];
    if (c == 'Z' || c == 'z') {
      ++pos_;
      f.offset_seconds = 0;
      return true;
    }
    if (c != '+' && c != '-') {
      return fail("expected a time zone (Z or an offset like +01:00) at " + position() + ", found " + found() +
                  std::string(shape_hint));
    }
    ++pos_;
    int hours = 0;
    int minutes = 0;
    if (!read_digits(2, hours, "a 2-digit offset hour")) return false;
    // +01:00, +0100 and +01 are all ISO 8601; feeds use each of them.
    if (accept(':')) {
      if (!read_digits(2, minutes, "a 2-digit offset minute")) return false;
    } else if (is_digit(peek())) {
      if (!read_digits(2, minutes, "a 2-digit offset minute")) return false;
    }
    if (minutes > 59) return fail("offset minute " + std::to_string(minutes) + " is out of range (00-59)");
    if (hours > 23) {
      return fail(std::string("offset ") + c + two_digits(hours) + ":" + two_digits(minutes) +
                  " is out of range (-23:59 to +23:59)");
    }
    const std::int32_t magnitude = hours * 3600 + minutes * 60;
    f.offset_seconds = c == '-' ? -magnitude : magnitude;
    return true;
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  bool accept(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  bool expect(char c, std::string_view where) {
    if (accept(c)) return true;
    return fail(std::string("expected '") + c + "' " + std::string(where) + " at " + position() + ", found " + found() +
                std::string(shape_hint));
  }

  bool read_digits(int count, int& out, std::string_view what) {
    const std::size_t start = pos_;
    int value = 0;
    for (int i = 0; i < count; ++i) {
      if (!is_digit(peek())) {
        pos_ = start;
        return fail("expected " + std::string(what) + " at " + position() + ", found " + found_short_digits() +
                    std::string(shape_hint));
      }
      value = value * 10 + (text_[pos_++] - '0');
    }
    out = value;
    return true;
  }

  std::string position() const { return "position " + std::to_string(base_ + pos_); }
  std::string found() const { return describe(text_, pos_); }

  // For a digit field, "found '2'" would hide why "2-" is wrong; show a short digit run and what ends it.
  std::string found_short_digits() const {
    std::size_t at = pos_;
    while (at < text_.size() && is_digit(text_[at])) ++at;
    if (at == pos_ || at - pos_ > 4) return describe(text_, pos_);
    return "\"" + std::string(text_.substr(pos_, at - pos_)) + "\" then " + describe(text_, at);
  }

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  std::string_view text_;
  std::size_t base_;
  std::size_t pos_ = 0;
  std::string error_;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

InstantResult parse_at(std::string_view text, std::size_t base, std::optional<std::int32_t> default_offset_seconds,
                       DateEnd end) {
  if (text.empty()) return InstantResult::failure("is empty" + std::string(shape_hint));
  if (is_space(text.front()) || is_space(text.back())) {
    return InstantResult::failure("has leading or trailing whitespace");
  }
  Result<Fields> scanned = Scanner(text, base).scan();
  if (!scanned) return InstantResult::failure(std::move(scanned.error));
  const Fields& f = *scanned;

  std::int32_t offset = 0;
  if (f.offset_seconds) {
    offset = *f.offset_seconds;
  } else if (default_offset_seconds) {
    offset = *default_offset_seconds;
  } else {
    return InstantResult::failure(f.has_time ? "missing time zone (add Z or an offset like +01:00)"
                                             : "missing time zone (a date alone needs a default time zone)");
  }

  std::int64_t local = days_from_civil(f.date) * seconds_per_day;
  if (f.has_time) {
    local += f.hour * 3600 + f.minute * 60 + f.second;
  } else if (end == DateEnd::end_of_day) {
    local += seconds_per_day - 1;
  }
  // Local time = UTC + offset, so UTC = local - offset.
  return InstantResult::success(Instant{local - offset});
}

std::optional<std::string> check_default_offset(std::optional<std::int32_t> default_offset_seconds) {
  if (default_offset_seconds &&
      (*default_offset_seconds < -max_offset_seconds || *default_offset_seconds > max_offset_seconds)) {
    // Shown in seconds, as configured: hours and minutes would hide a mistaken unit (minutes, milliseconds).
    return "default time zone offset of " + std::to_string(*default_offset_seconds) +
           " seconds is out of range (-86340 to 86340, i.e. -23:59 to +23:59)";
  }
  return std::nullopt;
}

}  // namespace

bool is_leap_year(std::int64_t year) {
  return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int days_in_month(std::int64_t year, int month) {
  constexpr std::array<int, 12> lengths = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : lengths[month - 1];
}

// Howard Hinnant's days_from_civil. The trick is to start the year in March: February, with its leap day, becomes
// the last month, so the day-of-year of every other month is a fixed linear formula, and the 400-year Gregorian
// cycle ("era", exactly 146097 days) turns the rest into integer division without any table.
std::int64_t days_from_civil(CivilDate date) {
  const std::int64_t year = date.month <= 2 ? date.year - 1 : date.year;  // March-based year
  const std::int64_t era = floor_div(year, 400);
  const std::int64_t year_of_era = year - era * 400;                                  // [0, 399]
  const std::int64_t march_month = date.month > 2 ? date.month - 3 : date.month + 9;  // March = 0 ... February = 11
  // 153 days per 5 months (31+30+31+30+31) gives each month's first day of the March-based year.
  const std::int64_t day_of_year = (153 * march_month + 2) / 5 + date.day - 1;                            // [0, 365]
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  // 719468 is the number of days from 0000-03-01 (the start of era 0) to 1970-01-01.
  return era * 146097 + day_of_era - 719468;
}

// The inverse of days_from_civil, built on the same March-based years and 400-year eras.
CivilDate civil_from_days(std::int64_t days) {
  const std::int64_t shifted = days + 719468;  // days since 0000-03-01
  const std::int64_t era = floor_div(shifted, 146097);
  const std::int64_t day_of_era = shifted - era * 146097;  // [0, 146096]
  // Remove the leap days (one per 4 years, none per 100, one per 400) to count whole 365-day years.
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;                    // [0, 399]
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365]
  const std::int64_t march_month = (5 * day_of_year + 2) / 153;                                             // [0, 11]
  CivilDate date;
  date.day = static_cast<int>(day_of_year - (153 * march_month + 2) / 5 + 1);
  date.month = static_cast<int>(march_month < 10 ? march_month + 3 : march_month - 9);
  date.year = year_of_era + era * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}

InstantResult parse_datetime(std::string_view text, std::optional<std::int32_t> default_offset_seconds, DateEnd end) {
  if (auto error = check_default_offset(default_offset_seconds)) return InstantResult::failure(std::move(*error));
  return parse_at(text, 0, default_offset_seconds, end);
}

Result<Interval> parse_interval(std::string_view text, std::optional<std::int32_t> default_offset_seconds) {
  using IntervalResult = Result<Interval>;
  if (auto error = check_default_offset(default_offset_seconds)) return IntervalResult::failure(std::move(*error));
  if (text.empty()) return IntervalResult::failure("is empty" + std::string(interval_hint));
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return IntervalResult::failure("missing '/' between start and end" + std::string(interval_hint));
  }
  const std::size_t second_slash = text.find('/', slash + 1);
  if (second_slash != std::string_view::npos) {
    return IntervalResult::failure("more than one '/' (at positions " + std::to_string(slash) + " and " +
                                   std::to_string(second_slash) + ")" + std::string(interval_hint));
  }
  const std::string_view sides[2] = {text.substr(0, slash), text.substr(slash + 1)};
  const std::size_t bases[2] = {0, slash + 1};
  const char* names[2] = {"start", "end"};
  const DateEnd ends[2] = {DateEnd::start_of_day, DateEnd::end_of_day};
  Instant instants[2];
  for (int i = 0; i < 2; ++i) {
    // ISO 8601 also allows "start/duration" and "duration/end"; say so instead of a confusing shape error.
    if (!sides[i].empty() && (sides[i].front() == 'P' || sides[i].front() == 'p')) {
      return IntervalResult::failure(std::string(names[i]) + " of interval: durations like P7D are not supported" +
                                     std::string(interval_hint));
    }
    InstantResult parsed = parse_at(sides[i], bases[i], default_offset_seconds, ends[i]);
    if (!parsed) return IntervalResult::failure(std::string(names[i]) + " of interval: " + parsed.error);
    instants[i] = *parsed;
  }
  if (instants[1] < instants[0]) {
    return IntervalResult::failure("end " + format_utc(instants[1]) + " is before start " + format_utc(instants[0]));
  }
  return IntervalResult::success(Interval{instants[0], instants[1]});
}

std::string format_utc(Instant instant) {
  const std::int64_t days = floor_div(instant.seconds, seconds_per_day);
  // From the remainder, not seconds - days * 86400: that product overflows for the most negative instants.
  std::int64_t remainder = instant.seconds % seconds_per_day;
  if (remainder < 0) remainder += seconds_per_day;
  const auto second_of_day = static_cast<int>(remainder);
  const CivilDate date = civil_from_days(days);

  std::string out;
  if (date.year < 0 || date.year > 9999) out += date.year < 0 ? '-' : '+';
  // |year| cannot overflow here: civil_from_days of any int64 seconds stays far inside int64.
  const std::string year_digits = std::to_string(date.year < 0 ? -date.year : date.year);
  if (year_digits.size() < 4) out.append(4 - year_digits.size(), '0');
  out += year_digits;
  out += '-' + two_digits(date.month) + '-' + two_digits(date.day) + 'T' + two_digits(second_of_day / 3600) + ':' +
         two_digits(second_of_day / 60 % 60) + ':' + two_digits(second_of_day % 60) + 'Z';
  return out;
}

}  // namespace sluice
