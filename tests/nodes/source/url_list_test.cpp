// url_list: comments and blank lines, duplicates listed once with their counts, batches that account
// for every line, rejected lines, CSV columns, and settings checked with their positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = "supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n";

struct Source {
  test::TempDir dir;
  std::unique_ptr<test::SupplierFixture> supplier;
  Schema schema;
  test::BuiltNode node;
  SourceNode& body() { return *std::get<std::unique_ptr<SourceNode>>(node.body); }

  // The node as a graph file writes it, with `settings` after its id and type.
  explicit Source(const std::string& input, const std::string& settings = "")
      : supplier(test::load_supplier(kSupplier)),
        node(test::build_node("id: urls\ntype: url_list\n" + settings, *supplier, schema)) {
    EXPECT_TRUE(node.diags.empty()) << node.diags.format();
    test::write_file(file(), input);
  }
  std::string file() const { return dir.file("urls.txt"); }
  void open() { body().open(RunContext{.input = file()}); }

  // The diagnostics open() stops with; a test failure (and "") when it does not stop.
  std::string startup_error() {
    try {
      open();
    } catch (const StartupError& e) {
      return e.diagnostics().format();
    }
    ADD_FAILURE() << "expected a StartupError";
    return {};
  }

  struct All {
    std::vector<Record> records;
    std::vector<Reject> rejects;
    std::uint64_t skipped = 0;
    std::size_t batches = 0;
    std::uint64_t read() const { return records.size() + rejects.size() + skipped; }
  };
  All read_all(std::size_t batch = 100) {
    All all;
    for (Batch b; body().next(b, batch); b = Batch()) {
      ++all.batches;
      EXPECT_LE(b.records.size() + b.rejects.size(), batch);
      EXPECT_GT(b.records.size() + b.rejects.size(), 0u);
      EXPECT_EQ(*b.raw_header, std::vector<std::string>{"url"});
      for (auto& r : b.records) all.records.push_back(std::move(r));
      for (auto& r : b.rejects) all.rejects.push_back(std::move(r));
      all.skipped += b.skipped;
    }
    Batch after;
    EXPECT_FALSE(body().next(after, batch));
    return all;
  }

  std::string url(const Record& r) const { return std::get<std::string>(r.values.at(*schema.find("url"))); }
  std::int64_t occurrences(const Record& r) const {
    return std::get<std::int64_t>(r.values.at(*schema.find("occurrences")));
  }
  std::vector<std::string> urls(const All& all) const {
    std::vector<std::string> out;
    for (const auto& r : all.records) out.push_back(url(r));
    return out;
  }
};

// The diagnostics of building the node with `settings`.
std::string config_errors(const std::string& settings) {
  auto supplier = test::load_supplier(kSupplier);
  Schema schema;
  return test::build_node("id: urls\ntype: url_list\n" + settings, *supplier, schema).diags.format();
}

TEST(UrlList, SkipsBlankLinesAndCommentsAndTrimsCrlfBomAndSpaces) {
  Source s(
      "\xEF\xBB\xBFhttps://a.example/1\r\n  https://b.example/2 \t\r\n\r\n   \n# a comment\n  # indented\n"
      "not a url at all\nhttps://c.example/3");
  s.open();
  Source::All all = s.read_all();
  EXPECT_EQ(s.urls(all), (std::vector<std::string>{"https://a.example/1", "https://b.example/2", "not a url at all",
                                                   "https://c.example/3"}));
  ASSERT_EQ(all.records.size(), 4u);
  EXPECT_EQ(all.records[0].line, 1u);
  EXPECT_EQ(all.records[1].line, 2u);
  EXPECT_EQ(all.records[2].line, 7u);
  EXPECT_EQ(all.records[3].line, 8u);
  for (const auto& r : all.records) {
    EXPECT_EQ(s.occurrences(r), 1);
    EXPECT_EQ(r.raw, std::vector<std::string>{s.url(r)});
  }
  EXPECT_TRUE(all.rejects.empty());
  EXPECT_EQ(all.skipped, 0u);  // blank and comment lines are not rows at all
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
}

