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
  EXPECT_NE(text.find("d.yaml:4:3: b.x: duplicate key 'x' (first at 3:3)"), std::string::npos) << text;
  EXPECT_NE(text.find("d.yaml:5:1: a: duplicate key 'a' (first at 1:1)"), std::string::npos) << text;
}

TEST(Document, RefusesDeepFlowNestingInsteadOfOverflowingTheStack) {
  Diagnostics diags;
  std::string deep(100000, '[');
  EXPECT_FALSE(Document::parse("a: " + deep, "deep.yaml", diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags.format(), "deep.yaml:1:68: nesting deeper than 64 levels\n");
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
  EXPECT_EQ(diags.items()[0].column, 7);
  EXPECT_NE(diags.items()[0].message.find("no list element with id 'nope'"), std::string::npos);
}

TEST(Document, DiagnosticsOnOverriddenValuesNameTheOverrideWithAColumnInIt) {
  Document doc = test::parse_document("run:\n  threads: 2\n");
  Diagnostics diags;
  doc.set("run.threads", "lots", "--set run.threads=lots", diags);
  Diagnostic d = doc.at(doc.root()["run"]["threads"], "run.threads", "bad");
  EXPECT_EQ(d.file, "--set run.threads=lots");
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.column, 13);  // where "lots" starts in "run.threads=lots"
}

TEST(Document, AProblemDeepInsideASetValueNamesTheOverride) {
  Document doc = test::parse_document("pricing:\n  rounding: up\n");
  Diagnostics diags;
  doc.set("pricing.tax", "{default: x}", "--set supplier.pricing.tax={default: x}", diags);
  ASSERT_TRUE(diags.empty()) << diags.format();
  Diagnostic d = doc.at(doc.root()["pricing"]["tax"]["default"], "pricing.tax.default", "bad");
  EXPECT_EQ(d.to_string(), "--set supplier.pricing.tax={default: x}:1:32: pricing.tax.default: bad");
}

TEST(Document, AKeyWithoutAValueIsPositionedAtTheKey) {
  Document doc = test::parse_document("a:\n\n\nb: 1\n", "k.yaml");
  Diagnostic d = doc.at(doc.root()["a"], "a", "needs a value");
  EXPECT_EQ(d.to_string(), "k.yaml:1:1: a: needs a value");
}

TEST(Document, WhatHasNoPositionIsAtTheStartOfTheFile) {
  Diagnostics diags;
  auto doc = Document::parse("", "empty.yaml", diags);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->at(doc->root(), "", "empty").to_string(), "empty.yaml:1:1: empty");
}

TEST(Document, RefusesWhatYamlCppWouldReadWrongly) {
  const std::pair<const char*, const char*> cases[] = {
      {"a: 1\n---\nb: 2\n", "t.yaml:2:1: a second YAML document ('---') starts here"},
      {"a: !include /etc/passwd\n", "t.yaml:1:4: tags are not supported ('!include')"},
      {"a: !!str 3\n", "t.yaml:1:4: tags are not supported ('tag:yaml.org,2002:str')"},
      {"a: 1\nb: 'x\n", "t.yaml:2:4: a quoted string is not closed (no ' before the end)"},
      {"a: 1\nb: \"x\\\"\n", "t.yaml:2:4: a quoted string is not closed (no \" before the end)"},
      {"a: 1\nb: x\xC3(\n", "t.yaml:2:5: invalid UTF-8 (byte 0xC3)"},
      {"a: 1\n[x]: 2\n", "t.yaml:2:1: a key must be a plain string, not a list"},
  };
  for (const auto& [yaml, want] : cases) {
    Diagnostics diags;
    Document::parse(yaml, "t.yaml", diags);
    EXPECT_NE(diags.format().find(want), std::string::npos) << yaml << "\n" << diags.format();
  }
  // Quotes that are closed, also across lines and with escaped quotes inside, are fine.
  Diagnostics ok;
  Document::parse("a: \"x \\\" y\"\nb: 'it''s'\nc: \"two\n  lines\"\n", "t.yaml", ok);
  EXPECT_TRUE(ok.empty()) << ok.format();
}

TEST(Diagnostics, ControlCharactersAreEscaped) {
  Diagnostic d{"f.yaml", 1, 2, "a\rb", "unknown key 'a\rb\n\x01\t\x7f\xff' (é)"};
  EXPECT_EQ(d.to_string(), "f.yaml:1:2: a\\rb: unknown key 'a\\rb\\n\\x01\\t\\x7F\\xFF' (é)");
}

TEST(Diagnostics, SuggestsCloseNamesOnly) {
  EXPECT_EQ(did_you_mean("curency", {"currency", "supplier", "feed"}), "currency");
  EXPECT_EQ(did_you_mean("zzzzzz", {"currency", "supplier", "feed"}), "");
}

}  // namespace
}  // namespace sluice
