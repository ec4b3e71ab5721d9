// Exact fixed-point decimal (int64 units scaled by a power of ten) and the rounding modes used for money.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sluice {

// half_up rounds ties away from zero, down truncates toward zero, up rounds away from zero.
enum class Rounding { half_up, half_even, down, up };

std::optional<Rounding> parse_rounding(std::string_view text);
std::string_view to_string(Rounding mode);

namespace detail {

// __extension__ keeps -Wpedantic quiet: the 128-bit type is what makes every intermediate exact.
__extension__ typedef __int128 Int128;

// 10^exponent for exponent in [0, 38].
Int128 pow10_128(int exponent);

// num / den rounded to an integer with the given mode; den must be positive. The rounding decision
// uses the exact remainder, so no precision is lost before rounding.
Int128 divide_rounded(Int128 num, Int128 den, Rounding mode);

bool fits_int64(Int128 value);

}  // namespace detail

class Decimal;
using ParseResult = Result<Decimal>;

// value = units * 10^-scale. The scale is part of the representation ("1.50" keeps two digits) but
// not of the value: comparisons treat 1.5 and 1.50 as equal.
class Decimal {
 public:
  static constexpr int max_scale = 18;

  Decimal() = default;

  // Throws std::invalid_argument if scale is outside [0, max_scale].
  static Decimal from_units(std::int64_t units, int scale);

  // Accepts an optional leading '+' or '-', at least one integer digit, then optionally the decimal
  // separator followed by 1..18 digits. ".5" and "12." are rejected: feeds that drop a side of the
  // separator are more often truncated or mis-split than deliberately terse. Leading zeros are
  // accepted ("007.50" is 7.50). When thousands_sep is not '\0' it may group the integer digits, and
  // then every group after the first must have exactly three digits ("1.234.567,89"). Anything else
  // (whitespace, "NaN", a value outside int64 units) yields an error message.
  // decimal_sep and thousands_sep must differ and must not be digits or signs.
  //
  // Exponent notation ("1.5E3", "1e-2") is an error saying so, unless `exponent` is Exponent::exact:
  // then the value is exact (1e-2 is 0.01 with scale 2, 1.50E1 is 15.0), as long as it fits int64
  // units with at most max_scale fractional digits; the exponent's size is checked before any work
  // proportional to it, so "1e999999" is a quick error.
  enum class Exponent { refused, exact };
  static ParseResult parse(std::string_view text, char decimal_sep = '.', char thousands_sep = '\0',
                           Exponent exponent = Exponent::refused);

  std::int64_t units() const { return units_; }
  int scale() const { return scale_; }
  int signum() const { return (units_ > 0) - (units_ < 0); }
  bool is_zero() const { return units_ == 0; }

  // Canonical form with '.' as separator and exactly scale() fractional digits: "-12.50", "0.05", "3".
  std::string to_string() const;

  // Same value at another scale, rounded with mode when digits are dropped. Throws
  // std::invalid_argument for a scale outside [0, max_scale] and std::overflow_error when the units
  // no longer fit in int64.
  Decimal rescaled(int scale, Rounding mode) const;

  // Same value with trailing fractional zeros removed ("1.2500" -> "1.25", "3.00" -> "3").
  Decimal trimmed() const;

  // Exact three-way comparison across scales: negative, zero or positive.
  int compare(const Decimal& other) const;

  friend bool operator==(const Decimal& a, const Decimal& b) { return a.compare(b) == 0; }
  friend std::weak_ordering operator<=>(const Decimal& a, const Decimal& b) { return a.compare(b) <=> 0; }

  // Arithmetic is exact or throws std::overflow_error. Sums keep the larger scale. A product's
  // scale is the sum of the scales; only when that exceeds max_scale or the units exceed int64 are
  // trailing zeros dropped, never significant digits.
  Decimal operator-() const;
  friend Decimal operator+(const Decimal& a, const Decimal& b);
  friend Decimal operator-(const Decimal& a, const Decimal& b);
  friend Decimal operator*(const Decimal& a, const Decimal& b);
  Decimal& operator+=(const Decimal& other) { return *this = *this + other; }
  Decimal& operator-=(const Decimal& other) { return *this = *this - other; }
  Decimal& operator*=(const Decimal& other) { return *this = *this * other; }

 private:
  Decimal(std::int64_t units, int scale) : units_(units), scale_(scale) {}

  std::int64_t units_ = 0;
  int scale_ = 0;
};

// part / whole > ratio, compared exactly (part * 10^scale > units * whole): error budgets and the
// full sync's delisting guard.
bool ratio_exceeded(std::uint64_t part, std::uint64_t whole, const Decimal& ratio);

}  // namespace sluice
