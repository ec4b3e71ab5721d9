// A sorted array of (key hash, row hash) with a directory over the keys' top bits.
#include "nodes/sink/pg_snapshot.hpp"

#include <algorithm>
#include <stdexcept>

namespace sluice {

void KeySnapshot::seal() {
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
  // Keys whose hashes collide stay as one entry that matches no row hash: their rows take the slow path.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (kept > 0 && entries_[kept - 1].key == entries_[i].key) {
      entries_[kept - 1].hash = ambiguous;
    } else {
      entries_[kept++] = entries_[i];
    }
  }
  entries_.resize(kept);
  if (entries_.capacity() > kept + kept / 4) entries_.shrink_to_fit();
  if (entries_.size() >= UINT32_MAX) throw std::length_error("snapshot too large");
  // About two entries a bucket: a lookup reads one directory slot and a cache line or two of entries.
  int bits = 1;
  while (bits < 31 && (std::size_t{2} << bits) < entries_.size()) ++bits;
  shift_ = 64 - bits;
  directory_.assign((std::size_t{1} << bits) + 1, 0);
  std::size_t e = 0;
  for (std::size_t b = 0; b < (std::size_t{1} << bits); ++b) {
    directory_[b] = static_cast<std::uint32_t>(e);
    while (e < entries_.size() && (entries_[e].key >> shift_) == b) ++e;
  }
  directory_.back() = static_cast<std::uint32_t>(entries_.size());
}

std::int64_t* KeySnapshot::find(std::uint64_t key_hash) {
  if (directory_.empty()) return nullptr;
  std::size_t b = key_hash >> shift_;
  for (std::uint32_t i = directory_[b]; i < directory_[b + 1]; ++i)
    if (entries_[i].key == key_hash) return &entries_[i].hash;
  return nullptr;
}

void KeySnapshot::clear() {
  entries_ = {};
  directory_ = {};
  shift_ = 64;
}

}  // namespace sluice
