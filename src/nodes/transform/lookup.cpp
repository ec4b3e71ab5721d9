// lookup: overrides or adds fields of each record from a supplemental feed keyed by the same id.
#include "nodes/transform/lookup.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "core/json_writer.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"file", Kind::path, "the supplemental feed, relative to the working directory; read whole at start-up", true},
      {"format",
       Kind::choice,
       "csv or ndjson; default from the file's extension (.csv, .tsv, .ndjson, .jsonl)",
       false,
       "",
       {},
       {},
       {"csv", "ndjson"}},
      {"delimiter", Kind::character, "csv only: the field delimiter; default ',' (a tab for .tsv)"},
      {"key", Kind::string, "the record field matched against key_column; default the supplier's key field"},
      {"key_column", Kind::string,
       "the supplemental feed's column (CSV header name, or NDJSON top-level member) holding the key", true},
      {"fields", Kind::string_map, "supplemental column -> the record field it overrides or adds", true},
      {"empty_values",
       Kind::choice,
       "keep: an empty supplemental value leaves the field as it is; clear: it empties the field",
       false,
       "keep",
       {},
       {},
       {"keep", "clear"}},
      {"missing",
       Kind::choice,
       "a record whose key is not in the supplemental feed: keep it as it is, reject it (lookup_missing), or route "
       "it to the port `missing`",
       false,
       "keep",
       {},
       {},
       {"keep", "reject", "route"}},
  }};
  return s;
}

// Called on unchecked settings, before any problem is reported: it reads what it can and never throws.
std::vector<std::string> ports(const YAML::Node& entry) {
  try {
    YAML::Node missing = lookup(entry, {"missing"});
    if (missing.IsScalar() && missing.Scalar() == "route") return {"out", "missing"};
  } catch (const YAML::Exception&) {
  }
  return {"out"};
}

std::string extension(const std::string& path) {
  auto slash = path.find_last_of('/');
  auto dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
  std::string ext = path.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

}  // namespace

Lookup::Lookup(SupplementalFeed feed, std::size_t key, std::string key_name, std::vector<std::size_t> targets,
               bool clear_empty, LookupMissing missing)
    : feed_(std::move(feed)),
      key_(key),
      key_name_(std::move(key_name)),
      targets_(std::move(targets)),
      clear_empty_(clear_empty),
      missing_(missing),
      table_(targets_.size()) {
  width_ = key_ + 1;
  for (std::size_t t : targets_) width_ = std::max(width_, t + 1);
}

void Lookup::open(const RunContext&) {
  SupplementalRows rows = read_supplemental(feed_);
  table_ = std::move(rows.table);
  side_rejects_ = std::move(rows.rejects);
}

std::vector<Reject> Lookup::take_side_rejects() {
  return std::exchange(side_rejects_, {});
}

std::string Lookup::missing_message(std::string_view key) const {
  if (key.empty()) return "field '" + key_name_ + "' is empty: there is no key to look up in " + feed_.path;
  return "key '" + std::string(key) + "' (field '" + key_name_ + "') is not in the supplemental feed " + feed_.path;
}

void Lookup::route(Batch& batch, std::vector<Batch>& outs) {
  std::uint64_t found = 0, missing = 0;
  std::string text;  // a key that is not a string (an NDJSON number, or typed by validate), as text
  for (Record& r : batch.records) {
    if (r.values.size() < width_) r.values.resize(width_);
    std::string_view key;
    if (const auto* s = std::get_if<std::string>(&r.values[key_])) {
      key = *s;
    } else if (!is_null(r.values[key_])) {
      text = value_text(r.values[key_]);
      key = text;
    }
    auto row = key.empty() ? std::nullopt : table_.find(key);
    if (row) {
      ++found;
      for (std::size_t i = 0; i < targets_.size(); ++i) {
        std::string_view value = table_.value(*row, i);
        if (!value.empty())
          r.values[targets_[i]] = std::string(value);
        else if (clear_empty_)
          r.values[targets_[i]] = std::monostate{};
      }
      outs[0].records.push_back(std::move(r));
      continue;
    }
    ++missing;
    switch (missing_) {
      case LookupMissing::keep:
        outs[0].records.push_back(std::move(r));
        break;
      case LookupMissing::route:
        outs[1].records.push_back(std::move(r));
        break;
      case LookupMissing::reject:
        batch.rejects.push_back(Reject{r.line, feed_.node, "lookup_missing", missing_message(key), std::move(r.raw)});
        break;
    }
  }
  batch.records.clear();
  found_.fetch_add(found, std::memory_order_relaxed);
  missing_count_.fetch_add(missing, std::memory_order_relaxed);
}

