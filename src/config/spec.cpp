// Validation of YAML against ObjectSpecs, and typed access with defaults.
#include "config/spec.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace sluice {

const Field* ObjectSpec::find(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> ObjectSpec::names() const {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f.name);
  return out;
}

std::string_view kind_label(Kind kind) {
  switch (kind) {
    case Kind::string:
      return "string";
    case Kind::path:
      return "file name";
    case Kind::character:
      return "character";
    case Kind::integer:
      return "integer";
    case Kind::integer_or_auto:
      return "integer or auto";
    case Kind::boolean:
      return "boolean";
    case Kind::decimal:
      return "decimal";
    case Kind::choice:
      return "choice";
    case Kind::string_list:
      return "list of strings";
    case Kind::list:
      return "list";
    case Kind::map:
      return "map";
    case Kind::duration:
      return "duration";
    case Kind::decimal_map:
      return "map of decimals";
    case Kind::string_map:
      return "map of strings";
    case Kind::object:
      return "map";
    case Kind::object_map:
      return "map of maps";
  }
  return "?";
}

std::optional<bool> parse_bool(std::string_view t) {
  static const char* yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const char* no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  for (const char* y : yes)
    if (t == y) return true;
  for (const char* n : no)
    if (t == n) return false;
  return std::nullopt;
}

std::optional<char> parse_character(std::string_view t) {
  if (t.size() == 1) return t[0];
  if (t == "\\t" || t == "tab") return '\t';
  if (t == "comma") return ',';
  if (t == "semicolon") return ';';
  if (t == "pipe") return '|';
  if (t == "none" || t == "") return '\0';
  return std::nullopt;
}

