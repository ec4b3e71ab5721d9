// A lock-free latency histogram with log-linear buckets (about 6% resolution) for percentiles.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace sluice {

class LatencyHistogram {
 public:
  void record(std::uint64_t nanos) {
    buckets_[bucket_of(nanos)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t m = max_.load(std::memory_order_relaxed);
    while (nanos > m && !max_.compare_exchange_weak(m, nanos, std::memory_order_relaxed)) {
    }
  }

  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::uint64_t max() const { return max_.load(std::memory_order_relaxed); }

  // The value below which a fraction q (0..1) of the recordings fall: the upper edge of its bucket.
  std::uint64_t percentile(double q) const {
    std::uint64_t total = count();
    if (total == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      seen += buckets_[b].load(std::memory_order_relaxed);
      if (seen >= rank) {
        std::uint64_t edge = upper_edge(b);
        return edge < max() ? edge : max();
      }
    }
    return max();
  }

 private:
  static constexpr int kSubBits = 4;  // 16 sub-buckets per power of two
  static constexpr std::size_t kBuckets = 64 << kSubBits;

  static std::size_t bucket_of(std::uint64_t v) {
    if (v < (1u << kSubBits)) return static_cast<std::size_t>(v);
    int log = 63 - __builtin_clzll(v);
    auto sub = static_cast<std::size_t>((v >> (log - kSubBits)) & ((1u << kSubBits) - 1));
    return (static_cast<std::size_t>(log - kSubBits + 1) << kSubBits) + sub;
  }

  static std::uint64_t upper_edge(std::size_t b) {
    if (b < (1u << kSubBits)) return b;
    std::size_t log = (b >> kSubBits) + kSubBits - 1;
    std::uint64_t sub = b & ((1u << kSubBits) - 1);
    if (log >= 63) return UINT64_MAX;
    return ((std::uint64_t{1} << kSubBits | sub) + 1) << (log - kSubBits);
  }

  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace sluice
