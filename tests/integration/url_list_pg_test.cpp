// url_list reading a table: the distinct URLs of several columns, counted by PostgreSQL and read a page
// at a time through a cursor; a missing table or column stops the run at start-up with the server's message.
#include <gtest/gtest.h>

#include "integration/pg_fixture.hpp"

namespace sluice {
namespace {

using test::PgTest;

const char* kSupplier = "supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n";

class UrlListPgTest : public PgTest {
 protected:
  void exec(const std::string& sql) { pqxx::nontransaction(*connect(db_)).exec0(sql); }

  // Builds the node with `settings`; a configuration problem fails the test.
  SourceNode& build(const std::string& settings) {
    supplier_ = test::load_supplier(kSupplier);
    built_ = test::build_node("id: urls\ntype: url_list\n" + settings, *supplier_, schema_);
    EXPECT_TRUE(built_.diags.empty()) << built_.diags.format();
    return *std::get<std::unique_ptr<SourceNode>>(built_.body);
  }

  std::string startup_error(const std::string& settings) {
    SourceNode& source = build(settings);
    try {
      source.open(RunContext{.db = db_});
    } catch (const StartupError& e) {
      return e.diagnostics().format();
    }
    ADD_FAILURE() << "expected a StartupError";
    return {};
  }

  // A catalogue whose URLs are in two columns, with NULLs, empty strings and repeats within and across
  // the columns.
  void links_table() {
    exec(R"(CREATE SCHEMA shop;
      CREATE TABLE shop.links (id int PRIMARY KEY, image_url text, thumb_url varchar(200));
      INSERT INTO shop.links VALUES
        (1, 'https://a.example/', 'https://b.example/'),
        (2, 'https://b.example/', NULL),
        (3, '', 'https://c.example/'),
        (4, NULL, NULL),
        (5, 'https://a.example/', 'https://a.example/'),
        (6, 'https://d.example/', ''))");
  }

  std::unique_ptr<test::SupplierFixture> supplier_;
  Schema schema_;
  test::BuiltNode built_;
};

TEST_F(UrlListPgTest, ListsTheDistinctUrlsOfSeveralColumnsInOrderWithTheirCounts) {
  links_table();
  SourceNode& source = build("table: shop.links\ncolumns: [image_url, thumb_url]\npage_size: 2\n");
  source.open(RunContext{.db = db_});
  const std::size_t url = *schema_.find("url"), occurrences = *schema_.find("occurrences");
  std::vector<std::string> urls;
  std::vector<std::int64_t> counts;
  std::vector<std::uint64_t> lines;
  std::uint64_t skipped = 0;
  std::size_t batches = 0;
  // Batches of three cross pages of two: a page ends inside a batch, and the last page is empty.
  for (Batch b; source.next(b, 3); b = Batch()) {
    ++batches;
    EXPECT_LE(b.records.size(), 3u);
    EXPECT_TRUE(b.rejects.empty());
    EXPECT_EQ(*b.raw_header, std::vector<std::string>{"url"});
    skipped += b.skipped;
    for (const auto& r : b.records) {
      urls.push_back(std::get<std::string>(r.values.at(url)));
      counts.push_back(std::get<std::int64_t>(r.values.at(occurrences)));
      lines.push_back(r.line);
      EXPECT_EQ(r.raw, std::vector<std::string>{urls.back()});
    }
  }
  EXPECT_EQ(urls, (std::vector<std::string>{"https://a.example/", "https://b.example/", "https://c.example/",
                                            "https://d.example/"}));
  EXPECT_EQ(counts, (std::vector<std::int64_t>{3, 2, 1, 1}));
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(skipped, 3u);  // 7 occurrences, 4 of them handed on
  EXPECT_EQ(batches, 2u);
  EXPECT_EQ(source.bytes_read(), 4 * std::string("https://a.example/").size());
  Batch after;
  EXPECT_FALSE(source.next(after, 3));
}

TEST_F(UrlListPgTest, TheDefaultColumnIsImageUrl) {
  links_table();
  SourceNode& source = build("table: shop.links\n");
  source.open(RunContext{.db = db_});
  Batch b;
  ASSERT_TRUE(source.next(b, 100));
  ASSERT_EQ(b.records.size(), 3u);  // a (twice), b and d
  EXPECT_EQ(b.skipped, 1u);
}

TEST_F(UrlListPgTest, AMissingColumnOrTableIsAStartupErrorWithTheServersMessage) {
  links_table();
  const std::string column = startup_error("table: shop.links\ncolumns: [image_url, nope]\n");
  EXPECT_NE(column.find("graph.yaml:4:10: nodes[0] (urls).columns: cannot read the URLs of table 'shop.links': "
                        "column \"nope\" does not exist"),
            std::string::npos)
      << column;
  const std::string table = startup_error("table: shop.missing\n");
  EXPECT_NE(table.find("graph.yaml:3:8: nodes[0] (urls).table: cannot read the URLs of table 'shop.missing': "
                       "relation \"shop.missing\" does not exist"),
            std::string::npos)
      << table;
}

TEST_F(UrlListPgTest, AnAbortedSourceHandsOnNothingMore) {
  links_table();
  SourceNode& source = build("table: shop.links\ncolumns: [image_url, thumb_url]\npage_size: 2\n");
  source.open(RunContext{.db = db_});
  Batch first;
  ASSERT_TRUE(source.next(first, 1));
  source.abort();
  Batch b;
  EXPECT_FALSE(source.next(b, 100));
}

}  // namespace
}  // namespace sluice
