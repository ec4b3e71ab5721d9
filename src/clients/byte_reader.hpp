// Unsigned big- and little-endian integers read from a byte string, for the image container walkers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::bytes {

// The caller checks the bounds: each reads the bytes at [i, i + width).
inline std::uint32_t at(std::string_view b, std::size_t i) {
  return static_cast<unsigned char>(b[i]);
}
inline std::uint32_t be16(std::string_view b, std::size_t i) {
  return at(b, i) << 8 | at(b, i + 1);
}
inline std::uint32_t le16(std::string_view b, std::size_t i) {
  return at(b, i) | at(b, i + 1) << 8;
}
inline std::uint32_t le24(std::string_view b, std::size_t i) {
  return le16(b, i) | at(b, i + 2) << 16;
}
inline std::uint32_t be32(std::string_view b, std::size_t i) {
  return be16(b, i) << 16 | be16(b, i + 2);
}
inline std::uint32_t le32(std::string_view b, std::size_t i) {
  return le16(b, i) | le16(b, i + 2) << 16;
}

}  // namespace sluice::bytes
