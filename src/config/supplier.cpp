// Spec and reader of supplier files.
#include "config/supplier.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <limits>

#include "core/currency.hpp"
#include "core/datetime.hpp"

namespace sluice {
namespace {

const ObjectSpec& feed_spec() {
  static const ObjectSpec spec{{
      {"format",
       Kind::choice,
       "feed format: csv, or ndjson (one JSON object per line)",
       false,
       "csv",
       {},
       {},
       {"csv", "ndjson"}},
      {"delimiter", Kind::character, "field separator: a character, or tab/comma/semicolon/pipe", false, "','"},
      {"quote", Kind::character, "quote character; 'none' for unquoted feeds", false, "'\"'"},
      {"escape", Kind::character, "escape character inside quotes; 'none' means a doubled quote", false, "none"},
      {"encoding",
       Kind::choice,
       "character encoding of the feed; others are transcoded to UTF-8 (utf-16 needs a byte-order mark)",
       false,
       "utf-8",
       {},
       {},
       {"utf-8", "latin-1", "windows-1252", "utf-16"}},
      {"headers",
       Kind::choice,
       "exact: header names match as written; loose: also ignoring case, '_' vs ' ' and 'Label [name]' forms",
       false,
       "exact",
       {},
       {},
       {"exact", "loose"}},
      {"header",
       Kind::choice,
       "csv: first_row: the first row names the columns; none: every row is data and `columns` names them",
       false,
       "first_row",
       {},
       {},
       {"first_row", "none"}},
      {"columns", Kind::string_list,
       "csv with header: none: the names of the feed's columns in order, which fields' `column` refers to"},
      {"extra_columns", Kind::string,
       "name of a field that receives the feed's unmapped columns as one JSON object; unset: they are dropped"},
      {"decimal_separator", Kind::character, "decimal separator of numbers in the feed", false, "'.'"},
      {"thousands_separator", Kind::character, "thousands separator of numbers in the feed, or none", false, "none"},
      {"null_values", Kind::string_list, "cell texts that mean 'no value'", false, "['']"},
      {"trim", Kind::boolean, "strip spaces around unquoted values", false, "false"},
      {"max_field_bytes", Kind::integer, "a longer field rejects its row", false, "1048576", 1, 1 << 30},
      {"max_record_bytes", Kind::integer, "a longer record rejects its row", false, "8388608", 1, 1 << 30},
      {"max_line_bytes", Kind::integer, "ndjson: a longer line is rejected (record_too_large) and skipped", false,
       "1048576", 1, 1 << 30},
      {"max_depth", Kind::integer, "ndjson: a record with objects and arrays nested deeper is rejected", false, "64", 1,
       1024},
      {"top_level_array", Kind::boolean,
       "ndjson: the whole feed is one JSON array of objects, read into memory; a record's line is its position", false,
       "false"},
      {"max_array_bytes", Kind::integer, "ndjson with top_level_array: a larger feed is refused", false, "67108864", 1,
       1 << 30},
  }};
  return spec;
}

const ObjectSpec& field_rule_spec() {
  static const ObjectSpec spec{{
      {"column", Kind::string, "header name of the column in the feed", true},
      {"type",
       Kind::choice,
       "value type",
       false,
       "string",
       {},
       {},
       {"string", "int", "decimal", "bool", "url", "enum", "money", "gtin", "date", "datetime", "interval", "list"}},
      {"aliases", Kind::string_list, "other header names the column may have in some exports"},
      {"null_values", Kind::string_list,
       "texts that mean 'no value' in this column only, beside feed.null_values (e.g. WooCommerce's 'parent')"},
      {"required", Kind::boolean, "an empty or missing value rejects the row", false, "false"},
      {"map", Kind::string_map, "feed values replaced by canonical ones before the checks, e.g. 'in stock': in_stock"},
      {"pattern", Kind::string, "RE2 regular expression the whole value must match (string, url, enum, gtin)"},
      {"currency_field", Kind::string,
       "money: field holding the currency code (e.g. Retail API's currencyCode); else the value may end in one, "
       "'15.00 USD', and a bare number is in the supplier's currency"},
      {"default_currency", Kind::string,
       "money with currency_field: the currency of rows whose currency field is empty; without it such rows are "
       "rejected (currency)"},
      {"separator", Kind::character, "list: character between the items", false, "','"},
      {"items", Kind::choice, "list: type of each item", false, "string", {}, {}, {"string", "url"}},
      {"zone", Kind::string, "date, datetime, interval: UTC offset of values without one, e.g. +01:00 or Z"},
      {"end_of_day", Kind::boolean, "date: the value means the last second of the day (an end date)", false, "false"},
      {"min", Kind::decimal, "smallest allowed value (int, decimal)"},
      {"max", Kind::decimal, "largest allowed value (int, decimal)"},
      {"min_length", Kind::integer, "fewest characters (string, url, enum)", false, "", 0, 1 << 30},
      {"max_length", Kind::integer, "most characters (string, url, enum)", false, "", 0, 1 << 30},
      {"values", Kind::string_list, "allowed values (enum)"},
  }};
  return spec;
}

const ObjectSpec& pricing_spec() {
  static const ObjectSpec tax{{
      {"default", Kind::decimal, "tax rate for rows without a category rate, e.g. 0.20", false, "0"},
      {"by_category", Kind::decimal_map, "tax rate per category value"},
      {"by_country", Kind::decimal_map, "tax rate per country value; wins over the category rate"},
  }};
  static const ObjectSpec sale{{
      {"price_field", Kind::string, "field with the sale price; used when it is lower and its window holds", true},
      {"window_field", Kind::string, "interval field: the sale's start/end"},
      {"start_field", Kind::string, "date or datetime field: the sale starts"},
      {"end_field", Kind::string, "date or datetime field: the sale ends"},
  }};
  static const ObjectSpec spec{{
      {"amount_field", Kind::string, "decimal or money field that holds the price", true},
      {"category_field", Kind::string, "field whose value selects the tax rate"},
      {"country_field", Kind::string, "field whose value selects the tax rate by country"},
      {"quantity_field", Kind::string, "int field for discounts with min_quantity"},
      {"currency", Kind::string, "currency of the computed prices; default the supplier's"},
      {"exchange_rates", Kind::decimal_map,
       "rates into pricing's currency: 1 unit of the key currency = this many units, e.g. USD: \"0.92\""},
      {"sale", Kind::object, "sale price and its window", false, "", {}, {}, {}, &sale},
      {"discounts", Kind::list,
       "ordered discounts: {name, percent | amount, categories, sku_prefix, min_quantity, from, until}; every one "
       "whose conditions hold applies, in order"},
      {"floor", Kind::decimal, "smallest amount after sale and discounts (major units)"},
      {"ceiling", Kind::decimal, "largest amount after sale and discounts (major units)"},
      {"prices_include_tax", Kind::boolean, "the feed's prices are gross (tax included)", false, "false"},
      {"tax", Kind::object, "tax rates", false, "", {}, {}, {}, &tax},
      {"rounding",
       Kind::choice,
       "rounding to the currency's minor unit",
       false,
       "half_up",
       {},
       {},
       {"half_up", "half_even", "down", "up"}},
  }};
  return spec;
}

const ObjectSpec& discount_spec() {
  static const ObjectSpec spec{{
      {"name", Kind::string, "shown in the row's price_rules", true},
      {"percent", Kind::decimal, "fraction taken off, e.g. 0.10 for 10 %"},
      {"amount", Kind::decimal, "fixed amount taken off, in pricing's currency"},
      {"categories", Kind::string_list, "applies only to these category values"},
      {"sku_prefix", Kind::string, "applies only to keys starting with this"},
      {"min_quantity", Kind::integer, "applies only when quantity_field is at least this", false, "", 0,
       std::numeric_limits<std::int64_t>::max()},
      {"from", Kind::string, "applies from this date or date-time (inclusive), e.g. 2026-11-27"},
      {"until", Kind::string, "applies until this date or date-time (inclusive; a date means its end)"},
  }};
  return spec;
}

const ObjectSpec& check_spec() {
  static const ObjectSpec spec{{
      {"left", Kind::string, "field on the left", true},
      {"op", Kind::choice, "comparison", true, "", {}, {}, {"<", "<=", "==", "!=", ">=", ">"}},
      {"right", Kind::string, "field on the right", true},
  }};
  return spec;
}

const ObjectSpec& variants_spec() {
  static const ObjectSpec spec{{
      {"style",
       Kind::choice,
       "continuation: rows sharing group_field follow each other (Shopify); parent: rows name their parent's key "
       "(WooCommerce)",
       true,
       "",
       {},
       {},
       {"continuation", "parent"}},
      {"group_field", Kind::string, "continuation: field shared by the rows of one product, e.g. handle"},
      {"parent_field", Kind::string, "parent: field holding the parent's key"},
      {"parent_type_field", Kind::string, "parent: field whose value marks a parent row"},
      {"parent_types", Kind::string_list, "parent: values of parent_type_field that mark parent rows"},
      {"inherit", Kind::string_list, "fields taken from the product's first row (or the parent) when empty"},
      {"image_field", Kind::string, "continuation: field with the row's image URL"},
      {"images_field", Kind::string, "continuation: field that receives all the group's image URLs as a list"},
      {"image_rows",
       Kind::choice,
       "continuation: rows with only the group and image fields add their image to the product, or are skipped",
       false,
       "attach",
       {},
       {},
       {"attach", "skip"}},
  }};
  return spec;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

const ObjectSpec& images_spec() {
  static const ObjectSpec spec{{
      {"on_failure",
       Kind::choice,
       "when an image cannot be downloaded: reject the row, or keep it without an image",
       false,
       "reject",
       {},
       {},
       {"reject", "keep"}},
      {"allow_networks", Kind::string_list,
       "CIDRs image URLs may reach although they are loopback or private (e.g. 127.0.0.1/32 for tests)"},
  }};
  return spec;
}

// "+01:00", "-0500", "Z" or "UTC" as seconds east of UTC.
std::optional<std::int32_t> parse_zone(std::string_view z) {
  if (z == "Z" || z == "UTC") return 0;
  if (z.size() != 6 && z.size() != 5) return std::nullopt;
  if (z[0] != '+' && z[0] != '-') return std::nullopt;
  std::string digits;
  for (char c : z.substr(1))
    if (c != ':') digits.push_back(c);
  if (digits.size() != 4 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int h = (digits[0] - '0') * 10 + (digits[1] - '0'), m = (digits[2] - '0') * 10 + (digits[3] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return (z[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
}

std::optional<FieldType> parse_field_type(std::string_view t) {
  static const std::pair<const char*, FieldType> names[] = {
      {"string", FieldType::string},     {"int", FieldType::integer},       {"decimal", FieldType::decimal},
      {"bool", FieldType::boolean},      {"url", FieldType::url},           {"enum", FieldType::enumeration},
      {"money", FieldType::money},       {"gtin", FieldType::gtin},         {"date", FieldType::date},
      {"datetime", FieldType::datetime}, {"interval", FieldType::interval}, {"list", FieldType::list}};
  for (const auto& [name, type] : names)
    if (t == name) return type;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(FieldType t) {
  switch (t) {
    case FieldType::string:
      return "string";
    case FieldType::integer:
      return "int";
    case FieldType::decimal:
      return "decimal";
    case FieldType::boolean:
      return "bool";
    case FieldType::url:
      return "url";
    case FieldType::enumeration:
      return "enum";
    case FieldType::money:
      return "money";
    case FieldType::gtin:
      return "gtin";
    case FieldType::date:
      return "date";
    case FieldType::datetime:
      return "datetime";
    case FieldType::interval:
      return "interval";
    case FieldType::list:
      return "list";
  }
  return "?";
}

const ObjectSpec& supplier_spec() {
  static const ObjectSpec spec{{
      {"supplier", Kind::string, "supplier name: lower-case letters, digits, '-' and '_'", true},
      {"currency", Kind::string, "ISO 4217 code of the feed's prices, e.g. EUR", true},
      {"key", Kind::string, "field that identifies a product", false, "sku"},
      {"mode",
       Kind::choice,
       "batch: every batch commits on its own; atomic: the whole run commits or nothing does",
       false,
       "batch",
       {},
       {},
       {"batch", "atomic"}},
      {"max_rejects", Kind::integer, "error budget: the run stops when more rows than this are rejected", false, "", 0,
       std::numeric_limits<std::int64_t>::max()},
      {"max_reject_ratio", Kind::decimal, "error budget: the run fails when rejected / read ends above this (0..1)"},
      {"sync",
       Kind::choice,
       "upsert: the feed adds and changes products; full: the feed is the whole catalogue, and after a run that "
       "completed, the supplier's products it did not contain are delisted (delisted_at set, never deleted)",
       false,
       "upsert",
       {},
       {},
       {"upsert", "full"}},
      {"max_delist_ratio", Kind::decimal,
       "sync: full: a run that would delist more than this share of the supplier's listed products delists none "
       "and exits with code 6 (a truncated or wrong file); --allow-mass-delist overrides it for one run (0..1)",
       false, "0.2"},
      {"duplicates",
       Kind::choice,
       "a key seen before in the same run: reject the later row, or let the last one win",
       false,
       "last_wins",
       {},
       {},
       {"reject", "last_wins"}},
      {"checks", Kind::list, "comparisons between fields of a row: {left, op, right}, e.g. sale_price <= price"},
      {"variants",
       Kind::object,
       "how variant, continuation and parent rows are put together",
       false,
       "",
       {},
       {},
       {},
       &variants_spec()},
      {"feed", Kind::object, "feed format and dialect", false, "", {}, {}, {}, &feed_spec()},
      {"fields", Kind::object_map, "record fields: name -> column and rules", true, "", {}, {}, {}, &field_rule_spec()},
      {"pricing", Kind::object, "pricing rules for the price node", false, "", {}, {}, {}, &pricing_spec()},
      {"images", Kind::object, "image download policy for the http_fetch node", false, "", {}, {}, {}, &images_spec()},
  }};
  return spec;
}

const FieldRule* Supplier::field(std::string_view field_name) const {
  for (const auto& f : fields)
    if (f.name == field_name) return &f;
  return nullptr;
}

Supplier read_supplier(const Document& doc, Diagnostics& diags) {
  const YAML::Node& root = doc.root();
  Supplier s;
  // Unknown keys do not stop the checks below; values of the wrong kind do, as they cannot be read.
  if (!check_object(doc, root, supplier_spec(), "", diags)) return s;

  Settings top(root, &supplier_spec());
  s.name = top.string("supplier");
  bool name_ok = !s.name.empty() && std::all_of(s.name.begin(), s.name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
  if (!name_ok)
    diags.add(doc.at(root["supplier"], "supplier",
                     "'" + s.name + "' is not a valid supplier name (use a-z, 0-9, '-' and '_')"));

  s.currency = top.string("currency");
  s.currency_exponent = currency_exponent(s.currency);
  if (s.currency_exponent < 0) {
    std::string msg = "unknown currency '" + s.currency + "' (expected an ISO 4217 code such as EUR or USD)";
    std::string upper = s.currency;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    if (upper != s.currency && currency_exponent(upper) >= 0) msg += " (did you mean '" + upper + "'?)";
    diags.add(doc.at(root["currency"], "currency", msg));
  }

  Settings feed(root["feed"], &feed_spec());
  s.feed.format = feed.string("format");
  s.feed.delimiter = feed.character("delimiter");
  s.feed.quote = feed.character("quote");
  s.feed.escape = feed.character("escape");
  s.feed.encoding = feed.string("encoding");
  s.feed.loose_headers = feed.string("headers") == "loose";
  s.feed.extra_field = feed.string("extra_columns");
  s.feed.header_row = feed.string("header") != "none";
  s.feed.columns = feed.string_list("columns");
  if (!s.feed.header_row && s.feed.format == "csv" && !feed.has("columns"))
    diags.add(doc.at(feed.node("header"), "feed.header",
                     "a feed without a header row needs feed.columns, the names of its columns in order"));
  if ((s.feed.header_row || s.feed.format != "csv") && feed.has("columns"))
    diags.add(doc.at(feed.node("columns"), "feed.columns", "applies only to csv feeds with header: none"));
  if (feed.has("header") && s.feed.format != "csv")
    diags.add(doc.at(feed.node("header"), "feed.header", "applies only to format csv"));
  for (std::size_t i = 0; i < s.feed.columns.size(); ++i) {
    const std::string& name = s.feed.columns[i];
    const YAML::Node where = feed.node("columns")[i];
    const std::string path = "feed.columns[" + std::to_string(i) + "]";
    if (name.empty()) diags.add(doc.at(where, path, "a column name cannot be empty"));
    if (std::find(s.feed.columns.begin(), s.feed.columns.begin() + static_cast<std::ptrdiff_t>(i), name) !=
        s.feed.columns.begin() + static_cast<std::ptrdiff_t>(i))
      diags.add(doc.at(where, path, "column '" + name + "' is named twice"));
  }
  if (s.feed.format == "ndjson" && s.feed.encoding != "utf-8")
    diags.add(doc.at(feed.node("encoding"), "feed.encoding", "NDJSON is always UTF-8 (RFC 8259)"));
  s.feed.decimal_separator = feed.character("decimal_separator");
  s.feed.thousands_separator = feed.character("thousands_separator");
  s.feed.null_values = feed.string_list("null_values");
  s.feed.trim = feed.boolean("trim");
  s.feed.max_field_bytes = feed.integer("max_field_bytes");
  s.feed.max_record_bytes = feed.integer("max_record_bytes");
  if (s.feed.delimiter == '\0' || s.feed.delimiter == '\n' || s.feed.delimiter == '\r')
    diags.add(doc.at(feed.node("delimiter"), "feed.delimiter", "the delimiter must be a visible character or tab"));
  if (s.feed.quote != '\0' && s.feed.quote == s.feed.delimiter)
    diags.add(doc.at(feed.node("quote"), "feed.quote", "quote and delimiter must differ"));
  if (s.feed.escape != '\0' && (s.feed.escape == s.feed.delimiter || s.feed.quote == '\0'))
    diags.add(doc.at(feed.node("escape"), "feed.escape",
                     "an escape character needs a quote character and must differ from the delimiter"));
  if (s.feed.thousands_separator != '\0' && s.feed.thousands_separator == s.feed.decimal_separator)
    diags.add(doc.at(feed.node("thousands_separator"), "feed.thousands_separator",
                     "thousands and decimal separators must differ"));
  // The ndjson settings are read by ndjson_source from the document; a csv feed that sets them is
  // probably mislabelled, so say so rather than ignore them.
  for (const char* key : {"max_line_bytes", "max_depth", "top_level_array", "max_array_bytes"}) {
    if (s.feed.format != "ndjson" && feed.has(key))
      diags.add(doc.at(feed.node(key), std::string("feed.") + key, "applies only to format ndjson"));
  }
  if (s.feed.format == "ndjson" && feed.has("max_array_bytes") && !feed.boolean("top_level_array"))
    diags.add(doc.at(feed.node("max_array_bytes"), "feed.max_array_bytes", "applies only with top_level_array: true"));

  const YAML::Node fields = root["fields"];
  std::vector<std::string> columns_seen;
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    FieldRule r;
    r.name = it->first.Scalar();
    r.where = it->first;
    std::string path = "fields." + r.name;
    if (r.name.empty()) diags.add(doc.at(it->first, "fields", "a field name cannot be empty"));
    Settings f(it->second, &field_rule_spec());
    r.column = f.string("column");
    r.type = parse_field_type(f.string("type")).value_or(FieldType::string);
    r.aliases = f.string_list("aliases");
    r.null_values = f.string_list("null_values");
    r.map = f.string_map("map");
    r.pattern = f.string("pattern");
    r.currency_field = f.string("currency_field");
    r.default_currency = f.string("default_currency");
    if (f.has("default_currency") && r.currency_field.empty())
      diags.add(doc.at(f.node("default_currency"), path + ".default_currency",
                       "'default_currency' applies only to money fields with a currency_field"));
    else if (f.has("default_currency") && currency_exponent(r.default_currency) < 0)
      diags.add(doc.at(f.node("default_currency"), path + ".default_currency",
                       "unknown currency '" + r.default_currency + "' (expected an ISO 4217 code such as EUR or USD)"));
    r.separator = f.character("separator");
    r.items = f.string("items") == "url" ? FieldType::url : FieldType::string;
    r.end_of_day = f.boolean("end_of_day");
    if (f.has("zone")) {
      r.zone_offset = parse_zone(f.string("zone"));
      if (!r.zone_offset)
        diags.add(doc.at(f.node("zone"), path + ".zone",
                         "'" + f.string("zone") + "' is not a UTC offset (expected e.g. +01:00, -0500 or Z)"));
    }
    bool dated = r.type == FieldType::date || r.type == FieldType::datetime || r.type == FieldType::interval;
    if (f.has("zone") && !dated)
      diags.add(doc.at(f.node("zone"), path + ".zone", "'zone' applies only to date, datetime and interval fields"));
    if (f.has("end_of_day") && r.type != FieldType::date)
      diags.add(doc.at(f.node("end_of_day"), path + ".end_of_day", "'end_of_day' applies only to date fields"));
    if ((f.has("separator") || f.has("items")) && r.type != FieldType::list)
      diags.add(doc.at(f.node(f.has("separator") ? "separator" : "items"), path,
                       "'separator' and 'items' apply only to list fields"));
    if (f.has("currency_field") && r.type != FieldType::money)
      diags.add(
          doc.at(f.node("currency_field"), path + ".currency_field", "'currency_field' applies only to money fields"));
    if (!r.pattern.empty()) {
      RE2 re(r.pattern, RE2::Quiet);
      if (!re.ok())
        diags.add(doc.at(f.node("pattern"), path + ".pattern", "invalid regular expression: " + re.error()));
    }
    r.required = f.boolean("required");
    r.min = f.decimal("min");
    r.max = f.decimal("max");
    if (f.has("min_length")) r.min_length = f.integer("min_length");
    if (f.has("max_length")) r.max_length = f.integer("max_length");
    r.values = f.string_list("values");
    bool numeric = r.type == FieldType::integer || r.type == FieldType::decimal || r.type == FieldType::money;
    if ((r.min || r.max) && !numeric)
      diags.add(doc.at(f.node(r.min ? "min" : "max"), path, "min and max apply only to int, decimal and money fields"));
    if (r.min && r.max && *r.max < *r.min) diags.add(doc.at(f.node("max"), path + ".max", "max is smaller than min"));
    if (r.type == FieldType::enumeration && r.values.empty())
      diags.add(doc.at(it->second, path, "an enum field needs a non-empty 'values' list", it->first));
    if (r.type != FieldType::enumeration && !r.values.empty())
      diags.add(doc.at(f.node("values"), path + ".values", "'values' applies only to enum fields"));
    bool textual = r.type == FieldType::string || r.type == FieldType::url || r.type == FieldType::enumeration;
    for (const char* key : {"min_length", "max_length"})
      if (f.has(key) && !textual)
        diags.add(doc.at(f.node(key), path + "." + key,
                         std::string("'") + key + "' applies only to string, url and enum fields"));
    if (r.min_length && r.max_length && *r.max_length < *r.min_length)
      diags.add(doc.at(f.node("max_length"), path + ".max_length", "max_length is smaller than min_length"));
    if (std::find(columns_seen.begin(), columns_seen.end(), r.column) != columns_seen.end())
      diags.add(
          doc.at(f.node("column"), path + ".column", "column '" + r.column + "' is already mapped to another field"));
    columns_seen.push_back(r.column);
    for (const auto& a : r.aliases) columns_seen.push_back(a);
    s.fields.push_back(std::move(r));
  }

  Settings images(lookup(root, {"images"}), &images_spec());
  s.images.reject_on_failure = images.string("on_failure") == "reject";
  s.images.allow_networks = images.string_list("allow_networks");

  s.key = top.string("key");
  s.mode = top.string("mode");
  if (top.has("max_rejects")) s.max_rejects = top.integer("max_rejects");
  s.max_reject_ratio = top.decimal("max_reject_ratio");
  if (s.max_reject_ratio && (*s.max_reject_ratio < Decimal() || Decimal::from_units(1, 0) < *s.max_reject_ratio))
    diags.add(doc.at(top.node("max_reject_ratio"), "max_reject_ratio", "a ratio between 0 and 1, e.g. 0.05"));
  s.full_sync = top.string("sync") == "full";
  if (auto r = top.decimal("max_delist_ratio")) {
    if (*r < Decimal() || Decimal::from_units(1, 0) < *r)
      diags.add(doc.at(top.node("max_delist_ratio"), "max_delist_ratio", "a ratio between 0 and 1, e.g. 0.2"));
    else
      s.max_delist_ratio = *r;
  }
  std::vector<std::string> names;
  for (const auto& f : s.fields) names.push_back(f.name);
  auto unknown_field = [&](const YAML::Node& where, const std::string& path, const std::string& name) {
    std::string msg = "no field named '" + name + "' (fields: " + join(names) + ")";
    std::string hint = did_you_mean(name, names);
    if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
    diags.add(doc.at(where, path, msg, root));
  };
  if (!s.field(s.key)) unknown_field(root["key"], "key", s.key);
  // A field that must exist and be of one of some types; false (with a diagnostic) when not.
  auto typed_field = [&](const YAML::Node& where, const std::string& path, const std::string& name,
                         std::initializer_list<FieldType> types) {
    const FieldRule* f = s.field(name);
    if (!f) {
      unknown_field(where, path, name);
      return false;
    }
    if (std::find(types.begin(), types.end(), f->type) != types.end()) return true;
    std::string expected;
    for (FieldType t : types) expected += std::string(expected.empty() ? "" : " or ") + std::string(to_string(t));
    diags.add(doc.at(where, path,
                     "field '" + name + "' is of type " + std::string(to_string(f->type)) + "; expected " + expected,
                     root));
    return false;
  };
  for (const auto& f : s.fields) {
    if (!f.currency_field.empty())
      typed_field(lookup(root, {"fields", f.name, "currency_field"}), "fields." + f.name + ".currency_field",
                  f.currency_field, {FieldType::string, FieldType::enumeration});
  }
  if (!s.feed.extra_field.empty() && s.field(s.feed.extra_field))
    diags.add(doc.at(feed.node("extra_columns"), "feed.extra_columns",
                     "'" + s.feed.extra_field + "' is already a mapped field; name a field of its own"));
  if (!s.feed.extra_field.empty() && s.feed.format != "csv")
    diags.add(doc.at(feed.node("extra_columns"), "feed.extra_columns", "applies only to format csv"));

  s.reject_duplicates = top.string("duplicates") == "reject";
  YAML::Node checks = top.node("checks");
  if (checks.IsSequence()) {
    for (std::size_t i = 0; i < checks.size(); ++i) {
      std::string path = "checks[" + std::to_string(i) + "]";
      if (!check_object(doc, checks[i], check_spec(), path, diags, checks)) continue;
      Settings c(checks[i], &check_spec());
      FieldCheck fc{c.string("left"), c.string("op"), c.string("right"), checks[i]};
      const std::initializer_list<FieldType> comparable = {FieldType::integer, FieldType::decimal, FieldType::money,
                                                           FieldType::date, FieldType::datetime};
      bool ok = typed_field(c.node("left"), path + ".left", fc.left, comparable);
      ok = typed_field(c.node("right"), path + ".right", fc.right, comparable) && ok;
      if (ok) {
        auto kind = [](FieldType t) {
          return t == FieldType::date || t == FieldType::datetime ? 1 : 0;  // instants vs numbers
        };
        if (kind(s.field(fc.left)->type) != kind(s.field(fc.right)->type))
          diags.add(doc.at(checks[i], path, "compares a date with a number"));
      }
      s.checks.push_back(std::move(fc));
    }
  }

  if (YAML::Node vn = top.node("variants"); vn.IsMap()) {
    Settings v(vn, &variants_spec());
    VariantSettings vs;
    vs.style = v.string("style");
    vs.group_field = v.string("group_field");
    vs.parent_field = v.string("parent_field");
    vs.parent_type_field = v.string("parent_type_field");
    vs.parent_types = v.string_list("parent_types");
    vs.inherit = v.string_list("inherit");
    vs.image_field = v.string("image_field");
    vs.images_field = v.string("images_field");
    vs.attach_image_rows = v.string("image_rows") == "attach";
    bool cont = vs.style == "continuation";
    static const std::vector<std::string> parent_only{"parent_field", "parent_type_field", "parent_types"};
    static const std::vector<std::string> continuation_only{"group_field", "image_field", "images_field", "image_rows"};
    for (const std::string& key : cont ? parent_only : continuation_only)
      if (v.has(key))
        diags.add(doc.at(v.node(key), std::string("variants.") + key, "does not apply to style " + vs.style));
    const char* required = cont ? "group_field" : "parent_field";
    if (!v.has(required))
      diags.add(doc.at(vn, std::string("variants.") + required, "style " + vs.style + " needs '" + required + "'", vn));
    if (v.has("parent_types") != v.has("parent_type_field"))
      diags.add(doc.at(vn, "variants", "parent_type_field and parent_types go together", vn));
    std::initializer_list<FieldType> any = {FieldType::string,   FieldType::integer,  FieldType::decimal,
                                            FieldType::boolean,  FieldType::url,      FieldType::enumeration,
                                            FieldType::money,    FieldType::gtin,     FieldType::date,
                                            FieldType::datetime, FieldType::interval, FieldType::list};
    static const std::vector<std::string> continuation_refs{"group_field", "image_field"};
    static const std::vector<std::string> parent_refs{"parent_field", "parent_type_field"};
    for (const std::string& key : cont ? continuation_refs : parent_refs)
      if (v.has(key)) typed_field(v.node(key), "variants." + key, v.string(key), any);
    if (v.has("images_field") && s.field(vs.images_field))
      diags.add(doc.at(v.node("images_field"), "variants.images_field",
                       "'" + vs.images_field + "' is already a mapped field; name a field of its own"));
    if (v.has("images_field") && !v.has("image_field"))
      diags.add(doc.at(v.node("images_field"), "variants.images_field", "needs variants.image_field"));
    YAML::Node inherit = v.node("inherit");
    for (std::size_t i = 0; i < vs.inherit.size(); ++i)
      typed_field(inherit[i], "variants.inherit[" + std::to_string(i) + "]", vs.inherit[i], any);
    s.variants = std::move(vs);
  }

  if (root["pricing"] && root["pricing"].IsMap()) {
    PricingSettings p;
    p.where = root["pricing"];
    Settings ps(root["pricing"], &pricing_spec());
    p.amount_field = ps.string("amount_field");
    p.category_field = ps.string("category_field");
    p.prices_include_tax = ps.boolean("prices_include_tax");
    p.rounding = parse_rounding(ps.string("rounding")).value_or(Rounding::half_up);
    if (const FieldRule* amount = s.field(p.amount_field)) {
      if (amount->type != FieldType::decimal && amount->type != FieldType::integer && amount->type != FieldType::money)
        diags.add(doc.at(ps.node("amount_field"), "pricing.amount_field",
                         "field '" + p.amount_field + "' must be of type decimal, money or int to be priced"));
    } else {
      unknown_field(ps.node("amount_field"), "pricing.amount_field", p.amount_field);
    }
    if (!p.category_field.empty() && !s.field(p.category_field))
      unknown_field(ps.node("category_field"), "pricing.category_field", p.category_field);
    p.country_field = ps.string("country_field");
    if (!p.country_field.empty() && !s.field(p.country_field))
      unknown_field(ps.node("country_field"), "pricing.country_field", p.country_field);
    p.quantity_field = ps.string("quantity_field");
    if (!p.quantity_field.empty())
      typed_field(ps.node("quantity_field"), "pricing.quantity_field", p.quantity_field, {FieldType::integer});
    p.key_field = s.key;

    auto currency_code = [&](const std::string& code, const YAML::Node& where, const std::string& path) {
      if (currency_exponent(code) >= 0) return true;
      diags.add(doc.at(where, path, "unknown currency '" + code + "' (expected an ISO 4217 code such as EUR or USD)"));
      return false;
    };
    p.currency = ps.has("currency") ? ps.string("currency") : s.currency;
    p.currency_exponent = s.currency_exponent;
    if (ps.has("currency") && currency_code(p.currency, ps.node("currency"), "pricing.currency"))
      p.currency_exponent = currency_exponent(p.currency);
    if (YAML::Node rates = ps.node("exchange_rates"); rates.IsMap()) {
      for (auto it = rates.begin(); it != rates.end(); ++it) {
        std::string path = "pricing.exchange_rates." + it->first.Scalar();
        currency_code(it->first.Scalar(), it->first, path);
        Decimal rate = *Decimal::parse(it->second.Scalar()).value;
        if (rate.signum() <= 0) diags.add(doc.at(it->second, path, "an exchange rate must be positive"));
        p.exchange_rates.emplace(it->first.Scalar(), rate);
      }
    }
    if (YAML::Node sale = ps.node("sale"); sale.IsMap()) {
      Settings ss(sale, pricing_spec().find("sale")->object);
      p.sale_field = ss.string("price_field");
      p.sale_window_field = ss.string("window_field");
      p.sale_start_field = ss.string("start_field");
      p.sale_end_field = ss.string("end_field");
      typed_field(ss.node("price_field"), "pricing.sale.price_field", p.sale_field,
                  {FieldType::decimal, FieldType::integer, FieldType::money});
      if (!p.sale_window_field.empty())
        typed_field(ss.node("window_field"), "pricing.sale.window_field", p.sale_window_field, {FieldType::interval});
      for (const char* key : {"start_field", "end_field"})
        if (ss.has(key))
          typed_field(ss.node(key), std::string("pricing.sale.") + key, ss.string(key),
                      {FieldType::date, FieldType::datetime});
      if (!p.sale_window_field.empty() && (ss.has("start_field") || ss.has("end_field")))
        diags.add(doc.at(ss.node("window_field"), "pricing.sale", "give window_field or start_field/end_field"));
    }
    p.floor = ps.decimal("floor");
    p.ceiling = ps.decimal("ceiling");
    if (p.floor && p.floor->signum() < 0)
      diags.add(doc.at(ps.node("floor"), "pricing.floor", "a floor cannot be negative"));
    if (p.floor && p.ceiling && *p.ceiling < *p.floor)
      diags.add(doc.at(ps.node("ceiling"), "pricing.ceiling", "ceiling is below floor"));
    if (YAML::Node ds = ps.node("discounts"); ds.IsSequence()) {
      for (std::size_t i = 0; i < ds.size(); ++i) {
        std::string path = "pricing.discounts[" + std::to_string(i) + "]";
        if (!check_object(doc, ds[i], discount_spec(), path, diags, ds)) continue;
        Settings d(ds[i], &discount_spec());
        Discount disc;
        disc.where = ds[i];
        disc.name = d.string("name");
        if (d.has("percent") == d.has("amount")) {
          diags.add(doc.at(ds[i], path, "a discount needs exactly one of 'percent' and 'amount'", ds));
          continue;
        }
        disc.percent = d.has("percent");
        disc.value = *d.decimal(disc.percent ? "percent" : "amount");
        if (disc.value.signum() < 0 || (disc.percent && Decimal::from_units(1, 0) < disc.value))
          diags.add(doc.at(d.node(disc.percent ? "percent" : "amount"), path,
                           disc.percent ? "a percent discount is a fraction between 0 and 1, e.g. 0.10 for 10%"
                                        : "a discount amount cannot be negative"));
        disc.categories = d.string_list("categories");
        if (!disc.categories.empty() && p.category_field.empty())
          diags.add(doc.at(d.node("categories"), path + ".categories", "needs pricing.category_field"));
        disc.sku_prefix = d.string("sku_prefix");
        if (d.has("min_quantity")) {
          disc.min_quantity = d.integer("min_quantity");
          if (p.quantity_field.empty())
            diags.add(doc.at(d.node("min_quantity"), path + ".min_quantity", "needs pricing.quantity_field"));
        }
        for (const char* key : {"from", "until"}) {
          if (!d.has(key)) continue;
          auto t = parse_datetime(d.string(key), 0,
                                  std::string_view(key) == "until" ? DateEnd::end_of_day : DateEnd::start_of_day);
          if (!t) {
            diags.add(doc.at(d.node(key), path + "." + key, "not a date or date-time: " + t.error));
            continue;
          }
          (std::string_view(key) == "from" ? disc.from : disc.until) = t.value->seconds;
        }
        if (disc.from && disc.until && *disc.until < *disc.from)
          diags.add(doc.at(d.node("until"), path + ".until", "'until' is before 'from': the discount never applies"));
        p.discounts.push_back(std::move(disc));
      }
    }
    Settings tax(ps.node("tax"), pricing_spec().find("tax")->object);
    p.default_tax_rate = tax.decimal("default").value_or(Decimal());
    auto check_rate = [&](const Decimal& rate, const YAML::Node& where, const std::string& path) {
      if (rate < Decimal() || Decimal::from_units(1, 0) < rate)
        diags.add(doc.at(where, path, "a tax rate is a fraction between 0 and 1, e.g. 0.20 for 20%"));
    };
    check_rate(p.default_tax_rate, tax.node("default"), "pricing.tax.default");
    // Rates by the value of some field: every rate checked, and the field must be configured.
    auto read_rates = [&](const std::string& noun, std::map<std::string, Decimal>& rates, const std::string& field) {
      YAML::Node by = tax.node("by_" + noun);
      if (!by.IsMap()) return;
      const std::string path = "pricing.tax.by_" + noun;
      for (auto it = by.begin(); it != by.end(); ++it) {
        Decimal rate = *Decimal::parse(it->second.Scalar()).value;
        check_rate(rate, it->second, path + "." + it->first.Scalar());
        rates.emplace(it->first.Scalar(), rate);
      }
      if (field.empty() && by.size() > 0)
        diags.add(doc.at(by, path, "rates by " + noun + " need pricing." + noun + "_field"));
    };
    read_rates("category", p.tax_by_category, p.category_field);
    read_rates("country", p.tax_by_country, p.country_field);
    s.pricing = std::move(p);
  }
  return s;
}

}  // namespace sluice
