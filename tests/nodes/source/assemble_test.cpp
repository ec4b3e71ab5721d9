// RowAssembler: continuation groups and image-only rows, parent rows, duplicate keys, and that every row comes
// out exactly once.
#include "nodes/source/assemble.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/json_writer.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

using Cells = std::map<std::string, std::string>;

// A RowAssembler on a schema laid out like a source's: the supplier's fields first.
class Assembly {
 public:
  explicit Assembly(const std::string& yaml)
      : supplier_(test::load_supplier(yaml)),
        schema_(source_schema(supplier_->supplier)),
        assembler_("read", supplier_->supplier, schema_) {
    EXPECT_TRUE(supplier_->diags.empty()) << supplier_->diags.format();
  }

  // A mapped row with its values still as text; raw holds the cells in field order.
  Record row(std::uint64_t line, const Cells& cells) const {
    Record r;
    r.line = line;
    r.values.resize(schema_.size());
    for (const auto& [name, text] : cells) {
      auto i = schema_.find(name);
      if (!i) throw std::runtime_error("no field " + name);
      if (!text.empty()) r.values[*i] = text;
    }
    for (const auto& f : supplier_->supplier.fields) {
      auto it = cells.find(f.name);
      r.raw.push_back(it == cells.end() ? "" : it->second);
    }
    return r;
  }

  void add(std::uint64_t line, const Cells& cells, Batch& batch) { assembler_.add(row(line, cells), batch); }
  void add(std::uint64_t line, const Cells& cells) { add(line, cells, out); }
  void finish() { assembler_.finish(out); }

  RowAssembler& assembler() { return assembler_; }

  // The field's text, "" for null; JSON text for lists.
  std::string text(const Record& r, const std::string& name) const {
    return value_text(r.values.at(*schema_.find(name)));
  }
  bool null(const Record& r, const std::string& name) const { return is_null(r.values.at(*schema_.find(name))); }
  std::string json(const Record& r, const std::string& name) const {
    return std::get<Json>(r.values.at(*schema_.find(name))).text;
  }

  std::vector<std::uint64_t> lines() const {
    std::vector<std::uint64_t> out_lines;
    for (const auto& r : out.records) out_lines.push_back(r.line);
    return out_lines;
  }

  Batch out;

 private:
  static Schema source_schema(const Supplier& s) {
    Schema schema;
    for (const auto& f : s.fields) schema.add(f.name);
    return schema;
  }

  std::unique_ptr<test::SupplierFixture> supplier_;
  Schema schema_;
  RowAssembler assembler_;
};

std::string continuation_yaml(const std::string& image_rows) {
  return R"(supplier: shop
currency: USD
fields:
  handle: {column: Handle}
  sku: {column: Variant SKU}
  title: {column: Title}
  vendor: {column: Vendor}
  size: {column: Option1 Value}
  image: {column: Image Src}
variants:
  style: continuation
  group_field: handle
  inherit: [title, vendor]
  image_field: image
  images_field: images
  image_rows: )" +
         image_rows + "\n";
}

const char* kImg1 = "https://img.example/1.jpg";
const char* kImg2 = "https://img.example/2.jpg";
const char* kImg3 = "https://img.example/3.jpg";

TEST(AssembleContinuation, GroupsRowsInheritsAndCollectsImages) {
  Assembly a(continuation_yaml("attach"));
  ASSERT_TRUE(a.assembler().active());
  a.add(2,
        {{"handle", "tee"}, {"sku", "TEE-S"}, {"title", "Tee"}, {"vendor", "Acme"}, {"size", "S"}, {"image", kImg1}});
  a.add(3, {{"handle", "tee"}, {"sku", "TEE-M"}, {"vendor", "Other"}, {"size", "M"}});
  a.add(4, {{"handle", "tee"}, {"image", kImg2}});  // image-only
  a.add(5, {{"handle", "tee"}, {"image", kImg1}});  // image-only, an image the group has
  a.add(6, {{"handle", "tee"}, {"sku", "TEE-L"}, {"image", kImg3}});
  a.add(7, {{"handle", "tee"}, {"sku", "TEE-XL"}, {"image", kImg2}});
  // The group is held until the next group starts.
  EXPECT_TRUE(a.out.records.empty());
  EXPECT_EQ(a.assembler().held(), 4u);
  EXPECT_EQ(a.out.skipped, 2u);

  a.add(8, {{"handle", "mug"}, {"sku", "MUG"}, {"title", "Mug"}, {"vendor", "Acme"}});
  EXPECT_EQ(a.assembler().held(), 1u);
  ASSERT_EQ(a.lines(), (std::vector<std::uint64_t>{2, 3, 6, 7}));
  const std::string images = std::string("[\"") + kImg1 + "\",\"" + kImg2 + "\",\"" + kImg3 + "\"]";
  for (const auto& r : a.out.records) EXPECT_EQ(a.json(r, "images"), images) << "line " << r.line;

  const auto& rec = a.out.records;
  EXPECT_EQ(a.text(rec[0], "title"), "Tee");
  EXPECT_EQ(a.text(rec[0], "vendor"), "Acme");
  EXPECT_EQ(a.text(rec[1], "title"), "Tee");     // inherited when empty
  EXPECT_EQ(a.text(rec[1], "vendor"), "Other");  // kept when set
  EXPECT_TRUE(a.null(rec[1], "image"));          // not an inherited field
  EXPECT_EQ(a.text(rec[2], "vendor"), "Acme");
  EXPECT_EQ(a.text(rec[2], "size"), "");
  EXPECT_EQ(a.text(rec[3], "image"), kImg2);

  a.finish();
  EXPECT_EQ(a.assembler().held(), 0u);
  ASSERT_EQ(a.lines(), (std::vector<std::uint64_t>{2, 3, 6, 7, 8}));
  EXPECT_EQ(a.json(a.out.records[4], "images"), "[]");
  EXPECT_EQ(a.text(a.out.records[4], "title"), "Mug");
  EXPECT_TRUE(a.out.rejects.empty());
  EXPECT_EQ(a.out.records.size() + a.out.rejects.size() + a.out.skipped, 7u);
}

