// ISO 4217 currency table: alphabetic code to minor-unit exponent.
#include "core/currency.hpp"

#include <algorithm>
#include <array>

namespace sluice {

namespace {

// Source: ISO 4217 List One (current currency & funds), as published by the maintenance agency
// (SIX) on 2026-01-01, column "Minor unit". Entries whose minor unit is "N.A." (precious metals, XDR,
// XSU, XUA, the bond-market units XBA..XBD, XTS, XXX) are left out on purpose: they are not prices.
// Withdrawn codes (e.g. HRK, BGN, ANG, SLL, ZWL, CUC) are absent, so a stale feed fails loudly.
// Kept sorted by code; a static_assert below enforces it because lookup is a binary search.
constexpr std::array currencies = {
    CurrencyInfo{"AED", 2}, CurrencyInfo{"AFN", 2}, CurrencyInfo{"ALL", 2}, CurrencyInfo{"AMD", 2},
    CurrencyInfo{"AOA", 2}, CurrencyInfo{"ARS", 2}, CurrencyInfo{"AUD", 2}, CurrencyInfo{"AWG", 2},
    CurrencyInfo{"AZN", 2}, CurrencyInfo{"BAM", 2}, CurrencyInfo{"BBD", 2}, CurrencyInfo{"BDT", 2},
    CurrencyInfo{"BHD", 3}, CurrencyInfo{"BIF", 0}, CurrencyInfo{"BMD", 2}, CurrencyInfo{"BND", 2},
    CurrencyInfo{"BOB", 2}, CurrencyInfo{"BOV", 2}, CurrencyInfo{"BRL", 2}, CurrencyInfo{"BSD", 2},
    CurrencyInfo{"BTN", 2}, CurrencyInfo{"BWP", 2}, CurrencyInfo{"BYN", 2}, CurrencyInfo{"BZD", 2},
    CurrencyInfo{"CAD", 2}, CurrencyInfo{"CDF", 2}, CurrencyInfo{"CHE", 2}, CurrencyInfo{"CHF", 2},
    CurrencyInfo{"CHW", 2}, CurrencyInfo{"CLF", 4}, CurrencyInfo{"CLP", 0}, CurrencyInfo{"CNY", 2},
    CurrencyInfo{"COP", 2}, CurrencyInfo{"COU", 2}, CurrencyInfo{"CRC", 2}, CurrencyInfo{"CUP", 2},
    CurrencyInfo{"CVE", 2}, CurrencyInfo{"CZK", 2}, CurrencyInfo{"DJF", 0}, CurrencyInfo{"DKK", 2},
    CurrencyInfo{"DOP", 2}, CurrencyInfo{"DZD", 2}, CurrencyInfo{"EGP", 2}, CurrencyInfo{"ERN", 2},
    CurrencyInfo{"ETB", 2}, CurrencyInfo{"EUR", 2}, CurrencyInfo{"FJD", 2}, CurrencyInfo{"FKP", 2},
    CurrencyInfo{"GBP", 2}, CurrencyInfo{"GEL", 2}, CurrencyInfo{"GHS", 2}, CurrencyInfo{"GIP", 2},
    CurrencyInfo{"GMD", 2}, CurrencyInfo{"GNF", 0}, CurrencyInfo{"GTQ", 2}, CurrencyInfo{"GYD", 2},
    CurrencyInfo{"HKD", 2}, CurrencyInfo{"HNL", 2}, CurrencyInfo{"HTG", 2}, CurrencyInfo{"HUF", 2},
    CurrencyInfo{"IDR", 2}, CurrencyInfo{"ILS", 2}, CurrencyInfo{"INR", 2}, CurrencyInfo{"IQD", 3},
    CurrencyInfo{"IRR", 2}, CurrencyInfo{"ISK", 0}, CurrencyInfo{"JMD", 2}, CurrencyInfo{"JOD", 3},
    CurrencyInfo{"JPY", 0}, CurrencyInfo{"KES", 2}, CurrencyInfo{"KGS", 2}, CurrencyInfo{"KHR", 2},
    CurrencyInfo{"KMF", 0}, CurrencyInfo{"KPW", 2}, CurrencyInfo{"KRW", 0}, CurrencyInfo{"KWD", 3},
    CurrencyInfo{"KYD", 2}, CurrencyInfo{"KZT", 2}, CurrencyInfo{"LAK", 2}, CurrencyInfo{"LBP", 2},
    CurrencyInfo{"LKR", 2}, CurrencyInfo{"LRD", 2}, CurrencyInfo{"LSL", 2}, CurrencyInfo{"LYD", 3},
    CurrencyInfo{"MAD", 2}, CurrencyInfo{"MDL", 2}, CurrencyInfo{"MGA", 2}, CurrencyInfo{"MKD", 2},
    CurrencyInfo{"MMK", 2}, CurrencyInfo{"MNT", 2}, CurrencyInfo{"MOP", 2}, CurrencyInfo{"MRU", 2},
    CurrencyInfo{"MUR", 2}, CurrencyInfo{"MVR", 2}, CurrencyInfo{"MWK", 2}, CurrencyInfo{"MXN", 2},
    CurrencyInfo{"MXV", 2}, CurrencyInfo{"MYR", 2}, CurrencyInfo{"MZN", 2}, CurrencyInfo{"NAD", 2},
    CurrencyInfo{"NGN", 2}, CurrencyInfo{"NIO", 2}, CurrencyInfo{"NOK", 2}, CurrencyInfo{"NPR", 2},
    CurrencyInfo{"NZD", 2}, CurrencyInfo{"OMR", 3}, CurrencyInfo{"PAB", 2}, CurrencyInfo{"PEN", 2},
    CurrencyInfo{"PGK", 2}, CurrencyInfo{"PHP", 2}, CurrencyInfo{"PKR", 2}, CurrencyInfo{"PLN", 2},
    CurrencyInfo{"PYG", 0}, CurrencyInfo{"QAR", 2}, CurrencyInfo{"RON", 2}, CurrencyInfo{"RSD", 2},
    CurrencyInfo{"RUB", 2}, CurrencyInfo{"RWF", 0}, CurrencyInfo{"SAR", 2}, CurrencyInfo{"SBD", 2},
    CurrencyInfo{"SCR", 2}, CurrencyInfo{"SDG", 2}, CurrencyInfo{"SEK", 2}, CurrencyInfo{"SGD", 2},
    CurrencyInfo{"SHP", 2}, CurrencyInfo{"SLE", 2}, CurrencyInfo{"SOS", 2}, CurrencyInfo{"SRD", 2},
    CurrencyInfo{"SSP", 2}, CurrencyInfo{"STN", 2}, CurrencyInfo{"SVC", 2}, CurrencyInfo{"SYP", 2},
    CurrencyInfo{"SZL", 2}, CurrencyInfo{"THB", 2}, CurrencyInfo{"TJS", 2}, CurrencyInfo{"TMT", 2},
    CurrencyInfo{"TND", 3}, CurrencyInfo{"TOP", 2}, CurrencyInfo{"TRY", 2}, CurrencyInfo{"TTD", 2},
    CurrencyInfo{"TWD", 2}, CurrencyInfo{"TZS", 2}, CurrencyInfo{"UAH", 2}, CurrencyInfo{"UGX", 0},
    CurrencyInfo{"USD", 2}, CurrencyInfo{"USN", 2}, CurrencyInfo{"UYI", 0}, CurrencyInfo{"UYU", 2},
    CurrencyInfo{"UYW", 4}, CurrencyInfo{"UZS", 2}, CurrencyInfo{"VED", 2}, CurrencyInfo{"VES", 2},
    CurrencyInfo{"VND", 0}, CurrencyInfo{"VUV", 0}, CurrencyInfo{"WST", 2}, CurrencyInfo{"XAD", 2},
    CurrencyInfo{"XAF", 0}, CurrencyInfo{"XCD", 2}, CurrencyInfo{"XCG", 2}, CurrencyInfo{"XOF", 0},
    CurrencyInfo{"XPF", 0}, CurrencyInfo{"YER", 2}, CurrencyInfo{"ZAR", 2}, CurrencyInfo{"ZMW", 2},
    CurrencyInfo{"ZWG", 2},
};

constexpr bool by_code(const CurrencyInfo& a, const CurrencyInfo& b) {
  return a.code < b.code;
}

constexpr bool strictly_sorted() {
  for (std::size_t i = 1; i < currencies.size(); ++i) {
    if (!by_code(currencies[i - 1], currencies[i])) return false;
  }
  return true;
}

static_assert(strictly_sorted(), "currency table must be sorted by code without duplicates");

}  // namespace

int currency_exponent(std::string_view code) {
  const auto it = std::lower_bound(currencies.begin(), currencies.end(), CurrencyInfo{code, 0}, by_code);
  if (it == currencies.end() || it->code != code) return -1;
  return it->exponent;
}

bool is_currency(std::string_view code) {
  return currency_exponent(code) >= 0;
}

std::span<const CurrencyInfo> all_currencies() {
  return currencies;
}

}  // namespace sluice
