// Unit tests for TranscodingInput, run at several source chunk sizes so code units straddle refills.
#include "nodes/source/transcode.hpp"

#include <gtest/gtest.h>
#include <iconv.h>

#include <algorithm>
#include <cstring>
#include <istream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sluice {
namespace {

using namespace std::string_literals;

// A string literal with embedded NUL bytes, without the terminating one.
template <std::size_t N>
std::string bytes(const char (&text)[N]) {
  return std::string(text, N - 1);
}

// Hands out at most `chunk` bytes per call, like a pipe or a slow network file system would.
class ChunkedSource : public std::streambuf {
 public:
  ChunkedSource(std::string data, std::size_t chunk) : data_(std::move(data)), chunk_(chunk) {}

 protected:
  std::streamsize xsgetn(char* s, std::streamsize n) override {
    const std::size_t take = std::min({static_cast<std::size_t>(n), chunk_, data_.size() - pos_});
    std::memcpy(s, data_.data() + pos_, take);
    pos_ += take;
    return static_cast<std::streamsize>(take);
  }
  int_type underflow() override {
    if (pos_ == data_.size()) return traits_type::eof();
    return traits_type::to_int_type(data_[pos_]);
  }
  int_type uflow() override {
    if (pos_ == data_.size()) return traits_type::eof();
    return traits_type::to_int_type(data_[pos_++]);
  }