TEST(AssembleContinuation, SkippedImageRowsAreNotAttached) {
  Assembly a(continuation_yaml("skip"));
  a.add(2, {{"handle", "tee"}, {"sku", "TEE-S"}, {"title", "Tee"}, {"image", kImg1}});
  a.add(3, {{"handle", "tee"}, {"image", kImg2}});
  a.add(4, {{"handle", "tee"}, {"sku", "TEE-M"}, {"image", kImg3}});
  a.finish();
  ASSERT_EQ(a.lines(), (std::vector<std::uint64_t>{2, 4}));
  EXPECT_EQ(a.out.skipped, 1u);
  const std::string images = std::string("[\"") + kImg1 + "\",\"" + kImg3 + "\"]";
  for (const auto& r : a.out.records) EXPECT_EQ(a.json(r, "images"), images);
}

TEST(AssembleContinuation, AGroupIsHeldAcrossBatches) {
  Assembly a(continuation_yaml("attach"));
  Batch first, second, third;
  a.add(2, {{"handle", "tee"}, {"sku", "TEE-S"}, {"title", "Tee"}}, first);
  a.add(3, {{"handle", "tee"}, {"image", kImg1}}, first);
  EXPECT_TRUE(first.records.empty());
  EXPECT_EQ(first.skipped, 1u);
  a.add(4, {{"handle", "tee"}, {"sku", "TEE-M"}}, second);
  EXPECT_TRUE(second.records.empty());
  a.add(5, {{"handle", "cap"}, {"sku", "CAP"}}, third);
  ASSERT_EQ(third.records.size(), 2u);  // the whole group lands in the batch where it ended
  EXPECT_EQ(third.records[0].line, 2u);
  EXPECT_EQ(third.records[1].line, 4u);
  EXPECT_EQ(a.json(third.records[1], "images"), std::string("[\"") + kImg1 + "\"]");
  EXPECT_EQ(a.text(third.records[1], "title"), "Tee");
  EXPECT_EQ(a.assembler().held(), 1u);
}