TEST(UrlList, ListsEachUrlOnceInOrderOfFirstAppearanceWithItsCount) {
  Source s("https://b/\nhttps://a/\n  https://b/\nhttps://c/\nhttps://a/  \nhttps://b/\n");
  s.open();
  Source::All all = s.read_all();
  EXPECT_EQ(s.urls(all), (std::vector<std::string>{"https://b/", "https://a/", "https://c/"}));
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(s.occurrences(all.records[0]), 3);
  EXPECT_EQ(s.occurrences(all.records[1]), 2);
  EXPECT_EQ(s.occurrences(all.records[2]), 1);
  EXPECT_EQ(all.records[0].line, 1u);  // the first line that names it
  EXPECT_EQ(all.records[1].line, 2u);
  EXPECT_EQ(all.records[2].line, 4u);
  EXPECT_EQ(all.skipped, 3u);
  EXPECT_EQ(all.read(), 6u);
}

TEST(UrlList, BatchesHoldAtMostMaxRecordsAndAccountForEveryUrlLine) {
  std::string input;
  std::uint64_t url_lines = 0, bad_lines = 0;
  std::vector<std::string> distinct;  // in order of first appearance
  std::map<std::string, std::int64_t> counts;
  for (int i = 0; i < 200; ++i) {
    if (i % 17 == 16) {
      input += "# comment " + std::to_string(i) + "\n";
      continue;
    }
    ++url_lines;
    if (i % 23 == 22) {
      ++bad_lines;
      input += std::string("https://bad/\0", 13) + std::to_string(i) + "\n";
      continue;
    }
    const std::string url = "https://x.example/" + std::to_string(i % 13 * (i % 3));
    if (counts[url]++ == 0) distinct.push_back(url);
    input += url + "\n";
  }
  Source s(input);
  s.open();
  std::vector<std::string> urls;
  std::uint64_t read = 0, rejects = 0, last_line = 0;
  std::size_t batches = 0;
  for (Batch b; s.body().next(b, 7); b = Batch()) {
    ++batches;
    ASSERT_LE(b.records.size() + b.rejects.size(), 7u);
    read += b.records.size() + b.rejects.size() + b.skipped;
    rejects += b.rejects.size();
    // Records and rejects follow the input: each batch starts after the previous one's last line.
    std::uint64_t first = UINT64_MAX, last = 0, occurrences = 0;
    for (const auto& r : b.records) {
      urls.push_back(s.url(r));
      EXPECT_EQ(s.occurrences(r), counts[s.url(r)]) << s.url(r);
      occurrences += static_cast<std::uint64_t>(s.occurrences(r));
      first = std::min(first, r.line);
      last = std::max(last, r.line);
    }
    for (const auto& r : b.rejects) {
      first = std::min(first, r.line);
      last = std::max(last, r.line);
    }
    EXPECT_GT(first, last_line);
    last_line = last;
    // A URL's repeats travel with its record: a batch's records and skipped rows are their occurrences.
    EXPECT_EQ(occurrences, b.records.size() + b.skipped);
  }
  EXPECT_EQ(urls, distinct);
  EXPECT_EQ(rejects, bad_lines);
  EXPECT_EQ(read, url_lines);
  EXPECT_EQ(batches, (distinct.size() + bad_lines + 6) / 7);
}

TEST(UrlList, RejectsLongLinesNulBytesAndInvalidUtf8WithTheirLineNumbers) {
  const std::string exact = "https://x/" + std::string(65536 - 10, 'e');
  const std::string over = "https://y/" + std::string(65537 - 10, 'o');
  Source s("https://ok/1\nhttps://x/" + std::string(70000, 'a') + "\n" + std::string("https://nul/\0x\n", 15) +
           "https://bad/\xC3\x28\n# caf\xE9 is a comment\nhttps://ok/2\n" + exact + "\r\n" + over + "\n");
  s.open();
  Source::All all = s.read_all();
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(s.url(all.records[0]), "https://ok/1");
  EXPECT_EQ(all.records[1].line, 6u);
  EXPECT_EQ(s.url(all.records[2]), exact);  // 64 KiB exactly, before its CR LF
  EXPECT_EQ(all.records[2].line, 7u);
  ASSERT_EQ(all.rejects.size(), 4u);
  for (const auto& r : all.rejects) {
    EXPECT_EQ(r.code, "url_line");
    EXPECT_EQ(r.node, "urls");
    ASSERT_EQ(r.raw.size(), 1u);
  }
  EXPECT_EQ(all.rejects[0].line, 2u);
  EXPECT_EQ(all.rejects[0].message, "the line is longer than 65536 bytes; raw holds its first bytes");
  EXPECT_EQ(all.rejects[0].raw[0], "https://x/" + std::string(246, 'a'));
  EXPECT_EQ(all.rejects[1].line, 3u);
  EXPECT_EQ(all.rejects[1].message, "the line holds a NUL byte at byte 13");
  EXPECT_EQ(all.rejects[1].raw[0], std::string("https://nul/\0x", 14));
  EXPECT_EQ(all.rejects[2].line, 4u);
  EXPECT_EQ(all.rejects[2].message, "invalid UTF-8 at byte 13");
  EXPECT_EQ(all.rejects[3].line, 8u);
  EXPECT_NE(all.rejects[3].message.find("longer than 65536 bytes"), std::string::npos);
  EXPECT_EQ(all.read(), 7u);
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
}

