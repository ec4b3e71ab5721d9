// price, built from YAML: tax by category, tax-inclusive prices, rounding and rejects.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

std::string supplier_yaml(const std::string& currency, bool inclusive, const std::string& rounding) {
  return "supplier: t\ncurrency: " + currency +
         "\nfields:\n  sku: {column: SKU}\n  price: {column: P, type: decimal}\n  cat: {column: C}\n"
         "pricing:\n  amount_field: price\n  category_field: cat\n  prices_include_tax: " +
         (inclusive ? "true" : "false") + "\n  rounding: " + rounding +
         "\n  tax: {default: \"0.20\", by_category: {books: \"0.055\", zero: \"0\"}}\n";
}

struct Priced {
  std::int64_t net, tax, gross;
};

std::vector<Priced> run(const std::string& yaml, const std::vector<std::vector<std::string>>& rows,
                        std::vector<Reject>* rejects = nullptr) {
  auto supplier = test::load_supplier(yaml);
  EXPECT_TRUE(supplier->diags.empty()) << supplier->diags.format();
  Schema schema;
  for (const auto& f : supplier->supplier.fields) schema.add(f.name);  // what the source adds first
  auto node = test::build_node("id: price\ntype: price\n", *supplier, schema);
  EXPECT_TRUE(node.diags.empty()) << node.diags.format();
  Batch b = test::make_batch(schema, rows);
  std::get<std::unique_ptr<TransformNode>>(node.body)->process(b);
  std::vector<Priced> out;
  auto at = [&](const Record& r, const char* name) { return std::get<std::int64_t>(r.values[*schema.find(name)]); };
  for (const auto& r : b.records) out.push_back({at(r, "net_minor"), at(r, "tax_minor"), at(r, "gross_minor")});
  if (rejects) *rejects = b.rejects;
  return out;
}

TEST(Price, AddsTaxByCategory) {
  auto p = run(supplier_yaml("EUR", false, "half_up"),
               {{"a", "19.99", "tools"}, {"b", "12.00", "books"}, {"c", "5", "zero"}});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].net, 1999);
  EXPECT_EQ(p[0].tax, 400);
  EXPECT_EQ(p[0].gross, 2399);
  EXPECT_EQ(p[1].tax, 66);  // 12.00 * 0.055 = 0.66
  EXPECT_EQ(p[2].gross, 500);
}

TEST(Price, SplitsTaxInclusivePrices) {
  auto p = run(supplier_yaml("EUR", true, "half_up"), {{"a", "23.99", "tools"}});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].net, 1999);
  EXPECT_EQ(p[0].tax, 400);
  EXPECT_EQ(p[0].gross, 2399);
}

TEST(Price, RoundsToTheCurrencysMinorUnit) {
  auto jpy = run(supplier_yaml("JPY", false, "half_even"), {{"a", "100.5", "tools"}, {"b", "101.5", "tools"}});
  ASSERT_EQ(jpy.size(), 2u);
  EXPECT_EQ(jpy[0].net, 100);  // half_even: 100.5 -> 100
  EXPECT_EQ(jpy[1].net, 102);  // 101.5 -> 102
  auto up = run(supplier_yaml("JPY", false, "half_up"), {{"a", "100.5", "tools"}});
  EXPECT_EQ(up[0].net, 101);
  auto kwd = run(supplier_yaml("KWD", false, "half_up"), {{"a", "1.2345", "tools"}});
  EXPECT_EQ(kwd[0].net, 1235);
}

TEST(Price, RejectsRowsItCannotPrice) {
  std::vector<Reject> rejects;
  auto p = run(supplier_yaml("EUR", false, "half_up"),
               {{"a", "", "tools"}, {"b", "x1", "tools"}, {"c", "-3", "tools"}, {"d", "1", "tools"}}, &rejects);
  EXPECT_EQ(p.size(), 1u);
  ASSERT_EQ(rejects.size(), 3u);
  for (const auto& r : rejects) EXPECT_EQ(r.code, "price");
  EXPECT_NE(rejects[0].message.find("is empty"), std::string::npos);
  EXPECT_EQ(rejects[2].line, 4u);
}

}  // namespace
}  // namespace sluice
