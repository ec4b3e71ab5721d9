// Loading YAML with positions, checks yaml-cpp does not make (duplicate keys, tags, a second document, an
// unclosed quote at the end, invalid UTF-8) and --set overrides.
#include "config/document.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "core/utf8.hpp"

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

// The mark of a byte offset, counting lines and columns the way yaml-cpp does (0-based, in bytes).
YAML::Mark mark_at(std::string_view text, std::size_t offset) {
  YAML::Mark m;
  offset = std::min(offset, text.size());
  m.pos = static_cast<int>(offset);
  m.line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
  std::size_t line_start = text.rfind('\n', offset == 0 ? std::string_view::npos : offset - 1);
  m.column = static_cast<int>(line_start == std::string_view::npos ? offset : offset - line_start - 1);
  return m;
}

// Where a diagnostic about a position in the text being loaded goes (a file, or a --set value).
using Locate = std::function<Diagnostic(const YAML::Mark&, std::string path, std::string message)>;

// yaml-cpp recurses once per nesting level; refuse inputs that could exhaust the stack before parsing.
// Returns the offset of the bracket that goes too deep.
std::optional<std::size_t> nesting_too_deep(std::string_view text) {
  int depth = 0;
  char in_quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quote) {
      if (c == in_quote || c == '\n') in_quote = 0;
      continue;
    }
    if (c == '"' || c == '\'')
      in_quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    int n = utf8_sequence(text, i);
    if (n <= 0) return i;
    i += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

// The parser's events for what the node tree does not show: further documents, tags, quoted scalars, aliases.
class Screen final : public YAML::EventHandler {
 public:
  int documents = 0;
  YAML::Mark second_document = YAML::Mark::null_mark();
  YAML::Mark first_alias = YAML::Mark::null_mark();
  std::vector<std::pair<YAML::Mark, std::string>> tags;
  std::vector<YAML::Mark> quoted;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) second_document = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (first_alias.is_null()) first_alias = mark;
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, const std::string&) override {
    note(mark, tag);
    if (tag == "!") quoted.push_back(mark);  // yaml-cpp's tag for a quoted scalar
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(mark, tag);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t, YAML::EmitterStyle::value) override {
    note(mark, tag);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& mark, const std::string& tag) {
    if (!tag.empty() && tag != "?" && tag != "!") tags.emplace_back(mark, tag);
  }
};

// yaml-cpp takes the end of the text as the end of a quoted scalar that was never closed.
bool closed_quote(std::string_view text, std::size_t start) {
  const char quote = text[start];
  for (std::size_t i = start + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'')
        ++i;  // '' is a quote inside single quotes
      else
        return true;
    }
  }
  return false;
}

std::string child_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// One walk over the tree: every key given twice in one map, keys that are not plain strings, and where
// each `key:` without a value is. Aliases can make a small text describe an exponential tree, so the walk
// is bounded.
struct Walk {
  const Locate& locate;
  Diagnostics& diags;
  std::vector<std::pair<YAML::Node, YAML::Mark>>* empty_values;
  std::size_t visited = 0;

  void operator()(const YAML::Node& node, const std::string& path, int depth) {
    if (++visited > kMaxNodesVisited || depth > 200) return;
    if (node.IsMap()) {
      std::map<std::string, YAML::Mark> seen;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) {
          diags.add(
              locate(it->first.Mark(), path, "a key must be a plain string, not " + std::string(kind_name(it->first))));
          continue;
        }
        const std::string& key = it->first.Scalar();
        auto [first, inserted] = seen.emplace(key, it->first.Mark());
        if (!inserted) {
          Diagnostic f = locate(first->second, "", "");
          std::string where = " (first at " + std::to_string(f.line) + ":" + std::to_string(f.column) + ")";
          diags.add(
              locate(it->first.Mark(), child_path(path, key), "duplicate key '" + key + "'" + where + "; remove one"));
        }
        if (it->second.IsNull() && empty_values) empty_values->emplace_back(it->second, it->first.Mark());
        (*this)(it->second, child_path(path, key), depth + 1);
      }
    } else if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) (*this)(node[i], path + "[" + std::to_string(i) + "]", depth + 1);
    }
  }
};

