// route, built from YAML: its ports, where each record goes, what is dropped, and its configuration errors.
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  category: {column: Category}
  image_url: {column: Image, type: url}
  stock: {column: Stock, type: int}
)";

const char* kCases = R"(id: by_kind
type: route
cases:
  - port: gift_cards
    where: {field: category, in: [gift_card]}
  - port: no_image
    where: {field: image_url, empty: true}
)";

std::vector<std::string> ports(const std::string& entry) {
  return find_node_type("route")->output_ports(test::parse_document(entry).root());
}

struct Routed {
  std::vector<std::vector<std::string>> skus;  // by port
  Batch batch;                                 // what is left of the input
  std::string condition;
};

// Builds the route of `entry` and routes rows of (sku, category, image_url, stock).
Routed route(const std::string& entry, const std::vector<std::vector<std::string>>& rows) {
  auto supplier = test::load_supplier(kSupplier);
  EXPECT_TRUE(supplier->diags.empty()) << supplier->diags.format();
  Schema schema;
  for (const auto& f : supplier->supplier.fields) schema.add(f.name);  // what the source adds first
  auto built = test::build_node(entry, *supplier, schema);
  EXPECT_TRUE(built.diags.empty()) << built.diags.format();
  auto& router = *std::get<std::unique_ptr<RouterNode>>(built.body);
  Routed out;
  out.batch = test::make_batch(schema, rows);
  std::vector<Batch> outs(ports(entry).size());
  router.route(out.batch, outs);
  for (const auto& b : outs) {
    out.skus.emplace_back();
    for (const auto& r : b.records) out.skus.back().push_back(std::get<std::string>(r.values[0]));
  }
  out.condition = router.filter_condition();
  return out;
}

std::string errors(const std::string& entry) {
  auto supplier = test::load_supplier(kSupplier);
  Schema schema;
  for (const auto& f : supplier->supplier.fields) schema.add(f.name);
  auto built = test::build_node(entry, *supplier, schema);
  bool non_null = std::visit([](const auto& p) { return p != nullptr; }, built.body);
  EXPECT_FALSE(non_null);
  return built.diags.format();
}

using Ports = std::vector<std::string>;

TEST(Route, PortsAreTheCasesInOrderThenTheUnmatchedOne) {
  EXPECT_EQ(ports(std::string(kCases) + "unmatched: out\n"), (Ports{"gift_cards", "no_image", "out"}));
  EXPECT_EQ(ports(kCases), (Ports{"gift_cards", "no_image", "unmatched"}));
  EXPECT_EQ(ports(std::string(kCases) + "unmatched:\n"), (Ports{"gift_cards", "no_image", "unmatched"}));
  EXPECT_EQ(ports(std::string(kCases) + "unmatched: discard\n"), (Ports{"gift_cards", "no_image"}));
  EXPECT_EQ(ports(std::string(kCases) + "unmatched: gift_cards\n"), (Ports{"gift_cards", "no_image"}));
  EXPECT_EQ(ports(std::string(find_node_type("route")->example)), (Ports{"gift_cards", "no_image", "out"}));
}

TEST(Route, PortsOfMalformedSettingsAreWhatCanBeRead) {
  EXPECT_EQ(ports("id: r\ntype: route\n"), (Ports{"unmatched"}));
  EXPECT_EQ(ports("id: r\ntype: route\ncases: 3\nunmatched: [a]\n"), Ports{});
  EXPECT_EQ(ports("id: r\ntype: route\ncases:\n  - 7\n  - {where: {}}\n  - {port: [x]}\n  - {port: a}\n"
                  "  - {port: a}\n  - {port: rejects}\n  - {port: \"no good\"}\n  - port: b\nunmatched: discard\n"),
            (Ports{"a", "b"}));
  EXPECT_EQ(ports("- just\n- a list\n"), (Ports{"unmatched"}));
  EXPECT_EQ(find_node_type("route")->output_ports(), (Ports{"unmatched"}));
}

TEST(Route, SendsEachRecordToTheFirstCaseThatHoldsKeepingTheOrder) {
  Routed r = route(std::string(kCases) + "unmatched: out\n", {{"g1", "gift_card", "https://x/1.jpg"},
                                                              {"n1", "books", ""},
                                                              {"o1", "books", "https://x/2.jpg"},
                                                              {"g2", "gift_card", ""},  // both cases: the first
                                                              {"n2", "", ""},
                                                              {"o2", "toys", "https://x/3.jpg"}});
  EXPECT_EQ(r.skus, (std::vector<std::vector<std::string>>{{"g1", "g2"}, {"n1", "n2"}, {"o1", "o2"}}));
  EXPECT_TRUE(r.batch.records.empty());
  EXPECT_EQ(r.batch.filtered, 0u);
  EXPECT_EQ(r.condition, "");
}

