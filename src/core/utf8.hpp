// Well-formed UTF-8 (Unicode 15, table 3-7), one sequence at a time.
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice {

// The sequence that starts at text[i]: its length (1 to 4) when it is well-formed, 0 when the bytes there are
// ill-formed (a stray continuation byte, an overlong form, a surrogate, a code point above U+10FFFF), and -1
// when they begin a well-formed sequence that the end of text cuts off. Inline: the CSV reader calls it for
// every non-ASCII character.
inline int utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  int length = 0;
  unsigned char low = 0x80;  // the second byte's range also rules out overlongs, surrogates and > U+10FFFF
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  for (int k = 1; k < length; ++k) {
    if (i + static_cast<std::size_t>(k) >= text.size()) return -1;
    const unsigned char b = byte(i + static_cast<std::size_t>(k));
    if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF)) return 0;
  }
  return length;
}

}  // namespace sluice
