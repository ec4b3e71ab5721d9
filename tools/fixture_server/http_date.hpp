// HTTP-date (IMF-fixdate) formatting and parsing for Date, Last-Modified, If-Modified-Since and Retry-After.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::fixture {

// Seconds since the Unix epoch -> "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::int64_t unix_seconds);

// Accepts IMF-fixdate, the obsolete RFC 850 form and asctime form (RFC 9110 section 5.6.7);
// returns nullopt for anything else, which callers treat as an absent header.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace sluice::fixture