 private:
  std::string data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

constexpr std::size_t kWholeFile = std::size_t{1} << 30;
const std::vector<std::size_t> kChunkSizes = {1, 2, 3, 5, 7, 4096, kWholeFile};

std::string read_all(TranscodingInput& input) {
  std::istream stream(&input);
  std::string out{std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
  EXPECT_FALSE(stream.bad());
  return out;
}

std::string transcode(const std::string& input, Encoding encoding, std::size_t chunk = kWholeFile) {
  ChunkedSource source(input, chunk);
  TranscodingInput transcoder(source, encoding);
  transcoder.start();
  std::string out = read_all(transcoder);
  EXPECT_EQ(transcoder.source_bytes(), input.size());
  return out;
}

// glibc's iconv as the independent reference implementation.
std::string iconv_to_utf8(const std::string& input, const char* from) {
  iconv_t cd = iconv_open("UTF-8", from);
  if (cd == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error(std::string("iconv_open ") + from);
  std::string in_copy = input;
  std::string out(input.size() * 4 + 16, '\0');
  char* in_ptr = in_copy.data();
  std::size_t in_left = in_copy.size();
  char* out_ptr = out.data();
  std::size_t out_left = out.size();
  const std::size_t rc = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  if (rc == static_cast<std::size_t>(-1)) throw std::runtime_error(std::string("iconv failed for ") + from);
  out.resize(out.size() - out_left);
  return out;
}

std::string encode_utf16(const std::u16string& text, bool big_endian, bool with_bom = true) {
  std::string out;
  auto put = [&](char16_t unit) {
    const char hi = static_cast<char>(unit >> 8);
    const char lo = static_cast<char>(unit & 0xFF);
    out += big_endian ? hi : lo;
    out += big_endian ? lo : hi;
  };
  if (with_bom) put(0xFEFF);
  for (char16_t unit : text) put(unit);
  return out;
}

std::string error_message(const std::string& input, Encoding encoding) {
  ChunkedSource source(input, 1);
  TranscodingInput transcoder(source, encoding);
  try {
    transcoder.start();
  } catch (const EncodingError& e) {
    return e.what();
  }
  ADD_FAILURE() << "start() did not throw";
  return {};
}

TEST(ParseEncoding, AcceptsAliasesCaseInsensitively) {
  EXPECT_EQ(parse_encoding("utf-8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("UTF8"), Encoding::utf8);
  EXPECT_EQ(parse_encoding("latin-1"), Encoding::latin1);
  EXPECT_EQ(parse_encoding("Latin1"), Encoding::latin1);
  EXPECT_EQ(parse_encoding("ISO-8859-1"), Encoding::latin1);
  EXPECT_EQ(parse_encoding("windows-1252"), Encoding::windows1252);
  EXPECT_EQ(parse_encoding("CP1252"), Encoding::windows1252);
  EXPECT_EQ(parse_encoding("utf-16"), Encoding::utf16);
  EXPECT_EQ(parse_encoding("UTF-16"), Encoding::utf16);
}

TEST(ParseEncoding, RejectsUnknownNames) {
  EXPECT_EQ(parse_encoding("ebcdic"), std::nullopt);
  EXPECT_EQ(parse_encoding(""), std::nullopt);
  EXPECT_EQ(parse_encoding("utf-8 "), std::nullopt);
  EXPECT_EQ(parse_encoding("utf-16le"), std::nullopt);
}

TEST(ParseEncoding, ToStringRoundTrips) {
  for (Encoding e : {Encoding::utf8, Encoding::latin1, Encoding::windows1252, Encoding::utf16}) {
    EXPECT_EQ(parse_encoding(to_string(e)), e) << to_string(e);
  }
  EXPECT_EQ(to_string(Encoding::utf8), "utf-8");
  EXPECT_EQ(to_string(Encoding::latin1), "latin-1");
  EXPECT_EQ(to_string(Encoding::windows1252), "windows-1252");
  EXPECT_EQ(to_string(Encoding::utf16), "utf-16");
}

TEST(Latin1, Cafe) {
  for (std::size_t chunk : kChunkSizes) EXPECT_EQ(transcode("Caf\xE9", Encoding::latin1, chunk), "Caf\u00E9");
}

TEST(Latin1, EveryByteMatchesIconv) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string expected = iconv_to_utf8(all, "ISO-8859-1");
  ASSERT_EQ(expected.size(), 128u + 2 * 128u);
  for (std::size_t chunk : kChunkSizes) EXPECT_EQ(transcode(all, Encoding::latin1, chunk), expected) << chunk;
}

TEST(Latin1, ShortInputsShorterThanTheBomProbe) {
  EXPECT_EQ(transcode("a", Encoding::latin1), "a");
  EXPECT_EQ(transcode("\xEF\xBB", Encoding::latin1, 1), "\u00EF\u00BB");
  EXPECT_EQ(transcode("\xFF", Encoding::latin1), "\u00FF");
}

TEST(Latin1, LargeInputStreams) {
  std::mt19937 rng(42);
  std::string input;
  std::string expected;
  input.reserve(1 << 20);
  const std::string line = "Caf\xE9 cr\xE8me br\xFBl\xE9\x65;12,50\xA4;\xA9 Acme\n";
  const std::string line_utf8 = "Caf\u00E9 cr\u00E8me br\u00FBl\u00E9\x65;12,50\u00A4;\u00A9 Acme\n";
  while (input.size() < (1u << 20)) {
    input += line;
    expected += line_utf8;
    const auto b = static_cast<unsigned char>(rng() % 256);
    input += static_cast<char>(b);
    expected += iconv_to_utf8(std::string(1, static_cast<char>(b)), "ISO-8859-1");
  }
  EXPECT_EQ(transcode(input, Encoding::latin1), expected);
  EXPECT_EQ(transcode(input, Encoding::latin1, 1000), expected);
}

TEST(Windows1252, EuroQuotesAndYDiaeresis) {
  for (std::size_t chunk : kChunkSizes) {
    EXPECT_EQ(transcode("\x80", Encoding::windows1252, chunk), "\u20AC");
    EXPECT_EQ(transcode("\x93quoted\x94", Encoding::windows1252, chunk), "\u201Cquoted\u201D");
    EXPECT_EQ(transcode("\x9F", Encoding::windows1252, chunk), "\u0178");
    EXPECT_EQ(transcode("Caf\xE9 5\x80", Encoding::windows1252, chunk), "Caf\u00E9 5\u20AC");
  }
}

TEST(Windows1252, UndefinedBytesBecomeInvalidUtf8) {
  for (char undefined : {'\x81', '\x8D', '\x8F', '\x90', '\x9D'}) {
    EXPECT_EQ(transcode(std::string(1, undefined), Encoding::windows1252), "\xFF");
    EXPECT_EQ(transcode(std::string("a") + undefined + "b", Encoding::windows1252, 1),
              "a\xFF"
              "b");
  }
}

TEST(Windows1252, EveryDefinedByteMatchesIconv) {
  std::string defined;
  for (int b = 0; b < 256; ++b) {
    if (b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D) continue;
    defined += static_cast<char>(b);
  }
  const std::string expected = iconv_to_utf8(defined, "CP1252");
  for (std::size_t chunk : kChunkSizes) EXPECT_EQ(transcode(defined, Encoding::windows1252, chunk), expected);
}

TEST(Utf16, LittleAndBigEndianWithSurrogatePair) {
  const std::u16string text = u"A\u00E9\u20AC\U0001F600z";
  const std::string expected = "A\u00E9\u20AC\U0001F600z";
  for (bool big_endian : {false, true}) {
    const std::string input = encode_utf16(text, big_endian);
    for (std::size_t chunk : kChunkSizes) {
      EXPECT_EQ(transcode(input, Encoding::utf16, chunk), expected) << big_endian << " " << chunk;
    }
  }
}

TEST(Utf16, EmptyFeedAndBomOnly) {
  EXPECT_EQ(transcode("", Encoding::utf16), "");
  EXPECT_EQ(transcode("\xFF\xFE", Encoding::utf16), "");
  EXPECT_EQ(transcode("\xFE\xFF", Encoding::utf16, 1), "");
}

TEST(Utf16, BomIsNotEmittedButALaterFeffIs) {
  EXPECT_EQ(transcode(encode_utf16(u"\uFEFFx", false), Encoding::utf16), "\uFEFFx");
}

TEST(Utf16, UnpairedSurrogatesBecomeInvalidUtf8) {
  for (bool big_endian : {false, true}) {
    for (std::size_t chunk : kChunkSizes) {
      auto run = [&](std::u16string text) { return transcode(encode_utf16(text, big_endian), Encoding::utf16, chunk); };
      EXPECT_EQ(run({u'a', 0xD83D, u'b'}),
                "a\xFF"
                "b");                           // high followed by a BMP char
      EXPECT_EQ(run({u'a', 0xD83D}), "a\xFF");  // high at end of input
      EXPECT_EQ(run({u'a', 0xDE00, u'b'}),
                "a\xFF"
                "b");                                              // lone low
      EXPECT_EQ(run({0xDE00, 0xD83D}), "\xFF\xFF");                // low then high: both unpaired
      EXPECT_EQ(run({0xD83D, 0xD83D, 0xDE00}), "\xFF\U0001F600");  // the second high pairs
      EXPECT_EQ(run({0xD83D, 0xDE00, 0xDE00}), "\U0001F600\xFF");  // the second low does not
    }
  }
}

TEST(Utf16, OddTrailingByteBecomesInvalidUtf8) {
  for (std::size_t chunk : kChunkSizes) {
    EXPECT_EQ(transcode(encode_utf16(u"ab", false) + "c", Encoding::utf16, chunk), "ab\xFF");
    EXPECT_EQ(transcode(encode_utf16(u"ab", true) + "c", Encoding::utf16, chunk), "ab\xFF");
    EXPECT_EQ(transcode("\xFF\xFE"
                        "c",
                        Encoding::utf16, chunk),
              "\xFF");
    EXPECT_EQ(transcode(encode_utf16({u'a', 0xD83D}, false) + "c", Encoding::utf16, chunk), "a\xFF\xFF");
  }
}

TEST(Utf16, RandomTextMatchesIconvAcrossBufferBoundaries) {
  std::mt19937 rng(7);
  std::u16string text;
  // Large enough to cross several 64 KiB input and output buffers, with plenty of 3- and 4-byte characters.
  while (text.size() < 300000) {
    const std::uint32_t kind = rng() % 4;
    if (kind == 0) {
      text += static_cast<char16_t>(0x20 + rng() % 0x5F);
    } else if (kind == 1) {
      text += static_cast<char16_t>(0x80 + rng() % 0x780);
    } else if (kind == 2) {
      char16_t unit = static_cast<char16_t>(0x800 + rng() % (0x10000 - 0x800));
      if (unit >= 0xD800 && unit <= 0xDFFF) unit = 0x4E2D;
      text += unit;
    } else {
      const std::uint32_t cp = 0x10000 + rng() % 0x100000;
      text += static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10));
      text += static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF));
    }
  }
  for (bool big_endian : {false, true}) {
    const std::string input = encode_utf16(text, big_endian);
    const std::string expected =
        iconv_to_utf8(encode_utf16(text, big_endian, false), big_endian ? "UTF-16BE" : "UTF-16LE");
    for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{65535}, kWholeFile}) {
      EXPECT_EQ(transcode(input, Encoding::utf16, chunk), expected) << big_endian << " " << chunk;
    }
  }
}

