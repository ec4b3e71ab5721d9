// Supplier files: reading a good one, and the exact position of each kind of mistake.
#include "config/supplier.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kGood = R"(supplier: acme
currency: EUR
feed:
  delimiter: semicolon
  decimal_separator: ","
  thousands_separator: "."
fields:
  sku: {column: SKU, type: string, required: true}
  price: {column: Price, type: decimal, min: 0}
  category: {column: Cat, type: enum, values: [a, b]}
pricing:
  amount_field: price
  category_field: category
  tax: {default: "0.2", by_category: {a: "0.07"}}
  rounding: half_even
)";

TEST(Supplier, ReadsAGoodFile) {
  auto f = test::load_supplier(kGood);
  ASSERT_TRUE(f->diags.empty()) << f->diags.format();
  const Supplier& s = f->supplier;
  EXPECT_EQ(s.name, "acme");
  EXPECT_EQ(s.currency_exponent, 2);
  EXPECT_EQ(s.feed.delimiter, ';');
  EXPECT_EQ(s.feed.decimal_separator, ',');
  EXPECT_EQ(s.feed.thousands_separator, '.');
  ASSERT_EQ(s.fields.size(), 3u);
  EXPECT_EQ(s.fields[1].name, "price");
  EXPECT_EQ(s.fields[1].type, FieldType::decimal);
  ASSERT_TRUE(s.pricing);
  EXPECT_EQ(s.pricing->rounding, Rounding::half_even);
  EXPECT_EQ(s.pricing->tax_by_category.at("a").to_string(), "0.07");
}

std::string problems(const std::string& yaml) {
  return test::load_supplier(yaml)->diags.format();
}

TEST(Supplier, UnknownCurrencyIsPositioned) {
  std::string y = kGood;
  y.replace(y.find("EUR"), 3, "eur");
  EXPECT_NE(problems(y).find("supplier.yaml:2:11: currency: unknown currency 'eur'"), std::string::npos) << problems(y);
  EXPECT_NE(problems(y).find("did you mean 'EUR'?"), std::string::npos);
}

TEST(Supplier, UnknownAmountFieldSuggestsTheClosest) {
  std::string y = kGood;
  y.replace(y.find("amount_field: price"), 19, "amount_field: prise");
  EXPECT_NE(problems(y).find("supplier.yaml:12:17: pricing.amount_field: no field named 'prise'"), std::string::npos)
      << problems(y);
  EXPECT_NE(problems(y).find("did you mean 'price'?"), std::string::npos);
}

TEST(Supplier, BadRulesAreReported) {
  std::string y = kGood;
  y.replace(y.find("values: [a, b]"), 14, "max_length: -1");
  std::string p = problems(y);
  EXPECT_NE(p.find("supplier.yaml:10:51: fields.category.max_length: value -1 is out of range"), std::string::npos)
      << p;
}

TEST(Supplier, TaxRatesAreFractions) {
  std::string y = kGood;
  y.replace(y.find("\"0.2\""), 5, "\"1.5\"");
  std::string p = problems(y);
  EXPECT_NE(p.find("supplier.yaml:14:18: pricing.tax.default: a tax rate is a fraction between 0 and 1"),
            std::string::npos)
      << p;
}

TEST(Supplier, EnumWithoutValuesAndMinOnStrings) {
  std::string y = kGood;
  y.replace(y.find(", values: [a, b]"), 16, "");
  y.replace(y.find("required: true}"), 15, "required: true, min: 3}");
  std::string p = problems(y);
  EXPECT_NE(p.find("fields.category: an enum field needs a non-empty 'values' list"), std::string::npos) << p;
  EXPECT_NE(p.find("fields.sku: min and max apply only to int, decimal and money fields"), std::string::npos) << p;
}

TEST(Supplier, MissingRequiredSectionsArePositionedAtTheParent) {
  std::string p = problems("supplier: x\ncurrency: USD\n");
  EXPECT_NE(p.find("supplier.yaml:1:1: fields: missing required key 'fields'"), std::string::npos) << p;
}

TEST(Supplier, RejectsInvalidSupplierNames) {
  std::string y = kGood;
  y.replace(y.find("acme"), 4, "'ACME Inc'");
  EXPECT_NE(problems(y).find("supplier: 'ACME Inc' is not a valid supplier name"), std::string::npos);
}

}  // namespace
}  // namespace sluice
