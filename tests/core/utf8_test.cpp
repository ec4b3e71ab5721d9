// utf8_sequence at the edges of Unicode's table of well-formed byte sequences, checked against an exhaustive
// decode of every code point.
#include "core/utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace sluice {
namespace {

using namespace std::string_literals;

TEST(Utf8Sequence, LengthsOfWellFormedSequences) {
  EXPECT_EQ(utf8_sequence("a", 0), 1);
  EXPECT_EQ(utf8_sequence("\0"s, 0), 1);
  EXPECT_EQ(utf8_sequence("\xC2\x80", 0), 2);          // U+0080
  EXPECT_EQ(utf8_sequence("\xDF\xBF", 0), 2);          // U+07FF
  EXPECT_EQ(utf8_sequence("\xE0\xA0\x80", 0), 3);      // U+0800
  EXPECT_EQ(utf8_sequence("\xED\x9F\xBF", 0), 3);      // U+D7FF
  EXPECT_EQ(utf8_sequence("\xEE\x80\x80", 0), 3);      // U+E000
  EXPECT_EQ(utf8_sequence("\xF0\x90\x80\x80", 0), 4);  // U+10000
  EXPECT_EQ(utf8_sequence("\xF4\x8F\xBF\xBF", 0), 4);  // U+10FFFF
  EXPECT_EQ(utf8_sequence("ab\xC3\xA9", 2), 2);        // from an offset
}

TEST(Utf8Sequence, IllFormedIsZero) {
  for (const char* bad : {"\x80", "\xBF", "\xC0\xAF", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xF0\x8F\xBF\xBF",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF",
                          "\xC3"
                          "a",
                          "\xE2\x82"
                          "a"}) {
    EXPECT_EQ(utf8_sequence(bad, 0), 0) << bad;
  }
}

TEST(Utf8Sequence, CutOffByTheEndIsMinusOneButOnlyWhenWhatIsThereFits) {
  EXPECT_EQ(utf8_sequence("\xC3", 0), -1);
  EXPECT_EQ(utf8_sequence("\xE2\x82", 0), -1);
  EXPECT_EQ(utf8_sequence("\xF0\x9F\x98", 0), -1);
  EXPECT_EQ(utf8_sequence("\xE0\x80", 0), 0);  // overlong already at the second byte
  EXPECT_EQ(utf8_sequence("\xED\xA0", 0), 0);  // a surrogate already at the second byte
}

std::string encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

TEST(Utf8Sequence, EveryCodePointButTheSurrogatesIsWellFormed) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string bytes = encode(cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(utf8_sequence(bytes, 0), surrogate ? 0 : static_cast<int>(bytes.size()))
        << std::hex << static_cast<std::uint32_t>(cp);
    if (bytes.size() > 1 && !surrogate) {
      ASSERT_EQ(utf8_sequence(bytes.substr(0, bytes.size() - 1), 0), -1) << std::hex << static_cast<std::uint32_t>(cp);
    }
  }
}

}  // namespace
}  // namespace sluice
