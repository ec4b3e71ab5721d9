// Small text pieces the JSON report and the Prometheus metrics are written with.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/json_writer.hpp"

namespace sluice::report_text {

// A JSON number with six significant digits.
inline std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

inline std::string u(std::uint64_t v) {
  return std::to_string(v);
}

// A JSON string literal.
inline std::string str(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// A Prometheus label value: backslash, quote and line break escaped.
inline std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace sluice::report_text
