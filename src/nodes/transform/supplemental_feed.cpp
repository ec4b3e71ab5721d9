// Reading a supplemental feed (CSV or NDJSON) into a LookupTable, with the rows it refuses as rejects.
#include "nodes/transform/supplemental_feed.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <span>

#include "nodes/node.hpp"
#include "nodes/source/csv_reader.hpp"
#include "nodes/source/json_number.hpp"

namespace sluice {
namespace {

namespace od = simdjson::ondemand;

constexpr std::size_t kRawPrefix = 256;  // bytes of an over-long line kept for the rejects output
constexpr int kMaxDepth = 64;            // nesting of members that are not read, before a line is refused

[[noreturn]] void fail(Diagnostic at, std::string message) {
  at.message = std::move(message);
  Diagnostics diags;
  diags.add(std::move(at));
  throw StartupError(std::move(diags));
}

// The first bytes of s, cut at a character boundary so the rejects output shows no broken character.
std::string utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && is_json_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_json_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string quoted_list(const std::vector<std::string>& names) {
  constexpr std::size_t shown = 20;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > shown) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out.empty() ? "(none)" : out;
}

// Fills the table and decides which well-formed rows it refuses.
class Loader {
 public:
  explicit Loader(const SupplementalFeed& feed) : feed_(feed), rows_{LookupTable(feed.columns.size()), {}} {}

  // Why the row is refused (no key, or a key an earlier row has), or nothing when it was added.
  std::optional<RejectReason> add(std::uint64_t line, std::string_view key, std::span<const std::string_view> values) {
    if (key.empty())
      return RejectReason{"lookup_key_missing", "the row has no key ('" + feed_.key_column + "' is empty or missing)"};
    if (!rows_.table.add(key, values)) {
      std::uint64_t first = first_line_[*rows_.table.find(key)];
      return RejectReason{"lookup_duplicate_key", "key '" + std::string(key) + "' is also on line " +
                                                      std::to_string(first) + ", whose row is used"};
    }
    first_line_.push_back(line);
    return std::nullopt;
  }

  void reject(std::uint64_t line, std::string code, const std::string& message, std::vector<std::string> raw) {
    rows_.rejects.push_back(Reject{line, feed_.node, std::move(code), feed_.path + ": " + message, std::move(raw)});
  }

  SupplementalRows finish() {
    rows_.table.compact();
    return std::move(rows_);
  }

 private:
  const SupplementalFeed& feed_;
  SupplementalRows rows_;
  std::vector<std::uint64_t> first_line_;  // per table row, for duplicates' messages; freed with the loader
};

void read_csv(std::istream& in, const SupplementalFeed& feed, Loader& loader) {
  CsvDialect dialect;
  dialect.delimiter = feed.delimiter;
  dialect.max_field_bytes = kMaxSupplementalRow;
  dialect.max_record_bytes = kMaxSupplementalRow;
  CsvReader reader(in, dialect);

  CsvRecord head;
  if (!reader.next(head)) {
    if (reader.io_error()) fail(feed.file_at, "read error on " + feed.path);
    fail(feed.file_at, "the supplemental feed " + feed.path + " is empty: expected a header row naming its columns");
  }
  if (head.error != CsvErrorCode::none)
    fail(Diagnostic{feed.path, static_cast<int>(head.line), 1, "header", ""},
         head.message + " (in the header of the supplemental feed)");
  const std::vector<std::string> header = std::move(head.fields);

  Diagnostics diags;
  auto position = [&](const std::string& name, const Diagnostic& at) -> std::size_t {
    std::vector<std::size_t> hits;
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) hits.push_back(i);
    Diagnostic d = at;
    if (hits.empty())
      d.message =
          "column '" + name + "' is not in the header of " + feed.path + "; its columns: " + quoted_list(header);
    else if (hits.size() > 1)
      d.message = "column '" + name + "' is in the header of " + feed.path + " more than once (columns " +
                  std::to_string(hits[0] + 1) + " and " + std::to_string(hits[1] + 1) + ")";
    else
      return hits[0];
    diags.add(std::move(d));
    return 0;
  };
  const std::size_t key = position(feed.key_column, feed.key_column_at);
  std::vector<std::size_t> columns;
  for (std::size_t i = 0; i < feed.columns.size(); ++i) columns.push_back(position(feed.columns[i], feed.column_at[i]));
  if (!diags.empty()) throw StartupError(std::move(diags));

