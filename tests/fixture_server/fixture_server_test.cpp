// Unit tests for the fixture server's HTTP parser, HTTP dates, image bytes and response planning.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clients/image_validate.hpp"
#include "fixture_server/http_date.hpp"
#include "fixture_server/http_parser.hpp"
#include "fixture_server/image_bytes.hpp"
#include "fixture_server/responses.hpp"
#include "fixture_server/stats.hpp"

namespace sluice::fixture {
namespace {

using namespace std::chrono_literals;

// ---- HTTP parser ----------------------------------------------------------------------------

ParseResult parse(std::string_view text, Request& request) {
  return parse_request_head(text, request);
}

TEST(FixtureHttpParser, ParsesRequestLineHeadersAndQuery) {
  const std::string text =
      "GET /img/a.jpg?w=10&h=20 HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match:  \"abc\" \r\n\r\nGET /next";
  Request r;
  const ParseResult result = parse(text, r);
  ASSERT_EQ(result.status, ParseStatus::kComplete);
  EXPECT_EQ(result.consumed, text.find("GET /next"));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/img/a.jpg?w=10&h=20");
  EXPECT_EQ(r.path, "/img/a.jpg");
  EXPECT_EQ(r.query, "w=10&h=20");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_TRUE(r.keep_alive);
  ASSERT_NE(r.header("if-none-match"), nullptr);
  EXPECT_EQ(*r.header("if-none-match"), "\"abc\"");
  EXPECT_EQ(*r.header("host"), "127.0.0.1");
  EXPECT_EQ(r.header("If-None-Match"), nullptr) << "lookups use lower-case names";
}

TEST(FixtureHttpParser, IncompleteUntilTheEmptyLine) {
  const std::string text = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::size_t n = 0; n < text.size(); ++n) {
    Request r;
    EXPECT_EQ(parse(text.substr(0, n), r).status, ParseStatus::kIncomplete) << n;
  }
  Request r;
  EXPECT_EQ(parse(text, r).status, ParseStatus::kComplete);
}

TEST(FixtureHttpParser, AcceptsBareLineFeedsAndLeadingEmptyLine) {
  Request r;
  const std::string text = "\r\nGET /x HTTP/1.0\nConnection: keep-alive\n\n";
  const ParseResult result = parse(text, r);
  ASSERT_EQ(result.status, ParseStatus::kComplete);
  EXPECT_EQ(result.consumed, text.size());
  EXPECT_EQ(r.version_minor, 0);
  EXPECT_TRUE(r.keep_alive);
}

TEST(FixtureHttpParser, KeepAliveFollowsVersionAndConnectionHeader) {
  Request r;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", r).status, ParseStatus::kComplete);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n", r).status, ParseStatus::kComplete);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n", r).status, ParseStatus::kComplete);
  EXPECT_TRUE(r.keep_alive);
}

TEST(FixtureHttpParser, RejectsMalformedHeads) {
  const std::vector<std::string> bad = {
      "GET\r\n\r\n",
      "GET /\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET / HTTP/1.1 extra\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "GET http://example.com/ HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET /a b HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
      "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
      "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
      std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26),
      "GET / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
  };
  for (const std::string& text : bad) {
    Request r;
    EXPECT_EQ(parse(text, r).status, ParseStatus::kBadRequest) << text;
  }
}

TEST(FixtureHttpParser, ReadsContentLengthAndTransferEncoding) {
  Request r;
  ASSERT_EQ(parse("POST /stats/reset HTTP/1.1\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n", r).status,
            ParseStatus::kComplete);
  EXPECT_EQ(r.content_length, 12u);
  ASSERT_EQ(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", r).status, ParseStatus::kComplete);
  EXPECT_TRUE(r.has_transfer_encoding);
}

TEST(FixtureHttpParser, CapsTheHeadSize) {
  Request r;
  // Incomplete and already too large: no need to wait for the rest.
  const std::string endless_header = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeadBytes, 'a');
  EXPECT_EQ(parse(endless_header, r).status, ParseStatus::kHeadTooLarge);
  const std::string complete_but_large = endless_header + "\r\n\r\n";
  EXPECT_EQ(parse(complete_but_large, r).status, ParseStatus::kHeadTooLarge);
  std::string many = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i <= kMaxHeaderFields; ++i) many += "X" + std::to_string(i) + ": y\r\n";
  many += "\r\n";
  EXPECT_EQ(parse(many, r).status, ParseStatus::kHeadTooLarge);
  const std::string just_fits = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeadBytes - 23, 'a') + "\r\n\r\n";
  ASSERT_EQ(just_fits.size(), kMaxHeadBytes);
  EXPECT_EQ(parse(just_fits, r).status, ParseStatus::kComplete);
}

