// A YAML configuration file held with the positions of its nodes, so that every problem can name file:line:col.
#pragma once

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"

namespace sluice {

class Document {
 public:
  // Reads and parses a file. Malformed YAML, invalid UTF-8, a second document, tags, an unclosed quote,
  // duplicate keys and oversized or too deeply nested documents are reported to diags; the result is
  // empty only when nothing usable was parsed.
  static std::optional<Document> load(const std::string& path, Diagnostics& diags);
  static std::optional<Document> parse(std::string_view text, std::string name, Diagnostics& diags);

  const YAML::Node& root() const { return root_; }
  YAML::Node& root() { return root_; }
  const std::string& name() const { return name_; }

  // Replaces (or adds) the value at a dotted path, e.g. "run.threads" or "nodes.out.path", where a
  // segment inside a sequence selects the element by its `id` or by its index. The value is a plain
  // scalar, or a list or map when written in flow syntax ("[a, b]", "{k: v}"). Problems go to diags.
  // `origin` is "--set key=value" as given (key possibly longer than path by a prefix such as "supplier."):
  // diagnostics about what it set name it, with a column within "key=value".
  void set(std::string_view path, std::string_view value, std::string_view origin, Diagnostics& diags);

  // A diagnostic positioned at node, or at fallback when node has no position (a missing key). A key
  // with no value is positioned at the key; what has no position at all, at the start of the file.
  Diagnostic at(const YAML::Node& node, std::string path, std::string message,
                const YAML::Node& fallback = YAML::Node(YAML::NodeType::Undefined)) const;
  // As at(), `offset` characters into node when it is a plain scalar written on one line.
  Diagnostic at(const YAML::Node& node, std::size_t offset, std::string path, std::string message) const;

 private:
  Document(YAML::Node root, std::string name, std::string text)
      : root_(std::move(root)), name_(std::move(name)), text_(std::move(text)) {}

  // A node that a --set put there: diagnostics about it name the override.
  struct Override {
    YAML::Node node;
    std::string origin;  // "--set key=value"
    int column;          // 1-based, within "key=value"
  };
  const Override* override_of(const YAML::Node& node) const;

  YAML::Node root_;
  std::string name_;
  std::string text_;  // as read, for positions inside scalars
  std::vector<Override> overrides_;
  std::vector<std::pair<YAML::Node, YAML::Mark>> empty_values_;  // `key:` with no value -> the key's mark
};

// node[k1][k2]... without yaml-cpp's "invalid node" exceptions: a missing step gives an undefined node.
YAML::Node lookup(const YAML::Node& node, std::initializer_list<std::string_view> keys);

// Human-readable name of a YAML node's kind: "a map", "a list", "a scalar", "null".
std::string_view kind_name(const YAML::Node& node);

}  // namespace sluice
