// Net/tax/gross price computation in integer minor units of a currency.
#pragma once

#include <cstdint>

#include "core/decimal.hpp"
#include "core/result.hpp"

namespace sluice {

struct PriceResult {
  std::int64_t net_minor = 0;
  std::int64_t tax_minor = 0;
  std::int64_t gross_minor = 0;

  friend bool operator==(const PriceResult&, const PriceResult&) = default;
};

using PriceOutcome = Result<PriceResult>;

// amount is in major units ("19.99" EUR); tax_rate is a fraction ("0.20" for 20 %);
// currency_exponent is the number of minor-unit digits (2 for EUR, 0 for JPY, 3 for KWD), 0..18.
//
// prices_include_tax == false: net = round(amount), tax = round(net * rate) from that rounded net,
//   gross = net + tax.
// prices_include_tax == true: gross = round(amount), net = round(amount / (1 + rate)) from the exact
//   amount, tax = gross - net.
// Each rounded output is rounded exactly once, from its exact rational value, at the minor unit.
// net + tax == gross always holds and no output is negative. Negative amounts or rates, an invalid
// exponent and results outside int64 are reported as errors; any result that fits is computed.
PriceOutcome compute_price(const Decimal& amount, const Decimal& tax_rate, int currency_exponent, Rounding rounding,
                           bool prices_include_tax);

}  // namespace sluice