TEST(UrlList, AnInputWithoutUrlsListsNothing) {
  Source s("\n# nothing to check\n\n");
  s.open();
  Source::All all = s.read_all();
  EXPECT_EQ(all.batches, 0u);
  EXPECT_EQ(all.read(), 0u);
}

TEST(UrlList, ReadsPathUnlessTheRunGivesAnInputAndAMissingFileIsAStartupError) {
  test::TempDir dir;
  test::write_file(dir.file("own.txt"), "https://own/\n");
  test::write_file(dir.file("run.txt"), "https://run/\n");
  auto first_url = [&](const RunContext& ctx) {
    auto supplier = test::load_supplier(kSupplier);
    Schema schema;
    auto built = test::build_node("id: urls\ntype: url_list\npath: " + dir.file("own.txt") + "\n", *supplier, schema);
    EXPECT_TRUE(built.diags.empty()) << built.diags.format();
    auto& body = *std::get<std::unique_ptr<SourceNode>>(built.body);
    body.open(ctx);
    Batch b;
    if (!body.next(b, 10) || b.records.empty()) return std::string("(nothing)");
    return std::get<std::string>(b.records[0].values.at(*schema.find("url")));
  };
  EXPECT_EQ(first_url(RunContext{}), "https://own/");
  EXPECT_EQ(first_url(RunContext{.input = dir.file("run.txt")}), "https://run/");

  Source s("https://a/\n");
  EXPECT_THROW(s.body().open(RunContext{.input = dir.file("missing.txt")}), StartupError);
}

TEST(UrlList, AnAbortedReadHandsOnNothing) {
  Source s("https://a/\nhttps://b/\n");
  s.body().abort();
  s.open();
  Batch b;
  EXPECT_FALSE(s.body().next(b, 10));
}

TEST(UrlListCsv, ReadsTheUrlColumnByHeaderNameAndCountsRepeats) {
  Source s(
      "id,url,name\n1,https://a/,A\n2,,B\n3, https://a/ ,C\n4,https://b/\n5,https://c/,\"two\nlines\"\n"
      "6,https://d/,D\n",
      "format: csv\n");
  s.open();
  Source::All all = s.read_all(2);
  EXPECT_EQ(s.urls(all), (std::vector<std::string>{"https://a/", "https://c/", "https://d/"}));
  ASSERT_EQ(all.records.size(), 3u);
  EXPECT_EQ(all.records[0].line, 2u);
  EXPECT_EQ(s.occurrences(all.records[0]), 2);
  EXPECT_EQ(all.records[1].line, 6u);
  EXPECT_EQ(all.records[2].line, 8u);  // physical lines: the quoted cell before it spans two
  ASSERT_EQ(all.rejects.size(), 1u);
  EXPECT_EQ(all.rejects[0].line, 5u);
  EXPECT_EQ(all.rejects[0].code, "ragged_row");
  EXPECT_EQ(all.rejects[0].message, "row has 2 fields, the header has 3");
  EXPECT_EQ(all.rejects[0].raw, std::vector<std::string>{"https://b/"});
  EXPECT_EQ(all.skipped, 1u);  // the repeat of https://a/; the empty cell on line 3 is not a row at all
  EXPECT_EQ(all.read(), 5u);
}

