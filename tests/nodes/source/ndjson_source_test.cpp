// ndjson_source: paths into objects, exact numbers, per-line rejects, limits, array mode, aborts, garbage.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: USD
feed: {format: ndjson}
fields:
  sku: {column: id}
  price: {column: priceInfo.price}
  image: {column: "images[0].uri"}
  brand: {column: "brands[0]"}
  flag: {column: "[\"odd.key\"].on"}
)";

// The supplier above with extra feed settings.
std::string supplier_with(const std::string& feed) {
  std::string s = kSupplier;
  s.replace(s.find("{format: ndjson}"), 16, "{format: ndjson, " + feed + "}");
  return s;
}

struct Source {
  std::unique_ptr<test::SupplierFixture> supplier;
  Schema schema;
  test::BuiltNode node;
  test::TempDir dir;
  SourceNode& body() { return *std::get<std::unique_ptr<SourceNode>>(node.body); }

  explicit Source(const std::string& feed, const std::string& supplier_yaml = kSupplier)
      : supplier(test::load_supplier(supplier_yaml)),
        node(test::build_node("id: read\ntype: ndjson_source\n", *supplier, schema)) {
    EXPECT_TRUE(supplier->diags.empty()) << supplier->diags.format();
    EXPECT_TRUE(node.diags.empty()) << node.diags.format();
    test::write_file(dir.file("feed.ndjson"), feed);
  }
  void open() { body().open(RunContext{.input = dir.file("feed.ndjson")}); }

  struct All {
    std::vector<Record> records;
    std::vector<Reject> rejects;
  };
  All read_all(std::size_t batch = 100) {
    All all;
    for (Batch b; body().next(b, batch); b = Batch()) {
      EXPECT_LE(b.records.size() + b.rejects.size(), batch);
      EXPECT_EQ(*b.raw_header, std::vector<std::string>{"line"});
      for (auto& r : b.records) all.records.push_back(std::move(r));
      for (auto& r : b.rejects) all.rejects.push_back(std::move(r));
    }
    return all;
  }
};

// A field's value as text; "<null>" for null.
std::string text(const Record& r, std::size_t field) {
  if (is_null(r.values.at(field))) return "<null>";
  return std::get<std::string>(r.values.at(field));
}

std::string startup_error(Source& s) {
  try {
    s.open();
  } catch (const StartupError& e) {
    return e.diagnostics().format();
  }
  return "no StartupError";
}

TEST(NdjsonSource, BrokenLinesTwoAndFiveAreRejectedAndEveryOtherLineImported) {
  Source s(
      "{\"id\":\"A\",\"priceInfo\":{\"price\":\"1\"}}\n"
      "{\"id\":\"B\",\"priceInfo\":{\"price\":\"2\"}\n"
      "{\"id\":\"C\",\"priceInfo\":{\"price\":\"3\"}}\n"
      "{\"id\":\"D\",\"priceInfo\":{\"price\":\"4\"}}\n"
      "{\"id\":\"E\",\"priceInfo\":{\"price\":\"5\"},}\n"
      "{\"id\":\"F\",\"priceInfo\":{\"price\":\"6\"}}\n");
  s.open();
  auto all = s.read_all(2);
  ASSERT_EQ(all.records.size(), 4u);
  std::vector<std::uint64_t> lines;
  std::string skus;
  for (const auto& r : all.records) {
    lines.push_back(r.line);
    skus += text(r, 0);
  }
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{1, 3, 4, 6}));
  EXPECT_EQ(skus, "ACDF");
  EXPECT_EQ(text(all.records[3], 1), "6");
  ASSERT_EQ(all.rejects.size(), 2u);
  EXPECT_EQ(all.rejects[0].line, 2u);
  EXPECT_EQ(all.rejects[0].code, "invalid_json");
  EXPECT_EQ(all.rejects[0].node, "read");
  EXPECT_EQ(all.rejects[0].raw, std::vector<std::string>{"{\"id\":\"B\",\"priceInfo\":{\"price\":\"2\"}"});
  EXPECT_EQ(all.rejects[1].line, 5u);
  EXPECT_EQ(all.rejects[1].code, "invalid_json");
  EXPECT_NE(all.rejects[1].message.find("at byte 37"), std::string::npos) << all.rejects[1].message;
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
}

