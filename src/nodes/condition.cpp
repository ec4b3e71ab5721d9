// Conditions: read from YAML and checked against the fields' types once, then evaluated on every record.
#include "nodes/condition.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/spec.hpp"
#include "core/datetime.hpp"
#include "core/decimal.hpp"
#include "core/json_writer.hpp"

namespace sluice {
namespace {

enum class Op { eq, ne, lt, le, gt, ge };

constexpr std::array<std::string_view, 6> kOps{"=", "!=", "<", "<=", ">", ">="};

// Spellings from other languages, answered with ours.
constexpr std::array<std::pair<std::string_view, std::string_view>, 10> kOpHints{{{"==", "="},
                                                                                  {"=>", ">="},
                                                                                  {"=<", "<="},
                                                                                  {"<>", "!="},
                                                                                  {"eq", "="},
                                                                                  {"ne", "!="},
                                                                                  {"lt", "<"},
                                                                                  {"le", "<="},
                                                                                  {"gt", ">"},
                                                                                  {"ge", ">="}}};

const std::vector<std::string> kFieldKeys{"field", "in", "op", "value", "empty"};
const std::vector<std::string> kCombinationKeys{"all", "any", "not"};

// How a comparison reads the field's values, fixed when the condition is built.
enum class Domain { text, number, instant, boolean };

// How a field's texts are read as numbers and instants: the way validate reads its feed values.
struct Reading {
  std::optional<std::int32_t> zone = 0;  // of a text without one; nullopt: such a text is no instant
  DateEnd date_end = DateEnd::start_of_day;
  char decimal_sep = '.';
  char thousands_sep = '\0';
};

// What a condition knows of a field when it is built.
struct FieldInfo {
  ValueKind kind = ValueKind::unknown;
  std::string type;  // for messages: the supplier's type name ("int", "money") or the kind's
  Reading reading;
};

// A value written in a condition, read once in every way a comparison may need it.
struct Literal {
  std::string text;  // as written
  std::optional<Decimal> number;
  std::optional<std::int64_t> instant;  // seconds since the epoch
  std::optional<bool> boolean;
};

const Value kNull{};

ValueKind kind_of(FieldType type) {
  switch (type) {
    case FieldType::integer:
      return ValueKind::integer;
    case FieldType::decimal:
    case FieldType::money:
      return ValueKind::decimal;
    case FieldType::boolean:
      return ValueKind::boolean;
    case FieldType::date:
    case FieldType::datetime:
      return ValueKind::instant;
    case FieldType::list:
      return ValueKind::json;
    case FieldType::string:
    case FieldType::url:
    case FieldType::enumeration:
    case FieldType::gtin:
    case FieldType::interval:
      return ValueKind::text;
  }
  return ValueKind::unknown;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// The text as a number, or nullopt. Only a text made of a sign, digits and separators is parsed: a
// failed parse builds an error message, which the per-record path must not pay for on every row.
std::optional<Decimal> number_in(std::string_view s, const Reading& r) {
  std::size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i >= s.size() || !is_digit(s[i])) return std::nullopt;
  for (; i < s.size(); ++i)
    if (!is_digit(s[i]) && s[i] != r.decimal_sep && (r.thousands_sep == '\0' || s[i] != r.thousands_sep))
      return std::nullopt;
  return Decimal::parse(s, r.decimal_sep, r.thousands_sep).value;
}

// The text as an instant, or nullopt; as with numbers, only a text that starts like a date is parsed.
std::optional<std::int64_t> instant_in(std::string_view s, const Reading& r) {
  if (s.size() < 10 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) || s[4] != '-' ||
      s[7] != '-')
    return std::nullopt;
  InstantResult t = parse_datetime(s, r.zone, r.date_end);
  if (!t) return std::nullopt;
  return t->seconds;
}

int sign(int c) {
  return (c > 0) - (c < 0);
}

// A value as written when it is a plain word or number, else as a JSON string, so that a summary
// line stays unambiguous: [a, "b, c"] is two values.
void append_value(std::string& out, const std::string& text) {
  bool plain = !text.empty() && std::none_of(text.begin(), text.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b == 0x7f || c == ',' || c == '[' || c == ']' || c == '(' || c == ')' || c == '"' ||
           c == '\'' || c == '\\';
  });
  if (plain)
    out += text;
  else
    append_json_string(out, text);
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + ("'" + names[i] + "'");
  return out;
}

