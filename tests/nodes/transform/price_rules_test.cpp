// price with pricing rules (sale windows, discounts, floor and ceiling, exchange rates, tax by country) and
// randomised properties: exact results against an independent rational reference, rounding modes, totals.
#include <gtest/gtest.h>

#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/datetime.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

using Cells = std::map<std::string, std::string>;

std::int64_t at(const std::string& text) {
  auto t = parse_datetime(text);
  if (!t) throw std::runtime_error("bad instant " + text + ": " + t.error);
  return t.value->seconds;
}

// validate then price on one schema, as a graph runs them; price's "now" is set with open().
class Pricer {
 public:
  explicit Pricer(const std::string& yaml)
      : supplier_(test::load_supplier(yaml)),
        validate_(test::build_node("id: check\ntype: validate\n", *supplier_, schema_)),
        price_(test::build_node("id: price\ntype: price\n", *supplier_, schema_)) {
    EXPECT_TRUE(supplier_->diags.empty()) << supplier_->diags.format();
    EXPECT_TRUE(validate_.diags.empty()) << validate_.diags.format();
    EXPECT_TRUE(price_.diags.empty()) << price_.diags.format();
    open(0);
  }

  void open(std::int64_t as_of) {
    RunContext ctx;
    ctx.as_of = as_of;
    price().open(ctx);
  }

  // Rows as field name -> feed text, validated and priced. Every row must pass validation.
  Batch run(const std::vector<Cells>& rows) {
    std::vector<std::vector<std::string>> table;
    for (const auto& row : rows) {
      std::vector<std::string> cells(schema_.size());
      for (const auto& [name, text] : row) cells.at(index(name)) = text;
      table.push_back(std::move(cells));
    }
    Batch b = test::make_batch(schema_, table);
    std::get<std::unique_ptr<TransformNode>>(validate_.body)->process(b);
    for (const auto& r : b.rejects) ADD_FAILURE() << "validate rejected line " << r.line << ": " << r.message;
    price().process(b);
    return b;
  }

  // Records with typed values (what validate produces), priced only.
  Batch run_values(const std::vector<std::map<std::string, Value>>& rows) {
    Batch b;
    std::uint64_t line = 2;
    for (const auto& row : rows) {
      Record r;
      r.line = line++;
      r.values.resize(schema_.size());
      for (const auto& [name, value] : row) r.values.at(index(name)) = value;
      b.records.push_back(std::move(r));
    }
    price().process(b);
    return b;
  }

  std::size_t index(const std::string& name) const {
    auto i = schema_.find(name);
    if (!i) throw std::runtime_error("no field " + name);
    return *i;
  }
  const Value& value(const Record& r, const std::string& name) const { return r.values.at(index(name)); }
  std::int64_t minor(const Record& r, const std::string& name) const { return std::get<std::int64_t>(value(r, name)); }
  std::string rules(const Record& r) const { return std::get<Json>(value(r, "price_rules")).text; }

 private:
  TransformNode& price() { return *std::get<std::unique_ptr<TransformNode>>(price_.body); }

  std::unique_ptr<test::SupplierFixture> supplier_;
  Schema schema_;
  test::BuiltNode validate_, price_;
};

// net_minor of each record, in order.
std::vector<std::int64_t> nets(const Pricer& p, const Batch& b) {
  std::vector<std::int64_t> out;
  for (const auto& r : b.records) out.push_back(p.minor(r, "net_minor"));
  return out;
}

const char* kSaleWindow = R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  price: {column: Price, type: decimal}
  sale: {column: Sale, type: decimal}
  window: {column: Window, type: interval, zone: Z}
pricing:
  amount_field: price
  sale: {price_field: sale, window_field: window}
)";