TEST(FixtureQueryParams, DecodesAndLetsLaterValuesWin) {
  const auto q = QueryParams::parse("a=1&b=x%2Fy+z&&flag&a=2&redirect=http%3A%2F%2F127.0.0.1%3A9%2Fimg%2Fx.jpg");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("a"), "2");
  EXPECT_EQ(q->get("b"), "x/y z");
  EXPECT_EQ(q->get("flag"), "");
  EXPECT_TRUE(q->has("flag"));
  EXPECT_FALSE(q->has("missing"));
  EXPECT_EQ(q->get("redirect"), "http://127.0.0.1:9/img/x.jpg");
  EXPECT_FALSE(QueryParams::parse("a=%zz"));
  EXPECT_FALSE(QueryParams::parse("a=%4"));
  EXPECT_FALSE(QueryParams::parse("a=%"));
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
}

// ---- HTTP dates -----------------------------------------------------------------------------

TEST(FixtureHttpDate, FormatsAndParsesAllThreeForms) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(kLastModifiedUnix), "Mon, 01 Jan 2024 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994"), 784111777 + 10 * 86400);
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  for (std::int64_t t : {0LL, 86399LL, 1700000000LL, 4102444800LL}) EXPECT_EQ(parse_http_date(format_http_date(t)), t);
}

// ---- image bytes: headers parsed back independently -------------------------------------------

unsigned byte_at(const std::string& s, std::size_t i) {
  return static_cast<unsigned char>(s.at(i));
}
std::uint32_t be16(const std::string& s, std::size_t i) {
  return byte_at(s, i) << 8 | byte_at(s, i + 1);
}
std::uint32_t be32(const std::string& s, std::size_t i) {
  return be16(s, i) << 16 | be16(s, i + 2);
}
std::uint32_t le16(const std::string& s, std::size_t i) {
  return byte_at(s, i) | byte_at(s, i + 1) << 8;
}
std::uint32_t le24(const std::string& s, std::size_t i) {
  return le16(s, i) | byte_at(s, i + 2) << 16;
}
std::uint32_t le32(const std::string& s, std::size_t i) {
  return le16(s, i) | le16(s, i + 2) << 16;
}

std::uint32_t reference_crc32(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFU;
  for (char ch : data) {
    crc ^= static_cast<unsigned char>(ch);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
  }
  return ~crc;
}

using Dimensions = std::pair<std::uint32_t, std::uint32_t>;

// Walks JPEG marker segments from SOI to the first SOFn, as dimension sniffers do.
std::optional<Dimensions> jpeg_dimensions(const std::string& s) {
  if (s.size() < 4 || byte_at(s, 0) != 0xFF || byte_at(s, 1) != 0xD8) return std::nullopt;
  std::size_t i = 2;
  while (i + 4 <= s.size()) {
    if (byte_at(s, i) != 0xFF) return std::nullopt;
    const unsigned marker = byte_at(s, i + 1);
    const std::uint32_t length = be16(s, i + 2);
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > s.size() || length < 8) return std::nullopt;
      return Dimensions{be16(s, i + 7), be16(s, i + 5)};
    }
    i += 2 + length;
  }
  return std::nullopt;
}