std::string shown(const YAML::Node& node) {
  return node.IsScalar() ? "'" + node.Scalar() + "'" : std::string(kind_name(node));
}

bool orders(Op op) {
  return op != Op::eq && op != Op::ne;
}

}  // namespace

struct Condition::Node {
  enum class Form { compare, in, empty, all, any, negate };

  Form form = Form::all;
  std::string field;      // compare, in, empty: the field's name, for text() ...
  std::size_t index = 0;  // ... and its index
  Op op = Op::eq;
  Domain domain = Domain::text;
  Reading reading;
  bool empty = true;            // Form::empty: holds for empty values; false: for the others
  std::vector<Literal> values;  // compare: one; in: one or more
  std::vector<Node> children;   // all, any: one or more; negate: one

  bool holds(const Record& r) const {
    switch (form) {
      case Form::all:
        return std::all_of(children.begin(), children.end(), [&](const Node& c) { return c.holds(r); });
      case Form::any:
        return std::any_of(children.begin(), children.end(), [&](const Node& c) { return c.holds(r); });
      case Form::negate:
        return !children.front().holds(r);
      case Form::empty:
      case Form::in:
      case Form::compare:
        break;
    }
    const Value& v = index < r.values.size() ? r.values[index] : kNull;
    if (form == Form::empty) {
      const auto* s = std::get_if<std::string>(&v);
      return (is_null(v) || (s && s->empty())) == empty;
    }
    if (form == Form::in)
      return std::any_of(values.begin(), values.end(), [&](const Literal& l) { return equals(v, l); });
    switch (op) {
      case Op::eq:
        return equals(v, values.front());
      case Op::ne:
        return !equals(v, values.front());
      case Op::lt:
      case Op::le:
      case Op::gt:
      case Op::ge:
        break;
    }
    std::optional<int> c = order(v, values.front());
    if (!c) return false;
    return op == Op::lt ? *c < 0 : op == Op::le ? *c <= 0 : op == Op::gt ? *c > 0 : *c >= 0;
  }

  bool equals(const Value& v, const Literal& lit) const {
    if (const auto* s = std::get_if<std::string>(&v)) {
      if (domain == Domain::instant && lit.instant)
        if (auto t = instant_in(*s, reading)) return *t == *lit.instant;
      return *s == lit.text;
    }
    if (const auto* i = std::get_if<std::int64_t>(&v)) return lit.number && Decimal::from_units(*i, 0) == *lit.number;
    if (const auto* d = std::get_if<Decimal>(&v)) return lit.number && *d == *lit.number;
    if (const auto* b = std::get_if<bool>(&v)) return lit.boolean && *b == *lit.boolean;
    if (const auto* j = std::get_if<Json>(&v)) return j->text == lit.text;
    return false;
  }

  // The value's order against the literal's, or nullopt when the value cannot be compared with it.
  std::optional<int> order(const Value& v, const Literal& lit) const {
    const auto* s = std::get_if<std::string>(&v);
    switch (domain) {
      case Domain::number: {
        if (!lit.number) return std::nullopt;
        if (const auto* i = std::get_if<std::int64_t>(&v)) return sign(Decimal::from_units(*i, 0).compare(*lit.number));
        if (const auto* d = std::get_if<Decimal>(&v)) return sign(d->compare(*lit.number));
        if (s)
          if (auto n = number_in(*s, reading)) return sign(n->compare(*lit.number));
        return std::nullopt;
      }
      case Domain::instant:
        if (s && lit.instant)
          if (auto t = instant_in(*s, reading)) return (*t > *lit.instant) - (*t < *lit.instant);
        return std::nullopt;
      case Domain::text:
        if (s) return sign(s->compare(lit.text));  // char_traits<char> compares bytes as unsigned
        return std::nullopt;
      case Domain::boolean:
        return std::nullopt;
    }
    return std::nullopt;
  }

  void write(std::string& out) const {
    auto call = [&](std::string_view name) {
      out += name;
      out += '(';
      for (std::size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out += ", ";
        children[i].write(out);
      }
      out += ')';
    };
    switch (form) {
      case Form::compare:
        out += field;
        out += ' ';
        out += kOps[static_cast<std::size_t>(op)];
        out += ' ';
        append_value(out, values.front().text);
        break;
      case Form::in:
        out += field;
        out += " in [";
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (i > 0) out += ", ";
          append_value(out, values[i].text);
        }
        out += ']';
        break;
      case Form::empty:
        out += field;
        out += empty ? " is empty" : " is not empty";
        break;
      case Form::all:
        call("all");
        break;
      case Form::any:
        call("any");
        break;
      case Form::negate:
        call("not");
        break;
    }
  }
};