TEST(NdjsonSource, MapsNestedPathsAndIndexesAndKeepsNumbersAsWritten) {
  Source s(R"({"id":"A","priceInfo":{"price":19.99,"currencyCode":"USD"},)"
           R"("images":[{"uri":"https://x/a.jpg"},{"uri":"b"}],"brands":["Acme","Other"],"odd.key":{"on":true}})"
           "\n"
           R"({"id":"B","priceInfo":{"price":"16"},"images":[],"brands":null})"
           "\n"
           R"({"id":7,"priceInfo":{"price":1e400},"images":null,"odd.key":{"on":false}})"
           "\n"
           R"({"id":-0.0,"priceInfo":{"price":123456789012345678901234567890.000000000000000000001},"brands":[null]})"
           "\n"
           R"({"priceInfo":{"price":1E+2},"id":"caf\u00e9 \"q\""})"
           "\n");
  s.open();
  auto all = s.read_all();
  ASSERT_TRUE(all.rejects.empty()) << all.rejects[0].message;
  ASSERT_EQ(all.records.size(), 5u);
  const auto& a = all.records[0];
  EXPECT_EQ(text(a, 0), "A");
  EXPECT_EQ(text(a, 1), "19.99");
  EXPECT_EQ(text(a, 2), "https://x/a.jpg");
  EXPECT_EQ(text(a, 3), "Acme");
  EXPECT_EQ(text(a, 4), "true");
  EXPECT_EQ(a.raw.size(), 1u);
  const auto& b = all.records[1];
  EXPECT_EQ(text(b, 1), "16");  // the Retail API writes prices as JSON strings
  EXPECT_EQ(text(b, 2), "<null>");
  EXPECT_EQ(text(b, 3), "<null>");
  EXPECT_EQ(text(b, 4), "<null>");
  const auto& c = all.records[2];
  EXPECT_EQ(text(c, 0), "7");
  EXPECT_EQ(text(c, 1), "1e400");   // kept as text: validate rejects it for a decimal field
  EXPECT_EQ(text(c, 2), "<null>");  // null on the way is a missing value
  EXPECT_EQ(text(c, 4), "false");
  const auto& d = all.records[3];
  EXPECT_EQ(text(d, 0), "-0.0");
  EXPECT_EQ(text(d, 1), "123456789012345678901234567890.000000000000000000001");
  EXPECT_EQ(text(d, 3), "<null>");
  const auto& e = all.records[4];
  EXPECT_EQ(text(e, 0), "caf\xC3\xA9 \"q\"");
  EXPECT_EQ(text(e, 1), "1E+2");
}

TEST(NdjsonSource, ObjectOrArrayWhereAScalarIsMappedRejectsTheLineWithTypeNamingFieldAndPath) {
  Source s(R"({"id":"A","priceInfo":{"price":{"amount":"1"}}})"
           "\n"
           R"({"id":["A"],"priceInfo":{"price":[]}})"
           "\n"
           R"({"id":"C","priceInfo":{"price":"3"}})"
           "\n");
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.records.size(), 1u);
  ASSERT_EQ(all.rejects.size(), 2u);
  EXPECT_EQ(all.rejects[0].code, "type");
  EXPECT_EQ(all.rejects[0].message,
            "field 'price' (column 'priceInfo.price'): expected a string, number, boolean or null, got an object");
  EXPECT_EQ(all.rejects[1].code, "type");
  EXPECT_EQ(all.rejects[1].message,
            "field 'sku' (column 'id'): expected a string, number, boolean or null, got an array; "
            "field 'price' (column 'priceInfo.price'): expected a string, number, boolean or null, got an array");
}