TEST(PriceSale, AppliesOnlyInsideItsWindowAndWhenLower) {
  Pricer p(kSaleWindow);
  p.open(at("2026-06-15T12:00:00Z"));
  Batch b = p.run({
      {{"sku", "in"}, {"price", "20.00"}, {"sale", "15.00"}, {"window", "2026-06-01/2026-06-30"}},
      {{"sku", "future"}, {"price", "20.00"}, {"sale", "15.00"}, {"window", "2026-07-01/2026-07-31"}},
      {{"sku", "past"}, {"price", "20.00"}, {"sale", "15.00"}, {"window", "2026-05-01/2026-05-31"}},
      {{"sku", "higher"}, {"price", "20.00"}, {"sale", "25.00"}, {"window", "2026-06-01/2026-06-30"}},
      {{"sku", "equal"}, {"price", "20.00"}, {"sale", "20"}, {"window", "2026-06-01/2026-06-30"}},
      {{"sku", "no window"}, {"price", "20.00"}, {"sale", "15.00"}},
      {{"sku", "no sale"}, {"price", "20.00"}, {"window", "2026-06-01/2026-06-30"}},
      {{"sku", "starts now"}, {"price", "20.00"}, {"sale", "15.00"}, {"window", "2026-06-15T12:00Z/2026-06-20"}},
      {{"sku", "ends now"}, {"price", "20.00"}, {"sale", "15.00"}, {"window", "2026-06-01/2026-06-15T12:00Z"}},
      {{"sku", "ended"}, {"price", "20.00"}, {"sale", "15.00"}, {"window", "2026-06-01/2026-06-15T11:59:59Z"}},
      {{"sku", "not yet"}, {"price", "20.00"}, {"sale", "15.00"}, {"window", "2026-06-15T12:00:01Z/2026-06-20"}},
  });
  ASSERT_TRUE(b.rejects.empty()) << b.rejects[0].message;
  EXPECT_EQ(nets(p, b), (std::vector<std::int64_t>{1500, 2000, 2000, 2000, 2000, 1500, 2000, 1500, 1500, 2000, 2000}));
  std::vector<std::string> rules;
  for (const auto& r : b.records) {
    rules.push_back(p.rules(r));
    EXPECT_EQ(p.minor(r, "list_minor"), 2000);
  }
  EXPECT_EQ(rules, (std::vector<std::string>{R"(["sale"])", "[]", "[]", "[]", "[]", R"(["sale"])", "[]", R"(["sale"])",
                                             R"(["sale"])", "[]", "[]"}));
}

TEST(PriceSale, HonoursStartAndEndFields) {
  Pricer p(R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  price: {column: Price, type: decimal}
  sale: {column: Sale, type: decimal}
  from: {column: From, type: datetime}
  to: {column: To, type: date, zone: Z, end_of_day: true}
pricing:
  amount_field: price
  sale: {price_field: sale, start_field: from, end_field: to}
)");
  p.open(at("2026-06-15T12:00:00Z"));
  Batch b = p.run({
      {{"price", "20"}, {"sale", "15"}, {"from", "2026-06-01T00:00Z"}, {"to", "2026-06-30"}},  // inside
      {{"price", "20"}, {"sale", "15"}, {"from", "2026-06-15T12:00:00Z"}},                     // starts now
      {{"price", "20"}, {"sale", "15"}, {"from", "2026-06-15T12:00:01Z"}},                     // not yet
      {{"price", "20"}, {"sale", "15"}, {"to", "2026-06-15"}},                                 // ends tonight
      {{"price", "20"}, {"sale", "15"}, {"to", "2026-06-14"}},                                 // ended
      {{"price", "20"}, {"sale", "15"}},                                                       // no dates: holds
      {{"price", "20"}, {"sale", "25"}, {"from", "2026-06-01T00:00Z"}},                        // not lower
  });
  ASSERT_TRUE(b.rejects.empty()) << b.rejects[0].message;
  EXPECT_EQ(nets(p, b), (std::vector<std::int64_t>{1500, 1500, 2000, 1500, 2000, 1500, 2000}));
}

const char* kDiscounts = R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  price: {column: Price, type: decimal}
  cat: {column: Cat}
  qty: {column: Qty, type: int}
