// Exact decimal parsing, formatting, rounding and arithmetic on int64 units with 128-bit intermediates.
#include "core/decimal.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace sluice {

using detail::Int128;

namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t int64_min = std::numeric_limits<std::int64_t>::min();

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

void require_scale(int scale) {
  if (scale < 0 || scale > Decimal::max_scale) {
    throw std::invalid_argument("decimal scale " + std::to_string(scale) + " outside [0, " +
                                std::to_string(Decimal::max_scale) + "]");
  }
}

std::int64_t to_int64_or_throw(Int128 value, const char* what) {
  if (!detail::fits_int64(value)) throw std::overflow_error(std::string("decimal overflow in ") + what);
  return static_cast<std::int64_t>(value);
}

// Feed values can be arbitrarily long or contain control bytes; keep messages short and printable.
std::string quote(std::string_view text) {
  constexpr std::size_t max_shown = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < max_shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_shown) out += "...";
  out += '"';
  return out;
}

ParseResult parse_error(std::string_view text, const std::string& why) {
  return ParseResult::failure("invalid decimal " + quote(text) + ": " + why);
}

std::string position(std::size_t pos) {
  return "at position " + std::to_string(pos);
}

bool is_reserved(char c) {
  return is_digit(c) || c == '+' || c == '-';
}

}  // namespace

std::optional<Rounding> parse_rounding(std::string_view text) {
  if (text == "half_up") return Rounding::half_up;
  if (text == "half_even") return Rounding::half_even;
  if (text == "down") return Rounding::down;
  if (text == "up") return Rounding::up;
  return std::nullopt;
}

std::string_view to_string(Rounding mode) {
  switch (mode) {
    case Rounding::half_up:
      return "half_up";
    case Rounding::half_even:
      return "half_even";
    case Rounding::down:
      return "down";
    case Rounding::up:
      return "up";
  }
  return "unknown";
}

namespace detail {

Int128 pow10_128(int exponent) {
  if (exponent < 0 || exponent > 38) throw std::invalid_argument("pow10_128 exponent out of range");
  Int128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

Int128 divide_rounded(Int128 num, Int128 den, Rounding mode) {
  if (den <= 0) throw std::invalid_argument("divide_rounded needs a positive divisor");
  // C++ division truncates toward zero and the remainder takes the sign of num, so q is already the
  // "down" result and moving away from zero means adding the sign of num.
  const Int128 q = num / den;
  const Int128 r = num % den;
  if (r == 0) return q;
  const Int128 away = num < 0 ? q - 1 : q + 1;
  const Int128 abs_r = r < 0 ? -r : r;
  // Comparing abs_r with den - abs_r avoids doubling abs_r, which could overflow near the type limit.
  const Int128 rest = den - abs_r;
  switch (mode) {
    case Rounding::down:
      return q;
    case Rounding::up:
      return away;
    case Rounding::half_up:
      return abs_r >= rest ? away : q;
    case Rounding::half_even:
      if (abs_r > rest) return away;
      if (abs_r < rest) return q;
      return q % 2 == 0 ? q : away;
  }
  throw std::invalid_argument("unknown rounding mode");
}

bool fits_int64(Int128 value) {
  return value >= int64_min && value <= int64_max;
}

}  // namespace detail

Decimal Decimal::from_units(std::int64_t units, int scale) {
  require_scale(scale);
  return Decimal(units, scale);
}

ParseResult Decimal::parse(std::string_view text, char decimal_sep, char thousands_sep, Exponent exponent) {
  if (decimal_sep == '\0' || is_reserved(decimal_sep) || is_reserved(thousands_sep) || decimal_sep == thousands_sep) {
    return ParseResult::failure("invalid decimal separator configuration");
  }
  if (text.empty()) return parse_error(text, "empty");

  std::size_t pos = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    pos = 1;
  }

  // INT64_MIN has no positive counterpart, so a negative value may reach one unit further.
  const Int128 limit = negative ? -static_cast<Int128>(int64_min) : static_cast<Int128>(int64_max);
  Int128 magnitude = 0;
  const auto push_digit = [&](char c) {
    magnitude = magnitude * 10 + (c - '0');
    return magnitude <= limit;
  };
  const auto out_of_range = [&] { return parse_error(text, "out of range (more digits than int64 units hold)"); };

