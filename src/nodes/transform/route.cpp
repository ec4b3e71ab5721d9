// route: sends each record to the port of the first case whose condition holds.
#include "nodes/transform/route.hpp"

#include <algorithm>
#include <optional>

#include "nodes/condition.hpp"

namespace sluice {
namespace {

constexpr std::string_view kDiscard = "discard";
constexpr std::string_view kDefaultUnmatched = "unmatched";

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"cases", Kind::list,
       "the cases, tried in order on each record, the first that holds taking it: {port: <name>, where: "
       "<condition>}, conditions as in filter",
       true},
      {"unmatched", Kind::string,
       "the port of the records no case matches, or discard to drop them (counted as filtered)", false,
       std::string(kDefaultUnmatched)},
  }};
  return s;
}

// What an edge's "node.port" can name: letters, digits, '_' and '-', starting with a letter or '_'.
bool is_port_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '-'; });
}

// The output ports: the cases' in order, then the unmatched port unless it is discard or a case's.
// Called on unchecked settings, so what is malformed is left out rather than thrown on; make()
// reports it.
std::vector<std::string> ports(const YAML::Node& entry) {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (is_port_name(name) && name != "rejects" && name != kDiscard &&
        std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(name);
  };
  const YAML::Node cases = lookup(entry, {"cases"});
  if (cases.IsSequence())
    for (std::size_t i = 0; i < cases.size(); ++i)
      if (const YAML::Node port = lookup(cases[i], {"port"}); port.IsScalar()) add(port.Scalar());
  const YAML::Node unmatched = lookup(entry, {"unmatched"});
  if (!unmatched.IsDefined() || unmatched.IsNull())
    add(std::string(kDefaultUnmatched));
  else if (unmatched.IsScalar())
    add(unmatched.Scalar());
  return out;
}

class Route final : public RouterNode {
 public:
  struct Case {
    Condition where;
    std::size_t port;  // index into the node's output ports
  };

  Route(std::vector<Case> cases, std::optional<std::size_t> unmatched)
      : cases_(std::move(cases)), unmatched_(unmatched) {}

  void route(Batch& batch, std::vector<Batch>& outs) override {
    for (auto& r : batch.records) {
      std::optional<std::size_t> port = unmatched_;
      for (const auto& c : cases_)
        if (c.where.holds(r)) {
          port = c.port;
          break;
        }
      if (port)
        outs[*port].records.push_back(std::move(r));
      else
        ++batch.filtered;
    }
    batch.records.clear();
  }

  std::string filter_condition() const override { return unmatched_ ? std::string() : "no case matched"; }

 private:
  std::vector<Case> cases_;
  std::optional<std::size_t> unmatched_;  // nullopt: discard
};

