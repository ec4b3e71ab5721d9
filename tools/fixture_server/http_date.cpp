// HTTP-date formatting and parsing with civil-date arithmetic (no locale or time zone involved).
#include "fixture_server/http_date.hpp"

#include <array>
#include <cstdio>

namespace sluice::fixture {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian calendar.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

// A tiny cursor over the date text; every reader fails soft by returning false.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }

  bool number(int digits, int& out) {
    out = 0;
    for (int i = 0; i < digits; ++i) {
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') return false;
      out = out * 10 + (s_[pos_++] - '0');
    }
    return true;
  }

  // One or two digits, optionally preceded by a space (asctime pads the day that way).
  bool padded_day(int& out) {
    if (pos_ < s_.size() && s_[pos_] == ' ') {
      ++pos_;
      return number(1, out);
    }
    return number(2, out);
  }

  bool month(unsigned& out) {
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
      if (literal(kMonths[i])) {
        out = static_cast<unsigned>(i + 1);
        return true;
      }
    }
    return false;
  }

  bool skip_word() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= 'A' && s_[pos_] <= 'Z') || (s_[pos_] >= 'a' && s_[pos_] <= 'z'))) ++pos_;
    return pos_ > start;
  }

  bool at_end() const { return pos_ == s_.size(); }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

std::optional<std::int64_t> to_seconds(std::int64_t year, unsigned month, int day, int hh, int mm, int ss) {
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  return days_from_civil(year, month, static_cast<unsigned>(day)) * 86400 + hh * 3600 + mm * 60 + ss;
}

}  // namespace

std::string format_http_date(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const Civil c = civil_from_days(days);
  const auto weekday = static_cast<std::size_t>(((days % 7) + 7) % 7);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3s, %02u %.3s %04lld %02d:%02d:%02d GMT", kWeekdays[weekday].data(), c.day,
                kMonths[c.month - 1].data(), static_cast<long long>(c.year), static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return buf;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  unsigned month = 0;
  {  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    Cursor c(text);
    if (c.skip_word() && c.literal(", ") && c.number(2, day) && c.literal(" ") && c.month(month) && c.literal(" ") &&
        c.number(4, year) && c.literal(" ") && c.number(2, hh) && c.literal(":") && c.number(2, mm) && c.literal(":") &&
        c.number(2, ss) && c.literal(" GMT") && c.at_end())
      return to_seconds(year, month, day, hh, mm, ss);
  }
  {  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are taken as 19xx/20xx around 1970.
    Cursor c(text);
    if (c.skip_word() && c.literal(", ") && c.number(2, day) && c.literal("-") && c.month(month) && c.literal("-") &&
        c.number(2, year) && c.literal(" ") && c.number(2, hh) && c.literal(":") && c.number(2, mm) && c.literal(":") &&
        c.number(2, ss) && c.literal(" GMT") && c.at_end())
      return to_seconds(year < 70 ? 2000 + year : 1900 + year, month, day, hh, mm, ss);
  }
  {  // asctime: "Sun Nov  6 08:49:37 1994"
    Cursor c(text);
    if (c.skip_word() && c.literal(" ") && c.month(month) && c.literal(" ") && c.padded_day(day) && c.literal(" ") &&
        c.number(2, hh) && c.literal(":") && c.number(2, mm) && c.literal(":") && c.number(2, ss) && c.literal(" ") &&
        c.number(4, year) && c.at_end())
      return to_seconds(year, month, day, hh, mm, ss);
  }
  return std::nullopt;
}

}  // namespace sluice::fixture
