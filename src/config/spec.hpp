// Declarative specs of configuration objects: they validate YAML, supply defaults and document settings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/document.hpp"
#include "core/decimal.hpp"

namespace sluice {

enum class Kind {
  string,
  path,       // a file or folder name: not empty, no control characters
  character,  // a single character such as a delimiter; "\t" and "tab" are accepted
  integer,
  integer_or_auto,  // an integer, or the word "auto"
  boolean,
  decimal,  // exact: read from the YAML text, never through a double
  choice,   // one of Field::choices
  string_list,
  list,         // a list whose elements the owner checks
  map,          // a map whose keys the owner checks (a condition, say)
  duration,     // "500ms", "30s", "10m", "2h", "1h30m"
  decimal_map,  // map of arbitrary keys to decimals
  string_map,   // map of arbitrary keys to strings
  object,       // nested ObjectSpec
  object_map,   // map of arbitrary keys to objects of one ObjectSpec
};

struct ObjectSpec;

struct Field {
  Field(std::string name_, Kind kind_, std::string doc_, bool required_ = false, std::string default_value_ = "",
        std::optional<std::int64_t> min_ = std::nullopt, std::optional<std::int64_t> max_ = std::nullopt,
        std::vector<std::string> choices_ = {}, const ObjectSpec* object_ = nullptr)
      : name(std::move(name_)),
        kind(kind_),
        doc(std::move(doc_)),
        required(required_),
        default_value(std::move(default_value_)),
        min(min_),
        max(max_),
        choices(std::move(choices_)),
        object(object_) {}

  std::string name;
  Kind kind = Kind::string;
  std::string doc;
  bool required = false;
  std::string default_value;             // as YAML text; empty means no default
  std::optional<std::int64_t> min, max;  // for integers
  std::vector<std::string> choices;      // for Kind::choice
  const ObjectSpec* object = nullptr;    // for Kind::object and Kind::object_map
};

struct ObjectSpec {
  std::vector<Field> fields;

  const Field* find(std::string_view name) const;
  std::vector<std::string> names() const;
};

std::string_view kind_label(Kind kind);

// Checks node against spec and reports every problem: unknown keys (with a did-you-mean), missing
// required keys, wrong types, values out of range. `parent` positions the "missing key" messages.
// `extra_keys` are accepted without checking (e.g. "id" and "type" of a node entry). Returns whether
// every known key has a value of its kind and no required key is missing, so that cross-field checks
// can go on beside unknown keys: those are reported but do not make the object unreadable.
bool check_object(const Document& doc, const YAML::Node& node, const ObjectSpec& spec, const std::string& path,
                  Diagnostics& diags, const YAML::Node& parent = YAML::Node(YAML::NodeType::Undefined),
                  const std::vector<std::string>& extra_keys = {});

// Typed access to a checked object, falling back to the spec's defaults.
class Settings {
 public:
  Settings() = default;
  Settings(const YAML::Node& node, const ObjectSpec* spec)
      : node_(node.IsDefined() ? node : YAML::Node()), spec_(spec) {}

  bool has(std::string_view name) const;
  std::string string(std::string_view name) const;
  char character(std::string_view name) const;
  std::int64_t integer(std::string_view name) const;
  std::optional<std::int64_t> integer_or_auto(std::string_view name) const;  // nullopt = auto
  bool boolean(std::string_view name) const;
  std::optional<Decimal> decimal(std::string_view name) const;
  std::optional<std::chrono::milliseconds> duration(std::string_view name) const;
  std::vector<std::string> string_list(std::string_view name) const;
  std::vector<std::pair<std::string, std::string>> string_map(std::string_view name) const;  // in file order
  YAML::Node node(std::string_view name) const;  // the raw value, or an undefined node
  const YAML::Node& self() const { return node_; }

 private:
  YAML::Node value(std::string_view name) const;  // the value or the parsed default

  YAML::Node node_;
  const ObjectSpec* spec_ = nullptr;
};

// Parses a YAML scalar as a boolean the way YAML 1.1 people expect: true/false/yes/no/on/off.
std::optional<bool> parse_bool(std::string_view text);
// Parses a character setting: one byte, or an escape / name ("\t", "tab", "comma", "semicolon", "pipe").
std::optional<char> parse_character(std::string_view text);
// Parses a duration such as "500ms", "30s", "10m", "2h" or "1h30m" (a bare number is seconds).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses an integer without overflow; the whole text must be a decimal integer.
std::optional<std::int64_t> parse_int(std::string_view text);

}  // namespace sluice
