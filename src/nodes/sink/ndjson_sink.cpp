// ndjson_sink: writes each record as one JSON object per line.
#include "nodes/sink/ndjson_sink.hpp"

#include "core/json_writer.hpp"
#include "nodes/sink/file_output.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"path", Kind::path, "output file ('-' for standard output); replaced whole when the run ends", true},
      {"line_field", Kind::string, "name of an extra field holding the source line; empty for none", false, "''"},
  }};
  return s;
}

class NdjsonSink final : public SinkNode {
 public:
  NdjsonSink(std::string path, std::string line_field, const Schema& schema)
      : path_(std::move(path)), line_field_(std::move(line_field)), schema_(schema) {}

  void open(const RunContext&) override {
    // Keys are escaped once; the schema is final when the run opens its nodes.
    for (const auto& name : schema_.names()) {
      std::string key;
      append_json_string(key, name);
      keys_.push_back(key + ":");
    }
    out_.open(path_);
  }

  WriteCounts write(Batch& batch) override {
    buffer_.clear();
    for (const auto& r : batch.records) {
      buffer_.push_back('{');
      bool first = true;
      if (!line_field_.empty()) {
        append_json_string(buffer_, line_field_);
        buffer_ += ":" + std::to_string(r.line);
        first = false;
      }
      for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (!first) buffer_.push_back(',');
        first = false;
        buffer_ += keys_[i];
        append_json_value(buffer_, i < r.values.size() ? r.values[i] : Value{});
      }
      buffer_ += "}\n";
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
  std::string path_;
  std::string line_field_;
  const Schema& schema_;
  std::vector<std::string> keys_;
  std::string buffer_;
  FileOutput out_;
  std::uint64_t written_ = 0;
};

NodeBody make(NodeBuildContext& ctx) {
  return std::make_unique<NdjsonSink>(ctx.settings.string("path"), ctx.settings.string("line_field"), ctx.schema);
}

}  // namespace

const NodeType& ndjson_sink_type() {
  static const NodeType type{
      "ndjson_sink",
      NodeRole::sink,
      false,
      "Writes every record as a JSON object on its own line: strings as strings, int and money fields as "
      "integers, decimals as exact JSON numbers, empty values as null. The file is replaced whole at the end.",
      &spec,
      "id: out\ntype: ndjson_sink\npath: out/products.ndjson\n",
      &make,
      false,
      false,
  };
  return type;
}

}  // namespace sluice