TEST(NdjsonSource, AValueOnTheWayThatIsNotTheContainerThePathNeedsRejectsTheLineWithType) {
  Source s(R"({"id":"A","images":"https://x/a.jpg"})"
           "\n"
           R"({"id":"B","priceInfo":["1"],"images":{"0":{"uri":"u"}}})"
           "\n"
           R"({"id":"C","priceInfo":7,"brands":"Acme"})"
           "\n"
           R"({"id":"D","priceInfo":null,"images":[],"brands":[]})"
           "\n");
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.rejects.size(), 3u);
  EXPECT_EQ(all.rejects[0].line, 1u);
  EXPECT_EQ(all.rejects[0].code, "type");
  EXPECT_EQ(all.rejects[0].message,
            "field 'image' (column 'images[0].uri'): expected an array at 'images', got a string");
  EXPECT_EQ(all.rejects[1].message,
            "field 'price' (column 'priceInfo.price'): expected an object at 'priceInfo', got an array; "
            "field 'image' (column 'images[0].uri'): expected an array at 'images', got an object");
  EXPECT_EQ(all.rejects[2].message,
            "field 'price' (column 'priceInfo.price'): expected an object at 'priceInfo', got a number; "
            "field 'brand' (column 'brands[0]'): expected an array at 'brands', got a string");
  ASSERT_EQ(all.records.size(), 1u);  // null and short arrays are missing values, not wrong ones
  EXPECT_EQ(text(all.records[0], 1), "<null>");
  EXPECT_EQ(text(all.records[0], 2), "<null>");
}

TEST(NdjsonSource, AnEscapedNulInAnyStringRejectsTheLineAsNulByte) {
  Source s(R"({"id":"A\u0000B"})"
           "\n"
           R"({"id":"C","note":"x\u0000"})"
           "\n"
           R"({"id":"D","k\u0000":1})"
           "\n"
           R"({"id":"E\\u0000"})"
           "\n");
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.rejects.size(), 3u);
  for (const auto& r : all.rejects) {
    EXPECT_EQ(r.code, "nul_byte") << r.line;
    EXPECT_NE(r.message.find("a string holds a NUL character (\\u0000)"), std::string::npos) << r.message;
  }
  EXPECT_EQ(all.rejects[0].message, "at byte 7: a string holds a NUL character (\\u0000)");
  ASSERT_EQ(all.records.size(), 1u);  // an escaped backslash followed by "u0000" is just text
  EXPECT_EQ(text(all.records[0], 0), "E\\u0000");
}

TEST(NdjsonSource, AUtf16OrUtf32FeedIsAStartupErrorSayingNdjsonMustBeUtf8) {
  auto utf16le = [](const std::string& ascii) {
    std::string out;
    for (char c : ascii) out += std::string{c, '\0'};
    return out;
  };
  auto error = [](const std::string& feed, const std::string& settings = "") {
    Source s(feed, settings.empty() ? kSupplier : supplier_with(settings));
    return startup_error(s);
  };
  const std::string line = "{\"id\":\"A\"}\n";
  std::string t = error("\xFF\xFE" + utf16le(line));
  EXPECT_NE(t.find("feed.ndjson: the feed is UTF-16LE (it starts with the byte-order mark FF FE), but NDJSON must "
                   "be UTF-8 (RFC 8259); convert it first, e.g. iconv -f UTF-16LE -t UTF-8"),
            std::string::npos)
      << t;
  std::string be;
  for (char c : line) be += std::string{'\0', c};
  EXPECT_NE(error("\xFE\xFF" + be).find("the feed is UTF-16BE (it starts with the byte-order mark FE FF)"),
            std::string::npos);
  EXPECT_NE(error(be).find("the feed is UTF-16BE without a byte-order mark"), std::string::npos);
  EXPECT_NE(error(utf16le(line)).find("the feed is UTF-16LE without a byte-order mark"), std::string::npos);
  EXPECT_NE(error(std::string("\xFF\xFE\0\0{\0\0\0", 8)).find("the feed is UTF-32LE (it starts with"),
            std::string::npos);
  EXPECT_NE(error(std::string("\0\0\0{", 4)).find("the feed is UTF-32BE without a byte-order mark"), std::string::npos);
  EXPECT_NE(error("\xFF\xFE" + utf16le("[" + line + "]"), "top_level_array: true").find("the feed is UTF-16LE"),
            std::string::npos);

  Source utf8("\xEF\xBB\xBF" + line);  // UTF-8, with or without its byte-order mark, is read
  utf8.open();
  EXPECT_EQ(utf8.read_all().records.size(), 1u);
}

