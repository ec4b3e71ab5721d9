// Conditions read from YAML: every operator on every kind of value, their text, and their configuration errors.
#include "nodes/condition.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: EUR
feed: {decimal_separator: ",", thousands_separator: "."}
fields:
  sku: {column: SKU}
  stock: {column: Stock, type: int}
  price: {column: Price, type: decimal}
  category: {column: Category}
  image_url: {column: Image, type: url}
  updated: {column: Updated, type: datetime}
  released: {column: Released, type: date, zone: "+01:00"}
  active: {column: Active, type: bool}
  tags: {column: Tags, type: list}
)";

Decimal dec(const char* text) {
  return *Decimal::parse(text).value;
}

struct Case {
  std::string op;
  std::string value;  // as written in the condition
  Value field;        // the record's value
  bool holds;
};

// Conditions read as the `where` of a node entry, against the supplier's fields (what a source adds),
// gross_minor (an integer, as price adds it) and note (a field nothing says anything about).
class Conditions : public ::testing::Test {
 protected:
  Conditions() : supplier_(test::load_supplier(kSupplier)) {
    EXPECT_TRUE(supplier_->diags.empty()) << supplier_->diags.format();
    for (const auto& f : supplier_->supplier.fields) schema_.add(f.name);
    schema_.add("gross_minor", ValueKind::integer);
    schema_.add("note");
  }

  std::optional<Condition> parse(const std::string& where) {
    docs_.push_back(
        std::make_unique<Document>(test::parse_document("id: f\ntype: filter\nwhere: " + where + "\n", "graph.yaml")));
    const Document& doc = *docs_.back();
    entry_.id = "f";
    entry_.type = "filter";
    entry_.settings = doc.root();
    diags_ = Diagnostics();
    NodeBuildContext ctx{entry_, doc, Settings(), supplier_->supplier, *supplier_->doc, schema_, diags_};
    return Condition::parse(lookup(doc.root(), {"where"}), "where", ctx);
  }

  // The condition, which must read without problems.
  Condition good(const std::string& where) {
    auto c = parse(where);
    EXPECT_TRUE(c) << where << "\n" << diags_.format();
    EXPECT_TRUE(diags_.empty()) << where << "\n" << diags_.format();
    if (!c) throw std::runtime_error("no condition");
    return *c;
  }

  // The diagnostics of a condition that must not read.
  std::string errors(const std::string& where) {
    auto c = parse(where);
    EXPECT_FALSE(c) << where;
    EXPECT_FALSE(diags_.empty()) << where;
    return diags_.format();
  }

  Record record(const std::vector<std::pair<std::string, Value>>& values) const {
    Record r;
    r.values.resize(schema_.size());
    for (const auto& [name, v] : values) r.values[*schema_.find(name)] = v;
    return r;
  }

  // Runs every case as {field: <field>, op: <op>, value: <value>} on a record with the case's value.
  void expect(const std::string& field, const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      Condition cond = good("{field: " + field + ", op: \"" + c.op + "\", value: " + c.value + "}");
      EXPECT_EQ(cond.holds(record({{field, c.field}})), c.holds)
          << cond.text() << " on " << ::testing::PrintToString(c.field);
    }
  }

  std::unique_ptr<test::SupplierFixture> supplier_;
  Schema schema_;
  std::vector<std::unique_ptr<Document>> docs_;
  NodeEntry entry_;
  Diagnostics diags_;
};

TEST_F(Conditions, ComparesIntegersExactly) {
  const std::vector<Case> cases{
      {"=", "10", std::int64_t{10}, true},
      {"=", "10", std::int64_t{9}, false},
      {"!=", "10", std::int64_t{10}, false},
      {"!=", "10", std::int64_t{9}, true},
      {"<", "10", std::int64_t{9}, true},
      {"<", "10", std::int64_t{10}, false},
      {"<=", "10", std::int64_t{10}, true},
      {"<=", "10", std::int64_t{11}, false},
      {">", "10", std::int64_t{11}, true},
      {">", "10", std::int64_t{10}, false},
      {">=", "10", std::int64_t{10}, true},
      {">=", "10", std::int64_t{9}, false},
      {">", "-1", std::int64_t{0}, true},
      {"=", "10.0", std::int64_t{10}, true},  // a number, whatever its scale
      {"<", "10.5", std::int64_t{10}, true},
      {">", "10.5", std::int64_t{10}, false},
      // Both are 9223372036854775808 as doubles.
      {">", "9223372036854775806", std::int64_t{9223372036854775807}, true},
      {"=", "9223372036854775806", std::int64_t{9223372036854775807}, false},
  };
  expect("stock", cases);
  expect("gross_minor", cases);
}

