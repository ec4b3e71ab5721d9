// validate: converts fields to their types and checks the supplier's field rules.
#include "nodes/transform/validate.hpp"

#include <re2/re2.h>

#include <algorithm>

#include "config/spec.hpp"
#include "core/currency.hpp"
#include "core/datetime.hpp"
#include "core/gtin.hpp"
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

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_currency_code(std::string_view c) {
  return c.size() == 3 && std::all_of(c.begin(), c.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

// "1E-2", "-1.5e+3": a number written with an exponent, which a number's message should explain.
bool has_exponent(std::string_view s) {
  std::size_t e = s.find_first_of("eE");
  return e != std::string_view::npos && e > 0 && s[e - 1] >= '0' && s[e - 1] <= '9';
}

// Decimal::parse's reason without its leading 'invalid decimal "<text>": ', which the message shows already.
std::string parse_reason(const std::string& error) {
  std::size_t cut = error.find("\": ");
  return cut == std::string::npos ? error : error.substr(cut + 3);
}

class Validate final : public TransformNode {
 public:
  Validate(std::string id, const Supplier& supplier, Schema& schema) : id_(std::move(id)), supplier_(supplier) {
    for (const auto& f : supplier.fields) {
      Rule rule{schema.add(f.name), &f, {}, {}, {}, nullptr};
      if (!f.pattern.empty()) rule.pattern = std::make_shared<RE2>(f.pattern, RE2::Quiet);
      if (f.type == FieldType::money) rule.currency_out = schema.add(f.name + "_currency");
      rules_.push_back(std::move(rule));
    }
    for (auto& rule : rules_)
      if (!rule.rule->currency_field.empty()) {
        rule.currency_in = schema.add(rule.rule->currency_field);
        rule.currency_rule = supplier.field(rule.rule->currency_field);
      }
    // JSON numbers are exact in any notation; in a delimited feed an exponent is spreadsheet damage
    // ("8.84777E+11" has lost digits), so it is refused there.
    exponent_ = supplier.feed.format == "ndjson" ? Decimal::Exponent::exact : Decimal::Exponent::refused;
    for (const auto& c : supplier.checks) checks_.push_back({schema.add(c.left), schema.add(c.right), &c});
  }

  void process(Batch& batch) override {
    batch.filter(id_, [&](Record& r) { return check(r); });
  }

 private:
  struct Rule {
    std::size_t index;
    const FieldRule* rule;
    std::shared_ptr<const RE2> pattern;       // compiled once per run; RE2 is thread-safe for matching
    std::optional<std::size_t> currency_out;  // money: <field>_currency
    std::optional<std::size_t> currency_in;   // money: the currency_field
    const FieldRule* currency_rule;           // money: the currency_field's rule, for messages
  };
  struct Check {
    std::size_t left, right;
    const FieldCheck* check;
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
    // Maps first, for every field: a money field reads its currency_field, which may be declared later.
    for (const auto& rule_entry : rules_) {
      auto* text = std::get_if<std::string>(&r.values[rule_entry.index]);
      if (!text) continue;
      for (const auto& [from, to] : rule_entry.rule->map)
        if (*text == from) {
          *text = to;
          break;
        }
    }
    for (const auto& rule_entry : rules_) {
      const FieldRule& f = *rule_entry.rule;
      Value& v = r.values[rule_entry.index];
      if (is_null(v)) {
        if (f.required) fail(f, "required", "is required but empty");
        continue;
      }
      std::string* text = std::get_if<std::string>(&v);
      if (!text) continue;  // converted already (a second validate node)
      if (rule_entry.pattern && !RE2::FullMatch(*text, *rule_entry.pattern)) {
        fail(f, "pattern", "value " + shown(*text) + " does not match the pattern " + shown(f.pattern));
        continue;
      }
      switch (f.type) {
        case FieldType::money:
          check_money(r, rule_entry, v, *text, fail);
          break;
        case FieldType::gtin:
          if (auto err = gtin_error(*text)) fail(f, "gtin", "value " + shown(*text) + " is not a valid GTIN: " + *err);
          break;
        case FieldType::date:
        case FieldType::datetime: {
          auto t = parse_datetime(*text, f.type == FieldType::date ? f.zone_offset.value_or(0) : f.zone_offset,
                                  f.end_of_day ? DateEnd::end_of_day : DateEnd::start_of_day);
          if (!t) {
            fail(f, "type",
                 std::string("expected a ") +
                     (f.type == FieldType::date ? "date like 2026-02-24" : "date-time like 2026-02-24T11:07:00+01:00") +
                     ", got " + shown(*text) + ": " + t.error);
          } else {
            v = format_utc(*t);
          }
          break;
        }
        case FieldType::interval: {
          auto t = parse_interval(*text, f.zone_offset);
          if (!t)
            fail(f, "type",
                 "expected an interval like 2026-02-24T11:07+0100/2026-02-29T23:07+0100, got " + shown(*text) + ": " +
                     t.error);
          else
            v = format_utc(t->start) + "/" + format_utc(t->end);
          break;
        }
        case FieldType::list: {
          std::string json = "[";
          std::string_view rest = *text;
          bool bad = false;
          while (!rest.empty() || json.size() == 1) {
            std::size_t cut = rest.find(f.separator);
            std::string_view item = trim_spaces(rest.substr(0, cut));
            rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
            if (!item.empty()) {
              if (f.items == FieldType::url && !valid_url(item)) {
                fail(f, "url", "item " + shown(item) + " is not an http or https URL with a host");
                bad = true;
                break;
              }
              if (json.size() > 1) json.push_back(',');
              append_json_string(json, item);
            }
            if (cut == std::string_view::npos) break;
          }
          if (!bad) v = Json{json + "]"};
          break;
        }
        case FieldType::integer:
        case FieldType::decimal: {
          auto parsed =
              Decimal::parse(*text, supplier_.feed.decimal_separator, supplier_.feed.thousands_separator, exponent_);
          if (!parsed.value) {
            fail(f, "type",
                 std::string("expected ") + (f.type == FieldType::integer ? "an integer" : "a decimal number") +
                     ", got " + shown(*text) + (has_exponent(*text) ? ": " + parse_reason(parsed.error) : ""));
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
    if (!why)
      for (const auto& c : checks_) compare(r, c, fail);
    return why;
  }

  template <class Fail>
  void check_money(Record& r, const Rule& rule, Value& v, const std::string& text, Fail& fail) const {
    const FieldRule& f = *rule.rule;
    std::string_view number = trim_spaces(text);
    std::string code;
    if (rule.currency_in) {
      // An amount without its currency is not priced as the supplier's: a EUR price read as USD is
      // wrong by the exchange rate, and nothing downstream could tell.
      if (const auto* c = std::get_if<std::string>(&r.values[*rule.currency_in]); c && !c->empty())
        code = *c;
      else if (!f.default_currency.empty())
        code = f.default_currency;
      else {
        fail(f, "currency",
             "no currency: field '" + f.currency_field + "' (column '" + rule.currency_rule->column +
                 "') is empty; set default_currency on field '" + f.name + "' if such amounts have a known currency");
        return;
      }
    } else if (std::size_t sp = number.rfind(' '); sp != std::string_view::npos) {
      code = std::string(number.substr(sp + 1));
      number = trim_spaces(number.substr(0, sp));
    }
    if (code.empty()) code = supplier_.currency;
    if (!is_currency_code(code) || currency_exponent(code) < 0) {
      fail(f, "currency", "unknown currency " + shown(code) + " in " + shown(text));
      return;
    }
    auto parsed =
        Decimal::parse(number, supplier_.feed.decimal_separator, supplier_.feed.thousands_separator, exponent_);
    if (!parsed.value) {
      if (has_exponent(number))
        fail(f, "type", "expected an amount, got " + shown(text) + ": " + parse_reason(parsed.error));
      else
        fail(f, "type", "expected an amount like 15.00 or 15.00 USD, got " + shown(text));
      return;
    }
    if (f.min && *parsed.value < *f.min) {
      fail(f, "min", "value " + parsed.value->to_string() + " is below the minimum " + f.min->to_string());
      return;
    }
    if (f.max && *f.max < *parsed.value) {
      fail(f, "max", "value " + parsed.value->to_string() + " is above the maximum " + f.max->to_string());
      return;
    }
    v = *parsed.value;
    r.values[*rule.currency_out] = std::move(code);
  }

  template <class Fail>
  void compare(const Record& r, const Check& c, Fail& fail) const {
    const Value& a = r.values[c.left];
    const Value& b = r.values[c.right];
    if (is_null(a) || is_null(b)) return;
    auto number = [](const Value& x) -> std::optional<Decimal> {
      if (const auto* d = std::get_if<Decimal>(&x)) return *d;
      if (const auto* i = std::get_if<std::int64_t>(&x)) return Decimal::from_units(*i, 0);
      return std::nullopt;
    };
    int cmp = 0;
    if (auto x = number(a), y = number(b); x && y) {
      cmp = x->compare(*y);
    } else if (const auto* s = std::get_if<std::string>(&a), *t = std::get_if<std::string>(&b); s && t) {
      cmp = s->compare(*t) < 0 ? -1 : s->compare(*t) > 0 ? 1 : 0;  // canonical UTC texts order like instants
    } else {
      return;  // a side that failed its own rule was reported there
    }
    const std::string& op = c.check->op;
    bool ok = op == "<"    ? cmp < 0
              : op == "<=" ? cmp <= 0
              : op == "==" ? cmp == 0
              : op == "!=" ? cmp != 0
              : op == ">=" ? cmp >= 0
                           : cmp > 0;
    if (ok) return;
    const FieldRule* lf = supplier_.field(c.check->left);
    fail(*lf, "check",
         "rule " + c.check->left + " " + op + " " + c.check->right + " does not hold: " + value_text(a) + " vs " +
             value_text(b));
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
  std::vector<Check> checks_;
  Decimal::Exponent exponent_ = Decimal::Exponent::refused;
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
      "Converts each field to its type (string, int, decimal, bool, url, enum, money, gtin, date, datetime, "
      "interval, list) and checks the supplier's rules (required, map, pattern, min, max, min_length, max_length, "
      "values, GTIN check digit) and its cross-field checks. A row that breaks any rule is rejected with every "
      "broken rule in its message: field, rule and value. Money adds <field>_currency; dates become UTC texts.",
      &spec,
      "id: check\ntype: validate\n",
      &make,
  };
  return type;
}

}  // namespace sluice
