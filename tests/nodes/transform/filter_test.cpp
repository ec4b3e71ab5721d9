// filter, built from YAML: keeps what its condition holds for, drops and counts the rest, reports bad conditions.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  stock: {column: Stock, type: int}
  price: {column: Price, type: decimal}
  category: {column: Category}
pricing:
  amount_field: price
)";

// Nodes built in flow order against one schema, which starts with the supplier's fields.
struct Flow {
  Flow() : supplier(test::load_supplier(kSupplier)) {
    EXPECT_TRUE(supplier->diags.empty()) << supplier->diags.format();
    for (const auto& f : supplier->supplier.fields) schema.add(f.name);  // what the source adds first
  }

  TransformNode& add(const std::string& entry) {
    built.push_back(test::build_node(entry, *supplier, schema));
    EXPECT_TRUE(built.back().diags.empty()) << built.back().diags.format();
    return *std::get<std::unique_ptr<TransformNode>>(built.back().body);
  }

  std::string errors(const std::string& entry) {
    built.push_back(test::build_node(entry, *supplier, schema));
    bool non_null = std::visit([](const auto& p) { return p != nullptr; }, built.back().body);
    EXPECT_FALSE(non_null);
    return built.back().diags.format();
  }

  std::vector<std::uint64_t> lines(const Batch& b) const {
    std::vector<std::uint64_t> out;
    for (const auto& r : b.records) out.push_back(r.line);
    return out;
  }

  std::unique_ptr<test::SupplierFixture> supplier;
  Schema schema;
  std::vector<test::BuiltNode> built;
};

TEST(Filter, KeepsTheRecordsItsConditionHoldsForInOrderAndCountsTheOthers) {
  Flow flow;
  TransformNode& filter = flow.add("id: in_stock\ntype: filter\nwhere: {field: stock, op: \">\", value: 0}\n");
  EXPECT_EQ(filter.filter_condition(), "stock > 0");
  // Before validate the stock is still text: read as a number for the order, or the record is dropped.
  Batch b = test::make_batch(flow.schema, {{"a", "3"}, {"b", "0"}, {"c", ""}, {"d", "12"}, {"e", "x"}, {"f", "-1"}});
  b.filtered = 2;  // dropped upstream
  b.rejects.push_back(Reject{9, "check", "type", "bad", {}});
  filter.process(b);
  EXPECT_EQ(flow.lines(b), (std::vector<std::uint64_t>{2, 5}));
  EXPECT_EQ(b.filtered, 6u);
  ASSERT_EQ(b.rejects.size(), 1u);  // dropped records are not rejects
  EXPECT_EQ(b.rejects[0].line, 9u);
  EXPECT_EQ(b.records[0].raw[0], "a");
  EXPECT_EQ(b.records[1].raw[0], "d");
}

TEST(Filter, ComparesTheValuesValidateTyped) {
  Flow flow;
  TransformNode& validate = flow.add("id: check\ntype: validate\n");
  TransformNode& filter = flow.add(
      "id: f\ntype: filter\nwhere:\n  any:\n    - {field: price, op: \">=\", value: \"19.990\"}\n"
      "    - {field: category, in: [books]}\n");
  Batch b = test::make_batch(flow.schema, {{"a", "1", "19.99", "toys"},
                                           {"b", "1", "19.98", "toys"},
                                           {"c", "1", "5", "books"},
                                           {"d", "1", "100", ""},
                                           {"e", "1", "cheap", "books"}});
  validate.process(b);
  ASSERT_EQ(b.rejects.size(), 1u);  // e: its price is no number
  ASSERT_TRUE(std::holds_alternative<Decimal>(b.records[0].values[*flow.schema.find("price")]));
  filter.process(b);
  EXPECT_EQ(flow.lines(b), (std::vector<std::uint64_t>{2, 4, 5}));
  EXPECT_EQ(b.filtered, 1u);
  EXPECT_EQ(filter.filter_condition(), "any(price >= 19.990, category in [books])");
}

TEST(Filter, KnowsTheFieldsAndTypesOfTheNodesBeforeIt) {
  Flow flow;
  // gross_minor exists once price is built, and holds integers.
  EXPECT_EQ(flow.errors("id: f\ntype: filter\nwhere: {field: gross_minor, op: \">=\", value: 2000}\n"),
            "graph.yaml:3:16: nodes[0] (f).where.field: unknown field 'gross_minor' (the fields at this point: sku, "
            "stock, price, category)\n");
  TransformNode& validate = flow.add("id: check\ntype: validate\n");
  TransformNode& price = flow.add("id: price\ntype: price\n");
  EXPECT_EQ(flow.errors("id: f\ntype: filter\nwhere: {field: gross_minor, op: \">=\", value: ten}\n"),
            "graph.yaml:3:46: nodes[0] (f).where.value: field 'gross_minor' holds integer values, and 'ten' is not a "
            "number\n");
  TransformNode& filter = flow.add("id: f\ntype: filter\nwhere: {field: gross_minor, op: \">=\", value: 2000}\n");
  Batch b = test::make_batch(flow.schema, {{"a", "1", "19.99"}, {"b", "1", "20.00"}, {"c", "1", "25"}});
  validate.process(b);
  price.process(b);
  ASSERT_TRUE(b.rejects.empty());
  filter.process(b);
  EXPECT_EQ(flow.lines(b), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(b.filtered, 1u);
}

TEST(Filter, ReportsConditionsItCannotUse) {
  Flow flow;
  EXPECT_EQ(flow.errors("id: f\ntype: filter\n"), "graph.yaml:1:1: nodes[0] (f).where: missing required key 'where'\n");
  EXPECT_EQ(flow.errors("id: f\ntype: filter\nwhere: stock > 0\n"),
            "graph.yaml:3:8: nodes[0] (f).where: expected a map, got a scalar\n");
  EXPECT_EQ(flow.errors("id: f\ntype: filter\nwhere: {field: stok, op: \">\", value: 0}\n"),
            "graph.yaml:3:16: nodes[0] (f).where.field: unknown field 'stok' (did you mean 'stock'?)\n");
  EXPECT_EQ(flow.errors("id: f\ntype: filter\nwhere:\n  all:\n    - field: stock\n      op: \">\"\n"
                        "      value: some\n"),
            "graph.yaml:7:14: nodes[0] (f).where.all[0].value: field 'stock' holds int values, and 'some' is not a "
            "number\n");
}

TEST(Filter, IsATransformWithOneOutputThatNeedsNoSupplierFile) {
  const NodeType* type = find_node_type("filter");
  ASSERT_TRUE(type);
  EXPECT_EQ(type->role, NodeRole::transform);
  EXPECT_FALSE(type->can_reject);
  EXPECT_FALSE(type->needs_supplier);
  EXPECT_EQ(type->output_ports(), std::vector<std::string>{"out"});
}

}  // namespace
}  // namespace sluice
