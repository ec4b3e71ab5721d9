// Helpers shared by the tests.
#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "graph/plan.hpp"
#include "runtime/process_limits.hpp"

namespace sluice::test {
namespace {

// Test programs are applications too: they raise the open-files limit the way the command line
// does, for the tests that hold hundreds of transfers at once.
const ProcessLimits kLimits(0);

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "sluice-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::stringstream ss(read_file(path));
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  return lines;
}

Document parse_document(const std::string& text, const std::string& name) {
  Diagnostics diags;
  auto doc = Document::parse(text, name, diags);
  EXPECT_TRUE(diags.empty()) << diags.format();
  if (!doc) throw std::runtime_error("unparsable test document: " + diags.format());
  return std::move(*doc);
}

std::unique_ptr<SupplierFixture> load_supplier(const std::string& yaml) {
  auto f = std::make_unique<SupplierFixture>();
  f->doc = std::make_unique<Document>(parse_document(yaml, "supplier.yaml"));
  f->supplier = read_supplier(*f->doc, f->diags);
  return f;
}

BuiltNode build_node(const std::string& entry_yaml, SupplierFixture& supplier, Schema& schema) {
  BuiltNode b;
  b.doc = std::make_unique<Document>(parse_document(entry_yaml, "graph.yaml"));
  b.entry = std::make_unique<NodeEntry>();
  b.entry->id = b.doc->root()["id"].Scalar();
  b.entry->type = b.doc->root()["type"].Scalar();
  b.entry->settings = b.doc->root();
  const NodeType* type = find_node_type(b.entry->type);
  if (!type) throw std::runtime_error("no node type " + b.entry->type);
  static thread_local std::vector<std::unique_ptr<ObjectSpec>> specs;  // Settings keeps a pointer
  specs.push_back(std::make_unique<ObjectSpec>(type->spec()));
  const auto& common = common_spec(type->role).fields;
  specs.back()->fields.insert(specs.back()->fields.end(), common.begin(), common.end());
  check_object(*b.doc, b.doc->root(), *specs.back(), b.entry->path(), b.diags, b.doc->root(), {"id", "type"});
  NodeBuildContext ctx{*b.entry, *b.doc, Settings(b.doc->root(), specs.back().get()), supplier.supplier, *supplier.doc,
                       schema,   b.diags};
  b.body = type->make(ctx);
  return b;
}

Batch make_batch(const Schema& schema, const std::vector<std::vector<std::string>>& rows) {
  Batch batch;
  std::uint64_t line = 2;
  for (const auto& row : rows) {
    Record r;
    r.line = line++;
    r.values.resize(schema.size());
    for (std::size_t i = 0; i < row.size() && i < schema.size(); ++i)
      if (!row[i].empty()) r.values[i] = row[i];
    r.raw = row;
    batch.records.push_back(std::move(r));
  }
  return batch;
}

std::string source_dir() {
  return SLUICE_SOURCE_DIR;
}

}  // namespace sluice::test
