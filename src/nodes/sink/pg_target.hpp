// Where pg_sink writes: a table, how each of its columns is filled from a record, and its key.
#pragma once

#include <pqxx/pqxx>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "config/supplier.hpp"
#include "core/record.hpp"

namespace sluice {

enum class ColumnFill {
  field,     // a record field
  supplier,  // the supplier's name: the column that scopes a run's rows
  rest,      // the record's fields that no other column takes, as one JSON object
};

struct TargetColumn {
  std::string name;  // as in the table
  ColumnFill fill = ColumnFill::field;
  std::optional<std::size_t> field;  // the record field (fill == field); none: always NULL
  int scale = 0;                     // an integer field written as field / 10^scale, exactly
  bool array = false;                // a JSON list written as a PostgreSQL array (from the column's type)
};

struct Target {
  std::string table;      // as configured, e.g. "shop.catalogue_item"
  std::string table_sql;  // quoted for SQL
  std::vector<TargetColumn> columns;      // in COPY order
  std::vector<std::size_t> key;           // indexes into columns
  std::optional<std::size_t> owner;       // the supplier column, if any
  std::vector<std::size_t> rest_fields;   // record fields of the rest column
  std::string hash_column;                // the row hash sluice compares on reruns
  std::string run_column;                 // the run that last wrote the row
  std::optional<std::string> first_run_column, updated_at_column;
  // A full-feed sync (the supplier's `sync: full`): when and by which run a row that left the feed was
  // delisted; delisted_at and delisted_run_id in sluice's table, sluice_delisted_at and
  // sluice_delisted_run_id in a table of the user's. Empty otherwise.
  std::optional<std::string> delisted_at_column, delisted_run_column;

  // sluice's own `product` table (or a table laid out like it), keyed by (supplier, the supplier's key field).
  static Target product(const std::string& table, const Supplier& supplier, Schema& schema, const std::string& title_field,
                        const std::string& category_field, const std::string& image_field);

  // A table of the user's: `columns` maps column names to what fills them ("FIELD", "FIELD / 100" for an
  // integer written as an exact decimal, "$supplier"); `key` names the key columns; `rest` the optional
  // JSON column for the other fields. Problems are returned, one message each.
  static Target user(const std::string& table, const std::vector<std::pair<std::string, std::string>>& columns,
                     const std::vector<std::string>& key, const std::string& rest, Schema& schema,
                     std::vector<std::string>& problems);

  std::vector<std::string> column_names() const;

  // Checks the table against what sluice needs (every column there, a unique index on the key, the
  // bookkeeping columns) and learns the columns' types. Throws with the statement that fixes it.
  void check(pqxx::transaction_base& t);
};

// Whether `name` is an identifier sluice accepts for tables and columns (letters, digits, _; not
// starting with a digit; at most 63 bytes), optionally schema-qualified for tables.
bool valid_identifier(const std::string& name, bool qualified = false);

// An identifier quoted for SQL; "schema.table" is quoted part by part.
std::string quote_identifier(const std::string& name);

}  // namespace sluice