  CsvRecord rec;
  std::vector<std::string_view> values(columns.size());
  while (reader.next(rec)) {
    if (rec.error != CsvErrorCode::none) {
      loader.reject(rec.line, std::string(to_string(rec.error)), rec.message, std::move(rec.fields));
      continue;
    }
    if (rec.fields.size() != header.size()) {
      loader.reject(
          rec.line, "ragged_row",
          "row has " + std::to_string(rec.fields.size()) + " fields, the header has " + std::to_string(header.size()),
          std::move(rec.fields));
      continue;
    }
    for (std::size_t i = 0; i < columns.size(); ++i) values[i] = rec.fields[columns[i]];
    if (auto why = loader.add(rec.line, rec.fields[key], values))
      loader.reject(rec.line, std::move(why->code), why->message, std::move(rec.fields));
  }
  // A read error must not pass for the end of the file: rows after it would go missing silently.
  if (reader.io_error()) fail(feed.file_at, "read error on " + feed.path);
}

// Reads the wanted top-level members of one NDJSON line. It walks the whole object, not only those
// members: the on-demand parser checks only what is visited, and a line with a syntax error anywhere
// (a trailing comma, a malformed number, content after the object) must be refused, not half-read.
class NdjsonRow {
 public:
  explicit NdjsonRow(std::vector<std::string> members) : members_(std::move(members)), seen_(members_.size()) {
    for (std::size_t m = 0; m < members_.size(); ++m)
      first_.push_back(
          static_cast<std::size_t>(std::find(members_.begin(), members_.end(), members_[m]) - members_.begin()));
  }

  // texts: one per member, empty when it is missing or null; valid until the next call.
  std::optional<RejectReason> read(std::string_view line, std::vector<std::string_view>& texts) {
    texts.assign(members_.size(), std::string_view());
    std::fill(seen_.begin(), seen_.end(), false);
    error_.reset();
    // simdjson reads up to SIMDJSON_PADDING bytes past the end, so it parses a padded copy.
    const std::size_t need = line.size() + simdjson::SIMDJSON_PADDING;
    if (padded_size_ < need) {
      padded_size_ = std::max(need, 2 * padded_size_);
      padded_ = std::make_unique<char[]>(padded_size_);
    }
    std::memcpy(padded_.get(), line.data(), line.size());
    std::memset(padded_.get() + line.size(), 0, simdjson::SIMDJSON_PADDING);

    od::document doc;
    od::json_type type{};
    od::object object;
    if (auto e = parser_.iterate(padded_.get(), line.size(), padded_size_).get(doc)) {
      json_error(e);
    } else if (auto e1 = doc.type().get(type)) {
      json_error(e1);
    } else if (type != od::json_type::object) {
      error("invalid_json", "expected a JSON object on the line");
    } else if (auto e2 = doc.get_object().get(object)) {
      json_error(e2);
    } else if (read_object(object, texts)) {
      // The on-demand parser stops at the object's closing brace; whatever follows it is an error.
      const char* rest = nullptr;
      if (doc.current_location().get(rest) == simdjson::SUCCESS)
        error("invalid_json", "unexpected content after the object");
    }
    // A member read twice (the key column also mapped to a field) is read once, at its first place.
    for (std::size_t m = 0; m < texts.size(); ++m) texts[m] = texts[first_[m]];
    return error_;
  }

 private:
  bool read_object(od::object object, std::vector<std::string_view>& texts) {
    for (auto item : object) {
      od::field field;
      if (auto e = std::move(item).get(field)) return json_error(e);
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return json_error(e);
      auto wanted = std::find(members_.begin(), members_.end(), key);
      bool ok = wanted == members_.end()
                    ? walk(field.value(), 1)
                    : read_member(field.value(), static_cast<std::size_t>(wanted - members_.begin()), texts);
      if (!ok) return false;
    }
    return true;
  }

