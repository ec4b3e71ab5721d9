// Tests for sluice::Decimal and the rounding modes: parsing, formatting, comparison, rescaling, arithmetic.
#include "core/decimal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {
namespace {

__extension__ typedef __int128 I128;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::array kModes = {Rounding::half_up, Rounding::half_even, Rounding::down, Rounding::up};

// Reference helpers, deliberately not shared with the implementation.
I128 ten_to(int n) {
  I128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

bool in_int64(I128 v) {
  return v >= kMin && v <= kMax;
}

I128 floor_div(I128 num, I128 den) {
  I128 q = num / den;
  if (num % den != 0 && num < 0) --q;
  return q;
}

// Rounds num/den (den > 0) by picking between the two neighbouring integers by distance.
I128 reference_round(I128 num, I128 den, Rounding mode) {
  const I128 lo = floor_div(num, den);
  const I128 hi = lo + 1;
  if (lo * den == num) return lo;
  const I128 dist_lo = num - lo * den;
  const I128 dist_hi = hi * den - num;
  const I128 toward_zero = num > 0 ? lo : hi;
  const I128 away = num > 0 ? hi : lo;
  switch (mode) {
    case Rounding::down:
      return toward_zero;
    case Rounding::up:
      return away;
    case Rounding::half_up:
      if (dist_lo != dist_hi) return dist_lo < dist_hi ? lo : hi;
      return away;
    case Rounding::half_even:
      if (dist_lo != dist_hi) return dist_lo < dist_hi ? lo : hi;
      return lo % 2 == 0 ? lo : hi;
  }
  return 0;
}

Decimal dec(std::string_view text, char decimal_sep = '.', char thousands_sep = '\0') {
  const ParseResult r = Decimal::parse(text, decimal_sep, thousands_sep);
  if (!r) throw std::runtime_error("test input did not parse: " + std::string(text) + ": " + r.error);
  return *r;
}

void expect_parses(std::string_view text, std::int64_t units, int scale, char decimal_sep = '.',
                   char thousands_sep = '\0') {
  const ParseResult r = Decimal::parse(text, decimal_sep, thousands_sep);
  ASSERT_TRUE(r.ok()) << "\"" << text << "\": " << r.error;
  EXPECT_EQ(r->units(), units) << text;
  EXPECT_EQ(r->scale(), scale) << text;
  EXPECT_TRUE(r.error.empty());
}

void expect_rejected(std::string_view text, char decimal_sep = '.', char thousands_sep = '\0') {
  const ParseResult r = Decimal::parse(text, decimal_sep, thousands_sep);
  EXPECT_FALSE(r.ok()) << "\"" << text << "\" parsed as " << (r ? r->to_string() : "");
  EXPECT_FALSE(r.error.empty()) << text;
}

// Random int64 with a uniformly chosen bit length, so small and huge magnitudes are equally common.
std::int64_t random_units(std::mt19937_64& rng) {
  const int bits = static_cast<int>(rng() % 64);
  std::uint64_t magnitude = bits == 0 ? 0 : (rng() >> (64 - bits));
  const bool negative = rng() % 2 == 0;
  if (rng() % 50 == 0) return rng() % 2 == 0 ? kMax : kMin;
  const auto value = static_cast<std::int64_t>(magnitude & static_cast<std::uint64_t>(kMax));
  return negative ? -value : value;
}

Decimal random_decimal(std::mt19937_64& rng) {
  return Decimal::from_units(random_units(rng), static_cast<int>(rng() % (Decimal::max_scale + 1)));
}

// Formats with a ',' decimal separator and '.' thousands groups, independently of to_string().
std::string european(const Decimal& d) {
  const bool negative = d.units() < 0;
  std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(d.units()) : static_cast<std::uint64_t>(d.units());
  std::string digits = std::to_string(magnitude);
  if (digits.size() <= static_cast<std::size_t>(d.scale())) {
    digits.insert(0, static_cast<std::size_t>(d.scale()) + 1 - digits.size(), '0');
  }
  const std::string integer = digits.substr(0, digits.size() - static_cast<std::size_t>(d.scale()));
  const std::string fraction = digits.substr(integer.size());
  std::string grouped;
  for (std::size_t i = 0; i < integer.size(); ++i) {
    if (i > 0 && (integer.size() - i) % 3 == 0) grouped += '.';
    grouped += integer[i];
  }
  return (negative ? "-" : "") + grouped + (fraction.empty() ? "" : "," + fraction);
}

TEST(RoundingName, RoundTripsAndRejectsUnknown) {
  for (const Rounding mode : kModes) {
    const auto parsed = parse_rounding(to_string(mode));
    ASSERT_TRUE(parsed.has_value()) << to_string(mode);
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_EQ(to_string(Rounding::half_up), "half_up");
  EXPECT_EQ(to_string(Rounding::half_even), "half_even");
  EXPECT_EQ(to_string(Rounding::down), "down");
  EXPECT_EQ(to_string(Rounding::up), "up");
  for (const std::string_view bad : {"", "HALF_UP", "half-up", "nearest", "up ", "ceiling"}) {
    EXPECT_FALSE(parse_rounding(bad).has_value()) << bad;
  }
}

TEST(DecimalParse, PlainForms) {
  expect_parses("0", 0, 0);
  expect_parses("-0", 0, 0);
  expect_parses("+0", 0, 0);
  expect_parses("-0.00", 0, 2);
  expect_parses("+1", 1, 0);
  expect_parses("-12.345", -12345, 3);
  expect_parses("0.5", 5, 1);
  expect_parses("1.000", 1000, 3);
  expect_parses("12.50", 1250, 2);
  expect_parses("123456789012345678", 123456789012345678, 0);
  expect_parses("0.000000000000000001", 1, 18);
}

TEST(DecimalParse, LeadingZerosAreAccepted) {
  expect_parses("007.50", 750, 2);
  expect_parses("00", 0, 0);
  expect_parses("-000.1", -1, 1);
  expect_parses("0000000000000000000000000000001", 1, 0);
  expect_parses("0000000000000000000000009223372036854775807", kMax, 0);
}

TEST(DecimalParse, MaxDigitsAndOverflow) {
  expect_parses("9223372036854775807", kMax, 0);
  expect_parses("-9223372036854775808", kMin, 0);
  expect_parses("922337203685477580.7", kMax, 1);
  expect_parses("9.223372036854775807", kMax, 18);
  expect_parses("-9.223372036854775808", kMin, 18);
  expect_parses("0.999999999999999999", 999999999999999999, 18);

  expect_rejected("9223372036854775808");
  expect_rejected("-9223372036854775809");
  expect_rejected("92233720368547758.08");
  expect_rejected("99999999999999999999");
  expect_rejected("123456789012345678901234567890");
  expect_rejected("0.0000000000000000001");
  expect_rejected("1.0000000000000000000");
}

TEST(DecimalParse, RejectsGarbage) {
  for (const std::string_view text :
       {"",     "-",   "+",    "+-1",      "--1",   "1e5",          "1E5",     "1e-5", "1,2,3", "12.",
        ".5",   "-.5", "+.5",  ".",        " 1",    "1 ",           "1 000",   "\t1",  "1\n",   "NaN",
        "nan",  "inf", "-inf", "Infinity", "1.2.3", "0x10",         "1_000",   "12a",  "a12",   "1.-5",
        "1.+5", "1-",  "1+1",  "$1",       "1,5",   "\xef\xbc\x91", "\xc2\xbd"}) {
    expect_rejected(text);
  }
  expect_rejected(std::string{'1', '\0'});
  expect_rejected(std::string{'\0', '1'});
}

TEST(DecimalParse, ErrorMessagesNameTheInput) {
  const ParseResult r = Decimal::parse("1e5");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("\"1e5\""), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("position 1"), std::string::npos) << r.error;

  const ParseResult long_input = Decimal::parse(std::string(500, 'x'));
  ASSERT_FALSE(long_input.ok());
  EXPECT_LT(long_input.error.size(), 120u) << long_input.error;

  const ParseResult control = Decimal::parse("1\x01");
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.error.find("\\x01"), std::string::npos) << control.error;
}

TEST(DecimalParse, ExponentNotationIsRefusedBySayingSo) {
  const ParseResult r = Decimal::parse("1E-2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("exponent notation (at position 1) is not accepted"), std::string::npos) << r.error;
}

void expect_exact(std::string_view text, std::int64_t units, int scale, char decimal_sep = '.') {
  const ParseResult r = Decimal::parse(text, decimal_sep, '\0', Decimal::Exponent::exact);
  ASSERT_TRUE(r.ok()) << "\"" << text << "\": " << r.error;
  EXPECT_EQ(r->units(), units) << text;
  EXPECT_EQ(r->scale(), scale) << text;
}

std::string exact_error(std::string_view text) {
  const ParseResult r = Decimal::parse(text, '.', '\0', Decimal::Exponent::exact);
  EXPECT_FALSE(r.ok()) << "\"" << text << "\" parsed as " << (r ? r->to_string() : "");
  return r.error;
}

TEST(DecimalParse, ExponentNotationIsExactWhenAllowed) {
  expect_exact("1E-2", 1, 2);  // 0.01 exactly, not the double nearest to it
  expect_exact("1e-2", 1, 2);
  expect_exact("1.5E3", 1500, 0);
  expect_exact("1.50E1", 150, 1);
  expect_exact("1E+2", 100, 0);
  expect_exact("-2.5e-1", -25, 2);
  expect_exact("12,5E1", 125, 0, ',');
  expect_exact("15.00", 1500, 2);  // plain numbers are unchanged
  expect_exact("100E-20", 1, 18);  // trailing zeros absorb what would pass the 18 decimals
  expect_exact("9.223372036854775807E18", kMax, 0);
  expect_exact("1E-18", 1, 18);
  expect_exact("0E-40", 0, 18);
  expect_exact("0E999999999999999999999", 0, 0);  // zero stays zero, however large the exponent
}

TEST(DecimalParse, ExponentOutOfRangeIsAQuickErrorNotAHugeNumber) {
  EXPECT_NE(exact_error("1e999999").find("out of range"), std::string::npos);
  EXPECT_NE(exact_error("1e99999999999999999999999999999999").find("out of range"), std::string::npos);
  EXPECT_NE(exact_error("9.223372036854775808E18").find("out of range"), std::string::npos);
  EXPECT_NE(exact_error("1E20").find("out of range"), std::string::npos);
  EXPECT_NE(exact_error("1E-19").find("more than 18 fractional digits"), std::string::npos);
  EXPECT_NE(exact_error("1e-999999").find("more than 18 fractional digits"), std::string::npos);
  for (const std::string_view bad : {"1e", "1e+", "1E-", "1e5x", "1e 5", "1e5.0", "e5", "1ee5", "1e--5"})
    EXPECT_NE(exact_error(bad), "") << bad;
}

TEST(DecimalParse, CustomSeparators) {
  expect_parses("1.234.567,89", 123456789, 2, ',', '.');
  expect_parses("1,234,567.89", 123456789, 2, '.', ',');
  expect_parses("1234567,89", 123456789, 2, ',', '.');
  expect_parses("-1 234,5", -12345, 1, ',', ' ');
  expect_parses("12,34", 1234, 2, ',');
  expect_parses("999", 999, 0, ',', '.');
  expect_parses("0.999", 999, 0, ',', '.');
  expect_parses("9.223.372.036.854.775.807", kMax, 0, ',', '.');
  expect_parses("-9.223.372.036.854.775.808", kMin, 0, ',', '.');

  expect_rejected("1,2,3", '.', ',');
  expect_rejected("1,2,3", ',', '.');
  expect_rejected("1.23.456,7", ',', '.');
  expect_rejected("1234.567,8", ',', '.');
  expect_rejected("1.234.56", ',', '.');
  expect_rejected("1..234", ',', '.');
  expect_rejected("1.234.", ',', '.');
  expect_rejected(".123,4", ',', '.');
  expect_rejected("-.123", ',', '.');
  expect_rejected("1,234.5", ',', '.');
  expect_rejected("1,5.000", ',', '.');
  expect_rejected("1,000.5", '.', '\0');
  expect_rejected("1.5", ',');
  expect_rejected("9.223.372.036.854.775.808", ',', '.');
}

TEST(DecimalParse, RejectsAmbiguousSeparatorConfiguration) {
  expect_rejected("1", '.', '.');
  expect_rejected("1", '\0', ',');
  expect_rejected("1", '5', '\0');
  expect_rejected("1", '.', '-');
  expect_rejected("1", '+', ',');
}

TEST(DecimalToString, Canonical) {
  EXPECT_EQ(Decimal().to_string(), "0");
  EXPECT_EQ(Decimal::from_units(-1250, 2).to_string(), "-12.50");
  EXPECT_EQ(Decimal::from_units(5, 2).to_string(), "0.05");
  EXPECT_EQ(Decimal::from_units(-5, 2).to_string(), "-0.05");
  EXPECT_EQ(Decimal::from_units(0, 3).to_string(), "0.000");
  EXPECT_EQ(Decimal::from_units(7, 0).to_string(), "7");
  EXPECT_EQ(Decimal::from_units(100, 2).to_string(), "1.00");
  EXPECT_EQ(Decimal::from_units(kMin, 0).to_string(), "-9223372036854775808");
  EXPECT_EQ(Decimal::from_units(kMin, 18).to_string(), "-9.223372036854775808");
  EXPECT_EQ(Decimal::from_units(kMax, 18).to_string(), "9.223372036854775807");
  EXPECT_EQ(Decimal::from_units(1, 18).to_string(), "0.000000000000000001");
  EXPECT_EQ(dec("1.234.567,89", ',', '.').to_string(), "1234567.89");
}

TEST(DecimalToString, RoundTripsFixedCases) {
  for (const std::string_view text : {"0", "-12.50", "0.05", "-0.05", "7", "9223372036854775807",
                                      "-9223372036854775808", "0.000000000000000001", "-9.223372036854775808"}) {
    EXPECT_EQ(dec(text).to_string(), text);
  }
}

TEST(Decimal, FromUnitsRejectsBadScale) {
  EXPECT_THROW(Decimal::from_units(1, -1), std::invalid_argument);
  EXPECT_THROW(Decimal::from_units(1, 19), std::invalid_argument);
  EXPECT_NO_THROW(Decimal::from_units(1, 18));
}

TEST(DecimalCompare, AcrossScales) {
  EXPECT_EQ(dec("1.5"), dec("1.50"));
  EXPECT_EQ(dec("1.5"), dec("1.500000000000000000"));
  EXPECT_EQ(dec("0"), dec("-0.00"));
  EXPECT_EQ(dec("1.5").compare(dec("1.50")), 0);
  EXPECT_LT(dec("1.5"), dec("1.51"));
  EXPECT_GT(dec("-1.5"), dec("-1.51"));
  EXPECT_GT(dec("0.1"), dec("0.099999999999999999"));
  EXPECT_LT(dec("-0.1"), dec("-0.099999999999999999"));
  EXPECT_LT(dec("2"), dec("10.0"));
  EXPECT_NE(dec("1.05"), dec("1.5"));
  EXPECT_LE(dec("1.50"), dec("1.5"));
  EXPECT_GE(dec("1.50"), dec("1.5"));
  EXPECT_GT(Decimal::from_units(kMax, 0), Decimal::from_units(kMax, 18));
  EXPECT_LT(Decimal::from_units(kMin, 0), Decimal::from_units(kMin, 18));
  EXPECT_LT(Decimal::from_units(kMin, 0), Decimal::from_units(kMax, 0));
  EXPECT_EQ(dec("3").compare(dec("2.999999999999999999")), 1);
  EXPECT_EQ(dec("2.999999999999999999").compare(dec("3")), -1);
}

struct RoundingRow {
  std::string_view input;
  int scale;
  std::array<std::string_view, 4> expected;  // half_up, half_even, down, up
};

TEST(DecimalRescale, RoundingTable) {
  const std::vector<RoundingRow> rows = {
      {"2.5", 0, {"3", "2", "2", "3"}},
      {"-2.5", 0, {"-3", "-2", "-2", "-3"}},
      {"3.5", 0, {"4", "4", "3", "4"}},
      {"-3.5", 0, {"-4", "-4", "-3", "-4"}},
      {"2.49", 0, {"2", "2", "2", "3"}},
      {"-2.49", 0, {"-2", "-2", "-2", "-3"}},
      {"2.51", 0, {"3", "3", "2", "3"}},
      {"-2.51", 0, {"-3", "-3", "-2", "-3"}},
      {"2.50000", 0, {"3", "2", "2", "3"}},
      {"0.5", 0, {"1", "0", "0", "1"}},
      {"-0.5", 0, {"-1", "0", "0", "-1"}},
      {"0.05", 1, {"0.1", "0.0", "0.0", "0.1"}},
      {"-0.05", 1, {"-0.1", "0.0", "0.0", "-0.1"}},
      {"0.15", 1, {"0.2", "0.2", "0.1", "0.2"}},
      {"0.049", 1, {"0.0", "0.0", "0.0", "0.1"}},
      {"-0.049", 1, {"0.0", "0.0", "0.0", "-0.1"}},
      {"0.051", 1, {"0.1", "0.1", "0.0", "0.1"}},
      {"-0.051", 1, {"-0.1", "-0.1", "0.0", "-0.1"}},
      {"1.125", 2, {"1.13", "1.12", "1.12", "1.13"}},
      {"-1.125", 2, {"-1.13", "-1.12", "-1.12", "-1.13"}},
      {"1.135", 2, {"1.14", "1.14", "1.13", "1.14"}},
      {"-1.135", 2, {"-1.14", "-1.14", "-1.13", "-1.14"}},
      {"1.1249", 2, {"1.12", "1.12", "1.12", "1.13"}},
      {"-1.1249", 2, {"-1.12", "-1.12", "-1.12", "-1.13"}},
      {"1.1251", 2, {"1.13", "1.13", "1.12", "1.13"}},
      {"-1.1251", 2, {"-1.13", "-1.13", "-1.12", "-1.13"}},
      {"7.0005", 3, {"7.001", "7.000", "7.000", "7.001"}},
      {"-7.0005", 3, {"-7.001", "-7.000", "-7.000", "-7.001"}},
      {"7.0015", 3, {"7.002", "7.002", "7.001", "7.002"}},
      {"7.00049", 3, {"7.000", "7.000", "7.000", "7.001"}},
      {"-7.00051", 3, {"-7.001", "-7.001", "-7.000", "-7.001"}},
      {"0.000000000000000005",
       17,
       {"0.00000000000000001", "0.00000000000000000", "0.00000000000000000", "0.00000000000000001"}},
      {"-9.223372036854775808", 0, {"-9", "-9", "-9", "-10"}},
      {"9.5", 0, {"10", "10", "9", "10"}},
      {"1.20", 1, {"1.2", "1.2", "1.2", "1.2"}},
  };
  for (const RoundingRow& row : rows) {
    for (std::size_t m = 0; m < kModes.size(); ++m) {
      EXPECT_EQ(dec(row.input).rescaled(row.scale, kModes[m]).to_string(), row.expected[m])
          << row.input << " to scale " << row.scale << " with " << to_string(kModes[m]);
    }
  }
}

TEST(DecimalRescale, HalfEvenIsBankersRounding) {
  EXPECT_EQ(dec("0.125").rescaled(2, Rounding::half_even).to_string(), "0.12");
  EXPECT_EQ(dec("0.135").rescaled(2, Rounding::half_even).to_string(), "0.14");
  EXPECT_EQ(dec("0.145").rescaled(2, Rounding::half_even).to_string(), "0.14");
  EXPECT_EQ(dec("0.115").rescaled(2, Rounding::half_even).to_string(), "0.12");
  EXPECT_EQ(dec("-0.125").rescaled(2, Rounding::half_even).to_string(), "-0.12");
  EXPECT_EQ(dec("0.1250001").rescaled(2, Rounding::half_even).to_string(), "0.13");
}

TEST(DecimalRescale, WideningAndErrors) {
  EXPECT_EQ(dec("1.5").rescaled(4, Rounding::down).to_string(), "1.5000");
  EXPECT_EQ(dec("-1.5").rescaled(18, Rounding::down).to_string(), "-1.500000000000000000");
  EXPECT_EQ(dec("1.5").rescaled(1, Rounding::up).to_string(), "1.5");
  EXPECT_THROW((void)Decimal::from_units(kMax, 0).rescaled(1, Rounding::down), std::overflow_error);
  EXPECT_THROW((void)dec("10").rescaled(18, Rounding::down), std::overflow_error);
  EXPECT_THROW((void)dec("1").rescaled(19, Rounding::down), std::invalid_argument);
  EXPECT_THROW((void)dec("1").rescaled(-1, Rounding::down), std::invalid_argument);
}

TEST(DecimalTrim, DropsOnlyTrailingZeros) {
  EXPECT_EQ(dec("1.2500").trimmed().to_string(), "1.25");
  EXPECT_EQ(dec("3.00").trimmed().to_string(), "3");
  EXPECT_EQ(dec("100").trimmed().to_string(), "100");
  EXPECT_EQ(dec("-0.000").trimmed().to_string(), "0");
}

TEST(DecimalArithmetic, ExactResults) {
  EXPECT_EQ((dec("1.5") + dec("2.25")).to_string(), "3.75");
  EXPECT_EQ((dec("0.1") + dec("0.2")).to_string(), "0.3");
  EXPECT_EQ(dec("0.1") + dec("0.2"), dec("0.3"));
  EXPECT_EQ((dec("1") - dec("0.01")).to_string(), "0.99");
  EXPECT_EQ((dec("1.00") - dec("2")).to_string(), "-1.00");
  EXPECT_EQ((-dec("1.50")).to_string(), "-1.50");
  EXPECT_EQ((dec("1.5") * dec("1.5")).to_string(), "2.25");
  EXPECT_EQ((dec("19.99") * dec("0.20")).to_string(), "3.9980");
  EXPECT_EQ((dec("-3") * dec("0.5")).to_string(), "-1.5");
  EXPECT_EQ((dec("0") * dec("-0.5")).to_string(), "0.0");

  Decimal total = dec("10");
  total += dec("0.5");
  total -= dec("1");
  total *= dec("2");
  EXPECT_EQ(total.to_string(), "19.0");
}

TEST(DecimalArithmetic, ProductScaleReducedOnlyByTrailingZeros) {
  const Decimal one_ten_digits = Decimal::from_units(10000000000, 10);
  EXPECT_EQ((one_ten_digits * one_ten_digits).to_string(), "1.000000000000000000");
  const Decimal tiny = Decimal::from_units(1, 10);
  EXPECT_THROW((void)(tiny * tiny), std::overflow_error);
  const Decimal one_nine_digits = Decimal::from_units(1000000000, 9);
  EXPECT_EQ((one_nine_digits * dec("10000000000")).to_string(), "10000000000.00000000");
}

TEST(DecimalArithmetic, OverflowThrows) {
  const Decimal max = Decimal::from_units(kMax, 0);
  const Decimal min = Decimal::from_units(kMin, 0);
  EXPECT_THROW((void)(max + dec("1")), std::overflow_error);
  EXPECT_THROW((void)(min - dec("1")), std::overflow_error);
  EXPECT_THROW((void)(-min), std::overflow_error);
  EXPECT_THROW((void)(max * dec("2")), std::overflow_error);
  EXPECT_THROW((void)(min * dec("-1")), std::overflow_error);
  EXPECT_THROW((void)(max + dec("0.1")), std::overflow_error);
  EXPECT_THROW((void)(max * max), std::overflow_error);
  EXPECT_EQ((max + min).to_string(), "-1");
  EXPECT_EQ((-max).units(), -kMax);
}

TEST(DecimalProperty, ParseOfToStringIsIdentity) {
  std::mt19937_64 rng(0x5eed0001);
  for (int i = 0; i < 100000; ++i) {
    const Decimal x = random_decimal(rng);
    const std::string text = x.to_string();
    const ParseResult back = Decimal::parse(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.error;
    ASSERT_EQ(back->units(), x.units()) << text;
    ASSERT_EQ(back->scale(), x.scale()) << text;
    ASSERT_EQ(*back, x);

    const std::string local = european(x);
    const ParseResult local_back = Decimal::parse(local, ',', '.');
    ASSERT_TRUE(local_back.ok()) << local << ": " << local_back.error;
    ASSERT_EQ(local_back->units(), x.units()) << local;
    ASSERT_EQ(local_back->scale(), x.scale()) << local;
  }
}

TEST(DecimalProperty, CompareMatchesCrossMultiplication) {
  std::mt19937_64 rng(0x5eed0002);
  for (int i = 0; i < 100000; ++i) {
    const Decimal a = random_decimal(rng);
    // Half of the pairs share a value at different scales, where a bug would be most likely.
    Decimal b = random_decimal(rng);
    if (i % 2 == 0 && a.scale() < Decimal::max_scale) {
      const int target = a.scale() + 1 + static_cast<int>(rng() % (Decimal::max_scale - a.scale()));
      const I128 widened = static_cast<I128>(a.units()) * ten_to(target - a.scale());
      const I128 nudged = widened + static_cast<I128>(rng() % 3) - 1;
      if (in_int64(nudged)) b = Decimal::from_units(static_cast<std::int64_t>(nudged), target);
    }
    // a.units / 10^sa vs b.units / 10^sb  <=>  a.units * 10^sb vs b.units * 10^sa
    const I128 lhs = static_cast<I128>(a.units()) * ten_to(b.scale());
    const I128 rhs = static_cast<I128>(b.units()) * ten_to(a.scale());
    const int expected = (lhs > rhs) - (lhs < rhs);
    ASSERT_EQ(a.compare(b), expected) << a.to_string() << " vs " << b.to_string();
    ASSERT_EQ(b.compare(a), -expected);
    ASSERT_EQ(a == b, expected == 0);
    ASSERT_EQ(a < b, expected < 0);
  }
}

TEST(DecimalProperty, RescaleMatchesReferenceRounding) {
  std::mt19937_64 rng(0x5eed0003);
  for (int i = 0; i < 100000; ++i) {
    const Decimal x = random_decimal(rng);
    const int target = static_cast<int>(rng() % (Decimal::max_scale + 1));
    const Rounding mode = kModes[rng() % kModes.size()];
    I128 expected = 0;
    if (target >= x.scale()) {
      expected = static_cast<I128>(x.units()) * ten_to(target - x.scale());
    } else {
      expected = reference_round(x.units(), ten_to(x.scale() - target), mode);
    }
    if (!in_int64(expected)) {
      ASSERT_THROW((void)x.rescaled(target, mode), std::overflow_error) << x.to_string();
      continue;
    }
    const Decimal r = x.rescaled(target, mode);
    ASSERT_EQ(r.units(), static_cast<std::int64_t>(expected))
        << x.to_string() << " to " << target << " " << to_string(mode);
    ASSERT_EQ(r.scale(), target);

    // Error bound, in units of 10^-(x.scale): |x - r| against the size of one target step.
    if (target < x.scale()) {
      const I128 step = ten_to(x.scale() - target);
      const I128 diff = static_cast<I128>(r.units()) * step - x.units();
      const I128 abs_diff = diff < 0 ? -diff : diff;
      if (mode == Rounding::half_up || mode == Rounding::half_even) {
        ASSERT_LE(2 * abs_diff, step) << x.to_string();
      } else {
        ASSERT_LT(abs_diff, step) << x.to_string();
        const bool toward_zero = (x.units() >= 0) ? diff <= 0 : diff >= 0;
        ASSERT_EQ(toward_zero, mode == Rounding::down || abs_diff == 0) << x.to_string();
      }
    }
  }
}

TEST(DecimalProperty, ArithmeticMatchesWideReference) {
  std::mt19937_64 rng(0x5eed0004);
  for (int i = 0; i < 100000; ++i) {
    const Decimal a = random_decimal(rng);
    const Decimal b = random_decimal(rng);
    const int sum_scale = std::max(a.scale(), b.scale());
    const I128 a_wide = static_cast<I128>(a.units()) * ten_to(sum_scale - a.scale());
    const I128 b_wide = static_cast<I128>(b.units()) * ten_to(sum_scale - b.scale());

    const I128 sum = a_wide + b_wide;
    if (in_int64(sum)) {
      const Decimal s = a + b;
      ASSERT_EQ(s.units(), static_cast<std::int64_t>(sum));
      ASSERT_EQ(s.scale(), sum_scale);
    } else {
      ASSERT_THROW((void)(a + b), std::overflow_error);
    }

    const I128 difference = a_wide - b_wide;
    if (in_int64(difference)) {
      const Decimal d = a - b;
      ASSERT_EQ(d.units(), static_cast<std::int64_t>(difference));
      ASSERT_EQ(d.scale(), sum_scale);
    } else {
      ASSERT_THROW((void)(a - b), std::overflow_error);
    }

    // The product is representable iff some scale s <= 18, s <= sa + sb, holds it exactly in int64.
    const I128 product = static_cast<I128>(a.units()) * b.units();
    const int product_scale = a.scale() + b.scale();
    bool representable = false;
    for (int s = std::min(product_scale, Decimal::max_scale); s >= 0 && !representable; --s) {
      const I128 step = ten_to(product_scale - s);
      representable = product % step == 0 && in_int64(product / step);
    }
    if (representable) {
      const Decimal p = a * b;
      ASSERT_LE(p.scale(), product_scale);
      ASSERT_EQ(static_cast<I128>(p.units()) * ten_to(product_scale - p.scale()), product)
          << a.to_string() << " * " << b.to_string();
      // No trailing zero was dropped that did not have to be.
      if (p.scale() < product_scale) {
        const bool needed = p.scale() + 1 > Decimal::max_scale || !in_int64(static_cast<I128>(p.units()) * 10);
        ASSERT_TRUE(needed) << a.to_string() << " * " << b.to_string() << " = " << p.to_string();
      }
    } else {
      ASSERT_THROW((void)(a * b), std::overflow_error) << a.to_string() << " * " << b.to_string();
    }
  }
}

}  // namespace
}  // namespace sluice
