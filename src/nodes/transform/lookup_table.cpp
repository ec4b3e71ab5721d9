// LookupTable: rows of text values found by a key, held compactly for a whole supplemental feed.
#include "nodes/transform/lookup_table.hpp"

#include <xxhash.h>

#include <algorithm>
#include <stdexcept>

namespace sluice {
namespace {

// Slot positions, the capacity and the rows must fit the 32-bit arithmetic of home() and Slot.
constexpr std::size_t kMaxRows = std::size_t{1} << 31;

std::uint64_t hash_of(std::string_view key) {
  return XXH3_64bits(key.data(), key.size());
}

}  // namespace

LookupTable::LookupTable(std::size_t fields) : fields_(fields), offsets_{0} {}

// Multiply-shift instead of a modulo: any capacity works, so compact() can size the index to the rows.
std::size_t LookupTable::home(std::uint64_t hash) const {
  return static_cast<std::size_t>((static_cast<std::uint64_t>(static_cast<std::uint32_t>(hash)) * index_.size()) >> 32);
}

bool LookupTable::add(std::string_view key, std::span<const std::string_view> values) {
  if (values.size() != fields_)
    throw std::invalid_argument("lookup table: a row has " + std::to_string(fields_) + " values, not " +
                                std::to_string(values.size()));
  if ((rows_ + 1) * 4 > index_.size() * 3) {
    if (rows_ >= kMaxRows) throw std::length_error("more than 2^31 rows");
    rehash(std::max<std::size_t>(16, index_.size() * 2));
  }
  const std::uint64_t hash = hash_of(key);
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  std::size_t i = home(hash);
  for (; index_[i].row != empty; i = i + 1 == index_.size() ? 0 : i + 1)
    if (index_[i].tag == tag && this->key(index_[i].row) == key) return false;

  std::size_t bytes = key.size();
  for (auto v : values) bytes += v.size();
  if (arena_.size() + bytes > UINT32_MAX) throw std::length_error("more than 4 GiB of keys and values");
  arena_.append(key);
  offsets_.push_back(static_cast<std::uint32_t>(arena_.size()));
  for (auto v : values) {
    arena_.append(v);
    offsets_.push_back(static_cast<std::uint32_t>(arena_.size()));
  }
  index_[i] = Slot{static_cast<std::uint32_t>(rows_), tag};
  ++rows_;
  return true;
}

void LookupTable::compact() {
  arena_.shrink_to_fit();
  offsets_.shrink_to_fit();
  // At most 3/4 full, and never without an empty slot, which ends every probe.
  if (rows_ == 0)
    std::vector<Slot>().swap(index_);
  else
    rehash(rows_ + rows_ / 3 + 1);
}

void LookupTable::rehash(std::size_t capacity) {
  std::vector<Slot>(capacity).swap(index_);
  for (std::uint32_t row = 0; row < rows_; ++row) {
    const std::uint64_t hash = hash_of(key(row));
    std::size_t i = home(hash);
    while (index_[i].row != empty) i = i + 1 == index_.size() ? 0 : i + 1;
    index_[i] = Slot{row, static_cast<std::uint32_t>(hash >> 32)};
  }
}

std::optional<std::uint32_t> LookupTable::find(std::string_view key) const {
  if (index_.empty()) return std::nullopt;
  const std::uint64_t hash = hash_of(key);
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::size_t i = home(hash); index_[i].row != empty; i = i + 1 == index_.size() ? 0 : i + 1)
    if (index_[i].tag == tag && this->key(index_[i].row) == key) return index_[i].row;
  return std::nullopt;
}

std::size_t LookupTable::memory_bytes() const {
  return sizeof(*this) + arena_.capacity() + offsets_.capacity() * sizeof(std::uint32_t) +
         index_.capacity() * sizeof(Slot);
}

}  // namespace sluice
