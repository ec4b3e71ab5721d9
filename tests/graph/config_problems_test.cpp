// Configuration snippets and the exact diagnostic lines they give, read the way `check` and `run` read them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "config/graph_file.hpp"
#include "config/supplier.hpp"
#include "graph/plan.hpp"

namespace sluice {
namespace {

const char* kGraph = R"(run:
  rejects: rejects.ndjson
nodes:
  - id: read
    type: csv_source
  - id: check
    type: validate
  - id: price
    type: price
  - id: out
    type: ndjson_sink
    path: out.ndjson
edges:
  - read -> check
  - check -> price
  - price -> out
)";

const char* kSupplier = R"(supplier: acme
currency: EUR
fields:
  sku: {column: SKU, required: true}
  price: {column: Price, type: decimal}
pricing:
  amount_field: price
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

struct Case {
  const char* name;
  std::string graph = kGraph;
  std::string supplier = kSupplier;
  std::vector<std::pair<std::string, std::string>> overrides;  // --set key=value
  std::vector<std::string> expected;                           // whole lines of the report
};

// Reads both files and the overrides like load_pipeline, and returns every diagnostic, one per line.
std::string problems(const Case& c) {
  Diagnostics diags;
  auto graph = Document::parse(c.graph, "g.yaml", diags);
  auto supplier = Document::parse(c.supplier, "s.yaml", diags);
  for (const auto& [key, value] : c.overrides) {
    std::string origin = "--set " + key + "=" + value;
    if (key.rfind("supplier.", 0) == 0) {
      if (supplier) supplier->set(key.substr(9), value, origin, diags);
    } else if (graph) {
      graph->set(key, value, origin, diags);
    }
  }
  GraphFile g;
  Supplier s;
  if (graph) g = read_graph_file(*graph, diags);
  if (supplier) s = read_supplier(*supplier, diags);
  if (graph && supplier) plan_graph(g, *graph, s, *supplier, diags);
  return diags.format();
}

std::vector<Case> cases() {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b', prev = 'a'; c <= 'j'; prev = c, ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", " : "") + "*" + prev;
    bomb += "]\n";
  }
  const std::string ndjson_graph = replaced(kGraph, "type: csv_source", "type: ndjson_source");
  const std::string ndjson_supplier = replaced(kSupplier, "currency: EUR\n", "currency: EUR\nfeed: {format: ndjson}\n");
  return {
      // Documents that are not maps: a clear error, never a crash.
      {"graph is a bare scalar",
       "hello",
       kSupplier,
       {},
       {"g.yaml:1:1: expected a map with run, nodes and edges, got a scalar"}},
      {"graph is a list",
       "[1, 2]",
       kSupplier,
       {},
       {"g.yaml:1:1: expected a map with run, nodes and edges, got a list"}},
      {"supplier is a bare scalar", kGraph, "hello", {}, {"s.yaml:1:1: expected a map, got a scalar"}},
      {"empty graph file",
       "",
       kSupplier,
       {},
       {"g.yaml:1:1: the file is empty; expected a map with run, nodes and edges"}},
      {"section that is a list",
       kGraph,
       replaced(kSupplier, "currency: EUR\n", "currency: EUR\nfeed: [a]\n"),
       {},
       {"s.yaml:3:7: feed: expected a map, got a list"}},
      {"node entry that is a scalar",
       replaced(kGraph, "  - id: read\n    type: csv_source\n", "  - hello\n"),
       kSupplier,
       {},
       {"g.yaml:4:5: nodes[0]: expected a map with id and type, got a scalar"}},
      {"set gives a scalar where a map is",
       kGraph,
       kSupplier,
       {{"supplier.fields.sku", "hello"}},
       {"--set supplier.fields.sku=hello:1:21: fields.sku: expected a map, got a scalar"}},

      // What yaml-cpp accepts but would read wrongly.
      {"second document",
       std::string(kGraph) + "---\nrun: {threads: 2}\n",
       kSupplier,
       {},
       {"g.yaml:17:1: a second YAML document ('---') starts here; a configuration file holds one document"}},
      {"tags",
       replaced(kGraph, "path: out.ndjson", "path: !include /etc/passwd"),
       kSupplier,
       {},
       {"g.yaml:12:11: tags are not supported ('!include'); write the value itself"}},
      {"unclosed quote at the end",
       replaced(kGraph, "  - price -> out\n", "  - \"price -> out\n"),
       kSupplier,
       {},
       {"g.yaml:16:5: a quoted string is not closed (no \" before the end)"}},
      {"invalid UTF-8",
       replaced(kGraph, "path: out.ndjson", "path: out\xff.ndjson"),
       kSupplier,
       {},
       {"g.yaml:12:14: invalid UTF-8 (byte 0xFF); a configuration file is UTF-8 text"}},
      {"raw control character",
       replaced(kGraph, "path: out.ndjson", std::string("path: out\0.ndjson", 17)),
       kSupplier,
       {},
       {"g.yaml:12:14: a control character (0x00) is not allowed in YAML text"}},
      {"duplicate key",
       kGraph,
       replaced(kSupplier, "pricing:\n", "currency: USD\npricing:\n"),
       {},
       {"s.yaml:6:1: currency: duplicate key 'currency' (first at 2:1); remove one"}},

      // What `run` would fail on, or silently not do.
      {"empty rejects path",
       replaced(kGraph, "rejects: rejects.ndjson", "rejects: \"\""),
       kSupplier,
       {},
       {"g.yaml:2:12: run.rejects: the file name is empty ('-' means standard input or output)"}},
      {"empty output path",
       kGraph,
       kSupplier,
       {{"nodes.out.path", ""}},
       {"--set nodes.out.path=:1:16: nodes[3] (out).path: the file name is empty ('-' means standard input or "
        "output)"}},
      {"csv source, ndjson supplier",
       kGraph,
       ndjson_supplier,
       {},
       {"g.yaml:5:11: nodes[0] (read).type: the supplier's feed format is 'ndjson', not csv"}},
      {"ndjson source, csv supplier",
       ndjson_graph,
       kSupplier,
       {},
       {"s.yaml:1:1: feed.format: node 'read' (ndjson_source) reads ndjson feeds; this supplier's format is 'csv'"}},
      {"bad ndjson path",
       ndjson_graph,
       replaced(ndjson_supplier, "column: SKU", "column: \"a..b\""),
       {},
       {"s.yaml:5:17: fields.sku.column: bad path 'a..b': expected a key at character 3 (paths look like sku, "
        "priceInfo.price, images[0].uri)"}},
      {"discount ending before it starts",
       kGraph,
       std::string(kSupplier) +
           "  discounts:\n    - {name: d, percent: \"0.1\", from: 2026-05-01, until: 2026-04-01}\n",
       {},
       {"s.yaml:9:58: pricing.discounts[0].until: 'until' is before 'from': the discount never applies"}},
      {"min_length on a decimal",
       kGraph,
       replaced(kSupplier, "type: decimal}", "type: decimal, min_length: 2}"),
       {},
       {"s.yaml:5:53: fields.price.min_length: 'min_length' applies only to string, url and enum fields"}},
      {"list as a map key",
       kGraph,
       replaced(kSupplier, "  sku:", "  [a]: {column: A}\n  sku:"),
       {},
       {"s.yaml:4:3: fields: a key must be a plain string, not a list"}},
      {"field named empty",
       kGraph,
       replaced(kSupplier, "  sku:", "  \"\": {column: A}\n  sku:"),
       {},
       {"s.yaml:4:3: fields: a field name cannot be empty"}},
      {"duplicate key in a --set value",
       kGraph,
       kSupplier,
       {{"supplier.fields.sku", "{column: SKU, column: X}"}},
       {"--set supplier.fields.sku={column: SKU, column: X}:1:35: fields.sku.column: duplicate key 'column' (first at "
        "1:22); remove one"}},

      // Everything at once: an unknown key does not hide the cross-field checks.
      {"unknown key and unknown currency",
       kGraph,
       replaced(replaced(kSupplier, "currency: EUR", "currency: EURO\ncolour: red"), "amount_field: price",
                "amount_field: prise"),
       {},
       {"s.yaml:2:11: currency: unknown currency 'EURO' (expected an ISO 4217 code such as EUR or USD)",
        "s.yaml:3:1: colour: unknown key 'colour'",
        "s.yaml:8:17: pricing.amount_field: no field named 'prise' (fields: sku, price) (did you mean 'price'?)"}},

      // Positions.
      {"key without a value",
       kGraph,
       replaced(kSupplier, "currency: EUR", "currency:"),
       {},
       {"s.yaml:2:1: currency: required key 'currency' has no value"}},
      {"unknown node in a map edge",
       replaced(kGraph, "  - check -> price\n", "  - {from: check, to: prise}\n"),
       kSupplier,
       {},
       {"g.yaml:15:23: edges[1]: unknown node 'prise' (did you mean 'price'?)"}},
      {"unknown node in an arrow edge",
       replaced(kGraph, "  - price -> out\n", "  - price ->  outt\n"),
       kSupplier,
       {},
       {"g.yaml:16:15: edges[2]: unknown node 'outt' (did you mean 'out'?)"}},
      {"cycle",
       replaced(kGraph, "  - price -> out\n", "  - price -> check\n"),
       kSupplier,
       {},
       {"g.yaml:16:5: edges[2]: the edges form a cycle: check -> price -> check",
        "g.yaml:10:5: nodes[3] (out): nothing feeds 'out': add an edge into it"}},
      {"ordered graph that merges branches",
       replaced(kGraph, "  - price -> out\n", "  - price -> out\n  - read -> out\n"),
       kSupplier,
       {},
       {"g.yaml:10:5: nodes[3] (out): node 'out' has 2 incoming edges (price, read); an ordered graph cannot merge "
        "branches, since their records would interleave: give the branches their own sinks, or set run.ordered: "
        "false"}},
      {"output port that does not exist",
       replaced(kGraph, "  - check -> price\n", "  - check.valid -> price\n"),
       kSupplier,
       {},
       {"g.yaml:15:5: edges[1]: node 'check' (validate) has no output port 'valid' (outputs: out, rejects)"}},
      {"router port left unconnected",
       replaced(replaced(kGraph, "  - id: out\n", "  - id: split\n    type: route\n    cases:\n      - port: cheap\n"
                                                   "        where: {field: price, op: \"<\", value: 10}\n  - id: out\n"),
                "  - price -> out\n", "  - price -> split\n  - split.cheap -> out\n"),
       kSupplier,
       {},
       {"g.yaml:10:5: nodes[3] (split): the output port 'unmatched' of 'split' goes nowhere: add an edge from "
        "split.unmatched (or set unmatched: discard)"}},
      {"two database sinks in an atomic run",
       replaced(kGraph, "  - id: out\n    type: ndjson_sink\n    path: out.ndjson\n",
                "  - id: out\n    type: pg_sink\n    table: product\n  - id: copy\n    type: pg_sink\n"
                "    table: product_copy\n"),
       std::string(kSupplier) + "mode: atomic\n",
       {{"edges", "[read -> check, check -> price, price -> out, price -> copy]"}},
       {"g.yaml:13:5: nodes[4] (copy): mode: atomic commits the whole run in one transaction, which one database "
        "sink can do but not two: 'copy' is the second"}},
      {"error inside a --set value",
       kGraph,
       kSupplier,
       {{"supplier.fields.sku", "{column: SKU, typo: 1}"}},
       {"--set supplier.fields.sku={column: SKU, typo: 1}:1:35: fields.sku.typo: unknown key 'typo' (did you mean "
        "'type'?)"}},
      {"bad path in --set",
       kGraph,
       kSupplier,
       {{"nodes.nope.path", "x"}},
       {"--set nodes.nope.path=x:1:7: nodes.nope: no list element with id 'nope'"}},
      {"no nodes", "nodes: []\nedges: []\n", kSupplier, {}, {"g.yaml:1:8: nodes: the graph has no nodes"}},
      {"nesting too deep",
       "a: " + std::string(100, '['),
       kSupplier,
       {},
       {"g.yaml:1:68: nesting deeper than 64 levels"}},
      {"alias bomb", bomb, kSupplier, {}, {"g.yaml:2:8: document expands to more than 1000000 nodes (aliases?)"}},
      {"type that is a list",
       replaced(kGraph, "type: price", "type: [x]"),
       kSupplier,
       {},
       {"g.yaml:9:11: nodes[2] (price).type: expected a string, got a list"}},
      {"control characters in a message",
       kGraph,
       replaced(kSupplier, "pricing:", "\"k\\r\\n\\x01\": 1\npricing:"),
       {},
       {"s.yaml:6:1: k\\r\\n\\x01: unknown key 'k\\r\\n\\x01'"}},
  };
}

class ConfigProblem : public ::testing::TestWithParam<Case> {};

TEST_P(ConfigProblem, IsReportedAtItsPosition) {
  const Case& c = GetParam();
  std::string report;
  ASSERT_NO_THROW(report = problems(c));
  std::vector<std::string> lines;
  std::istringstream in(report);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  for (const auto& want : c.expected)
    EXPECT_NE(std::find(lines.begin(), lines.end(), want), lines.end()) << "missing: " << want << "\nall:\n" << report;
}

INSTANTIATE_TEST_SUITE_P(Snippets, ConfigProblem, ::testing::ValuesIn(cases()), [](const auto& p) {
  std::string name;
  for (char ch : std::string(p.param.name)) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return name;
});

}  // namespace
}  // namespace sluice
