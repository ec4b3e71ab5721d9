// Tests for validate_image: whole images pass; cut, corrupt or glued bodies fail with a reason.
#include "clients/image_validate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "clients/loopback_image_server.hpp"

namespace sluice {
namespace {

using test::make_image_bytes;

std::string be32(std::uint32_t v) {
  return {char(v >> 24), char(v >> 16 & 0xff), char(v >> 8 & 0xff), char(v & 0xff)};
}

TEST(ImageValidate, AcceptsWholeImagesOfEveryFormatAndReadsTheirSize) {
  for (const char* ext : {"jpg", "png", "gif", "webp"}) {
    for (std::size_t size : {0u, 100u, 257u, 258u, 300u, 5000u, 70001u}) {
      const auto check = validate_image(make_image_bytes(ext, 640, 480, size));
      EXPECT_TRUE(check.ok()) << ext << " " << size << ": " << check.problem;
      EXPECT_EQ(check.image.width, 640u) << ext;
      EXPECT_EQ(check.image.height, 480u) << ext;
    }
  }
}

TEST(ImageValidate, AJpegSignatureFollowedByHtmlIsNotAnImage) {
  const auto check = validate_image("\xff\xd8\xff<!DOCTYPE html><html><body>Not found</body></html>");
  EXPECT_EQ(check.problem, "corrupt JPEG: invalid marker 0x3C at byte 3");
  EXPECT_FALSE(check.truncated);
  EXPECT_EQ(validate_image("<html>").problem, "not an image (bytes do not match JPEG, PNG, GIF or WebP)");
}

TEST(ImageValidate, EveryFormatCutShortIsTruncated) {
  const struct {
    const char* ext;
    const char* problem;
  } cases[] = {{"jpg", "truncated JPEG: no end-of-image marker"},
               {"png", "truncated PNG: chunk 'IDAT' at byte 33 runs past the end"},
               {"gif", "truncated GIF: no trailer"},
               {"webp", "truncated WebP: the RIFF size says 4000 bytes, the body has 2000"}};
  for (const auto& c : cases) {
    const std::string whole = make_image_bytes(c.ext, 64, 48, 4000);
    const auto check = validate_image(whole.substr(0, 2000));
    EXPECT_EQ(check.problem, c.problem) << c.ext;
    EXPECT_TRUE(check.truncated) << c.ext;
    // Only the end is missing: the last byte alone matters.
    EXPECT_FALSE(validate_image(whole.substr(0, whole.size() - 1)).ok()) << c.ext;
  }
}

TEST(ImageValidate, JpegScanDataMayHoldStuffedBytesRestartsAndMoreScans) {
  std::string jpeg = make_image_bytes("jpg", 8, 8, 200);
  jpeg.resize(jpeg.size() - 2);
  jpeg += std::string("\x12\xff\x00\x34\xff\xd3\x56\xff\xff\xc4\x00\x03\x00", 13);  // stuffed, RST3, fill, DHT
  jpeg += std::string("\xff\xda\x00\x02\x78\xff\xd9", 7);                           // a second scan, then EOI
  EXPECT_TRUE(validate_image(jpeg).ok()) << validate_image(jpeg).problem;
  const std::string no_frame("\xff\xd8\xff\xda\x00\x02\x00\xff\xd9", 9);
  EXPECT_EQ(validate_image(no_frame).problem, "corrupt JPEG: scan before any frame header");
  const std::string no_scan("\xff\xd8\xff\xc0\x00\x0b\x08\x00\x02\x00\x03\x01\x01\x11\x00\xff\xd9", 17);
  EXPECT_EQ(validate_image(no_scan).problem, "corrupt JPEG: no image data (no scan)");
}

TEST(ImageValidate, OnlyNulPaddingMayFollowTheEnd) {
  for (const char* ext : {"jpg", "png", "gif", "webp"}) {
    const std::string whole = make_image_bytes(ext, 64, 48, 1000);
    EXPECT_TRUE(validate_image(whole + std::string(300, '\0')).ok()) << ext;
    const auto check = validate_image(whole + "<html>");
    EXPECT_FALSE(check.ok()) << ext;
    EXPECT_NE(check.problem.find("6 bytes of other data after the"), std::string::npos) << check.problem;
  }
}

TEST(ImageValidate, PngChunksNeedTheirCrcAndOrder) {
  std::string png = make_image_bytes("png", 64, 48, 500);
  png[100] ^= 1;  // inside IDAT
  EXPECT_EQ(validate_image(png).problem, "corrupt PNG: CRC mismatch in chunk 'IDAT' at byte 33");
  const std::string whole = make_image_bytes("png", 64, 48, 500);
  EXPECT_EQ(validate_image(whole.substr(0, whole.size() - 12)).problem, "truncated PNG: no IEND chunk");
  // IDAT first: the signature, then a valid chunk that is not IHDR.
  const std::string idat = "IDAT";
  const auto crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(idat.data()), 4));
  const std::string idat_first = whole.substr(0, 8) + be32(0) + idat + be32(crc) + whole.substr(8);
  EXPECT_EQ(validate_image(idat_first).problem, "corrupt PNG: the first chunk is not IHDR");
}