TEST_F(Conditions, ComparesDecimalsExactlyAcrossScales) {
  const std::vector<Case> cases{
      {"=", "19.99", dec("19.990"), true},
      {"=", "19.990", dec("19.99"), true},
      {"!=", "19.99", dec("19.990"), false},
      {"=", "19.99", dec("19.991"), false},
      {"<", "19.99", dec("19.989"), true},
      {"<", "19.99", dec("19.990"), false},
      {"<=", "19.99", dec("19.990"), true},
      {"<=", "19.99", dec("19.991"), false},
      {">", "19.99", dec("20"), true},
      {">", "19.99", dec("19.99"), false},
      {">=", "19.99", dec("19.990"), true},
      {">=", "19.99", dec("19.989"), false},
      {">", "0.1", dec("0.100000000000000001"), true},  // 0.1 and its neighbour are one double
      {"<", "-0.5", dec("-0.51"), true},
  };
  expect("price", cases);
}

TEST_F(Conditions, ComparesTextByteByByte) {
  const std::vector<Case> cases{
      {"=", "books", std::string("books"), true},
      {"=", "books", std::string("Books"), false},
      {"!=", "books", std::string("Books"), true},
      {"<", "b", std::string("a"), true},
      {"<", "b", std::string("b"), false},
      {"<=", "b", std::string("b"), true},
      {">", "b", std::string("ba"), true},
      {">", "z", std::string("\xC3\xA4"), true},  // a UTF-8 lead byte sorts after ASCII
      {">=", "B", std::string("a"), true},        // lowercase after uppercase
      {">", "10", std::string("9"), true},        // text, not numbers: the field is declared a string
  };
  expect("category", cases);
}

TEST_F(Conditions, ComparesDateTimesAsInstants) {
  const std::vector<Case> cases{
      {"=", "2026-01-01T00:00:00Z", std::string("2026-01-01T00:00:00Z"), true},
      {"=", "2026-01-01T01:00:00+01:00", std::string("2026-01-01T00:00:00Z"), true},
      {"!=", "2026-01-01T01:00:00+01:00", std::string("2026-01-01T00:00:00Z"), false},
      {"<", "2026-01-01T00:00:00Z", std::string("2025-12-31T23:59:59Z"), true},
      {"<", "2026-01-01T00:00:00Z", std::string("2026-01-01T00:00:00Z"), false},
      {"<=", "2026-01-01T00:00:00Z", std::string("2026-01-01T00:00:00Z"), true},
      {">", "2026-01-01T00:00:00Z", std::string("2026-01-01T00:00:01Z"), true},
      {">", "2026-01-01", std::string("2026-01-01T00:00:00Z"), false},  // a date is the start of its day (UTC)
      {">=", "2026-01-01T00:00:00Z", std::string("2025-12-31T23:59:59Z"), false},
      // Not validated yet: the feed's text, read as validate would.
      {"=", "2026-01-01T00:00:00Z", std::string("2026-01-01T01:00:00+01:00"), true},
      {">", "2026-01-01T00:00:00Z", std::string("2026-01-01T00:30:00+01:00"), false},
      {">", "2026-01-01T00:00:00Z", std::string("soon"), false},
      {"<", "2026-01-01T00:00:00Z", std::string("soon"), false},
  };
  expect("updated", cases);
}