pricing:
  amount_field: price
  category_field: cat
  quantity_field: qty
  discounts:
    - {name: summer, percent: "0.10", from: "2026-06-01", until: "2026-08-31"}
    - {name: books, amount: "2.00", categories: [books, comics]}
    - {name: bulk, percent: "0.05", min_quantity: 10}
    - {name: pro, amount: "1.00", sku_prefix: "PRO-"}
    - {name: xmas, percent: "0.50", from: "2026-12-01", until: "2026-12-31"}
)";

TEST(PriceDiscounts, ApplyInOrderWhenTheirConditionsHold) {
  Pricer p(kDiscounts);
  p.open(at("2026-06-15T12:00:00Z"));
  Batch b = p.run({
      {{"sku", "PRO-1"}, {"price", "20.00"}, {"cat", "books"}, {"qty", "10"}},  // 20 * 0.9 - 2 = 16 * 0.95 - 1
      {{"sku", "X-1"}, {"price", "20.00"}, {"cat", "books"}},                   // 20 * 0.9 - 2, not (20 - 2) * 0.9
      {{"sku", "X-2"}, {"price", "20.00"}, {"cat", "toys"}, {"qty", "9"}},
      {{"sku", "X-3"}, {"price", "20.00"}, {"cat", "comics"}, {"qty", "11"}},
      {{"sku", "pro-4"}, {"price", "20.00"}},  // the prefix is case-sensitive
      {{"sku", "XPRO-5"}, {"price", "20.00"}},
      {{"sku", "PRO-6"}, {"price", "1.50"}, {"cat", "books"}},  // an amount never takes it below zero
  });
  ASSERT_TRUE(b.rejects.empty()) << b.rejects[0].message;
  EXPECT_EQ(nets(p, b), (std::vector<std::int64_t>{1420, 1600, 1800, 1520, 1800, 1800, 0}));
  std::vector<std::string> rules;
  for (const auto& r : b.records) rules.push_back(p.rules(r));
  EXPECT_EQ(rules, (std::vector<std::string>{R"(["summer","books","bulk","pro"])", R"(["summer","books"])",
                                             R"(["summer"])", R"(["summer","books","bulk"])", R"(["summer"])",
                                             R"(["summer"])", R"(["summer","books","pro"])"}));
  const Record& zero = b.records.back();
  EXPECT_EQ(p.minor(zero, "tax_minor"), 0);
  EXPECT_EQ(p.minor(zero, "gross_minor"), 0);
  EXPECT_EQ(p.minor(zero, "list_minor"), 150);
}

TEST(PriceDiscounts, DateWindowIsInclusiveAndUntilMeansTheEndOfTheDay) {
  Pricer p(kDiscounts);
  const Cells row{{"sku", "X"}, {"price", "100"}};
  struct Case {
    const char* as_of;
    std::int64_t net;
  };
  for (const Case& c :
       {Case{"2026-05-31T23:59:59Z", 10000}, Case{"2026-06-01T00:00:00Z", 9000}, Case{"2026-08-31T23:59:59Z", 9000},
        Case{"2026-09-01T00:00:00Z", 10000}, Case{"2026-12-01T00:00:00Z", 5000}, Case{"2027-01-01T00:00:00Z", 10000}}) {
    p.open(at(c.as_of));
    Batch b = p.run({row});
    ASSERT_EQ(b.records.size(), 1u);
    EXPECT_EQ(p.minor(b.records[0], "net_minor"), c.net) << "as of " << c.as_of;
  }
}

