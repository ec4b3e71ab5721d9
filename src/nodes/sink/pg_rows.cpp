// Encoding records as COPY text lines, and the hashes that find unchanged rows on reruns.
#include "nodes/sink/pg_rows.hpp"

#include <simdjson.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "clients/pg_copy.hpp"
#include "core/json_writer.hpp"

namespace sluice {
namespace {

// An integer n written as n / 10^scale, exactly: 12345 at scale 2 is 123.45.
void append_scaled(std::string& out, std::int64_t n, int scale) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  std::string digits(buf, end);
  bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.erase(0, 1);
  if (static_cast<int>(digits.size()) <= scale) digits.insert(0, static_cast<std::size_t>(scale) + 1 - digits.size(), '0');
  if (negative) out.push_back('-');
  out.append(digits, 0, digits.size() - static_cast<std::size_t>(scale));
  if (scale > 0) {
    out.push_back('.');
    out.append(digits, digits.size() - static_cast<std::size_t>(scale));
  }
}

// A JSON list as a PostgreSQL array literal: {"a","b"}, numbers as they are, null as NULL.
std::optional<std::string> array_literal(const std::string& json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::array items;
  if (doc.get_array().get(items) != simdjson::SUCCESS) return std::nullopt;
  std::string out = "{";
  for (simdjson::dom::element item : items) {
    if (out.size() > 1) out.push_back(',');
    std::string_view text;
    switch (item.type()) {
      case simdjson::dom::element_type::STRING:
        text = item.get_string().value_unsafe();
        out.push_back('"');
        for (char c : text) {
          if (c == '"' || c == '\\') out.push_back('\\');
          out.push_back(c);
        }
        out.push_back('"');
        break;
      case simdjson::dom::element_type::NULL_VALUE:
        out += "NULL";
        break;
      case simdjson::dom::element_type::ARRAY:
      case simdjson::dom::element_type::OBJECT:
        return std::nullopt;
      default:
        out += simdjson::minify(item);
        break;
    }
  }
  out.push_back('}');
  return out;
}

}  // namespace

void append_key_part(std::string& out, std::string_view part) {
  std::uint64_t n = part.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out.append(part);
}

std::int64_t row_hash(std::string_view copy_line) {
  return static_cast<std::int64_t>(XXH3_64bits(copy_line.data(), copy_line.size()));
}

std::uint64_t key_hash(std::string_view key_bytes) {
  return XXH3_64bits(key_bytes.data(), key_bytes.size());
}

std::vector<std::pair<const EncodedRow*, const EncodedRow*>> repeated_keys(const EncodedRows& rows, RowRefs& keep) {
  const auto& all = rows.rows;
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (all[a].key_hash != all[b].key_hash) return all[a].key_hash < all[b].key_hash;
    if (rows.key(all[a]) != rows.key(all[b])) return rows.key(all[a]) < rows.key(all[b]);
    return a < b;
  });
  std::vector<bool> dropped(all.size(), false);
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    const auto &r = all[order[i]], &next = all[order[i + 1]];
    if (r.key_hash == next.key_hash && rows.key(r) == rows.key(next)) dropped[order[i]] = true;
  }
  std::vector<std::pair<const EncodedRow*, const EncodedRow*>> out;
  const EncodedRow* winner = nullptr;
  for (std::size_t j = order.size(); j-- > 0;) {  // from the last occurrence of each key backwards
    const EncodedRow& r = all[order[j]];
    if (dropped[order[j]])
      out.emplace_back(&r, winner);
    else
      winner = &r;
  }
  keep.clear();
  keep.reserve(all.size());
  for (std::size_t i = 0; i < all.size(); ++i)
    if (!dropped[i]) keep.push_back(&all[i]);
  return out;
}

std::string key_text(const Target& target, std::string_view bytes) {
  std::string out;
  for (std::size_t k = 0; k < target.key.size() && bytes.size() >= 8; ++k) {
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
    std::string_view part = bytes.substr(8, n);
    bytes.remove_prefix(8 + part.size());
    if (target.owner && target.key[k] == *target.owner) continue;
    out += (out.empty() ? "" : "/") + std::string(part);
  }
  return out;
}

RowEncoder::RowEncoder(const Target& target, const Schema& schema, std::string supplier)
    : target_(target), supplier_(std::move(supplier)), field_names_(schema.names()) {
  is_key_.assign(target.columns.size(), false);
  for (std::size_t k : target.key) is_key_[k] = true;
  key_parts_.resize(target.columns.size());
  for (const auto& name : schema.names()) {
    std::string key;
    append_json_string(key, name);
    json_keys_.push_back(key + ":");
  }
}

void RowEncoder::append_value(std::string& out, const TargetColumn& column, const Value& value, std::string& part) {
  part.clear();
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          part = v;
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          if (column.scale > 0) {
            append_scaled(part, v, column.scale);
          } else {
            char buf[24];
            auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
            part.assign(buf, end);
          }
        } else if constexpr (std::is_same_v<T, Decimal>) {
          part = v.to_string();
        } else if constexpr (std::is_same_v<T, bool>) {
          part = v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Json>) {
          if (column.array) {
            auto literal = array_literal(v.text);
            if (!literal) throw std::invalid_argument("is not a list of plain values");
            part = std::move(*literal);
          } else {
            part = v.text;
          }
        }
      },
      value);
  append_copy_text(out, part);
}

std::optional<RejectReason> RowEncoder::encode(const Record& record, std::size_t index, EncodedRows& out) {
  EncodedRow row;
  row.record = index;
  row.line = record.line;
  row.begin = out.text.size();
  for (std::size_t k : target_.key) key_parts_[k].clear();
  for (std::size_t c = 0; c < target_.columns.size(); ++c) {
    const TargetColumn& column = target_.columns[c];
    if (c > 0) out.text.push_back('\t');
    switch (column.fill) {
      case ColumnFill::supplier:
        append_copy_text(out.text, supplier_);
        key_parts_[c] = supplier_;
        break;
      case ColumnFill::rest:
        scratch_.assign(1, '{');
        for (std::size_t i : target_.rest_fields) {
          if (scratch_.size() > 1) scratch_.push_back(',');
          scratch_ += json_keys_[i];
          append_json_value(scratch_, record.values[i]);
        }
        scratch_.push_back('}');
        append_copy_text(out.text, scratch_);
        break;
      case ColumnFill::field:
        if (!column.field || is_null(record.values[*column.field])) {
          append_copy_null(out.text);
        } else {
          try {
            append_value(out.text, column, record.values[*column.field], part_);
          } catch (const std::invalid_argument& e) {
            out.text.resize(row.begin);
            return RejectReason{"type", "field '" + field_names_[*column.field] + "' for column " + column.name + " " +
                                            e.what()};
          }
          if (is_key_[c]) key_parts_[c] = part_;
        }
        break;
    }
  }
  row.end = out.text.size();
  row.key_begin = out.keys.size();
  for (std::size_t k : target_.key) {
    const TargetColumn& column = target_.columns[k];
    if (key_parts_[k].empty()) {
      out.text.resize(row.begin);
      out.keys.resize(row.key_begin);
      std::string what = column.field ? "the key field '" + field_names_[*column.field] + "'" : "key column " + column.name;
      return RejectReason{"missing_key", what + " is empty"};
    }
    append_key_part(out.keys, key_parts_[k]);
  }
  row.key_end = out.keys.size();
  row.key_hash = key_hash(out.key(row));
  row.row_hash = row_hash(out.line(row));
  out.rows.push_back(row);
  return std::nullopt;
}

}  // namespace sluice
