// price: exact net, tax and gross in the currency's minor units.
#include "nodes/transform/price.hpp"

#include "core/money.hpp"

namespace sluice {
namespace {

const ObjectSpec& spec() {
  static const ObjectSpec s{{
      {"prefix", Kind::string, "prefix of the output fields <prefix>net_minor, <prefix>tax_minor, ...", false, "''"},
  }};
  return s;
}

class Price final : public TransformNode {
 public:
  Price(std::string id, const Supplier& supplier, const PricingSettings& pricing, const std::string& prefix,
        Schema& schema)
      : id_(std::move(id)), supplier_(supplier), pricing_(pricing) {
    amount_ = schema.add(pricing.amount_field);
    if (!pricing.category_field.empty()) category_ = schema.add(pricing.category_field);
    net_ = schema.add(prefix + "net_minor");
    tax_ = schema.add(prefix + "tax_minor");
    gross_ = schema.add(prefix + "gross_minor");
    rate_ = schema.add(prefix + "tax_rate");
    currency_ = schema.add(prefix + "currency");
  }

  void process(Batch& batch) override {
    batch.filter(id_, [&](Record& r) { return price(r); });
  }

 private:
  std::optional<RejectReason> price(Record& r) const {
    const Value& amount_value = r.values[amount_];
    Decimal amount;
    if (const auto* d = std::get_if<Decimal>(&amount_value)) {
      amount = *d;
    } else if (const auto* i = std::get_if<std::int64_t>(&amount_value)) {
      amount = Decimal::from_units(*i, 0);
    } else if (const auto* s = std::get_if<std::string>(&amount_value)) {
      auto parsed = Decimal::parse(*s, supplier_.feed.decimal_separator, supplier_.feed.thousands_separator);
      if (!parsed.value)
        return RejectReason{"price", "field '" + pricing_.amount_field + "' is not a decimal number: " + parsed.error};
      amount = *parsed.value;
    } else {
      return RejectReason{"price", "field '" + pricing_.amount_field + "' is empty: nothing to price"};
    }

    Decimal rate = pricing_.default_tax_rate;
    if (category_) {
      if (const auto* c = std::get_if<std::string>(&r.values[*category_])) {
        auto it = pricing_.tax_by_category.find(*c);
        if (it != pricing_.tax_by_category.end()) rate = it->second;
      }
    }
    auto result =
        compute_price(amount, rate, supplier_.currency_exponent, pricing_.rounding, pricing_.prices_include_tax);
    if (!result.value)
      return RejectReason{"price",
                          "cannot price " + amount.to_string() + " " + supplier_.currency + ": " + result.error};
    r.values[net_] = result.value->net_minor;
    r.values[tax_] = result.value->tax_minor;
    r.values[gross_] = result.value->gross_minor;
    r.values[rate_] = rate;
    r.values[currency_] = supplier_.currency;
    return std::nullopt;
  }

  std::string id_;
  const Supplier& supplier_;
  const PricingSettings& pricing_;
  std::size_t amount_, net_, tax_, gross_, rate_, currency_;
  std::optional<std::size_t> category_;
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
      "Prices each row exactly from the supplier's `pricing` section: tax rate by category (or the default), "
      "tax-inclusive or exclusive prices, rounding to the currency's minor unit. Adds net_minor, tax_minor, "
      "gross_minor (integers in minor units, net + tax = gross), tax_rate and currency.",
      &spec,
      "id: price\ntype: price\n",
      &make,
  };
  return type;
}

}  // namespace sluice