TEST(PriceBounds, FloorAndCeilingAfterSaleAndDiscounts) {
  Pricer p(R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  price: {column: Price, type: decimal}
  sale: {column: Sale, type: decimal}
pricing:
  amount_field: price
  sale: {price_field: sale}
  discounts: [{name: summer, percent: "0.50"}]
  floor: "5.00"
  ceiling: "100"
  tax: {default: "0.10"}
)");
  Batch b = p.run({
      {{"price", "20"}, {"sale", "16"}},  // 16 * 0.5 = 8
      {{"price", "8"}, {"sale", "6"}},    // 3, floored to 5
      {{"price", "400"}},                 // 200, capped at 100
      {{"price", "20"}, {"sale", "30"}},  // 10
      {{"price", "10.00"}},               // 5: at the floor, not raised
      {{"price", "200.00"}},              // 100: at the ceiling
  });
  ASSERT_TRUE(b.rejects.empty()) << b.rejects[0].message;
  struct Want {
    std::int64_t net, tax, gross, list;
    const char* rules;
  };
  const std::vector<Want> expected{
      {800, 80, 880, 2000, R"(["sale","summer"])"},
      {500, 50, 550, 800, R"(["sale","summer","floor"])"},
      {10000, 1000, 11000, 40000, R"(["summer","ceiling"])"},
      {1000, 100, 1100, 2000, R"(["summer"])"},
      {500, 50, 550, 1000, R"(["summer"])"},
      {10000, 1000, 11000, 20000, R"(["summer"])"},
  };
  ASSERT_EQ(b.records.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const Record& r = b.records[i];
    EXPECT_EQ(p.minor(r, "net_minor"), expected[i].net) << "row " << i;
    EXPECT_EQ(p.minor(r, "tax_minor"), expected[i].tax) << "row " << i;
    EXPECT_EQ(p.minor(r, "gross_minor"), expected[i].gross) << "row " << i;
    EXPECT_EQ(p.minor(r, "list_minor"), expected[i].list) << "row " << i;
    EXPECT_EQ(p.rules(r), expected[i].rules) << "row " << i;
  }
}

const char* kExchange = R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  price: {column: Price, type: money}
  sale: {column: Sale, type: money}
pricing:
  amount_field: price
  sale: {price_field: sale}
  currency: USD
  exchange_rates: {EUR: "1.08", JPY: "0.0065"}
)";

TEST(PriceCurrency, ConvertsAtTheConfiguredRates) {
  Pricer p(kExchange);
  Batch b = p.run({
      {{"sku", "a"}, {"price", "12.50"}},                          // EUR, the supplier's currency
      {{"sku", "b"}, {"price", "12.50 EUR"}},                      //
      {{"sku", "c"}, {"price", "10.00 USD"}},                      // already in USD
      {{"sku", "d"}, {"price", "1999 JPY"}},                       // 12.9935 USD
      {{"sku", "e"}, {"price", "12.50 EUR"}, {"sale", "11 USD"}},  // 13.50 USD, sale 11 USD
      {{"sku", "f"}, {"price", "12.50 EUR"}, {"sale", "13 EUR"}},  // sale 14.04 USD is not lower
  });
  ASSERT_TRUE(b.rejects.empty()) << b.rejects[0].message;
  EXPECT_EQ(nets(p, b), (std::vector<std::int64_t>{1350, 1350, 1000, 1299, 1100, 1350}));
  for (const auto& r : b.records) EXPECT_EQ(std::get<std::string>(p.value(r, "currency")), "USD");
  EXPECT_EQ(p.minor(b.records[0], "list_minor"), 1350);
  EXPECT_EQ(p.rules(b.records[0]), "[]");
  EXPECT_EQ(p.minor(b.records[4], "list_minor"), 1350);
  EXPECT_EQ(p.rules(b.records[4]), R"(["sale"])");
}

TEST(PriceCurrency, RejectsAnAmountWithoutARate) {
  Pricer p(kExchange);
  Batch b = p.run({
      {{"sku", "a"}, {"price", "10.00 GBP"}},
      {{"sku", "b"}, {"price", "10.00 EUR"}, {"sale", "5 CHF"}},
      {{"sku", "c"}, {"price", "10.00 EUR"}},
  });
  ASSERT_EQ(b.records.size(), 1u);
  EXPECT_EQ(p.minor(b.records[0], "net_minor"), 1080);
  ASSERT_EQ(b.rejects.size(), 2u);
  EXPECT_EQ(b.rejects[0].code, "currency");
  EXPECT_EQ(b.rejects[0].node, "price");
  EXPECT_EQ(b.rejects[0].line, 2u);
  EXPECT_EQ(b.rejects[0].message, "field 'price' is in GBP, and pricing.exchange_rates has no rate from GBP to USD");
  EXPECT_EQ(b.rejects[1].code, "currency");
  EXPECT_EQ(b.rejects[1].message, "field 'sale' is in CHF, and pricing.exchange_rates has no rate from CHF to USD");
}

