// validate: converts fields to their types and checks the supplier's field rules.
#include "nodes/transform/validate.hpp"

#include <algorithm>

#include "config/spec.hpp"
#include "core/json_writer.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{};
  return s;
}

// Shortens a value for a message; rejects keep the full row in raw.
std::string shown(std::string_view v) {
  std::string out;
  append_json_string(out, v.size() > 60 ? std::string(v.substr(0, 57)) + "..." : v);
  return out;
}

bool valid_url(std::string_view u) {
  std::string_view rest;
  if (u.rfind("http://", 0) == 0)
    rest = u.substr(7);
  else if (u.rfind("https://", 0) == 0)
    rest = u.substr(8);
  else
    return false;
  std::size_t host_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, host_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  return std::none_of(u.begin(), u.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\';
  });
}

class Validate final : public TransformNode {
 public:
  Validate(std::string id, const Supplier& supplier, Schema& schema) : id_(std::move(id)), supplier_(supplier) {
    for (const auto& f : supplier.fields) rules_.push_back({schema.add(f.name), &f});
  }

  void process(Batch& batch) override {
    batch.filter(id_, [&](Record& r) { return check(r); });
  }

 private:
  struct Rule {
    std::size_t index;
    const FieldRule* rule;
  };

  std::optional<RejectReason> check(Record& r) const {
    std::optional<RejectReason> why;
    auto fail = [&](const FieldRule& f, std::string_view code, const std::string& msg) {
      std::string text = "field '" + f.name + "' (column '" + f.column + "'): " + msg;
      if (!why)
        why = RejectReason{std::string(code), std::move(text)};
      else
        why->message += "; " + text;
    };
    for (const auto& [index, rule] : rules_) {
      const FieldRule& f = *rule;
      Value& v = r.values[index];
      if (is_null(v)) {
        if (f.required) fail(f, "required", "is required but empty");
        continue;
      }
      const std::string* text = std::get_if<std::string>(&v);
      if (!text) continue;  // converted already (a second validate node)
      switch (f.type) {
        case FieldType::integer:
        case FieldType::decimal: {
          auto parsed = Decimal::parse(*text, supplier_.feed.decimal_separator, supplier_.feed.thousands_separator);
          if (!parsed.value) {
            fail(f, "type",
                 std::string("expected ") + (f.type == FieldType::integer ? "an integer" : "a decimal number") +
                     ", got " + shown(*text));
            break;
          }
          Decimal d = *parsed.value;
          if (f.type == FieldType::integer && d.scale() != 0) {
            fail(f, "type", "expected an integer, got " + shown(*text));
            break;
          }
          if (f.min && d < *f.min) {
            fail(f, "min", "value " + d.to_string() + " is below the minimum " + f.min->to_string());
            break;
          }
          if (f.max && *f.max < d) {
            fail(f, "max", "value " + d.to_string() + " is above the maximum " + f.max->to_string());
            break;
          }
          if (f.type == FieldType::integer)
            v = d.units();
          else
            v = d;
          break;
        }
        case FieldType::boolean: {
          std::string t = *text;
          std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
          if (t == "true" || t == "1" || t == "yes" || t == "y")
            v = true;
          else if (t == "false" || t == "0" || t == "no" || t == "n")
            v = false;
          else
            fail(f, "type", "expected true/false, 1/0 or yes/no, got " + shown(*text));
          break;
        }
        case FieldType::url:
          if (!valid_url(*text))
            fail(f, "url", "expected an http or https URL with a host, got " + shown(*text));
          else
            check_length(f, *text, fail);
          break;
        case FieldType::enumeration:
          if (std::find(f.values.begin(), f.values.end(), *text) == f.values.end()) {
            std::string allowed;
            for (const auto& a : f.values) allowed += (allowed.empty() ? "" : ", ") + a;
            fail(f, "enum", "value " + shown(*text) + " is not one of: " + allowed);
          }
          break;
        case FieldType::string:
          check_length(f, *text, fail);
          break;
      }
    }
    return why;
  }

  template <class Fail>
  static void check_length(const FieldRule& f, const std::string& text, Fail& fail) {
    auto n = static_cast<std::int64_t>(utf8_length(text));
    if (f.max_length && n > *f.max_length)
      fail(f, "max_length", std::to_string(n) + " characters, at most " + std::to_string(*f.max_length) + " allowed");
    else if (f.min_length && n < *f.min_length)
      fail(f, "min_length", std::to_string(n) + " characters, at least " + std::to_string(*f.min_length) + " required");
  }

  std::string id_;
  const Supplier& supplier_;
  std::vector<Rule> rules_;
};

NodeBody make(NodeBuildContext& ctx) {
  return std::make_unique<Validate>(ctx.entry.id, ctx.supplier, ctx.schema);
}

}  // namespace

const NodeType& validate_type() {
  static const NodeType type{
      "validate",
      NodeRole::transform,
      true,
      "Converts each field to its type (string, int, decimal, bool, url, enum) and checks the supplier's rules "
      "(required, min, max, min_length, max_length, values). A row that breaks any rule is rejected with every "
      "broken rule in its message.",
      &spec,
      "id: check\ntype: validate\n",
      &make,
  };
  return type;
}

}  // namespace sluice
