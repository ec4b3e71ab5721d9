// Image signature and dimension sniffing for JPEG, PNG, GIF and WebP.
#include "clients/image_sniff.hpp"

#include <cstddef>

#include "clients/byte_reader.hpp"

namespace sluice {

namespace {

using bytes::at;
using bytes::be16;
using bytes::be32;
using bytes::le16;
using bytes::le24;
using bytes::le32;

ImageInfo make(ImageFormat format) {
  return ImageInfo{format, mime_type(format), 0, 0};
}

ImageInfo sniff_jpeg(std::string_view b) {
  ImageInfo info = make(ImageFormat::jpeg);
  std::size_t i = 2;
  while (i + 1 < b.size()) {
    if (at(b, i) != 0xff) return info;
    // Any number of 0xFF fill bytes may precede a marker.
    while (i < b.size() && at(b, i) == 0xff) ++i;
    if (i >= b.size()) return info;
    const std::uint32_t marker = at(b, i++);
    // Markers without a length field: TEM, RST0-7, SOI, EOI.
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      if (marker == 0xd9) return info;
      continue;
    }
    if (i + 2 > b.size()) return info;
    const std::uint32_t length = be16(b, i);
    if (length < 2) return info;
    // SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    const bool frame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    if (frame) {
      if (length < 7 || i + 7 > b.size()) return info;
      info.height = be16(b, i + 3);
      info.width = be16(b, i + 5);
      return info;
    }
    if (marker == 0xda) return info;  // start of scan: entropy-coded data follows, no SOF seen
    i += length;
  }
  return info;
}

ImageInfo sniff_png(std::string_view b) {
  ImageInfo info = make(ImageFormat::png);
  if (b.size() >= 24 && b.substr(12, 4) == "IHDR") {
    info.width = be32(b, 16);
    info.height = be32(b, 20);
  }
  return info;
}

ImageInfo sniff_gif(std::string_view b) {
  ImageInfo info = make(ImageFormat::gif);
  if (b.size() >= 10) {
    info.width = le16(b, 6);
    info.height = le16(b, 8);
  }
  return info;
}

ImageInfo sniff_webp(std::string_view b) {
  ImageInfo info = make(ImageFormat::webp);
  if (b.size() < 20) return info;
  const auto chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height with 2 scale bits.
    if (b.size() >= 30 && at(b, 23) == 0x9d && at(b, 24) == 0x01 && at(b, 25) == 0x2a) {
      info.width = le16(b, 26) & 0x3fff;
      info.height = le16(b, 28) & 0x3fff;
    }
  } else if (chunk == "VP8L") {
    // Signature 0x2F, then width-1 and height-1 in 14 bits each, little-endian bit order.
    if (b.size() >= 25 && at(b, 20) == 0x2f) {
      const std::uint32_t bits = le32(b, 21);
      info.width = (bits & 0x3fff) + 1;
      info.height = ((bits >> 14) & 0x3fff) + 1;
    }
  } else if (chunk == "VP8X") {
    // Flags (1 byte), reserved (3), canvas width-1 (24 bits), canvas height-1 (24 bits).
    if (b.size() >= 30) {
      info.width = le24(b, 24) + 1;
      info.height = le24(b, 27) + 1;
    }
  }
  return info;
}

}  // namespace

std::string_view to_string(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "jpeg";
    case ImageFormat::png:
      return "png";
    case ImageFormat::gif:
      return "gif";
    case ImageFormat::webp:
      return "webp";
    case ImageFormat::unknown:
      break;
  }
  return "unknown";
}

std::string_view mime_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "image/jpeg";
    case ImageFormat::png:
      return "image/png";
    case ImageFormat::gif:
      return "image/gif";
    case ImageFormat::webp:
      return "image/webp";
    case ImageFormat::unknown:
      break;
  }
  return {};
}

ImageInfo sniff_image(std::string_view b) {
  if (b.size() >= 3 && at(b, 0) == 0xff && at(b, 1) == 0xd8 && at(b, 2) == 0xff) {
    return sniff_jpeg(b);
  }
  if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) return sniff_png(b);
  if (b.size() >= 6 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) return sniff_gif(b);
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return sniff_webp(b);
  return {};
}

}  // namespace sluice