TEST(PriceCurrency, AMoneyAmountWithoutItsCurrencyIsRejectedNotGuessed) {
  Pricer p(kExchange);
  // Priced without validate: the amount is text and no currency was read with it.
  Batch b = p.run_values({{{"sku", std::string("a")}, {"price", std::string("12.50")}}});
  EXPECT_TRUE(b.records.empty());
  ASSERT_EQ(b.rejects.size(), 1u);
  EXPECT_EQ(b.rejects[0].code, "currency");
  EXPECT_EQ(b.rejects[0].message, "field 'price' is money but has no currency: validate it before price");
}

TEST(PriceCurrency, RoundsInThePricingCurrency) {
  Pricer p(R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  price: {column: Price, type: decimal}
pricing:
  amount_field: price
  currency: JPY
  exchange_rates: {EUR: "160.5"}
)");
  Batch b = p.run({{{"price", "12.50"}}, {{"price", "0.01"}}});  // 2006.25 and 1.605 yen
  ASSERT_TRUE(b.rejects.empty()) << b.rejects[0].message;
  EXPECT_EQ(nets(p, b), (std::vector<std::int64_t>{2006, 2}));
}

TEST(PriceTax, CountryRateBeatsCategoryRate) {
  Pricer p(R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  price: {column: Price, type: decimal}
  cat: {column: Cat}
  country: {column: Country}
pricing:
  amount_field: price
  category_field: cat
  country_field: country
  tax:
    default: "0.20"
    by_category: {books: "0.07"}
    by_country: {CH: "0.081", US: "0"}
)");
  Batch b = p.run({
      {{"price", "10.00"}, {"cat", "books"}, {"country", "CH"}},
      {{"price", "10.00"}, {"cat", "books"}, {"country", "DE"}},
      {{"price", "10.00"}, {"cat", "toys"}, {"country", "DE"}},
      {{"price", "10.00"}, {"cat", "books"}, {"country", "US"}},
      {{"price", "10.00"}, {"cat", "books"}},
      {{"price", "10.00"}, {"country", "CH"}},
  });
  ASSERT_TRUE(b.rejects.empty()) << b.rejects[0].message;
  std::vector<std::int64_t> taxes;
  std::vector<std::string> rates;
  for (const auto& r : b.records) {
    taxes.push_back(p.minor(r, "tax_minor"));
    rates.push_back(std::get<Decimal>(p.value(r, "tax_rate")).to_string());
    EXPECT_EQ(p.minor(r, "net_minor") + p.minor(r, "tax_minor"), p.minor(r, "gross_minor"));
  }
  EXPECT_EQ(taxes, (std::vector<std::int64_t>{81, 70, 200, 0, 70, 81}));
  EXPECT_EQ(rates, (std::vector<std::string>{"0.081", "0.07", "0.20", "0", "0.07", "0.081"}));
}

// ---- Properties over random rows, against an independent reference in exact rational arithmetic. ----

__extension__ typedef __int128 Wide;