TEST(NdjsonSource, EveryKindOfMalformedLineRejectsOnlyItself) {
  const std::vector<std::pair<std::string, std::string>> bad{
      {"{\"id\":\"x\",}", "invalid_json"},                // trailing comma
      {"{\"id\":[1,2,]}", "invalid_json"},                // trailing comma in an array
      {"{\"id\":\"x\"} x", "invalid_json"},               // trailing garbage
      {"{\"id\":\"x\"}}", "invalid_json"},                // trailing brace
      {"{\"id\":\"x\"} {\"id\":\"y\"}", "invalid_json"},  // two objects on one line
      {"[{\"id\":\"x\"}]", "invalid_json"},               // not an object
      {"42", "invalid_json"},
      {"\"id\"", "invalid_json"},
      {"null", "invalid_json"},
      {"{\"id\":01}", "invalid_json"},
      {"{\"id\":1.}", "invalid_json"},
      {"{\"id\":-}", "invalid_json"},
      {"{\"id\":1x}", "invalid_json"},
      {"{\"id\":1.2.3}", "invalid_json"},
      {"{\"id\":tru}", "invalid_json"},
      {"{\"id\":nulll}", "invalid_json"},
      {"{\"id\":x}", "invalid_json"},
      {"{\"id\":\"\\x\"}", "invalid_json"},      // bad escape
      {"{\"id\":\"\\ud800\"}", "invalid_json"},  // lone surrogate
      {"{\"id\":\"open}", "invalid_json"},       // unterminated string
      {"{\"id\" \"x\"}", "invalid_json"},
      {"{id:\"x\"}", "invalid_json"},
      {"{\"id\":\"x\"", "invalid_json"},
      {"{\"id\":\"a\tb\"}", "invalid_json"},                   // unescaped control character
      {std::string("{\"id\":\"a\0b\"}", 12), "invalid_json"},  // NUL byte
      {std::string("{\"id\":1}\0", 9), "invalid_json"},
      {"{\"id\":\"\xFF\"}", "invalid_utf8"},
      {"{\"id\":\"\xC3\"}", "invalid_utf8"},
      {std::string("\xFF\xFE{\0\"\0i\0d\0\"\0:\0\x31\0}\0", 18), "invalid_json"},  // UTF-16: NULs found first
      {"{\"unmapped\":{\"deep\":[1,{\"x\":00}]},\"id\":\"x\"}", "invalid_json"},   // checked though unmapped
  };
  std::string feed;
  for (const auto& [line, code] : bad) feed += line + "\n{\"id\":\"ok\"}\n";
  Source s(feed);
  s.open();
  auto all = s.read_all(7);
  ASSERT_EQ(all.records.size(), bad.size());
  ASSERT_EQ(all.rejects.size(), bad.size());
  for (std::size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(all.records[i].line, 2 * i + 2);
    EXPECT_EQ(all.rejects[i].line, 2 * i + 1);
    EXPECT_EQ(all.rejects[i].code, bad[i].second) << i << ": " << bad[i].first << " -> " << all.rejects[i].message;
    EXPECT_EQ(all.rejects[i].raw, std::vector<std::string>{bad[i].first});
  }
  EXPECT_NE(all.rejects[3].message.find("at byte 11: unexpected content after the object"), std::string::npos);
  EXPECT_EQ(all.rejects[5].message, "at byte 1: expected a JSON object, got an array");
  EXPECT_EQ(all.rejects[9].message, "at byte 7: malformed number '01'");
}

TEST(NdjsonSource, CrlfBlankLinesAndAMissingFinalNewline) {
  Source s("\xEF\xBB\xBF{\"id\":\"A\"}\r\n\r\n  \t \n\n{\"id\":\"B\"}\r\n{\"id\":\"C\"}");
  s.open();
  auto all = s.read_all();
  ASSERT_TRUE(all.rejects.empty()) << all.rejects[0].message;
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(all.records[0].line, 1u);
  EXPECT_EQ(all.records[0].raw, std::vector<std::string>{"{\"id\":\"A\"}"});  // no BOM, no CR
  EXPECT_EQ(all.records[1].line, 5u);
  EXPECT_EQ(all.records[2].line, 6u);
  EXPECT_EQ(text(all.records[2], 0), "C");
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
}

