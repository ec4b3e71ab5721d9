// GTIN checks: character set, length and the GS1 mod-10 check digit, with messages that point at the likely cause.
#include "core/gtin.hpp"

namespace sluice {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_valid_length(std::size_t length) {
  return length == 8 || length == 12 || length == 13 || length == 14;
}

std::string describe(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  if (c == ' ') return "a space";
  if (c < 0x20 || c >= 0x7f) {
    constexpr char hex[] = "0123456789abcdef";
    return std::string("byte 0x") + hex[c >> 4] + hex[c & 0xf];
  }
  return std::string("'") + static_cast<char>(c) + "'";
}

// GS1 mod-10 over the digits before the check digit: weights 3 and 1 alternate starting with 3 at the rightmost
// digit. Counting from the right is what lets one rule serve every length, and why leading zeros never matter.
int check_digit_for(std::string_view payload) {
  int sum = 0;
  int weight = 3;
  for (auto it = payload.rbegin(); it != payload.rend(); ++it) {
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10;
}

bool check_digit_matches(std::string_view digits) {
  return check_digit_for(digits.substr(0, digits.size() - 1)) == digits.back() - '0';
}

// Spreadsheets turn long digit strings into numbers and then print them as "8.84777E+11". The digits are
// gone, so the only useful message names the cause.
bool looks_like_scientific_notation(std::string_view text) {
  bool has_exponent = false;
  bool has_digit = false;
  for (const char c : text) {
    if (c == 'E' || c == 'e') {
      has_exponent = true;
    } else if (is_digit(c)) {
      has_digit = true;
    } else if (c != '.' && c != ',' && c != '+' && c != '-') {
      return false;
    }
  }
  return has_exponent && has_digit;
}

}  // namespace

std::optional<std::string> gtin_error(std::string_view text) {
  if (text.empty()) return "is empty";
  if (looks_like_scientific_notation(text)) {
    const char e = text[text.find_first_of("Ee")];
    return std::string("contains '") + e + "': looks like a number mangled by a spreadsheet (scientific notation)";
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_digit(text[i])) {
      return "contains a non-digit (" + describe(text[i]) + " at position " + std::to_string(i) + ")";
    }
  }
  if (!is_valid_length(text.size())) {
    std::string message = "has " + std::to_string(text.size()) + (text.size() == 1 ? " digit" : " digits") +
                          "; a GTIN has 8, 12, 13 or 14";
    // A UPC-A that went through a spreadsheet as a number loses its leading zeros. Zeros add nothing to the
    // check digit sum, so if the short form checks out, the padded one is valid too and worth suggesting.
    if (text.size() >= 9 && text.size() <= 11 && check_digit_matches(text)) {
      message += " (leading zeros may have been lost: " + std::string(12 - text.size(), '0') + std::string(text) +
                 " would be valid)";
    }
    return message;
  }
  const int expected = check_digit_for(text.substr(0, text.size() - 1));
  const int actual = text.back() - '0';
  if (actual != expected) {
    return "check digit is " + std::to_string(actual) + ", expected " + std::to_string(expected);
  }
  return std::nullopt;
}

}  // namespace sluice
