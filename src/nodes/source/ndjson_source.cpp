// ndjson_source: reads newline-delimited JSON objects lazily and maps paths in them to record fields.
#include "nodes/source/ndjson_source.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "nodes/source/assemble.hpp"
#include "nodes/source/fd_input.hpp"
#include "nodes/source/json_number.hpp"
#include "nodes/source/transcode.hpp"

namespace sluice {
namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t kChunk = 1 << 16;     // bytes asked of the input at a time
constexpr std::size_t kRawPrefix = 256;     // bytes of an oversized line kept for the rejects output
constexpr std::size_t kMaxIndexDigits = 9;  // array indexes in paths stay below 10^9

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"path", Kind::path, "feed file; `sluice run --input` overrides it; '-' reads standard input"},
  }};
  return s;
}

const ObjectSpec& feed_spec() {
  return *supplier_spec().find("feed")->object;
}

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), is_json_space);
}

std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && is_json_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

// The first bytes of s, cut at a character boundary so the rejects output shows no broken character.
std::string utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

std::string type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "an array";
    case od::json_type::object:
      return "an object";
    case od::json_type::number:
      return "a number";
    case od::json_type::string:
      return "a string";
    case od::json_type::boolean:
      return "a boolean";
    case od::json_type::null:
      return "null";
  }
  return "a value";
}

// One step of a path into a record: an object key or an array index.
struct PathStep {
  bool is_index = false;
  std::string key;
  std::size_t index = 0;
};

// Parses a field's path: sku, priceInfo.price, images[0].uri, brands[0], or ["a.b"] for a key that
// holds dots or brackets. Returns "" with steps filled, or what is wrong and at which character.
std::string parse_path(std::string_view text, std::vector<PathStep>& steps) {
  auto at = [](std::size_t i) { return " at character " + std::to_string(i + 1); };
  if (text.empty()) return "the path is empty";
  std::size_t i = 0;
  bool want_key = true;  // at the start and after '.'
  while (i < text.size()) {
    char c = text[i];
    if (c == '.') {
      if (want_key) return "expected a key" + at(i);
      want_key = true;
      ++i;
    } else if (c == '[') {
      std::size_t open = i++;
      if (i < text.size() && text[i] == '"') {
        if (want_key && !steps.empty()) return "expected a plain key after '.'" + at(open);
        std::string key;
        bool closed = false;
        for (++i; i < text.size() && !closed;) {
          char q = text[i++];
          if (q == '\\' && i < text.size())
            key += text[i++];
          else if (q == '"')
            closed = true;
          else
            key += q;
        }
        if (!closed) return "the quoted key is not closed" + at(open + 1);
        steps.push_back(PathStep{false, std::move(key), 0});
      } else {
        if (steps.empty()) return "a path starts with a key (the record is an object)" + at(open);
        if (want_key) return "expected a key after '.'" + at(open);
        std::size_t from = i, index = 0;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - from < kMaxIndexDigits)
          index = index * 10 + static_cast<std::size_t>(text[i++] - '0');
        if (i == from) return "expected an array index or a quoted key after '['" + at(open);
        if (i < text.size() && text[i] >= '0' && text[i] <= '9') return "the array index is too large" + at(from);
        steps.push_back(PathStep{true, {}, index});
      }
      if (i >= text.size() || text[i] != ']') return "expected ']'" + at(std::min(i, text.size() - 1));
      ++i;
      want_key = false;
    } else if (c == ']') {
      return "unexpected ']'" + at(i);
    } else {
      if (!want_key) return "expected '.' or '[' after ']'" + at(i);
      std::size_t from = i;
      while (i < text.size() && text[i] != '.' && text[i] != '[' && text[i] != ']') ++i;
      steps.push_back(PathStep{false, std::string(text.substr(from, i - from)), 0});
      want_key = false;
    }
  }
  if (want_key) return "expected a key after the last '.'";
  return {};
}