std::optional<Dimensions> png_dimensions(const std::string& s) {
  if (s.size() < 33 || s.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return std::nullopt;
  if (be32(s, 8) != 13 || s.compare(12, 4, "IHDR") != 0) return std::nullopt;
  if (be32(s, 29) != reference_crc32(std::string_view(s).substr(12, 17))) return std::nullopt;
  return Dimensions{be32(s, 16), be32(s, 20)};
}

std::optional<Dimensions> gif_dimensions(const std::string& s) {
  if (s.size() < 13 || s.compare(0, 6, "GIF89a") != 0) return std::nullopt;
  return Dimensions{le16(s, 6), le16(s, 8)};
}

std::optional<Dimensions> webp_dimensions(const std::string& s) {
  if (s.size() < 30 || s.compare(0, 4, "RIFF") != 0 || s.compare(8, 8, "WEBPVP8X") != 0) return std::nullopt;
  if (le32(s, 4) != s.size() - 8 || le32(s, 16) != 10) return std::nullopt;
  return Dimensions{le24(s, 24) + 1, le24(s, 27) + 1};
}

std::optional<Dimensions> dimensions(ImageFormat format, const std::string& s) {
  switch (format) {
    case ImageFormat::kJpeg:
      return jpeg_dimensions(s);
    case ImageFormat::kPng:
      return png_dimensions(s);
    case ImageFormat::kGif:
      return gif_dimensions(s);
    case ImageFormat::kWebp:
      return webp_dimensions(s);
  }
  return std::nullopt;
}

ImageSpec make_spec(std::string name, ImageFormat format, std::uint32_t w, std::uint32_t h, std::uint64_t size) {
  ImageSpec spec;
  spec.name = std::move(name);
  spec.format = format;
  spec.width = w;
  spec.height = h;
  spec.size = size;
  return spec;
}

constexpr ImageFormat kFormats[] = {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kGif, ImageFormat::kWebp};

TEST(FixtureImageBytes, HeadersDeclareTheRequestedSize) {
  const std::vector<Dimensions> sizes = {{64, 48}, {1, 1}, {300, 200}, {4000, 3000}, {65535, 65535}, {255, 256}};
  for (ImageFormat format : kFormats) {
    for (const auto& [w, h] : sizes) {
      const std::string bytes = ImageBody(make_spec("a", format, w, h, 2048), false).bytes();
      ASSERT_EQ(bytes.size(), 2048u);
      const auto dims = dimensions(format, bytes);
      ASSERT_TRUE(dims) << static_cast<int>(format) << " " << w << "x" << h;
      EXPECT_EQ(*dims, (Dimensions{w, h})) << static_cast<int>(format);
    }
  }
}

TEST(FixtureImageBytes, DefaultsAreSixtyFourByFortyEightAndTwoKilobytes) {
  ImageSpec spec;
  spec.name = "a.jpg";
  const std::string bytes = ImageBody(spec, false).bytes();
  EXPECT_EQ(bytes.size(), 2048u);
  EXPECT_EQ(jpeg_dimensions(bytes), (Dimensions{64, 48}));
}

TEST(FixtureImageBytes, FilesEndWithTheirTrailer) {
  for (ImageFormat format : kFormats) {
    const std::string bytes = ImageBody(make_spec("t", format, 10, 10, 500), false).bytes();
    const std::string_view trailer = image_trailer(format);
    EXPECT_EQ(std::string_view(bytes).substr(bytes.size() - trailer.size()), trailer);
  }
  EXPECT_EQ(image_trailer(ImageFormat::kPng).size(), 12u);
  EXPECT_EQ(reference_crc32("IEND"), be32(std::string(image_trailer(ImageFormat::kPng)), 8));
}

TEST(FixtureImageBytes, JpegScanDataHasNoMarkers) {
  const std::string bytes = ImageBody(make_spec("scan.jpg", ImageFormat::kJpeg, 8, 8, 100000), false).bytes();
  const std::size_t header = image_header(make_spec("scan.jpg", ImageFormat::kJpeg, 8, 8, 100000)).size();
  EXPECT_EQ(std::string_view(bytes).substr(header, bytes.size() - header - 2).find('\xFF'), std::string_view::npos);
}

TEST(FixtureImageBytes, DeterministicPerNameAndVersion) {
  const ImageSpec a = make_spec("a.jpg", ImageFormat::kJpeg, 64, 48, 4096);
  ImageSpec b = a;
  b.name = "b.jpg";
  ImageSpec a2 = a;
  a2.version = "2";
  const std::string bytes_a = ImageBody(a, false).bytes();
  EXPECT_EQ(bytes_a, ImageBody(a, false).bytes());
  EXPECT_NE(bytes_a, ImageBody(b, false).bytes());
  EXPECT_NE(bytes_a, ImageBody(a2, false).bytes());
  EXPECT_EQ(image_etag(a), image_etag(a));
  EXPECT_NE(image_etag(a), image_etag(b));
  EXPECT_NE(image_etag(a), image_etag(a2));
  ImageSpec bigger = a;
  bigger.size = 4097;
  EXPECT_NE(image_etag(a), image_etag(bigger));
  ImageSpec wider = a;
  wider.width = 65;
  EXPECT_NE(image_etag(a), image_etag(wider));
  const std::string etag = image_etag(a);
  ASSERT_EQ(etag.size(), 18u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(etag.back(), '"');
  EXPECT_EQ(etag.find_first_not_of("0123456789abcdef", 1), 17u);
}

TEST(FixtureImageBytes, PiecewiseReadsMatchTheWholeBody) {
  for (ImageFormat format : kFormats) {
    const ImageBody body(make_spec("p", format, 33, 44, 70001), false);
    const std::string whole = body.bytes();
    std::string pieces;
    char buf[997];
    for (std::uint64_t offset = 0;;) {
      const std::size_t n = body.read(offset, buf, sizeof buf);
      if (n == 0) break;
      pieces.append(buf, n);
      offset += n;
    }
    EXPECT_EQ(pieces, whole);
    EXPECT_EQ(body.read(70001, buf, 10), 0u);
    EXPECT_EQ(body.read(69999, buf, 10), 2u);
  }
}

TEST(FixtureImageBytes, TinySizesTruncateTheHeader) {
  for (ImageFormat format : kFormats) {
    const std::string header = image_header(make_spec("x", format, 64, 48, 5));
    const std::string bytes = ImageBody(make_spec("x", format, 64, 48, 5), false).bytes();
    EXPECT_EQ(bytes, header.substr(0, 5));
    EXPECT_TRUE(ImageBody(make_spec("x", format, 64, 48, 0), false).bytes().empty());
  }
}

TEST(FixtureImageBytes, EveryFramedSizeIsAWholeImage) {
  for (ImageFormat format : kFormats) {
    for (std::uint64_t size : {300u, 301u, 4119u, 4120u, 4121u, 8240u, 70001u}) {
      const auto check = sluice::validate_image(ImageBody(make_spec("v", format, 33, 44, size), false).bytes());
      EXPECT_TRUE(check.ok()) << static_cast<int>(format) << " " << size << ": " << check.problem;
      EXPECT_EQ(check.image.width, 33u);
    }
  }
}

TEST(FixtureImageBytes, EndlessBodiesKeepGoing) {
  const ImageBody body(make_spec("e", ImageFormat::kPng, 64, 48, 100), true);
  EXPECT_FALSE(body.size());
  char buf[64];
  EXPECT_EQ(body.read(1'000'000'000'000ULL, buf, sizeof buf), sizeof buf);
}

TEST(FixtureImageBytes, ExtensionsAndContentTypes) {
  EXPECT_EQ(image_format_from_extension("jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(image_format_from_extension("jpeg"), ImageFormat::kJpeg);
  EXPECT_EQ(image_format_from_extension("png"), ImageFormat::kPng);
  EXPECT_EQ(image_format_from_extension("gif"), ImageFormat::kGif);
  EXPECT_EQ(image_format_from_extension("webp"), ImageFormat::kWebp);
  EXPECT_FALSE(image_format_from_extension("JPG"));
  EXPECT_FALSE(image_format_from_extension("bmp"));
  EXPECT_EQ(image_content_type(ImageFormat::kWebp), "image/webp");
  EXPECT_EQ(image_content_type(ImageFormat::kJpeg), "image/jpeg");
}

// ---- response planning ----------------------------------------------------------------------

class FixturePlanning : public ::testing::Test {
 protected:
  ResponsePlan plan(const std::string& target, const std::vector<std::string>& headers = {},
                    const std::string& method = "GET") {
    std::string text = method + " " + target + " HTTP/1.1\r\nHost: x\r\n";
    for (const std::string& h : headers) text += h + "\r\n";
    text += "\r\n";
    Request request;
    const ParseResult parsed = parse_request_head(text, request);
    EXPECT_EQ(parsed.status, ParseStatus::kComplete) << text;
    return plan_response(request, state_, 0ms, kNow);
  }

  static std::string body_of(const ResponsePlan& p) {
    std::string out(static_cast<std::size_t>(p.body.size().value_or(0)), '\0');
    p.body.read(0, out.data(), out.size());
    return out;
  }

  static std::string head_of(const ResponsePlan& p) { return render_head(p, "Thu, 01 Jan 1970 00:00:00 GMT"); }

  static constexpr std::int64_t kNow = 1'750'000'000;
  SharedState state_;
};

TEST_F(FixturePlanning, ServesImagesWithValidators) {
  const ResponsePlan p = plan("/img/shop/a.jpg?w=10&h=20&size=3000&v=7");
  EXPECT_EQ(p.status, 200);
  ImageSpec spec = make_spec("shop/a.jpg", ImageFormat::kJpeg, 10, 20, 3000);
  spec.version = "7";
  EXPECT_EQ(body_of(p), ImageBody(spec, false).bytes());
  const std::string head = head_of(p);
  EXPECT_NE(head.find("ETag: " + image_etag(spec) + "\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: image/jpeg\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 3000\r\n"), std::string::npos);
  EXPECT_NE(head.find("Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n"), std::string::npos);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_TRUE(p.successful_body);
  EXPECT_TRUE(p.counted);
}

TEST_F(FixturePlanning, ConditionalRequestsGet304) {
  const std::string etag = image_etag(make_spec("a.png", ImageFormat::kPng, 64, 48, 2048));
  EXPECT_EQ(plan("/img/a.png", {"If-None-Match: " + etag}).status, 304);
  EXPECT_EQ(plan("/img/a.png", {"If-None-Match: \"other\", W/" + etag}).status, 304);
  EXPECT_EQ(plan("/img/a.png", {"If-None-Match: *"}).status, 304);
  EXPECT_EQ(plan("/img/a.png", {"If-None-Match: \"other\""}).status, 200);
  EXPECT_EQ(plan("/img/a.png?v=2", {"If-None-Match: " + etag}).status, 200);
  EXPECT_EQ(plan("/img/a.png", {"If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT"}).status, 304);
  EXPECT_EQ(plan("/img/a.png", {"If-Modified-Since: Sun, 31 Dec 2023 23:59:59 GMT"}).status, 200);
  // If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2).
  EXPECT_EQ(plan("/img/a.png", {"If-None-Match: \"x\"", "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT"}).status,
            200);
  const ResponsePlan not_modified = plan("/img/a.png", {"If-None-Match: " + etag});
  EXPECT_FALSE(not_modified.send_body);
  const std::string head = head_of(not_modified);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_NE(head.find("ETag: " + etag), std::string::npos);
  const std::string json = state_.stats.to_json();
  EXPECT_NE(json.find("\"conditional_requests\":9"), std::string::npos) << json;
}

TEST_F(FixturePlanning, FailFirstCountsPerKey) {
  for (int i = 0; i < 2; ++i) {
    const ResponsePlan p = plan("/img/a.jpg?fail_first=2&key=k&retry_after=5");
    EXPECT_EQ(p.status, 503);
    EXPECT_NE(head_of(p).find("Retry-After: 5\r\n"), std::string::npos);
  }
  EXPECT_EQ(plan("/img/a.jpg?fail_first=2&key=other&status=429").status, 429);
  EXPECT_EQ(plan("/img/a.jpg?fail_first=2&key=k").status, 200);
  EXPECT_EQ(plan("/img/a.jpg?fail_first=2&key=k").status, 200);
  // Without a key the path is the key.
  EXPECT_EQ(plan("/img/p.jpg?fail_first=1").status, 503);
  EXPECT_EQ(plan("/img/p.jpg?fail_first=1&x=1").status, 200);
  plan("/stats/reset", {}, "POST");
  EXPECT_EQ(plan("/img/a.jpg?fail_first=2&key=k").status, 503) << "reset forgets the keys";
}

TEST_F(FixturePlanning, RatioFailsThatFractionDeterministically) {
  int failed = 0;
  std::vector<int> first_run;
  for (int i = 0; i < 10000; ++i) {
    const int status = plan("/img/a.jpg?ratio=0.1&status=500").status;
    first_run.push_back(status);
    if (status == 500)
      ++failed;
    else
      EXPECT_EQ(status, 200);
  }
  EXPECT_NEAR(failed, 1000, 120);
  plan("/stats/reset");
  for (int i = 0; i < 100; ++i) EXPECT_EQ(plan("/img/a.jpg?ratio=0.1&status=500").status, first_run[i]) << i;
  EXPECT_EQ(plan("/img/a.jpg?ratio=0").status, 200);
  EXPECT_EQ(plan("/img/a.jpg?ratio=1").status, 500);
}

TEST_F(FixturePlanning, StatusRetryAfterAndRedirects) {
  const ResponsePlan unavailable = plan("/img/a.jpg?status=503&retry_after_date=120");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_NE(head_of(unavailable).find("Retry-After: " + format_http_date(kNow + 120) + "\r\n"), std::string::npos);
  EXPECT_FALSE(unavailable.successful_body);
  EXPECT_EQ(plan("/img/a.jpg?status=200").status, 200);
  EXPECT_EQ(plan("/img/a.jpg?status=204").send_body, false);

  const ResponsePlan moved = plan("/img/a.jpg?redirect=http%3A%2F%2F127.0.0.1%3A8%2Fimg%2Fx.jpg&redirect_status=308");
  EXPECT_EQ(moved.status, 308);
  EXPECT_NE(head_of(moved).find("Location: http://127.0.0.1:8/img/x.jpg\r\n"), std::string::npos);
  const ResponsePlan found = plan("/img/a.jpg?redirect=/img/b.jpg");
  EXPECT_EQ(found.status, 302);
  EXPECT_NE(head_of(found).find("Location: /img/b.jpg\r\n"), std::string::npos);
  EXPECT_NE(head_of(plan("/img/a.jpg?redirect=file:///etc/passwd")).find("Location: file:///etc/passwd\r\n"),
            std::string::npos);
  // Header injection through a parameter is refused.
  EXPECT_EQ(plan("/img/a.jpg?redirect=/x%0D%0ASet-Cookie:%20a=b").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?content_type=text/html%0D%0AX:%201").status, 400);
}

TEST_F(FixturePlanning, BodyDeliveryOptions) {
  const ResponsePlan chunked = plan("/img/a.gif?chunked=1&size=100");
  EXPECT_TRUE(chunked.chunked);
  EXPECT_EQ(chunked.body.size(), 100u);
  const std::string head = head_of(chunked);
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);

  const ResponsePlan endless = plan("/img/a.gif?endless=1");
  EXPECT_TRUE(endless.chunked) << "endless implies chunked";
  EXPECT_FALSE(endless.body.size());

  const ResponsePlan faulty = plan("/img/a.webp?reset_after=10&trickle=100&latency=250");
  EXPECT_EQ(faulty.reset_after, 10u);
  EXPECT_EQ(faulty.trickle_bytes_per_sec, 100u);
  EXPECT_EQ(faulty.latency, 250ms);
  EXPECT_NE(head_of(faulty).find("Content-Length: 2048\r\n"), std::string::npos);

  const ResponsePlan html = plan("/img/a.jpg?not_image=1");
  EXPECT_NE(head_of(html).find("Content-Type: image/jpeg\r\n"), std::string::npos);
  EXPECT_EQ(body_of(html).rfind("<!DOCTYPE html>", 0), 0u);
  const ResponsePlan retyped = plan("/img/a.jpg?content_type=text/html;%20charset=utf-8");
  EXPECT_NE(head_of(retyped).find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_EQ(head_of(plan("/img/a.jpg?content_type=")).find("Content-Type"), std::string::npos);

  const ResponsePlan head_request = plan("/img/a.jpg", {}, "HEAD");
  EXPECT_FALSE(head_request.send_body);
  EXPECT_NE(head_of(head_request).find("Content-Length: 2048\r\n"), std::string::npos);
}

TEST_F(FixturePlanning, HostileResponseOptions) {
  const ResponsePlan length = plan("/img/a.jpg?content_length=12abc");
  EXPECT_NE(head_of(length).find("Content-Length: 12abc\r\n"), std::string::npos) << head_of(length);
  EXPECT_TRUE(length.close) << "the real framing is unknown to the client";
  EXPECT_EQ(body_of(length).size(), 2048u);

  EXPECT_NE(head_of(plan("/img/a.png?content_encoding=br")).find("Content-Encoding: br\r\n"), std::string::npos);
  EXPECT_NE(head_of(plan("/img/a.png?header_bytes=300")).find("X-Padding: " + std::string(300, 'p') + "\r\n"),
            std::string::npos);

  const ResponsePlan cut = plan("/img/a.jpg?size=4000&cut=1000");
  EXPECT_TRUE(cut.close);
  const std::string cut_head = head_of(cut);
  EXPECT_EQ(cut_head.find("Content-Length"), std::string::npos) << cut_head;
  EXPECT_EQ(cut_head.find("Transfer-Encoding"), std::string::npos) << cut_head;
  EXPECT_EQ(body_of(cut),
            ImageBody(make_spec("a.jpg", ImageFormat::kJpeg, 64, 48, 4000), false).bytes().substr(0, 1000));

  const std::string glued = body_of(plan("/img/a.jpg?magic_then_html=1"));
  EXPECT_EQ(glued.rfind("\xFF\xD8\xFF<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(body_of(plan("/img/a.png?magic_then_html=1")).rfind("\x89PNG\r\n\x1a\n<!DOCTYPE", 0), 0u);

  const ResponsePlan endless_redirect = plan("/img/a.jpg?redirect=/img/b.jpg&endless=1");
  EXPECT_EQ(endless_redirect.status, 302);
  EXPECT_TRUE(endless_redirect.chunked);
  EXPECT_FALSE(endless_redirect.body.size());
}

TEST_F(FixturePlanning, RoutesErrorsAndStats) {
  EXPECT_EQ(plan("/").status, 404);
  EXPECT_EQ(plan("/img/").status, 404);
  EXPECT_EQ(plan("/img/.jpg").status, 404);
  EXPECT_EQ(plan("/img/a.bmp").status, 404);
  EXPECT_EQ(plan("/img/a").status, 404);
  EXPECT_EQ(plan("/img/dir.jpg/a").status, 404);
  EXPECT_EQ(plan("/img/a.jpg", {}, "POST").status, 405);
  EXPECT_EQ(plan("/img/a.jpg?latency=x").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?w=0").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?w=65536").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?status=99").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?ratio=1.5").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?chunked=yes").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?q=%zz").status, 400);
  EXPECT_EQ(plan("/img/a.jpg?unknown=1").status, 200) << "unknown parameters (cache busters) are ignored";

  const ResponsePlan stats = plan("/stats");
  EXPECT_FALSE(stats.counted);
  const std::string json = body_of(stats);
  EXPECT_NE(json.find("\"requests\":15,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"responses_2xx\":0,"), std::string::npos) << "responses are counted when sent";
  for (const char* key : {"responses_304", "bodies_sent", "in_flight", "max_in_flight", "connections",
                          "max_connections", "conditional_requests"})
    EXPECT_NE(json.find("\"" + std::string(key) + "\":"), std::string::npos) << key;
  EXPECT_EQ(plan("/stats", {}, "POST").status, 405);
  EXPECT_EQ(plan("/stats/reset").status, 200);
  EXPECT_NE(body_of(plan("/stats")).find("\"requests\":0,"), std::string::npos);
}

TEST(FixtureStats, GaugesTrackMaximaAcrossReset) {
  Stats stats;
  stats.request_started();
  stats.request_started();
  stats.request_finished();
  stats.connection_opened();
  EXPECT_NE(stats.to_json().find("\"in_flight\":1,\"max_in_flight\":2,"), std::string::npos) << stats.to_json();
  stats.reset();
  EXPECT_NE(stats.to_json().find("\"in_flight\":1,\"max_in_flight\":1,"), std::string::npos) << stats.to_json();
  EXPECT_NE(stats.to_json().find("\"connections\":1,\"max_connections\":1,"), std::string::npos);
}

TEST(FixtureParseErrors, MapToStatusesThatClose) {
  EXPECT_EQ(plan_parse_error(ParseStatus::kBadRequest).status, 400);
  EXPECT_EQ(plan_parse_error(ParseStatus::kHeadTooLarge).status, 431);
  EXPECT_TRUE(plan_parse_error(ParseStatus::kBadRequest).close);
  EXPECT_NE(render_head(plan_parse_error(ParseStatus::kBadRequest), "d").find("Connection: close\r\n"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::fixture