Wide power_of_ten(int n) {
  Wide p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

struct Step {
  Wide value = 0;
  bool tie = false;  // the exact quotient was halfway between two integers
};

// num / den for num >= 0 and den > 0, rounded to an integer.
Step round_ratio(Wide num, Wide den, Rounding mode) {
  const Wide q = num / den, r = num % den;
  Step s{q, r != 0 && 2 * r == den};
  const bool away = mode == Rounding::up        ? r != 0
                    : mode == Rounding::down    ? false
                    : mode == Rounding::half_up ? 2 * r >= den && r != 0
                                                : 2 * r > den || (s.tie && q % 2 != 0);
  if (away) s.value = q + 1;
  return s;
}

struct Dec {
  std::int64_t units = 0;
  int scale = 0;
  std::string text() const { return Decimal::from_units(units, scale).to_string(); }
};

struct Config {
  int exponent = 2;
  std::string currency = "EUR";
  bool inclusive = false;
  Dec percent, fixed, tax;
};

struct Expected {
  std::int64_t net = 0, tax = 0, gross = 0;
  Step first, second;  // the two roundings: net then tax (exclusive), gross then net (inclusive)
};

// amount * (1 - percent) - fixed, clamped at 0, each discount only when it applies; then rounded once per output.
Expected reference(const Config& c, const Dec& amount, bool with_percent, bool with_fixed, Rounding mode) {
  Wide num = amount.units, den = power_of_ten(amount.scale);
  if (with_percent) {
    num *= power_of_ten(c.percent.scale) - c.percent.units;
    den *= power_of_ten(c.percent.scale);
  }
  if (with_fixed) {
    num = num * power_of_ten(c.fixed.scale) - c.fixed.units * den;
    den *= power_of_ten(c.fixed.scale);
    if (num < 0) num = 0;
  }
  const Wide scaled = num * power_of_ten(c.exponent);
  const Wide rate_den = power_of_ten(c.tax.scale);
  Expected e;
  if (!c.inclusive) {
    e.first = round_ratio(scaled, den, mode);
    e.second = round_ratio(e.first.value * c.tax.units, rate_den, mode);
    e.net = static_cast<std::int64_t>(e.first.value);
    e.tax = static_cast<std::int64_t>(e.second.value);
    e.gross = e.net + e.tax;
  } else {
    e.first = round_ratio(scaled, den, mode);
    e.second = round_ratio(scaled * rate_den, den * (rate_den + c.tax.units), mode);
    e.gross = static_cast<std::int64_t>(e.first.value);
    e.net = static_cast<std::int64_t>(e.second.value);
    e.tax = e.gross - e.net;
  }
  return e;
}

std::string property_yaml(const Config& c, Rounding mode) {
  return "supplier: t\ncurrency: " + c.currency +
         "\nfields:\n  sku: {column: SKU}\n  price: {column: Price, type: decimal}\n  cat: {column: Cat}\n"
         "pricing:\n  amount_field: price\n  category_field: cat\n  prices_include_tax: " +
         (c.inclusive ? "true" : "false") + "\n  rounding: " + std::string(to_string(mode)) +
         "\n  discounts:\n    - {name: pct, percent: \"" + c.percent.text() +
         "\", categories: [p, pa]}\n    - {name: fixed, amount: \"" + c.fixed.text() +
         "\", categories: [a, pa]}\n  tax: {default: \"" + c.tax.text() + "\"}\n";
}

class Random {
 public:
  explicit Random(std::uint64_t seed) : gen_(seed) {}
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(gen_);
  }
  // A decimal in [0, 10^digits) major units with the given scale.
  Dec decimal(int max_digits, int max_scale) {
    int scale = static_cast<int>(between(0, max_scale));
    int digits = static_cast<int>(between(1, max_digits)) + scale;
    return {between(0, static_cast<std::int64_t>(power_of_ten(digits)) - 1), scale};
  }
  // A fraction in [0, 1].
  Dec fraction(int max_scale) {
    int scale = static_cast<int>(between(0, max_scale));
    return {between(0, static_cast<std::int64_t>(power_of_ten(scale))), scale};
  }
  Dec tax_rate() {
    static const Dec common[] = {{20, 2}, {19, 2}, {55, 3}, {5, 1}, {25, 2}, {125, 3}, {75, 3}, {0, 0}, {1, 0}};
    if (between(0, 1) == 0) return common[between(0, std::size(common) - 1)];
    return fraction(4);
  }
  Config config(bool huge_discounts) {
    static const std::pair<const char*, int> currencies[] = {{"EUR", 2}, {"JPY", 0}, {"KWD", 3}};
    Config c;
    auto [code, exponent] = currencies[between(0, 2)];
    c.currency = code;
    c.exponent = exponent;
    c.inclusive = between(0, 1) == 1;
    c.tax = tax_rate();
    if (huge_discounts) {
      static const Dec steep[] = {{1, 0}, {99, 2}, {9999, 4}, {9, 1}, {5, 1}};
      c.percent = steep[between(0, std::size(steep) - 1)];
      c.fixed = decimal(9, 2);
    } else {
      c.percent = fraction(4);
      c.fixed = decimal(3, 2);
    }
    return c;
  }
  // An amount; half of them sit exactly halfway between two minor units.
  Dec amount(int exponent, int max_digits) {
    if (between(0, 1) == 0)
      return {between(0, static_cast<std::int64_t>(power_of_ten(max_digits))) * 10 + 5, exponent + 1};
    return decimal(max_digits, 4);
  }
  const char* category() {
    static const char* cats[] = {"", "p", "a", "pa"};
    return cats[between(0, 3)];
  }

 private:
  std::mt19937_64 gen_;
};

