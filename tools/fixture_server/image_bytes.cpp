// Image headers written byte by byte from the format specifications, plus seeded filler.
#include "fixture_server/image_bytes.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace sluice::fixture {
namespace {

void put_be16(std::string& s, std::uint32_t v) {
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
  s.push_back(static_cast<char>(v & 0xFF));
}

void put_be32(std::string& s, std::uint32_t v) {
  put_be16(s, v >> 16);
  put_be16(s, v & 0xFFFF);
}

void put_le16(std::string& s, std::uint32_t v) {
  s.push_back(static_cast<char>(v & 0xFF));
  s.push_back(static_cast<char>((v >> 8) & 0xFF));
}

void put_le24(std::string& s, std::uint32_t v) {
  put_le16(s, v & 0xFFFF);
  s.push_back(static_cast<char>((v >> 16) & 0xFF));
}

void put_le32(std::string& s, std::uint32_t v) {
  put_le16(s, v & 0xFFFF);
  put_le16(s, v >> 16);
}

void put_bytes(std::string& s, std::initializer_list<unsigned> bytes) {
  for (unsigned b : bytes) s.push_back(static_cast<char>(b));
}

std::uint32_t crc32(std::string_view data) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFU;
  for (char ch : data) c = table[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

// SOI, a JFIF APP0 segment, a baseline SOF0 frame header (3 components) and a scan header, so
// decoders and dimension sniffers find the frame size where they look for it.
std::string jpeg_header(std::uint32_t w, std::uint32_t h) {
  std::string s;
  put_bytes(s, {0xFF, 0xD8});
  put_bytes(s,
            {0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00});
  put_bytes(s, {0xFF, 0xC0, 0x00, 0x11, 0x08});
  put_be16(s, h);
  put_be16(s, w);
  put_bytes(s, {0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01});
  put_bytes(s, {0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00});
  return s;
}

// Signature and IHDR (8-bit truecolour) with its CRC.
std::string png_header(std::uint32_t w, std::uint32_t h) {
  std::string s;
  put_bytes(s, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
  put_be32(s, 13);
  std::string chunk = "IHDR";
  put_be32(chunk, w);
  put_be32(chunk, h);
  put_bytes(chunk, {8, 2, 0, 0, 0});
  s += chunk;
  put_be32(s, crc32(chunk));
  return s;
}

// GIF89a logical screen descriptor without a global colour table, then one image descriptor and
// the LZW minimum code size; the filler forms the image's data sub-blocks.
std::string gif_header(std::uint32_t w, std::uint32_t h) {
  std::string s = "GIF89a";
  put_le16(s, w);
  put_le16(s, h);
  put_bytes(s, {0x00, 0x00, 0x00});
  put_bytes(s, {0x2C, 0x00, 0x00, 0x00, 0x00});
  put_le16(s, w);
  put_le16(s, h);
  put_bytes(s, {0x00, 0x02});
  return s;
}

// RIFF/WEBP with a VP8X chunk: canvas width and height minus one, 24 bits each.
std::string webp_header(std::uint32_t w, std::uint32_t h, std::uint64_t total) {
  std::string s = "RIFF";
  // RIFF chunks are padded to even sizes: an odd total ends in a NUL after the container.
  const std::uint64_t riff = total >= 8 ? (total - 8) & ~std::uint64_t{1} : 0;
  put_le32(s, static_cast<std::uint32_t>(std::min<std::uint64_t>(riff, 0xFFFFFFFEULL)));
  s += "WEBPVP8X";
  put_le32(s, 10);
  put_bytes(s, {0x00, 0x00, 0x00, 0x00});
  put_le24(s, w - 1);
  put_le24(s, h - 1);
  return s;
}

}  // namespace

std::optional<ImageFormat> image_format_from_extension(std::string_view ext) {
  if (ext == "jpg" || ext == "jpeg") return ImageFormat::kJpeg;
  if (ext == "png") return ImageFormat::kPng;
  if (ext == "gif") return ImageFormat::kGif;
  if (ext == "webp") return ImageFormat::kWebp;
  return std::nullopt;
}

std::string_view image_content_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "image/jpeg";
    case ImageFormat::kPng:
      return "image/png";
    case ImageFormat::kGif:
      return "image/gif";
    case ImageFormat::kWebp:
      return "image/webp";
  }
  return "application/octet-stream";
}