// The path of every field, in field order; a path that does not parse is reported at its `column`.
std::vector<std::vector<PathStep>> parse_paths(const Supplier& supplier, const Document& doc, Diagnostics& diags) {
  std::vector<std::vector<PathStep>> paths;
  for (const auto& f : supplier.fields) {
    std::vector<PathStep> steps;
    std::string problem = parse_path(f.column, steps);
    if (!problem.empty()) {
      YAML::Node where = lookup(doc.root(), {"fields", f.name, "column"});
      diags.add(
          doc.at(where, "fields." + f.name + ".column",
                 "bad path '" + f.column + "': " + problem + " (paths look like sku, priceInfo.price, images[0].uri)",
                 f.where));
    }
    paths.push_back(std::move(steps));
  }
  return paths;
}

// A record field and the path it is read from.
struct Slot {
  std::size_t index;  // in the record
  const FieldRule* rule;
};

// Turns one JSON text into a record's values. It walks the whole document, not only the mapped
// paths: the on-demand parser checks only what is visited, and a text with a syntax error anywhere
// (a trailing comma, a malformed number, content after the object) must be rejected, not half-read.
class RecordMapper {
 public:
  RecordMapper(std::vector<Slot> slots, const std::vector<std::vector<PathStep>>& paths,
               std::vector<std::string> null_values, int max_depth)
      : nodes_(1), slots_(std::move(slots)), null_values_(std::move(null_values)), max_depth_(max_depth) {
    for (std::size_t s = 0; s < paths.size(); ++s) {
      std::uint32_t node = 0;
      for (const auto& step : paths[s]) node = add_child(node, step);
      nodes_[node].slots.push_back(s);
    }
  }

