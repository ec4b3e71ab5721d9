// ndjson_sink, csv_sink and the rejects output: exact bytes, whole-file replacement.
#include <gtest/gtest.h>

#include "nodes/sink/rejects_writer.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

const char* kSupplier = "supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n  note: {column: Note}\n";

Batch typed_batch(const Schema&) {
  Batch b;
  Record r;
  r.line = 2;
  r.values = {std::string("A\"1"), std::string("x,\ny")};
  b.records.push_back(r);
  Record r2;
  r2.line = 3;
  r2.values = {std::int64_t{42}, Value{}};
  b.records.push_back(r2);
  Record r3;
  r3.line = 4;
  r3.values = {*Decimal::parse("-1.50").value, true};
  b.records.push_back(r3);
  return b;
}

TEST(NdjsonSink, WritesTypedJsonAndReplacesTheFileOnClose) {
  test::TempDir dir;
  auto supplier = test::load_supplier(kSupplier);
  Schema schema;
  schema.add("sku");
  schema.add("note");
  std::string path = dir.file("out.ndjson");
  test::write_file(path, "old\n");
  auto node =
      test::build_node("id: out\ntype: ndjson_sink\npath: " + path + "\nline_field: _line\n", *supplier, schema);
  ASSERT_TRUE(node.diags.empty()) << node.diags.format();
  auto& sink = *std::get<std::unique_ptr<SinkNode>>(node.body);
  sink.open(RunContext{});
  Batch batch = typed_batch(schema);
  EXPECT_EQ(sink.write(batch).written, 3u);
  EXPECT_EQ(test::read_file(path), "old\n");  // readers see the old file until close
  sink.close(true);
  EXPECT_EQ(test::read_file(path),
            "{\"_line\":2,\"sku\":\"A\\\"1\",\"note\":\"x,\\ny\"}\n"
            "{\"_line\":3,\"sku\":42,\"note\":null}\n"
            "{\"_line\":4,\"sku\":-1.50,\"note\":true}\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST(NdjsonSink, ARunThatDidNotCompleteKeepsTheOldFileAndUndoesItsRows) {
  test::TempDir dir;
  auto supplier = test::load_supplier(kSupplier);
  Schema schema;
  schema.add("sku");
  schema.add("note");
  std::string path = dir.file("out.ndjson");
  test::write_file(path, "old\n");
  auto node = test::build_node("id: out\ntype: ndjson_sink\npath: " + path + "\n", *supplier, schema);
  ASSERT_TRUE(node.diags.empty()) << node.diags.format();
  auto& sink = *std::get<std::unique_ptr<SinkNode>>(node.body);
  sink.open(RunContext{});
  Batch batch = typed_batch(schema);
  EXPECT_EQ(sink.write(batch).written, 3u);
  WriteCounts undone = sink.close(false);
  EXPECT_EQ(undone.written, 3u);  // counted as not processed instead
  EXPECT_EQ(test::read_file(path), "old\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST(CsvSink, ARunThatDidNotCompleteCreatesNoFile) {
  test::TempDir dir;
  auto supplier = test::load_supplier(kSupplier);
  Schema schema;
  schema.add("sku");
  std::string path = dir.file("out.csv");
  auto node = test::build_node("id: out\ntype: csv_sink\npath: " + path + "\n", *supplier, schema);
  ASSERT_TRUE(node.diags.empty()) << node.diags.format();
  auto& sink = *std::get<std::unique_ptr<SinkNode>>(node.body);
  sink.open(RunContext{});
  EXPECT_EQ(sink.close(false).written, 0u);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
}

TEST(CsvSink, QuotesWhatNeedsQuoting) {
  test::TempDir dir;
  auto supplier = test::load_supplier(kSupplier);
  Schema schema;
  schema.add("sku");
  schema.add("note");
  std::string path = dir.file("out.csv");
  auto node = test::build_node("id: out\ntype: csv_sink\npath: " + path + "\n", *supplier, schema);
  ASSERT_TRUE(node.diags.empty()) << node.diags.format();
  auto& sink = *std::get<std::unique_ptr<SinkNode>>(node.body);
  sink.open(RunContext{});
  Batch batch = typed_batch(schema);
  EXPECT_EQ(sink.write(batch).written, 3u);
  sink.close(true);
  EXPECT_EQ(test::read_file(path), "sku,note\r\n\"A\"\"1\",\"x,\ny\"\r\n42,\r\n-1.50,true\r\n");
}

TEST(RejectsWriter, WritesValidJsonEvenForInvalidUtf8) {
  test::TempDir dir;
  RejectsWriter w;
  w.open(dir.file("rejects.ndjson"));
  std::vector<std::string> header{"SKU", "Name"};
  w.write({Reject{7, "read", "invalid_utf8", "bad byte", {"A\xff", "b", "extra"}}}, &header);
  w.close();
  EXPECT_EQ(test::read_file(dir.file("rejects.ndjson")),
            "{\"line\":7,\"node\":\"read\",\"code\":\"invalid_utf8\",\"message\":\"bad byte\",\"raw\":{\"SKU\":"
            "\"A\xEF\xBF\xBD\",\"Name\":\"b\",\"#3\":\"extra\"}}\n");
  EXPECT_EQ(w.counts_by_code().at("invalid_utf8"), 1u);
}

}  // namespace
}  // namespace sluice
