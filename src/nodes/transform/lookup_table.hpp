// LookupTable: rows of text values found by a key, held compactly for a whole supplemental feed.
//
// A supplemental feed is read whole before the first record arrives and stays in memory for the run,
// so its rows are not kept as strings each with its own allocation. Layout:
// - arena_: every row's key followed by its K values, back to back, in one std::string;
// - offsets_: per row K + 1 uint32 offsets into the arena (where the key and each value start; a value
//   ends where the next one, or the next row, starts), plus one final offset;
// - index_: an open-addressing hash table (linear probing, XXH3-64 of the key) of 8-byte slots, the
//   row number and 32 more bits of the hash, so that most probes never touch the arena. compact()
//   leaves it at 3/4 full at most.
// Memory, once compacted: key and value bytes + 4 (K + 1) + about 11 bytes per row (8 / 0.75 for the
// index), plus a few bytes for the object; e.g. 27 B per row beside the text for K = 3. Keys and
// values together are limited to 4 GiB, and rows to 2^31.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class LookupTable {
 public:
  explicit LookupTable(std::size_t fields = 0);

  // Adds a row of fields() values; false, and nothing added, when the key is already there (the
  // first row of a key wins). Throws std::length_error past the size limits.
  bool add(std::string_view key, std::span<const std::string_view> values);
  // Shrinks every part to what the rows need, after the last add(); the table still accepts rows.
  void compact();

  // Safe to call from several threads at once while nothing is added.
  std::optional<std::uint32_t> find(std::string_view key) const;
  std::string_view key(std::uint32_t row) const { return text(base(row)); }
  std::string_view value(std::uint32_t row, std::size_t field) const { return text(base(row) + 1 + field); }

  std::size_t rows() const { return rows_; }
  std::size_t fields() const { return fields_; }
  // What the table holds on the heap and in the object itself, capacity included.
  std::size_t memory_bytes() const;
  // The bytes per row beside the key and values once compacted, rounded up: 4 (K + 1) + 11.
  static constexpr std::size_t overhead_per_row(std::size_t fields) { return 4 * (fields + 1) + 11; }

 private:
  struct Slot {
    std::uint32_t row = empty;
    std::uint32_t tag = 0;  // the high half of the key's hash
  };
  static constexpr std::uint32_t empty = UINT32_MAX;

  std::size_t base(std::uint32_t row) const { return static_cast<std::size_t>(row) * (fields_ + 1); }
  std::string_view text(std::size_t i) const {
    return std::string_view(arena_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  std::size_t home(std::uint64_t hash) const;
  void rehash(std::size_t capacity);

  std::size_t fields_;
  std::size_t rows_ = 0;
  std::string arena_;
  std::vector<std::uint32_t> offsets_;
  std::vector<Slot> index_;
};

}  // namespace sluice