std::optional<std::int64_t> parse_int(std::string_view t) {
  std::int64_t v = 0;
  const char* b = t.data();
  const char* e = t.data() + t.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e || b == e) return std::nullopt;
  return v;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view t) {
  if (t.empty()) return std::nullopt;
  if (auto plain = parse_int(t)) {
    if (*plain < 0 || *plain > 10'000'000) return std::nullopt;
    return std::chrono::milliseconds(*plain * 1000);
  }
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < t.size()) {
    std::size_t j = i;
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
    if (j == i || j - i > 9) return std::nullopt;
    std::int64_t n = *parse_int(t.substr(i, j - i));
    std::size_t k = j;
    while (k < t.size() && t[k] >= 'a' && t[k] <= 'z') ++k;
    std::string_view unit = t.substr(j, k - j);
    std::int64_t ms = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000 : unit == "h" ? 3'600'000 : 0;
    if (ms == 0) return std::nullopt;
    total += n * ms;
    if (total > 10'000'000'000) return std::nullopt;
    i = k;
  }
  return std::chrono::milliseconds(total);
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool check_value(const Document& doc, const YAML::Node& v, const Field& f, const std::string& path,
                 Diagnostics& diags) {
  bool ok = true;
  auto fail = [&](const std::string& msg) {
    diags.add(doc.at(v, path, msg));
    ok = false;
  };
  auto scalar_or_fail = [&]() -> bool {
    if (v.IsScalar()) return true;
    fail("expected " + std::string(kind_label(f.kind)) + ", got " + std::string(kind_name(v)));
    return false;
  };
  switch (f.kind) {
    case Kind::string:
      scalar_or_fail();
      break;
    case Kind::path:
      if (!scalar_or_fail()) break;
      if (v.Scalar().empty())
        fail("the file name is empty ('-' means standard input or output)");
      else if (std::any_of(v.Scalar().begin(), v.Scalar().end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
        fail("the file name '" + v.Scalar() + "' has a control character in it");
      break;
    case Kind::character:
      if (scalar_or_fail() && !parse_character(v.Scalar()))
        fail("expected a single character (or \\t, tab, comma, semicolon, pipe, none), got '" + v.Scalar() + "'");
      break;
    case Kind::integer:
    case Kind::integer_or_auto: {
      if (!scalar_or_fail()) break;
      if (f.kind == Kind::integer_or_auto && v.Scalar() == "auto") break;
      auto n = parse_int(v.Scalar());
      if (!n) {
        fail("expected " + std::string(kind_label(f.kind)) + ", got '" + v.Scalar() + "'");
      } else if ((f.min && *n < *f.min) || (f.max && *n > *f.max)) {
        std::string range = f.min && f.max ? "between " + std::to_string(*f.min) + " and " + std::to_string(*f.max)
                            : f.min        ? "at least " + std::to_string(*f.min)
                                           : "at most " + std::to_string(*f.max);
        fail("value " + v.Scalar() + " is out of range: must be " + range);
      }
      break;
    }
    case Kind::boolean:
      if (scalar_or_fail() && !parse_bool(v.Scalar())) fail("expected true or false, got '" + v.Scalar() + "'");
      break;
    case Kind::decimal:
      if (scalar_or_fail()) {
        auto d = Decimal::parse(v.Scalar());
        if (!d.value) fail("expected a decimal number, got '" + v.Scalar() + "': " + d.error);
      }
      break;
    case Kind::choice:
      if (scalar_or_fail() && std::find(f.choices.begin(), f.choices.end(), v.Scalar()) == f.choices.end()) {
        std::string msg = "unknown value '" + v.Scalar() + "' (expected one of: " + join(f.choices) + ")";
        std::string hint = did_you_mean(v.Scalar(), f.choices);
        if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
        fail(msg);
      }
      break;
    case Kind::string_list:
      if (!v.IsSequence()) {
        fail("expected a list of strings, got " + std::string(kind_name(v)));
        break;
      }
      for (std::size_t i = 0; i < v.size(); ++i)
        if (!v[i].IsScalar()) {
          diags.add(doc.at(v[i], path + "[" + std::to_string(i) + "]",
                           "expected a string, got " + std::string(kind_name(v[i]))));
          ok = false;
        }
      break;
    case Kind::duration:
      if (scalar_or_fail() && (!parse_duration(v.Scalar()) || parse_duration(v.Scalar())->count() <= 0))
        fail("expected a positive duration such as 30s, 10m or 1h30m, got '" + v.Scalar() + "'");
      break;
    case Kind::list:
      if (!v.IsSequence()) fail("expected a list, got " + std::string(kind_name(v)));
      break;
    case Kind::map:
      if (!v.IsMap()) fail("expected a map, got " + std::string(kind_name(v)));
      break;
    case Kind::string_map:
      if (!v.IsMap()) {
        fail("expected a map of strings, got " + std::string(kind_name(v)));
        break;
      }
      for (auto it = v.begin(); it != v.end(); ++it) {
        ok = it->first.IsScalar() && ok;  // the loader reports keys that are not strings
        if (!it->second.IsScalar()) {
          diags.add(doc.at(it->second, path + "." + (it->first.IsScalar() ? it->first.Scalar() : "?"),
                           "expected a string, got " + std::string(kind_name(it->second)), it->first));
          ok = false;
        }
      }
      break;
    case Kind::decimal_map:
      if (!v.IsMap()) {
        fail("expected a map of decimals, got " + std::string(kind_name(v)));
        break;
      }
      for (auto it = v.begin(); it != v.end(); ++it) {
        std::string p = path + "." + (it->first.IsScalar() ? it->first.Scalar() : "?");
        ok = it->first.IsScalar() && ok;
        if (!it->second.IsScalar() || !Decimal::parse(it->second.Scalar()).value) {
          diags.add(doc.at(it->second, p, "expected a decimal number", it->first));
          ok = false;
        }
      }
      break;
    case Kind::object:
      if (!v.IsMap()) {
        fail("expected a map, got " + std::string(kind_name(v)));
        break;
      }
      ok = check_object(doc, v, *f.object, path, diags, v);
      break;
    case Kind::object_map:
      if (!v.IsMap()) {
        fail("expected a map, got " + std::string(kind_name(v)));
        break;
      }
      for (auto it = v.begin(); it != v.end(); ++it) {
        std::string p = path + "." + (it->first.IsScalar() ? it->first.Scalar() : "?");
        ok = it->first.IsScalar() && ok;
        if (!it->second.IsMap()) {
          diags.add(doc.at(it->second, p, "expected a map, got " + std::string(kind_name(it->second)), it->first));
          ok = false;
          continue;
        }
        ok = check_object(doc, it->second, *f.object, p, diags, it->first) && ok;
      }
      break;
  }
  return ok;
}

}  // namespace

bool check_object(const Document& doc, const YAML::Node& node, const ObjectSpec& spec, const std::string& path,
                  Diagnostics& diags, const YAML::Node& parent, const std::vector<std::string>& extra_keys) {
  auto sub = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (!node.IsMap()) {
    diags.add(doc.at(node, path, "expected a map, got " + std::string(kind_name(node)), parent));
    return false;
  }
  bool ok = true;
  std::vector<std::string> known = spec.names();
  known.insert(known.end(), extra_keys.begin(), extra_keys.end());
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      ok = false;  // the loader reports keys that are not strings
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) continue;
    const Field* f = spec.find(key);
    if (!f) {
      std::string msg = "unknown key '" + key + "'";
      std::string hint = did_you_mean(key, known);
      if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
      diags.add(doc.at(it->first, sub(key), msg));
      continue;
    }
    if (it->second.IsNull() && !f->required) continue;  // `key:` with no value means "use the default"
    if (it->second.IsNull()) continue;                  // reported below as missing
    ok = check_value(doc, it->second, *f, sub(key), diags) && ok;
  }
  for (const auto& f : spec.fields) {
    if (f.required && (!node[f.name] || node[f.name].IsNull())) {
      diags.add(
          doc.at(node[f.name], sub(f.name),
                 node[f.name] ? "required key '" + f.name + "' has no value" : "missing required key '" + f.name + "'",
                 parent.IsDefined() ? parent : node));
      ok = false;
    }
  }
  return ok;
}

