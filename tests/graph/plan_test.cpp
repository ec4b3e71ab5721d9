// Topology checks of graph files and building every node type from its example.
#include "graph/plan.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: acme
currency: EUR
fields:
  sku: {column: SKU, required: true}
  price: {column: Price, type: decimal}
pricing:
  amount_field: price
)";

struct Planned {
  std::unique_ptr<test::SupplierFixture> supplier;
  std::unique_ptr<Document> graph_doc;
  GraphFile graph;
  std::unique_ptr<Plan> plan;
  Diagnostics diags;
};

std::unique_ptr<Planned> plan(const std::string& graph_yaml) {
  auto p = std::make_unique<Planned>();
  p->supplier = test::load_supplier(kSupplier);
  EXPECT_TRUE(p->supplier->diags.empty()) << p->supplier->diags.format();
  p->graph_doc = std::make_unique<Document>(test::parse_document(graph_yaml, "g.yaml"));
  p->graph = read_graph_file(*p->graph_doc, p->diags);
  if (p->diags.empty())
    p->plan = plan_graph(p->graph, *p->graph_doc, p->supplier->supplier, *p->supplier->doc, p->diags);
  return p;
}

const char* kNodes = R"(nodes:
  - id: read
    type: csv_source
  - id: check
    type: validate
  - id: price
    type: price
  - id: out
    type: ndjson_sink
    path: out.ndjson
)";

TEST(Plan, BuildsAChainInFlowOrder) {
  auto p = plan(std::string(kNodes) + "edges:\n  - read -> check\n  - {from: check, to: price}\n  - price -> out\n");
  ASSERT_TRUE(p->plan) << p->diags.format();
  ASSERT_EQ(p->plan->nodes.size(), 4u);
  EXPECT_EQ(p->plan->nodes[0].entry->id, "read");
  EXPECT_EQ(p->plan->nodes[3].entry->id, "out");
  EXPECT_TRUE(p->plan->schema.find("gross_minor"));
  EXPECT_EQ(p->plan->schema.names()[0], "sku");
}

