// Reading a supplemental feed (CSV or NDJSON) into a LookupTable, with the rows it refuses as rejects.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/diagnostics.hpp"
#include "core/record.hpp"
#include "nodes/transform/lookup_table.hpp"

namespace sluice {

enum class SupplementalFormat { csv, ndjson };

// Where a supplemental feed is and which of its columns (CSV header names, or top-level members of
// NDJSON objects) are read.
struct SupplementalFeed {
  std::string node;  // id of the node that reads it, for its rejects
  std::string path;
  SupplementalFormat format = SupplementalFormat::csv;
  char delimiter = ',';  // csv only; RFC 4180 quoting with '"'
  std::string key_column;
  std::vector<std::string> columns;  // the table's fields, in order
  // Where the settings naming the file, the key column and each of `columns` are (message empty), so
  // that a start-up problem points at the setting to fix, as a configuration error does.
  Diagnostic file_at{}, key_column_at{};
  std::vector<Diagnostic> column_at{};
};

struct SupplementalRows {
  LookupTable table;
  std::vector<Reject> rejects;  // rows refused, with their line in the supplemental feed
};

// The longest row read (CSV record or NDJSON line, line end excluded); a longer one is rejected.
inline constexpr std::size_t kMaxSupplementalRow = std::size_t{1} << 20;

// Reads the whole feed. A row without a key, one whose key an earlier row has (the first row wins), and
// a broken, ragged or over-long row become rejects; their messages name the file. Numbers and booleans
// in NDJSON keep their text; null is an empty value; an object or array refuses the row. Throws
// StartupError when the file cannot be read, has no header or lacks a column.
SupplementalRows read_supplemental(const SupplementalFeed& feed);

}  // namespace sluice