TEST(Utf16, NoBomThrows) {
  const std::string message = error_message(encode_utf16(u"name;price\n", false, false), Encoding::utf16);
  EXPECT_NE(message.find("byte-order mark"), std::string::npos) << message;
  EXPECT_NE(message.find("utf-16"), std::string::npos) << message;
  EXPECT_NE(error_message("x", Encoding::utf16).find("byte-order mark"), std::string::npos);
}

TEST(Utf16, Utf8BomThrows) {
  const std::string message = error_message("\xEF\xBB\xBFname\n", Encoding::utf16);
  EXPECT_NE(message.find("UTF-8"), std::string::npos) << message;
  EXPECT_NE(message.find("set feed.encoding: utf-8"), std::string::npos) << message;
}

TEST(Utf8, Utf16BomThrows) {
  std::string message = error_message("\xFF\xFEn\0a\0"s, Encoding::utf8);
  EXPECT_NE(message.find("UTF-16LE"), std::string::npos) << message;
  EXPECT_NE(message.find("utf-16"), std::string::npos) << message;
  EXPECT_EQ(message,
            "the feed starts with a UTF-16LE byte-order mark but feed.encoding is utf-8; set feed.encoding: utf-16");
  message = error_message("\xFE\xFF\0n"s, Encoding::utf8);
  EXPECT_NE(message.find("UTF-16BE"), std::string::npos) << message;
  EXPECT_NE(message.find("set feed.encoding: utf-16"), std::string::npos) << message;
}

