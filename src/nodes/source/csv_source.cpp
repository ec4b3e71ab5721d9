// csv_source: reads a delimited feed lazily and maps its columns to record fields by header name.
#include "nodes/source/csv_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>

#include "core/json_writer.hpp"
#include "nodes/source/assemble.hpp"
#include "nodes/source/csv_reader.hpp"
#include "nodes/source/fd_input.hpp"
#include "nodes/source/transcode.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"path", Kind::path, "feed file; `sluice run --input` overrides it; '-' reads standard input"},
  }};
  return s;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// Header names as loose matching sees them: lower case, '_', '-' and tab as spaces, spaces collapsed and trimmed.
std::string loose(std::string_view h) {
  std::string out;
  for (char c : h) {
    char l = (c == '_' || c == '-' || c == '\t') ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l == ' ' && (out.empty() || out.back() == ' ')) continue;
    out.push_back(l);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// "Title [title]" (Merchant Center's localised headers) -> "title"; other headers -> empty.
std::string_view bracketed(std::string_view h) {
  if (h.size() < 3 || h.back() != ']') return {};
  std::size_t open = h.rfind('[');
  if (open == std::string_view::npos || open == 0) return {};
  return h.substr(open + 1, h.size() - open - 2);
}

// Positions of the header names that a field's column (or one of its aliases) names. Exact matching
// compares names as written, spaces included, so that `column: " sku"` means that header and no other.
std::vector<std::size_t> find_columns(const FieldRule& f, const std::vector<std::string>& header, bool loose_headers) {
  std::vector<std::string> names{f.column};
  names.insert(names.end(), f.aliases.begin(), f.aliases.end());
  std::vector<std::size_t> hits;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    for (const auto& name : names) {
      bool match = h == name;
      if (!match && loose_headers) {
        std::string want = loose(name);
        match = loose(h) == want || (!bracketed(h).empty() && loose(bracketed(h)) == want);
      }
      if (match) {
        hits.push_back(i);
        break;
      }
    }
  }
  return hits;
}

// The names under which a row's cells appear in JSON objects (`extra`, rejects' raw): the header names,
// made unique and non-empty so no key is lost or ambiguous. An empty name becomes column_<position>, a
// repeated one name#2, name#3, ..., skipping names the header itself uses.
std::vector<std::string> unique_keys(const std::vector<std::string>& header) {
  std::set<std::string> taken(header.begin(), header.end());
  std::set<std::string> given;
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (!h.empty() && given.insert(h).second) {
      keys.push_back(h);
      continue;
    }
    std::string base = h.empty() ? "column_" + std::to_string(i + 1) : h;
    std::string key = base;
    for (int n = 2; key.empty() || taken.count(key) || given.count(key); ++n) key = base + "#" + std::to_string(n);
    given.insert(key);
    keys.push_back(std::move(key));
  }
  return keys;
}

class CsvSource final : public SourceNode {
 public:
  CsvSource(std::string id, std::string path, const Supplier& supplier, const Document& supplier_doc, Schema& schema)
      : id_(std::move(id)),
        path_(std::move(path)),
        supplier_(supplier),
        supplier_doc_(supplier_doc),
        schema_(schema),
        assembler_(id_, supplier, schema) {
    for (const auto& f : supplier.fields) slots_.push_back(Slot{schema.add(f.name), 0, &f, {}});
    if (!supplier.feed.extra_field.empty()) extra_index_ = schema.add(supplier.feed.extra_field);
  }