namespace {

NodeBody make(NodeBuildContext& ctx) {
  const Settings& s = ctx.settings;
  const std::size_t errors_before = ctx.diags.size();
  auto position = [&](const YAML::Node& where, const std::string& key) {
    return ctx.graph_doc.at(where, ctx.entry.path() + "." + key, "", ctx.entry.settings);
  };

  SupplementalFeed feed;
  feed.node = ctx.entry.id;
  feed.path = s.string("file");
  feed.file_at = position(s.node("file"), "file");
  if (feed.path == "-")
    ctx.error(s.node("file"), "file", "a supplemental feed is read from a file; standard input is the main feed's");

  const std::string ext = extension(feed.path);
  if (s.has("format")) {
    feed.format = s.string("format") == "ndjson" ? SupplementalFormat::ndjson : SupplementalFormat::csv;
  } else if (ext == ".ndjson" || ext == ".jsonl") {
    feed.format = SupplementalFormat::ndjson;
  } else if (ext != ".csv" && ext != ".tsv" && !feed.path.empty()) {
    ctx.error(s.node("file"), "file",
              "cannot tell the format of '" + feed.path +
                  "' from its extension (.csv, .tsv, .ndjson or .jsonl): set format: csv or ndjson");
  }
  feed.delimiter = ext == ".tsv" ? '\t' : ',';
  if (s.has("delimiter")) {
    const char d = s.character("delimiter");
    if (feed.format == SupplementalFormat::ndjson)
      ctx.error(s.node("delimiter"), "delimiter", "delimiter is for csv files, and '" + feed.path + "' is ndjson");
    else if (d == '\0' || d == '"' || d == '\r' || d == '\n')
      ctx.error(s.node("delimiter"), "delimiter", "the delimiter cannot be NUL, CR, LF or the quote '\"'");
    feed.delimiter = d;
  }

  std::string key = s.string("key");
  if (!s.has("key")) {
    if (ctx.supplier.defaulted || ctx.supplier.key.empty())
      ctx.error(s.node("key"), "key",
                "without 'key' a lookup matches records on the supplier's key field: give the supplier file with "
                "--supplier, or set key");
    key = ctx.supplier.key;
  } else if (key.empty()) {
    ctx.error(s.node("key"), "key", "the key field's name is empty");
  }

  feed.key_column = s.string("key_column");
  feed.key_column_at = position(s.node("key_column"), "key_column");
  if (s.has("key_column") && feed.key_column.empty())
    ctx.error(s.node("key_column"), "key_column", "the key column's name is empty");

  std::vector<std::string> target_names;
  std::map<std::string, std::string> column_of;  // target field -> the column that sets it
  const YAML::Node fields = s.node("fields");
  if (fields.IsMap()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsScalar()) continue;  // reported by the spec check
      const std::string& column = it->first.Scalar();
      const std::string& target = it->second.Scalar();
      const std::string path = "fields." + column;
      if (column.empty())
        ctx.error(it->first, path, "a supplemental column's name cannot be empty");
      else if (target.empty())
        ctx.error(it->second, path, "the record field that column '" + column + "' sets has no name");
      else if (target == key)
        ctx.error(it->second, path, "column '" + column + "' would change the key field '" + key + "' it is found by");
      else if (auto [at, added] = column_of.emplace(target, column); !added)
        ctx.error(it->second, path,
                  "field '" + target + "' is set by two columns, '" + at->second + "' and '" + column + "'");
      feed.columns.push_back(column);
      feed.column_at.push_back(position(it->first, path));
      target_names.push_back(target);
    }
    if (feed.columns.empty())
      ctx.error(fields, "fields", "fields maps no column: name a supplemental column and the record field it sets");
  }

  const bool clear_empty = s.string("empty_values") == "clear";
  const std::string missing_text = s.string("missing");
  const LookupMissing missing = missing_text == "reject"  ? LookupMissing::reject
                                : missing_text == "route" ? LookupMissing::route
                                                          : LookupMissing::keep;
  if (ctx.diags.size() != errors_before || feed.path.empty() || feed.key_column.empty() || key.empty() ||
      feed.columns.empty())
    return {};

  const std::size_t key_index = ctx.schema.add(key);
  std::vector<std::size_t> targets;
  for (const auto& t : target_names) targets.push_back(ctx.schema.add(t));
  return std::make_unique<Lookup>(std::move(feed), key_index, key, std::move(targets), clear_empty, missing);
}

}  // namespace

const NodeType& lookup_type() {
  static const NodeType type{
      "lookup",
      NodeRole::transform,
      true,
      "Overrides or adds fields of each record from a supplemental feed (Merchant Center's term): a second CSV or "
      "NDJSON file keyed by the same id, with stock levels, sale prices or translated titles, say. Place it before "
      "validate, which then types and checks the merged values like the feed's own. The file is read whole at "
      "start-up; rows without a key (lookup_key_missing), with a key an earlier row has (lookup_duplicate_key: the "
      "first row wins), broken (ragged_row, invalid_json, invalid_utf8, ...) or over 1 MiB (record_too_large) go "
      "to the run's rejects with their line in that file, but are not rows of the feed. NDJSON numbers and "
      "booleans keep their text, null is empty, and an object or array refuses the row (type). A record's key "
      "(its text, for a number) is matched exactly; an empty supplemental value leaves the field (empty_values: "
      "keep) or empties it (clear). A record whose key is missing is kept, rejected (lookup_missing) or routed to "
      "the port `missing`. The table holds keys and values in one block, with 4 (K + 1) + 11 bytes per row "
      "beside their text for K mapped columns (27 B for three).",
      &spec,
      "id: stock\ntype: lookup\nfile: config/suppliers/samples/acme_supplemental.csv\nkey_column: id\n"
      "fields: {quantity: quantity, sale_price: sale_price, title_de: title_de}\n",
      &make,
      false,
      false,
      &ports,
  };
  return type;
}

}  // namespace sluice