TEST(Utf8, PassesBytesThroughUnchanged) {
  const std::string input = bytes("\xEF\xBB\xBFna\0me;\xC3\xA9;\xE9\xFF\x80 invalid\r\n\xF0\x9F\x98\x80");
  for (std::size_t chunk : kChunkSizes) EXPECT_EQ(transcode(input, Encoding::utf8, chunk), input);
  EXPECT_EQ(transcode("", Encoding::utf8), "");
  EXPECT_EQ(transcode("\xFF", Encoding::utf8), "\xFF");
  std::string large(300000, 'x');
  for (std::size_t i = 0; i < large.size(); i += 977) large[i] = static_cast<char>(i % 256);
  EXPECT_EQ(transcode(large, Encoding::utf8, 1000), large);
}

TEST(Latin1, Utf8BomThrows) {
  std::string message = error_message("\xEF\xBB\xBFname\n", Encoding::latin1);
  EXPECT_NE(message.find("UTF-8 byte-order mark"), std::string::npos) << message;
  EXPECT_NE(message.find("latin-1"), std::string::npos) << message;
  EXPECT_NE(message.find("set feed.encoding: utf-8"), std::string::npos) << message;
  message = error_message("\xEF\xBB\xBF", Encoding::windows1252);
  EXPECT_NE(message.find("windows-1252"), std::string::npos) << message;
}

