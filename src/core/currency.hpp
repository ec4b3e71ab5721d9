// ISO 4217 currency codes and the number of minor-unit digits each one uses.
#pragma once

#include <span>
#include <string_view>

namespace sluice {

struct CurrencyInfo {
  std::string_view code;
  int exponent;
};

// Minor-unit exponent (2 for EUR, 0 for JPY, 3 for KWD), or -1 if the code is not a current ISO 4217
// currency with a minor unit. Codes must be upper case: feeds are normalised before lookup so that
// the stored code is canonical too.
int currency_exponent(std::string_view code);
bool is_currency(std::string_view code);

// Every known currency, sorted by code.
std::span<const CurrencyInfo> all_currencies();

}  // namespace sluice
