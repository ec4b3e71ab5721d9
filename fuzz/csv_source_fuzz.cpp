// Fuzz target: CSV feeds through csv_source, validate and price, one supplier dialect per first byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // Comma with doubled quotes, Shopify's continuation rows, WooCommerce's Windows-1252 with parents,
  // Merchant Center's quoted TSV.
  static const char* const suppliers[] = {"config/suppliers/acme.yaml", "config/suppliers/shopify.yaml",
                                          "config/suppliers/woocommerce.yaml", "config/suppliers/merchant_center.yaml"};
  const char* supplier = suppliers[data[0] % 4];
  std::string_view feed(reinterpret_cast<const char*>(data) + 1, size - 1);
  sluice::fuzz::run_feed("graphs/products_to_file.yaml", supplier, feed);
  return 0;
}