  bool read_member(od::value value, std::size_t m, std::vector<std::string_view>& texts) {
    const std::string& name = members_[m];
    if (seen_[m]) return error("duplicate_key", "member '" + name + "' appears more than once");
    seen_[m] = true;
    std::string_view token = value.raw_json_token();
    od::json_type type{};
    if (auto e = value.type().get(type)) return json_error(e);
    switch (type) {
      case od::json_type::string:
        if (auto e = value.get_string().get(texts[m])) return json_error(e);
        if (texts[m].find('\0') != std::string_view::npos)
          return error("nul_byte", "member '" + name + "' holds a NUL character (\\u0000)");
        return true;
      case od::json_type::number:
        texts[m] = trim_json_space(token);
        if (!is_json_number(texts[m])) return error("invalid_json", "member '" + name + "' is a malformed number");
        return true;
      case od::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b)) return error("invalid_json", "member '" + name + "' is a malformed literal");
        texts[m] = b ? "true" : "false";
        return true;
      }
      case od::json_type::null: {
        bool null = false;
        if (value.is_null().get(null) || !null)
          return error("invalid_json", "member '" + name + "' is a malformed literal");
        return true;
      }
      case od::json_type::object:
      case od::json_type::array:
        return error("type", "member '" + name + "' holds " +
                                 (type == od::json_type::object ? "an object" : "an array") +
                                 "; a supplemental value is a string, number, boolean or null");
    }
    return true;
  }

  // Checks a value that is not read; depth is that of the object or array holding it.
  bool walk(od::value value, int depth) {
    std::string_view token = value.raw_json_token();
    od::json_type type{};
    if (auto e = value.type().get(type)) return json_error(e);
    switch (type) {
      case od::json_type::object: {
        if (depth >= kMaxDepth) return too_deep();
        od::object object;
        if (auto e = value.get_object().get(object)) return json_error(e);
        for (auto item : object) {
          od::field field;
          if (auto e = std::move(item).get(field)) return json_error(e);
          std::string_view key;
          if (auto e = field.unescaped_key().get(key)) return json_error(e);
          if (!walk(field.value(), depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::array: {
        if (depth >= kMaxDepth) return too_deep();
        od::array array;
        if (auto e = value.get_array().get(array)) return json_error(e);
        for (auto item : array) {
          od::value element;
          if (auto e = std::move(item).get(element)) return json_error(e);
          if (!walk(element, depth + 1)) return false;
        }
        return true;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto e = value.get_string().get(s)) return json_error(e);
        return true;
      }
      case od::json_type::number:
        if (!is_json_number(trim_json_space(token))) return error("invalid_json", "malformed number");
        return true;
      case od::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b)) return error("invalid_json", "malformed literal");
        return true;
      }
      case od::json_type::null: {
        bool null = false;
        if (value.is_null().get(null) || !null) return error("invalid_json", "malformed literal");
        return true;
      }
    }
    return true;
  }

  bool too_deep() {
    return error("too_deep", "objects and arrays are nested deeper than " + std::to_string(kMaxDepth));
  }

  bool json_error(simdjson::error_code e) {
    return error(e == simdjson::UTF8_ERROR ? "invalid_utf8" : "invalid_json", simdjson::error_message(e));
  }

  bool error(std::string code, std::string message) {
    error_ = RejectReason{std::move(code), std::move(message)};
    return false;
  }

  std::vector<std::string> members_;
  std::vector<bool> seen_;
  std::vector<std::size_t> first_;  // per member, the first member of the same name
  od::parser parser_;
  std::unique_ptr<char[]> padded_;
  std::size_t padded_size_ = 0;
  std::optional<RejectReason> error_;
};

void read_ndjson(std::istream& in, const SupplementalFeed& feed, Loader& loader) {
  std::vector<std::string> members{feed.key_column};
  members.insert(members.end(), feed.columns.begin(), feed.columns.end());
  NdjsonRow row(std::move(members));
  std::vector<std::string_view> texts;
  // Room for the longest line, its CR, and the NUL getline() stores: a longer line fails the read
  // and is skipped without ever being held whole.
  std::vector<char> buffer(kMaxSupplementalRow + 2);
  const std::string too_long = "the line is longer than " + std::to_string(kMaxSupplementalRow) +
                               " bytes and was skipped; raw holds its first bytes";
  for (std::uint64_t line = 1;; ++line) {
    in.getline(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (in.bad()) fail(feed.file_at, "read error on " + feed.path);
    if (in.fail() && !in.eof() && got > 0) {
      loader.reject(line, "record_too_large", too_long,
                    {utf8_prefix(std::string_view(buffer.data(), got), kRawPrefix)});
      in.clear();
      in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      continue;
    }
    if (got == 0 && in.eof()) break;
    // gcount() counts the LF it took; at the end of the input there is none.
    std::string_view text(buffer.data(), in.eof() ? got : got - 1);
    if (line == 1 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.size() > kMaxSupplementalRow) {
      loader.reject(line, "record_too_large", too_long, {utf8_prefix(text, kRawPrefix)});
      continue;
    }
    if (trim_json_space(text).empty()) continue;
    std::optional<RejectReason> why = row.read(text, texts);
    if (!why) why = loader.add(line, texts[0], std::span<const std::string_view>(texts).subspan(1));
    if (why) loader.reject(line, std::move(why->code), why->message, {std::string(text)});
  }
}

}  // namespace

SupplementalRows read_supplemental(const SupplementalFeed& feed) {
  std::error_code ec;
  if (std::filesystem::is_directory(feed.path, ec))
    fail(feed.file_at, "the supplemental feed " + feed.path + " is a folder, not a file");
  std::ifstream in(feed.path, std::ios::binary);
  if (!in) fail(feed.file_at, "cannot open the supplemental feed " + feed.path + ": " + std::strerror(errno));
  Loader loader(feed);
  try {
    if (feed.format == SupplementalFormat::csv)
      read_csv(in, feed, loader);
    else
      read_ndjson(in, feed, loader);
  } catch (const std::length_error& e) {
    fail(feed.file_at, "the supplemental feed " + feed.path + " is too large for a lookup: " + e.what());
  }
  return loader.finish();
}

}  // namespace sluice