  // Fills values (already sized, all null) from the JSON text; says why the text is rejected.
  std::optional<RejectReason> map(std::string_view json, std::vector<Value>& values) {
    // simdjson reads up to SIMDJSON_PADDING bytes past the end, so it parses a padded copy.
    std::size_t need = json.size() + simdjson::SIMDJSON_PADDING;
    if (padded_size_ < need) {
      padded_size_ = std::max(need, 2 * padded_size_);
      padded_ = std::make_unique<char[]>(padded_size_);
    }
    std::memcpy(padded_.get(), json.data(), json.size());
    std::memset(padded_.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    text_ = std::string_view(padded_.get(), json.size());
    values_ = &values;
    ++stamp_;
    error_.reset();
    problem_.reset();
    error_at_ = nullptr;

    od::document doc;
    if (auto e = parser_.iterate(padded_.get(), json.size(), padded_size_).get(doc)) {
      json_error(e);
      return error_;
    }
    od::json_type type{};
    od::object object;
    if (auto e = doc.type().get(type)) {
      json_error(e);
    } else if (type != od::json_type::object) {
      json_error("invalid_json", "expected a JSON object, got " + type_name(type), text_.data());
    } else if (auto e2 = doc.get_object().get(object)) {
      json_error(e2);
    } else if (walk_object(object, 0, 1)) {
      // The on-demand parser stops at the object's closing brace; whatever follows it is an error.
      const char* rest = nullptr;
      if (doc.current_location().get(rest) == simdjson::SUCCESS)
        json_error("invalid_json", "unexpected content after the object", rest);
    }
    if (error_ && locate_) {
      const char* where = error_at_;
      if (!where && doc.current_location().get(where) != simdjson::SUCCESS) where = nullptr;
      if (where && where >= text_.data() && where < text_.data() + text_.size())
        error_->message = "at byte " + std::to_string(where - text_.data() + 1) + ": " + error_->message;
    }
    return error_ ? error_ : problem_;
  }

 private:
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();  // not on a mapped path

  struct PathNode {
    std::vector<std::pair<std::string, std::uint32_t>> keys;
    std::vector<std::pair<std::size_t, std::uint32_t>> indexes;
    std::vector<std::size_t> slots;  // fields whose path ends here
    std::uint64_t seen = 0;          // stamp of the last text that had a value here
    std::string path;                // the path to here, for messages
  };

  std::uint32_t add_child(std::uint32_t node, const PathStep& step) {
    for (const auto& [k, n] : nodes_[node].keys)
      if (!step.is_index && k == step.key) return n;
    for (const auto& [k, n] : nodes_[node].indexes)
      if (step.is_index && k == step.index) return n;
    auto next = static_cast<std::uint32_t>(nodes_.size());
    std::string path = nodes_[node].path;
    if (step.is_index) {
      nodes_[node].indexes.emplace_back(step.index, next);
      path += "[" + std::to_string(step.index) + "]";
    } else {
      nodes_[node].keys.emplace_back(step.key, next);
      bool plain = !step.key.empty() && step.key.find_first_of(".[]\"") == std::string::npos;
      path += plain ? (path.empty() ? "" : ".") + step.key : "[\"" + step.key + "\"]";
    }
    nodes_.emplace_back();
    nodes_[next].path = std::move(path);
    return next;
  }

  std::uint32_t child(std::uint32_t node, std::string_view key) const {
    if (node == none) return none;
    for (const auto& [k, n] : nodes_[node].keys)
      if (k == key) return n;
    return none;
  }

  std::uint32_t child(std::uint32_t node, std::size_t index) const {
    if (node == none) return none;
    for (const auto& [k, n] : nodes_[node].indexes)
      if (k == index) return n;
    return none;
  }

  bool walk_object(od::object object, std::uint32_t node, int depth) {
    for (auto item : object) {
      od::field field;
      if (auto e = std::move(item).get(field)) return json_error(e);
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return json_error(e);
      if (key.find('\0') != std::string_view::npos) return nul_error(nullptr);
      if (!walk_value(field.value(), child(node, key), depth)) return false;
    }
    return true;
  }

  bool walk_array(od::array array, std::uint32_t node, int depth) {
    std::size_t index = 0;
    for (auto item : array) {
      od::value element;
      if (auto e = std::move(item).get(element)) return json_error(e);
      if (!walk_value(element, child(node, index), depth)) return false;
      ++index;
    }
    return true;
  }

  // depth is that of the object or array holding the value.
  bool walk_value(od::value value, std::uint32_t node, int depth) {
    std::string_view token = value.raw_json_token();
    od::json_type type{};
    if (auto e = value.type().get(type)) return json_error(e, token.data());
    if (node != none && type != od::json_type::null) {
      // A path that goes on through this value needs an object (for a key) or an array (for an index)
      // here; anything else would leave its fields null without a word.
      if (type != od::json_type::object) wrong_container(node, nodes_[node].keys, "an object", type);
      if (type != od::json_type::array) wrong_container(node, nodes_[node].indexes, "an array", type);
    }
    switch (type) {
      case od::json_type::object:
      case od::json_type::array: {
        if (depth >= max_depth_)
          return json_error(
              "too_deep",
              "objects and arrays are nested deeper than feed.max_depth (" + std::to_string(max_depth_) + ")",
              token.data());
        if (node != none && !nodes_[node].slots.empty() && mark(node))
          problem(node, "type", "expected a string, number, boolean or null, got " + type_name(type));
        if (type == od::json_type::object) {
          od::object object;
          if (auto e = value.get_object().get(object)) return json_error(e, token.data());
          return walk_object(object, node, depth + 1);
        }
        od::array array;
        if (auto e = value.get_array().get(array)) return json_error(e, token.data());
        return walk_array(array, node, depth + 1);
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = value.get_string().get(s)) return json_error(e, token.data());
        if (s.find('\0') != std::string_view::npos) return nul_error(token.data());
        if (node != none) assign(node, s, true);
        return true;
      }
      case od::json_type::number: {
        std::string_view number = trim_json_space(token);
        if (!is_json_number(number))
          return json_error("invalid_json", "malformed number " + shown(number), token.data());
        if (node != none) assign(node, number, false);
        return true;
      }
      case od::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b))
          return json_error("invalid_json", "malformed literal " + shown(trim_json_space(token)), token.data());
        if (node != none) assign(node, b ? "true" : "false", false);
        return true;
      }
      case od::json_type::null: {
        bool null = false;
        if (value.is_null().get(null) || !null)
          return json_error("invalid_json", "malformed literal " + shown(trim_json_space(token)), token.data());
        if (node != none && !nodes_[node].slots.empty()) mark(node);
        return true;
      }
    }
    return true;
  }

  static std::string shown(std::string_view token) {
    return "'" + utf8_prefix(token, 40) + (token.size() > 40 ? "...'" : "'");
  }

  // A key given twice would make the value depend on which one a reader picks: reject instead.
  bool mark(std::uint32_t node) {
    PathNode& n = nodes_[node];
    if (n.seen == stamp_) {
      problem(node, "duplicate_key", "the key appears more than once");
      return false;
    }
    n.seen = stamp_;
    return true;
  }

  void assign(std::uint32_t node, std::string_view text, bool is_string) {
    PathNode& n = nodes_[node];
    if (n.slots.empty() || !mark(node)) return;
    if (is_string && std::find(null_values_.begin(), null_values_.end(), text) != null_values_.end()) return;
    for (std::size_t s : n.slots) {
      const auto& own = slots_[s].rule->null_values;
      if (is_string && std::find(own.begin(), own.end(), text) != own.end()) continue;
      (*values_)[slots_[s].index] = std::string(text);
    }
  }

  // Every unusable mapped value is named, like validate does; the code is that of the first.
  void problem(std::uint32_t node, const std::string& code, const std::string& message) {
    for (std::size_t s : nodes_[node].slots) problem_slot(s, code, message);
  }

  void problem_slot(std::size_t slot, const std::string& code, const std::string& message) {
    const FieldRule& f = *slots_[slot].rule;
    std::string text = "field '" + f.name + "' (column '" + f.column + "'): " + message;
    if (!problem_)
      problem_ = RejectReason{code, std::move(text)};
    else
      problem_->message += "; " + text;
  }

  // The fields whose paths continue through `children` cannot be read: the value here is not the
  // container they need.
  template <class Children>
  void wrong_container(std::uint32_t node, const Children& children, const char* needed, od::json_type got) {
    std::vector<std::size_t> slots;
    for (const auto& child : children) collect_slots(child.second, slots);
    for (std::size_t s : slots)
      problem_slot(s, "type",
                   "expected " + std::string(needed) + " at '" + nodes_[node].path + "', got " + type_name(got));
  }

  void collect_slots(std::uint32_t node, std::vector<std::size_t>& out) const {
    const PathNode& n = nodes_[node];
    out.insert(out.end(), n.slots.begin(), n.slots.end());
    for (const auto& k : n.keys) collect_slots(k.second, out);
    for (const auto& i : n.indexes) collect_slots(i.second, out);
  }

  // A NUL character has no place in product data and PostgreSQL's text cannot hold it: the row is
  // rejected, as csv_source rejects a NUL byte.
  bool nul_error(const char* where) {
    return json_error("nul_byte", "a string holds a NUL character (\\u0000)", where);
  }

  // where: the token the error is about; without it, map() asks the parser where it stopped.
  bool json_error(simdjson::error_code e, const char* where = nullptr) {
    error_ = RejectReason{e == simdjson::UTF8_ERROR ? "invalid_utf8" : "invalid_json", simdjson::error_message(e)};
    error_at_ = where;
    // Said of the whole text (a missing bracket, or content after it): no one byte is to blame.
    locate_ = e != simdjson::INCOMPLETE_ARRAY_OR_OBJECT;
    return false;
  }

  bool json_error(std::string code, std::string message, const char* where) {
    error_ = RejectReason{std::move(code), std::move(message)};
    error_at_ = where;
    locate_ = true;
    return false;
  }

  std::vector<PathNode> nodes_;
  std::vector<Slot> slots_;
  std::vector<std::string> null_values_;
  int max_depth_;
  od::parser parser_;
  std::unique_ptr<char[]> padded_;
  std::size_t padded_size_ = 0;
  std::string_view text_;
  std::vector<Value>* values_ = nullptr;
  std::uint64_t stamp_ = 0;
  std::optional<RejectReason> error_;    // the text is not acceptable JSON
  std::optional<RejectReason> problem_;  // the JSON is fine, a mapped value is not
  const char* error_at_ = nullptr;
  bool locate_ = true;
};