std::string image_header(const ImageSpec& spec) {
  const std::uint32_t w = std::clamp<std::uint32_t>(spec.width, 1, kMaxImageSide);
  const std::uint32_t h = std::clamp<std::uint32_t>(spec.height, 1, kMaxImageSide);
  switch (spec.format) {
    case ImageFormat::kJpeg:
      return jpeg_header(w, h);
    case ImageFormat::kPng:
      return png_header(w, h);
    case ImageFormat::kGif:
      return gif_header(w, h);
    case ImageFormat::kWebp:
      return webp_header(w, h, spec.size);
  }
  return {};
}

std::string_view image_trailer(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return {"\xFF\xD9", 2};
    case ImageFormat::kPng:
      return {"\0\0\0\0IEND\xAE\x42\x60\x82", 12};
    case ImageFormat::kGif:
      return {"\x00\x3B", 2};
    case ImageFormat::kWebp:
      return {};
  }
  return {};
}

std::uint64_t fnv1a64(std::string_view data, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string image_etag(const ImageSpec& spec) {
  // NUL separators keep ("ab", "c") and ("a", "bc") apart.
  std::string key = spec.name;
  key += '\0' + std::to_string(spec.size) + '\0' + std::to_string(spec.width) + '\0' + std::to_string(spec.height) +
         '\0' + spec.version;
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(fnv1a64(key)));
  return buf;
}

ImageBody::ImageBody(const ImageSpec& spec, bool endless)
    : header_(image_header(spec)),
      size_(std::min(spec.size, kMaxImageSize)),
      endless_(endless),
      format_(spec.format),
      seed_(fnv1a64(spec.version, fnv1a64(spec.name))) {
  const std::string_view trailer = image_trailer(spec.format);
  filler_ = UINT64_MAX;
  if (endless_ || size_ < header_.size() + trailer.size()) {
    if (format_ == ImageFormat::kWebp) header_ += std::string("VP8 \xFE\xFF\xFF\x7F", 8);
    return;
  }
  const std::uint64_t filler = size_ - header_.size() - trailer.size();
  // Sizes whose filler cannot be framed as chunks or sub-blocks stay cut images, like tiny ones.
  const std::uint64_t least = format_ == ImageFormat::kPng ? 12 : format_ == ImageFormat::kGif ? 2 : 8;
  if (filler != 0 && filler < least && format_ != ImageFormat::kJpeg) {
    if (format_ == ImageFormat::kWebp) header_ += std::string("VP8 \xFE\xFF\xFF\x7F", 8);
    return;
  }
  trailer_ = std::string(trailer);
  filler_ = filler;
  if (format_ == ImageFormat::kWebp && filler != 0) {
    // One "VP8 " chunk holds the filler; an odd total ends in a NUL after the RIFF container.
    const std::uint64_t payload = filler - 8;
    const std::uint64_t data = payload - (payload & 1);
    header_ += "VP8 ";
    put_le32(header_, static_cast<std::uint32_t>(std::min<std::uint64_t>(data, 0xFFFFFFFEULL)));
    filler_ = data;
    if ((payload & 1) != 0) trailer_ = std::string(1, '\0');
  }
}

std::optional<std::uint64_t> ImageBody::size() const {
  if (endless_) return std::nullopt;
  return size_;
}

unsigned char ImageBody::raw(std::uint64_t index) const {
  const auto b = static_cast<unsigned char>(mix64(seed_ + (index >> 3)) >> ((index & 7) * 8));
  // Inside JPEG scan data a 0xFF byte would start a marker.
  return format_ == ImageFormat::kJpeg && b == 0xFF ? 0xFE : b;
}

