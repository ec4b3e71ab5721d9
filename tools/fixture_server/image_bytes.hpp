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
// Layout: header, filler, trailer, cut to spec.size; when the header and trailer do not both fit,
// the body is just the first spec.size bytes of header + filler. An endless body has no trailer.
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
  std::string header_;
  std::string trailer_;
  std::uint64_t size_;
  bool endless_;
  bool avoid_ff_;  // inside JPEG scan data a 0xFF byte would start a marker
  std::uint64_t seed_;
};

}  // namespace sluice::fixture
