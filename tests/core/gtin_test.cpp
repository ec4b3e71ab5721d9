// Tests for sluice::gtin_error: valid codes of every length, and each kind of rejection with its message.
#include "core/gtin.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

namespace sluice {
namespace {

// Reference check digit, written independently of the implementation: weights 1,3,1,3... from the left of the
// zero-padded 17-digit payload (the GS1 table for an 18-digit code), which equals 3,1,... from the right.
int ref_check_digit(std::string_view payload) {
  const std::string padded = std::string(17 - payload.size(), '0') + std::string(payload);
  int sum = 0;
  for (std::size_t i = 0; i < padded.size(); ++i) sum += (padded[i] - '0') * (i % 2 == 0 ? 3 : 1);
  return (10 - sum % 10) % 10;
}

TEST(Gtin, KnownValidCodes) {
  for (const char* code : {"96385074", "036000291452", "4006381333931", "0884776536846", "9780306406157",
                           "5901234123457", "10614141000415", "00000000"}) {
    const auto error = gtin_error(code);
    EXPECT_FALSE(error.has_value()) << code << ": " << error.value_or("");
  }
}

TEST(Gtin, WrongCheckDigit) {
  EXPECT_EQ(gtin_error("0884776536842"), "check digit is 2, expected 6");
  EXPECT_EQ(gtin_error("4006381333932"), "check digit is 2, expected 1");
  EXPECT_EQ(gtin_error("96385070"), "check digit is 0, expected 4");
  EXPECT_EQ(gtin_error("036000291453"), "check digit is 3, expected 2");
  EXPECT_EQ(gtin_error("10614141000419"), "check digit is 9, expected 5");
  // Swapped neighbours with different weights change the sum; a classic keying error.
  EXPECT_EQ(gtin_error("4006381339331"), "check digit is 1, expected 9");
}

TEST(Gtin, WrongLengths) {
  EXPECT_EQ(gtin_error("1"), "has 1 digit; a GTIN has 8, 12, 13 or 14");
  EXPECT_EQ(gtin_error("1234567"), "has 7 digits; a GTIN has 8, 12, 13 or 14");
  EXPECT_EQ(gtin_error("123456789"), "has 9 digits; a GTIN has 8, 12, 13 or 14");
  EXPECT_EQ(gtin_error("123456789012345"), "has 15 digits; a GTIN has 8, 12, 13 or 14");
  EXPECT_EQ(gtin_error(std::string(40, '1')), "has 40 digits; a GTIN has 8, 12, 13 or 14");
  // A UPC-A whose leading zero a spreadsheet dropped: say what the restored code would be.
  EXPECT_EQ(
      gtin_error("36000291452"),
      "has 11 digits; a GTIN has 8, 12, 13 or 14 (leading zeros may have been lost: 036000291452 would be valid)");
  EXPECT_EQ(gtin_error("36000291453"), "has 11 digits; a GTIN has 8, 12, 13 or 14");
}

TEST(Gtin, NonDigits) {
  EXPECT_EQ(gtin_error("400638-333931"), "contains a non-digit ('-' at position 6)");
  EXPECT_EQ(gtin_error(" 4006381333931"), "contains a non-digit (a space at position 0)");
  EXPECT_EQ(gtin_error("4006381333931\n"), "contains a non-digit (byte 0x0a at position 13)");
  EXPECT_EQ(gtin_error("ABCDEFGH"), "contains a non-digit ('A' at position 0)");
  EXPECT_EQ(gtin_error("4006381333931.0"), "contains a non-digit ('.' at position 13)");
  EXPECT_EQ(gtin_error("\xef\xbc\x94"), "contains a non-digit (byte 0xef at position 0)");  // fullwidth 4
  // A lone 'E' without digits, or with other letters, is not scientific notation.
  EXPECT_EQ(gtin_error("E"), "contains a non-digit ('E' at position 0)");
  EXPECT_EQ(gtin_error("12E4X"), "contains a non-digit ('E' at position 2)");
}

TEST(Gtin, ScientificNotation) {
  const std::string message = "contains 'E': looks like a number mangled by a spreadsheet (scientific notation)";
  EXPECT_EQ(gtin_error("8.84777E+11"), message);
  EXPECT_EQ(gtin_error("4.00638E+12"), message);
  EXPECT_EQ(gtin_error("4,00638E+12"), message);
  EXPECT_EQ(gtin_error("1E+13"), message);
  EXPECT_EQ(gtin_error("8.84777e+11"),
            "contains 'e': looks like a number mangled by a spreadsheet (scientific notation)");
}

TEST(Gtin, Empty) {
  EXPECT_EQ(gtin_error(""), "is empty");
}

TEST(Gtin, CheckDigitProperty) {
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<int> digit(0, 9);
  for (const std::size_t payload_length : {7u, 11u, 12u, 13u}) {
    for (int i = 0; i < 5000; ++i) {
      std::string payload;
      for (std::size_t j = 0; j < payload_length; ++j) payload += static_cast<char>('0' + digit(rng));
      const int check = ref_check_digit(payload);
      for (int last = 0; last <= 9; ++last) {
        const std::string code = payload + static_cast<char>('0' + last);
        const auto error = gtin_error(code);
        if (last == check) {
          ASSERT_FALSE(error.has_value()) << code << ": " << *error;
        } else {
          ASSERT_TRUE(error.has_value()) << code;
          ASSERT_EQ(*error, "check digit is " + std::to_string(last) + ", expected " + std::to_string(check)) << code;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice
