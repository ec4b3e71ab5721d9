// filter: keeps the records a condition holds for; the others are dropped and counted.
#include "nodes/transform/filter.hpp"

#include "nodes/condition.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"where", Kind::map,
       "the condition a record must meet to be kept: {field, in: [...]}, {field, op, value} (op =, !=, <, <=, >, "
       ">=), {field, empty: true|false}, or {all: [...]}, {any: [...]}, {not: {...}} of conditions",
       true},
  }};
  return s;
}

class Filter final : public TransformNode {
 public:
  explicit Filter(Condition where) : where_(std::move(where)), text_(where_.text()) {}

  // Dropped records are not rejects: the graph says it does not want them, and the summary counts
  // them so that read = written + rejected + filtered still adds up.
  void process(Batch& batch) override {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      if (!where_.holds(batch.records[i])) continue;
      if (kept != i) batch.records[kept] = std::move(batch.records[i]);
      ++kept;
    }
    batch.filtered += batch.records.size() - kept;
    batch.records.resize(kept);
  }

  std::string filter_condition() const override { return text_; }

 private:
  Condition where_;
  std::string text_;
};

NodeBody make(NodeBuildContext& ctx) {
  const YAML::Node node = ctx.settings.node("where");
  if (!node.IsMap()) return {};  // the spec check reports it
  auto where = Condition::parse(node, "where", ctx);
  if (!where) return {};
  return std::make_unique<Filter>(std::move(*where));
}

}  // namespace

const NodeType& filter_type() {
  static const NodeType type{
      "filter",
      NodeRole::transform,
      false,
      "Keeps the records that meet a condition (`where`) and drops the others, which the run's summary counts "
      "as filtered: they are neither rejected nor lost. A condition tests one field: `in` a list of values, "
      "compared with `op` (=, !=, <, <=, >, >=) to a `value`, or `empty`; or combines conditions with `all`, "
      "`any` and `not`. Numbers compare exactly, dates as instants, text byte by byte; a value that does not "
      "fit the field's type is a configuration error.",
      &spec,
      "id: in_stock\ntype: filter\nwhere: {field: stock, op: \">\", value: 0}\n",
      &make,
      false,
      false,
  };
  return type;
}

}  // namespace sluice
