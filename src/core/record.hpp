// Records, field values, rejects and the batches that flow between nodes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/decimal.hpp"

namespace sluice {

// JSON text written as is: lists (images, tags) and objects (a feed's unmapped columns).
struct Json {
  std::string text;
  friend bool operator==(const Json&, const Json&) = default;
};

// A field's value. monostate is SQL-style NULL (missing or empty in the feed).
using Value = std::variant<std::monostate, std::string, std::int64_t, Decimal, bool, Json>;

inline bool is_null(const Value& v) {
  return std::holds_alternative<std::monostate>(v);
}

// What a field holds once a node has typed it, when the node that writes it says so: configuration
// that compares the field with a constant (a filter's condition) checks the constant against it
// before the run, instead of silently never matching. unknown: anything (a feed's text, say).
enum class ValueKind {
  unknown,
  text,     // std::string
  integer,  // std::int64_t
  decimal,  // Decimal
  boolean,  // bool
  instant,  // canonical UTC text, as format_utc writes it (core/datetime.hpp)
  json,     // Json
};
std::string_view to_string(ValueKind kind);

// The record's field names, fixed before a run starts. Nodes resolve names to indexes once,
// at construction, so the per-record path never looks a name up.
class Schema {
 public:
  // Index of name, added if new. A known kind is recorded, replacing an earlier one: nodes are
  // built in flow order, so the last node that writes a field decides what it holds downstream.
  std::size_t add(std::string_view name, ValueKind kind = ValueKind::unknown);
  std::optional<std::size_t> find(std::string_view name) const;
  const std::vector<std::string>& names() const { return names_; }
  std::size_t size() const { return names_.size(); }
  ValueKind kind(std::size_t index) const { return kinds_[index]; }

 private:
  std::vector<std::string> names_;
  std::vector<ValueKind> kinds_;  // parallel to names_
};

struct Record {
  std::uint64_t line = 0;        // physical line (or record number) in the input where it starts
  std::vector<Value> values;     // indexed by Schema
  std::vector<std::string> raw;  // the fields as read from the feed, kept for the rejects output
};

// A row that did not make it, with enough context to find and fix it in the feed.
struct Reject {
  std::uint64_t line = 0;
  std::string node;     // id of the node that rejected it
  std::string code;     // stable, machine-readable: "required", "type", "ragged_row", ...
  std::string message;  // for people: which field, which rule, which value
  std::vector<std::string> raw;
};

struct RejectReason {
  std::string code;
  std::string message;
};

// The unit that moves through the graph. Batching keeps the per-message cost of the flow graph
// small next to the per-record work.
struct Batch {
  std::uint64_t sequence = 0;  // 0, 1, 2, ... in source order; lets sinks restore the order
  std::vector<Record> records;
  std::vector<Reject> rejects;
  std::uint64_t skipped = 0;  // rows read that are not products (image-only and parent rows); no record
  std::uint64_t filtered = 0;  // records a filter or router dropped on purpose, counted by the node that did
  std::shared_ptr<const std::vector<std::string>> raw_header;  // names of Record::raw columns

  // Runs check(record) on every record in order. A record for which it returns a RejectReason
  // moves to the rejects; the others stay, in their order.
  template <class Check>
  void filter(std::string_view node, Check&& check) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      std::optional<RejectReason> why = check(records[i]);
      if (why) {
        rejects.push_back(Reject{records[i].line, std::string(node), std::move(why->code), std::move(why->message),
                                 std::move(records[i].raw)});
      } else {
        if (kept != i) records[kept] = std::move(records[i]);
        ++kept;
      }
    }
    records.resize(kept);
  }
};

}  // namespace sluice
