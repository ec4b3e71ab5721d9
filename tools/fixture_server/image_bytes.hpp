// Deterministic image bodies: a real JPEG/PNG/GIF/WebP header declaring the size, then filler bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::fixture {

enum class ImageFormat { kJpeg, kPng, kGif, kWebp };

// "jpg" (or "jpeg"), "png", "gif", "webp"; nullopt otherwise.
std::optional<ImageFormat> image_format_from_extension(std::string_view ext);
std::string_view image_content_type(ImageFormat format);

inline constexpr std::uint32_t kMaxImageSide = 65535;  // the JPEG and GIF headers store 16-bit sides
inline constexpr std::uint64_t kMaxImageSize = std::uint64_t{1} << 40;

struct ImageSpec {
  std::string name;  // the file name with its extension, e.g. "a.jpg"; seeds the filler
  ImageFormat format = ImageFormat::kJpeg;
  std::uint32_t width = 64;
  std::uint32_t height = 48;
  std::uint64_t size = 2048;  // total body bytes
  std::string version;        // the `v` parameter: a new version has new bytes and a new ETag
};

// The format's header declaring width x height (before truncation to spec.size).
std::string image_header(const ImageSpec& spec);
// What closes the file (JPEG EOI, PNG IEND, GIF trailer); empty for WebP, whose RIFF size frames it.
std::string_view image_trailer(ImageFormat format);

// A quoted strong entity tag derived from name, size, width, height and version.
std::string image_etag(const ImageSpec& spec);

// 64-bit FNV-1a, the hash behind ETags and filler seeds.
std::uint64_t fnv1a64(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL);
// SplitMix64 finaliser: turns consecutive counters into well-mixed values.
std::uint64_t mix64(std::uint64_t x);

// Random access to the body bytes, so huge or endless bodies are produced piecewise while sending.
// Layout: header, filler, trailer, cut to spec.size, and structurally valid to the last byte: PNG
// filler is IDAT chunks with their CRCs, GIF filler the image's data sub-blocks, WebP filler one
// "VP8 " chunk (pixels are not decodable). When the header, the framing and the trailer do not all
// fit, the body is just the first spec.size bytes of header + filler: a cut image. An endless body
// has no trailer.
class ImageBody {
 public:
  ImageBody(const ImageSpec& spec, bool endless);

  // nullopt when endless.
  std::optional<std::uint64_t> size() const;
  // Copies up to n bytes starting at offset; returns how many (0 at the end).
  std::size_t read(std::uint64_t offset, char* out, std::size_t n) const;
  // The whole body as a string (for small bodies and tests).
  std::string bytes() const;

 private:
  static constexpr std::uint64_t kPngData = 4096;  // data bytes per full IDAT chunk
  struct PngChunk {
    std::uint64_t start;   // filler offset of its length field
    std::uint64_t length;  // data bytes
  };

  unsigned char raw(std::uint64_t index) const;
  PngChunk png_chunk(std::uint64_t q) const;
  std::uint32_t png_crc(const PngChunk& chunk) const;
  unsigned char gif_byte(std::uint64_t q) const;

  std::string header_;
  std::string trailer_;
  std::uint64_t size_;
  bool endless_;
  ImageFormat format_;
  std::uint64_t filler_ = 0;  // filler bytes between header and trailer; UINT64_MAX when unframed
  std::uint64_t seed_;
};

}  // namespace sluice::fixture
