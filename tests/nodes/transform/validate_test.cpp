// validate, built from YAML the way users write it.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: EUR
feed: {decimal_separator: ",", thousands_separator: "."}
fields:
  sku: {column: SKU, required: true, max_length: 5}
  price: {column: Price, type: decimal, min: "0.01", max: 10000}
  qty: {column: Qty, type: int, min: 0}
  ok: {column: Ok, type: bool}
  img: {column: Img, type: url}
  cat: {column: Cat, type: enum, values: [a, b]}
  name: {column: Name, min_length: 2}
)";

struct Fixture {
  std::unique_ptr<test::SupplierFixture> supplier = test::load_supplier(kSupplier);
  Schema schema;
  test::BuiltNode node = test::build_node("id: check\ntype: validate\n", *supplier, schema);
  TransformNode& body() { return *std::get<std::unique_ptr<TransformNode>>(node.body); }
};

TEST(Validate, ConvertsTypesOfGoodRows) {
  Fixture f;
  ASSERT_TRUE(f.node.diags.empty()) << f.node.diags.format();
  Batch b = test::make_batch(f.schema, {{"A1", "1.234,50", "7", "Yes", "https://x.example/a.jpg", "a", "Hé"}});
  f.body().process(b);
  ASSERT_EQ(b.records.size(), 1u) << b.rejects.at(0).message;
  EXPECT_TRUE(b.rejects.empty());
  const auto& v = b.records[0].values;
  EXPECT_EQ(std::get<Decimal>(v[1]).to_string(), "1234.50");
  EXPECT_EQ(std::get<std::int64_t>(v[2]), 7);
  EXPECT_EQ(std::get<bool>(v[3]), true);
  EXPECT_EQ(std::get<std::string>(v[5]), "a");
}

TEST(Validate, RejectsWithFieldRuleAndValueInTheMessage) {
  Fixture f;
  Batch b = test::make_batch(f.schema, {
                                           {"", "1", "1", "", "", "", ""},                     // required
                                           {"TOOLONG", "1", "1", "", "", "", ""},              // max_length
                                           {"A", "0,00", "1", "", "", "", ""},                 // min
                                           {"A", "1", "1.5", "", "", "", ""},                  // int
                                           {"A", "1", "1", "maybe", "", "", ""},               // bool
                                           {"A", "1", "1", "", "file:///etc/passwd", "", ""},  // url
                                           {"A", "1", "1", "", "", "c", ""},                   // enum
                                           {"A", "1", "1", "", "", "", "x"},                   // min_length
                                           {"A", "abc", "-1", "", "", "", ""},                 // two problems
                                           {"OK", "2", "3", "no", "http://h/i", "b", "ok"},
                                       });
  f.body().process(b);
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(b.records[0].line, 11u);
  ASSERT_EQ(b.rejects.size(), 9u);
  std::vector<std::string> codes;
  for (const auto& r : b.rejects) {
    codes.push_back(r.code);
    EXPECT_EQ(r.node, "check");
    EXPECT_FALSE(r.raw.empty());
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"required", "max_length", "min", "type", "type", "url", "enum",
                                             "min_length", "type"}));
  EXPECT_EQ(b.rejects[0].message, "field 'sku' (column 'SKU'): is required but empty");
  EXPECT_EQ(b.rejects[2].message, "field 'price' (column 'Price'): value 0.00 is below the minimum 0.01");
  EXPECT_EQ(b.rejects[6].message, "field 'cat' (column 'Cat'): value \"c\" is not one of: a, b");
  EXPECT_NE(b.rejects[8].message.find("; field 'qty'"), std::string::npos) << b.rejects[8].message;
  EXPECT_EQ(b.rejects[8].line, 10u);
}

TEST(Validate, KeepsRecordOrderAndLines) {
  Fixture f;
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < 100; ++i) rows.push_back({i % 3 ? "S" + std::to_string(i) : "", "1", "1", "", "", "", ""});
  Batch b = test::make_batch(f.schema, rows);
  f.body().process(b);
  EXPECT_EQ(b.records.size() + b.rejects.size(), 100u);
  for (std::size_t i = 1; i < b.records.size(); ++i) EXPECT_LT(b.records[i - 1].line, b.records[i].line);
}

}  // namespace
}  // namespace sluice