TEST(Plan, ReportsUnknownTypesNodesAndPorts) {
  auto p = plan(R"(nodes:
  - id: read
    type: csv_sourse
  - id: out
    type: ndjson_sink
    path: x
edges:
  - read -> outt
  - read.rejects -> out
  - read -> out.side
)");
  std::string t = p->diags.format();
  EXPECT_NE(t.find("g.yaml:3:11: nodes[0] (read).type: unknown node type 'csv_sourse' (did you mean 'csv_source'?)"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("g.yaml:8:13: edges[0]: unknown node 'outt' (did you mean 'out'?)"), std::string::npos) << t;
  EXPECT_NE(t.find("g.yaml:10:13: edges[2]: node 'out' (ndjson_sink) has no input port 'side' (inputs: in)"),
            std::string::npos)
      << t;
  EXPECT_FALSE(p->plan);
}

TEST(Plan, ReportsRejectsEdgesAndUnknownNodeSettings) {
  auto p = plan(std::string(kNodes) + "    pth: y\nedges:\n  - read -> check\n  - check.rejects -> price\n");
  std::string t = p->diags.format();
  EXPECT_NE(t.find("g.yaml:11:5: nodes[3] (out).pth: unknown key 'pth' (did you mean 'path'?)"), std::string::npos)
      << t;
  EXPECT_NE(t.find("edges[1]: the rejects port of 'check' goes to the run's rejects output by itself"),
            std::string::npos)
      << t;
}

TEST(Plan, ReportsCyclesAsCyclesNotAsFanIn) {
  auto p = plan(std::string(kNodes) + "edges:\n  - read -> check\n  - check -> price\n  - price -> check\n");
  std::string t = p->diags.format();
  EXPECT_NE(t.find("g.yaml:14:5: edges[2]: the edges form a cycle: check -> price -> check"), std::string::npos) << t;
  EXPECT_EQ(t.find("incoming edges"), std::string::npos) << t;
  EXPECT_FALSE(p->plan);
}

TEST(Plan, ReportsASelfLoop) {
  auto p = plan(std::string(kNodes) + "edges:\n  - read -> check\n  - check -> check\n  - price -> out\n");
  std::string t = p->diags.format();
  EXPECT_NE(t.find("edges[1]: the edges form a cycle: check -> check"), std::string::npos) << t;
  EXPECT_FALSE(p->plan);
}

TEST(Plan, ReportsACycleWithoutFanIn) {
  auto p = plan(R"(nodes:
  - id: read
    type: csv_source
  - id: a
    type: validate
  - id: b
    type: validate
  - id: out
    type: ndjson_sink
    path: x
edges:
  - read -> out
  - a -> b
  - b -> a
)");
  std::string t = p->diags.format();
  EXPECT_NE(t.find("g.yaml:14:5: edges[2]: the edges form a cycle: a -> b -> a"), std::string::npos) << t;
  EXPECT_FALSE(p->plan);
}

TEST(Plan, ReportsDanglingNodesButAllowsFanOut) {
  auto p = plan(std::string(kNodes) + "edges:\n  - read -> check\n  - read -> price\n");
  std::string t = p->diags.format();
  EXPECT_EQ(t.find("nodes[0] (read)"), std::string::npos) << t;
  EXPECT_NE(t.find("nodes[2] (price): the output of 'price' goes nowhere"), std::string::npos) << t;
  EXPECT_NE(t.find("nodes[1] (check): the output of 'check' goes nowhere"), std::string::npos) << t;
  EXPECT_NE(t.find("nodes[3] (out): nothing feeds 'out'"), std::string::npos) << t;
}

TEST(Plan, ReportsMissingSourceAndSecondSource) {
  auto p = plan(
      "nodes:\n  - {id: a, type: csv_source}\n  - {id: b, type: csv_source}\n  - {id: out, type: "
      "ndjson_sink, path: x}\nedges: [a -> out, b -> out]\n");
  std::string t = p->diags.format();
  EXPECT_NE(t.find("a graph has exactly one source; 'a' is one already"), std::string::npos) << t;
}

TEST(Plan, ReportsBadRunSettingsAndIds) {
  auto p = plan(
      "run:\n  threads: lots\n  batch_size: 0\nnodes:\n  - id: 9bad\n    type: validate\n  - type: "
      "price\nedges: []\n");
  std::string t = p->diags.format();
  EXPECT_NE(t.find("g.yaml:2:12: run.threads: expected integer or auto, got 'lots'"), std::string::npos) << t;
  EXPECT_NE(t.find("g.yaml:3:15: run.batch_size: value 0 is out of range"), std::string::npos) << t;
  EXPECT_NE(t.find("g.yaml:5:9: nodes[0].id: '9bad' is not a valid id"), std::string::npos) << t;
  EXPECT_NE(t.find("g.yaml:7:5: nodes[1].id: missing required key 'id'"), std::string::npos) << t;
}

TEST(Plan, PriceNodeNeedsPricingRules) {
  auto supplier = test::load_supplier("supplier: x\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n");
  ASSERT_TRUE(supplier->diags.empty());
  Schema schema;
  auto built = test::build_node("id: p\ntype: price\n", *supplier, schema);
  EXPECT_NE(built.diags.format().find("a price node needs a 'pricing' section"), std::string::npos)
      << built.diags.format();
}

// Every built-in node type builds from the example its spec documents.
class NodeExample : public ::testing::TestWithParam<std::string> {};

TEST_P(NodeExample, BuildsFromItsExample) {
  const NodeType* type = find_node_type(GetParam());
  ASSERT_TRUE(type);
  // A source reads the feed format the supplier names.
  std::string supplier_yaml = kSupplier;
  if (GetParam() == "ndjson_source") supplier_yaml.insert(supplier_yaml.find("fields:"), "feed: {format: ndjson}\n");
  // The fields the examples of filter and route test.
  supplier_yaml.insert(supplier_yaml.find("pricing:"),
                       "  stock: {column: Stock, type: int}\n  category: {column: Category}\n"
                       "  image_url: {column: Image, type: url}\n");
  auto supplier = test::load_supplier(supplier_yaml);
  ASSERT_TRUE(supplier->diags.empty()) << supplier->diags.format();
  Schema schema;
  for (const auto& f : supplier->supplier.fields) schema.add(f.name);  // what the source adds first
  auto built = test::build_node(std::string(type->example), *supplier, schema);
  EXPECT_TRUE(built.diags.empty()) << built.diags.format();
  bool non_null = std::visit([](const auto& p) { return p != nullptr; }, built.body);
  EXPECT_TRUE(non_null);
  EXPECT_FALSE(type->summary.empty());
  for (const auto& f : type->spec().fields) EXPECT_FALSE(f.doc.empty()) << type->name << "." << f.name;
}

std::vector<std::string> all_types() {
  std::vector<std::string> names;
  for (const auto& t : builtin_nodes()) names.emplace_back(t.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Builtins, NodeExample, ::testing::ValuesIn(all_types()),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace sluice