// Parses one YAML document with every check above; nullopt when nothing usable was parsed.
std::optional<YAML::Node> load_checked(std::string_view text, const Locate& locate, Diagnostics& diags,
                                       std::vector<std::pair<YAML::Node, YAML::Mark>>* empty_values) {
  // yaml-cpp skips a byte-order mark and does not count it in positions.
  const std::size_t bom = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  if (auto bad = first_invalid_utf8(text)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "%02X", static_cast<unsigned char>(text[*bad]));
    diags.add(locate(mark_at(text.substr(bom), *bad - bom), "",
                     std::string("invalid UTF-8 (byte 0x") + hex + "); a configuration file is UTF-8 text"));
    return std::nullopt;
  }
  // YAML allows no control characters but tab and line breaks; yaml-cpp would read them into values.
  auto control = std::find_if(text.begin(), text.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F;
  });
  if (control != text.end()) {
    const auto at = static_cast<std::size_t>(control - text.begin());
    char hex[8];
    std::snprintf(hex, sizeof hex, "%02X", static_cast<unsigned char>(*control));
    diags.add(locate(mark_at(text.substr(bom), at - bom), "",
                     std::string("a control character (0x") + hex + ") is not allowed in YAML text"));
    return std::nullopt;
  }
  if (auto deep = nesting_too_deep(text)) {
    diags.add(locate(mark_at(text.substr(bom), *deep - bom), "",
                     "nesting deeper than " + std::to_string(kMaxFlowDepth) + " levels"));
    return std::nullopt;
  }
  const std::string owned(text);
  Screen screen;
  YAML::Node root;
  try {
    std::istringstream in(owned);
    YAML::Parser parser(in);
    while (screen.documents < 2 && parser.HandleNextDocument(screen)) {
    }
    root = YAML::Load(owned);
  } catch (const YAML::Exception& e) {
    diags.add(locate(e.mark, "", e.msg));
    return std::nullopt;
  }
  if (!screen.second_document.is_null())
    diags.add(locate(screen.second_document, "",
                     "a second YAML document ('---') starts here; a configuration file holds one document"));
  for (const auto& [mark, tag] : screen.tags)
    diags.add(locate(mark, "", "tags are not supported ('" + tag + "'); write the value itself"));
  for (const auto& mark : screen.quoted) {
    std::size_t at = static_cast<std::size_t>(mark.pos) + bom;
    if (at < text.size() && (text[at] == '"' || text[at] == '\'') && !closed_quote(text, at))
      diags.add(locate(mark, "", std::string("a quoted string is not closed (no ") + text[at] + " before the end)"));
  }
  Walk walk{locate, diags, empty_values};
  walk(root, "", 0);
  if (walk.visited > kMaxNodesVisited) {
    diags.add(locate(screen.first_alias, "",
                     "document expands to more than " + std::to_string(kMaxNodesVisited) + " nodes (aliases?)"));
    return std::nullopt;
  }
  return root;
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
  // What has no position of its own (an empty file) is reported at the start of the file.
  Locate locate = [&name](const YAML::Mark& mark, std::string path, std::string message) {
    Diagnostic d = make(name, mark, std::move(path), std::move(message));
    if (d.line == 0) d.line = d.column = 1;
    return d;
  };
  std::vector<std::pair<YAML::Node, YAML::Mark>> empty_values;
  auto root = load_checked(text, locate, diags, &empty_values);
  if (!root) return std::nullopt;
  Document doc(std::move(*root), std::move(name), std::string(text));
  doc.empty_values_ = std::move(empty_values);
  return doc;
}