  void open(const RunContext& ctx) override {
    Diagnostics diags;
    input_name_ = open_feed(input_, ctx.input, path_, id_);
    total_ = input_.size();
    encoding_ = parse_encoding(supplier_.feed.encoding).value_or(Encoding::utf8);
    transcoder_ = std::make_unique<TranscodingInput>(input_, encoding_);
    try {
      transcoder_->start();
    } catch (const EncodingError& e) {
      diags.add(Diagnostic{input_name_, 0, 0, "", e.what()});
      throw StartupError(diags);
    }
    in_ = std::make_unique<std::istream>(transcoder_.get());

    CsvDialect dialect;
    dialect.delimiter = supplier_.feed.delimiter;
    dialect.quote = supplier_.feed.quote;
    dialect.escape = supplier_.feed.escape;
    dialect.max_field_bytes = static_cast<std::size_t>(supplier_.feed.max_field_bytes);
    dialect.max_record_bytes = static_cast<std::size_t>(supplier_.feed.max_record_bytes);
    try {
      reader_ = std::make_unique<CsvReader>(*in_, dialect);
    } catch (const std::invalid_argument& e) {
      diags.add(Diagnostic{supplier_doc_.name(), 0, 0, "feed", e.what()});
      throw StartupError(diags);
    }

    if (supplier_.feed.header_row) {
      CsvRecord head;
      if (!reader_->next(head)) {
        diags.add(Diagnostic{input_name_, 0, 0, "", "the feed is empty: expected a header row"});
        throw StartupError(diags);
      }
      if (head.error != CsvErrorCode::none) {
        if (head.error == CsvErrorCode::invalid_utf8) head.message += encoding_hint();
        diags.add(Diagnostic{input_name_, static_cast<int>(head.line), 1, "header", head.message});
        throw StartupError(diags);
      }
      header_ = std::make_shared<const std::vector<std::string>>(std::move(head.fields));
    } else {
      header_ = std::make_shared<const std::vector<std::string>>(supplier_.feed.columns);
    }
    keys_ = std::make_shared<const std::vector<std::string>>(unique_keys(*header_));

    std::vector<bool> used(header_->size(), false);
    for (auto& slot : slots_) {
      const auto& column = slot.rule->column;
      YAML::Node where = lookup(supplier_doc_.root(), {"fields", slot.rule->name, "column"});
      std::vector<std::size_t> hits = find_columns(*slot.rule, *header_, supplier_.feed.loose_headers);
      if (hits.empty()) {
        std::string msg = "column '" + column + "'";
        for (const auto& a : slot.rule->aliases) msg += " (or '" + a + "')";
        msg += supplier_.feed.header_row ? " is not in the header of " + input_name_
                                         : std::string(" is not in feed.columns");
        msg += "; closest header names: " + closest(column, 3);
        for (const auto& h : *header_)
          if (h != column && trim(h) == trim(column)) {
            msg +=
                " ('" + h + "' differs only in spaces around it: names match as written unless feed.headers is loose)";
            break;
          }
        diags.add(supplier_doc_.at(where, "fields." + slot.rule->name + ".column", msg, slot.rule->where));
        continue;
      }
      if (hits.size() > 1 && slot.rule->type == FieldType::list) {
        // A repeated column (Merchant Center's additional_image_link, say) feeds one list field.
        slot.column = hits[0];
        slot.more.assign(hits.begin() + 1, hits.end());
        for (std::size_t h : hits) used[h] = true;
        continue;
      }
      if (hits.size() > 1) {
        std::string names;
        for (std::size_t h : hits) names += (names.empty() ? "'" : ", '") + (*header_)[h] + "'";
        diags.add(supplier_doc_.at(where, "fields." + slot.rule->name + ".column",
                                   "column '" + column + "' matches more than one header name: " + names +
                                       " (columns " + std::to_string(hits[0] + 1) + " and " +
                                       std::to_string(hits[1] + 1) + ")",
                                   slot.rule->where));
        continue;
      }
      slot.column = hits[0];
      used[hits[0]] = true;
    }
    if (!diags.empty()) throw StartupError(diags);
    for (std::size_t i = 0; i < header_->size(); ++i) {
      if (used[i]) continue;
      std::string key;
      append_json_string(key, (*keys_)[i]);
      extras_.push_back({i, key + ":"});
    }
    width_ = schema_.size();  // final by now: later nodes have added the fields they produce
  }

  void abort() override { input_.abort(); }