// Reads a condition and reports every problem it finds, so that one run of `sluice check` shows them all.
class Condition::Reader {
 public:
  explicit Reader(const NodeBuildContext& ctx) : ctx_(ctx) {}

  bool ok() const { return ok_; }

  Node read(const YAML::Node& y, const std::string& key) {
    if (!y.IsMap()) {
      fail(y, key, "expected a condition such as {field: stock, op: \">\", value: 0}, got " + shown(y));
      return {};
    }
    std::vector<std::string> field_keys, combination_keys;
    for (auto it = y.begin(); it != y.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // the loader reports keys that are not strings
      const std::string& k = it->first.Scalar();
      if (std::find(kFieldKeys.begin(), kFieldKeys.end(), k) != kFieldKeys.end()) field_keys.push_back(k);
      if (std::find(kCombinationKeys.begin(), kCombinationKeys.end(), k) != kCombinationKeys.end())
        combination_keys.push_back(k);
    }
    if (!combination_keys.empty() && (combination_keys.size() > 1 || !field_keys.empty())) {
      std::vector<std::string> given = field_keys;
      given.insert(given.end(), combination_keys.begin(), combination_keys.end());
      fail(y, key,
           "a condition tests one field, or is one of all, any and not; this one has " + quoted_list(given) +
               ": put them in an all or any list");
      return {};
    }
    if (!combination_keys.empty()) return combination(y, key, combination_keys.front());
    if (!field_keys.empty()) return test(y, key);
    if (!unknown_keys(y, key, {}))
      fail(y, key,
           "expected a condition: {field: ..., in: [...]}, {field: ..., op: ..., value: ...}, "
           "{field: ..., empty: true}, {all: [...]}, {any: [...]} or {not: {...}}; got an empty map");
    return {};
  }

 private:
  void fail(const YAML::Node& where, const std::string& key, const std::string& message) {
    ctx_.error(where, key, message);
    ok_ = false;
  }

  // Reports the keys of y that are not in `known` (every key when it is empty, as in a map that is no
  // condition at all, then hinting at any condition key); whether there were any.
  bool unknown_keys(const YAML::Node& y, const std::string& key, const std::vector<std::string>& known) {
    static const std::vector<std::string> all = [] {
      std::vector<std::string> v = kFieldKeys;
      v.insert(v.end(), kCombinationKeys.begin(), kCombinationKeys.end());
      return v;
    }();
    bool any = false;
    for (auto it = y.begin(); it != y.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      const std::string& k = it->first.Scalar();
      if (std::find(known.begin(), known.end(), k) != known.end()) continue;
      std::string hint = did_you_mean(k, known.empty() ? all : known);
      fail(it->first, key + "." + k,
           "unknown key '" + k + "'" +
               (hint.empty() ? " (a condition has field with in, op and value, or empty; or all, any or not)"
                             : " (did you mean '" + hint + "'?)"));
      any = true;
    }
    return any;
  }

  Node combination(const YAML::Node& y, const std::string& key, const std::string& name) {
    unknown_keys(y, key, {name});
    Node n;
    n.form = name == "all" ? Node::Form::all : name == "any" ? Node::Form::any : Node::Form::negate;
    const YAML::Node v = lookup(y, {name});
    const std::string path = key + "." + name;
    if (n.form == Node::Form::negate) {
      n.children.push_back(read(v, path));
      return n;
    }
    if (!v.IsSequence()) {
      fail(v, path, "'" + name + "' takes a list of conditions, got " + shown(v));
      return n;
    }
    if (v.size() == 0) {
      fail(v, path, "'" + name + "' needs at least one condition");
      return n;
    }
    for (std::size_t i = 0; i < v.size(); ++i) n.children.push_back(read(v[i], path + "[" + std::to_string(i) + "]"));
    return n;
  }

