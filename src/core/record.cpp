// Schema: the name -> index table of a run's records.
#include "core/record.hpp"

#include <algorithm>

namespace sluice {

std::string_view to_string(ValueKind kind) {
  switch (kind) {
    case ValueKind::unknown:
      return "unknown";
    case ValueKind::text:
      return "text";
    case ValueKind::integer:
      return "integer";
    case ValueKind::decimal:
      return "decimal";
    case ValueKind::boolean:
      return "boolean";
    case ValueKind::instant:
      return "instant";
    case ValueKind::json:
      return "json";
  }
  return "?";
}

std::size_t Schema::add(std::string_view name, ValueKind kind) {
  if (auto i = find(name)) {
    if (kind != ValueKind::unknown) kinds_[*i] = kind;
    return *i;
  }
  names_.emplace_back(name);
  kinds_.push_back(kind);
  return names_.size() - 1;
}

std::optional<std::size_t> Schema::find(std::string_view name) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) return std::nullopt;
  return static_cast<std::size_t>(it - names_.begin());
}

}  // namespace sluice