TEST(UrlListCsv, TakesTheColumnAndDelimiterItIsGivenAndChecksOnlyThatColumnForUtf8) {
  Source s("\xEF\xBB\xBFsku;link;title\r\nA;https://x/;caf\xE9\r\nB;https://bad/\xFF;ok\r\nC;\"https://q/\"\"\";\r\n",
           "format: csv\ncolumn: link\ndelimiter: \";\"\n");
  s.open();
  Source::All all = s.read_all();
  EXPECT_EQ(s.urls(all), (std::vector<std::string>{"https://x/", "https://q/\""}));
  ASSERT_EQ(all.rejects.size(), 1u);
  EXPECT_EQ(all.rejects[0].line, 3u);
  EXPECT_EQ(all.rejects[0].code, "invalid_utf8");
  EXPECT_EQ(all.rejects[0].message, "invalid UTF-8 at byte 13 of the URL in column 'link'");
}

TEST(UrlListCsv, AMissingColumnNamesItAndTheHeader) {
  Source s("id,href\n1,https://a/\n", "format: csv\ncolumn: link\n");
  const std::string t = s.startup_error();
  EXPECT_NE(t.find("graph.yaml:4:9: nodes[0] (urls).column: column 'link' is not in the header of " + s.file() +
                   " ('id', 'href')"),
            std::string::npos)
      << t;

  Source twice("url,url\na,b\n", "format: csv\n");
  EXPECT_NE(twice.startup_error().find("column 'url' appears more than once in the header"), std::string::npos);
  Source empty("", "format: csv\n");
  EXPECT_NE(empty.startup_error().find("the input is empty: expected a header row naming the column 'url'"),
            std::string::npos);
}

TEST(UrlListSettings, ProblemsAreReportedAtTheSettingsTheyAreAbout) {
  EXPECT_NE(config_errors("format: text\n").find("graph.yaml:3:9: nodes[0] (urls).format: unknown value 'text'"),
            std::string::npos)
      << config_errors("format: text\n");
  EXPECT_NE(config_errors("column: link\n")
                .find("graph.yaml:3:9: nodes[0] (urls).column: column: is for format: csv; format: lines reads one "
                      "URL per line"),
            std::string::npos)
      << config_errors("column: link\n");
  EXPECT_NE(
      config_errors("format: csv\ncolumn: \"\"\n").find("nodes[0] (urls).column: the column name cannot be empty"),
      std::string::npos);
  EXPECT_NE(config_errors("format: csv\ndelimiter: '\"'\n").find("nodes[0] (urls).delimiter: the delimiter cannot be"),
            std::string::npos);
  EXPECT_NE(
      config_errors("page_size: 10\n").find("graph.yaml:3:12: nodes[0] (urls).page_size: page_size: goes with table:"),
      std::string::npos)
      << config_errors("page_size: 10\n");

  EXPECT_NE(config_errors("table: \"product; drop table x\"\n")
                .find("graph.yaml:3:8: nodes[0] (urls).table: 'product; drop table x' is not a plain identifier"),
            std::string::npos)
      << config_errors("table: \"product; drop table x\"\n");
  EXPECT_NE(config_errors("table: product\nformat: csv\n")
                .find("nodes[0] (urls).format: format: is for file input; this node reads the table 'product'"),
            std::string::npos);
  const std::string columns = config_errors("table: product\ncolumns: [image_url, \"a-b\", image_url]\n");
  EXPECT_NE(columns.find("nodes[0] (urls).columns[1]: 'a-b' is not a plain identifier"), std::string::npos) << columns;
  EXPECT_NE(columns.find("nodes[0] (urls).columns[2]: column 'image_url' is named twice"), std::string::npos)
      << columns;
  EXPECT_NE(config_errors("table: product\ncolumns: []\n").find("name at least one column that holds URLs"),
            std::string::npos);
  EXPECT_NE(config_errors("table: product\npage_size: 0\n").find("nodes[0] (urls).page_size: value 0 is out of range"),
            std::string::npos);

  EXPECT_EQ(config_errors("table: shop.product\ncolumns: [image_url, thumb_url]\npage_size: 2\n"), "");
  EXPECT_EQ(config_errors("format: csv\ncolumn: image_link\ndelimiter: tab\n"), "");
}

}  // namespace
}  // namespace sluice
