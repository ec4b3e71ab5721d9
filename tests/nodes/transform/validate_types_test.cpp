// validate on the richer field types: money, gtin, date, datetime, interval, list, map, pattern and checks.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace sluice {
namespace {

using Cells = std::map<std::string, std::string>;

// A validate node for supplier "t" (currency EUR, key sku) with the given field lines and top-level extras.
class Validator {
 public:
  explicit Validator(const std::string& fields, const std::string& extra = "")
      : supplier_(test::load_supplier("supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n" + fields + extra)),
        node_(test::build_node("id: check\ntype: validate\n", *supplier_, schema_)) {
    EXPECT_TRUE(supplier_->diags.empty()) << supplier_->diags.format();
    EXPECT_TRUE(node_.diags.empty()) << node_.diags.format();
  }

  // Validates rows given as field name -> cell text; fields not named are empty.
  Batch run(const std::vector<Cells>& rows) {
    std::vector<std::vector<std::string>> table;
    for (const auto& row : rows) {
      std::vector<std::string> cells(schema_.size());
      for (const auto& [name, text] : row) {
        auto i = schema_.find(name);
        EXPECT_TRUE(i.has_value()) << "no field " << name;
        if (i) cells[*i] = text;
      }
      table.push_back(std::move(cells));
    }
    Batch b = test::make_batch(schema_, table);
    std::get<std::unique_ptr<TransformNode>>(node_.body)->process(b);
    return b;
  }

  // The one record of a row that must pass.
  Record accept(const Cells& row) {
    Batch b = run({row});
    EXPECT_TRUE(b.rejects.empty()) << b.rejects.front().code << ": " << b.rejects.front().message;
    if (b.records.size() != 1) throw std::runtime_error("row was not accepted");
    return std::move(b.records.front());
  }

  // The one reject of a row that must fail.
  Reject reject(const Cells& row) {
    Batch b = run({row});
    EXPECT_TRUE(b.records.empty());
    if (b.rejects.size() != 1) throw std::runtime_error("row was not rejected");
    EXPECT_EQ(b.rejects.front().node, "check");
    return std::move(b.rejects.front());
  }

  const Value& value(const Record& r, const std::string& name) const { return r.values.at(*schema_.find(name)); }
  std::string text(const Record& r, const std::string& name) const { return std::get<std::string>(value(r, name)); }
  std::string decimal(const Record& r, const std::string& name) const {
    return std::get<Decimal>(value(r, name)).to_string();
  }
  std::string json(const Record& r, const std::string& name) const { return std::get<Json>(value(r, name)).text; }

