// Loading YAML: positions, duplicate keys, hostile documents and --set overrides.
#include "config/document.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace sluice {
namespace {

TEST(Document, ReportsMalformedYamlWithOneBasedPosition) {
  Diagnostics diags;
  auto doc = Document::parse("run:\n  threads: 2\n batch_size: 3\n", "g.yaml", diags);
  EXPECT_FALSE(doc);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.items()[0].file, "g.yaml");
  EXPECT_EQ(diags.items()[0].line, 3);
  EXPECT_GT(diags.items()[0].column, 0);
}

TEST(Document, ReportsEveryDuplicateKeyAtItsSecondOccurrence) {
  Diagnostics diags;
  auto doc = Document::parse("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n", "d.yaml", diags);
  ASSERT_TRUE(doc);
  ASSERT_EQ(diags.size(), 2u);
  std::string text = diags.format();
  EXPECT_NE(text.find("d.yaml:4:3: b.x: duplicate key 'x'"), std::string::npos) << text;
  EXPECT_NE(text.find("d.yaml:5:1: a: duplicate key 'a'"), std::string::npos) << text;
}

TEST(Document, RefusesDeepFlowNestingInsteadOfOverflowingTheStack) {
  Diagnostics diags;
  std::string deep(100000, '[');
  EXPECT_FALSE(Document::parse("a: " + deep, "deep.yaml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_NE(diags.items()[0].message.find("nesting"), std::string::npos);
}

TEST(Document, RefusesAliasBombs) {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    yaml += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) yaml += std::string(i ? ", " : "") + "*" + prev;
    yaml += "]\n";
    prev = c;
  }
  Diagnostics diags;
  EXPECT_FALSE(Document::parse(yaml, "bomb.yaml", diags));
  EXPECT_EQ(diags.size(), 1u);
}

TEST(Document, MissingFileIsADiagnosticNotAnException) {
  Diagnostics diags;
  EXPECT_FALSE(Document::load("/nonexistent/graph.yaml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.items()[0].file, "/nonexistent/graph.yaml");
}

TEST(Document, SetReplacesValuesSelectingListElementsById) {
  Document doc = test::parse_document("run:\n  threads: 2\nnodes:\n  - id: out\n    path: a.ndjson\n");
  Diagnostics diags;
  doc.set("run.threads", "8", "--set run.threads=8", diags);
  doc.set("nodes.out.path", "b.ndjson", "--set nodes.out.path=b.ndjson", diags);
  doc.set("run.batch_size", "10", "--set run.batch_size=10", diags);
  EXPECT_TRUE(diags.empty()) << diags.format();
  EXPECT_EQ(doc.root()["run"]["threads"].Scalar(), "8");
  EXPECT_EQ(doc.root()["nodes"][0]["path"].Scalar(), "b.ndjson");
  EXPECT_EQ(doc.root()["run"]["batch_size"].Scalar(), "10");
}

TEST(Document, SetReportsUnknownListElements) {
  Document doc = test::parse_document("nodes:\n  - id: out\n");
  Diagnostics diags;
  doc.set("nodes.nope.path", "x", "--set nodes.nope.path=x", diags);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.items()[0].file, "--set nodes.nope.path=x");
  EXPECT_NE(diags.items()[0].message.find("no list element with id 'nope'"), std::string::npos);
}

TEST(Document, DiagnosticsOnOverriddenValuesNameTheOverride) {
  Document doc = test::parse_document("run:\n  threads: 2\n");
  Diagnostics diags;
  doc.set("run.threads", "lots", "--set run.threads=lots", diags);
  Diagnostic d = doc.at(doc.root()["run"]["threads"], "run.threads", "bad");
  EXPECT_EQ(d.file, "--set run.threads=lots");
  EXPECT_EQ(d.line, 0);
}

TEST(Diagnostics, SuggestsCloseNamesOnly) {
  EXPECT_EQ(did_you_mean("curency", {"currency", "supplier", "feed"}), "currency");
  EXPECT_EQ(did_you_mean("zzzzzz", {"currency", "supplier", "feed"}), "");
}

}  // namespace
}  // namespace sluice
