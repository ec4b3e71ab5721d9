// Price computation: exact rational intermediates in 128 bits, one rounding per output.
#include "core/money.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace sluice {

using detail::Int128;

namespace {

PriceOutcome overflow(const char* what) {
  return PriceOutcome::failure(std::string("price overflow: ") + what + " does not fit in 64-bit minor units");
}

std::optional<Int128> checked_mul(Int128 a, Int128 b) {
  Int128 out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// Shared by net (exclusive) and gross (inclusive) so both round the amount identically.
Int128 to_minor(const Decimal& amount, int exponent, Rounding rounding) {
  const int shift = exponent - amount.scale();
  if (shift >= 0) return static_cast<Int128>(amount.units()) * detail::pow10_128(shift);
  return detail::divide_rounded(amount.units(), detail::pow10_128(-shift), rounding);
}

}  // namespace

PriceOutcome compute_price(const Decimal& amount, const Decimal& tax_rate, int currency_exponent, Rounding rounding,
                           bool prices_include_tax) {
  if (currency_exponent < 0 || currency_exponent > Decimal::max_scale) {
    return PriceOutcome::failure("invalid currency exponent " + std::to_string(currency_exponent));
  }
  if (amount.signum() < 0) return PriceOutcome::failure("negative amount " + amount.to_string());
  if (tax_rate.signum() < 0) return PriceOutcome::failure("negative tax rate " + tax_rate.to_string());

  const Int128 rate_units = tax_rate.units();
  const Int128 rate_den = detail::pow10_128(tax_rate.scale());

  if (!prices_include_tax) {
    const Int128 net = to_minor(amount, currency_exponent, rounding);
    if (!detail::fits_int64(net)) return overflow("net");
    // net and rate_units are both below 2^63, so the product is exact in 128 bits.
    const Int128 tax = detail::divide_rounded(net * rate_units, rate_den, rounding);
    if (!detail::fits_int64(tax)) return overflow("tax");
    const Int128 gross = net + tax;
    if (!detail::fits_int64(gross)) return overflow("gross");
    return PriceOutcome::success(
        PriceResult{static_cast<std::int64_t>(net), static_cast<std::int64_t>(tax), static_cast<std::int64_t>(gross)});
  }

  const Int128 gross = to_minor(amount, currency_exponent, rounding);
  if (!detail::fits_int64(gross)) return overflow("gross");

  // net = amount * 10^e / (1 + t / 10^u) = units * 10^(e + u) / (10^s * (10^u + t)).
  // Cancelling the common power of ten first leaves either numerator = units (< 2^63) or
  // denominator = 10^u + t (< 2^64); in the second case a numerator beyond 2^127 would mean a net
  // above 2^63, impossible since net <= gross fits. Without the cancellation, large amount scales
  // would overflow spuriously. The checked multiply and the fits test guard that reasoning.
  const int numerator_power = currency_exponent + tax_rate.scale();
  const int common = std::min(amount.scale(), numerator_power);
  const auto numerator = checked_mul(static_cast<Int128>(amount.units()), detail::pow10_128(numerator_power - common));
  if (!numerator) return overflow("net");
  const Int128 denominator = detail::pow10_128(amount.scale() - common) * (rate_den + rate_units);
  const Int128 net = detail::divide_rounded(*numerator, denominator, rounding);
  if (!detail::fits_int64(net)) return overflow("net");

  // Rounding is monotonic and amount / (1 + rate) <= amount, so net <= gross and tax >= 0.
  const Int128 tax = gross - net;
  return PriceOutcome::success(
      PriceResult{static_cast<std::int64_t>(net), static_cast<std::int64_t>(tax), static_cast<std::int64_t>(gross)});
}

}  // namespace sluice