TEST(Latin1, Utf16BomThrows) {
  for (Encoding e : {Encoding::latin1, Encoding::windows1252}) {
    EXPECT_NE(error_message("\xFF\xFEn\0"s, e).find("set feed.encoding: utf-16"), std::string::npos);
    EXPECT_NE(error_message("\xFE\xFF\0n"s, e).find("UTF-16BE"), std::string::npos);
  }
}

TEST(Latin1, Utf8ContentThrowsNamingTheFirstCharacter) {
  // "sku,name\nA1,Café\n" saved as UTF-8 without a BOM but declared Latin-1 or Windows-1252.
  const std::string feed = "sku,name\nA1,Caf\xC3\xA9\nA2,\xE2\x82\xAC 5\n";
  for (std::size_t chunk : kChunkSizes) {
    ChunkedSource source(feed, chunk);
    TranscodingInput transcoder(source, Encoding::latin1);
    EXPECT_THROW(transcoder.start(), EncodingError) << chunk;
  }
  std::string message = error_message(feed, Encoding::latin1);
  EXPECT_NE(message.find("feed.encoding is latin-1 but the feed reads as UTF-8"), std::string::npos) << message;
  EXPECT_NE(message.find("\"\u00E9\", at byte 16"), std::string::npos) << message;
  EXPECT_NE(message.find("would store \"\u00C3\u00A9\" for \"\u00E9\""), std::string::npos) << message;
  EXPECT_NE(message.find("set feed.encoding: utf-8"), std::string::npos) << message;
  // Windows-1252 shows its own reading of the bytes: E2 82 AC is "â‚¬" there.
  message = error_message("A2,\xE2\x82\xAC 5\n", Encoding::windows1252);
  EXPECT_NE(message.find("would store \"\u00E2\u201A\u00AC\" for \"\u20AC\""), std::string::npos) << message;
}

TEST(Latin1, LoneAccentedLettersAreLatin1EvenNextToUtf8LookingPairs) {
  // "CAFÉ’S" in Windows-1252 is C9 92, a well-formed UTF-8 pair; the lone E9 of "Café" settles it.
  const std::string feed = "name\nCAF\xC9\x92S\nCaf\xE9\n";
  EXPECT_EQ(transcode(feed, Encoding::windows1252), "name\nCAF\u00C9\u2019S\nCaf\u00E9\n");
  // ASCII only: nothing to judge by, and every encoding reads it alike.
  EXPECT_EQ(transcode("sku,name\nA1,plain\n", Encoding::latin1), "sku,name\nA1,plain\n");
  // Overlong and surrogate forms are not UTF-8, so they do not count as evidence.
  EXPECT_EQ(transcode("\xC0\xA9", Encoding::latin1), "\u00C0\u00A9");
  EXPECT_EQ(transcode("\xED\xA0\x80", Encoding::latin1), "\u00ED\u00A0\u0080");
  // A UTF-8 sequence cut off by the end of the feed is not one.
  EXPECT_EQ(transcode("x\xC3", Encoding::latin1, 1), "x\u00C3");
}

TEST(Latin1, Utf8ContentIsJudgedOnTheFirstBufferOnly) {
  // A character cut by the end of the first 64 KiB is not held against the feed, and UTF-8 text after the
  // first buffer is transcoded as declared (the check is a start-up check, documented as such).
  std::string feed(65535, 'a');
  feed += "\xC3\xA9";
  EXPECT_EQ(transcode(feed, Encoding::latin1), std::string(65535, 'a') + "\u00C3\u00A9");
  feed = std::string(65536, 'a') + "later \xC3\xA9";
  EXPECT_EQ(transcode(feed, Encoding::latin1, 4096), std::string(65536, 'a') + "later \u00C3\u00A9");
}

