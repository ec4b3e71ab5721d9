// Structural validation of JPEG, PNG, GIF and WebP bodies, to their last byte.
#include "clients/image_validate.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>

#include "clients/byte_reader.hpp"

namespace sluice {

namespace {

using bytes::at;
using bytes::be16;
using bytes::be32;
using bytes::le32;

std::string hex_byte(std::uint32_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", value & 0xffU);
  return text;
}

// A chunk or FourCC name for a message, with anything unprintable escaped.
std::string fourcc(std::string_view name) {
  std::string out = "'";
  for (char c : name) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      out += "\\x" + hex_byte(static_cast<unsigned char>(c)).substr(2);
    }
  }
  return out + "'";
}

struct Problem {
  std::string text;
  bool truncated = false;
};

using Result = std::optional<Problem>;

Problem truncated(std::string text) {
  return Problem{std::move(text), true};
}
Problem corrupt(std::string text) {
  return Problem{std::move(text), false};
}

// What follows the end of the image: nothing, or NUL padding.
Result check_tail(std::string_view b, std::size_t end, const char* format, const char* what) {
  for (std::size_t i = end; i < b.size(); ++i) {
    if (b[i] != '\0') {
      return corrupt(std::to_string(b.size() - end) + " bytes of other data after the " + format + " " + what);
    }
  }
  return std::nullopt;
}

bool jpeg_frame_marker(std::uint32_t m) {
  return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

Result check_jpeg(std::string_view b) {
  const std::size_t n = b.size();
  const auto* data = reinterpret_cast<const unsigned char*>(b.data());
  const Problem no_eoi = truncated("truncated JPEG: no end-of-image marker");
  bool frame = false;
  bool scan = false;
  std::size_t i = 2;
  for (;;) {
    if (i >= n) return no_eoi;
    if (data[i] != 0xff) return corrupt("corrupt JPEG: expected a marker at byte " + std::to_string(i));
    while (i < n && data[i] == 0xff) ++i;  // fill bytes
    if (i >= n) return no_eoi;
    const std::uint32_t marker = data[i++];
    if (marker == 0xd9) break;
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;  // TEM, RSTn: no length
    if (marker < 0xc0 || marker == 0xd8) {
      return corrupt("corrupt JPEG: invalid marker " + hex_byte(marker) + " at byte " + std::to_string(i - 1));
    }
    if (i + 2 > n) return no_eoi;
    const std::size_t length = be16(b, i);
    if (length < 2)
      return corrupt("corrupt JPEG: segment length " + std::to_string(length) + " at byte " + std::to_string(i));
    if (length > n - i) return truncated("truncated JPEG: segment " + hex_byte(marker) + " runs past the end");
    if (jpeg_frame_marker(marker)) frame = true;
    i += length;
    if (marker != 0xda) continue;
    if (!frame) return corrupt("corrupt JPEG: scan before any frame header");
    scan = true;
    // Entropy-coded data: a 0xFF is either stuffed (FF 00), a restart marker, or the next marker.
    for (;;) {
      const void* ff = i < n ? std::memchr(data + i, 0xff, n - i) : nullptr;
      if (ff == nullptr) return no_eoi;
      std::size_t j = static_cast<std::size_t>(static_cast<const unsigned char*>(ff) - data) + 1;
      while (j < n && data[j] == 0xff) ++j;
      if (j >= n) return no_eoi;
      if (data[j] == 0x00 || (data[j] >= 0xd0 && data[j] <= 0xd7)) {
        i = j + 1;
        continue;
      }
      i = j - 1;
      break;
    }
  }
  if (!frame) return corrupt("corrupt JPEG: no frame header (no width and height)");
  if (!scan) return corrupt("corrupt JPEG: no image data (no scan)");
  return check_tail(b, i, "JPEG", "end-of-image marker");
}

Result check_png(std::string_view b) {
  const std::size_t n = b.size();
  std::size_t i = 8;
  bool first = true;
  bool data = false;
  for (;;) {
    if (i >= n) return truncated("truncated PNG: no IEND chunk");
    if (n - i < 12) return truncated("truncated PNG: chunk at byte " + std::to_string(i) + " runs past the end");
    const std::size_t length = be32(b, i);
    const std::string_view type = b.substr(i + 4, 4);
    if (length > 0x7fffffffU)
      return corrupt("corrupt PNG: chunk length " + std::to_string(length) + " at byte " + std::to_string(i));
    if (length > n - i - 12) {
      return truncated("truncated PNG: chunk " + fourcc(type) + " at byte " + std::to_string(i) + " runs past the end");
    }
    for (char c : type) {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return corrupt("corrupt PNG: invalid chunk type " + fourcc(type) + " at byte " + std::to_string(i));
      }
    }
    const auto crc =
        crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(b.data() + i + 4), static_cast<uInt>(length + 4));
    if (crc != be32(b, i + 8 + length)) {
      return corrupt("corrupt PNG: CRC mismatch in chunk " + fourcc(type) + " at byte " + std::to_string(i));
    }
    if (first && (type != "IHDR" || length != 13)) return corrupt("corrupt PNG: the first chunk is not IHDR");
    first = false;
    if (type == "IDAT") data = true;
    i += 12 + length;
    if (type == "IEND") break;
  }
  if (!data) return corrupt("corrupt PNG: no image data (no IDAT chunk)");
  return check_tail(b, i, "PNG", "IEND chunk");
}

