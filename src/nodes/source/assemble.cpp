// Row assembly: continuation and image-only rows, parent rows, duplicate keys.
#include "nodes/source/assemble.hpp"

#include <algorithm>

#include "core/json_writer.hpp"

namespace sluice {

RowAssembler::RowAssembler(std::string node_id, const Supplier& supplier, Schema& schema)
    : id_(std::move(node_id)), supplier_(supplier) {
  key_ = schema.add(supplier.key);
  for (const auto& f : supplier.fields) mapped_.push_back(schema.add(f.name));
  active_ = supplier.reject_duplicates || supplier.variants.has_value();
  if (!supplier.variants) return;
  const VariantSettings& v = *supplier.variants;
  for (const auto& name : v.inherit) inherit_.push_back(schema.add(name));
  auto index = [&](const std::string& name) -> std::optional<std::size_t> {
    if (name.empty()) return std::nullopt;
    return schema.add(name);
  };
  group_field_ = index(v.group_field);
  image_field_ = index(v.image_field);
  images_field_ = index(v.images_field);
  parent_field_ = index(v.parent_field);
  parent_type_field_ = index(v.parent_type_field);
}

const std::string* RowAssembler::text(const Record& r, std::optional<std::size_t> i) {
  if (!i || *i >= r.values.size()) return nullptr;
  return std::get_if<std::string>(&r.values[*i]);
}

void RowAssembler::reject(Record& r, Batch& out, std::string code, std::string message) {
  out.rejects.push_back(Reject{r.line, id_, std::move(code), std::move(message), std::move(r.raw)});
}

void RowAssembler::emit(Record r, Batch& out) {
  if (supplier_.reject_duplicates) {
    if (const std::string* key = text(r, key_)) {
      auto [it, fresh] = seen_.emplace(*key, r.line);
      if (!fresh) {
        std::string shown;
        append_json_string(shown, *key);
        reject(r, out, "duplicate_key",
               "field '" + supplier_.key + "': key " + shown + " already appeared on line " +
                   std::to_string(it->second) + " (duplicates: reject)");
        return;
      }
    }
  }
  out.records.push_back(std::move(r));
}

void RowAssembler::inherit(Record& r, const std::vector<Value>& from) const {
  for (std::size_t i = 0; i < inherit_.size(); ++i)
    if (is_null(r.values[inherit_[i]])) r.values[inherit_[i]] = from[i];
}

bool RowAssembler::image_only(const Record& r) const {
  if (!image_field_ || is_null(r.values[*image_field_])) return false;
  return std::all_of(mapped_.begin(), mapped_.end(),
                     [&](std::size_t i) { return i == *group_field_ || i == *image_field_ || is_null(r.values[i]); });
}

void RowAssembler::flush_group(Batch& out) {
  if (group_.empty()) return;
  if (images_field_) {
    std::string json = "[";
    for (const auto& url : group_images_) {
      if (json.size() > 1) json.push_back(',');
      append_json_string(json, url);
    }
    json.push_back(']');
    for (auto& r : group_) r.values[*images_field_] = Json{json};
  }
  for (auto& r : group_) emit(std::move(r), out);
  group_.clear();
  group_images_.clear();
  group_value_.clear();
}

void RowAssembler::add(Record r, Batch& out) {
  if (!supplier_.variants) return emit(std::move(r), out);
  const VariantSettings& v = *supplier_.variants;

  if (v.style == "parent") {
    const std::string* type = text(r, parent_type_field_);
    const std::string* key = text(r, key_);
    if (type && key && std::find(v.parent_types.begin(), v.parent_types.end(), *type) != v.parent_types.end()) {
      std::vector<Value> values;
      for (std::size_t i : inherit_) values.push_back(r.values[i]);
      parents_[*key] = std::move(values);
      ++out.skipped;  // a parent is not a product of its own: its variations are
      return;
    }
    if (const std::string* parent = text(r, parent_field_)) {
      auto it = parents_.find(*parent);
      if (it == parents_.end()) {
        std::string shown;
        append_json_string(shown, *parent);
        return reject(r, out, "unknown_parent",
                      "field '" + v.parent_field + "': parent " + shown +
                          " is not a parent row earlier in the feed (parents must come before their variations)");
      }
      inherit(r, it->second);
    }
    return emit(std::move(r), out);
  }

  // continuation: a product's rows follow each other and share group_field.
  const std::string* group = text(r, group_field_);
  if (!group || group_.empty() || *group != group_value_) {
    flush_group(out);
    if (!group) return emit(std::move(r), out);  // validation says what is missing
    group_value_ = *group;
    if (const std::string* image = text(r, image_field_)) group_images_.push_back(*image);
    group_.push_back(std::move(r));
    return;
  }
  if (image_only(r)) {
    if (v.attach_image_rows) {
      const std::string& image = *text(r, image_field_);
      if (std::find(group_images_.begin(), group_images_.end(), image) == group_images_.end())
        group_images_.push_back(image);
    }
    ++out.skipped;  // an image row is not a product; attached, its image lives on in images_field
    return;
  }
  std::vector<Value> first;
  for (std::size_t i : inherit_) first.push_back(group_.front().values[i]);
  inherit(r, first);
  if (const std::string* image = text(r, image_field_))
    if (std::find(group_images_.begin(), group_images_.end(), *image) == group_images_.end())
      group_images_.push_back(*image);
  group_.push_back(std::move(r));
}

void RowAssembler::finish(Batch& out) {
  flush_group(out);
}

}  // namespace sluice