  // {field, in}, {field, op, value} or {field, empty}.
  Node test(const YAML::Node& y, const std::string& key) {
    const bool unknown = unknown_keys(y, key, kFieldKeys);
    const YAML::Node field = lookup(y, {"field"}), in = lookup(y, {"in"}), op = lookup(y, {"op"}),
                     value = lookup(y, {"value"}), empty = lookup(y, {"empty"});
    Node n;
    std::optional<FieldInfo> info;
    if (!field.IsDefined() || field.IsNull()) {
      // A misspelt key explains a missing one already.
      if (!unknown)
        fail(field.IsDefined() ? field : y, key + ".field",
             field.IsDefined() ? "required key 'field' has no value" : "missing required key 'field'");
      ok_ = false;
    } else if (!field.IsScalar()) {
      fail(field, key + ".field", "expected a field name, got " + shown(field));
    } else {
      n.field = field.Scalar();
      info = resolve(field, key + ".field", n.field, n.index);
    }

    std::vector<std::string> forms;
    if (in.IsDefined()) forms.emplace_back("in");
    if (op.IsDefined()) forms.emplace_back("op");
    if (empty.IsDefined()) forms.emplace_back("empty");
    if (forms.size() > 1) {
      fail(y, key, "give one of 'in', 'op' and 'empty', not " + quoted_list(forms));
      return n;
    }
    if (forms.empty()) {
      if (!unknown)
        fail(y, key,
             "a condition on a field needs 'in' with a list of values, 'op' with a 'value', or 'empty' with true or "
             "false");
      ok_ = false;
      return n;
    }
    if (value.IsDefined() && !op.IsDefined())
      fail(value, key + ".value", "'value' goes with 'op', not with '" + forms[0] + "'");

    if (in.IsDefined()) {
      n.form = Node::Form::in;
      if (!in.IsSequence()) {
        fail(in, key + ".in", "'in' takes a list of values such as [books, food], got " + shown(in));
        return n;
      }
      if (in.size() == 0) {
        fail(in, key + ".in", "'in' needs at least one value");
        return n;
      }
      for (std::size_t i = 0; i < in.size(); ++i)
        if (auto lit = literal(in[i], key + ".in[" + std::to_string(i) + "]", n.field, info))
          n.values.push_back(std::move(*lit));
      if (info) settle(n, *info);
      return n;
    }

    if (empty.IsDefined()) {
      n.form = Node::Form::empty;
      std::optional<bool> b = empty.IsScalar() ? parse_bool(empty.Scalar()) : std::nullopt;
      if (!b)
        fail(empty, key + ".empty", "expected true or false, got " + shown(empty));
      else
        n.empty = *b;
      return n;
    }

    n.form = Node::Form::compare;
    std::optional<Op> parsed = read_op(op, key + ".op");
    std::optional<Literal> lit;
    if (!value.IsDefined()) {
      if (!unknown) fail(y, key + ".value", "missing required key 'value'");
      ok_ = false;
    } else {
      lit = literal(value, key + ".value", n.field, info);
    }
    if (!parsed || !lit || !info) return n;
    n.op = *parsed;
    n.values.push_back(std::move(*lit));
    if (orders(n.op) && (info->kind == ValueKind::boolean || info->kind == ValueKind::json))
      fail(op, key + ".op",
           "field '" + n.field + "' holds " + info->type + " values, which have no order: use = or != (or empty)");
    settle(n, *info);
    return n;
  }

  // The field's index and what is known of its values; nullopt (reported) when no field has the name.
  std::optional<FieldInfo> resolve(const YAML::Node& at, const std::string& path, const std::string& name,
                                   std::size_t& index) {
    std::optional<std::size_t> found = ctx_.schema.find(name);
    if (!found) {
      const std::vector<std::string>& names = ctx_.schema.names();
      std::string hint = did_you_mean(name, names);
      std::string known;
      for (const auto& f : names) known += (known.empty() ? "" : ", ") + f;
      fail(at, path,
           "unknown field '" + name + "'" +
               (!hint.empty()   ? " (did you mean '" + hint + "'?)"
                : names.empty() ? " (no node before this one produces any field)"
                                : " (the fields at this point: " + known + ")"));
      return std::nullopt;
    }
    index = *found;
    FieldInfo f;
    f.kind = ctx_.schema.kind(index);
    f.type = std::string(to_string(f.kind));
    if (f.kind != ValueKind::unknown) return f;
    const FieldRule* rule = ctx_.supplier.field(name);
    if (!rule) return f;
    f.kind = kind_of(rule->type);
    f.type = std::string(to_string(rule->type));
    f.reading.decimal_sep = ctx_.supplier.feed.decimal_separator;
    f.reading.thousands_sep = ctx_.supplier.feed.thousands_separator;
    if (rule->type == FieldType::date) f.reading.zone = rule->zone_offset.value_or(0);
    if (rule->type == FieldType::datetime) f.reading.zone = rule->zone_offset;
    f.reading.date_end = rule->end_of_day ? DateEnd::end_of_day : DateEnd::start_of_day;
    return f;
  }