TEST_F(Conditions, ReadsDatesInTheFieldsZone) {
  // released is a date in +01:00: validate makes 2026-03-01 the instant 2026-02-28T23:00:00Z.
  const std::vector<Case> cases{
      {"=", "2026-03-01", std::string("2026-02-28T23:00:00Z"), true},
      {"=", "2026-03-01", std::string("2026-03-01"), true},  // before validate
      {"<", "2026-03-01", std::string("2026-02-28"), true},
      {">=", "2026-03-01T00:00:00Z", std::string("2026-02-28T23:00:00Z"), false},
  };
  expect("released", cases);
}

TEST_F(Conditions, ComparesBooleans) {
  const std::vector<Case> cases{
      {"=", "true", true, true},   {"=", "true", false, false}, {"=", "false", false, true},
      {"!=", "true", false, true}, {"=", "yes", true, true},    {"!=", "no", false, false},
  };
  expect("active", cases);
}

TEST_F(Conditions, ValuesNotValidatedYetCompareAsTextOrAreReadForOrder) {
  const std::vector<Case> stock{
      {"=", "10", std::string("10"), true},    {"=", "10", std::string("10.0"), false},  // = compares the text
      {">", "10", std::string("12"), true},                                              // an order reads the number
      {"<", "10", std::string("9"), true},     {">", "10", std::string("many"), false},
      {"<", "10", std::string("many"), false}, {"!=", "10", std::string("many"), true},
  };
  expect("stock", stock);
  // The supplier's feed writes 1.234,50 for 1234.50.
  const std::vector<Case> price{
      {">", "1000", std::string("1.234,50"), true},
      {"<", "1234.6", std::string("1.234,50"), true},
      {">", "1000", std::string("1,234.50"), false},  // not a number in this feed
  };
  expect("price", price);
}

TEST_F(Conditions, NullsAreEmptyEqualNothingAndHaveNoOrder) {
  const std::vector<Case> cases{
      {"=", "10", Value{}, false},  {"!=", "10", Value{}, true}, {"<", "10", Value{}, false},
      {"<=", "10", Value{}, false}, {">", "10", Value{}, false}, {">=", "10", Value{}, false},
  };
  expect("stock", cases);
  EXPECT_FALSE(good("{field: category, in: [books]}").holds(record({})));
  EXPECT_TRUE(good("{field: category, empty: true}").holds(record({})));
}

TEST_F(Conditions, FieldsWithoutATypeCompareAsTheValueWritten) {
  const std::vector<Case> cases{
      {">", "5", std::string("10"), true},  // a number: "10" > "5" as text would be false
      {">", "5", std::int64_t{10}, true},
      {"<", "5", dec("4.99"), true},
      {">", "2026-01-01", std::string("2026-06-01T00:00:00Z"), true},
      {"=", "2026-01-01", std::string("2026-01-01T00:00:00Z"), true},
      {">", "abc", std::string("abd"), true},
      {"=", "abc", std::string("abc"), true},
      {"<", "5", std::string("abc"), false},
  };
  expect("note", cases);
}

TEST_F(Conditions, InMatchesAnyValueOfTheList) {
  Condition c = good("{field: category, in: [books, food]}");
  EXPECT_TRUE(c.holds(record({{"category", std::string("books")}})));
  EXPECT_TRUE(c.holds(record({{"category", std::string("food")}})));
  EXPECT_FALSE(c.holds(record({{"category", std::string("toys")}})));
  EXPECT_FALSE(c.holds(record({{"category", std::string("Books")}})));
  EXPECT_FALSE(c.holds(record({})));

  Condition numbers = good("{field: stock, in: [1, 2, 30]}");
  EXPECT_TRUE(numbers.holds(record({{"stock", std::int64_t{30}}})));
  EXPECT_FALSE(numbers.holds(record({{"stock", std::int64_t{3}}})));
  EXPECT_TRUE(numbers.holds(record({{"stock", std::string("2")}})));  // not validated yet: its text

  Condition prices = good("{field: price, in: [\"19.99\", 5]}");
  EXPECT_TRUE(prices.holds(record({{"price", dec("19.990")}})));
  EXPECT_TRUE(prices.holds(record({{"price", dec("5.00")}})));
  EXPECT_FALSE(prices.holds(record({{"price", dec("19.9")}})));
}

