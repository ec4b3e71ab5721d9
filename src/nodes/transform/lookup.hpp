// lookup: overrides or adds fields of each record from a supplemental feed keyed by the same id.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/node_type.hpp"
#include "nodes/transform/supplemental_feed.hpp"

namespace sluice {

const NodeType& lookup_type();

// What a lookup does with a record whose key the supplemental feed lacks.
enum class LookupMissing { keep, reject, route };

// The body of a lookup node, declared here so that what it found can be read after a run.
class Lookup final : public RouterNode {
 public:
  // key: the record field matched; targets: the record field of each of feed.columns, in order.
  Lookup(SupplementalFeed feed, std::size_t key, std::string key_name, std::vector<std::size_t> targets,
         bool clear_empty, LookupMissing missing);

  void open(const RunContext&) override;
  // Port 0 ("out") gets every record found, and the missing ones unless they are rejected or routed
  // to port 1 ("missing"). Only the counters are shared between batches: the table is read-only.
  void route(Batch& batch, std::vector<Batch>& outs) override;
  std::vector<Reject> take_side_rejects() override;

  std::uint64_t found() const { return found_.load(std::memory_order_relaxed); }
  std::uint64_t missing() const { return missing_count_.load(std::memory_order_relaxed); }
  const LookupTable& table() const { return table_; }

 private:
  std::string missing_message(std::string_view key) const;

  SupplementalFeed feed_;
  std::size_t key_;
  std::string key_name_;
  std::vector<std::size_t> targets_;
  std::size_t width_ = 0;  // values a record needs for every target to have a place
  bool clear_empty_;
  LookupMissing missing_;
  LookupTable table_;
  std::vector<Reject> side_rejects_;
  std::atomic<std::uint64_t> found_{0}, missing_count_{0};
};

}  // namespace sluice
