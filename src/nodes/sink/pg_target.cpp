// The table pg_sink writes: sluice's `product` table or one of the user's, checked against the catalog.
#include "nodes/sink/pg_target.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "config/spec.hpp"

namespace sluice {
namespace {

bool identifier_part(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (s[0] >= '0' && s[0] <= '9') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

}  // namespace

bool valid_identifier(const std::string& name, bool qualified) {
  auto dot = name.find('.');
  if (!qualified || dot == std::string::npos) return identifier_part(name);
  return identifier_part(name.substr(0, dot)) && identifier_part(name.substr(dot + 1));
}

std::string quote_identifier(const std::string& name) {
  auto dot = name.find('.');
  if (dot != std::string::npos) return quote_identifier(name.substr(0, dot)) + "." + quote_identifier(name.substr(dot + 1));
  return "\"" + name + "\"";  // valid identifiers hold no quote
}

Target Target::product(const std::string& table, const Supplier& supplier, Schema& schema,
                       const std::string& title_field, const std::string& category_field,
                       const std::string& image_field) {
  Target t;
  t.table = table;
  t.table_sql = quote_identifier(t.table);
  auto field = [&](const std::string& name) -> std::optional<std::size_t> {
    return name.empty() ? std::nullopt : schema.find(name);
  };
  std::size_t key = schema.add(supplier.key);
  t.columns = {
      {"supplier", ColumnFill::supplier, std::nullopt, 0, false},
      {"sku", ColumnFill::field, key, 0, false},
      {"title", ColumnFill::field, field(title_field), 0, false},
      {"category", ColumnFill::field, field(category_field), 0, false},
      {"net_minor", ColumnFill::field, schema.find("net_minor"), 0, false},
      {"tax_minor", ColumnFill::field, schema.find("tax_minor"), 0, false},
      {"gross_minor", ColumnFill::field, schema.find("gross_minor"), 0, false},
      {"currency", ColumnFill::field, schema.find("currency"), 0, false},
      {"image_url", ColumnFill::field, field(image_field), 0, false},
      {"attributes", ColumnFill::rest, std::nullopt, 0, false},
  };
  t.key = {0, 1};
  t.owner = 0;
  t.hash_column = "row_hash";
  t.run_column = "last_run_id";
  t.first_run_column = "first_run_id";
  t.updated_at_column = "updated_at";
  if (supplier.full_sync) {
    t.delisted_at_column = "delisted_at";
    t.delisted_run_column = "delisted_run_id";
  }
  for (std::size_t i = 0; i < schema.size(); ++i) {
    bool taken = std::any_of(t.columns.begin(), t.columns.end(), [&](const TargetColumn& c) { return c.field == i; });
    if (!taken) t.rest_fields.push_back(i);
  }
  return t;
}

Target Target::user(const std::string& table, const std::vector<std::pair<std::string, std::string>>& columns,
                    const std::vector<std::string>& key, const std::string& rest, Schema& schema,
                    std::vector<std::string>& problems) {
  Target t;
  t.table = table;
  if (!valid_identifier(table, true))
    problems.push_back("table '" + table +
                       "' is not a plain identifier (letters, digits and _, optionally schema.table)");
  t.table_sql = quote_identifier(table);
  t.hash_column = "sluice_row_hash";
  t.run_column = "sluice_run_id";
  for (const auto& [name, source_text] : columns) {
    if (!valid_identifier(name)) {
      problems.push_back("column '" + name + "' is not a plain identifier (letters, digits and _)");
      continue;
    }
    if (name == t.hash_column || name == t.run_column) {
      problems.push_back("column '" + name + "' is sluice's own: it cannot be filled from a field");
      continue;
    }
    TargetColumn c;
    c.name = name;
    std::string source = trim(source_text);
    if (source == "$supplier") {
      c.fill = ColumnFill::supplier;
      if (t.owner) problems.push_back("column '" + name + "': only one column can hold $supplier");
      t.owner = t.columns.size();
    } else {
      std::string field = source;
      if (auto slash = source.find('/'); slash != std::string::npos) {
        field = trim(source.substr(0, slash));
        std::string divisor = trim(source.substr(slash + 1));
        bool power_of_ten = divisor.size() >= 2 && divisor.size() <= 19 && divisor[0] == '1' &&
                            divisor.find_first_not_of('0', 1) == std::string::npos;
        if (!power_of_ten) {
          problems.push_back("column '" + name + "': '" + source_text +
                             "' can only divide by a power of ten (10, 100, 1000, ...), which is exact");
          continue;
        }
        c.scale = static_cast<int>(divisor.size() - 1);
      }
      c.field = schema.find(field);
      if (!c.field) {
        problems.push_back("column '" + name + "': there is no field '" + field + "' (the fields are the supplier's "
                           "and those the nodes before the sink add, such as gross_minor)");
        continue;
      }
    }
    t.columns.push_back(std::move(c));
  }
  if (!rest.empty()) {
    if (!valid_identifier(rest))
      problems.push_back("rest column '" + rest + "' is not a plain identifier");
    t.columns.push_back({rest, ColumnFill::rest, std::nullopt, 0, false});
    for (std::size_t i = 0; i < schema.size(); ++i) {
      bool taken =
          std::any_of(t.columns.begin(), t.columns.end(), [&](const TargetColumn& c) { return c.field == i; });
      if (!taken) t.rest_fields.push_back(i);
    }
  }
  if (key.empty()) problems.push_back("key: name the column(s) that identify a row (a unique index must cover them)");
  for (const auto& k : key) {
    auto at = std::find_if(t.columns.begin(), t.columns.end(), [&](const TargetColumn& c) { return c.name == k; });
    if (at == t.columns.end()) {
      problems.push_back("key column '" + k + "' is not one of the columns");
    } else if (at->fill == ColumnFill::rest) {
      problems.push_back("key column '" + k + "' is the rest column");
    } else {
      t.key.push_back(static_cast<std::size_t>(at - t.columns.begin()));
    }
  }
  if (t.owner && std::find(t.key.begin(), t.key.end(), *t.owner) == t.key.end())
    problems.push_back("the $supplier column '" + t.columns[*t.owner].name + "' must be part of the key");
  return t;
}

std::vector<std::string> Target::column_names() const {
  std::vector<std::string> out;
  for (const auto& c : columns) out.push_back(c.name);
  return out;
}

void Target::check(pqxx::transaction_base& t) {
  if (t.exec_params1("SELECT to_regclass($1) IS NULL", table_sql)[0].as<bool>())
    throw std::runtime_error("table " + table + " does not exist" +
                             (table == "product" ? std::string(": run `sluice db migrate` first") : std::string()));
  std::map<std::string, std::pair<std::string, bool>> have;  // name -> (type, is an array)
  for (const auto& r : t.exec_params(
           "SELECT a.attname, format_type(a.atttypid, a.atttypmod), ty.typcategory = 'A' FROM pg_attribute a "
           "JOIN pg_type ty ON ty.oid = a.atttypid WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT "
           "a.attisdropped",
           table_sql))
    have[r[0].as<std::string>()] = {r[1].as<std::string>(), r[2].as<bool>()};
  for (auto& c : columns) {
    auto at = have.find(c.name);
    if (at == have.end())
      throw std::runtime_error("table " + table + " has no column " + c.name + " (named in columns:)");
    c.array = at->second.second;
    if (c.fill == ColumnFill::rest && at->second.first != "jsonb" && at->second.first != "json")
      throw std::runtime_error("the rest column " + table + "." + c.name + " is " + at->second.first +
                               ": it must be jsonb (or json)");
  }
  for (const auto& [name, type] : {std::pair{hash_column, "bigint"}, std::pair{run_column, "bigint"}}) {
    if (!have.count(name))
      throw std::runtime_error("table " + table + " has no column " + name +
                               ", which sluice needs to find unchanged rows on reruns and to say which run wrote a "
                               "row: ALTER TABLE " + table_sql + " ADD COLUMN " + name + " " + type);
  }
  if (delisted_at_column) {
    for (const auto& [name, type] :
         {std::pair{*delisted_at_column, "timestamptz"}, std::pair{*delisted_run_column, "bigint"}}) {
      if (!have.count(name))
        throw std::runtime_error("table " + table + " has no column " + name + ", which the supplier's sync: full " +
                                 "needs to mark the rows that left the feed" +
                                 (table == "product" ? std::string(": run `sluice db migrate`")
                                                     : ": ALTER TABLE " + table_sql + " ADD COLUMN " + name + " " + type));
    }
  }
  std::vector<std::string> names;
  for (std::size_t k : key) names.push_back(columns[k].name);
  std::sort(names.begin(), names.end());
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
  bool unique = t.exec_params1(
                     "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = to_regclass($1) AND i.indisunique "
                     "AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnatts = $3 AND (SELECT "
                     "array_agg(a.attname::text ORDER BY a.attname::text COLLATE \"C\") FROM pg_attribute a WHERE "
                     "a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) = string_to_array($2, ','))",
                     table_sql, list, static_cast<int>(names.size()))[0]
                    .as<bool>();
  if (!unique) {
    std::string cols;
    for (std::size_t k : key) cols += (cols.empty() ? "" : ", ") + quote_identifier(columns[k].name);
    throw std::runtime_error("table " + table + " has no unique index on its key (" + cols +
                             "), which reruns need to find each row: CREATE UNIQUE INDEX ON " + table_sql + " (" +
                             cols + ")");
  }
}

}  // namespace sluice