  bool next(Batch& out, std::size_t max_records) override {
    out.raw_header = keys_;
    std::size_t n = 0;
    CsvRecord rec;
    // Rows held by the assembler count as read once they are handed on; stop at a full batch of output.
    const std::size_t before = out.records.size() + out.rejects.size() + out.skipped;
    auto produced = [&] { return out.records.size() + out.rejects.size() + out.skipped - before; };
    while (produced() < max_records && reader_->next(rec)) {
      ++n;
      if (rec.error != CsvErrorCode::none) {
        if (rec.error == CsvErrorCode::invalid_utf8) rec.message += encoding_hint();
        out.rejects.push_back(
            Reject{rec.line, id_, std::string(to_string(rec.error)), rec.message, std::move(rec.fields)});
        continue;
      }
      if (rec.fields.size() != header_->size()) {
        out.rejects.push_back(Reject{rec.line, id_, "ragged_row",
                                     "row has " + std::to_string(rec.fields.size()) + " fields, " +
                                         (supplier_.feed.header_row ? "the header has " : "feed.columns names ") +
                                         std::to_string(header_->size()),
                                     std::move(rec.fields)});
        continue;
      }
      Record r;
      r.line = rec.line;
      r.values.resize(width_);
      const auto& nulls = supplier_.feed.null_values;
      for (const auto& slot : slots_) {
        std::string_view cell = rec.fields[slot.column];
        std::string text = supplier_.feed.trim ? trim(cell) : std::string(cell);
        for (std::size_t more : slot.more) {
          std::string next = supplier_.feed.trim ? trim(rec.fields[more]) : rec.fields[more];
          if (next.empty() || std::find(nulls.begin(), nulls.end(), next) != nulls.end()) continue;
          if (!text.empty() && std::find(nulls.begin(), nulls.end(), text) == nulls.end())
            text += slot.rule->separator;
          else
            text.clear();
          text += next;
        }
        const auto& own = slot.rule->null_values;
        if (std::find(nulls.begin(), nulls.end(), text) == nulls.end() &&
            std::find(own.begin(), own.end(), text) == own.end())
          r.values[slot.index] = std::move(text);
      }
      if (extra_index_) {
        std::string json = "{";
        for (const auto& [column, key] : extras_) {
          std::string text = supplier_.feed.trim ? trim(rec.fields[column]) : rec.fields[column];
          if (std::find(nulls.begin(), nulls.end(), text) != nulls.end()) continue;
          if (json.size() > 1) json.push_back(',');
          json += key;
          append_json_string(json, text);
        }
        r.values[*extra_index_] = Json{json + "}"};
      }
      r.raw = std::move(rec.fields);
      if (assembler_.active())
        assembler_.add(std::move(r), out);
      else
        out.records.push_back(std::move(r));
    }
    // Rows read before an abort are handed on all the same: the cancelled run counts them as not processed.
    if (input_.aborted()) return n > 0 || produced() > 0;
    // A read error must not pass for the end of the feed: that would import a truncated catalogue.
    if (n < max_records && reader_->io_error())
      throw std::runtime_error("read error on " + input_name_ + " after " + std::to_string(reader_->bytes_consumed()) +
                               " bytes");
    if (produced() < max_records) assembler_.finish(out);  // the end of the feed ends the last group
    return produced() > 0;
  }

  std::uint64_t bytes_read() const override { return transcoder_ ? transcoder_->source_bytes() : 0; }
  std::optional<std::uint64_t> bytes_total() const override { return total_; }

 private:
  struct Slot {
    std::size_t index;   // in the record
    std::size_t column;  // in the feed
    const FieldRule* rule;
    std::vector<std::size_t> more{};  // list fields: further columns with the same name
  };

