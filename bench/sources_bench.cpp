// Source benchmarks: csv_source and ndjson_source alone, reading a feed file batch by batch as the graph
// drives them (mapping, null tokens, transcoding and row assembly included), in rows/s and bytes/s.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "config/document.hpp"
#include "config/supplier.hpp"
#include "graph/plan.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;

// A temporary feed file, removed at exit.
class FeedFile {
 public:
  explicit FeedFile(const std::string& name, const std::string& bytes)
      : path_(fs::temp_directory_path() / ("sluice-bench-" + std::to_string(::getpid()) + "-" + name)) {
    std::ofstream(path_, std::ios::binary) << bytes;
    size_ = bytes.size();
  }
  ~FeedFile() { fs::remove(path_); }
  std::string path() const { return path_.string(); }
  std::size_t size() const { return size_; }

 private:
  fs::path path_;
  std::size_t size_ = 0;
};

std::string csv_feed(int rows, bool latin1) {
  std::mt19937 rng(1);
  std::string out = "SKU,Name,Category,Price,Stock,Image\r\n";
  const char* cats[] = {"tools", "garden", "books", "food"};
  // "Crème" in the target encoding: two bytes in UTF-8, one in Latin-1.
  const std::string creme = latin1 ? "Cr\xE8me" : "Cr\xC3\xA8me";
  for (int i = 0; i < rows; ++i) {
    out += "ACME-" + std::to_string(1000000 + i) + ",";
    out += (i % 10 == 0) ? "\"Claw, \"\"pro\"\" edition\"," : (i % 3 ? "Large claw hammer," : creme + " pot,");
    out += std::string(cats[rng() % 4]) + "," + std::to_string(rng() % 100000 / 100) + "." +
           std::to_string(10 + rng() % 90) + "," + std::to_string(rng() % 500) + ",https://img.example.com/acme/" +
           std::to_string(i) + ".jpg\r\n";
  }
  return out;
}

std::string ndjson_feed(int rows) {
  std::mt19937 rng(1);
  std::string out;
  for (int i = 0; i < rows; ++i) {
    out += R"({"id":"GG)" + std::to_string(1000000 + i) + R"(","title":"Google Sticker )" + std::to_string(i) +
           R"(","brands":["Google"],"categories":["Stationery"],"priceInfo":{"currencyCode":"USD","price":")" +
           std::to_string(rng() % 10000 / 100) + "." + std::to_string(10 + rng() % 90) +
           R"(","originalPrice":"99.00","cost":"1.50"},"availability":"IN_STOCK","availableQuantity":)" +
           std::to_string(rng() % 500) + R"(,"images":[{"height":"300","width":"400","uri":"https://img.example.com/)" +
           std::to_string(i) + R"(.jpg"}],"attributes":[{"key":"material","value":{"text":["paper"]}}]})" + "\n";
  }
  return out;
}

constexpr const char* kCsvSupplier = R"(supplier: bench
currency: EUR
feed: {format: csv, encoding: ENCODING, null_values: ["", "N/A"], trim: true}
fields:
  sku: {column: SKU, required: true}
  title: {column: Name}
  category: {column: Category}
  price: {column: Price, type: decimal}
  quantity: {column: Stock, type: int}
  image_url: {column: Image, type: url}
)";

constexpr const char* kNdjsonSupplier = R"(supplier: bench
currency: USD
feed: {format: ndjson}
fields:
  sku: {column: id, required: true}
  title: {column: title}
  brand: {column: "brands[0]"}
  category: {column: "categories[0]"}
  price: {column: priceInfo.price, type: money, currency_field: currency_code}
  currency_code: {column: priceInfo.currencyCode}
  quantity: {column: availableQuantity, type: int}
  image_url: {column: "images[0].uri", type: url}
)";

// Reads the whole file through the configured source node; returns the records read.
std::int64_t read_all(const std::string& supplier_yaml, const std::string& source_type, const std::string& path) {
  Diagnostics diags;
  Document supplier_doc = *Document::parse(supplier_yaml, "bench.yaml", diags);
  Document graph_doc =
      *Document::parse("nodes:\n  - {id: read, type: " + source_type +
                           "}\n  - {id: out, type: ndjson_sink, path: /dev/null}\nedges: [read -> out]\n",
                       "graph.yaml", diags);
  Supplier supplier = read_supplier(supplier_doc, diags);
  GraphFile graph = read_graph_file(graph_doc, diags);
  auto plan = plan_graph(graph, graph_doc, supplier, supplier_doc, diags);
  if (!diags.empty()) throw std::runtime_error(diags.format());
  auto& source = *std::get<std::unique_ptr<SourceNode>>(plan->nodes.front().body);
  source.open(RunContext{.input = path});
  std::int64_t rows = 0;
  for (Batch b; source.next(b, 1000); b = Batch()) rows += static_cast<std::int64_t>(b.records.size());
  return rows;
}

void run(benchmark::State& state, const std::string& supplier_yaml, const std::string& type, const FeedFile& feed) {
  std::int64_t rows = 0;
  for (auto _ : state) rows += read_all(supplier_yaml, type, feed.path());
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(feed.size()));
}

std::string with_encoding(const std::string& encoding) {
  std::string yaml = kCsvSupplier;
  return yaml.replace(yaml.find("ENCODING"), 8, encoding);
}

void BM_CsvSource(benchmark::State& state) {
  static const FeedFile feed("utf8.csv", csv_feed(static_cast<int>(state.range(0)), false));
  run(state, with_encoding("utf-8"), "csv_source", feed);
}
BENCHMARK(BM_CsvSource)->Arg(200000)->Unit(benchmark::kMillisecond);

void BM_CsvSourceWindows1252(benchmark::State& state) {
  static const FeedFile feed("cp1252.csv", csv_feed(static_cast<int>(state.range(0)), true));
  run(state, with_encoding("windows-1252"), "csv_source", feed);
}
BENCHMARK(BM_CsvSourceWindows1252)->Arg(200000)->Unit(benchmark::kMillisecond);

void BM_NdjsonSource(benchmark::State& state) {
  static const FeedFile feed("retail.ndjson", ndjson_feed(static_cast<int>(state.range(0))));
  run(state, kNdjsonSupplier, "ndjson_source", feed);
}
BENCHMARK(BM_NdjsonSource)->Arg(200000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice
