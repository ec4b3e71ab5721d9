// csv_source: reads a delimited feed lazily and maps its columns to record fields by header name.
#include "nodes/source/csv_source.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "nodes/source/csv_reader.hpp"
#include "nodes/source/fd_input.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"path", Kind::string, "feed file; `sluice run --input` overrides it; '-' reads standard input"},
  }};
  return s;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

class CsvSource final : public SourceNode {
 public:
  CsvSource(std::string id, std::string path, const Supplier& supplier, const Document& supplier_doc, Schema& schema)
      : id_(std::move(id)), path_(std::move(path)), supplier_(supplier), supplier_doc_(supplier_doc), schema_(schema) {
    for (const auto& f : supplier.fields) slots_.push_back(Slot{schema.add(f.name), 0, &f});
  }

  void open(const RunContext& ctx) override {
    Diagnostics diags;
    input_name_ = open_feed(input_, ctx.input, path_, id_);
    total_ = input_.size();
    in_ = std::make_unique<std::istream>(&input_);

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

    CsvRecord head;
    if (!reader_->next(head)) {
      diags.add(Diagnostic{input_name_, 0, 0, "", "the feed is empty: expected a header row"});
      throw StartupError(diags);
    }
    if (head.error != CsvErrorCode::none) {
      diags.add(Diagnostic{input_name_, static_cast<int>(head.line), 1, "header", head.message});
      throw StartupError(diags);
    }
    auto header = std::make_shared<std::vector<std::string>>();
    for (auto& h : head.fields) header->push_back(trim(h));
    header_ = header;

    for (auto& slot : slots_) {
      const auto& column = slot.rule->column;
      auto first = std::find(header_->begin(), header_->end(), column);
      if (first == header_->end()) {
        std::string msg = "column '" + column + "' is not in the feed's header (" + input_name_ + ")";
        std::string hint = did_you_mean(column, *header_);
        if (!hint.empty()) msg += "; closest: '" + hint + "'";
        msg += "; the header has " + std::to_string(header_->size()) + " columns";
        YAML::Node where = lookup(supplier_doc_.root(), {"fields", slot.rule->name, "column"});
        diags.add(supplier_doc_.at(where, "fields." + slot.rule->name + ".column", msg, slot.rule->where));
        continue;
      }
      if (std::find(first + 1, header_->end(), column) != header_->end()) {
        YAML::Node where = lookup(supplier_doc_.root(), {"fields", slot.rule->name, "column"});
        diags.add(supplier_doc_.at(where, "fields." + slot.rule->name + ".column",
                                   "column '" + column + "' appears more than once in the feed's header",
                                   slot.rule->where));
        continue;
      }
      slot.column = static_cast<std::size_t>(first - header_->begin());
    }
    if (!diags.empty()) throw StartupError(diags);
    width_ = schema_.size();  // final by now: later nodes have added the fields they produce
  }

  void abort() override { input_.abort(); }

  bool next(Batch& out, std::size_t max_records) override {
    out.raw_header = header_;
    std::size_t n = 0;
    CsvRecord rec;
    while (n < max_records && reader_->next(rec)) {
      ++n;
      if (rec.error != CsvErrorCode::none) {
        out.rejects.push_back(
            Reject{rec.line, id_, std::string(to_string(rec.error)), rec.message, std::move(rec.fields)});
        continue;
      }
      if (rec.fields.size() != header_->size()) {
        out.rejects.push_back(Reject{rec.line, id_, "ragged_row",
                                     "row has " + std::to_string(rec.fields.size()) + " fields, the header has " +
                                         std::to_string(header_->size()),
                                     std::move(rec.fields)});
        continue;
      }
      Record r;
      r.line = rec.line;
      r.values.resize(width_);
      for (const auto& slot : slots_) {
        std::string_view cell = rec.fields[slot.column];
        std::string text = supplier_.feed.trim ? trim(cell) : std::string(cell);
        const auto& nulls = supplier_.feed.null_values;
        if (std::find(nulls.begin(), nulls.end(), text) == nulls.end()) r.values[slot.index] = std::move(text);
      }
      r.raw = std::move(rec.fields);
      out.records.push_back(std::move(r));
    }
    // Rows read before an abort are handed on all the same: the cancelled run counts them as not processed.
    if (input_.aborted()) return n > 0;
    // A read error must not pass for the end of the feed: that would import a truncated catalogue.
    if (n < max_records && reader_->io_error())
      throw std::runtime_error("read error on " + input_name_ + " after " + std::to_string(reader_->bytes_consumed()) +
                               " bytes");
    return n > 0;
  }

  std::uint64_t bytes_read() const override { return reader_ ? reader_->bytes_consumed() : 0; }
  std::optional<std::uint64_t> bytes_total() const override { return total_; }

 private:
  struct Slot {
    std::size_t index;   // in the record
    std::size_t column;  // in the feed
    const FieldRule* rule;
  };

  std::string id_;
  std::string path_;
  const Supplier& supplier_;
  const Document& supplier_doc_;
  const Schema& schema_;
  std::vector<Slot> slots_;
  std::size_t width_ = 0;
  FdInput input_;
  std::unique_ptr<std::istream> in_;
  std::string input_name_;
  std::optional<std::uint64_t> total_;
  std::unique_ptr<CsvReader> reader_;
  std::shared_ptr<const std::vector<std::string>> header_;
};

NodeBody make(NodeBuildContext& ctx) {
  if (ctx.supplier.feed.format != "csv")
    ctx.error(ctx.entry.settings["type"], "type",
              "the supplier's feed format is '" + ctx.supplier.feed.format + "', not csv");
  return std::make_unique<CsvSource>(ctx.entry.id, ctx.settings.string("path"), ctx.supplier, ctx.supplier_doc,
                                     ctx.schema);
}

}  // namespace

const NodeType& csv_source_type() {
  static const NodeType type{
      "csv_source",
      NodeRole::source,
      true,
      "Reads a CSV feed (RFC 4180, dialect from the supplier's `feed` section) in constant memory; maps columns "
      "to fields by header name. Broken rows (ragged, bad quoting, invalid UTF-8, NUL bytes, oversized) are "
      "rejected with their line number.",
      &spec,
      "id: read\ntype: csv_source\n",
      &make,
  };
  return type;
}

}  // namespace sluice