  // What an invalid_utf8 reject adds to the reader's "invalid UTF-8 at byte N of field M": after transcoding,
  // the bad byte stands for one the declared encoding cannot decode (see TranscodingInput).
  std::string encoding_hint() const {
    switch (encoding_) {
      case Encoding::utf8:
        return " (if the feed is not UTF-8, set feed.encoding: latin-1, windows-1252 or utf-16)";
      case Encoding::windows1252:
        return " (a byte Windows-1252 leaves undefined: 0x81, 0x8D, 0x8F, 0x90 or 0x9D)";
      case Encoding::utf16:
        return " (an unpaired UTF-16 surrogate or an odd trailing byte)";
      case Encoding::latin1:
        break;  // every byte is a Latin-1 character, so transcoded text is always valid UTF-8
    }
    return {};
  }

  // The n header names closest to name, for a missing column's message.
  std::string closest(const std::string& name, std::size_t n) const {
    std::vector<std::pair<std::size_t, std::string>> scored;
    for (const auto& h : *header_) scored.emplace_back(edit_distance(loose(name), loose(h)), h);
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (std::size_t i = 0; i < scored.size() && i < n; ++i) out += (i ? ", '" : "'") + scored[i].second + "'";
    return out.empty() ? "(the header is empty)" : out;
  }

  std::string id_;
  std::string path_;
  const Supplier& supplier_;
  const Document& supplier_doc_;
  const Schema& schema_;
  std::vector<Slot> slots_;
  std::size_t width_ = 0;
  FdInput input_;
  Encoding encoding_ = Encoding::utf8;
  std::unique_ptr<TranscodingInput> transcoder_;
  std::unique_ptr<std::istream> in_;
  RowAssembler assembler_;
  std::optional<std::size_t> extra_index_;
  std::vector<std::pair<std::size_t, std::string>> extras_;  // unmapped column and its JSON key with ':'
  std::string input_name_;
  std::optional<std::uint64_t> total_;
  std::unique_ptr<CsvReader> reader_;
  std::shared_ptr<const std::vector<std::string>> header_;  // names as in the feed (or feed.columns)
  std::shared_ptr<const std::vector<std::string>> keys_;    // unique names for JSON objects
};

NodeBody make(NodeBuildContext& ctx) {
  if (ctx.supplier.feed.format != "csv")
    ctx.error(ctx.entry.settings["type"], "type",
              "the supplier's feed format is '" + ctx.supplier.feed.format + "', not csv");
  // What can be known without the feed is checked here, so that `sluice check` finds it too.
  const Document& doc = ctx.supplier_doc;
  for (const auto& f : ctx.supplier.fields) {
    const std::string path = "fields." + f.name + ".column";
    const YAML::Node where = lookup(doc.root(), {"fields", f.name, "column"});
    if (f.column.empty() || std::find(f.aliases.begin(), f.aliases.end(), std::string()) != f.aliases.end()) {
      ctx.diags.add(doc.at(where, path, "a column name cannot be empty", f.where));
      continue;
    }
    if (!ctx.supplier.feed.header_row && !ctx.supplier.feed.columns.empty() &&
        find_columns(f, ctx.supplier.feed.columns, ctx.supplier.feed.loose_headers).empty())
      ctx.diags.add(doc.at(where, path, "column '" + f.column + "' is not in feed.columns", f.where));
  }
  return std::make_unique<CsvSource>(ctx.entry.id, ctx.settings.string("path"), ctx.supplier, ctx.supplier_doc,
                                     ctx.schema);
}

}  // namespace

const NodeType& csv_source_type() {
  static const NodeType type{
      "csv_source",
      NodeRole::source,
      true,
      "Reads a CSV feed (RFC 4180, dialect and encoding from the supplier's `feed` section; Latin-1, "
      "Windows-1252 and UTF-16 are transcoded to UTF-8) in constant memory; maps columns to fields by header "
      "name (exact or loose, with aliases; feed.columns names them when header: none), keeps unmapped columns in "
      "`extra_columns` if asked, and puts variant, "
      "image-only and parent rows together as `variants` says. Broken rows (ragged, bad quoting, invalid UTF-8, "
      "NUL bytes, oversized) are rejected with their line number.",
      &spec,
      "id: read\ntype: csv_source\n",
      &make,
  };
  return type;
}

}  // namespace sluice
