// Fuzz target: exact decimal parsing. A value that parses prints in a canonical form that parses back
// to the same value, and rescaling never loses it silently.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "core/decimal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sluice::Decimal;
  if (size < 1) return 0;
  // The first byte picks the separators: plain, decimal comma with dot groups, dot with comma groups.
  static const char seps[3][2] = {{'.', '\0'}, {',', '.'}, {'.', ','}};
  const auto& sep = seps[data[0] % 3];
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto parsed = Decimal::parse(text, sep[0], sep[1]);
  if (!parsed.value) return 0;
  const Decimal& d = *parsed.value;
  auto again = Decimal::parse(d.to_string());
  if (!again.value || !(*again.value == d) || again.value->scale() != d.scale()) std::abort();
  if (!(d.trimmed() == d)) std::abort();
  try {
    Decimal wider = d.rescaled(Decimal::max_scale, sluice::Rounding::half_even);
    if (!(wider == d)) std::abort();  // adding digits is exact
  } catch (const std::overflow_error&) {
    // beyond int64 units at 18 places: reported, not wrapped
  }
  return 0;
}
