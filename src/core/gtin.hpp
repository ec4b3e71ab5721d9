// Validation of GS1 trade item numbers (GTIN-8, -12, -13, -14) as they appear in supplier feeds.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice {

// GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN/JAN/ISBN-13), GTIN-14 (ITF-14): digits only, length 8/12/13/14, and the
// GS1 mod-10 check digit must match. Returns std::nullopt when valid, else a message for people that does not
// repeat the value, e.g. "check digit is 3, expected 2", "has 11 digits; a GTIN has 8, 12, 13 or 14",
// "contains 'E': looks like a number mangled by a spreadsheet (scientific notation)" for "8.84777E+11",
// "contains a non-digit ('-' at position 3)". Positions are 0-based. Whitespace is not trimmed.
std::optional<std::string> gtin_error(std::string_view text);

}  // namespace sluice
