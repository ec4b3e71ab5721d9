// lookup, built from YAML: supplemental CSV and NDJSON feeds, overrides, empty values, missing keys and rejects.
#include "nodes/transform/lookup.hpp"

#include <gtest/gtest.h>

#include "core/json_writer.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = R"(supplier: t
currency: EUR
fields:
  sku: {column: SKU}
  title: {column: Name}
  quantity: {column: Stock, type: int}
)";

// A lookup node over one supplemental file, built like a graph entry after the source's fields.
struct Node {
  test::TempDir dir;
  std::unique_ptr<test::SupplierFixture> supplier;
  Schema schema;
  test::BuiltNode built;

  Node(const std::string& file_name, const std::string& content, const std::string& settings,
       bool defaulted_supplier = false)
      : supplier(test::load_supplier(kSupplier)) {
    EXPECT_TRUE(supplier->diags.empty()) << supplier->diags.format();
    supplier->supplier.defaulted = defaulted_supplier;
    for (const auto& f : supplier->supplier.fields) schema.add(f.name);
    test::write_file(dir.file(file_name), content);
    built =
        test::build_node("id: stock\ntype: lookup\nfile: " + dir.file(file_name) + "\n" + settings, *supplier, schema);
  }

  RouterNode& body() { return *std::get<std::unique_ptr<RouterNode>>(built.body); }
  Lookup& lookup() { return dynamic_cast<Lookup&>(body()); }
  std::string file(const std::string& name) const { return dir.file(name); }
  std::size_t ports() const { return lookup_type().output_ports(built.entry->settings).size() - 1; }

  // Opens the node and routes rows (sku, title, quantity; "" is null) through it.
  std::vector<Batch> route(Batch& batch) {
    body().open(RunContext{});
    std::vector<Batch> outs(ports());
    body().route(batch, outs);
    return outs;
  }

  std::string text(const Record& r, const std::string& field) const {
    auto index = schema.find(field);
    if (!index) return "<no field>";
    if (*index >= r.values.size() || is_null(r.values[*index])) return "<null>";
    return value_text(r.values[*index]);
  }
  std::vector<std::string> skus(const Batch& b) const {
    std::vector<std::string> out;
    for (const auto& r : b.records) out.push_back(text(r, "sku"));
    return out;
  }

