// pg_sink against a real PostgreSQL: tables of the user's, and reruns that find new, changed and
// unchanged rows from the snapshot, by merging, or across several sessions, with the same result.
#include <gtest/gtest.h>

#include "integration/pg_fixture.hpp"

namespace sluice {
namespace {

using test::PgTest;

class PgTableTest : public PgTest {
 protected:
  void exec(const std::string& sql) { pqxx::nontransaction(*connect(db_)).exec0(sql); }

  std::string query_text(const std::string& sql) {
    auto c = connect(db_);
    pqxx::read_transaction t(*c);
    auto r = t.exec1(sql);
    return r[0].is_null() ? "NULL" : r[0].as<std::string>();
  }

  // A catalogue table of the user's, with a composite key, a numeric price and a text[] column.
  void user_table() {
    exec(R"(CREATE SCHEMA shop;
      CREATE TABLE shop.item (
        vendor text NOT NULL, item_no text NOT NULL, title text, price numeric(12, 2), tags text[], extra jsonb,
        note text NOT NULL DEFAULT 'kept', sluice_row_hash bigint, sluice_run_id bigint,
        PRIMARY KEY (vendor, item_no)))");
    write_graph(R"(  - id: db
    type: pg_sink
    table: shop.item
    key: [vendor, item_no]
    rest: extra
    columns:
      vendor: $supplier
      item_no: sku
      title: title
      price: gross_minor / 100
      tags: tags
)");
  }

  std::string tagged_supplier() {
    std::string path = dir_.file("tagged.yaml");
    test::write_file(path, R"(supplier: tagged
currency: EUR
fields:
  sku: {column: SKU, required: true}
  title: {column: Name, required: true}
  tags: {column: Tags, type: list, separator: "|"}
  price: {column: Price, type: decimal, required: true, min: 0}
pricing:
  amount_field: price
  tax: {default: "0.20"}
)");
    return path;
  }

  std::string tagged_feed(const std::vector<std::string>& rows) { return feed(rows, "SKU,Name,Tags,Price"); }
};

TEST_F(PgTableTest, WritesAUserTableWithACompositeKeyExactPricesAndArrays) {
  user_table();
  std::string s = tagged_supplier();
  RunOutcome o = run(s, tagged_feed({"A1,Saw,red|blue,10.00", "A2,Drill,,0.05", "A3,\"Vise, big\",\"q\"\"uote\",3.33"}));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(o.flow.sink.inserted, 3u);
  EXPECT_EQ(query_text("SELECT price::text FROM shop.item WHERE item_no = 'A1'"), "12.00");  // 10.00 + 20 %
  EXPECT_EQ(query_text("SELECT price::text FROM shop.item WHERE item_no = 'A2'"), "0.06");   // 0.05 + 20 %, rounded
  EXPECT_EQ(query_text("SELECT price::text FROM shop.item WHERE item_no = 'A3'"), "4.00");
  EXPECT_EQ(query_text("SELECT tags::text FROM shop.item WHERE item_no = 'A1'"), "{red,blue}");
  EXPECT_EQ(query_text("SELECT tags[1] FROM shop.item WHERE item_no = 'A3'"), "q\"uote");
  EXPECT_EQ(query_text("SELECT vendor || '|' || note FROM shop.item WHERE item_no = 'A2'"), "tagged|kept");
  EXPECT_EQ(query_text("SELECT extra->>'net_minor' FROM shop.item WHERE item_no = 'A1'"), "1000");
  EXPECT_EQ(query_text("SELECT count(*) FROM shop.item WHERE sluice_run_id = " + std::to_string(o.run_id)), "3");

  RunOutcome again = run(s, tagged_feed({"A1,Saw,red|blue,10.00", "A2,Drill,,0.10", "A3,\"Vise, big\",\"q\"\"uote\",3.33"}));
  ASSERT_EQ(again.code, ExitCode::success) << again.error;
  EXPECT_EQ(again.flow.sink.unchanged, 2u);
  EXPECT_EQ(again.flow.sink.updated, 1u);
  EXPECT_EQ(query_text("SELECT price::text FROM shop.item WHERE item_no = 'A2'"), "0.12");
}

TEST_F(PgTableTest, AMissingBookkeepingColumnIsNamedWithTheStatementThatAddsIt) {
  user_table();
  exec("ALTER TABLE shop.item DROP COLUMN sluice_row_hash");
  RunOutcome o = run(tagged_supplier(), tagged_feed({"A1,Saw,,1"}));
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("has no column sluice_row_hash"), std::string::npos) << o.error;
  EXPECT_NE(o.error.find("ALTER TABLE \"shop\".\"item\" ADD COLUMN sluice_row_hash bigint"), std::string::npos)
      << o.error;
}

TEST_F(PgTableTest, AKeyWithoutAUniqueIndexIsRefusedWithTheIndexToCreate) {
  user_table();
  exec("ALTER TABLE shop.item DROP CONSTRAINT item_pkey; CREATE UNIQUE INDEX ON shop.item (item_no)");
  RunOutcome o = run(tagged_supplier(), tagged_feed({"A1,Saw,,1"}));
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("CREATE UNIQUE INDEX ON \"shop\".\"item\" (\"vendor\", \"item_no\")"), std::string::npos)
      << o.error;
}

