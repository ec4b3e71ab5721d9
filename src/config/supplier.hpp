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

enum class FieldType { string, integer, decimal, boolean, url, enumeration };
std::string_view to_string(FieldType);

struct FieldRule {
  std::string name;    // field name in the record
  std::string column;  // header name in the feed
  FieldType type = FieldType::string;
  bool required = false;
  std::optional<Decimal> min, max;                     // numeric bounds, inclusive
  std::optional<std::int64_t> min_length, max_length;  // in characters (code points)
  std::vector<std::string> values;                     // for enumerations
  YAML::Node where;                                    // for positions in later diagnostics
};

struct FeedSettings {
  std::string format = "csv";
  char delimiter = ',';
  char quote = '"';
  char escape = '\0';
  std::string encoding = "utf-8";
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
  bool prices_include_tax = false;
  Decimal default_tax_rate;
  std::map<std::string, Decimal> tax_by_category;
  Rounding rounding = Rounding::half_up;
  YAML::Node where;
};

struct ImagePolicy {
  bool reject_on_failure = true;            // else the record is kept without an image
  std::vector<std::string> allow_networks;  // CIDRs downloads may reach despite the private-address guard
};

struct Supplier {
  std::string name;
  std::string currency;
  int currency_exponent = 2;
  std::string key;                          // the field that identifies a product
  std::string mode = "batch";               // batch: each batch commits; atomic: the whole run or nothing
  std::optional<std::int64_t> max_rejects;  // error budget: more rejects stop the run
  std::optional<Decimal> max_reject_ratio;  // error budget: rejected / read above this fails the run
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