TEST(AssembleContinuation, GroupsAreRunsOfAdjacentRows) {
  Assembly a(continuation_yaml("attach"));
  a.add(2, {{"handle", "tee"}, {"sku", "TEE-S"}, {"title", "Tee"}});
  a.add(3, {{"handle", "mug"}, {"sku", "MUG"}, {"title", "Mug"}});
  a.add(4, {{"handle", "tee"}, {"sku", "TEE-M"}});   // starts a new group: nothing to inherit from
  a.add(5, {{"sku", "LOOSE"}, {"title", "Loose"}});  // no group value: passed on as it is
  a.finish();
  ASSERT_EQ(a.lines(), (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_TRUE(a.null(a.out.records[2], "title"));
  EXPECT_EQ(a.text(a.out.records[3], "title"), "Loose");
  EXPECT_EQ(a.out.skipped, 0u);
}

const char* kParent = R"(supplier: woo
currency: EUR
fields:
  sku: {column: SKU}
  type: {column: Type}
  parent: {column: Parent}
  name: {column: Name}
  brand: {column: Brand}
  color: {column: Color}
variants:
  style: parent
  parent_field: parent
  parent_type_field: type
  parent_types: [variable, grouped]
  inherit: [name, brand]
)";

TEST(AssembleParent, ParentsAreRememberedAndVariationsInherit) {
  Assembly a(kParent);
  a.add(2, {{"sku", "P1"}, {"type", "variable"}, {"name", "Shirt"}, {"brand", "Acme"}, {"color", "any"}});
  EXPECT_EQ(a.out.skipped, 1u);
  EXPECT_TRUE(a.out.records.empty());
  a.add(3, {{"sku", "P1-R"}, {"type", "variation"}, {"parent", "P1"}, {"color", "red"}});
  a.add(4, {{"sku", "P1-B"}, {"type", "variation"}, {"parent", "P1"}, {"brand", "Other"}, {"color", "blue"}});
  a.add(5, {{"sku", "X1"}, {"type", "simple"}, {"name", "Mug"}});
  a.add(6, {{"sku", "P2"}, {"type", "grouped"}, {"name", "Set"}});
  a.add(7, {{"sku", "P2-A"}, {"parent", "P2"}});
  EXPECT_EQ(a.assembler().held(), 0u);  // nothing waits in parent style
  ASSERT_EQ(a.lines(), (std::vector<std::uint64_t>{3, 4, 5, 7}));
  const auto& rec = a.out.records;
  EXPECT_EQ(a.text(rec[0], "name"), "Shirt");
  EXPECT_EQ(a.text(rec[0], "brand"), "Acme");
  EXPECT_EQ(a.text(rec[0], "color"), "red");
  EXPECT_EQ(a.text(rec[1], "name"), "Shirt");
  EXPECT_EQ(a.text(rec[1], "brand"), "Other");
  EXPECT_EQ(a.text(rec[2], "name"), "Mug");
  EXPECT_TRUE(a.null(rec[2], "brand"));
  EXPECT_EQ(a.text(rec[3], "name"), "Set");
  EXPECT_EQ(a.out.skipped, 2u);
  EXPECT_TRUE(a.out.rejects.empty());
}

TEST(AssembleParent, RejectsUnknownParentsAndParentsThatComeLate) {
  Assembly a(kParent);
  a.add(2, {{"sku", "V1"}, {"type", "variation"}, {"parent", "P9"}});
  a.add(3, {{"sku", "V2"}, {"type", "variation"}, {"parent", "P2"}});
  a.add(4, {{"sku", "P2"}, {"type", "variable"}, {"name", "Late"}});
  a.add(5, {{"sku", "V3"}, {"type", "variation"}, {"parent", "P2"}});
  a.finish();
  ASSERT_EQ(a.out.rejects.size(), 2u);
  const Reject& r = a.out.rejects[0];
  EXPECT_EQ(r.line, 2u);
  EXPECT_EQ(r.node, "read");
  EXPECT_EQ(r.code, "unknown_parent");
  EXPECT_EQ(r.message,
            "field 'parent': parent \"P9\" is not a parent row earlier in the feed (parents must come before their "
            "variations)");
  EXPECT_EQ(r.raw, (std::vector<std::string>{"V1", "variation", "P9", "", "", ""}));
  EXPECT_EQ(a.out.rejects[1].line, 3u);
  EXPECT_EQ(a.out.rejects[1].code, "unknown_parent");
  EXPECT_NE(a.out.rejects[1].message.find("\"P2\""), std::string::npos);
  ASSERT_EQ(a.lines(), (std::vector<std::uint64_t>{5}));
  EXPECT_EQ(a.text(a.out.records[0], "name"), "Late");
  EXPECT_EQ(a.out.skipped, 1u);
}

const char* kDuplicates = R"(supplier: t
currency: EUR
duplicates: reject
fields:
  sku: {column: SKU}
  name: {column: Name}
)";

TEST(AssembleDuplicates, RejectsLaterRowsWithTheFirstLine) {
  Assembly a(kDuplicates);
  ASSERT_TRUE(a.assembler().active());
  a.add(2, {{"sku", "A"}, {"name", "first"}});
  a.add(3, {{"sku", "B"}});
  a.add(4, {{"sku", "A"}, {"name", "second"}});
  a.add(5, {{"name", "no key"}});
  a.add(6, {{"name", "no key either"}});  // rows without a key are left to validation
  a.add(7, {{"sku", "A"}});
  a.finish();
  ASSERT_EQ(a.lines(), (std::vector<std::uint64_t>{2, 3, 5, 6}));
  EXPECT_EQ(a.text(a.out.records[0], "name"), "first");
  ASSERT_EQ(a.out.rejects.size(), 2u);
  for (const auto& r : a.out.rejects) {
    EXPECT_EQ(r.code, "duplicate_key");
    EXPECT_EQ(r.node, "read");
    EXPECT_EQ(r.message, "field 'sku': key \"A\" already appeared on line 2 (duplicates: reject)");
  }
  EXPECT_EQ(a.out.rejects[0].line, 4u);
  EXPECT_EQ(a.out.rejects[0].raw, (std::vector<std::string>{"A", "second"}));
  EXPECT_EQ(a.out.rejects[1].line, 7u);
}

