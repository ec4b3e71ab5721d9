// Recognises JPEG, PNG, GIF and WebP from their leading bytes and reads the pixel dimensions.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

enum class ImageFormat { unknown, jpeg, png, gif, webp };

struct ImageInfo {
  ImageFormat format = ImageFormat::unknown;
  std::string_view mime;    // "image/jpeg", ...; empty when unknown (points to a string literal)
  std::uint32_t width = 0;  // 0 when the header that carries it is missing or truncated
  std::uint32_t height = 0;

  bool is_image() const { return format != ImageFormat::unknown; }
};

std::string_view to_string(ImageFormat format);  // "jpeg", "png", "gif", "webp", "unknown"
std::string_view mime_type(ImageFormat format);

// The format comes from the signature alone; width and height from JPEG SOF0-15 (the first frame
// header before the scan data), PNG IHDR, the GIF logical screen descriptor, or the WebP VP8, VP8L
// or VP8X chunk. Only the first few kilobytes matter except for JPEG, whose SOF may follow large
// metadata segments. Never reads past bytes.size().
ImageInfo sniff_image(std::string_view bytes);

}  // namespace sluice