// Splits the input into lines while holding at most one line (up to max_line bytes) and one chunk.
// A longer line is skipped to its end without being kept.
class LineReader {
 public:
  enum class Status { line, too_long, end };

  LineReader(FdInput& in, std::size_t max_line) : in_(in), max_line_(max_line) {}

  // On `line`, text() is the line without its LF or CRLF (valid until the next call); on
  // `too_long`, text() is its first bytes. number() is the line's 1-based physical number.
  Status next() {
    for (;;) {
      if (at_start_ && (end_ - begin_ >= 3 || eof_)) {
        at_start_ = false;  // a UTF-8 byte-order mark is dropped, as csv_source does
        if (end_ - begin_ >= 3 && std::memcmp(buf_.data() + begin_, "\xEF\xBB\xBF", 3) == 0) {
          begin_ = scan_ = begin_ + 3;
          consumed_ += 3;
        }
      }
      if (!at_start_) {
        const void* nl = scan_ < end_ ? std::memchr(buf_.data() + scan_, '\n', end_ - scan_) : nullptr;
        if (nl) {
          auto stop = static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data());
          return finish(stop, stop + 1);
        }
        scan_ = end_;
        if (eof_) {
          // A cut-off last line after an abort is not a row of the feed; one at a real end is.
          if ((begin_ == end_ && !skipping_) || in_.aborted()) return Status::end;
          return finish(end_, end_);
        }
        // max_line + 1: the line may still end in CR LF and be exactly max_line long.
        if (!skipping_ && end_ - begin_ > max_line_ + 1) {
          skipping_ = true;
          prefix_ = utf8_prefix(std::string_view(buf_.data() + begin_, end_ - begin_), kRawPrefix);
        }
        if (skipping_) {
          consumed_ += end_ - begin_;
          begin_ = scan_ = end_;
        }
      }
      read_more();
    }
  }

  // The first n bytes of the input (fewer if it is shorter), read but not consumed; before next() only.
  std::string_view head(std::size_t n) {
    while (end_ - begin_ < n && !eof_) read_more();
    return std::string_view(buf_.data() + begin_, std::min(n, end_ - begin_));
  }

  std::string_view text() const { return text_; }
  std::uint64_t number() const { return number_; }
  std::uint64_t consumed() const { return consumed_; }

 private:
  // The line is [begin_, stop); the next one starts at next.
  Status finish(std::size_t stop, std::size_t next) {
    std::string_view line(buf_.data() + begin_, stop - begin_);
    consumed_ += next - begin_;
    begin_ = scan_ = next;
    number_ = ++lines_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (skipping_) {
      skipping_ = false;
      text_ = prefix_;
      return Status::too_long;
    }
    if (line.size() > max_line_) {
      prefix_ = utf8_prefix(line, kRawPrefix);
      text_ = prefix_;
      return Status::too_long;
    }
    text_ = line;
    return Status::line;
  }

  void read_more() {
    // The pending part of a line moves to the front only when the room behind it runs short, so a
    // long line is not copied again on every read. The buffer grows only while one line is pending:
    // to about max_line + 1 + 2 * kChunk at most.
    if (buf_.size() - end_ < kChunk) {
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        scan_ -= begin_;
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - end_ < kChunk) buf_.resize(end_ + kChunk);
    }
    // sgetc() blocks in FdInput until there is data, the input ends, or the run is aborted; then
    // only what that one read brought is taken, so a slow pipe delivers its lines as they come.
    if (in_.sgetc() == std::char_traits<char>::eof()) {
      eof_ = true;
      return;
    }
    std::streamsize room = static_cast<std::streamsize>(buf_.size() - end_);
    std::streamsize got = in_.sgetn(buf_.data() + end_, std::clamp<std::streamsize>(in_.in_avail(), 1, room));
    end_ += static_cast<std::size_t>(got);
  }

  FdInput& in_;
  std::size_t max_line_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, scan_ = 0, end_ = 0;  // pending line, where to look for LF next, end of data
  bool eof_ = false;
  bool at_start_ = true;
  bool skipping_ = false;
  std::string prefix_;
  std::string_view text_;
  std::uint64_t lines_ = 0;
  std::uint64_t number_ = 0;
  std::uint64_t consumed_ = 0;
};

