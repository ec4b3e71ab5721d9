// A batch's rows as pg_sink sends them: COPY text lines in one buffer, each with its key and hashes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"
#include "nodes/sink/pg_target.hpp"

namespace sluice {

struct EncodedRow {
  std::size_t record = 0;                 // index in the batch
  std::uint64_t line = 0;                 // in the feed
  std::size_t begin = 0, end = 0;         // the COPY line (data columns, no newline) in EncodedRows::text
  std::size_t key_begin = 0, key_end = 0;  // the key's bytes in EncodedRows::keys
  std::uint64_t key_hash = 0;
  std::int64_t row_hash = 0;
};

struct EncodedRows {
  std::string text, keys;
  std::vector<EncodedRow> rows;
  std::string_view line(const EncodedRow& r) const { return std::string_view(text).substr(r.begin, r.end - r.begin); }
  std::string_view key(const EncodedRow& r) const {
    return std::string_view(keys).substr(r.key_begin, r.key_end - r.key_begin);
  }
  void clear() {
    text.clear();
    keys.clear();
    rows.clear();
  }
};

// The bytes a key is hashed from: each part's text, preceded by its length as 8 little-endian bytes.
void append_key_part(std::string& out, std::string_view part);

// Stored in the table and compared with later runs, on other machines and releases: never change them.
// The row hash is XXH3-64 of the row's COPY line (its data columns, tab-separated, escaped as COPY
// escapes them); the key hash is XXH3-64 of the key's bytes (append_key_part).
std::int64_t row_hash(std::string_view copy_line);
std::uint64_t key_hash(std::string_view key_bytes);

using RowRefs = std::vector<const EncodedRow*>;

// Rows whose key comes again later in `rows`, each with the last row of its key, which wins; `keep`
// receives the others, in their order.
std::vector<std::pair<const EncodedRow*, const EncodedRow*>> repeated_keys(const EncodedRows& rows, RowRefs& keep);

// A key's bytes for people: its parts, without the supplier column, joined by '/'.
std::string key_text(const Target& target, std::string_view key_bytes);

// Turns records into COPY lines for a target.
class RowEncoder {
 public:
  RowEncoder(const Target& target, const Schema& schema, std::string supplier);

  // Appends the record as one row, or says why it cannot be one (an empty key, a list that is not a list).
  std::optional<RejectReason> encode(const Record& record, std::size_t index, EncodedRows& out);

 private:
  void append_value(std::string& out, const TargetColumn& column, const Value& value, std::string& part);

  const Target& target_;
  std::string supplier_;
  std::vector<std::string> json_keys_;  // "name": for the rest column, by field index
  std::vector<std::string> field_names_;
  std::string scratch_, part_;
  std::vector<std::string> key_parts_;
  std::vector<bool> is_key_;  // by column
};

}  // namespace sluice