TEST_F(Conditions, EmptyIsNullOrTheEmptyText) {
  Condition empty = good("{field: image_url, empty: true}");
  Condition filled = good("{field: image_url, empty: false}");
  auto check = [&](const Value& v, bool is_empty) {
    EXPECT_EQ(empty.holds(record({{"image_url", v}})), is_empty) << ::testing::PrintToString(v);
    EXPECT_EQ(filled.holds(record({{"image_url", v}})), !is_empty) << ::testing::PrintToString(v);
  };
  const Value null;
  check(null, true);
  check(std::string(), true);
  check(std::string("https://x.example/a.jpg"), false);
  check(std::string(" "), false);
  check(std::int64_t{0}, false);
  check(false, false);
  check(Json{"[]"}, false);
}

TEST_F(Conditions, CombinesWithAllAnyAndNot) {
  Condition all = good("{all: [{field: stock, op: \">\", value: 0}, {field: category, in: [books]}]}");
  Condition any = good("{any: [{field: stock, op: \">\", value: 0}, {field: category, in: [books]}]}");
  Condition negated = good("{not: {field: category, in: [books]}}");
  auto r = [&](std::int64_t stock, const char* category) {
    return record({{"stock", stock}, {"category", std::string(category)}});
  };
  EXPECT_TRUE(all.holds(r(5, "books")));
  EXPECT_FALSE(all.holds(r(0, "books")));
  EXPECT_FALSE(all.holds(r(5, "toys")));
  EXPECT_TRUE(any.holds(r(0, "books")));
  EXPECT_TRUE(any.holds(r(5, "toys")));
  EXPECT_FALSE(any.holds(r(0, "toys")));
  EXPECT_FALSE(negated.holds(r(0, "books")));
  EXPECT_TRUE(negated.holds(r(0, "toys")));
  EXPECT_TRUE(negated.holds(record({})));

  Condition nested = good(
      "\n  all:\n    - any: [{field: stock, op: \">=\", value: 10}, {field: active, op: \"=\", value: true}]\n"
      "    - not: {field: image_url, empty: true}\n");
  EXPECT_TRUE(nested.holds(record({{"stock", std::int64_t{10}}, {"image_url", std::string("u")}})));
  EXPECT_TRUE(nested.holds(record({{"active", true}, {"image_url", std::string("u")}})));
  EXPECT_FALSE(nested.holds(record({{"stock", std::int64_t{10}}})));
  EXPECT_FALSE(nested.holds(record({{"stock", std::int64_t{9}}, {"image_url", std::string("u")}})));
}

TEST_F(Conditions, TextIsCompactAndReadable) {
  EXPECT_EQ(good("{field: category, in: [books, food]}").text(), "category in [books, food]");
  EXPECT_EQ(good("{field: gross_minor, op: \">=\", value: 10000}").text(), "gross_minor >= 10000");
  EXPECT_EQ(good("{field: price, op: \"!=\", value: \"19.990\"}").text(), "price != 19.990");
  EXPECT_EQ(good("{field: image_url, empty: true}").text(), "image_url is empty");
  EXPECT_EQ(good("{field: image_url, empty: false}").text(), "image_url is not empty");
  EXPECT_EQ(good("{all: [{field: stock, op: \">\", value: 0}, {not: {field: category, in: [gift_card]}}]}").text(),
            "all(stock > 0, not(category in [gift_card]))");
  EXPECT_EQ(good("{any: [{field: stock, op: \"<\", value: 1}, {field: image_url, empty: true}]}").text(),
            "any(stock < 1, image_url is empty)");
  EXPECT_EQ(good("{field: updated, op: \"<\", value: 2026-01-01T00:00:00Z}").text(), "updated < 2026-01-01T00:00:00Z");
  // Values that are not plain words are quoted, so that the list stays a list.
  EXPECT_EQ(good("{field: category, in: [\"home & garden\", \"a,b\", \"\"]}").text(),
            "category in [\"home & garden\", \"a,b\", \"\"]");
}