// Finds the elements of a top-level JSON array without parsing them, so that a broken element
// rejects only itself. Fails (offset, message) only where element boundaries become unknowable:
// an unclosed string or array, stray closing brackets, an empty element, content after the array.
std::optional<std::pair<std::size_t, std::string>> split_array(std::string_view text,
                                                               std::vector<std::pair<std::size_t, std::size_t>>& out) {
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < text.size() && is_json_space(text[i])) ++i;
  if (i >= text.size() || text[i] != '[')
    return std::pair{i, std::string("expected the feed to be one JSON array ('[') with top_level_array: true")};
  ++i;
  std::size_t depth = 0, start = i;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      std::size_t open = i;
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      if (i >= text.size()) return std::pair{open, std::string("a string is opened but never closed")};
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (c == '}') {
      return std::pair{i, std::string("unexpected '}'")};
    } else if (c == ',' || c == ']') {
      if (depth > 0) continue;
      std::string_view element = text.substr(start, i - start);
      std::size_t lead = 0;
      while (lead < element.size() && is_json_space(element[lead])) ++lead;
      element = trim_json_space(element);
      if (element.empty()) {
        if (c == ']' && out.empty()) break;  // []
        return std::pair{i, std::string("expected a value before '") + c + "'"};
      }
      out.emplace_back(start + lead, element.size());
      start = i + 1;
      if (c == ']') break;
    }
  }
  if (i >= text.size()) return std::pair{text.size(), std::string("the array is not closed")};
  for (++i; i < text.size(); ++i)
    if (!is_json_space(text[i])) return std::pair{i, std::string("unexpected content after the array")};
  return std::nullopt;
}

