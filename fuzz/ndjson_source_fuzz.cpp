// Fuzz target: NDJSON feeds through ndjson_source, validate and price (the Retail API supplier).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view feed(reinterpret_cast<const char*>(data), size);
  sluice::fuzz::run_feed("graphs/ndjson_products_to_file.yaml", "config/suppliers/retail_api.yaml", feed);
  return 0;
}
