// Tests for the ISO 4217 currency table and sluice::compute_price, with an independent rational reference.
#include "core/money.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/currency.hpp"

namespace sluice {
namespace {

__extension__ typedef __int128 I128;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::array kModes = {Rounding::half_up, Rounding::half_even, Rounding::down, Rounding::up};

Decimal dec(std::string_view text) {
  const ParseResult r = Decimal::parse(text);
  if (!r) throw std::runtime_error("test input did not parse: " + std::string(text) + ": " + r.error);
  return *r;
}

// Reference arithmetic, written apart from the implementation: exact fractions of 128-bit integers,
// rounded by choosing between the two neighbouring integers by distance.
struct Fraction {
  I128 num;
  I128 den;  // > 0
};

I128 ten_to(int n) {
  I128 r = 1;
  while (n-- > 0) r *= 10;
  return r;
}

bool in_int64(I128 v) {
  return v >= std::numeric_limits<std::int64_t>::min() && v <= std::numeric_limits<std::int64_t>::max();
}

std::optional<I128> mul(I128 a, I128 b) {
  I128 out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// Only non-negative fractions occur in prices.
I128 reference_round(Fraction f, Rounding mode) {
  const I128 lo = f.num / f.den;
  const I128 hi = lo + 1;
  const I128 dist_lo = f.num - lo * f.den;
  if (dist_lo == 0) return lo;
  const I128 dist_hi = f.den - dist_lo;
  switch (mode) {
    case Rounding::down:
      return lo;
    case Rounding::up:
      return hi;
    case Rounding::half_up:
      return dist_lo < dist_hi ? lo : hi;
    case Rounding::half_even:
      if (dist_lo != dist_hi) return dist_lo < dist_hi ? lo : hi;
      return lo % 2 == 0 ? lo : hi;
  }
  return -1;
}

// Checks |f - rounded| against the mode: at most half a unit for half_*, below one unit and on the
// correct side for down/up.
::testing::AssertionResult honours_mode(Fraction f, I128 rounded, Rounding mode) {
  const I128 diff = rounded * f.den - f.num;  // sign of rounded - exact, scaled by den
  const I128 abs_diff = diff < 0 ? -diff : diff;
  bool ok = false;
  switch (mode) {
    case Rounding::half_up:
    case Rounding::half_even:
      ok = 2 * abs_diff <= f.den;
      break;
    case Rounding::down:
      ok = diff <= 0 && abs_diff < f.den;
      break;
    case Rounding::up:
      ok = diff >= 0 && abs_diff < f.den;
      break;
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "rounded value too far from exact for " << to_string(mode);
}

struct Reference {
  bool computable = true;  // false when an exact intermediate exceeds 128 bits
  bool fits = true;        // every output fits in int64
  I128 net = 0;
  I128 tax = 0;
  I128 gross = 0;
  std::vector<std::pair<Fraction, I128>> rounded;  // each rounded output with its exact value
};

Reference reference_price(const Decimal& amount, const Decimal& rate, int exponent, Rounding mode, bool inclusive) {
  Reference ref;
  const I128 a = amount.units();
  const I128 t = rate.units();
  const I128 rate_den = ten_to(rate.scale());
  const Fraction major{a * ten_to(exponent), ten_to(amount.scale())};
  if (!inclusive) {
    ref.net = reference_round(major, mode);
    ref.rounded.emplace_back(major, ref.net);
    if (!in_int64(ref.net)) {
      ref.fits = false;
      return ref;
    }
    const Fraction tax{ref.net * t, rate_den};
    ref.tax = reference_round(tax, mode);
    ref.rounded.emplace_back(tax, ref.tax);
    ref.gross = ref.net + ref.tax;
  } else {
    ref.gross = reference_round(major, mode);
    ref.rounded.emplace_back(major, ref.gross);
    const auto num = mul(major.num, rate_den);
    const auto den = mul(major.den, rate_den + t);
    if (!num || !den) {
      ref.computable = false;
      return ref;
    }
    const Fraction net{*num, *den};
    ref.net = reference_round(net, mode);
    ref.rounded.emplace_back(net, ref.net);
    ref.tax = ref.gross - ref.net;
  }
  ref.fits = in_int64(ref.net) && in_int64(ref.tax) && in_int64(ref.gross);
  return ref;
}

TEST(Currency, ExponentsFromIso4217) {
  const std::vector<std::pair<std::string_view, int>> expected = {
      {"USD", 2}, {"EUR", 2}, {"GBP", 2}, {"JPY", 0}, {"KRW", 0}, {"CHF", 2}, {"SEK", 2}, {"NOK", 2},
      {"DKK", 2}, {"PLN", 2}, {"CZK", 2}, {"HUF", 2}, {"CAD", 2}, {"AUD", 2}, {"NZD", 2}, {"CNY", 2},
      {"INR", 2}, {"BRL", 2}, {"MXN", 2}, {"ZAR", 2}, {"TRY", 2}, {"RUB", 2}, {"KWD", 3}, {"BHD", 3},
      {"OMR", 3}, {"JOD", 3}, {"TND", 3}, {"IQD", 3}, {"LYD", 3}, {"CLP", 0}, {"ISK", 0}, {"VND", 0},
      {"UGX", 0}, {"PYG", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0}, {"CLF", 4}, {"UYW", 4}, {"IDR", 2},
      {"HKD", 2}, {"SGD", 2}, {"AED", 2}, {"SAR", 2}, {"ILS", 2}, {"THB", 2}, {"RON", 2}, {"UAH", 2},
  };
  for (const auto& [code, exponent] : expected) {
    EXPECT_EQ(currency_exponent(code), exponent) << code;
    EXPECT_TRUE(is_currency(code)) << code;
  }
}

TEST(Currency, UnknownCodes) {
  for (const std::string_view code :
       {"", "US", "USDX", "usd", "Eur", "XXX", "XAU", "XTS", "XDR", "ABC", "HRK", "ZZZ", " USD", "USD "}) {
    EXPECT_EQ(currency_exponent(code), -1) << code;
    EXPECT_FALSE(is_currency(code)) << code;
  }
}

TEST(Currency, TableIsWellFormed) {
  const auto table = all_currencies();
  EXPECT_GE(table.size(), 150u);
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const CurrencyInfo& c = table[i];
    ASSERT_EQ(c.code.size(), 3u) << c.code;
    for (const char ch : c.code) EXPECT_TRUE(ch >= 'A' && ch <= 'Z') << c.code;
    EXPECT_TRUE(c.exponent == 0 || c.exponent == 2 || c.exponent == 3 || c.exponent == 4) << c.code;
    EXPECT_TRUE(seen.insert(c.code).second) << "duplicate " << c.code;
    if (i > 0) {
      EXPECT_LT(table[i - 1].code, c.code);
    }
    EXPECT_EQ(currency_exponent(c.code), c.exponent) << c.code;
  }
}

struct PriceCase {
  std::string_view amount;
  std::string_view rate;
  int exponent;
  Rounding mode;
  bool inclusive;
  PriceResult expected;
};

TEST(ComputePrice, HandCheckedValues) {
  constexpr bool excl = false;
  constexpr bool incl = true;
  const auto hu = Rounding::half_up;
  const auto he = Rounding::half_even;
  const auto dn = Rounding::down;
  const auto up = Rounding::up;
  const std::vector<PriceCase> cases = {
      // 19.99 * 0.20 = 3.998 -> 4.00 except when truncating.
      {"19.99", "0.20", 2, hu, excl, {1999, 400, 2399}},
      {"19.99", "0.20", 2, he, excl, {1999, 400, 2399}},
      {"19.99", "0.20", 2, dn, excl, {1999, 399, 2398}},
      {"19.99", "0.20", 2, up, excl, {1999, 400, 2399}},
      // Tax of exactly 100.5 minor units: the tie decides.
      {"10.05", "0.10", 2, hu, excl, {1005, 101, 1106}},
      {"10.05", "0.10", 2, he, excl, {1005, 100, 1105}},
      {"10.05", "0.10", 2, dn, excl, {1005, 100, 1105}},
      {"10.05", "0.10", 2, up, excl, {1005, 101, 1106}},
      // Amounts finer than the currency are rounded once at the minor unit.
      {"19.995", "0", 2, hu, excl, {2000, 0, 2000}},
      {"19.995", "0", 2, he, excl, {2000, 0, 2000}},
      {"19.985", "0.00", 2, he, excl, {1998, 0, 1998}},
      {"19.995", "0", 2, dn, excl, {1999, 0, 1999}},
      {"19.991", "0", 2, up, excl, {2000, 0, 2000}},
      {"100", "0.19", 2, hu, excl, {10000, 1900, 11900}},
      {"0.01", "0.19", 2, hu, excl, {1, 0, 1}},
      {"0.01", "0.19", 2, up, excl, {1, 1, 2}},
      {"0", "0.2", 2, up, excl, {0, 0, 0}},
      {"-0.00", "0.2", 2, up, excl, {0, 0, 0}},
      // 23.99 / 1.2 = 19.991666...
      {"23.99", "0.20", 2, hu, incl, {1999, 400, 2399}},
      {"23.99", "0.20", 2, he, incl, {1999, 400, 2399}},
      {"23.99", "0.20", 2, dn, incl, {1999, 400, 2399}},
      {"23.99", "0.20", 2, up, incl, {2000, 399, 2399}},
      // 100 / 1.19 = 84.0336...
      {"100.00", "0.19", 2, hu, incl, {8403, 1597, 10000}},
      {"1.05", "0.05", 2, hu, incl, {100, 5, 105}},
      // 3 / 1.2 = 2.5 minor units: the tie decides.
      {"0.03", "0.20", 2, hu, incl, {3, 0, 3}},
      {"0.03", "0.20", 2, he, incl, {2, 1, 3}},
      {"0.03", "0.20", 2, dn, incl, {2, 1, 3}},
      {"0.03", "0.20", 2, up, incl, {3, 0, 3}},
      // Net comes from the exact amount, not from the rounded gross: 2.26 / 1.5 = 1.5066 -> 2,
      // whereas 2 / 1.5 = 1.33 would give 1.
      {"0.0226", "0.5", 2, hu, incl, {2, 0, 2}},
      // A gross finer than the currency is rounded with the mode too: 2399.5 minor units.
      {"23.995", "0.20", 2, dn, incl, {1999, 400, 2399}},
      {"23.995", "0.20", 2, up, incl, {2000, 400, 2400}},
      {"23.995", "0.20", 2, he, incl, {2000, 400, 2400}},
      {"0", "0.2", 2, hu, incl, {0, 0, 0}},
      {"5.00", "0", 2, hu, incl, {500, 0, 500}},
      // JPY has no minor unit.
      {"1000", "0.10", 0, hu, excl, {1000, 100, 1100}},
      {"1234", "0.08", 0, hu, excl, {1234, 99, 1333}},
      {"1234", "0.08", 0, dn, excl, {1234, 98, 1332}},
      {"99.5", "0.10", 0, he, excl, {100, 10, 110}},
      {"98.5", "0.10", 0, he, excl, {98, 10, 108}},
      {"98.5", "0.10", 0, hu, excl, {99, 10, 109}},
      {"1100", "0.10", 0, hu, incl, {1000, 100, 1100}},
      {"1000", "0.08", 0, hu, incl, {926, 74, 1000}},
      {"1000", "0.08", 0, dn, incl, {925, 75, 1000}},
      // KWD has three decimals.
      {"12.345", "0.05", 3, hu, excl, {12345, 617, 12962}},
      {"12.345", "0.05", 3, up, excl, {12345, 618, 12963}},
      {"1.2345", "0", 3, he, excl, {1234, 0, 1234}},
      {"1.2345", "0", 3, hu, excl, {1235, 0, 1235}},
      {"10.500", "0.05", 3, hu, incl, {10000, 500, 10500}},
      {"10.5", "0.05", 3, hu, incl, {10000, 500, 10500}},
      // Rates with many digits and rates of 100 % and more.
      {"10.00", "0.075000000000000000", 2, hu, excl, {1000, 75, 1075}},
      {"10.00", "1", 2, hu, excl, {1000, 1000, 2000}},
      {"20.00", "1", 2, hu, incl, {1000, 1000, 2000}},
      {"10.00", "2.5", 2, hu, excl, {1000, 2500, 3500}},
  };
  for (const PriceCase& c : cases) {
    SCOPED_TRACE(std::string(c.amount) + " @ " + std::string(c.rate) + " e" + std::to_string(c.exponent) + " " +
                 std::string(to_string(c.mode)) + (c.inclusive ? " incl" : " excl"));
    const PriceOutcome out = compute_price(dec(c.amount), dec(c.rate), c.exponent, c.mode, c.inclusive);
    ASSERT_TRUE(out.ok()) << out.error;
    EXPECT_EQ(out->net_minor, c.expected.net_minor);
    EXPECT_EQ(out->tax_minor, c.expected.tax_minor);
    EXPECT_EQ(out->gross_minor, c.expected.gross_minor);
  }
}

TEST(ComputePrice, UsesCurrencyTable) {
  const PriceOutcome jpy = compute_price(dec("1500"), dec("0.10"), currency_exponent("JPY"), Rounding::half_up, false);
  ASSERT_TRUE(jpy.ok()) << jpy.error;
  EXPECT_EQ(*jpy, (PriceResult{1500, 150, 1650}));
  const PriceOutcome kwd = compute_price(dec("1.5"), dec("0.05"), currency_exponent("KWD"), Rounding::half_up, false);
  ASSERT_TRUE(kwd.ok()) << kwd.error;
  EXPECT_EQ(*kwd, (PriceResult{1500, 75, 1575}));
  const PriceOutcome unknown = compute_price(dec("1"), dec("0"), currency_exponent("ABC"), Rounding::half_up, false);
  EXPECT_FALSE(unknown.ok());
}

TEST(ComputePrice, RejectsInvalidInput) {
  for (const bool inclusive : {false, true}) {
    const PriceOutcome negative_amount = compute_price(dec("-0.01"), dec("0.2"), 2, Rounding::half_up, inclusive);
    EXPECT_FALSE(negative_amount.ok());
    EXPECT_NE(negative_amount.error.find("negative amount"), std::string::npos) << negative_amount.error;

    const PriceOutcome negative_rate = compute_price(dec("1"), dec("-0.2"), 2, Rounding::half_up, inclusive);
    EXPECT_FALSE(negative_rate.ok());
    EXPECT_NE(negative_rate.error.find("negative tax rate"), std::string::npos) << negative_rate.error;

    EXPECT_FALSE(compute_price(dec("1"), dec("0.2"), -1, Rounding::half_up, inclusive).ok());
    EXPECT_FALSE(compute_price(dec("1"), dec("0.2"), 19, Rounding::half_up, inclusive).ok());
  }
}

TEST(ComputePrice, OverflowIsAnError) {
  const Decimal max_major = Decimal::from_units(kMax, 0);
  const Decimal max_minor = Decimal::from_units(kMax, 2);
  for (const Rounding mode : kModes) {
    for (const bool inclusive : {false, true}) {
      const PriceOutcome too_big = compute_price(max_major, dec("0"), 2, mode, inclusive);
      EXPECT_FALSE(too_big.ok());
      EXPECT_NE(too_big.error.find("overflow"), std::string::npos) << too_big.error;

      const PriceOutcome at_limit = compute_price(max_minor, dec("0"), 2, mode, inclusive);
      ASSERT_TRUE(at_limit.ok()) << at_limit.error;
      EXPECT_EQ(*at_limit, (PriceResult{kMax, 0, kMax}));
    }
    EXPECT_FALSE(compute_price(max_minor, dec("0.01"), 2, mode, false).ok());
    EXPECT_FALSE(compute_price(dec("1"), max_major, 0, mode, false).ok());
    EXPECT_FALSE(compute_price(dec("10"), dec("1"), 18, mode, false).ok());
  }
  const PriceOutcome inclusive_at_limit = compute_price(max_minor, dec("0.2"), 2, Rounding::down, true);
  ASSERT_TRUE(inclusive_at_limit.ok()) << inclusive_at_limit.error;
  EXPECT_EQ(inclusive_at_limit->gross_minor, kMax);
  EXPECT_EQ(inclusive_at_limit->net_minor, static_cast<std::int64_t>(static_cast<I128>(kMax) * 10 / 12));
  const PriceOutcome one_at_e18 = compute_price(dec("1"), dec("0.000000000000000001"), 18, Rounding::half_up, true);
  ASSERT_TRUE(one_at_e18.ok()) << one_at_e18.error;
  EXPECT_EQ(one_at_e18->net_minor + one_at_e18->tax_minor, one_at_e18->gross_minor);
}

// Large amount scales and rate scales need the exact intermediate to be reduced before dividing;
// the reference cannot represent these, so the expected values were computed with exact fractions.
TEST(ComputePrice, LargeScalesDoNotOverflowSpuriously) {
  const Decimal amount = Decimal::from_units(kMax, 18);
  const PriceOutcome tiny_rate = compute_price(amount, Decimal::from_units(1, 18), 18, Rounding::half_up, true);
  ASSERT_TRUE(tiny_rate.ok()) << tiny_rate.error;
  EXPECT_EQ(*tiny_rate, (PriceResult{9223372036854775798, 9, kMax}));

  const PriceOutcome huge_rate = compute_price(amount, amount, 18, Rounding::half_up, true);
  ASSERT_TRUE(huge_rate.ok()) << huge_rate.error;
  EXPECT_EQ(*huge_rate, (PriceResult{902184915466731819, 8321187121388043988, kMax}));
}

void check_against_reference(const Decimal& amount, const Decimal& rate, int exponent, Rounding mode, bool inclusive,
                             bool check_bounds) {
  const PriceOutcome out = compute_price(amount, rate, exponent, mode, inclusive);
  const Reference ref = reference_price(amount, rate, exponent, mode, inclusive);
  const auto describe = [&] {
    return amount.to_string() + " @ " + rate.to_string() + " e" + std::to_string(exponent) + " " +
           std::string(to_string(mode)) + (inclusive ? " incl" : " excl");
  };
  if (out.ok()) {
    ASSERT_EQ(out->net_minor + out->tax_minor, out->gross_minor) << describe();
    ASSERT_GE(out->net_minor, 0) << describe();
    ASSERT_GE(out->tax_minor, 0) << describe();
    ASSERT_GE(out->gross_minor, 0) << describe();
  } else {
    ASSERT_FALSE(out.error.empty()) << describe();
  }
  if (!ref.computable) return;
  if (!ref.fits) {
    ASSERT_FALSE(out.ok()) << describe();
    return;
  }
  ASSERT_TRUE(out.ok()) << describe() << ": " << out.error;
  ASSERT_EQ(out->net_minor, static_cast<std::int64_t>(ref.net)) << describe();
  ASSERT_EQ(out->tax_minor, static_cast<std::int64_t>(ref.tax)) << describe();
  ASSERT_EQ(out->gross_minor, static_cast<std::int64_t>(ref.gross)) << describe();
  if (check_bounds) {
    for (const auto& [exact, rounded] : ref.rounded) {
      ASSERT_TRUE(honours_mode(exact, rounded, mode)) << describe();
    }
  }
}

// Realistic feeds: prices up to 10^12 with up to six decimals, rates mostly below 60 %.
TEST(ComputePriceProperty, MatchesRationalReference) {
  std::mt19937_64 rng(0x5eed1001);
  constexpr std::array exponents = {0, 2, 2, 2, 3, 4};
  for (int i = 0; i < 100000; ++i) {
    const int exponent = rng() % 10 == 0 ? static_cast<int>(rng() % 10) : exponents[rng() % exponents.size()];
    const int amount_scale = static_cast<int>(rng() % 7);
    const auto amount_limit = static_cast<std::uint64_t>(ten_to(static_cast<int>(rng() % 13) + amount_scale));
    const Decimal amount = Decimal::from_units(static_cast<std::int64_t>(rng() % (amount_limit + 1)), amount_scale);
    const int rate_scale = static_cast<int>(rng() % 7);
    const auto one = static_cast<std::uint64_t>(ten_to(rate_scale));
    const std::uint64_t rate_limit = rng() % 20 == 0 ? 3 * one : (one * 6) / 10;
    const Decimal rate = Decimal::from_units(static_cast<std::int64_t>(rng() % (rate_limit + 1)), rate_scale);
    const Rounding mode = kModes[rng() % kModes.size()];
    const bool inclusive = rng() % 2 == 0;
    check_against_reference(amount, rate, exponent, mode, inclusive, true);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Any non-negative inputs at all: never a crash or a wrong answer, only a result or an error.
TEST(ComputePriceProperty, ExtremeInputsNeverGiveWrongAnswers) {
  std::mt19937_64 rng(0x5eed1002);
  const auto random_non_negative = [&rng] {
    const int bits = static_cast<int>(rng() % 64);
    return static_cast<std::int64_t>(bits == 0 ? 0 : rng() >> (64 - bits));
  };
  int succeeded = 0;
  for (int i = 0; i < 100000; ++i) {
    const Decimal amount =
        Decimal::from_units(random_non_negative(), static_cast<int>(rng() % (Decimal::max_scale + 1)));
    const Decimal rate = Decimal::from_units(random_non_negative(), static_cast<int>(rng() % (Decimal::max_scale + 1)));
    const int exponent = static_cast<int>(rng() % (Decimal::max_scale + 1));
    const Rounding mode = kModes[rng() % kModes.size()];
    const bool inclusive = rng() % 2 == 0;
    check_against_reference(amount, rate, exponent, mode, inclusive, false);
    if (::testing::Test::HasFatalFailure()) return;
    succeeded += compute_price(amount, rate, exponent, mode, inclusive).ok() ? 1 : 0;
  }
  // The distribution must exercise both outcomes to mean anything.
  EXPECT_GT(succeeded, 10000);
  EXPECT_LT(succeeded, 90000);
}

}  // namespace
}  // namespace sluice