TEST(AssembleDuplicates, LastWinsPassesRowsStraightThrough) {
  Assembly a("supplier: t\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n");
  EXPECT_FALSE(a.assembler().active());
  a.add(2, {{"sku", "A"}});
  a.add(3, {{"sku", "A"}});
  a.finish();
  EXPECT_EQ(a.lines(), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_TRUE(a.out.rejects.empty());
}

TEST(AssembleDuplicates, WorkWithContinuationGroups) {
  Assembly a(continuation_yaml("attach") + "duplicates: reject\n");
  a.add(2, {{"handle", "tee"}, {"sku", "TEE-S"}});
  a.add(3, {{"handle", "tee"}, {"sku", "TEE-M"}});
  a.add(4, {{"handle", "cap"}, {"sku", "TEE-S"}});
  a.finish();
  EXPECT_EQ(a.lines(), (std::vector<std::uint64_t>{2, 3}));
  ASSERT_EQ(a.out.rejects.size(), 1u);
  EXPECT_EQ(a.out.rejects[0].line, 4u);
  EXPECT_EQ(a.out.rejects[0].message, "field 'sku': key \"TEE-S\" already appeared on line 2 (duplicates: reject)");
}

// Every row in comes out exactly once, whatever the mix of rows, styles and batch boundaries.
void expect_every_row_once(const std::string& yaml, bool parent_style, std::uint64_t seed) {
  Assembly a(yaml);
  std::mt19937_64 gen(seed);
  auto pick = [&](int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(gen)); };
  std::vector<Batch> batches(1);
  const std::uint64_t rows = 5000;
  for (std::uint64_t line = 2; line < rows + 2; ++line) {
    if (pick(50) == 0) batches.emplace_back();  // the source starts another batch
    Cells c;
    const std::string sku = "S" + std::to_string(pick(2000));
    if (parent_style) {
      switch (pick(5)) {
        case 0:
          c = {{"sku", "P" + std::to_string(pick(40))}, {"type", "variable"}, {"name", "n"}};
          break;
        case 1:
        case 2:
          c = {{"sku", sku}, {"type", "variation"}, {"parent", "P" + std::to_string(pick(60))}};
          break;
        case 3:
          c = {{"sku", sku}, {"type", "simple"}, {"brand", "b"}};
          break;
        default:
          c = {{"type", "variation"}, {"name", "no key"}};
      }
    } else {
      const std::string handle = "h" + std::to_string(pick(6));
      switch (pick(4)) {
        case 0:
          c = {{"handle", handle}, {"image", "https://img.example/" + std::to_string(pick(5)) + ".jpg"}};
          break;
        case 1:
          c = {{"sku", sku}, {"title", "loose"}};
          break;
        default:
          c = {{"handle", handle}, {"sku", sku}, {"title", pick(2) ? "t" : ""}};
      }
    }
    a.add(line, c, batches.back());
  }
  a.finish();
  for (const auto& r : a.out.records) batches.back().records.push_back(r);
  for (const auto& r : a.out.rejects) batches.back().rejects.push_back(r);
  batches.back().skipped += a.out.skipped;

  std::set<std::uint64_t> seen;
  std::uint64_t records = 0, rejects = 0, skipped = 0;
  std::map<std::string, std::uint64_t> codes;
  for (const auto& b : batches) {
    for (const auto& r : b.records) EXPECT_TRUE(seen.insert(r.line).second) << "line " << r.line << " twice";
    for (const auto& r : b.rejects) {
      EXPECT_TRUE(seen.insert(r.line).second) << "line " << r.line << " twice";
      ++codes[r.code];
    }
    records += b.records.size();
    rejects += b.rejects.size();
    skipped += b.skipped;
  }
  EXPECT_EQ(records + rejects + skipped, rows);
  EXPECT_EQ(a.assembler().held(), 0u);
  EXPECT_GT(records, 0u);
  EXPECT_GT(skipped, 0u);
  EXPECT_GT(codes["duplicate_key"], 0u);
  if (parent_style) {
    EXPECT_GT(codes["unknown_parent"], 0u);
  }
}

TEST(AssembleProperties, EveryRowComesOutExactlyOnceInContinuationStyle) {
  expect_every_row_once(continuation_yaml("attach") + "duplicates: reject\n", false, 1);
  expect_every_row_once(continuation_yaml("skip") + "duplicates: reject\n", false, 2);
}

TEST(AssembleProperties, EveryRowComesOutExactlyOnceInParentStyle) {
  expect_every_row_once(std::string(kParent) + "duplicates: reject\n", true, 3);
}

}  // namespace
}  // namespace sluice
