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

const char* kRules = R"(supplier: rules
currency: USD
feed: {extra_columns: price}
variants: {style: continuation, parent_field: parent, image_rows: skip}
checks:
  - {left: price, op: "<=", right: title}
  - {left: when, op: "<", right: price}
fields:
  sku: {column: SKU, type: string, currency_field: title}
  title: {column: Title, type: string, end_of_day: true}
  price: {column: Price, type: money, separator: ";"}
  when: {column: When, type: datetime}
pricing:
  amount_field: price
  tax: {default: "0.1", by_country: {DE: "0.19"}}
  sale: {price_field: title}
  discounts:
    - {name: both, percent: "0.1", amount: "1"}
    - {name: late, percent: "0.1", from: "2026-13-01", min_quantity: 3}
  floor: "10"
  ceiling: "5"
)";

TEST(Supplier, NewRulesAreCheckedWithTheirPositions) {
  std::string p = problems(kRules);
  for (const char* expected : {
           "supplier.yaml:3:23: feed.extra_columns: 'price' is already a mapped field; name a field of its own",
           "supplier.yaml:4:11: variants.group_field: style continuation needs 'group_field'",
           "supplier.yaml:4:47: variants.parent_field: does not apply to style continuation",
           "supplier.yaml:6:36: checks[0].right: field 'title' is of type string; expected int or decimal or money "
           "or date or datetime",
           "supplier.yaml:7:5: checks[1]: compares a date with a number",
           "supplier.yaml:9:52: fields.sku.currency_field: 'currency_field' applies only to money fields",
           "supplier.yaml:10:52: fields.title.end_of_day: 'end_of_day' applies only to date fields",
           "supplier.yaml:11:50: fields.price: 'separator' and 'items' apply only to list fields",
           "supplier.yaml:15:37: pricing.tax.by_country: rates by country need pricing.country_field",
           "supplier.yaml:16:23: pricing.sale.price_field: field 'title' is of type string; expected decimal or int "
           "or money",
           "supplier.yaml:18:7: pricing.discounts[0]: a discount needs exactly one of 'percent' and 'amount'",
           "supplier.yaml:19:42: pricing.discounts[1].from: not a date or date-time: month 13 is out of range",
           "supplier.yaml:19:70: pricing.discounts[1].min_quantity: needs pricing.quantity_field",
           "supplier.yaml:21:12: pricing.ceiling: ceiling is below floor",
       })
    EXPECT_NE(p.find(expected), std::string::npos) << "missing: " << expected << "\nall:\n" << p;
  // A key that does not apply to the style is reported once, not also checked as a field reference.
  EXPECT_EQ(p.find("no field named 'parent'"), std::string::npos) << p;
}

}  // namespace
}  // namespace sluice