TEST_F(PgTableTest, AMappedColumnTheTableLacksIsNamed) {
  user_table();
  exec("ALTER TABLE shop.item DROP COLUMN tags");
  RunOutcome o = run(tagged_supplier(), tagged_feed({"A1,Saw,,1"}));
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("table shop.item has no column tags"), std::string::npos) << o.error;
}

// The same feeds through every way of writing give the same table and the same counts.
class PgWaysTest : public PgTableTest, public ::testing::WithParamInterface<std::vector<std::string>> {};

TEST_P(PgWaysTest, EveryWayOfWritingGivesTheSameTableAndCounts) {
  std::string s = supplier_file("acme");
  auto sets = [&] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& kv : GetParam()) out.emplace_back(kv.substr(0, kv.find('=')), kv.substr(kv.find('=') + 1));
    return out;
  };
  // A key repeated across batches (S7 again at the end), so a guess from the snapshot proves wrong.
  std::vector<std::string> first = rows(600);
  first.push_back("S7,Item 7 again,cat2,99.00");
  RunOutcome a = run(s, feed(first), false, sets());
  ASSERT_EQ(a.code, ExitCode::success) << a.error;
  EXPECT_EQ(a.flow.sink.inserted, 600u);
  EXPECT_EQ(a.flow.sink.updated, 1u);
  EXPECT_EQ(table_digest("acme").substr(0, 4), "600:");

  // Rerun right after the first load: 1 in 10 changed, 50 new, the repeated key back to its first value.
  std::vector<std::string> second = rows(650, 10, 1);
  RunOutcome b = run(s, feed(second), false, sets());
  ASSERT_EQ(b.code, ExitCode::success) << b.error;
  EXPECT_EQ(b.flow.sink.inserted, 50u);
  EXPECT_EQ(b.flow.sink.updated, 61u);  // every tenth of the first 600, and S7
  EXPECT_EQ(b.flow.sink.unchanged, 539u);
  RunOutcome c = run(s, feed(second), false, sets());
  ASSERT_EQ(c.code, ExitCode::success) << c.error;
  EXPECT_EQ(c.flow.sink.unchanged, 650u);

  // Someone else changed a row and cleared its hash: it is written again.
  pqxx::nontransaction(*connect(db_)).exec0("UPDATE product SET title = 'edited', row_hash = NULL WHERE sku = 'S3'");
  RunOutcome d = run(s, feed(second), false, sets());
  ASSERT_EQ(d.code, ExitCode::success) << d.error;
  EXPECT_EQ(d.flow.sink.updated, 1u);
  EXPECT_EQ(d.flow.sink.unchanged, 649u);

  // The reference: the last feed loaded into an empty table.
  std::string digest = table_digest("acme");
  pqxx::nontransaction(*connect(db_)).exec0("DELETE FROM product");
  RunOutcome fresh = run(s, feed(second), false, sets());
  ASSERT_EQ(fresh.code, ExitCode::success) << fresh.error;
  EXPECT_EQ(table_digest("acme"), digest);
  EXPECT_EQ(scalar("SELECT sum(rows_inserted + rows_updated + rows_unchanged) FROM sluice_run WHERE id = " +
                   std::to_string(d.run_id)),
            650);
}

INSTANTIATE_TEST_SUITE_P(Ways, PgWaysTest,
                         ::testing::Values(std::vector<std::string>{},
                                           std::vector<std::string>{"nodes.db.snapshot_max_rows=0"},
                                           std::vector<std::string>{"nodes.db.snapshot_max_rows=100"},
                                           std::vector<std::string>{"nodes.db.connections=3"}));

}  // namespace
}  // namespace sluice
