// csv_sink: writes records as RFC 4180 CSV with a header row.
#include "nodes/sink/csv_sink.hpp"

#include "core/json_writer.hpp"
#include "nodes/sink/file_output.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"path", Kind::path, "output file ('-' for standard output); replaced whole when the run ends", true},
      {"delimiter", Kind::character, "field separator", false, "','"},
  }};
  return s;
}

class CsvSink final : public SinkNode {
 public:
  CsvSink(std::string path, char delimiter, const Schema& schema)
      : path_(std::move(path)), delimiter_(delimiter), schema_(schema) {}

  void open(const RunContext&) override {
    out_.open(path_);
    buffer_.clear();
    for (std::size_t i = 0; i < schema_.size(); ++i) {
      if (i) buffer_.push_back(delimiter_);
      append_cell(schema_.names()[i]);
    }
    buffer_ += "\r\n";
    out_.write(buffer_);
  }

  WriteCounts write(Batch& batch) override {
    buffer_.clear();
    for (const auto& r : batch.records) {
      for (std::size_t i = 0; i < schema_.size(); ++i) {
        if (i) buffer_.push_back(delimiter_);
        if (i < r.values.size()) append_cell(value_text(r.values[i]));
      }
      buffer_ += "\r\n";
    }
    out_.write(buffer_);
    written_ += batch.records.size();
    return WriteCounts{batch.records.size(), 0, 0, 0};
  }

  // A run that did not complete leaves the old file as it was; its rows were not written after all.
  WriteCounts close(bool complete) override {
    if (!complete && out_.discard()) return WriteCounts{written_, 0, 0, 0};
    out_.close();
    return {};
  }

 private:
  void append_cell(std::string_view v) {
    bool quote = v.find_first_of(std::string{'"', '\r', '\n', delimiter_}) != std::string_view::npos ||
                 (!v.empty() && (v.front() == ' ' || v.back() == ' '));
    if (!quote) {
      buffer_ += v;
      return;
    }
    buffer_.push_back('"');
    for (char c : v) {
      if (c == '"') buffer_.push_back('"');
      buffer_.push_back(c);
    }
    buffer_.push_back('"');
  }

  std::string path_;
  char delimiter_;
  const Schema& schema_;
  std::string buffer_;
  FileOutput out_;
  std::uint64_t written_ = 0;
};

NodeBody make(NodeBuildContext& ctx) {
  char d = ctx.settings.character("delimiter");
  if (d == '\0' || d == '"' || d == '\r' || d == '\n')
    ctx.error(ctx.settings.node("delimiter"), "delimiter", "the delimiter must be a visible character or tab");
  return std::make_unique<CsvSink>(ctx.settings.string("path"), d, ctx.schema);
}

}  // namespace

const NodeType& csv_sink_type() {
  static const NodeType type{
      "csv_sink",
      NodeRole::sink,
      false,
      "Writes every record as a CSV row (RFC 4180 quoting, CRLF line ends) under a header of the field names; "
      "decimals exact, empty values empty. The file is replaced whole at the end.",
      &spec,
      "id: out\ntype: csv_sink\npath: out/products.csv\n",
      &make,
      false,
      false,
  };
  return type;
}

}  // namespace sluice