TEST_F(Conditions, ReportsUnknownFieldsWithASuggestion) {
  EXPECT_EQ(errors("{field: stok, op: \">\", value: 0}"),
            "graph.yaml:3:16: nodes[0] (f).where.field: unknown field 'stok' (did you mean 'stock'?)\n");
  EXPECT_EQ(errors("{field: zzzzzzzz, empty: true}"),
            "graph.yaml:3:16: nodes[0] (f).where.field: unknown field 'zzzzzzzz' (the fields at this point: sku, "
            "stock, price, category, image_url, updated, released, active, tags, gross_minor, note)\n");
  EXPECT_EQ(errors("\n  all:\n    - {field: stock, op: \">\", value: 0}\n    - not: {field: categry, in: [a]}\n"),
            "graph.yaml:6:20: nodes[0] (f).where.all[1].not.field: unknown field 'categry' (did you mean "
            "'category'?)\n");
}

TEST_F(Conditions, ReportsUnknownKeysAndShapesThatAreNoCondition) {
  EXPECT_EQ(errors("{field: stock, op: \">\", valu: 0}"),
            "graph.yaml:3:32: nodes[0] (f).where.valu: unknown key 'valu' (did you mean 'value'?)\n");
  EXPECT_EQ(errors("{feild: stock, in: [1]}"),
            "graph.yaml:3:9: nodes[0] (f).where.feild: unknown key 'feild' (did you mean 'field'?)\n");
  EXPECT_EQ(
      errors("{colour: red}"),
      "graph.yaml:3:9: nodes[0] (f).where.colour: unknown key 'colour' (a condition has field with in, op and value, "
      "or empty; or all, any or not)\n");
  EXPECT_EQ(errors("{}"),
            "graph.yaml:3:8: nodes[0] (f).where: expected a condition: {field: ..., in: [...]}, {field: ..., op: ..., "
            "value: ...}, {field: ..., empty: true}, {all: [...]}, {any: [...]} or {not: {...}}; got an empty map\n");
  EXPECT_EQ(errors("{field: stock, all: []}"),
            "graph.yaml:3:8: nodes[0] (f).where: a condition tests one field, or is one of all, any and not; this one "
            "has 'field' and 'all': put them in an all or any list\n");
  EXPECT_EQ(errors("{field: stock}"),
            "graph.yaml:3:8: nodes[0] (f).where: a condition on a field needs 'in' with a list of values, 'op' with a "
            "'value', or 'empty' with true or false\n");
  EXPECT_EQ(errors("{op: \">\", value: 0}"),
            "graph.yaml:3:8: nodes[0] (f).where.field: missing required key 'field'\n");
  EXPECT_EQ(errors("{field: stock, in: [1], empty: true}"),
            "graph.yaml:3:8: nodes[0] (f).where: give one of 'in', 'op' and 'empty', not 'in' and 'empty'\n");
  EXPECT_EQ(errors("{field: stock, in: [1], value: 1}"),
            "graph.yaml:3:39: nodes[0] (f).where.value: 'value' goes with 'op', not with 'in'\n");
  EXPECT_EQ(errors("stock > 0"),
            "graph.yaml:3:8: nodes[0] (f).where: expected a condition such as {field: stock, op: \">\", value: 0}, "
            "got 'stock > 0'\n");
  EXPECT_EQ(errors("{all: {field: stock, empty: true}}"),
            "graph.yaml:3:14: nodes[0] (f).where.all: 'all' takes a list of conditions, got a map\n");
  EXPECT_EQ(errors("{any: []}"), "graph.yaml:3:14: nodes[0] (f).where.any: 'any' needs at least one condition\n");
  EXPECT_EQ(errors("{not: [{field: stock, empty: true}]}"),
            "graph.yaml:3:14: nodes[0] (f).where.not: expected a condition such as {field: stock, op: \">\", value: "
            "0}, got a list\n");
  EXPECT_EQ(errors("{field: image_url, empty: maybe}"),
            "graph.yaml:3:34: nodes[0] (f).where.empty: expected true or false, got 'maybe'\n");
}

