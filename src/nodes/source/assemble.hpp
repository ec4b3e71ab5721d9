// Puts mapped rows together the way the supplier's feed spreads products over rows: Shopify-style
// continuation rows and image-only rows, WooCommerce-style parent rows, and repeated keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/supplier.hpp"
#include "core/record.hpp"

namespace sluice {

// Sits between a source's mapping and its output batch. Rows arrive in feed order with their field
// values still as text. Every row that goes in comes out exactly once: as a record, as a reject, or
// counted in Batch::skipped (image-only rows and parent rows, which are not products).
class RowAssembler {
 public:
  // Adds the fields it produces (variants.images_field) to the schema.
  RowAssembler(std::string node_id, const Supplier& supplier, Schema& schema);

  // False when there is nothing to do: add() and finish() then pass rows straight through.
  bool active() const { return active_; }

  void add(Record r, Batch& out);
  // End of input: hands on the group still held.
  void finish(Batch& out);
  // Rows held back, waiting for the rest of their group.
  std::size_t held() const { return group_.size(); }

 private:
  static const std::string* text(const Record& r, std::optional<std::size_t> i);
  void reject(Record& r, Batch& out, std::string code, std::string message);
  void emit(Record r, Batch& out);
  void flush_group(Batch& out);
  void inherit(Record& r, const std::vector<Value>& from) const;
  bool image_only(const Record& r) const;

  std::string id_;
  const Supplier& supplier_;
  bool active_ = false;
  std::size_t key_;
  std::vector<std::size_t> mapped_;   // indexes of the supplier's fields
  std::vector<std::size_t> inherit_;  // indexes of variants.inherit
  std::optional<std::size_t> group_field_, image_field_, images_field_;
  std::optional<std::size_t> parent_field_, parent_type_field_;

  // continuation style: the product whose rows are being read
  std::vector<Record> group_;
  std::string group_value_;
  std::vector<std::string> group_images_;

  // parent style: parent key -> its inheritable values (indexed like inherit_)
  std::unordered_map<std::string, std::vector<Value>> parents_;

  // duplicates: reject: key -> line where it was first seen
  std::unordered_map<std::string, std::uint64_t> seen_;
};

}  // namespace sluice
