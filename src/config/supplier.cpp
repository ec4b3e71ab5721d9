// Spec and reader of supplier files.
#include "config/supplier.hpp"

#include <algorithm>
#include <limits>

#include "core/currency.hpp"

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
      {"encoding", Kind::choice, "character encoding of the feed", false, "utf-8", {}, {}, {"utf-8"}},
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
       {"string", "int", "decimal", "bool", "url", "enum"}},
      {"required", Kind::boolean, "an empty or missing value rejects the row", false, "false"},
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
  }};
  static const ObjectSpec spec{{
      {"amount_field", Kind::string, "decimal field that holds the price", true},
      {"category_field", Kind::string, "field whose value selects the tax rate"},
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
  std::size_t before = diags.size();
  check_object(doc, root, supplier_spec(), "", diags);
  if (diags.size() != before || !root.IsMap()) return s;

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
    Settings f(it->second, &field_rule_spec());
    r.column = f.string("column");
    std::string type = f.string("type");
    r.type = type == "int"       ? FieldType::integer
             : type == "decimal" ? FieldType::decimal
             : type == "bool"    ? FieldType::boolean
             : type == "url"     ? FieldType::url
             : type == "enum"    ? FieldType::enumeration
                                 : FieldType::string;
    r.required = f.boolean("required");
    r.min = f.decimal("min");
    r.max = f.decimal("max");
    if (f.has("min_length")) r.min_length = f.integer("min_length");
    if (f.has("max_length")) r.max_length = f.integer("max_length");
    r.values = f.string_list("values");
    bool numeric = r.type == FieldType::integer || r.type == FieldType::decimal;
    if ((r.min || r.max) && !numeric)
      diags.add(doc.at(f.node(r.min ? "min" : "max"), path, "min and max apply only to int and decimal fields"));
    if (r.min && r.max && *r.max < *r.min) diags.add(doc.at(f.node("max"), path + ".max", "max is smaller than min"));
    if (r.type == FieldType::enumeration && r.values.empty())
      diags.add(doc.at(it->second, path, "an enum field needs a non-empty 'values' list", it->first));
    if (r.type != FieldType::enumeration && !r.values.empty())
      diags.add(doc.at(f.node("values"), path + ".values", "'values' applies only to enum fields"));
    if (r.min_length && r.max_length && *r.max_length < *r.min_length)
      diags.add(doc.at(f.node("max_length"), path + ".max_length", "max_length is smaller than min_length"));
    if (std::find(columns_seen.begin(), columns_seen.end(), r.column) != columns_seen.end())
      diags.add(
          doc.at(f.node("column"), path + ".column", "column '" + r.column + "' is already mapped to another field"));
    columns_seen.push_back(r.column);
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
  std::vector<std::string> names;
  for (const auto& f : s.fields) names.push_back(f.name);
  auto unknown_field = [&](const YAML::Node& where, const std::string& path, const std::string& name) {
    std::string msg = "no field named '" + name + "' (fields: " + join(names) + ")";
    std::string hint = did_you_mean(name, names);
    if (!hint.empty()) msg += " (did you mean '" + hint + "'?)";
    diags.add(doc.at(where, path, msg, root));
  };
  if (!s.field(s.key)) unknown_field(root["key"], "key", s.key);

  if (root["pricing"] && root["pricing"].IsMap()) {
    PricingSettings p;
    p.where = root["pricing"];
    Settings ps(root["pricing"], &pricing_spec());
    p.amount_field = ps.string("amount_field");
    p.category_field = ps.string("category_field");
    p.prices_include_tax = ps.boolean("prices_include_tax");
    p.rounding = parse_rounding(ps.string("rounding")).value_or(Rounding::half_up);
    if (const FieldRule* amount = s.field(p.amount_field)) {
      if (amount->type != FieldType::decimal && amount->type != FieldType::integer)
        diags.add(doc.at(ps.node("amount_field"), "pricing.amount_field",
                         "field '" + p.amount_field + "' must be of type decimal or int to be priced"));
    } else {
      unknown_field(ps.node("amount_field"), "pricing.amount_field", p.amount_field);
    }
    if (!p.category_field.empty() && !s.field(p.category_field))
      unknown_field(ps.node("category_field"), "pricing.category_field", p.category_field);
    Settings tax(ps.node("tax"), pricing_spec().find("tax")->object);
    p.default_tax_rate = tax.decimal("default").value_or(Decimal());
    auto check_rate = [&](const Decimal& rate, const YAML::Node& where, const std::string& path) {
      if (rate < Decimal() || Decimal::from_units(1, 0) < rate)
        diags.add(doc.at(where, path, "a tax rate is a fraction between 0 and 1, e.g. 0.20 for 20%"));
    };
    check_rate(p.default_tax_rate, tax.node("default"), "pricing.tax.default");
    YAML::Node by = tax.node("by_category");
    if (by.IsMap()) {
      for (auto it = by.begin(); it != by.end(); ++it) {
        Decimal rate = *Decimal::parse(it->second.Scalar()).value;
        check_rate(rate, it->second, "pricing.tax.by_category." + it->first.Scalar());
        p.tax_by_category.emplace(it->first.Scalar(), rate);
      }
      if (p.category_field.empty() && by.size() > 0)
        diags.add(doc.at(by, "pricing.tax.by_category", "rates by category need pricing.category_field"));
    }
    s.pricing = std::move(p);
  }
  return s;
}

}  // namespace sluice