TEST(ImageValidate, GifBlocksAreWalkedToTheTrailer) {
  std::string gif = make_image_bytes("gif", 64, 48, 100);
  gif.insert(13, "\x99");
  EXPECT_EQ(validate_image(gif).problem, "corrupt GIF: unknown block 0x99 at byte 13");
  // A comment extension before the image is fine.
  std::string commented = make_image_bytes("gif", 64, 48, 100);
  commented.insert(13, std::string("\x21\xfe\x03"
                                   "abc\x00",
                                   7));
  EXPECT_TRUE(validate_image(commented).ok()) << validate_image(commented).problem;
}

TEST(ImageValidate, WebpChunksFitTheRiffSize) {
  std::string webp = make_image_bytes("webp", 64, 48, 100);
  webp.replace(12, 4, "ALPH");
  EXPECT_EQ(validate_image(webp).problem, "corrupt WebP: the first chunk is 'ALPH', not VP8, VP8L or VP8X");
  std::string long_chunk = make_image_bytes("webp", 64, 48, 100);
  long_chunk[34] = 100;  // the "VP8 " chunk claims more than the RIFF holds
  EXPECT_EQ(validate_image(long_chunk).problem, "corrupt WebP: chunk 'VP8 ' at byte 30 runs past the RIFF size");
}

TEST(ImageValidate, AZeroSideIsNotAnImage) {
  EXPECT_EQ(validate_image(make_image_bytes("png", 0, 48, 100)).problem, "corrupt PNG: width or height is 0");
  EXPECT_EQ(validate_image(make_image_bytes("jpg", 64, 0, 100)).problem, "corrupt JPEG: width or height is 0");
  EXPECT_EQ(validate_image(make_image_bytes("gif", 0, 0, 100)).problem, "corrupt GIF: width or height is 0");
}

TEST(ImageValidate, EveryPrefixAndSingleByteChangeIsJudgedWithoutReadingOutside) {
  // Under the sanitizers this is the bounds check; here it also pins that no prefix passes.
  for (const char* ext : {"jpg", "png", "gif", "webp"}) {
    const std::string whole = make_image_bytes(ext, 64, 48, 600);
    for (std::size_t n = 0; n < whole.size(); ++n) {
      const std::string prefix = whole.substr(0, n);
      EXPECT_FALSE(validate_image(prefix).ok()) << ext << " prefix " << n;
    }
    for (std::size_t i = 0; i < whole.size(); ++i) {
      for (char b : {'\x00', '\xff', '\x3b', '\x2c', '\x21'}) {
        std::string changed = whole;
        changed[i] = b;
        const auto check = validate_image(changed);
        EXPECT_TRUE(check.ok() || !check.problem.empty());
      }
    }
  }
}

}  // namespace
}  // namespace sluice
