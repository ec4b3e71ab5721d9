// The (key hash, row hash) of every row a run may meet, read once at its start: a rerun then knows its
// unchanged rows without asking the database, and its new and changed rows without a probe per row.
#pragma once

#include <cstdint>
#include <vector>

namespace sluice {

// 16 bytes a row plus a 4-byte directory slot for every one or two rows: 18 to 20 bytes a row.
class KeySnapshot {
 public:
  // A row hash no row has: two rows of the table whose keys share a hash.
  static constexpr std::int64_t ambiguous = INT64_MIN;

  void add(std::uint64_t key_hash, std::int64_t row_hash) { entries_.push_back({key_hash, row_hash}); }
  // Sorts what was added and builds the directory; find() works from then on.
  void seal();
  // The stored row hash for the key, which the caller may update; nullptr if the key was not there.
  std::int64_t* find(std::uint64_t key_hash);
  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return entries_.capacity() * sizeof(Entry) + directory_.capacity() * sizeof(std::uint32_t); }
  void clear();

 private:
  struct Entry {
    std::uint64_t key;
    std::int64_t hash;
  };
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> directory_;  // entries_ index of the first key of each top-bits bucket
  int shift_ = 64;
};

}  // namespace sluice
