// Schema: the name -> index table of a run's records.
#include "core/record.hpp"

#include <algorithm>

namespace sluice {

std::size_t Schema::add(std::string_view name) {
  if (auto i = find(name)) return *i;
  names_.emplace_back(name);
  return names_.size() - 1;
}

std::optional<std::size_t> Schema::find(std::string_view name) const {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it == names_.end()) return std::nullopt;
  return static_cast<std::size_t>(it - names_.begin());
}

}  // namespace sluice