TEST_F(Conditions, ReportsOpsInListsAndValuesThatAreMissingOrMalformed) {
  EXPECT_EQ(errors("{field: stock, op: \"==\", value: 0}"),
            "graph.yaml:3:27: nodes[0] (f).where.op: unknown op '==' (expected one of =, !=, <, <=, >, >=) (did you "
            "mean '='?)\n");
  EXPECT_EQ(errors("{field: stock, op: \"=>\", value: 0}"),
            "graph.yaml:3:27: nodes[0] (f).where.op: unknown op '=>' (expected one of =, !=, <, <=, >, >=) (did you "
            "mean '>='?)\n");
  EXPECT_EQ(errors("{field: stock, op: like, value: 0}"),
            "graph.yaml:3:27: nodes[0] (f).where.op: unknown op 'like' (expected one of =, !=, <, <=, >, >=)\n");
  EXPECT_EQ(errors("{field: stock, op: \">\"}"),
            "graph.yaml:3:8: nodes[0] (f).where.value: missing required key 'value'\n");
  EXPECT_EQ(errors("{field: stock, op: \">\", value: [1, 2]}"),
            "graph.yaml:3:39: nodes[0] (f).where.value: expected a single value, got a list\n");
  EXPECT_EQ(errors("{field: category, in: books}"),
            "graph.yaml:3:30: nodes[0] (f).where.in: 'in' takes a list of values such as [books, food], got 'books'\n");
  EXPECT_EQ(errors("{field: category, in: []}"),
            "graph.yaml:3:30: nodes[0] (f).where.in: 'in' needs at least one value\n");
  EXPECT_EQ(errors("{field: category, in: [a, {b: c}]}"),
            "graph.yaml:3:34: nodes[0] (f).where.in[1]: expected a single value, got a map\n");
}

TEST_F(Conditions, ReportsValuesOfTheWrongTypeForTheField) {
  EXPECT_EQ(errors("{field: stock, op: \">\", value: many}"),
            "graph.yaml:3:39: nodes[0] (f).where.value: field 'stock' holds int values, and 'many' is not a number\n");
  EXPECT_EQ(errors("{field: gross_minor, op: \">=\", value: ten}"),
            "graph.yaml:3:46: nodes[0] (f).where.value: field 'gross_minor' holds integer values, and 'ten' is not a "
            "number\n");
  EXPECT_EQ(errors("{field: price, op: \"=\", value: 1e3}"),
            "graph.yaml:3:39: nodes[0] (f).where.value: field 'price' holds decimal values, and '1e3' is not a "
            "number\n");
  EXPECT_EQ(errors("{field: stock, in: [1, x]}"),
            "graph.yaml:3:31: nodes[0] (f).where.in[1]: field 'stock' holds int values, and 'x' is not a number\n");
  std::string instant = errors("{field: updated, op: \"<\", value: yesterday}");
  EXPECT_EQ(instant.rfind("graph.yaml:3:41: nodes[0] (f).where.value: field 'updated' holds datetime values, and "
                          "'yesterday' is not a date or date-time: ",
                          0),
            0u)
      << instant;
  EXPECT_EQ(errors("{field: active, op: \"=\", value: maybe}"),
            "graph.yaml:3:40: nodes[0] (f).where.value: field 'active' holds bool values, and 'maybe' is not true or "
            "false\n");
  EXPECT_EQ(errors("{field: active, op: \"<\", value: true}"),
            "graph.yaml:3:28: nodes[0] (f).where.op: field 'active' holds bool values, which have no order: use = or "
            "!= (or empty)\n");
  EXPECT_EQ(errors("{field: tags, op: \">\", value: a}"),
            "graph.yaml:3:26: nodes[0] (f).where.op: field 'tags' holds list values, which have no order: use = or != "
            "(or empty)\n");
  // Text and fields without a type take any value.
  good("{field: category, op: \">\", value: 5}");
  good("{field: note, op: \">\", value: anything}");
}

TEST_F(Conditions, ReportsEveryProblemAtOnce) {
  errors(
      "{all: [{field: stok, op: \">\", value: 0}, {field: stock, op: \"==\", value: x}, {field: price, in: "
      "[a]}]}");
  EXPECT_EQ(diags_.size(), 4u) << diags_.format();  // stok; ==; x is no number; a is no number
}

}  // namespace
}  // namespace sluice
