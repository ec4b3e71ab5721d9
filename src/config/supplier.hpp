// The supplier file: what differs per supplier (feed dialect, column mapping, field rules, pricing).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "config/spec.hpp"
#include "core/decimal.hpp"
#include "core/money.hpp"

namespace sluice {

enum class FieldType {
  string,
  integer,
  decimal,
  boolean,
  url,
  enumeration,
  money,
  gtin,
  date,
  datetime,
  interval,
  list
};
std::string_view to_string(FieldType);

struct FieldRule {
  std::string name;    // field name in the record
  std::string column;  // header name in the feed
  FieldType type = FieldType::string;
  bool required = false;
  std::optional<Decimal> min, max;                       // numeric bounds, inclusive
  std::optional<std::int64_t> min_length, max_length;    // in characters (code points)
  std::vector<std::string> values;                       // for enumerations
  std::vector<std::pair<std::string, std::string>> map;  // feed value -> canonical value, before checks
  std::vector<std::string> aliases;                      // other header names the column may have
  std::vector<std::string> null_values;                  // this column's texts for 'no value', beside the feed's
  std::string pattern;                                   // RE2, whole value must match
  std::string currency_field;                            // money: field holding the currency code
  std::string default_currency;                          // money: when currency_field is empty; else rejected
  char separator = ',';                                  // list: between items
  FieldType items = FieldType::string;                   // list: string or url
  std::optional<std::int32_t> zone_offset;               // date/datetime: zone of values without one, seconds
  bool end_of_day = false;                               // date: the value means the day's last second
  YAML::Node where;                                      // for positions in later diagnostics
};

// A comparison between two fields of a row, e.g. sale_price <= price; skipped when either is empty.
struct FieldCheck {
  std::string left, op, right;
  YAML::Node where;
};

// How rows that belong together are put together before validation.
struct VariantSettings {
  std::string style;                      // "continuation" (Shopify Handle) or "parent" (WooCommerce Parent SKU)
  std::string group_field;                // continuation: field shared by a product's rows
  std::string parent_field;               // parent: field naming the parent row's key
  std::string parent_type_field;          // parent: field that marks parent rows ...
  std::vector<std::string> parent_types;  // ... with one of these values; they are remembered, not imported
  std::vector<std::string> inherit;       // fields a row takes from its product's first row (or parent) when empty
  std::string image_field;                // continuation: the row's image
  std::string images_field;               // continuation: gets the group's images as a JSON list
  bool attach_image_rows = true;          // continuation: image-only rows add their image to the group; else skipped
};

// A discount applied to the amount before tax, in list order, when all its conditions hold.
struct Discount {
  std::string name;
  bool percent = true;  // else a fixed amount in the pricing currency
  Decimal value;        // percent: fraction (0.10 = 10 %); fixed: major units
  std::vector<std::string> categories;
  std::string sku_prefix;
  std::optional<std::int64_t> min_quantity;
  std::optional<std::int64_t> from, until;  // seconds since the epoch, inclusive window
  YAML::Node where;
};

struct FeedSettings {
  std::string format = "csv";
  char delimiter = ',';
  char quote = '"';
  char escape = '\0';
  std::string encoding = "utf-8";
  bool loose_headers = false;        // match headers ignoring case, '_' vs ' ', and "Label [name]" forms
  bool header_row = true;            // csv: the first row names the columns; else `columns` does
  std::vector<std::string> columns;  // csv without a header row: the names of its columns, in order
  std::string extra_field;           // unmapped columns go into this field as a JSON object; empty: dropped
  char decimal_separator = '.';
  char thousands_separator = '\0';
  std::vector<std::string> null_values;
  bool trim = false;
  std::int64_t max_field_bytes = 0;
  std::int64_t max_record_bytes = 0;
};

struct PricingSettings {
  std::string amount_field;
  std::string category_field;  // empty: every row gets the default rate
  std::string country_field;   // empty: no rates by country
  std::string quantity_field;  // for discounts with min_quantity
  std::string key_field;       // for discounts with sku_prefix
  bool prices_include_tax = false;
  Decimal default_tax_rate;
  std::map<std::string, Decimal> tax_by_category;
  std::map<std::string, Decimal> tax_by_country;  // wins over the category rate
  std::string currency;                           // prices are converted into this; default the supplier's
  int currency_exponent = 2;
  std::map<std::string, Decimal> exchange_rates;  // 1 unit of the key currency = rate units of `currency`
  std::string sale_field;                         // sale price, used when lower and its window holds
  std::string sale_window_field;                  // interval field
  std::string sale_start_field, sale_end_field;   // date/datetime fields
  std::vector<Discount> discounts;
  std::optional<Decimal> floor, ceiling;  // bounds of the amount after sale and discounts
  Rounding rounding = Rounding::half_up;
  YAML::Node where;
};

struct ImagePolicy {
  bool reject_on_failure = true;            // else the record is kept without an image
  std::vector<std::string> allow_networks;  // CIDRs downloads may reach despite the private-address guard
};

struct Supplier {
  std::string name;
  bool defaulted = false;  // no supplier file: the name is the graph file's, every rule its default
  std::string currency;
  int currency_exponent = 2;
  std::string key;                          // the field that identifies a product
  std::string mode = "batch";               // batch: each batch commits; atomic: the whole run or nothing
  std::optional<std::int64_t> max_rejects;  // error budget: more rejects stop the run
  std::optional<Decimal> max_reject_ratio;  // error budget: rejected / read above this fails the run
  bool reject_duplicates = false;           // a key seen earlier in the run rejects the row; else last wins
  bool full_sync = false;                   // the feed is the whole catalogue: products it lacks are delisted
  Decimal max_delist_ratio = Decimal::from_units(2, 1);  // a full sync delisting more of the listed ones refuses
  std::vector<FieldCheck> checks;
  std::optional<VariantSettings> variants;
  FeedSettings feed;
  std::vector<FieldRule> fields;
  std::optional<PricingSettings> pricing;
  ImagePolicy images;

  const FieldRule* field(std::string_view field_name) const;
};

const ObjectSpec& supplier_spec();

// Checks a loaded supplier document and turns it into a Supplier. Every problem goes to diags;
// the result is meaningful only when no diagnostic was added.
Supplier read_supplier(const Document& doc, Diagnostics& diags);

}  // namespace sluice
