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
  // Reads and parses a file. Malformed YAML, duplicate keys and oversized or too deeply nested
  // documents are reported to diags; the result is empty only when nothing usable was parsed.
  static std::optional<Document> load(const std::string& path, Diagnostics& diags);
  static std::optional<Document> parse(std::string_view text, std::string name, Diagnostics& diags);

  const YAML::Node& root() const { return root_; }
  YAML::Node& root() { return root_; }
  const std::string& name() const { return name_; }

  // Replaces (or adds) the value at a dotted path, e.g. "run.threads" or "nodes.out.path", where a
  // segment inside a sequence selects the element by its `id` or by its index. The value is a plain
  // scalar, or a list or map when written in flow syntax ("[a, b]", "{k: v}"). Problems go to diags.
  void set(std::string_view path, std::string_view value, std::string_view origin, Diagnostics& diags);

  // A diagnostic positioned at node, or at fallback when node has no position (a missing key).
  Diagnostic at(const YAML::Node& node, std::string path, std::string message,
                const YAML::Node& fallback = YAML::Node(YAML::NodeType::Undefined)) const;

 private:
  Document(YAML::Node root, std::string name) : root_(std::move(root)), name_(std::move(name)) {}

  YAML::Node root_;
  std::string name_;
  std::vector<std::pair<YAML::Node, std::string>> overrides_;  // value node -> "--set k=v"
};

// node[k1][k2]... without yaml-cpp's "invalid node" exceptions: a missing step gives an undefined node.
YAML::Node lookup(const YAML::Node& node, std::initializer_list<std::string_view> keys);

// Human-readable name of a YAML node's kind: "a map", "a list", "a scalar", "null".
std::string_view kind_name(const YAML::Node& node);

}  // namespace sluice
