// Conditions on a record's fields, read from YAML: what a filter keeps and where a route sends a record.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/record.hpp"
#include "nodes/node_type.hpp"

namespace sluice {

// One YAML form, in four shapes:
//
//   {field: category, in: [books, food]}          the field equals one of the values
//   {field: gross_minor, op: ">=", value: 10000}  op is one of =, !=, <, <=, >, >=
//   {field: image_url, empty: true}               null or ""; `empty: false` holds for the others
//   {all: [...]}, {any: [...]}, {not: {...}}      combinations of conditions
//
// What a comparison means follows what the field holds once typed: the kind the node that writes it
// recorded in the schema (price: integers), else the type the supplier's field rule gives it (validate
// makes it so), else the value written in the condition (a number, a date or date-time, or text).
//   - numbers (int, decimal, money) compare exactly, across scales (19.99 = 19.990); never via double;
//   - dates and date-times compare as instants; a value without a zone is read like the field's feed
//     values (its zone_offset; UTC without a rule), a date alone as the start of its day (its end for
//     a field with end_of_day);
//   - text compares byte by byte; booleans and lists have no order, only = and !=.
// A field whose type is known makes a value of another type a configuration error: `stock > many`
// could never hold.
//
// At run time a value may not have its field's type yet (the condition comes before validate, so the
// value is still the feed's text). Then = and != and `in` compare it as text with the value as
// written, and the ordering operators read it as a number or instant the way validate would (the
// feed's decimal separator, the field's zone); a text they cannot read makes the comparison false.
// A null value is empty, equals nothing and has no order: `x != v` is `not(x = v)`, which holds for
// a null x, while `x < v` does not.
//
// A Condition is immutable and cheap to copy; holds() does not allocate, so it can run on every record.
class Condition {
 public:
  // Reads the condition at `node`, found under `key` in the node's entry ("where", "cases[0].where").
  // Field names are resolved to indexes of ctx.schema as it stands: nodes are built in flow order, so
  // it holds the fields of the source and of every node upstream. Every problem is reported through
  // ctx.error, positioned at the YAML node at fault; nullopt when there was any.
  static std::optional<Condition> parse(const YAML::Node& node, const std::string& key, const NodeBuildContext& ctx);

  bool holds(const Record& record) const;

  // Compact and readable, for summaries: "category in [books, food]", "gross_minor >= 10000",
  // "image_url is empty", "all(a, b)", "not(x)". Values that are not plain words are quoted as JSON.
  std::string text() const;

 private:
  struct Node;
  class Reader;
  explicit Condition(std::shared_ptr<const Node> root) : root_(std::move(root)) {}

  std::shared_ptr<const Node> root_;
};

}  // namespace sluice
