// csv_source: header mapping by name, nulls, trimming, ragged rows and start-up errors.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: EUR
feed: {delimiter: ";", null_values: ["", "-"], trim: true}
fields:
  sku: {column: SKU}
  price: {column: Price}
)";

struct Source {
  std::unique_ptr<test::SupplierFixture> supplier;
  Schema schema;
  test::BuiltNode node;
  test::TempDir dir;
  SourceNode& body() { return *std::get<std::unique_ptr<SourceNode>>(node.body); }

  explicit Source(const std::string& feed, const std::string& supplier_yaml = kSupplier)
      : supplier(test::load_supplier(supplier_yaml)),
        node(test::build_node("id: read\ntype: csv_source\n", *supplier, schema)) {
    test::write_file(dir.file("feed.csv"), feed);
  }
  void open() { body().open(RunContext{.input = dir.file("feed.csv")}); }
};

TEST(CsvSource, MapsColumnsByHeaderNameNotPosition) {
  Source s("\xEF\xBB\xBFName;Price;SKU\r\nHammer; 9.50 ;A1\r\nRake;-;A2\r\n");
  s.open();
  Batch b;
  ASSERT_TRUE(s.body().next(b, 100));
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(std::get<std::string>(b.records[0].values[0]), "A1");
  EXPECT_EQ(std::get<std::string>(b.records[0].values[1]), "9.50");  // trimmed
  EXPECT_TRUE(is_null(b.records[1].values[1]));                      // "-" is a null token
  EXPECT_EQ(b.records[1].line, 3u);
  EXPECT_EQ(b.raw_header->at(2), "SKU");
  Batch end;
  EXPECT_FALSE(s.body().next(end, 100));
  EXPECT_EQ(s.body().bytes_read(), *s.body().bytes_total());
}

TEST(CsvSource, RejectsRaggedAndBrokenRowsWithTheirLines) {
  Source s("SKU;Price\nA1;1\nA2\nA3;3;x\n\"A4;4\n");
  s.open();
  Batch b;
  while (s.body().next(b, 2)) {
  }
  ASSERT_EQ(b.records.size(), 1u);
  ASSERT_EQ(b.rejects.size(), 3u);
  EXPECT_EQ(b.rejects[0].line, 3u);
  EXPECT_EQ(b.rejects[0].code, "ragged_row");
  EXPECT_EQ(b.rejects[0].message, "row has 1 fields, the header has 2");
  EXPECT_EQ(b.rejects[1].line, 4u);
  EXPECT_EQ(b.rejects[2].line, 5u);
  EXPECT_EQ(b.rejects[2].code, "unterminated_quote");
}

TEST(CsvSource, ReadsInBatchesOfTheRequestedSize) {
  std::string feed = "SKU;Price\n";
  for (int i = 0; i < 25; ++i) feed += "S" + std::to_string(i) + ";1\n";
  Source s(feed);
  s.open();
  std::vector<std::size_t> sizes;
  for (Batch b; s.body().next(b, 10); b = Batch()) sizes.push_back(b.records.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{10, 10, 5}));
}

TEST(CsvSource, MissingColumnIsAStartupErrorWithTheClosestHeader) {
  Source s("Sku;Price\nA;1\n");
  try {
    s.open();
    FAIL() << "expected a StartupError";
  } catch (const StartupError& e) {
    std::string t = e.diagnostics().format();
    EXPECT_NE(t.find("supplier.yaml:5:17: fields.sku.column: column 'SKU' is not in the header of"), std::string::npos)
        << t;
    EXPECT_NE(t.find("closest header names: 'Sku', 'Price'"), std::string::npos) << t;
  }
}

TEST(CsvSource, EmptyFeedAndMissingFileAreStartupErrors) {
  Source empty("");
  EXPECT_THROW(empty.open(), StartupError);
  Source s("SKU;Price\n");
  EXPECT_THROW(s.body().open(RunContext{.input = "/nonexistent/feed.csv"}), StartupError);
}

TEST(CsvSource, DuplicateMappedHeaderIsAStartupError) {
  Source s("SKU;Price;SKU\nA;1;B\n");
  EXPECT_THROW(s.open(), StartupError);
}

}  // namespace
}  // namespace sluice