struct Row {
  Dec amount;
  std::string cat;
};

std::vector<std::map<std::string, Value>> as_values(const std::vector<Row>& rows) {
  std::vector<std::map<std::string, Value>> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::map<std::string, Value> v{{"sku", "S" + std::to_string(i)},
                                   {"price", Decimal::from_units(rows[i].amount.units, rows[i].amount.scale)}};
    if (!rows[i].cat.empty()) v["cat"] = rows[i].cat;
    out.push_back(std::move(v));
  }
  return out;
}

bool with_percent(const Row& r) {
  return r.cat == "p" || r.cat == "pa";
}
bool with_fixed(const Row& r) {
  return r.cat == "a" || r.cat == "pa";
}

// One random pricing configuration (rounding mode included) and 250 random rows, validated and priced.
struct PricedSample {
  Config c;
  Rounding mode = Rounding::half_up;
  std::vector<Row> rows;
  std::unique_ptr<Pricer> pricer;
  Batch batch;

  std::int64_t minor(std::size_t i, const char* field) const { return pricer->minor(batch.records[i], field); }
  Expected expected(std::size_t i) const {
    return reference(c, rows[i].amount, with_percent(rows[i]), with_fixed(rows[i]), mode);
  }
  std::string what(std::size_t i) const {
    return property_yaml(c, mode) + "amount " + rows[i].amount.text() + ", cat '" + rows[i].cat + "'";
  }
};

PricedSample priced_sample(Random& rnd, bool large_discounts, int digits) {
  PricedSample s;
  s.c = rnd.config(large_discounts);
  s.mode = static_cast<Rounding>(rnd.between(0, 3));
  s.pricer = std::make_unique<Pricer>(property_yaml(s.c, s.mode));
  for (int i = 0; i < 250; ++i) s.rows.push_back({rnd.amount(s.c.exponent, digits), rnd.category()});
  s.batch = s.pricer->run_values(as_values(s.rows));
  EXPECT_TRUE(s.batch.rejects.empty()) << s.batch.rejects[0].message;
  EXPECT_EQ(s.batch.records.size(), s.rows.size());
  return s;
}