 private:
  std::unique_ptr<test::SupplierFixture> supplier_;
  Schema schema_;
  test::BuiltNode node_;
};

TEST(ValidateMoney, SplitsAmountAndCurrency) {
  Validator v("  price: {column: Price, type: money, min: \"1\"}\n");
  Record r = v.accept({{"price", "15.00 USD"}});
  EXPECT_EQ(v.decimal(r, "price"), "15.00");
  EXPECT_EQ(v.text(r, "price_currency"), "USD");

  r = v.accept({{"price", "9.99"}});
  EXPECT_EQ(v.decimal(r, "price"), "9.99");
  EXPECT_EQ(v.text(r, "price_currency"), "EUR");  // a bare number is in the supplier's currency

  r = v.accept({{"price", " 12.30  GBP "}});
  EXPECT_EQ(v.decimal(r, "price"), "12.30");
  EXPECT_EQ(v.text(r, "price_currency"), "GBP");

  r = v.accept({{"price", "1 JPY"}});  // the minimum is inclusive
  EXPECT_EQ(v.decimal(r, "price"), "1");
  EXPECT_EQ(v.text(r, "price_currency"), "JPY");
}

TEST(ValidateMoney, RejectsUnknownCurrencyBadAmountAndBelowMinimum) {
  Validator v("  price: {column: Price, type: money, min: \"1\"}\n");
  Reject r = v.reject({{"price", "15.00 XYZ"}});
  EXPECT_EQ(r.code, "currency");
  EXPECT_EQ(r.message, "field 'price' (column 'Price'): unknown currency \"XYZ\" in \"15.00 XYZ\"");

  r = v.reject({{"price", "15.00 usd"}});
  EXPECT_EQ(r.code, "currency");
  EXPECT_EQ(r.message, "field 'price' (column 'Price'): unknown currency \"usd\" in \"15.00 usd\"");

  r = v.reject({{"price", "abc USD"}});
  EXPECT_EQ(r.code, "type");
  EXPECT_EQ(r.message, "field 'price' (column 'Price'): expected an amount like 15.00 or 15.00 USD, got \"abc USD\"");

  r = v.reject({{"price", "0.50 USD"}});
  EXPECT_EQ(r.code, "min");
  EXPECT_EQ(r.message, "field 'price' (column 'Price'): value 0.50 is below the minimum 1");
  EXPECT_EQ(r.raw.size(), 3u);  // sku, price, price_currency
}

TEST(ValidateMoney, TakesTheCurrencyFromCurrencyField) {
  Validator v("  cur: {column: Cur}\n  net: {column: Net, type: money, currency_field: cur}\n");
  Record r = v.accept({{"cur", "USD"}, {"net", "15.00"}});
  EXPECT_EQ(v.decimal(r, "net"), "15.00");
  EXPECT_EQ(v.text(r, "net_currency"), "USD");
  EXPECT_EQ(v.text(r, "cur"), "USD");

  Reject bad = v.reject({{"cur", "DOLLAR"}, {"net", "15.00"}});
  EXPECT_EQ(bad.code, "currency");
  EXPECT_EQ(bad.message, "field 'net' (column 'Net'): unknown currency \"DOLLAR\" in \"15.00\"");

  // With a currency field the value itself is a bare amount.
  bad = v.reject({{"cur", "USD"}, {"net", "15.00 USD"}});
  EXPECT_EQ(bad.code, "type");
  EXPECT_EQ(bad.message, "field 'net' (column 'Net'): expected an amount like 15.00 or 15.00 USD, got \"15.00 USD\"");
}

TEST(ValidateMoney, AnAmountWhoseCurrencyFieldIsEmptyIsRejectedNotPricedInTheSuppliersCurrency) {
  Validator v("  cur: {column: Cur}\n  net: {column: Net, type: money, currency_field: cur}\n");
  Reject r = v.reject({{"net", "15.00"}});
  EXPECT_EQ(r.code, "currency");
  EXPECT_EQ(r.message,
            "field 'net' (column 'Net'): no currency: field 'cur' (column 'Cur') is empty; set default_currency on "
            "field 'net' if such amounts have a known currency");
}

TEST(ValidateMoney, DefaultCurrencyPricesOnlyTheRowsWhoseCurrencyFieldIsEmpty) {
  Validator v("  cur: {column: Cur}\n  net: {column: Net, type: money, currency_field: cur, default_currency: GBP}\n");
  Record r = v.accept({{"net", "15.00"}});
  EXPECT_EQ(v.text(r, "net_currency"), "GBP");
  r = v.accept({{"cur", "USD"}, {"net", "15.00"}});
  EXPECT_EQ(v.text(r, "net_currency"), "USD");
}

TEST(ValidateMoney, DefaultCurrencyNeedsACurrencyFieldAndAKnownCode) {
  auto orphan = test::load_supplier(
      "supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n"
      "  net: {column: Net, type: money, default_currency: USD}\n");
  EXPECT_NE(orphan->diags.format().find(
                "fields.net.default_currency: 'default_currency' applies only to money fields with a currency_field"),
            std::string::npos)
      << orphan->diags.format();
  auto unknown = test::load_supplier(
      "supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n  cur: {column: Cur}\n"
      "  net: {column: Net, type: money, currency_field: cur, default_currency: usd}\n");
  EXPECT_NE(unknown->diags.format().find("fields.net.default_currency: unknown currency 'usd'"), std::string::npos)
      << unknown->diags.format();
}

TEST(ValidateNumbers, ExponentNotationInACsvFeedIsRefusedSayingSo) {
  Validator v(
      "  price: {column: Price, type: money}\n  weight: {column: Weight, type: decimal}\n"
      "  stock: {column: Stock, type: int}\n");
  Reject r = v.reject({{"price", "1E-2"}});
  EXPECT_EQ(r.code, "type");
  EXPECT_EQ(r.message,
            "field 'price' (column 'Price'): expected an amount, got \"1E-2\": exponent notation (at position 1) is "
            "not accepted; write the number out in full");
  r = v.reject({{"weight", "8.84777E+11"}});
  EXPECT_EQ(r.message,
            "field 'weight' (column 'Weight'): expected a decimal number, got \"8.84777E+11\": exponent notation (at "
            "position 7) is not accepted; write the number out in full");
  r = v.reject({{"stock", "1e3"}});
  EXPECT_NE(r.message.find("exponent notation"), std::string::npos) << r.message;
}

TEST(ValidateNumbers, ExponentNotationInAnNdjsonFeedIsExact) {
  Validator v(
      "  price: {column: priceInfo.price, type: money}\n  weight: {column: w, type: decimal}\n"
      "  stock: {column: n, type: int}\n",
      "feed: {format: ndjson}\n");
  Record r = v.accept({{"price", "1E-2"}, {"weight", "1.50E1"}, {"stock", "2E+3"}});
  EXPECT_EQ(v.decimal(r, "price"), "0.01");
  EXPECT_EQ(v.decimal(r, "weight"), "15.0");
  EXPECT_EQ(std::get<std::int64_t>(v.value(r, "stock")), 2000);

  // Bounded: a huge exponent is a quick reject that says why, never a huge number.
  Reject bad = v.reject({{"price", "1e999999"}});
  EXPECT_EQ(bad.code, "type");
  EXPECT_EQ(bad.message,
            "field 'price' (column 'priceInfo.price'): expected an amount, got \"1e999999\": out of range (more "
            "digits than int64 units hold)");
  bad = v.reject({{"weight", "1e-999999"}});
  EXPECT_EQ(
      bad.message,
      "field 'weight' (column 'w'): expected a decimal number, got \"1e-999999\": more than 18 fractional digits");
  bad = v.reject({{"stock", "1.5E0"}});
  EXPECT_EQ(bad.message, "field 'stock' (column 'n'): expected an integer, got \"1.5E0\"");
}

// The currency field's map turns "$" into USD before the checks; that must not depend on whether the
// currency field is declared before or after the money field.
TEST(ValidateMoney, CurrencyFieldIsReadAfterItsMapWhateverTheFieldOrder) {
  Validator before("  cur: {column: Cur, map: {\"$\": USD}}\n  net: {column: Net, type: money, currency_field: cur}\n");
  Record r = before.accept({{"cur", "$"}, {"net", "15.00"}});
  EXPECT_EQ(before.text(r, "net_currency"), "USD");

  Validator after("  net: {column: Net, type: money, currency_field: cur}\n  cur: {column: Cur, map: {\"$\": USD}}\n");
  Batch b = after.run({{{"cur", "$"}, {"net", "15.00"}}});
  ASSERT_EQ(b.records.size(), 1u) << b.rejects.at(0).code << ": " << b.rejects.at(0).message;
  EXPECT_EQ(after.text(b.records[0], "net_currency"), "USD");
}

TEST(ValidateGtin, AcceptsValidNumbersOfEveryLength) {
  Validator v("  ean: {column: EAN, type: gtin}\n");
  for (const char* gtin : {"4006381333931", "96385074", "036000291452", "04006381333931"}) {
    Record r = v.accept({{"ean", gtin}});
    EXPECT_EQ(v.text(r, "ean"), gtin);
  }
}

TEST(ValidateGtin, RejectsWrongCheckDigitAndSpreadsheetNumbers) {
  Validator v("  ean: {column: EAN, type: gtin}\n");
  Reject r = v.reject({{"ean", "4006381333932"}});
  EXPECT_EQ(r.code, "gtin");
  EXPECT_EQ(r.message,
            "field 'ean' (column 'EAN'): value \"4006381333932\" is not a valid GTIN: check digit is 2, expected 1");

  r = v.reject({{"ean", "8.84777E+11"}});
  EXPECT_EQ(r.code, "gtin");
  EXPECT_EQ(r.message,
            "field 'ean' (column 'EAN'): value \"8.84777E+11\" is not a valid GTIN: contains 'E': looks like a "
            "number mangled by a spreadsheet (scientific notation)");

  r = v.reject({{"ean", "400638133393"}});
  EXPECT_EQ(r.code, "gtin");
  EXPECT_NE(r.message.find("field 'ean'"), std::string::npos);
  EXPECT_NE(r.message.find("\"400638133393\""), std::string::npos) << r.message;
}

TEST(ValidateDates, DateUsesItsZoneAndEndOfDay) {
  Validator v(
      "  ends: {column: Ends, type: date, zone: \"+01:00\", end_of_day: true}\n"
      "  starts: {column: Starts, type: date, zone: \"-0500\"}\n"
      "  day: {column: Day, type: date}\n");
  Record r = v.accept({{"ends", "2026-06-30"}, {"starts", "2026-06-30"}, {"day", "2026-06-30"}});
  EXPECT_EQ(v.text(r, "ends"), "2026-06-30T22:59:59Z");
  EXPECT_EQ(v.text(r, "starts"), "2026-06-30T05:00:00Z");
  EXPECT_EQ(v.text(r, "day"), "2026-06-30T00:00:00Z");  // without a zone a date is UTC

  Reject bad = v.reject({{"day", "2026-02-30"}});
  EXPECT_EQ(bad.code, "type");
  EXPECT_EQ(bad.message.rfind("field 'day' (column 'Day'): expected a date like 2026-02-24, got \"2026-02-30\": ", 0),
            0u)
      << bad.message;
}

TEST(ValidateDates, DatetimeNeedsAZoneAndBecomesUtc) {
  Validator v("  at: {column: At, type: datetime}\n  local: {column: Local, type: datetime, zone: \"+01:00\"}\n");
  Record r = v.accept({{"at", "2026-02-24T11:07:30+01:00"}, {"local", "2026-02-24T11:07"}});
  EXPECT_EQ(v.text(r, "at"), "2026-02-24T10:07:30Z");
  EXPECT_EQ(v.text(r, "local"), "2026-02-24T10:07:00Z");

  r = v.accept({{"at", "2026-02-24T11:07-0530"}, {"local", "2026-02-24T11:07:00Z"}});
  EXPECT_EQ(v.text(r, "at"), "2026-02-24T16:37:00Z");
  EXPECT_EQ(v.text(r, "local"), "2026-02-24T11:07:00Z");  // an explicit zone wins over the configured one

  Reject bad = v.reject({{"at", "2026-02-24T11:07:00"}});
  EXPECT_EQ(bad.code, "type");
  EXPECT_EQ(bad.message,
            "field 'at' (column 'At'): expected a date-time like 2026-02-24T11:07:00+01:00, got "
            "\"2026-02-24T11:07:00\": missing time zone (add Z or an offset like +01:00)");
}

TEST(ValidateDates, IntervalBecomesUtcTexts) {
  Validator v("  window: {column: Window, type: interval}\n  days: {column: Days, type: interval, zone: Z}\n");
  Record r = v.accept({{"window", "2028-02-24T11:07+0100/2028-02-29T23:07+0100"}, {"days", "2026-06-01/2026-06-01"}});
  EXPECT_EQ(v.text(r, "window"), "2028-02-24T10:07:00Z/2028-02-29T22:07:00Z");
  EXPECT_EQ(v.text(r, "days"), "2026-06-01T00:00:00Z/2026-06-01T23:59:59Z");  // a whole day

  r = v.accept({{"window", "2026-02-24T11:07+0100/2026-02-28T23:07+0100"}});
  EXPECT_EQ(v.text(r, "window"), "2026-02-24T10:07:00Z/2026-02-28T22:07:00Z");
}

TEST(ValidateDates, IntervalRejectsEndBeforeStartAndImpossibleDays) {
  Validator v("  window: {column: Window, type: interval}\n");
  Reject bad = v.reject({{"window", "2026-03-02T00:00Z/2026-03-01T00:00Z"}});
  EXPECT_EQ(bad.code, "type");
  EXPECT_EQ(bad.message,
            "field 'window' (column 'Window'): expected an interval like 2026-02-24T11:07+0100/2026-02-29T23:07+0100, "
            "got \"2026-03-02T00:00Z/2026-03-01T00:00Z\": end 2026-03-01T00:00:00Z is before start "
            "2026-03-02T00:00:00Z");

  // 2026 is not a leap year: there is no 29 February.
  bad = v.reject({{"window", "2026-02-24T11:07+0100/2026-02-29T23:07+0100"}});
  EXPECT_EQ(bad.code, "type");
  EXPECT_NE(bad.message.find("field 'window' (column 'Window')"), std::string::npos);
  EXPECT_NE(bad.message.find("\"2026-02-24T11:07+0100/2026-02-29T23:07+0100\": end of interval"), std::string::npos)
      << bad.message;
}

TEST(ValidateList, SplitsTrimsAndDropsEmptyItems) {
  Validator v("  tags: {column: Tags, type: list, separator: \";\"}\n  imgs: {column: Imgs, type: list, items: url}\n");
  Record r = v.accept({{"tags", " red ; green;;blue\t; "}, {"imgs", "https://a.example/1.jpg, http://b.example/2"}});
  EXPECT_EQ(v.json(r, "tags"), R"(["red","green","blue"])");
  EXPECT_EQ(v.json(r, "imgs"), R"(["https://a.example/1.jpg","http://b.example/2"])");

  r = v.accept({{"tags", "a,b;say \"hi\""}, {"imgs", "https://a.example/1.jpg"}});
  EXPECT_EQ(v.json(r, "tags"), R"(["a,b","say \"hi\""])");
  EXPECT_EQ(v.json(r, "imgs"), R"(["https://a.example/1.jpg"])");

  r = v.accept({{"tags", " ; ;"}});
  EXPECT_EQ(v.json(r, "tags"), "[]");
}

TEST(ValidateList, RejectsABadUrlItem) {
  Validator v("  imgs: {column: Imgs, type: list, items: url}\n");
  Reject bad = v.reject({{"imgs", "https://a.example/1.jpg,ftp://b.example/2.jpg,https://c.example/3.jpg"}});
  EXPECT_EQ(bad.code, "url");
  EXPECT_EQ(bad.message,
            "field 'imgs' (column 'Imgs'): item \"ftp://b.example/2.jpg\" is not an http or https URL with a host");

  bad = v.reject({{"imgs", "https:///no-host.jpg"}});
  EXPECT_EQ(bad.code, "url");
  EXPECT_EQ(bad.message,
            "field 'imgs' (column 'Imgs'): item \"https:///no-host.jpg\" is not an http or https URL with a host");
}

TEST(ValidateMap, ReplacesTheValueBeforeTheEnumCheck) {
  Validator v(
      "  stock: {column: Stock, type: enum, values: [in_stock, out_of_stock], map: {\"in stock\": in_stock, "
      "\"sold out\": out_of_stock}}\n");
  Record r = v.accept({{"stock", "in stock"}});
  EXPECT_EQ(v.text(r, "stock"), "in_stock");
  r = v.accept({{"stock", "sold out"}});
  EXPECT_EQ(v.text(r, "stock"), "out_of_stock");
  r = v.accept({{"stock", "in_stock"}});
  EXPECT_EQ(v.text(r, "stock"), "in_stock");

  Reject bad = v.reject({{"stock", "In Stock"}});  // the map matches exactly
  EXPECT_EQ(bad.code, "enum");
  EXPECT_EQ(bad.message, "field 'stock' (column 'Stock'): value \"In Stock\" is not one of: in_stock, out_of_stock");
}

TEST(ValidatePattern, MustMatchTheWholeValue) {
  Validator v("  code: {column: Code, pattern: \"[A-Z]{2}[0-9]+\", map: {legacy: AB1}}\n");
  Record r = v.accept({{"code", "AB12"}});
  EXPECT_EQ(v.text(r, "code"), "AB12");
  r = v.accept({{"code", "legacy"}});  // mapped before the pattern applies
  EXPECT_EQ(v.text(r, "code"), "AB1");

  for (const char* value : {"AB12x", "xAB12", "ab12", "AB"}) {
    Reject bad = v.reject({{"code", value}});
    EXPECT_EQ(bad.code, "pattern");
    EXPECT_EQ(bad.message, "field 'code' (column 'Code'): value \"" + std::string(value) +
                               "\" does not match the pattern \"[A-Z]{2}[0-9]+\"");
  }
}

const char* kChecks =
    "  price: {column: Price, type: decimal}\n"
    "  sale_price: {column: Sale, type: decimal}\n"
    "  start: {column: Start, type: datetime}\n"
    "  end: {column: End, type: datetime}\n";
const char* kCheckRules =
    "checks:\n"
    "  - {left: sale_price, op: \"<=\", right: price}\n"
    "  - {left: start, op: \"<\", right: end}\n";

TEST(ValidateChecks, ComparesNumbersAndSkipsEmptySides) {
  Validator v(kChecks, kCheckRules);
  Reject bad = v.reject({{"price", "10"}, {"sale_price", "12.00"}});
  EXPECT_EQ(bad.code, "check");
  EXPECT_EQ(bad.message, "field 'sale_price' (column 'Sale'): rule sale_price <= price does not hold: 12.00 vs 10");

  for (const Cells& ok : std::vector<Cells>{{{"price", "10"}, {"sale_price", "10.00"}},
                                            {{"price", "10"}, {"sale_price", "9.999"}},
                                            {{"price", "10"}},
                                            {{"sale_price", "12"}}}) {
    Batch b = v.run({ok});
    EXPECT_EQ(b.records.size(), 1u) << (b.rejects.empty() ? "" : b.rejects[0].message);
  }

  // A side that breaks its own rule is reported there, not by the check.
  bad = v.reject({{"price", "10"}, {"sale_price", "12,00"}});
  EXPECT_EQ(bad.code, "type");
  EXPECT_EQ(bad.message.find("rule"), std::string::npos) << bad.message;
}

TEST(ValidateChecks, ComparesInstantsInUtc) {
  Validator v(kChecks, kCheckRules);
  // 10:00 at +02:00 is 08:00Z, before 09:00Z, although its local text sorts after.
  Record r = v.accept({{"start", "2026-06-01T10:00:00+02:00"}, {"end", "2026-06-01T09:00:00Z"}});
  EXPECT_EQ(v.text(r, "start"), "2026-06-01T08:00:00Z");

  Reject bad = v.reject({{"start", "2026-06-01T12:00:00Z"}, {"end", "2026-06-01T13:00:00+02:00"}});
  EXPECT_EQ(bad.code, "check");
  EXPECT_EQ(bad.message,
            "field 'start' (column 'Start'): rule start < end does not hold: 2026-06-01T12:00:00Z vs "
            "2026-06-01T11:00:00Z");

  bad = v.reject({{"start", "2026-06-01T12:00:00Z"}, {"end", "2026-06-01T12:00:00Z"}});  // strict
  EXPECT_EQ(bad.code, "check");

  // Both checks broken: one reject naming both.
  bad = v.reject({{"price", "1"}, {"sale_price", "2"}, {"start", "2026-06-02T00:00Z"}, {"end", "2026-06-01T00:00Z"}});
  EXPECT_EQ(bad.code, "check");
  EXPECT_EQ(bad.message,
            "field 'sale_price' (column 'Sale'): rule sale_price <= price does not hold: 2 vs 1; field 'start' "
            "(column 'Start'): rule start < end does not hold: 2026-06-02T00:00:00Z vs 2026-06-01T00:00:00Z");
}

}  // namespace
}  // namespace sluice