TEST(Route, UnmatchedRecordsGoToTheirPortOrAreDroppedAndCounted) {
  const std::vector<std::vector<std::string>> rows{
      {"a", "toys", "u"}, {"b", "gift_card", "u"}, {"c", "food", "u"}, {"d", "books", ""}};
  Routed named = route(kCases, rows);
  EXPECT_EQ(named.skus, (std::vector<std::vector<std::string>>{{"b"}, {"d"}, {"a", "c"}}));

  Routed shared = route(std::string(kCases) + "unmatched: gift_cards\n", rows);
  EXPECT_EQ(shared.skus, (std::vector<std::vector<std::string>>{{"a", "b", "c"}, {"d"}}));

  Routed dropped = route(std::string(kCases) + "unmatched: discard\n", rows);
  EXPECT_EQ(dropped.skus, (std::vector<std::vector<std::string>>{{"b"}, {"d"}}));
  EXPECT_EQ(dropped.batch.filtered, 2u);
  EXPECT_TRUE(dropped.batch.records.empty());
  EXPECT_EQ(dropped.condition, "no case matched");
}

TEST(Route, ReportsCasesItCannotUse) {
  EXPECT_EQ(errors("id: r\ntype: route\ncases: []\n"),
            "graph.yaml:3:8: nodes[0] (r).cases: give at least one case: {port: <name>, where: <condition>}\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - where: {field: stock, op: \">\", value: 0}\n"),
            "graph.yaml:4:5: nodes[0] (r).cases[0].port: missing required key 'port'\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: a\n"),
            "graph.yaml:4:5: nodes[0] (r).cases[0].where: missing required key 'where'\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: rejects\n    where: {field: stock, empty: true}\n"),
            "graph.yaml:4:11: nodes[0] (r).cases[0].port: a route has no rejects port: it sends every record to one "
            "of its ports or drops it; name the port otherwise\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: discard\n    where: {field: stock, empty: true}\n"),
            "graph.yaml:4:11: nodes[0] (r).cases[0].port: 'discard' means dropping records (unmatched: discard); "
            "name the port otherwise\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: a\n    where: {field: stock, empty: true}\n"
                   "  - port: a\n    where: {field: sku, empty: true}\n"),
            "graph.yaml:6:11: nodes[0] (r).cases[1].port: port 'a' is given twice (also by cases[0]); join the "
            "conditions with any\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: 9lives\n    where: {field: stock, empty: true}\n"),
            "graph.yaml:4:11: nodes[0] (r).cases[0].port: '9lives' is not a valid port name (letters, digits, '_' "
            "and '-', starting with a letter or '_')\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: a.b\n    where: {field: stock, empty: true}\n"),
            "graph.yaml:4:11: nodes[0] (r).cases[0].port: 'a.b' is not a valid port name (letters, digits, '_' "
            "and '-', starting with a letter or '_')\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - [a]\n"),
            "graph.yaml:4:5: nodes[0] (r).cases[0]: expected a case {port: <name>, where: <condition>}, got a list\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - {prot: a, where: {field: stock, empty: true}}\n"),
            "graph.yaml:4:6: nodes[0] (r).cases[0].prot: unknown key 'prot' (did you mean 'port'?)\n");
}

TEST(Route, ReportsConditionsAndTheUnmatchedPort) {
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: a\n    where: {field: categroy, in: [x]}\n"),
            "graph.yaml:5:20: nodes[0] (r).cases[0].where.field: unknown field 'categroy' (did you mean "
            "'category'?)\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: a\n    where: {field: stock, op: \">\", value: lots}\n"
                   "unmatched: rejects\n"),
            "graph.yaml:5:43: nodes[0] (r).cases[0].where.value: field 'stock' holds int values, and 'lots' is not a "
            "number\n"
            "graph.yaml:6:12: nodes[0] (r).unmatched: a route has no rejects port: name a port for the records no "
            "case matches, or discard them\n");
  EXPECT_EQ(errors("id: r\ntype: route\ncases:\n  - port: a\n    where: {field: stock, empty: true}\n"
                   "unmatched: \"not here\"\n"),
            "graph.yaml:6:12: nodes[0] (r).unmatched: 'not here' is not a valid port name (letters, digits, '_' and "
            "'-', starting with a letter or '_'), nor discard\n");
  EXPECT_EQ(errors("id: r\ntype: route\n"), "graph.yaml:1:1: nodes[0] (r).cases: missing required key 'cases'\n");
}

TEST(Route, IsARouterThatNeedsNoSupplierFile) {
  const NodeType* type = find_node_type("route");
  ASSERT_TRUE(type);
  EXPECT_EQ(type->role, NodeRole::transform);
  EXPECT_FALSE(type->can_reject);
  EXPECT_FALSE(type->needs_supplier);
  ASSERT_TRUE(type->ports_from_settings);
}

}  // namespace
}  // namespace sluice
