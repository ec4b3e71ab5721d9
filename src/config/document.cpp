// Loading YAML with positions, duplicate-key detection (yaml-cpp keeps the first silently) and --set overrides.
#include "config/document.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace sluice {
namespace {

constexpr std::size_t kMaxDocumentBytes = 4 << 20;
constexpr int kMaxFlowDepth = 64;
constexpr std::size_t kMaxNodesVisited = 1'000'000;

Diagnostic make(const std::string& file, const YAML::Mark& mark, std::string path, std::string message) {
  Diagnostic d;
  d.file = file;
  if (!mark.is_null()) {
    d.line = mark.line + 1;
    d.column = mark.column + 1;
  }
  d.path = std::move(path);
  d.message = std::move(message);
  return d;
}

// yaml-cpp recurses once per nesting level; refuse inputs that could exhaust the stack before parsing.
bool nesting_too_deep(std::string_view text) {
  int depth = 0;
  char in_quote = 0;
  for (char c : text) {
    if (in_quote) {
      if (c == in_quote || c == '\n') in_quote = 0;
      continue;
    }
    if (c == '"' || c == '\'')
      in_quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// Walks the tree once, reporting every key given twice in one map. Aliases can make a small file
// describe an exponential tree, so the walk is bounded.
void find_duplicates(const YAML::Node& node, const std::string& file, const std::string& path, int depth,
                     std::size_t& visited, Diagnostics& diags) {
  if (++visited > kMaxNodesVisited || depth > 200) return;
  if (node.IsMap()) {
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "<complex key>";
      if (!seen.insert(key).second) {
        diags.add(make(file, it->first.Mark(), child_path(path, key),
                       "duplicate key '" + key + "' (an earlier value for it would be used; remove one)"));
      }
      find_duplicates(it->second, file, child_path(path, key), depth + 1, visited, diags);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      find_duplicates(node[i], file, path + "[" + std::to_string(i) + "]", depth + 1, visited, diags);
    }
  }
}

}  // namespace

YAML::Node lookup(const YAML::Node& node, std::initializer_list<std::string_view> keys) {
  YAML::Node cur = node;
  for (std::string_view k : keys) {
    if (!cur.IsDefined() || !cur.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node next = static_cast<const YAML::Node&>(cur)[std::string(k)];
    if (!next.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    cur.reset(next);
  }
  return cur;
}

std::string_view kind_name(const YAML::Node& node) {
  if (!node.IsDefined()) return "missing";
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Undefined:
      return "missing";
  }
  return "unknown";
}

std::optional<Document> Document::load(const std::string& path, Diagnostics& diags) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.add(Diagnostic{path, 0, 0, "", "cannot open file"});
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxDocumentBytes) {
      diags.add(Diagnostic{
          path, 0, 0, "",
          "file is larger than " + std::to_string(kMaxDocumentBytes) + " bytes; this is not a configuration file"});
      return std::nullopt;
    }
  }
  return parse(text, path, diags);
}

std::optional<Document> Document::parse(std::string_view text, std::string name, Diagnostics& diags) {
  if (nesting_too_deep(text)) {
    diags.add(Diagnostic{name, 0, 0, "", "nesting deeper than " + std::to_string(kMaxFlowDepth) + " levels"});
    return std::nullopt;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    diags.add(make(name, e.mark, "", e.msg));
    return std::nullopt;
  }
  std::size_t visited = 0;
  find_duplicates(root, name, "", 0, visited, diags);
  if (visited > kMaxNodesVisited) {
    diags.add(Diagnostic{name, 0, 0, "",
                         "document expands to more than " + std::to_string(kMaxNodesVisited) + " nodes (aliases?)"});
    return std::nullopt;
  }
  return Document(std::move(root), std::move(name));
}

void Document::set(std::string_view path, std::string_view value, std::string_view origin, Diagnostics& diags) {
  std::vector<std::string> parts;
  std::stringstream ss{std::string(path)};
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  if (parts.empty() || std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); })) {
    diags.add(Diagnostic{std::string(origin), 0, 0, "", "'" + std::string(path) + "' is not a key path like a.b.c"});
    return;
  }
  // A value is taken as plain text, so that "-" or "a: b" mean what they say; flow syntax ([a, b] or
  // {k: v}) gives a list or a map.
  YAML::Node parsed;
  try {
    bool flow = !value.empty() && (value.front() == '[' || value.front() == '{');
    parsed = flow ? YAML::Load(std::string(value)) : YAML::Node(std::string(value));
  } catch (const YAML::Exception& e) {
    diags.add(Diagnostic{std::string(origin), 0, 0, std::string(path), "value is not valid YAML: " + e.msg});
    return;
  }
  if (!root_.IsMap() && !root_.IsNull()) return;  // the document itself is already reported as wrong

  // yaml-cpp's Node is a handle: assigning through `cur` rebinds it, so walk with fresh handles.
  YAML::Node cur = root_;
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string& part = parts[i];
    walked = child_path(walked, part);
    if (cur.IsSequence()) {
      YAML::Node found(YAML::NodeType::Undefined);
      for (std::size_t k = 0; k < cur.size(); ++k) {
        YAML::Node id = lookup(cur[k], {"id"});
        if (id.IsDefined() && id.IsScalar() && id.Scalar() == part) {
          found.reset(cur[k]);
          break;
        }
      }
      if (!found.IsDefined()) {
        bool digits = std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits && part.size() < 9 && std::stoul(part) < cur.size()) found.reset(cur[std::stoul(part)]);
      }
      if (!found.IsDefined()) {
        diags.add(Diagnostic{std::string(origin), 0, 0, walked, "no list element with id '" + part + "'"});
        return;
      }
      cur.reset(found);
      continue;
    }
    if (!cur.IsMap() && !cur.IsNull()) {
      diags.add(Diagnostic{std::string(origin), 0, 0, walked,
                           std::string("cannot set a key inside ") + std::string(kind_name(cur))});
      return;
    }
    YAML::Node next = cur[part];
    if (!next.IsDefined() || next.IsNull()) {
      cur[part] = YAML::Node(YAML::NodeType::Map);
      next = cur[part];
    }
    cur.reset(next);
  }
  if (cur.IsSequence() || (!cur.IsMap() && !cur.IsNull())) {
    diags.add(Diagnostic{std::string(origin), 0, 0, std::string(path),
                         std::string("cannot set a key inside ") + std::string(kind_name(cur))});
    return;
  }
  cur[parts.back()] = parsed;
  overrides_.emplace_back(parsed, std::string(origin));
}

Diagnostic Document::at(const YAML::Node& node, std::string path, std::string message,
                        const YAML::Node& fallback) const {
  for (const auto& [value, origin] : overrides_) {
    if (node.IsDefined() && node.is(value)) return Diagnostic{origin, 0, 0, std::move(path), std::move(message)};
  }
  YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
  if (mark.is_null() && fallback.IsDefined()) {
    for (const auto& [value, origin] : overrides_) {
      if (fallback.is(value)) return Diagnostic{origin, 0, 0, std::move(path), std::move(message)};
    }
    mark = fallback.Mark();
    // yaml-cpp gives a document's root map no position; its first key has one.
    if (mark.is_null() && fallback.IsMap() && fallback.begin() != fallback.end()) mark = fallback.begin()->first.Mark();
  }
  return make(name_, mark, std::move(path), std::move(message));
}

}  // namespace sluice
