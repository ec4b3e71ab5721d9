// The JSON number grammar, for NDJSON readers that keep a number's text as written.
#pragma once

#include <string_view>

namespace sluice {

// True when s is a number by RFC 8259. simdjson's on-demand parser hands numbers over as raw tokens
// without checking them; the token is kept as written, never converted through a double, so prices
// stay exact.
bool is_json_number(std::string_view s);

}  // namespace sluice