// What the supplier file must say for this source: format ndjson and a readable path per field.
void check_supplier(const std::string& id, const Supplier& supplier, const Document& supplier_doc, Diagnostics& diags) {
  if (supplier.feed.format != "ndjson") {
    YAML::Node where = lookup(supplier_doc.root(), {"feed", "format"});
    diags.add(supplier_doc.at(where, "feed.format",
                              "node '" + id + "' (ndjson_source) reads ndjson feeds; this supplier's format is '" +
                                  supplier.feed.format + "'",
                              supplier_doc.root()));
    return;
  }
  parse_paths(supplier, supplier_doc, diags);
}

class NdjsonSource final : public SourceNode {
 public:
  NdjsonSource(std::string id, std::string path, const Supplier& supplier, const Document& supplier_doc, Schema& schema)
      : id_(std::move(id)),
        path_(std::move(path)),
        supplier_(supplier),
        supplier_doc_(supplier_doc),
        schema_(schema),
        assembler_(id_, supplier, schema) {
    for (const auto& f : supplier.fields) slots_.push_back(Slot{schema.add(f.name), &f});
    Settings feed(lookup(supplier_doc.root(), {"feed"}), &feed_spec());
    max_line_ = static_cast<std::size_t>(feed.integer("max_line_bytes"));
    max_depth_ = static_cast<int>(feed.integer("max_depth"));
    top_level_array_ = feed.boolean("top_level_array");
    max_array_ = static_cast<std::size_t>(feed.integer("max_array_bytes"));
  }