TEST(NdjsonSource, ACutOffLastLineIsRejectedLikeAnyMalformedLine) {
  Source s("{\"id\":\"A\"}\n{\"id\":\"B\",\"priceInfo\":{\"pri");
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.records.size(), 1u);
  ASSERT_EQ(all.rejects.size(), 1u);
  EXPECT_EQ(all.rejects[0].line, 2u);
  EXPECT_EQ(all.rejects[0].code, "invalid_json");
}

TEST(NdjsonSource, AnOverlongLineIsSkippedWithoutBeingKeptAndTheNextLineIsRead) {
  std::string exact = "{\"id\":\"" + std::string(64 - 9, 'e') + "\"}";  // 64 bytes
  ASSERT_EQ(exact.size(), 64u);
  std::string huge = "{\"id\":\"" + std::string(300'000, 'h') + "\"}";  // spans several reads
  std::string over = "{\"id\":\"" + std::string(64 - 8, 'o') + "\"}";   // 65 bytes
  Source s("{\"id\":\"A\"}\n" + huge + "\n{\"id\":\"B\"}\n" + over + "\r\n" + exact + "\r\n" + huge,
           supplier_with("max_line_bytes: 64"));
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(text(all.records[0], 0), "A");
  EXPECT_EQ(text(all.records[1], 0), "B");
  EXPECT_EQ(all.records[1].line, 3u);
  EXPECT_EQ(all.records[2].line, 5u);
  ASSERT_EQ(all.rejects.size(), 3u);
  for (const auto& r : all.rejects) {
    EXPECT_EQ(r.code, "record_too_large");
    ASSERT_EQ(r.raw.size(), 1u);
    EXPECT_LE(r.raw[0].size(), 256u);
  }
  EXPECT_EQ(all.rejects[0].line, 2u);
  EXPECT_EQ(all.rejects[0].raw[0].substr(0, 8), "{\"id\":\"h");
  EXPECT_EQ(all.rejects[1].line, 4u);
  EXPECT_EQ(all.rejects[1].raw[0], over);
  EXPECT_EQ(all.rejects[2].line, 6u);  // the last line, without a newline
  EXPECT_NE(all.rejects[0].message.find("feed.max_line_bytes (64 bytes)"), std::string::npos);
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
}

TEST(NdjsonSource, NestingDeeperThanMaxDepthRejectsTheLine) {
  std::string deep = "{\"x\":" + std::string(200'000, '[') + std::string(200'000, ']') + ",\"id\":\"deep\"}";
  Source s("{\"id\":\"A\",\"a\":{\"b\":[1]}}\n{\"id\":\"B\",\"a\":{\"b\":[{}]}}\n" + deep + "\n",
           supplier_with("max_depth: 3"));
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.records.size(), 1u);  // depth 3: the object, a, b
  ASSERT_EQ(all.rejects.size(), 2u);
  EXPECT_EQ(all.rejects[0].line, 2u);
  EXPECT_EQ(all.rejects[0].code, "too_deep");
  EXPECT_EQ(all.rejects[0].message, "at byte 21: objects and arrays are nested deeper than feed.max_depth (3)");
  EXPECT_EQ(all.rejects[1].code, "too_deep");

  Source by_default(deep + "\n");  // 64 by default; the line still fits max_line_bytes
  by_default.open();
  auto d = by_default.read_all();
  ASSERT_EQ(d.rejects.size(), 1u);
  EXPECT_EQ(d.rejects[0].code, "too_deep");

  auto nested = [](int levels) {  // the object plus `levels` arrays
    return "{\"x\":" + std::string(levels, '[') + std::string(levels, ']') + "}\n";
  };
  Source at_the_limit(nested(1023) + nested(1024), supplier_with("max_depth: 1024"));
  at_the_limit.open();
  auto l = at_the_limit.read_all();
  ASSERT_EQ(l.records.size(), 1u);
  EXPECT_EQ(l.records[0].line, 1u);
  ASSERT_EQ(l.rejects.size(), 1u);
  EXPECT_EQ(l.rejects[0].code, "too_deep");
}

TEST(NdjsonSource, AMappedKeyGivenTwiceIsRejectedAnUnmappedOneIsNot) {
  Source s(
      "{\"id\":\"A\",\"id\":\"B\"}\n"
      "{\"id\":\"C\",\"x\":1,\"x\":2}\n"
      "{\"priceInfo\":{\"price\":1},\"priceInfo\":{}}\n");
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_EQ(text(all.records[0], 0), "C");
  EXPECT_EQ(text(all.records[1], 1), "1");  // the second priceInfo holds no price
  ASSERT_EQ(all.rejects.size(), 1u);
  EXPECT_EQ(all.rejects[0].code, "duplicate_key");
  EXPECT_EQ(all.rejects[0].message, "field 'sku' (column 'id'): the key appears more than once");
}

TEST(NdjsonSource, NullValuesOfTheFeedApplyToStrings) {
  Source s("{\"id\":\"\",\"brands\":[\"N/A\"]}\n{\"id\":null}\n", supplier_with("null_values: [\"\", \"N/A\"]"));
  s.open();
  auto all = s.read_all();
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_EQ(text(all.records[0], 0), "<null>");
  EXPECT_EQ(text(all.records[0], 3), "<null>");
  EXPECT_EQ(text(all.records[1], 0), "<null>");
}

TEST(NdjsonSource, TopLevelArrayNumbersElementsByPositionAndRejectsBrokenElements) {
  Source s(
      "\xEF\xBB\xBF [\n  {\"id\":\"A\",\"priceInfo\":{\"price\":2.50}},\n  {\"id\":\"B\",},\n  5,\n"
      "  {\"id\":\"C\",\"s\":\"a,]}\\\"\"}\n]\n",
      supplier_with("top_level_array: true"));
  s.open();
  auto all = s.read_all(3);
  ASSERT_EQ(all.records.size(), 2u);
  EXPECT_EQ(all.records[0].line, 1u);
  EXPECT_EQ(text(all.records[0], 1), "2.50");
  EXPECT_EQ(all.records[1].line, 4u);
  EXPECT_EQ(text(all.records[1], 0), "C");
  ASSERT_EQ(all.rejects.size(), 2u);
  EXPECT_EQ(all.rejects[0].line, 2u);
  EXPECT_EQ(all.rejects[0].raw, std::vector<std::string>{"{\"id\":\"B\",}"});
  EXPECT_EQ(all.rejects[1].line, 3u);
  EXPECT_EQ(all.rejects[1].message, "at byte 1: expected a JSON object, got a number");
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());

  Source empty("[ ]", supplier_with("top_level_array: true"));
  empty.open();
  EXPECT_TRUE(empty.read_all().records.empty());
}