YAML::Node Settings::value(std::string_view name) const {
  std::string key(name);
  YAML::Node v = lookup(node_, {name});
  if (v.IsDefined() && !v.IsNull()) return v;
  const Field* f = spec_ ? spec_->find(name) : nullptr;
  if (!f) throw std::logic_error("setting '" + key + "' is not in the spec");
  if (f->default_value.empty()) return YAML::Node(YAML::NodeType::Undefined);
  try {
    return YAML::Load(f->default_value);
  } catch (const YAML::Exception&) {
    return YAML::Node(f->default_value);
  }
}

bool Settings::has(std::string_view name) const {
  YAML::Node v = lookup(node_, {name});
  return v.IsDefined() && !v.IsNull();
}

std::string Settings::string(std::string_view name) const {
  YAML::Node v = value(name);
  return v.IsScalar() ? v.Scalar() : std::string();
}

char Settings::character(std::string_view name) const {
  YAML::Node v = value(name);
  if (!v.IsScalar()) return '\0';
  return parse_character(v.Scalar()).value_or('\0');
}

std::int64_t Settings::integer(std::string_view name) const {
  YAML::Node v = value(name);
  return v.IsScalar() ? parse_int(v.Scalar()).value_or(0) : 0;
}

std::optional<std::int64_t> Settings::integer_or_auto(std::string_view name) const {
  YAML::Node v = value(name);
  if (!v.IsScalar() || v.Scalar() == "auto") return std::nullopt;
  return parse_int(v.Scalar());
}

bool Settings::boolean(std::string_view name) const {
  YAML::Node v = value(name);
  return v.IsScalar() && parse_bool(v.Scalar()).value_or(false);
}

std::optional<Decimal> Settings::decimal(std::string_view name) const {
  YAML::Node v = value(name);
  if (!v.IsScalar()) return std::nullopt;
  return Decimal::parse(v.Scalar()).value;
}

std::optional<std::chrono::milliseconds> Settings::duration(std::string_view name) const {
  YAML::Node v = value(name);
  if (!v.IsScalar()) return std::nullopt;
  return parse_duration(v.Scalar());
}

std::vector<std::string> Settings::string_list(std::string_view name) const {
  YAML::Node v = value(name);
  std::vector<std::string> out;
  if (v.IsSequence())
    for (const auto& e : v)
      if (e.IsScalar()) out.push_back(e.Scalar());
  return out;
}

std::vector<std::pair<std::string, std::string>> Settings::string_map(std::string_view name) const {
  YAML::Node v = value(name);
  std::vector<std::pair<std::string, std::string>> out;
  if (v.IsMap())
    for (auto it = v.begin(); it != v.end(); ++it)
      if (it->first.IsScalar() && it->second.IsScalar()) out.emplace_back(it->first.Scalar(), it->second.Scalar());
  return out;
}

YAML::Node Settings::node(std::string_view name) const {
  return lookup(node_, {name});
}

}  // namespace sluice