  std::optional<Op> read_op(const YAML::Node& op, const std::string& path) {
    if (op.IsScalar())
      for (std::size_t i = 0; i < kOps.size(); ++i)
        if (op.Scalar() == kOps[i]) return static_cast<Op>(i);
    std::string message = "unknown op " + shown(op) + " (expected one of =, !=, <, <=, >, >=)";
    if (op.IsScalar())
      for (const auto& [wrong, right] : kOpHints)
        if (op.Scalar() == wrong) message += " (did you mean '" + std::string(right) + "'?)";
    fail(op, path, message);
    return std::nullopt;
  }

  // A value to compare with, checked against the field's type when it is known.
  std::optional<Literal> literal(const YAML::Node& v, const std::string& path, const std::string& field,
                                 const std::optional<FieldInfo>& info) {
    if (!v.IsScalar()) {
      fail(v, path,
           "expected a single value, got " + shown(v) + (v.IsNull() ? " (for an empty field, use empty: true)" : ""));
      return std::nullopt;
    }
    const Reading reading = info ? info->reading : Reading{};
    Literal lit{v.Scalar(), Decimal::parse(v.Scalar()).value, std::nullopt, parse_bool(v.Scalar())};
    // A value without a zone is read like the field's feed values; for a field whose feed values
    // must carry one, and for fields without a rule, as UTC.
    InstantResult t = parse_datetime(lit.text, reading.zone.value_or(0), reading.date_end);
    if (t) lit.instant = t->seconds;
    if (!info) return lit;
    const std::string holds = "field '" + field + "' holds " + info->type + " values, and '" + lit.text + "' is not ";
    switch (info->kind) {
      case ValueKind::integer:
      case ValueKind::decimal:
        if (lit.number) break;
        fail(v, path, holds + "a number");
        return std::nullopt;
      case ValueKind::instant:
        if (lit.instant) break;
        fail(v, path, holds + "a date or date-time: " + t.error);
        return std::nullopt;
      case ValueKind::boolean:
        if (lit.boolean) break;
        fail(v, path, holds + "true or false");
        return std::nullopt;
      case ValueKind::unknown:
      case ValueKind::text:
      case ValueKind::json:
        break;
    }
    return lit;
  }

  // How the test reads the field's values: from the field's type, else from what the values written
  // in the condition all are.
  static void settle(Node& n, const FieldInfo& info) {
    n.reading = info.reading;
    auto all = [&](auto has) { return std::all_of(n.values.begin(), n.values.end(), has); };
    switch (info.kind) {
      case ValueKind::integer:
      case ValueKind::decimal:
        n.domain = Domain::number;
        return;
      case ValueKind::instant:
        n.domain = Domain::instant;
        return;
      case ValueKind::boolean:
        n.domain = Domain::boolean;
        return;
      case ValueKind::text:
      case ValueKind::json:
        n.domain = Domain::text;
        return;
      case ValueKind::unknown:
        break;
    }
    if (!n.values.empty() && all([](const Literal& l) { return l.number.has_value(); }))
      n.domain = Domain::number;
    else if (!n.values.empty() && all([](const Literal& l) { return l.instant.has_value(); }))
      n.domain = Domain::instant;
    else
      n.domain = Domain::text;
  }

  const NodeBuildContext& ctx_;
  bool ok_ = true;
};

std::optional<Condition> Condition::parse(const YAML::Node& node, const std::string& key, const NodeBuildContext& ctx) {
  Reader reader(ctx);
  Node root = reader.read(node, key);
  if (!reader.ok()) return std::nullopt;
  return Condition(std::make_shared<const Node>(std::move(root)));
}

bool Condition::holds(const Record& record) const {
  return root_->holds(record);
}

std::string Condition::text() const {
  std::string out;
  root_->write(out);
  return out;
}

}  // namespace sluice