TEST(NdjsonSource, TopLevelArrayWithBrokenStructureOrTooLargeIsAStartupError) {
  auto error = [](const std::string& feed, const std::string& settings = "top_level_array: true") {
    Source s(feed, supplier_with(settings));
    return startup_error(s);
  };
  EXPECT_NE(error("[{\"id\":\"A\"},\n {\"id\":\"B\"}").find("feed.ndjson:2:12: the array is not closed"),
            std::string::npos);
  EXPECT_NE(error("[{\"id\":\"A\"},,{}]").find("feed.ndjson:1:13: expected a value before ','"), std::string::npos);
  EXPECT_NE(error("[{\"id\":\"A\"},]").find("expected a value before ']'"), std::string::npos);
  EXPECT_NE(error("[{\"id\":\"A\"}}]").find("feed.ndjson:1:12: unexpected '}'"), std::string::npos);
  EXPECT_NE(error("[{\"id\":\"A}]").find("a string is opened but never closed"), std::string::npos);
  EXPECT_NE(error("[{}] x").find("unexpected content after the array"), std::string::npos);
  EXPECT_NE(error("{\"id\":\"A\"}\n").find("feed.ndjson:1:1: expected the feed to be one JSON array"),
            std::string::npos);
  EXPECT_NE(error("").find("expected the feed to be one JSON array"), std::string::npos);
  EXPECT_NE(error("[" + std::string(100, ' ') + "]", "top_level_array: true, max_array_bytes: 64")
                .find("the feed is 102 bytes, more than feed.max_array_bytes (64)"),
            std::string::npos);
}

