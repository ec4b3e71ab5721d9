// Appending JSON text: strings (always valid UTF-8 out) and record values.
#pragma once

#include <string>
#include <string_view>

#include "core/record.hpp"

namespace sluice {

// Appends s as a JSON string literal. Bytes that are not valid UTF-8 become U+FFFD, so the output
// is always valid JSON even for rows rejected for their encoding.
void append_json_string(std::string& out, std::string_view s);

// Appends a value: null, "string", integer, exact decimal as a JSON number, true/false.
void append_json_value(std::string& out, const Value& v);

// The value as plain text (for CSV): "" for null, decimals exact, booleans true/false.
std::string value_text(const Value& v);

// The text with invalid UTF-8 and NUL bytes replaced by U+FFFD: what a database accepts as text.
std::string sanitize_utf8(std::string_view s);

// Number of code points in valid UTF-8 text.
std::size_t utf8_length(std::string_view s);

}  // namespace sluice