  int integer_digits = 0;
  int group_digits = 0;
  bool grouped = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (is_digit(c)) {
      if (!push_digit(c)) return out_of_range();
      ++integer_digits;
      ++group_digits;
    } else if (thousands_sep != '\0' && c == thousands_sep) {
      if (integer_digits == 0) return parse_error(text, "thousands separator before any digit");
      if (grouped ? group_digits != 3 : group_digits > 3) {
        return parse_error(text, "misplaced thousands separator " + position(pos));
      }
      grouped = true;
      group_digits = 0;
    } else {
      break;
    }
  }
  if (integer_digits == 0) {
    if (pos == text.size()) return parse_error(text, "sign without digits");
    return parse_error(text, "expected a digit " + position(pos));
  }
  if (grouped && group_digits != 3) {
    return parse_error(text,
                       "misplaced thousands separator: last group has " + std::to_string(group_digits) + " digits");
  }

  int scale = 0;
  if (pos < text.size() && text[pos] == decimal_sep) {
    ++pos;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      if (scale == max_scale) {
        return parse_error(text, "more than " + std::to_string(max_scale) + " fractional digits");
      }
      if (!push_digit(text[pos])) return out_of_range();
      ++scale;
    }
    if (scale == 0) return parse_error(text, "no digits after the decimal separator");
  }
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    const std::size_t marker = pos++;
    bool negative_exponent = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) negative_exponent = text[pos++] == '-';
    // Saturates far beyond any usable exponent, so its size costs nothing whatever the digits.
    constexpr long exponent_cap = 1000;
    long power = 0;
    const std::size_t first_digit = pos;
    for (; pos < text.size() && is_digit(text[pos]); ++pos)
      power = std::min(exponent_cap, power * 10 + (text[pos] - '0'));
    if (pos == first_digit || pos != text.size()) return parse_error(text, "malformed exponent " + position(marker));
    if (exponent == Exponent::refused) {
      return parse_error(text,
                         "exponent notation (" + position(marker) + ") is not accepted; write the number out in full");
    }
    long new_scale = scale + (negative_exponent ? power : -power);
    if (magnitude == 0) {
      new_scale = std::clamp(new_scale, 0L, static_cast<long>(max_scale));
    } else {
      // Trailing zeros of the digits absorb an exponent that would otherwise give too many decimals.
      while (new_scale > max_scale && magnitude % 10 == 0) {
        magnitude /= 10;
        --new_scale;
      }
      if (new_scale > max_scale) {
        return parse_error(text, "more than " + std::to_string(max_scale) + " fractional digits");
      }
      if (new_scale < 0) {
        // int64 holds 19 digits, so a larger shift of a non-zero value cannot fit.
        if (new_scale < -19) return out_of_range();
        magnitude *= detail::pow10_128(static_cast<int>(-new_scale));
        if (magnitude > limit) return out_of_range();
        new_scale = 0;
      }
    }
    scale = static_cast<int>(new_scale);
  }
  if (pos != text.size()) return parse_error(text, "unexpected character " + position(pos));

  const Int128 units = negative ? -magnitude : magnitude;
  return ParseResult::success(Decimal(static_cast<std::int64_t>(units), scale));
}

std::string Decimal::to_string() const {
  // Unsigned magnitude so that INT64_MIN formats without overflow.
  std::uint64_t magnitude = units_ < 0 ? ~static_cast<std::uint64_t>(units_) + 1 : static_cast<std::uint64_t>(units_);
  std::string digits;
  do {
    digits += static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  while (digits.size() < static_cast<std::size_t>(scale_) + 1) digits += '0';
  std::reverse(digits.begin(), digits.end());

  std::string out;
  if (units_ < 0) out += '-';
  const std::size_t integer_len = digits.size() - static_cast<std::size_t>(scale_);
  out.append(digits, 0, integer_len);
  if (scale_ > 0) {
    out += '.';
    out.append(digits, integer_len, std::string::npos);
  }
  return out;
}

Decimal Decimal::rescaled(int scale, Rounding mode) const {
  require_scale(scale);
  if (scale >= scale_) {
    const Int128 units = static_cast<Int128>(units_) * detail::pow10_128(scale - scale_);
    return Decimal(to_int64_or_throw(units, "rescale"), scale);
  }
  const Int128 units = detail::divide_rounded(units_, detail::pow10_128(scale_ - scale), mode);
  return Decimal(static_cast<std::int64_t>(units), scale);
}

Decimal Decimal::trimmed() const {
  std::int64_t units = units_;
  int scale = scale_;
  while (scale > 0 && units % 10 == 0) {
    units /= 10;
    --scale;
  }
  return Decimal(units, scale);
}

int Decimal::compare(const Decimal& other) const {
  // Both sides at the larger scale: at most 2^63 * 10^18 < 2^127, so this is exact.
  const int scale = std::max(scale_, other.scale_);
  const Int128 a = static_cast<Int128>(units_) * detail::pow10_128(scale - scale_);
  const Int128 b = static_cast<Int128>(other.units_) * detail::pow10_128(scale - other.scale_);
  return (a > b) - (a < b);
}

Decimal Decimal::operator-() const {
  return Decimal(to_int64_or_throw(-static_cast<Int128>(units_), "negation"), scale_);
}

Decimal operator+(const Decimal& a, const Decimal& b) {
  const int scale = std::max(a.scale_, b.scale_);
  const Int128 sum = static_cast<Int128>(a.units_) * detail::pow10_128(scale - a.scale_) +
                     static_cast<Int128>(b.units_) * detail::pow10_128(scale - b.scale_);
  return Decimal(to_int64_or_throw(sum, "addition"), scale);
}

Decimal operator-(const Decimal& a, const Decimal& b) {
  const int scale = std::max(a.scale_, b.scale_);
  const Int128 difference = static_cast<Int128>(a.units_) * detail::pow10_128(scale - a.scale_) -
                            static_cast<Int128>(b.units_) * detail::pow10_128(scale - b.scale_);
  return Decimal(to_int64_or_throw(difference, "subtraction"), scale);
}

Decimal operator*(const Decimal& a, const Decimal& b) {
  Int128 product = static_cast<Int128>(a.units_) * b.units_;
  int scale = a.scale_ + b.scale_;
  while ((scale > Decimal::max_scale || !detail::fits_int64(product)) && scale > 0 && product % 10 == 0) {
    product /= 10;
    --scale;
  }
  if (scale > Decimal::max_scale) throw std::overflow_error("decimal overflow in multiplication: scale");
  return Decimal(to_int64_or_throw(product, "multiplication"), scale);
}

bool ratio_exceeded(std::uint64_t part, std::uint64_t whole, const Decimal& ratio) {
  using detail::Int128;
  return static_cast<Int128>(part) * detail::pow10_128(ratio.scale()) >
         static_cast<Int128>(ratio.units()) * static_cast<Int128>(whole);
}

}  // namespace sluice
