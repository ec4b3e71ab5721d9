// Tests for sniff_image with hand-built minimal headers of JPEG, PNG, GIF and WebP.
#include "clients/image_sniff.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace sluice {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

TEST(ImageSniff, ReadsJpegSof0) {
  // SOI, SOF0 (length 17, precision 8, height 0x01E0 = 480, width 0x0280 = 640).
  const auto jpeg = bytes({0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0xe0, 0x02, 0x80, 0x03});
  const auto info = sniff_image(jpeg);
  EXPECT_EQ(info.format, ImageFormat::jpeg);
  EXPECT_EQ(info.mime, "image/jpeg");
  EXPECT_EQ(info.width, 640u);
  EXPECT_EQ(info.height, 480u);
}

TEST(ImageSniff, SkipsJpegSegmentsAndFillBytesBeforeTheFrameHeader) {
  // SOI, APP0 "JFIF" (length 16), DHT (C4, not a frame), fill bytes, then progressive SOF2 100x50.
  std::string jpeg = bytes({0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10});
  jpeg += "JFIF";
  jpeg += std::string(10, '\0');
  jpeg += bytes({0xff, 0xc4, 0x00, 0x04, 0x00, 0x00});
  jpeg += bytes({0xff, 0xff, 0xff, 0xc2, 0x00, 0x11, 0x08, 0x00, 0x32, 0x00, 0x64});
  const auto info = sniff_image(jpeg);
  EXPECT_EQ(info.format, ImageFormat::jpeg);
  EXPECT_EQ(info.width, 100u);
  EXPECT_EQ(info.height, 50u);
}

TEST(ImageSniff, AcceptsEveryJpegFrameMarker) {
  for (int marker = 0xc0; marker <= 0xcf; ++marker) {
    const auto jpeg = bytes({0xff, 0xd8, 0xff, marker, 0x00, 0x11, 0x08, 0x00, 0x02, 0x00, 0x03});
    const auto info = sniff_image(jpeg);
    EXPECT_EQ(info.format, ImageFormat::jpeg);
    const bool frame = marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
    EXPECT_EQ(info.width, frame ? 3u : 0u) << std::hex << marker;
    EXPECT_EQ(info.height, frame ? 2u : 0u) << std::hex << marker;
  }
}

TEST(ImageSniff, JpegWithoutFrameHeaderIsStillJpegOfUnknownSize) {
  const auto truncated = bytes({0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F'});
  auto info = sniff_image(truncated);
  EXPECT_EQ(info.format, ImageFormat::jpeg);
  EXPECT_EQ(info.width, 0u);
  const auto scan_first = bytes({0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x11, 0x22});
  info = sniff_image(scan_first);
  EXPECT_EQ(info.format, ImageFormat::jpeg);
  EXPECT_EQ(info.height, 0u);
  const auto bad_length = bytes({0xff, 0xd8, 0xff, 0xe0, 0xff, 0xff});
  EXPECT_EQ(sniff_image(bad_length).width, 0u);
}

TEST(ImageSniff, ReadsPngIhdr) {
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8);
  png += bytes({0, 0, 0, 13}) + "IHDR" + bytes({0, 0, 0x07, 0x80, 0, 0, 0x04, 0x38, 8, 2, 0, 0, 0});
  const auto info = sniff_image(png);
  EXPECT_EQ(info.format, ImageFormat::png);
  EXPECT_EQ(info.mime, "image/png");
  EXPECT_EQ(info.width, 1920u);
  EXPECT_EQ(info.height, 1080u);
  EXPECT_EQ(sniff_image(png.substr(0, 20)).width, 0u);
  EXPECT_EQ(sniff_image(png.substr(0, 20)).format, ImageFormat::png);
}

TEST(ImageSniff, ReadsGifLogicalScreen) {
  for (const char* version : {"GIF87a", "GIF89a"}) {
    const auto gif = std::string(version) + bytes({0x2c, 0x01, 0xc8, 0x00, 0, 0, 0});
    const auto info = sniff_image(gif);
    EXPECT_EQ(info.format, ImageFormat::gif);
    EXPECT_EQ(info.mime, "image/gif");
    EXPECT_EQ(info.width, 300u);
    EXPECT_EQ(info.height, 200u);
  }
  EXPECT_EQ(sniff_image("GIF88a\x01\x00\x01\x00").format, ImageFormat::unknown);
}

std::string riff(const std::string& chunk) {
  return "RIFF" + bytes({0, 0, 0, 0}) + "WEBP" + chunk;
}

TEST(ImageSniff, ReadsWebpLossy) {
  // VP8 chunk: size, frame tag (3), start code 9D 01 2A, width 400 | scale bits, height 300.
  const auto webp = riff("VP8 " + bytes({0, 0, 0, 0, 0x30, 0x01, 0x00, 0x9d, 0x01, 0x2a, 0x90, 0x41, 0x2c, 0x01}));
  const auto info = sniff_image(webp);
  EXPECT_EQ(info.format, ImageFormat::webp);
  EXPECT_EQ(info.mime, "image/webp");
  EXPECT_EQ(info.width, 400u);  // 0x4190 & 0x3fff: the top two bits are the horizontal scale
  EXPECT_EQ(info.height, 300u);
}

TEST(ImageSniff, ReadsWebpLossless) {
  // VP8L: signature 0x2F, then 14 bits width-1 (= 99) and 14 bits height-1 (= 49), LSB first.
  const std::uint32_t bits = 99u | (49u << 14);
  const auto webp =
      riff("VP8L" + bytes({0, 0, 0, 0, 0x2f, static_cast<int>(bits & 0xff), static_cast<int>(bits >> 8 & 0xff),
                           static_cast<int>(bits >> 16 & 0xff), static_cast<int>(bits >> 24 & 0xff)}));
  const auto info = sniff_image(webp);
  EXPECT_EQ(info.format, ImageFormat::webp);
  EXPECT_EQ(info.width, 100u);
  EXPECT_EQ(info.height, 50u);
}

TEST(ImageSniff, ReadsWebpExtended) {
  // VP8X: flags, 3 reserved bytes, canvas width-1 = 1023 and height-1 = 767 as 24-bit little endian.
  const auto webp = riff("VP8X" + bytes({10, 0, 0, 0, 0x10, 0, 0, 0, 0xff, 0x03, 0x00, 0xff, 0x02, 0x00}));
  const auto info = sniff_image(webp);
  EXPECT_EQ(info.format, ImageFormat::webp);
  EXPECT_EQ(info.width, 1024u);
  EXPECT_EQ(info.height, 768u);
}

TEST(ImageSniff, RejectsWhatIsNotAnImage) {
  for (const std::string& text : {std::string(), std::string("<html><body>404</body></html>"), std::string("\xff\xd8"),
                                  std::string("\x89PNG\r\n"), std::string("RIFF\0\0\0\0WAVEfmt ", 16),
                                  std::string("GIF"), std::string("%PDF-1.7")}) {
    const auto info = sniff_image(text);
    EXPECT_EQ(info.format, ImageFormat::unknown) << text;
    EXPECT_FALSE(info.is_image());
    EXPECT_TRUE(info.mime.empty());
  }
}

TEST(ImageSniff, NamesFormats) {
  EXPECT_EQ(to_string(ImageFormat::jpeg), "jpeg");
  EXPECT_EQ(to_string(ImageFormat::unknown), "unknown");
  EXPECT_EQ(mime_type(ImageFormat::gif), "image/gif");
}

}  // namespace
}  // namespace sluice