// What building the node reports for a supplier file: what `check` says before anything runs.
std::string build_problems(const std::string& supplier_yaml) {
  auto supplier = test::load_supplier(supplier_yaml);
  EXPECT_TRUE(supplier->diags.empty()) << supplier->diags.format();
  Schema schema;
  return test::build_node("id: read\ntype: ndjson_source\n", *supplier, schema).diags.format();
}

TEST(NdjsonSource, ABadPathIsAConfigurationErrorAtItsColumnInTheSupplierFile) {
  std::string t = build_problems(R"(supplier: t
currency: USD
key: ok
feed: {format: ndjson}
fields:
  a: {column: "x..y"}
  b: {column: "x."}
  c: {column: "[0]"}
  d: {column: "x[y]"}
  e: {column: "x[0"}
  f: {column: "x]"}
  g: {column: "x[0]y"}
  h: {column: "x[1234567890]"}
  i: {column: "[\"open"}
  j: {column: ""}
  ok: {column: "x[0].y[\"z.w\"]"}
)");
  EXPECT_NE(t.find("supplier.yaml:6:15: fields.a.column: bad path 'x..y': expected a key at character 3"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("supplier.yaml:7:15: fields.b.column: bad path 'x.': expected a key after the last '.'"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("fields.c.column: bad path '[0]': a path starts with a key"), std::string::npos) << t;
  EXPECT_NE(t.find("fields.d.column: bad path 'x[y]': expected an array index or a quoted key after '['"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("fields.e.column: bad path 'x[0': expected ']'"), std::string::npos) << t;
  EXPECT_NE(t.find("fields.f.column: bad path 'x]': unexpected ']' at character 2"), std::string::npos) << t;
  EXPECT_NE(t.find("fields.g.column: bad path 'x[0]y': expected '.' or '[' after ']' at character 5"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("fields.h.column: bad path 'x[1234567890]': the array index is too large"), std::string::npos) << t;
  EXPECT_NE(t.find("fields.i.column: bad path '[\"open': the quoted key is not closed"), std::string::npos) << t;
  EXPECT_NE(t.find("fields.j.column: bad path '': the path is empty"), std::string::npos) << t;
  EXPECT_EQ(t.find("fields.ok"), std::string::npos) << t;
}

TEST(NdjsonSource, ACsvSupplierIsAConfigurationErrorAndNdjsonSettingsNeedNdjson) {
  EXPECT_NE(build_problems("supplier: t\ncurrency: USD\nfields:\n  sku: {column: id}\n")
                .find("feed.format: node 'read' (ndjson_source) reads ndjson feeds"),
            std::string::npos);

  auto csv = test::load_supplier("supplier: t\ncurrency: USD\nfeed: {max_depth: 3}\nfields:\n  sku: {column: id}\n");
  EXPECT_NE(csv->diags.format().find("supplier.yaml:3:19: feed.max_depth: applies only to format ndjson"),
            std::string::npos)
      << csv->diags.format();
  auto lines = test::load_supplier(
      "supplier: t\ncurrency: USD\nfeed: {format: ndjson, max_array_bytes: 9}\nfields:\n  sku: {column: id}\n");
  EXPECT_NE(lines->diags.format().find("feed.max_array_bytes: applies only with top_level_array: true"),
            std::string::npos)
      << lines->diags.format();
}

TEST(NdjsonSource, AbortEndsABlockedReadAndKeepsTheRowsReadBefore) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Source s("");
  std::string line = "{\"id\":\"A\"}\n{\"id\":\"B\"}\n{\"id\":\"cut";
  ASSERT_EQ(::write(fds[1], line.data(), line.size()), static_cast<ssize_t>(line.size()));
  s.body().open(RunContext{.input = "/dev/fd/" + std::to_string(fds[0])});
  std::atomic<bool> aborting{false};
  std::thread aborter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    aborting = true;
    s.body().abort();
  });
  Batch b;
  EXPECT_TRUE(s.body().next(b, 100));  // blocks for more input until the abort
  EXPECT_TRUE(aborting);
  aborter.join();
  EXPECT_EQ(b.records.size(), 2u);
  EXPECT_TRUE(b.rejects.empty());  // the cut-off line is not a row of the feed
  Batch more;
  EXPECT_FALSE(s.body().next(more, 100));
  ::close(fds[1]);
  ::close(fds[0]);
}

TEST(NdjsonSource, LinesAreAssembledAcrossReadsOfAnySize) {
  std::string feed;
  const int rows = 20'000;
  for (int i = 0; i < rows; ++i)
    feed += "{\"id\":\"S" + std::to_string(i) + "\",\"priceInfo\":{\"price\":\"" + std::to_string(i) + ".5\"}}" +
            (i % 3 ? "\n" : "\r\n");
  auto check = [&](Source& s) {
    auto all = s.read_all(1000);
    ASSERT_TRUE(all.rejects.empty()) << all.rejects[0].message;
    ASSERT_EQ(all.records.size(), static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      ASSERT_EQ(all.records[i].line, static_cast<std::uint64_t>(i + 1));
      ASSERT_EQ(text(all.records[i], 0), "S" + std::to_string(i));
      ASSERT_EQ(text(all.records[i], 1), std::to_string(i) + ".5");
    }
  };
  Source file(feed);
  file.open();
  check(file);

  // Through a pipe written in small, uneven pieces: reads end anywhere inside a line.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Source piped("");
  std::thread writer([&] {
    std::mt19937 rng(7);
    for (std::size_t at = 0; at < feed.size();) {
      std::size_t n = std::min<std::size_t>(1 + rng() % 97, feed.size() - at);
      if (::write(fds[1], feed.data() + at, n) != static_cast<ssize_t>(n)) break;
      at += n;
    }
    ::close(fds[1]);
  });
  // open() waits for the first bytes (to check the encoding), so the writer is already running.
  piped.body().open(RunContext{.input = "/dev/fd/" + std::to_string(fds[0])});
  check(piped);
  writer.join();
  ::close(fds[0]);
}

TEST(NdjsonSource, GarbageNeverCrashesAndEveryLineIsAccountedFor) {
  std::mt19937 rng(20240611);
  const std::vector<std::string> pieces{"{",
                                        "}",
                                        "[",
                                        "]",
                                        ",",
                                        ":",
                                        "\"",
                                        "\\",
                                        "\\u",
                                        "\\ud83d",
                                        "id",
                                        "\"id\"",
                                        "priceInfo",
                                        "price",
                                        "1e400",
                                        "-",
                                        "0",
                                        "123456789012345678901234567890",
                                        ".",
                                        "e",
                                        "true",
                                        "nul",
                                        "null",
                                        " ",
                                        "\t",
                                        "\r",
                                        "\n",
                                        std::string(1, '\0'),
                                        "\xFF",
                                        "\xC3",
                                        "\xE2\x82",
                                        "\xEF\xBB\xBF",
                                        "{\"id\":",
                                        "{\"priceInfo\":{\"price\":",
                                        "[[[[[[[[[[",
                                        "]]]]]",
                                        "\"images\":[{\"uri\":\""};
  std::string feed;
  for (int i = 0; i < 4000; ++i) {
    std::size_t n = rng() % 12;
    for (std::size_t k = 0; k < n; ++k) {
      if (rng() % 4 == 0)
        feed.push_back(static_cast<char>(rng() % 256));
      else
        feed += pieces[rng() % pieces.size()];
    }
    feed.push_back('\n');
  }
  feed += std::string(5000, '[') + "\n" + std::string(100'000, '{') + "\n\"" + std::string(1000, 'x') + "\n";
  std::uint64_t lines_with_content = 0;
  {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= feed.size(); ++i) {
      if (i < feed.size() && feed[i] != '\n') continue;
      std::string_view line(feed.data() + start, i - start);
      if (start == 0 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
      if (line.find_first_not_of(" \t\r") != std::string_view::npos) ++lines_with_content;
      start = i + 1;
    }
  }
  for (const char* settings : {"max_line_bytes: 1048576", "max_line_bytes: 40", "max_depth: 1"}) {
    Source s(feed, supplier_with(settings));
    s.open();
    auto all = s.read_all(64);
    EXPECT_EQ(all.records.size() + all.rejects.size(), lines_with_content) << settings;
    EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
  }
  // The same bytes as one array: a clean start-up error or every element accounted for.
  Source array("[" + feed + "]", supplier_with("top_level_array: true"));
  try {
    array.open();
    array.read_all();
  } catch (const StartupError&) {
  }
}

}  // namespace
}  // namespace sluice