TEST(TranscodingInput, EmptyFeedEndsForEveryEncoding) {
  for (Encoding e : {Encoding::utf8, Encoding::latin1, Encoding::windows1252, Encoding::utf16}) {
    for (std::size_t chunk : {std::size_t{1}, kWholeFile}) EXPECT_EQ(transcode("", e, chunk), "") << to_string(e);
  }
}

TEST(TranscodingInput, SourceBytesCountsEverythingRead) {
  const std::string input = encode_utf16(std::u16string(100000, u'\u00E9'), true) + "x";
  ChunkedSource source(input, 333);
  TranscodingInput transcoder(source, Encoding::utf16);
  EXPECT_EQ(transcoder.source_bytes(), 0u);
  transcoder.start();
  EXPECT_GT(transcoder.source_bytes(), 0u);
  EXPECT_LE(transcoder.source_bytes(), input.size());
  const std::string out = read_all(transcoder);
  EXPECT_EQ(out.size(), 200000u + 1);
  EXPECT_EQ(transcoder.source_bytes(), input.size());
}

TEST(TranscodingInput, ReadingBeforeStartFailsTheStream) {
  std::stringbuf source("abc");
  TranscodingInput transcoder(source, Encoding::latin1);
  std::istream stream(&transcoder);
  EXPECT_EQ(stream.get(), std::char_traits<char>::eof());
  EXPECT_TRUE(stream.bad());
}

TEST(TranscodingInput, WorksOverAStringbuf) {
  std::stringbuf source("Caf\xE9\n\x80");
  TranscodingInput transcoder(source, Encoding::windows1252);
  transcoder.start();
  std::istream stream(&transcoder);
  std::string line;
  ASSERT_TRUE(std::getline(stream, line));
  EXPECT_EQ(line, "Caf\u00E9");
  ASSERT_TRUE(std::getline(stream, line));
  EXPECT_EQ(line, "\u20AC");
  EXPECT_FALSE(std::getline(stream, line));
  EXPECT_EQ(transcoder.source_bytes(), 6u);
}

TEST(Utf16OrUtf32Start, NamesTheEncodingFromAByteOrderMarkOrNulsBetweenAscii) {
  using namespace std::string_literals;
  EXPECT_EQ(utf16_or_utf32_start("\xFF\xFE{\0"s), "UTF-16LE (it starts with the byte-order mark FF FE)");
  EXPECT_EQ(utf16_or_utf32_start("\xFE\xFF\0{"s), "UTF-16BE (it starts with the byte-order mark FE FF)");
  EXPECT_EQ(utf16_or_utf32_start("\xFF\xFE\0\0"s), "UTF-32LE (it starts with the byte-order mark FF FE 00 00)");
  EXPECT_EQ(utf16_or_utf32_start("\0\0\xFE\xFF"s), "UTF-32BE (it starts with the byte-order mark 00 00 FE FF)");
  EXPECT_EQ(utf16_or_utf32_start("{\0\"\0"s).value_or("").rfind("UTF-16LE without a byte-order mark", 0), 0u);
  EXPECT_EQ(utf16_or_utf32_start("\0{\0\""s).value_or("").rfind("UTF-16BE without", 0), 0u);
  EXPECT_EQ(utf16_or_utf32_start("{\0\0\0"s).value_or("").rfind("UTF-32LE without", 0), 0u);
  EXPECT_EQ(utf16_or_utf32_start("\0\0\0{"s).value_or("").rfind("UTF-32BE without", 0), 0u);
  EXPECT_EQ(utf16_or_utf32_start("{\0"s).value_or("").rfind("UTF-16LE without", 0), 0u);  // a two-byte feed
  for (const std::string& ok : {"{\"a\":1}"s, "\xEF\xBB\xBF{"s, ""s, "{"s, " \n{"s, "\xC3\xA9\0"s})
    EXPECT_FALSE(utf16_or_utf32_start(ok).has_value()) << ok;
}

}  // namespace
}  // namespace sluice
