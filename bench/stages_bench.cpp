// Stage benchmarks: the CSV reader, validate, price and the NDJSON writer alone, in rows/s and bytes/s.
#include <benchmark/benchmark.h>

#include <random>
#include <sstream>

#include "config/document.hpp"
#include "config/supplier.hpp"
#include "core/json_writer.hpp"
#include "core/money.hpp"
#include "graph/plan.hpp"
#include "nodes/source/csv_reader.hpp"

namespace sluice {
namespace {

std::string make_feed(int rows) {
  std::mt19937 rng(1);
  std::string out = "SKU,Name,Category,Price,Stock,Image\r\n";
  const char* cats[] = {"tools", "garden", "books", "food"};
  for (int i = 0; i < rows; ++i) {
    out += "ACME-" + std::to_string(1000000 + i) + ",";
    out += (i % 10 == 0) ? "\"Claw, \"\"pro\"\" edition\"," : "Large claw hammer,";
    out += std::string(cats[rng() % 4]) + "," + std::to_string(rng() % 100000 / 100) + "." +
           std::to_string(10 + rng() % 90) + "," + std::to_string(rng() % 500) + ",https://img.example.com/acme/" +
           std::to_string(i) + ".jpg\r\n";
  }
  return out;
}

void BM_CsvReader(benchmark::State& state) {
  const std::string feed = make_feed(static_cast<int>(state.range(0)));
  std::int64_t records = 0;
  for (auto _ : state) {
    std::istringstream in(feed);
    CsvReader reader(in, CsvDialect{});
    CsvRecord r;
    while (reader.next(r)) ++records;
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(feed.size()));
}
BENCHMARK(BM_CsvReader)->Arg(100000)->Unit(benchmark::kMillisecond);

// The nodes as configured by a supplier file, driven batch by batch the way the graph drives them.
struct Pipeline {
  std::optional<Document> supplier_doc;
  std::optional<Document> graph_doc;
  Supplier supplier;
  GraphFile graph;
  std::unique_ptr<Plan> plan;

  Pipeline() {
    Diagnostics diags;
    supplier_doc = Document::parse(R"(supplier: bench
currency: EUR
fields:
  sku: {column: SKU, required: true, max_length: 64}
  title: {column: Name, required: true, max_length: 200}
  category: {column: Category, type: enum, values: [tools, garden, books, food]}
  price: {column: Price, type: decimal, required: true, min: 0}
  quantity: {column: Stock, type: int, min: 0}
  image_url: {column: Image, type: url}
pricing:
  amount_field: price
  category_field: category
  tax: {default: "0.20", by_category: {books: "0.055", food: "0.055"}}
)",
                                   "bench.yaml", diags);
    graph_doc = Document::parse(R"(nodes:
  - {id: read, type: csv_source}
  - {id: check, type: validate}
  - {id: price, type: price}
  - {id: out, type: ndjson_sink, path: /dev/null}
edges: [read -> check, check -> price, price -> out]
)",
                                "graph.yaml", diags);
    supplier = read_supplier(*supplier_doc, diags);
    graph = read_graph_file(*graph_doc, diags);
    plan = plan_graph(graph, *graph_doc, supplier, *supplier_doc, diags);
    if (!diags.empty()) throw std::runtime_error(diags.format());
  }

  TransformNode& transform(std::size_t i) { return *std::get<std::unique_ptr<TransformNode>>(plan->nodes[i].body); }

  Batch batch(std::size_t n) {
    Batch b;
    std::mt19937 rng(2);
    for (std::size_t i = 0; i < n; ++i) {
      Record r;
      r.line = i + 2;
      r.values.resize(plan->schema.size());
      r.values[0] = "ACME-" + std::to_string(i);
      r.values[1] = std::string("Large claw hammer");
      r.values[2] = std::string(i % 2 ? "tools" : "books");
      r.values[3] = std::to_string(rng() % 100000 / 100) + "." + std::to_string(10 + rng() % 90);
      r.values[4] = std::to_string(rng() % 500);
      r.values[5] = "https://img.example.com/acme/" + std::to_string(i) + ".jpg";
      b.records.push_back(std::move(r));
    }
    return b;
  }
};

void BM_Validate(benchmark::State& state) {
  Pipeline p;
  const Batch input = p.batch(1000);
  for (auto _ : state) {
    state.PauseTiming();
    Batch b = input;
    state.ResumeTiming();
    p.transform(1).process(b);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_Validate);

void BM_ValidateAndPrice(benchmark::State& state) {
  Pipeline p;
  const Batch input = p.batch(1000);
  for (auto _ : state) {
    state.PauseTiming();
    Batch b = input;
    state.ResumeTiming();
    p.transform(1).process(b);
    p.transform(2).process(b);
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 1000);
}
BENCHMARK(BM_ValidateAndPrice);

void BM_ComputePrice(benchmark::State& state) {
  Decimal amount = *Decimal::parse("123.45").value;
  Decimal rate = *Decimal::parse("0.055").value;
  for (auto _ : state) benchmark::DoNotOptimize(compute_price(amount, rate, 2, Rounding::half_even, false));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ComputePrice);

void BM_JsonRecord(benchmark::State& state) {
  Pipeline p;
  Batch b = p.batch(1000);
  p.transform(1).process(b);
  p.transform(2).process(b);
  std::string out;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const auto& r : b.records)
      for (const auto& v : r.values) append_json_value(out, v);
    bytes += static_cast<std::int64_t>(out.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(b.records.size()));
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_JsonRecord);

}  // namespace
}  // namespace sluice