  // The diagnostics open() stops with; a test failure (and "") when it does not stop.
  std::string startup_error() {
    try {
      body().open(RunContext{});
    } catch (const StartupError& e) {
      return e.diagnostics().format();
    }
    ADD_FAILURE() << "expected a StartupError";
    return {};
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(Lookup, CsvFeedOverridesAndAddsFields) {
  Node n("stock.csv", "id,qty,title_de\r\nA1,5,Hammer DE\r\nA2,0,S\xC3\xA4ge\r\n",
         "key_column: id\nfields: {qty: quantity, title_de: title_de}\n");
  ASSERT_TRUE(n.built.diags.empty()) << n.built.diags.format();
  ASSERT_TRUE(n.schema.find("title_de"));  // added at build time, for the source to size records
  Batch b = test::make_batch(n.schema, {{"A1", "Hammer", "1"}, {"A3", "Rake", "2"}, {"A2", "Saw", ""}});
  auto outs = n.route(b);
  ASSERT_EQ(outs.size(), 1u);
  EXPECT_TRUE(b.records.empty());
  EXPECT_TRUE(b.rejects.empty());
  ASSERT_EQ(n.skus(outs[0]), (std::vector<std::string>{"A1", "A3", "A2"}));
  const auto& r = outs[0].records;
  EXPECT_EQ(n.text(r[0], "quantity"), "5");
  EXPECT_EQ(n.text(r[0], "title_de"), "Hammer DE");
  EXPECT_EQ(n.text(r[0], "title"), "Hammer");  // not mapped: untouched
  EXPECT_EQ(n.text(r[1], "quantity"), "2");
  EXPECT_EQ(n.text(r[1], "title_de"), "<null>");
  EXPECT_EQ(n.text(r[2], "quantity"), "0");  // added where the feed had none
  EXPECT_EQ(n.text(r[2], "title_de"), "S\xC3\xA4ge");
  EXPECT_TRUE(std::holds_alternative<std::string>(r[0].values[*n.schema.find("quantity")]));  // validate types it
  EXPECT_EQ(n.lookup().found(), 2u);
  EXPECT_EQ(n.lookup().missing(), 1u);
  EXPECT_TRUE(n.body().take_side_rejects().empty());
}

TEST(Lookup, TsvAndOtherDelimitersAndAnExplicitFormat) {
  Node tsv("stock.tsv", "id\tqty\nA1\t5\n", "key_column: id\nfields: {qty: quantity}\n");
  Batch b = test::make_batch(tsv.schema, {{"A1", "x", "1"}});
  EXPECT_EQ(tsv.text(tsv.route(b)[0].records.at(0), "quantity"), "5");

  Node semi("stock.txt", "id;qty\nA1;6\n", "format: csv\ndelimiter: ';'\nkey_column: id\nfields: {qty: quantity}\n");
  ASSERT_TRUE(semi.built.diags.empty()) << semi.built.diags.format();
  Batch c = test::make_batch(semi.schema, {{"A1", "x", "1"}});
  EXPECT_EQ(semi.text(semi.route(c)[0].records.at(0), "quantity"), "6");
}

TEST(Lookup, NdjsonFeedKeepsTheTextOfNumbersAndBooleansAndRefusesBrokenLines) {
  Node n("stock.jsonl",
         "{\"id\":\"A1\",\"qty\":5,\"price\":\"9.90\",\"sale\":true,\"more\":{\"deep\":[1,2,{\"x\":null}]}}\n"  // 1
         "{\"id\":12,\"qty\":-0.5e3,\"price\":null,\"sale\":false}\r\n"                                         // 2
         "{\"id\":\"A2\",\"qty\":{\"n\":1}}\n"                                                                  // 3
         "{\"id\":\"A3\",\"qty\":1,}\n"                                                                         // 4
         "\n"                                                                                                   // 5
         "{\"id\":\"A4\",\"qty\":01}\n"                                                                         // 6
         "{\"id\":\"A5\",\"qty\":1} x\n"                                                                        // 7
         "{\"qty\":3}\n"                                                                                        // 8
         "{\"id\":\"A6\",\"id\":\"A7\"}\n"                                                                      // 9
         "[1,2]\n"                                                                                              // 10
         "{\"id\":\"A8\",\"other\":[1,2,]}",                                                                    // 11
         "key_column: id\nfields: {qty: quantity, price: price_override, sale: on_sale, id: supplier_id}\n");
  ASSERT_TRUE(n.built.diags.empty()) << n.built.diags.format();
  Batch b = test::make_batch(n.schema, {{"A1", "t", "1"}, {"12", "t", "1"}, {"12", "t", "1"}, {"A2", "t", "1"}});
  b.records[2].values[*n.schema.find("sku")] = std::int64_t{12};  // a key validate has typed already
  auto outs = n.route(b);
  const auto& r = outs.at(0).records;
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(n.text(r[0], "quantity"), "5");
  EXPECT_EQ(n.text(r[0], "price_override"), "9.90");
  EXPECT_EQ(n.text(r[0], "on_sale"), "true");
  EXPECT_EQ(n.text(r[1], "quantity"), "-0.5e3");  // as written, never through a double
  EXPECT_EQ(n.text(r[1], "price_override"), "<null>");
  EXPECT_EQ(n.text(r[1], "on_sale"), "false");
  EXPECT_EQ(n.text(r[0], "supplier_id"), "A1");  // the key member can be a field too
  EXPECT_EQ(n.text(r[1], "supplier_id"), "12");
  EXPECT_EQ(n.text(r[2], "quantity"), "-0.5e3");
  EXPECT_EQ(n.text(r[3], "quantity"), "1");  // A2's line was refused
  EXPECT_EQ(n.lookup().found(), 3u);
  EXPECT_EQ(n.lookup().table().rows(), 2u);

  auto rejects = n.body().take_side_rejects();
  std::vector<std::pair<std::uint64_t, std::string>> got;
  for (const auto& x : rejects) got.emplace_back(x.line, x.code);
  EXPECT_EQ(got, (std::vector<std::pair<std::uint64_t, std::string>>{{3, "type"},
                                                                     {4, "invalid_json"},
                                                                     {6, "invalid_json"},
                                                                     {7, "invalid_json"},
                                                                     {8, "lookup_key_missing"},
                                                                     {9, "duplicate_key"},
                                                                     {10, "invalid_json"},
                                                                     {11, "invalid_json"}}));
  for (const auto& x : rejects) {
    EXPECT_EQ(x.node, "stock");
    EXPECT_TRUE(contains(x.message, n.file("stock.jsonl"))) << x.message;
  }
  ASSERT_FALSE(rejects.empty());
  EXPECT_EQ(rejects[0].raw, std::vector<std::string>{"{\"id\":\"A2\",\"qty\":{\"n\":1}}"});
  EXPECT_TRUE(n.body().take_side_rejects().empty());  // handed over once
}

TEST(Lookup, AnOverlongNdjsonLineIsRejectedAndReadingGoesOn) {
  std::string big = "{\"id\":\"A0\",\"qty\":\"" + std::string(kMaxSupplementalRow, 'x') + "\"}";
  Node n("stock.ndjson", "{\"id\":\"A1\",\"qty\":1}\n" + big + "\n{\"id\":\"A2\",\"qty\":2}\n",
         "key_column: id\nfields: {qty: quantity}\n");
  Batch b = test::make_batch(n.schema, {{"A2", "t", ""}, {"A0", "t", ""}});
  auto outs = n.route(b);
  EXPECT_EQ(n.text(outs.at(0).records.at(0), "quantity"), "2");
  EXPECT_EQ(n.text(outs.at(0).records.at(1), "quantity"), "<null>");
  auto rejects = n.body().take_side_rejects();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line, 2u);
  EXPECT_EQ(rejects[0].code, "record_too_large");
  ASSERT_EQ(rejects[0].raw.size(), 1u);
  EXPECT_LE(rejects[0].raw[0].size(), 256u);
  EXPECT_EQ(rejects[0].raw[0].substr(0, 10), "{\"id\":\"A0\"");
}

TEST(Lookup, EmptySupplementalValuesKeepOrClearTheField) {
  const std::string feed = "id,qty,name\nA1,,\nA2,,Neu\n";
  const std::string fields = "key_column: id\nfields: {qty: quantity, name: title}\n";
  for (bool clear : {false, true}) {
    Node n("stock.csv", feed, fields + (clear ? "empty_values: clear\n" : ""));
    Batch b = test::make_batch(n.schema, {{"A1", "Hammer", "7"}, {"A2", "Saw", "3"}});
    auto outs = n.route(b);
    const auto& r = outs.at(0).records;
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(n.text(r[0], "quantity"), clear ? "<null>" : "7");
    EXPECT_EQ(n.text(r[0], "title"), clear ? "<null>" : "Hammer");
    EXPECT_EQ(n.text(r[1], "title"), "Neu");  // a value overrides either way
    EXPECT_EQ(n.text(r[1], "quantity"), clear ? "<null>" : "3");
  }
}

TEST(Lookup, MissingKeysAreKeptRejectedOrRoutedInOrder) {
  const std::string feed = "id,qty\nA1,5\nA3,6\n";
  const std::string settings = "key_column: id\nfields: {qty: quantity}\n";
  const std::vector<std::vector<std::string>> rows{
      {"A1", "t", "1"}, {"A2", "t", "1"}, {"A3", "t", "1"}, {"", "t", "1"}, {"A4", "t", "1"}};

  Node keep("stock.csv", feed, settings);
  Batch k = test::make_batch(keep.schema, rows);
  auto kept = keep.route(k);
  EXPECT_EQ(keep.skus(kept.at(0)), (std::vector<std::string>{"A1", "A2", "A3", "<null>", "A4"}));
  EXPECT_EQ(keep.text(kept[0].records[1], "quantity"), "1");  // left as it was
  EXPECT_TRUE(k.rejects.empty());
  EXPECT_EQ(keep.lookup().missing(), 3u);

  Node reject("stock.csv", feed, settings + "missing: reject\n");
  Batch r = test::make_batch(reject.schema, rows);
  auto passed = reject.route(r);
  EXPECT_EQ(reject.skus(passed.at(0)), (std::vector<std::string>{"A1", "A3"}));
  ASSERT_EQ(r.rejects.size(), 3u);
  EXPECT_EQ(r.rejects[0].line, 3u);  // make_batch numbers rows from line 2
  EXPECT_EQ(r.rejects[1].line, 5u);
  EXPECT_EQ(r.rejects[2].line, 6u);
  for (const auto& x : r.rejects) {
    EXPECT_EQ(x.code, "lookup_missing");
    EXPECT_EQ(x.node, "stock");
    EXPECT_TRUE(contains(x.message, reject.file("stock.csv"))) << x.message;
  }
  EXPECT_TRUE(contains(r.rejects[0].message, "'A2'")) << r.rejects[0].message;
  EXPECT_TRUE(contains(r.rejects[1].message, "is empty")) << r.rejects[1].message;
  EXPECT_EQ(r.rejects[0].raw, (std::vector<std::string>{"A2", "t", "1"}));

  Node route("stock.csv", feed, settings + "missing: route\n");
  EXPECT_EQ(lookup_type().output_ports(route.built.entry->settings),
            (std::vector<std::string>{"out", "missing", "rejects"}));
  Batch m = test::make_batch(route.schema, rows);
  auto ports = route.route(m);
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(route.skus(ports[0]), (std::vector<std::string>{"A1", "A3"}));
  EXPECT_EQ(route.skus(ports[1]), (std::vector<std::string>{"A2", "<null>", "A4"}));
  EXPECT_EQ(route.text(ports[0].records[1], "quantity"), "6");
  EXPECT_TRUE(m.records.empty());
  EXPECT_TRUE(m.rejects.empty());
}

TEST(Lookup, PortsComeFromTheEntryWithoutThrowing) {
  const NodeType& t = lookup_type();
  EXPECT_EQ(t.output_ports(YAML::Load("{missing: keep}")), (std::vector<std::string>{"out", "rejects"}));
  EXPECT_EQ(t.output_ports(YAML::Load("{missing: route}")), (std::vector<std::string>{"out", "missing", "rejects"}));
  EXPECT_EQ(t.output_ports(YAML::Load("{missing: [route]}")), (std::vector<std::string>{"out", "rejects"}));
  EXPECT_EQ(t.output_ports(YAML::Load("[1, 2]")), (std::vector<std::string>{"out", "rejects"}));
  EXPECT_EQ(t.output_ports(), (std::vector<std::string>{"out", "rejects"}));
}

TEST(Lookup, EmptyAndRepeatedKeysAndRaggedRowsAreSideRejectsWithTheirLines) {
  Node n("stock.csv", "id,qty\nA1,5\n,6\nA2,7\nA1,8\nA3\n", "key_column: id\nfields: {qty: quantity}\n");
  Batch b = test::make_batch(n.schema, {{"A1", "t", ""}});
  auto outs = n.route(b);
  EXPECT_EQ(n.text(outs.at(0).records.at(0), "quantity"), "5");  // the first row of a key wins
  EXPECT_EQ(n.lookup().table().rows(), 2u);
  auto rejects = n.body().take_side_rejects();
  ASSERT_EQ(rejects.size(), 3u);
  EXPECT_EQ(rejects[0].line, 3u);
  EXPECT_EQ(rejects[0].code, "lookup_key_missing");
  EXPECT_EQ(rejects[1].line, 5u);
  EXPECT_EQ(rejects[1].code, "lookup_duplicate_key");
  EXPECT_TRUE(contains(rejects[1].message, "line 2")) << rejects[1].message;
  EXPECT_EQ(rejects[1].raw, (std::vector<std::string>{"A1", "8"}));
  EXPECT_EQ(rejects[2].line, 6u);
  EXPECT_EQ(rejects[2].code, "ragged_row");
  for (const auto& x : rejects) EXPECT_TRUE(contains(x.message, n.file("stock.csv"))) << x.message;
  EXPECT_TRUE(n.body().take_side_rejects().empty());
}

TEST(Lookup, QuotedCsvFieldsKeepCommasQuotesAndNewlines) {
  Node n("stock.csv", "id,title_de\n\"A1\",\"Hammer, \"\"gro\xC3\x9F\"\"\"\n\"A2\",\"Zwei\r\nZeilen\"\nA1,später\n",
         "key_column: id\nfields: {title_de: title_de}\n");
  Batch b = test::make_batch(n.schema, {{"A1", "t", ""}, {"A2", "t", ""}});
  auto outs = n.route(b);
  const auto& r = outs.at(0).records;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(n.text(r[0], "title_de"), "Hammer, \"gro\xC3\x9F\"");
  EXPECT_EQ(n.text(r[1], "title_de"), "Zwei\r\nZeilen");
  auto rejects = n.body().take_side_rejects();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].line, 5u);  // the quoted line end counts as a line
  EXPECT_EQ(rejects[0].code, "lookup_duplicate_key");
}

TEST(Lookup, FileProblemsAreStartupErrorsNamingTheFile) {
  Node missing("stock.csv", "", "key_column: id\nfields: {qty: quantity}\n");
  const std::string path = missing.file("absent.csv");
  missing.built =
      test::build_node("id: stock\ntype: lookup\nfile: " + path + "\nkey_column: id\nfields: {qty: quantity}\n",
                       *missing.supplier, missing.schema);
  std::string error = missing.startup_error();
  EXPECT_TRUE(contains(error, "cannot open the supplemental feed " + path)) << error;
  EXPECT_TRUE(contains(error, "graph.yaml:3:")) << error;  // at the `file` setting

  Node empty("stock.csv", "", "key_column: id\nfields: {qty: quantity}\n");
  error = empty.startup_error();
  EXPECT_TRUE(contains(error, empty.file("stock.csv") + " is empty")) << error;

  Node columns("stock.csv", "sku,quantity\nA1,5\n", "key_column: id\nfields: {quantity: quantity, qty: stock}\n");
  try {
    columns.body().open(RunContext{});
    ADD_FAILURE() << "expected a StartupError";
  } catch (const StartupError& e) {
    const auto& items = e.diagnostics().items();
    ASSERT_EQ(items.size(), 2u) << e.what();  // every missing column at once
    for (const auto& d : items) {
      EXPECT_EQ(d.file, "graph.yaml");
      EXPECT_TRUE(contains(d.message, "is not in the header of " + columns.file("stock.csv"))) << d.message;
      EXPECT_TRUE(contains(d.message, "'sku', 'quantity'")) << d.message;
    }
    EXPECT_TRUE(contains(e.what(), "column 'id'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "column 'qty'")) << e.what();
  }

  Node repeated("stock.csv", "id,qty,qty\nA1,5,6\n", "key_column: id\nfields: {qty: quantity}\n");
  error = repeated.startup_error();
  EXPECT_TRUE(contains(error, "more than once")) << error;
}

TEST(Lookup, SettingsProblemsAreReportedWhenBuilt) {
  struct Case {
    std::string file, settings, expected;
  };
  const std::vector<Case> cases{
      {"s.txt", "key_column: id\nfields: {qty: quantity}\n", "cannot tell the format"},
      {"s.ndjson", "delimiter: ';'\nkey_column: id\nfields: {qty: quantity}\n", "delimiter is for csv files"},
      {"s.csv", "key_column: id\nfields: {id: sku}\n", "would change the key field 'sku'"},
      {"s.csv", "key_column: id\nfields: {a: title, b: title}\n", "set by two columns, 'a' and 'b'"},
      {"s.csv", "key_column: id\nfields: {}\n", "fields maps no column"},
      {"s.csv", "key_column: id\nfields: {qty: quantity}\nmissing: drop\n", "unknown value 'drop'"},
  };
  for (const auto& c : cases) {
    Node n(c.file, "", c.settings);
    EXPECT_TRUE(contains(n.built.diags.format(), c.expected)) << c.settings << "\n" << n.built.diags.format();
  }
  Node unbuilt("s.txt", "", "key_column: id\nfields: {qty: quantity}\n");
  EXPECT_TRUE(std::visit([](const auto& body) { return body == nullptr; }, unbuilt.built.body));
}

TEST(Lookup, NeedsTheSupplierOnlyWithoutAKey) {
  EXPECT_FALSE(lookup_type().needs_supplier);
  Node without("s.csv", "", "key_column: id\nfields: {qty: quantity}\n", true);
  EXPECT_TRUE(contains(without.built.diags.format(), "give the supplier file")) << without.built.diags.format();
  Node with("s.csv", "id,qty\nA1,5\n", "key: sku\nkey_column: id\nfields: {qty: quantity}\n", true);
  EXPECT_TRUE(with.built.diags.empty()) << with.built.diags.format();
  Batch b = test::make_batch(with.schema, {{"A1", "t", ""}});
  EXPECT_EQ(with.text(with.route(b).at(0).records.at(0), "quantity"), "5");
}

}  // namespace
}  // namespace sluice
