// Rows as pg_sink encodes them, and the hashes stored in the table across releases and machines.
#include "nodes/sink/pg_rows.hpp"

#include <gtest/gtest.h>

namespace sluice {
namespace {

// Both values come from xxhsum -H3 (the xxHash project's command-line tool) over the same bytes: they
// are stored in users' tables and must never change.
TEST(PgRows, TheRowHashIsXxh3OfTheCopyLine) {
  EXPECT_EQ(static_cast<std::uint64_t>(row_hash("acme\tS1\tHammer \\\\ 12\\t\\N")), 0x62e5058e3317bd74u);
  EXPECT_EQ(static_cast<std::uint64_t>(row_hash("")), 0x2d06800538d394c2u);
}

TEST(PgRows, TheKeyHashIsOverLengthPrefixedLittleEndianParts) {
  std::string key;
  append_key_part(key, "acme");
  append_key_part(key, "S1");
  EXPECT_EQ(key, std::string("\x04\0\0\0\0\0\0\0acme\x02\0\0\0\0\0\0\0S1", 22));
  EXPECT_EQ(key_hash(key), 0x589139a74ac3e2fau);
}

class PgRowsEncoding : public ::testing::Test {
 protected:
  PgRowsEncoding() {
    sku_ = schema_.add("sku");
    gross_ = schema_.add("gross_minor");
    tags_ = schema_.add("tags");
    note_ = schema_.add("note");
    std::vector<std::string> problems;
    target_ = Target::user("shop.item",
                           {{"vendor", "$supplier"}, {"item_no", "sku"}, {"price", "gross_minor / 100"}, {"tags", "tags"}},
                           {"vendor", "item_no"}, "extra", schema_, problems);
    EXPECT_TRUE(problems.empty());
    target_.columns[3].array = true;  // what check() learns from the catalog
  }

  Record record(std::string sku, std::int64_t gross, std::string tags) {
    Record r;
    r.line = 7;
    r.values.resize(schema_.size());
    r.values[sku_] = std::move(sku);
    r.values[gross_] = gross;
    r.values[tags_] = Json{std::move(tags)};
    r.values[note_] = std::string("tab\there");
    return r;
  }

  Schema schema_;
  std::size_t sku_, gross_, tags_, note_;
  Target target_;
};

TEST_F(PgRowsEncoding, WritesEachColumnAsTheTableTakesIt) {
  RowEncoder enc(target_, schema_, "acme");
  EncodedRows rows;
  ASSERT_FALSE(enc.encode(record("S1", 123405, R"(["a","b \"c\""])"), 0, rows));
  ASSERT_FALSE(enc.encode(record("S2", -5, "[]"), 1, rows));
  ASSERT_EQ(rows.rows.size(), 2u);
  EXPECT_EQ(rows.line(rows.rows[0]),
            "acme\tS1\t1234.05\t{\"a\",\"b \\\\\"c\\\\\"\"}\t{\"note\":\"tab\\\\there\"}");
  EXPECT_EQ(rows.line(rows.rows[1]), "acme\tS2\t-0.05\t{}\t{\"note\":\"tab\\\\there\"}");
  std::string key;
  append_key_part(key, "acme");
  append_key_part(key, "S1");
  EXPECT_EQ(rows.key(rows.rows[0]), key);
  EXPECT_EQ(rows.rows[0].key_hash, key_hash(key));
  EXPECT_EQ(rows.rows[0].row_hash, row_hash(rows.line(rows.rows[0])));
  EXPECT_EQ(rows.rows[1].record, 1u);
  EXPECT_EQ(rows.rows[1].line, 7u);
}

TEST_F(PgRowsEncoding, EqualRowsHashEquallyAndAnyChangeShows) {
  RowEncoder enc(target_, schema_, "acme");
  EncodedRows rows;
  ASSERT_FALSE(enc.encode(record("S1", 100, "[]"), 0, rows));
  ASSERT_FALSE(enc.encode(record("S1", 100, "[]"), 1, rows));
  ASSERT_FALSE(enc.encode(record("S1", 101, "[]"), 2, rows));
  ASSERT_FALSE(enc.encode(record("S1", 100, "[\"x\"]"), 3, rows));
  EXPECT_EQ(rows.rows[0].row_hash, rows.rows[1].row_hash);
  EXPECT_NE(rows.rows[0].row_hash, rows.rows[2].row_hash);
  EXPECT_NE(rows.rows[0].row_hash, rows.rows[3].row_hash);
  EXPECT_EQ(rows.rows[0].key_hash, rows.rows[3].key_hash);
}

TEST_F(PgRowsEncoding, RefusesAnEmptyKeyAndAListThatIsNotOne) {
  RowEncoder enc(target_, schema_, "acme");
  EncodedRows rows;
  auto why = enc.encode(record("", 1, "[]"), 0, rows);
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, "missing_key");
  EXPECT_NE(why->message.find("'sku'"), std::string::npos) << why->message;
  why = enc.encode(record("S1", 1, "[[1]]"), 1, rows);
  ASSERT_TRUE(why);
  EXPECT_EQ(why->code, "type");
  EXPECT_TRUE(rows.rows.empty());
  EXPECT_TRUE(rows.text.empty());  // nothing of a refused row stays in the buffer
}

TEST(PgTarget, NamesEveryProblemOfAUserMapping) {
  Schema schema;
  schema.add("sku");
  std::vector<std::string> problems;
  Target::user("shop.item; drop", {{"bad name", "sku"}, {"price", "gross / 3"}, {"x", "missing"}, {"v", "$supplier"}},
               {"nope"}, "", schema, problems);
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("table 'shop.item; drop'"), std::string::npos) << all;
  EXPECT_NE(all.find("column 'bad name'"), std::string::npos) << all;
  EXPECT_NE(all.find("power of ten"), std::string::npos) << all;
  EXPECT_NE(all.find("no field 'missing'"), std::string::npos) << all;
  EXPECT_NE(all.find("key column 'nope'"), std::string::npos) << all;
  EXPECT_NE(all.find("$supplier column 'v' must be part of the key"), std::string::npos) << all;
}

TEST(PgTarget, QuotesIdentifiersPartByPart) {
  EXPECT_EQ(quote_identifier("shop.Item"), "\"shop\".\"Item\"");
  EXPECT_TRUE(valid_identifier("shop.item", true));
  EXPECT_FALSE(valid_identifier("shop.item", false));
  EXPECT_FALSE(valid_identifier("1abc"));
  EXPECT_FALSE(valid_identifier("a\"b"));
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

TEST_F(PgRowsEncoding, TheLastRowOfARepeatedKeyWinsAndTheOthersAreNamed) {
  RowEncoder enc(target_, schema_, "acme");
  EncodedRows rows;
  for (auto sku : {"S1", "S2", "S1", "S3", "S1"}) ASSERT_FALSE(enc.encode(record(sku, 1, "[]"), rows.rows.size(), rows));
  RowRefs keep;
  auto repeated = repeated_keys(rows, keep);
  ASSERT_EQ(keep.size(), 3u);
  EXPECT_EQ(keep[0]->record, 1u);  // S2, S3 and the last S1, in their order
  EXPECT_EQ(keep[1]->record, 3u);
  EXPECT_EQ(keep[2]->record, 4u);
  ASSERT_EQ(repeated.size(), 2u);
  for (auto [row, winner] : repeated) {
    EXPECT_TRUE(row->record == 0 || row->record == 2);
    EXPECT_EQ(winner->record, 4u);
  }
  EXPECT_EQ(key_text(target_, rows.key(*repeated[0].first)), "S1");  // without the supplier column
}

}  // namespace
}  // namespace sluice