  void open(const RunContext& ctx) override {
    Diagnostics diags;
    check_supplier(id_, supplier_, supplier_doc_, diags);  // reported by the factory already, when checked
    if (!diags.empty()) throw StartupError(diags);
    std::vector<std::vector<PathStep>> paths = parse_paths(supplier_, supplier_doc_, diags);

    input_name_ = open_feed(input_, ctx.input, path_, id_);
    total_ = input_.size();
    mapper_ = std::make_unique<RecordMapper>(slots_, paths, supplier_.feed.null_values, max_depth_);
    width_ = schema_.size();  // final by now: later nodes have added the fields they produce
    if (top_level_array_) {
      read_array();
    } else {
      lines_ = std::make_unique<LineReader>(input_, max_line_);
      refuse_other_encodings(lines_->head(4));
    }
  }

  void abort() override { input_.abort(); }

  bool next(Batch& out, std::size_t max_records) override {
    out.raw_header = raw_header();
    std::size_t n = 0;
    const std::size_t before = out.records.size() + out.rejects.size() + out.skipped;
    auto produced = [&] { return out.records.size() + out.rejects.size() + out.skipped - before; };
    if (top_level_array_) {
      for (; n < max_records && next_element_ < elements_.size() && !input_.aborted(); ++n) {
        auto [offset, size] = elements_[next_element_++];
        emit(out, next_element_, std::string_view(document_).substr(offset, size));
        array_read_ = offset + size;
      }
      if (next_element_ == elements_.size()) {
        array_read_ = document_.size();
        assembler_.finish(out);
      }
      return n > 0 || produced() > 0;
    }
    while (n < max_records) {
      LineReader::Status status;
      try {
        status = lines_->next();
      } catch (const std::runtime_error& e) {
        // A read error must not pass for the end of the feed: that would import a truncated catalogue.
        throw std::runtime_error("read error on " + input_name_ + " after " + std::to_string(lines_->consumed()) +
                                 " bytes: " + e.what());
      }
      if (status == LineReader::Status::end) {
        if (!input_.aborted()) assembler_.finish(out);  // the end of the feed ends the last group
        break;
      }
      if (status == LineReader::Status::too_long) {
        ++n;
        out.rejects.push_back(Reject{lines_->number(),
                                     id_,
                                     "record_too_large",
                                     "the line is longer than feed.max_line_bytes (" + std::to_string(max_line_) +
                                         " bytes) and was skipped; raw holds its first bytes",
                                     {std::string(lines_->text())}});
        continue;
      }
      if (is_blank(lines_->text())) continue;
      ++n;
      emit(out, lines_->number(), lines_->text());
    }
    // Rows read before an abort are handed on all the same: the cancelled run counts them as not processed.
    return n > 0 || produced() > 0;
  }

  std::uint64_t bytes_read() const override {
    if (top_level_array_) return array_read_;
    return lines_ ? lines_->consumed() : 0;
  }
  std::optional<std::uint64_t> bytes_total() const override { return total_; }