void Document::set(std::string_view path, std::string_view value, std::string_view origin, Diagnostics& diags) {
  // Columns count within "key=value" as typed; `path` is the key without a prefix such as "supplier.".
  std::string_view argument = origin;
  if (argument.substr(0, 6) == "--set ") argument.remove_prefix(6);
  const std::size_t key_length = argument.size() >= value.size() + 1 ? argument.size() - value.size() - 1 : path.size();
  const int path_column = static_cast<int>(key_length >= path.size() ? key_length - path.size() : 0) + 1;
  const int value_column = static_cast<int>(key_length) + 2;
  const std::string from(origin);
  auto report = [&](int column, std::string where, std::string message) {
    diags.add(Diagnostic{from, 1, column, std::move(where), std::move(message)});
  };

  std::vector<std::string> parts;
  std::vector<int> part_columns;
  {
    std::size_t start = 0;
    for (;;) {
      std::size_t dot = path.find('.', start);
      parts.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      part_columns.push_back(path_column + static_cast<int>(start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (path.empty() || std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); })) {
    report(path_column, "", "'" + std::string(path) + "' is not a key path like a.b.c");
    return;
  }
  // A value is taken as plain text, so that "-" or "a: b" mean what they say; flow syntax ([a, b] or
  // {k: v}) gives a list or a map, checked like a file.
  Locate locate = [&](const YAML::Mark& mark, std::string where, std::string message) {
    int column = value_column + (mark.is_null() || mark.line != 0 ? 0 : mark.column);
    return Diagnostic{from, 1, column, child_path(std::string(path), where), std::move(message)};
  };
  YAML::Node parsed;
  const bool flow = !value.empty() && (value.front() == '[' || value.front() == '{');
  if (flow) {
    std::size_t before = diags.size();
    auto loaded = load_checked(value, locate, diags, nullptr);
    if (!loaded || diags.size() != before) return;
    parsed = *loaded;
  } else {
    if (auto bad = first_invalid_utf8(value)) {
      report(value_column + static_cast<int>(*bad), std::string(path), "invalid UTF-8");
      return;
    }
    parsed = YAML::Node(std::string(value));
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
        report(part_columns[i], walked, "no list element with id '" + part + "'");
        return;
      }
      cur.reset(found);
      continue;
    }
    if (!cur.IsMap() && !cur.IsNull()) {
      report(part_columns[i], walked, std::string("cannot set a key inside ") + std::string(kind_name(cur)));
      return;
    }
    YAML::Node next = cur[part];
    if (!next.IsDefined() || next.IsNull()) {
      cur[part] = YAML::Node(YAML::NodeType::Map);
      next = cur[part];
      overrides_.push_back(Override{next, from, part_columns[i]});
    }
    cur.reset(next);
  }
  if (cur.IsSequence() || (!cur.IsMap() && !cur.IsNull())) {
    report(part_columns.back(), std::string(path),
           std::string("cannot set a key inside ") + std::string(kind_name(cur)));
    return;
  }
  cur[parts.back()] = parsed;
  // Every node of the value, so that a problem deep inside it names this override too.
  std::function<void(const YAML::Node&, int)> note = [&](const YAML::Node& n, int depth) {
    const YAML::Mark m = n.Mark();
    overrides_.push_back(Override{n, from, value_column + (m.is_null() || m.line != 0 ? 0 : m.column)});
    if (depth > 64) return;
    if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        note(it->first, depth + 1);
        note(it->second, depth + 1);
      }
    } else if (n.IsSequence()) {
      for (const auto& e : n) note(e, depth + 1);
    }
  };
  note(parsed, 0);
}

const Document::Override* Document::override_of(const YAML::Node& node) const {
  if (!node.IsDefined()) return nullptr;
  for (const auto& o : overrides_)
    if (node.is(o.node)) return &o;
  return nullptr;
}

Diagnostic Document::at(const YAML::Node& node, std::string path, std::string message,
                        const YAML::Node& fallback) const {
  if (const Override* o = override_of(node))
    return Diagnostic{o->origin, 1, o->column, std::move(path), std::move(message)};
  YAML::Mark mark = YAML::Mark::null_mark();
  if (node.IsDefined()) {
    mark = node.Mark();
    // yaml-cpp places `key:` without a value at the next token, which may be lines further on.
    if (node.IsNull())
      for (const auto& [value, key] : empty_values_)
        if (node.is(value)) mark = key;
  }
  if (mark.is_null() && fallback.IsDefined()) {
    if (const Override* o = override_of(fallback))
      return Diagnostic{o->origin, 1, o->column, std::move(path), std::move(message)};
    mark = fallback.Mark();
    // yaml-cpp gives a document's root map no position; its first key has one.
    if (mark.is_null() && fallback.IsMap() && fallback.begin() != fallback.end()) mark = fallback.begin()->first.Mark();
  }
  Diagnostic d = make(name_, mark, std::move(path), std::move(message));
  if (d.line == 0) d.line = d.column = 1;
  return d;
}

Diagnostic Document::at(const YAML::Node& node, std::size_t offset, std::string path, std::string message) const {
  Diagnostic d = at(node, std::move(path), std::move(message));
  if (!node.IsDefined() || !node.IsScalar() || offset == 0) return d;
  const std::string& scalar = node.Scalar();
  if (scalar.find('\n') != std::string::npos) return d;
  // Only where the text at the node is the scalar as written: a plain scalar, not a quoted or folded one.
  std::string_view written;
  if (const Override* o = override_of(node)) {
    std::string_view arg = o->origin;
    if (arg.substr(0, 6) == "--set ") arg.remove_prefix(6);
    if (static_cast<std::size_t>(o->column) <= arg.size())
      written = arg.substr(static_cast<std::size_t>(o->column) - 1);
  } else if (!node.Mark().is_null()) {
    const std::size_t bom = text_.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    const std::size_t pos = static_cast<std::size_t>(node.Mark().pos) + bom;
    if (pos <= text_.size()) written = std::string_view(text_).substr(pos);
  }
  if (written.substr(0, scalar.size()) == scalar) d.column += static_cast<int>(offset);
  return d;
}

}  // namespace sluice