// PNG filler: IDAT chunks of kPngData bytes each; the last one or two chunks take what is left
// (at least 12 bytes, so that every chunk has its length, type and CRC).
ImageBody::PngChunk ImageBody::png_chunk(std::uint64_t q) const {
  constexpr std::uint64_t stride = kPngData + 12;
  const std::uint64_t full = filler_ == UINT64_MAX ? UINT64_MAX : (filler_ >= 12 ? (filler_ - 12) / stride : 0);
  if (full == UINT64_MAX || q < full * stride) return PngChunk{q / stride * stride, kPngData};
  const std::uint64_t start = full * stride;
  const std::uint64_t rest = filler_ - start;
  if (rest <= stride) return PngChunk{start, rest - 12};
  if (q - start < rest - 12) return PngChunk{start, rest - 24};
  return PngChunk{start + rest - 12, 0};
}

std::uint32_t ImageBody::png_crc(const PngChunk& chunk) const {
  std::string data = "IDAT";
  data.reserve(4 + chunk.length);
  for (std::uint64_t i = 0; i < chunk.length; ++i) data.push_back(static_cast<char>(raw(chunk.start + 8 + i)));
  return crc32(data);
}

// GIF filler: sub-blocks of 255 bytes after a length byte; the tail is split so that no length
// byte would be 0 (which ends the data).
unsigned char ImageBody::gif_byte(std::uint64_t q) const {
  const std::uint64_t full = filler_ == UINT64_MAX ? UINT64_MAX : (filler_ >= 2 ? (filler_ - 2) / 256 : 0);
  if (full == UINT64_MAX || q < full * 256) return q % 256 == 0 ? 255 : raw(q);
  const std::uint64_t t = q - full * 256;
  const std::uint64_t rest = filler_ - full * 256;
  if (rest == 257) return t == 0 ? 254 : t == 255 ? 1 : raw(q);
  return t == 0 ? static_cast<unsigned char>(rest - 1) : raw(q);
}

std::size_t ImageBody::read(std::uint64_t offset, char* out, std::size_t n) const {
  const std::uint64_t end = endless_ ? UINT64_MAX : size_;
  if (offset >= end) return 0;
  n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end - offset));
  const std::uint64_t trailer_start = end - trailer_.size();
  std::size_t i = 0;
  while (i < n && offset + i < header_.size()) {
    out[i] = header_[offset + i];
    ++i;
  }
  PngChunk crc_chunk{UINT64_MAX, 0};
  std::uint32_t crc = 0;
  for (; i < n && offset + i < trailer_start; ++i) {
    const std::uint64_t q = offset + i - header_.size();
    unsigned char b = 0;
    if (format_ == ImageFormat::kPng) {
      const PngChunk chunk = png_chunk(q);
      const std::uint64_t at = q - chunk.start;
      if (at < 4) {
        b = static_cast<unsigned char>(chunk.length >> (8 * (3 - at)));
      } else if (at < 8) {
        b = static_cast<unsigned char>("IDAT"[at - 4]);
      } else if (at < 8 + chunk.length) {
        b = raw(q);
      } else {
        if (crc_chunk.start != chunk.start) {
          crc_chunk = chunk;
          crc = png_crc(chunk);
        }
        b = static_cast<unsigned char>(crc >> (8 * (3 - (at - 8 - chunk.length))));
      }
    } else if (format_ == ImageFormat::kGif) {
      b = gif_byte(q);
    } else {
      b = raw(q);
    }
    out[i] = static_cast<char>(b);
  }
  for (; i < n; ++i) out[i] = trailer_[offset + i - trailer_start];
  return n;
}

std::string ImageBody::bytes() const {
  std::string out(static_cast<std::size_t>(endless_ ? 0 : size_), '\0');
  read(0, out.data(), out.size());
  return out;
}

}  // namespace sluice::fixture