TEST(PriceProperties, MatchesAnExactRationalReference) {
  Random rnd(20260615);
  std::size_t checked = 0;
  for (int config = 0; config < 48; ++config) {
    const PricedSample s = priced_sample(rnd, false, 7);
    ASSERT_EQ(s.batch.records.size(), s.rows.size());
    for (std::size_t i = 0; i < s.rows.size(); ++i) {
      const Expected e = s.expected(i);
      ASSERT_EQ(s.minor(i, "net_minor"), e.net) << s.what(i);
      ASSERT_EQ(s.minor(i, "tax_minor"), e.tax) << s.what(i);
      ASSERT_EQ(s.minor(i, "gross_minor"), e.gross) << s.what(i);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 48u * 250u);
}

TEST(PriceProperties, HalfUpAndHalfEvenDifferExactlyOnTies) {
  Random rnd(7);
  std::size_t rows_with_ties = 0, rows_differing = 0, ties_agreeing = 0;
  for (int config = 0; config < 40; ++config) {
    const Config c = rnd.config(false);
    Pricer up(property_yaml(c, Rounding::half_up)), even(property_yaml(c, Rounding::half_even));
    std::vector<Row> rows;
    for (int i = 0; i < 250; ++i) rows.push_back({rnd.amount(c.exponent, 6), rnd.category()});
    Batch bu = up.run_values(as_values(rows)), be = even.run_values(as_values(rows));
    ASSERT_TRUE(bu.rejects.empty() && be.rejects.empty());
    ASSERT_EQ(bu.records.size(), rows.size());
    ASSERT_EQ(be.records.size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Expected e = reference(c, rows[i].amount, with_percent(rows[i]), with_fixed(rows[i]), Rounding::half_up);
      const std::string what =
          property_yaml(c, Rounding::half_up) + "amount " + rows[i].amount.text() + ", cat '" + rows[i].cat + "'";
      const char* first = c.inclusive ? "gross_minor" : "net_minor";
      const char* second = c.inclusive ? "net_minor" : "tax_minor";
      const std::int64_t first_up = up.minor(bu.records[i], first), first_even = even.minor(be.records[i], first);
      const std::int64_t second_up = up.minor(bu.records[i], second), second_even = even.minor(be.records[i], second);
      // The first rounding: a tie goes up under half_up, to the even neighbour under half_even.
      if (!e.first.tie)
        ASSERT_EQ(first_up, first_even) << what;
      else
        ASSERT_EQ(first_up - first_even, (first_up - 1) % 2 == 0 ? 1 : 0) << what;
      // The second rounding sees the same input when the first agreed.
      if (first_up == first_even && !c.inclusive) {
        if (!e.second.tie)
          ASSERT_EQ(second_up, second_even) << what;
        else
          ASSERT_EQ(second_up - second_even, (second_up - 1) % 2 == 0 ? 1 : 0) << what;
      }
      if (c.inclusive) {
        // net = round(amount / (1 + rate)) does not depend on the first rounding.
        if (!e.second.tie)
          ASSERT_EQ(second_up, second_even) << what;
        else
          ASSERT_EQ(second_up - second_even, (second_up - 1) % 2 == 0 ? 1 : 0) << what;
      }
      const bool tie = e.first.tie || e.second.tie;
      const bool differ = first_up != first_even || second_up != second_even;
      ASSERT_TRUE(tie || !differ) << what;  // agree everywhere but on ties
      rows_with_ties += tie;
      rows_differing += differ;
      ties_agreeing += tie && !differ;
    }
  }
  // Enough of both kinds of ties were seen for the property to mean something.
  EXPECT_GT(rows_differing, 500u);
  EXPECT_GT(ties_agreeing, 500u);
  EXPECT_GT(rows_with_ties, rows_differing);
}

TEST(PriceProperties, TotalsAreNeverNegativeAndAddUp) {
  Random rnd(42);
  std::size_t zero = 0, priced = 0;
  for (int config = 0; config < 40; ++config) {
    const PricedSample s = priced_sample(rnd, true, 9);
    ASSERT_EQ(s.batch.records.size(), s.rows.size());
    for (std::size_t i = 0; i < s.rows.size(); ++i) {
      const std::int64_t net = s.minor(i, "net_minor"), tax = s.minor(i, "tax_minor"),
                         gross = s.minor(i, "gross_minor");
      ASSERT_GE(net, 0) << s.what(i);
      ASSERT_GE(tax, 0) << s.what(i);
      ASSERT_GE(gross, 0) << s.what(i);
      ASSERT_EQ(net + tax, gross) << s.what(i);
      ASSERT_LE(net, s.minor(i, "list_minor")) << s.what(i);  // discounts never raise the price
      ASSERT_EQ(gross, s.expected(i).gross) << s.what(i);
      zero += gross == 0;
      ++priced;
    }
  }
  EXPECT_EQ(priced, 40u * 250u);
  EXPECT_GT(zero, 500u);  // discounts larger than the price were common
}

}  // namespace
}  // namespace sluice