 private:
  static std::shared_ptr<const std::vector<std::string>> raw_header() {
    static const auto header = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"line"});
    return header;
  }

  void emit(Batch& out, std::uint64_t line, std::string_view text) {
    Record r;
    r.line = line;
    r.values.resize(width_);
    if (auto why = mapper_->map(text, r.values)) {
      out.rejects.push_back(Reject{line, id_, std::move(why->code), std::move(why->message), {std::string(text)}});
      return;
    }
    r.raw.emplace_back(text);
    assembler_.add(std::move(r), out);
  }

  // UTF-16 or UTF-32 read as UTF-8 is garbage on every line; each would be rejected and the run would
  // still succeed with nothing imported, so the feed is refused before any row is read.
  void refuse_other_encodings(std::string_view head) {
    if (auto encoding = utf16_or_utf32_start(head)) {
      Diagnostics diags;
      const std::string name = encoding->substr(0, encoding->find(' '));
      diags.add(Diagnostic{input_name_, 0, 0, "",
                           "the feed is " + *encoding +
                               ", but NDJSON must be UTF-8 (RFC 8259); convert it first, e.g. " + "iconv -f " + name +
                               " -t UTF-8"});
      throw StartupError(diags);
    }
  }

  // The whole feed is one array: read it (it is capped), then find its elements, so that a feed
  // whose structure is broken is refused before any record is processed.
  void read_array() {
    Diagnostics diags;
    auto too_big = [&](const std::string& size) {
      diags.add(Diagnostic{input_name_, 0, 0, "",
                           "the feed is " + size + " bytes, more than feed.max_array_bytes (" +
                               std::to_string(max_array_) +
                               ") allows with top_level_array: true; split it or write it as one object per line"});
      throw StartupError(diags);
    };
    if (total_ && *total_ > max_array_) too_big(std::to_string(*total_));
    std::vector<char> chunk(kChunk);
    for (;;) {
      std::streamsize got = 0;
      try {
        got = input_.sgetn(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      } catch (const std::runtime_error& e) {
        throw std::runtime_error("read error on " + input_name_ + " after " + std::to_string(document_.size()) +
                                 " bytes: " + e.what());
      }
      if (got <= 0) break;
      document_.append(chunk.data(), static_cast<std::size_t>(got));
      if (document_.size() > max_array_) too_big("more than " + std::to_string(max_array_));
    }
    if (input_.aborted()) return;  // next() hands on nothing
    refuse_other_encodings(document_);
    total_ = document_.size();
    if (auto problem = split_array(document_, elements_)) {
      auto [offset, message] = *problem;
      std::string_view before = std::string_view(document_).substr(0, offset);
      auto line = 1 + std::count(before.begin(), before.end(), '\n');
      auto last_nl = before.rfind('\n');
      auto column = offset - (last_nl == std::string_view::npos ? 0 : last_nl + 1) + 1;
      diags.add(Diagnostic{input_name_, static_cast<int>(line), static_cast<int>(column), "", message});
      throw StartupError(diags);
    }
  }

  std::string id_;
  std::string path_;
  const Supplier& supplier_;
  const Document& supplier_doc_;
  const Schema& schema_;
  RowAssembler assembler_;
  std::vector<Slot> slots_;
  std::size_t width_ = 0;
  std::size_t max_line_ = 0;
  int max_depth_ = 0;
  bool top_level_array_ = false;
  std::size_t max_array_ = 0;
  FdInput input_;
  std::string input_name_;
  std::optional<std::uint64_t> total_;
  std::unique_ptr<RecordMapper> mapper_;
  std::unique_ptr<LineReader> lines_;
  std::string document_;                                       // top_level_array: the whole feed
  std::vector<std::pair<std::size_t, std::size_t>> elements_;  // top_level_array: offset and size of each element
  std::size_t next_element_ = 0;
  std::uint64_t array_read_ = 0;
};

NodeBody make(NodeBuildContext& ctx) {
  check_supplier(ctx.entry.id, ctx.supplier, ctx.supplier_doc, ctx.diags);
  return std::make_unique<NdjsonSource>(ctx.entry.id, ctx.settings.string("path"), ctx.supplier, ctx.supplier_doc,
                                        ctx.schema);
}

}  // namespace

const NodeType& ndjson_source_type() {
  static const NodeType type{
      "ndjson_source",
      NodeRole::source,
      true,
      "Reads newline-delimited JSON (one object per line, LF or CRLF; blank lines skipped) in constant memory, or "
      "with the supplier's feed.top_level_array one JSON array of objects, whose records are numbered by their "
      "1-based position in the array. A field's column is a path into the object: sku, priceInfo.price, "
      "images[0].uri, [\"key.with.dots\"]. A missing key or null gives a null field (so do the feed's null_values "
      "for strings); numbers keep their exact text; true/false become text. Lines that are not one valid JSON "
      "object are rejected on their own (invalid_json, invalid_utf8, too_deep, record_too_large), as are lines "
      "with a string holding \\u0000 (nul_byte), where a mapped path holds an object or array or passes through "
      "a value that is not the object or array it needs (type), or appears twice (duplicate_key). Rejects carry "
      "the whole line as raw.line. A feed that starts as UTF-16 or UTF-32 is refused at start-up.",
      &spec,
      "id: read\ntype: ndjson_source\n",
      &make,
  };
  return type;
}

}  // namespace sluice
