// Helpers shared by the tests: temporary folders, files, and configuration built from YAML text.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "config/supplier.hpp"
#include "core/record.hpp"
#include "nodes/node_type.hpp"

namespace sluice::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);
std::vector<std::string> read_lines(const std::string& path);

// Parses YAML text as a document named `name`; fails the test on a parse problem.
Document parse_document(const std::string& text, const std::string& name = "test.yaml");

// A supplier document and its reading, kept together because nodes refer to both.
struct SupplierFixture {
  std::unique_ptr<Document> doc;
  Supplier supplier;
  Diagnostics diags;
};
std::unique_ptr<SupplierFixture> load_supplier(const std::string& yaml);

// Builds one node of the given entry YAML against a supplier; problems land in `diags`.
struct BuiltNode {
  std::unique_ptr<Document> doc;
  std::unique_ptr<NodeEntry> entry;
  NodeBody body;
  Diagnostics diags;
};
BuiltNode build_node(const std::string& entry_yaml, SupplierFixture& supplier, Schema& schema);

// A batch of records made from string cells in schema order ("" is null).
Batch make_batch(const Schema& schema, const std::vector<std::vector<std::string>>& rows);

std::string source_dir();

}  // namespace sluice::test