Result check_gif(std::string_view b) {
  const std::size_t n = b.size();
  const Problem no_trailer = truncated("truncated GIF: no trailer");
  auto table_size = [](std::uint32_t flags) -> std::size_t {
    return (flags & 0x80) != 0 ? std::size_t{3} << ((flags & 7) + 1) : 0;
  };
  if (n < 13) return no_trailer;
  std::size_t i = 13 + table_size(at(b, 10));
  // Data sub-blocks: a length byte, that many bytes, until a zero length.
  auto skip_sub_blocks = [&]() {
    for (;;) {
      if (i >= n) return false;
      const std::size_t length = at(b, i++);
      if (length == 0) return true;
      if (length > n - i) return false;
      i += length;
    }
  };
  bool image = false;
  for (;;) {
    if (i >= n) return no_trailer;
    const std::uint32_t block = at(b, i++);
    if (block == 0x3b) break;
    if (block == 0x21) {  // extension: label, then sub-blocks
      if (i >= n) return no_trailer;
      ++i;
      if (!skip_sub_blocks()) return no_trailer;
    } else if (block == 0x2c) {  // image descriptor, optional local colour table, LZW code size, data
      if (n - i < 9) return no_trailer;
      const std::uint32_t flags = at(b, i + 8);
      i += 9;
      const std::size_t table = table_size(flags);
      if (table >= n - i) return no_trailer;
      i += table + 1;
      if (!skip_sub_blocks()) return no_trailer;
      image = true;
    } else {
      return corrupt("corrupt GIF: unknown block " + hex_byte(block) + " at byte " + std::to_string(i - 1));
    }
  }
  if (!image) return corrupt("corrupt GIF: no image");
  return check_tail(b, i, "GIF", "trailer");
}

Result check_webp(std::string_view b) {
  const std::size_t n = b.size();
  const std::size_t riff = le32(b, 4);
  if (riff < 4) return corrupt("corrupt WebP: RIFF size " + std::to_string(riff));
  if (riff > n - 8) {
    return truncated("truncated WebP: the RIFF size says " + std::to_string(riff + 8) + " bytes, the body has " +
                     std::to_string(n));
  }
  const std::size_t end = riff + 8;
  std::size_t i = 12;
  bool image = false;
  while (i < end) {
    if (end - i < 8)
      return corrupt("corrupt WebP: chunk header at byte " + std::to_string(i) + " runs past the RIFF size");
    const std::string_view name = b.substr(i, 4);
    const std::size_t size = le32(b, i + 4);
    if (i == 12 && name != "VP8 " && name != "VP8L" && name != "VP8X") {
      return corrupt("corrupt WebP: the first chunk is " + fourcc(name) + ", not VP8, VP8L or VP8X");
    }
    const std::size_t padded = size + (size & 1);
    if (padded > end - i - 8) {
      return corrupt("corrupt WebP: chunk " + fourcc(name) + " at byte " + std::to_string(i) +
                     " runs past the RIFF size");
    }
    if (name == "VP8 " || name == "VP8L" || name == "ANMF") image = true;
    i += 8 + padded;
  }
  if (!image) return corrupt("corrupt WebP: no image data (no VP8, VP8L or ANMF chunk)");
  return check_tail(b, end, "WebP", "RIFF container");
}

}  // namespace

ImageCheck validate_image(std::string_view bytes) {
  ImageCheck check;
  check.image = sniff_image(bytes);
  Result problem;
  switch (check.image.format) {
    case ImageFormat::jpeg:
      problem = check_jpeg(bytes);
      break;
    case ImageFormat::png:
      problem = check_png(bytes);
      break;
    case ImageFormat::gif:
      problem = check_gif(bytes);
      break;
    case ImageFormat::webp:
      problem = check_webp(bytes);
      break;
    case ImageFormat::unknown:
      check.problem = "not an image (bytes do not match JPEG, PNG, GIF or WebP)";
      return check;
  }
  if (problem) {
    check.problem = std::move(problem->text);
    check.truncated = problem->truncated;
  } else if (check.image.width == 0 || check.image.height == 0) {
    static const char* const names[] = {"", "JPEG", "PNG", "GIF", "WebP"};
    check.problem = std::string("corrupt ") + names[static_cast<int>(check.image.format)] + ": width or height is 0";
  }
  return check;
}

}  // namespace sluice