NodeBody make(NodeBuildContext& ctx) {
  const YAML::Node cases = ctx.settings.node("cases");
  if (!cases.IsSequence()) return {};  // the spec check reports it
  const std::vector<std::string> names = ports(ctx.entry.settings);
  bool ok = true;
  auto fail = [&](const YAML::Node& at, const std::string& key, const std::string& message) {
    ctx.error(at, key, message);
    ok = false;
  };
  auto port_index = [&](const std::string& name) -> std::optional<std::size_t> {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return std::nullopt;
    return static_cast<std::size_t>(it - names.begin());
  };
  const std::string name_rule = "letters, digits, '_' and '-', starting with a letter or '_'";

  if (cases.size() == 0) fail(cases, "cases", "give at least one case: {port: <name>, where: <condition>}");
  std::vector<Route::Case> built;
  std::vector<std::string> seen;  // the ports of the cases so far, by case
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const YAML::Node c = cases[i];
    const std::string key = "cases[" + std::to_string(i) + "]";
    seen.emplace_back();
    if (!c.IsMap()) {
      fail(c, key, "expected a case {port: <name>, where: <condition>}, got " + std::string(kind_name(c)));
      continue;
    }
    bool unknown = false;
    for (auto it = c.begin(); it != c.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // the loader reports keys that are not strings
      const std::string& k = it->first.Scalar();
      if (k == "port" || k == "where") continue;
      std::string hint = did_you_mean(k, {"port", "where"});
      fail(it->first, key + "." + k,
           "unknown key '" + k + "'" +
               (hint.empty() ? " (a case has port and where)" : " (did you mean '" + hint + "'?)"));
      unknown = true;
    }
    // A misspelt key explains a missing one already.
    auto missing = [&](const YAML::Node& v, const std::string& k) {
      if (!unknown)
        fail(v.IsDefined() ? v : c, key + "." + k,
             v.IsDefined() ? "required key '" + k + "' has no value" : "missing required key '" + k + "'");
      ok = false;
    };

    const YAML::Node port = lookup(c, {"port"});
    std::optional<std::size_t> index;
    if (!port.IsDefined() || port.IsNull()) {
      missing(port, "port");
    } else if (!port.IsScalar()) {
      fail(port, key + ".port", "expected a port name, got " + std::string(kind_name(port)));
    } else {
      const std::string& name = port.Scalar();
      auto earlier = std::find(seen.begin(), seen.end(), name);
      if (name == "rejects")
        fail(port, key + ".port",
             "a route has no rejects port: it sends every record to one of its ports or drops it; name the port "
             "otherwise");
      else if (name == kDiscard)
        fail(port, key + ".port", "'discard' means dropping records (unmatched: discard); name the port otherwise");
      else if (!is_port_name(name))
        fail(port, key + ".port", "'" + name + "' is not a valid port name (" + name_rule + ")");
      else if (earlier != seen.end())
        fail(port, key + ".port",
             "port '" + name + "' is given twice (also by cases[" + std::to_string(earlier - seen.begin()) +
                 "]); join the conditions with any");
      else
        index = port_index(name);
      seen.back() = name;
    }

    const YAML::Node where = lookup(c, {"where"});
    std::optional<Condition> condition;
    if (!where.IsDefined() || where.IsNull())
      missing(where, "where");
    else
      condition = Condition::parse(where, key + ".where", ctx);
    if (!condition || !index)
      ok = false;
    else
      built.push_back(Route::Case{std::move(*condition), *index});
  }

  std::optional<std::size_t> unmatched;
  const YAML::Node unmatched_at = ctx.settings.node("unmatched");
  if (unmatched_at.IsDefined() && !unmatched_at.IsNull() && !unmatched_at.IsScalar()) {
    ok = false;  // the spec check reports it
  } else if (const std::string name = ctx.settings.string("unmatched"); name == "rejects") {
    fail(unmatched_at, "unmatched",
         "a route has no rejects port: name a port for the records no case matches, or discard them");
  } else if (name != kDiscard) {
    if (!is_port_name(name))
      fail(unmatched_at, "unmatched", "'" + name + "' is not a valid port name (" + name_rule + "), nor discard");
    else
      unmatched = port_index(name);
    if (!unmatched) ok = false;
  }
  if (!ok) return {};
  return std::make_unique<Route>(std::move(built), unmatched);
}

}  // namespace

const NodeType& route_type() {
  static const NodeType type{
      "route",
      NodeRole::transform,
      false,
      "Sends each record to the output port of the first case whose condition holds (conditions as in filter), "
      "keeping the records' order within each port. The records no case matches go to the `unmatched` port "
      "(`unmatched` unless named; it may also be a case's port), or with `unmatched: discard` are dropped and "
      "counted as filtered. The ports are the cases' in order, then the unmatched one; connect each port with an edge.",
      &spec,
      "id: by_kind\ntype: route\ncases:\n  - port: gift_cards\n    where: {field: category, in: [gift_card]}\n"
      "  - port: no_image\n    where: {field: image_url, empty: true}\nunmatched: out\n",
      &make,
      false,
      false,
      &ports,
  };
  return type;
}

}  // namespace sluice
