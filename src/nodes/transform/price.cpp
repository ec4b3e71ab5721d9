// price: exact net, tax and gross in the currency's minor units.
#include "nodes/transform/price.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/datetime.hpp"
#include "core/json_writer.hpp"
#include "core/money.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"prefix", Kind::string, "prefix of the output fields <prefix>net_minor, <prefix>tax_minor, ...", false, "''"},
  }};
  return s;
}

// Instants in rows are canonical UTC texts ("2026-02-24T10:07:00Z"), which validate produced.
std::optional<std::int64_t> instant(const Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  if (!s) return std::nullopt;
  auto t = parse_datetime(*s);
  if (!t) return std::nullopt;
  return t.value->seconds;
}

std::optional<Decimal> number(const Value& v) {
  if (const auto* d = std::get_if<Decimal>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return Decimal::from_units(*i, 0);
  return std::nullopt;
}

class Price final : public TransformNode {
 public:
  Price(std::string id, const Supplier& supplier, const PricingSettings& pricing, const std::string& prefix,
        Schema& schema)
      : id_(std::move(id)), supplier_(supplier), pricing_(pricing) {
    auto optional_index = [&](const std::string& name) -> std::optional<std::size_t> {
      if (name.empty()) return std::nullopt;
      return schema.add(name);
    };
    amount_ = schema.add(pricing.amount_field);
    category_ = optional_index(pricing.category_field);
    country_ = optional_index(pricing.country_field);
    quantity_ = optional_index(pricing.quantity_field);
    key_ = schema.add(pricing.key_field.empty() ? supplier.key : pricing.key_field);
    sale_ = optional_index(pricing.sale_field);
    sale_window_ = optional_index(pricing.sale_window_field);
    sale_start_ = optional_index(pricing.sale_start_field);
    sale_end_ = optional_index(pricing.sale_end_field);
    auto money = [&](const std::string& field) -> std::optional<std::size_t> {
      const FieldRule* f = supplier.field(field);
      if (!f || f->type != FieldType::money) return std::nullopt;
      return schema.add(field + "_currency");
    };
    amount_currency_ = money(pricing.amount_field);
    if (!pricing.sale_field.empty()) sale_currency_ = money(pricing.sale_field);
    net_ = schema.add(prefix + "net_minor", ValueKind::integer);
    tax_ = schema.add(prefix + "tax_minor", ValueKind::integer);
    gross_ = schema.add(prefix + "gross_minor", ValueKind::integer);
    rate_ = schema.add(prefix + "tax_rate", ValueKind::decimal);
    currency_ = schema.add(prefix + "currency", ValueKind::text);
    adjusts_ = sale_ || !pricing.discounts.empty() || pricing.floor || pricing.ceiling ||
               !pricing.exchange_rates.empty() || pricing.currency != supplier.currency;
    if (adjusts_) {
      list_ = schema.add(prefix + "list_minor", ValueKind::integer);
      rules_ = schema.add(prefix + "price_rules", ValueKind::json);
    }
  }

  void open(const RunContext& ctx) override { as_of_ = ctx.as_of; }

  void process(Batch& batch) override {
    batch.filter(id_, [&](Record& r) {
      try {
        return price(r);
      } catch (const std::overflow_error& e) {  // exact Decimal arithmetic that no longer fits
        return std::optional<RejectReason>(RejectReason{"price", std::string("price overflow: ") + e.what()});
      }
    });
  }

 private:
  // The amount in the pricing currency, exactly; a reason when it cannot be converted.
  std::optional<RejectReason> convert(Decimal& amount, const Record& r, std::optional<std::size_t> currency_index,
                                      const std::string& field) const {
    std::string from = supplier_.currency;
    if (currency_index) {
      // A money field's currency is what validate read with it; without one (a graph that prices
      // before validating) the supplier's currency would be a guess, and a wrong one is silent.
      const auto* c = std::get_if<std::string>(&r.values[*currency_index]);
      if (!c || c->empty())
        return RejectReason{"currency", "field '" + field + "' is money but has no currency: validate it before price"};
      from = *c;
    }
    if (from == pricing_.currency) return std::nullopt;
    auto it = pricing_.exchange_rates.find(from);
    if (it == pricing_.exchange_rates.end())
      return RejectReason{"currency", "field '" + field + "' is in " + from + ", and pricing.exchange_rates has no " +
                                          "rate from " + from + " to " + pricing_.currency};
    amount = amount * it->second;
    return std::nullopt;
  }

  bool sale_holds(const Record& r) const {
    if (sale_window_) {
      const auto* w = std::get_if<std::string>(&r.values[*sale_window_]);
      if (!w) return true;  // a sale price without a window holds
      auto slash = w->find('/');
      auto start = parse_datetime(w->substr(0, slash)), end = parse_datetime(w->substr(slash + 1));
      return start && end && start->seconds <= as_of_ && as_of_ <= end->seconds;
    }
    if (sale_start_)
      if (auto t = instant(r.values[*sale_start_]); t && as_of_ < *t) return false;
    if (sale_end_)
      if (auto t = instant(r.values[*sale_end_]); t && *t < as_of_) return false;
    return true;
  }

  bool discount_applies(const Discount& d, const Record& r) const {
    if (d.from && as_of_ < *d.from) return false;
    if (d.until && *d.until < as_of_) return false;
    if (!d.categories.empty()) {
      const auto* c = category_ ? std::get_if<std::string>(&r.values[*category_]) : nullptr;
      if (!c || std::find(d.categories.begin(), d.categories.end(), *c) == d.categories.end()) return false;
    }
    if (!d.sku_prefix.empty()) {
      std::string key = value_text(r.values[key_]);
      if (key.rfind(d.sku_prefix, 0) != 0) return false;
    }
    if (d.min_quantity) {
      const auto* q = quantity_ ? std::get_if<std::int64_t>(&r.values[*quantity_]) : nullptr;
      if (!q || *q < *d.min_quantity) return false;
    }
    return true;
  }

  std::optional<RejectReason> price(Record& r) const {
    const Value& amount_value = r.values[amount_];
    Decimal amount;
    if (auto n = number(amount_value)) {
      amount = *n;
    } else if (const auto* s = std::get_if<std::string>(&amount_value)) {
      auto parsed = Decimal::parse(*s, supplier_.feed.decimal_separator, supplier_.feed.thousands_separator);
      if (!parsed.value)
        return RejectReason{"price", "field '" + pricing_.amount_field + "' is not a decimal number: " + parsed.error};
      amount = *parsed.value;
    } else {
      return RejectReason{"price", "field '" + pricing_.amount_field + "' is empty: nothing to price"};
    }
    if (amount.signum() < 0)
      return RejectReason{"price", "field '" + pricing_.amount_field + "' is negative: " + amount.to_string()};
    if (auto why = convert(amount, r, amount_currency_, pricing_.amount_field)) return why;
    const Decimal list = amount;

    std::string rules = "[";
    auto applied = [&](std::string_view name) {
      if (rules.size() > 1) rules.push_back(',');
      append_json_string(rules, name);
    };
    if (sale_) {
      if (auto sale = number(r.values[*sale_]); sale && sale_holds(r)) {
        Decimal converted = *sale;
        if (auto why = convert(converted, r, sale_currency_, pricing_.sale_field)) return why;
        if (converted < amount) {
          amount = converted;
          applied("sale");
        }
      }
    }
    for (const auto& d : pricing_.discounts) {
      if (!discount_applies(d, r)) continue;
      if (d.percent)
        amount = amount * (Decimal::from_units(1, 0) - d.value);
      else
        amount = d.value < amount ? amount - d.value : Decimal();
      applied(d.name);
    }
    if (pricing_.floor && amount < *pricing_.floor) {
      amount = *pricing_.floor;
      applied("floor");
    }
    if (pricing_.ceiling && *pricing_.ceiling < amount) {
      amount = *pricing_.ceiling;
      applied("ceiling");
    }

    Decimal rate = pricing_.default_tax_rate;
    if (category_) {
      if (const auto* c = std::get_if<std::string>(&r.values[*category_])) {
        auto it = pricing_.tax_by_category.find(*c);
        if (it != pricing_.tax_by_category.end()) rate = it->second;
      }
    }
    if (country_) {
      if (const auto* c = std::get_if<std::string>(&r.values[*country_])) {
        auto it = pricing_.tax_by_country.find(*c);
        if (it != pricing_.tax_by_country.end()) rate = it->second;
      }
    }
    auto result =
        compute_price(amount, rate, pricing_.currency_exponent, pricing_.rounding, pricing_.prices_include_tax);
    if (!result.value)
      return RejectReason{"price",
                          "cannot price " + amount.to_string() + " " + pricing_.currency + ": " + result.error};
    r.values[net_] = result.value->net_minor;
    r.values[tax_] = result.value->tax_minor;
    r.values[gross_] = result.value->gross_minor;
    r.values[rate_] = rate;
    r.values[currency_] = pricing_.currency;
    if (adjusts_) {
      // The list price in minor units, rounded once, like the computed price.
      auto listed = compute_price(list, Decimal(), pricing_.currency_exponent, pricing_.rounding, false);
      if (listed.value) r.values[*list_] = listed.value->net_minor;
      r.values[*rules_] = Json{rules + "]"};
    }
    return std::nullopt;
  }

  std::string id_;
  const Supplier& supplier_;
  const PricingSettings& pricing_;
  std::size_t amount_, key_, net_, tax_, gross_, rate_, currency_;
  std::optional<std::size_t> category_, country_, quantity_, sale_, sale_window_, sale_start_, sale_end_;
  std::optional<std::size_t> amount_currency_, sale_currency_, list_, rules_;
  bool adjusts_ = false;
  std::int64_t as_of_ = 0;
};

NodeBody make(NodeBuildContext& ctx) {
  if (!ctx.supplier.pricing) {
    ctx.error(ctx.entry.settings["type"], "type",
              "a price node needs a 'pricing' section in the supplier file " + ctx.supplier_doc.name());
    return {};
  }
  return std::make_unique<Price>(ctx.entry.id, ctx.supplier, *ctx.supplier.pricing, ctx.settings.string("prefix"),
                                 ctx.schema);
}

}  // namespace

const NodeType& price_type() {
  static const NodeType type{
      "price",
      NodeRole::transform,
      true,
      "Prices each row exactly from the supplier's `pricing` section: conversion into pricing's currency at the "
      "configured rates, the sale price while its window holds, ordered discounts (percent or amount; by category, "
      "key prefix, quantity, date window), floor and ceiling, tax rate by country, category or the default, "
      "tax-inclusive or exclusive prices, one rounding to the currency's minor unit. Adds net_minor, tax_minor, "
      "gross_minor (integers in minor units, net + tax = gross), tax_rate and currency; with any of the "
      "adjustments also list_minor and price_rules (what applied, in order).",
      &spec,
      "id: price\ntype: price\n",
      &make,
  };
  return type;
}

}  // namespace sluice
