// The supplier's `sync: full` against a real PostgreSQL: products that leave the feed are delisted once a
// run completes, come back listed, and a feed that would delist too many delists nothing.
#include <gtest/gtest.h>

#include "integration/pg_fixture.hpp"

namespace sluice {
namespace {

using test::PgTest;

class PgSyncTest : public PgTest {
 protected:
  std::string full(const std::string& name, const std::string& extra = "") {
    return supplier_file(name, "sync: full\n" + extra);
  }

  // Rows first..last-1 of the usual feed.
  static std::vector<std::string> range(int first, int last) {
    auto all = rows(last);
    return {all.begin() + first, all.end()};
  }

  std::int64_t delisted(const std::string& supplier) {
    return scalar("SELECT count(*) FROM product WHERE supplier = '" + supplier + "' AND delisted_at IS NOT NULL");
  }

  std::int64_t seen_tables() { return scalar("SELECT count(*) FROM pg_class WHERE relname LIKE 'sluice_seen_%'"); }
};

TEST_F(PgSyncTest, ProductsThatLeftTheFeedAreDelistedAndComeBackListed) {
  std::string s = full("acme");
  RunOutcome other = run(supplier_file("other"), feed(rows(50)));  // another supplier's products stay listed
  ASSERT_EQ(other.code, ExitCode::success) << other.error;

  RunOutcome a = run(s, feed(rows(100)));
  ASSERT_EQ(a.code, ExitCode::success) << a.error;
  EXPECT_TRUE(a.flow.sync.applied);
  EXPECT_EQ(a.flow.sync.delisted, 0u);
  EXPECT_EQ(a.flow.sync.listed, 100u);

  // S10..S19 left the feed.
  std::vector<std::string> most = range(0, 10);
  for (const auto& r : range(20, 100)) most.push_back(r);
  RunOutcome b = run(s, feed(most));
  ASSERT_EQ(b.code, ExitCode::success) << b.error;
  EXPECT_TRUE(b.flow.sync.applied);
  EXPECT_EQ(b.flow.sync.delisted, 10u);
  EXPECT_EQ(b.flow.sink.unchanged, 90u);
  EXPECT_EQ(delisted("acme"), 10);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE delisted_run_id = " + std::to_string(b.run_id) +
                   " AND sku IN ('S10','S11','S12','S13','S14','S15','S16','S17','S18','S19')"),
            10);
  EXPECT_EQ(delisted("other"), 0);
  EXPECT_EQ(scalar("SELECT rows_delisted FROM sluice_run WHERE id = " + std::to_string(b.run_id)), 10);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE supplier = 'acme'"), 100);  // delisted, not deleted
  EXPECT_NE(format_summary(b, *pipelines_.back()).find("delisted                 10  (of 100 listed"),
            std::string::npos)
      << format_summary(b, *pipelines_.back());

  // They come back with the same data: listed again, counted, and written although their hash is the same.
  RunOutcome c = run(s, feed(rows(100)));
  ASSERT_EQ(c.code, ExitCode::success) << c.error;
  EXPECT_EQ(c.flow.sink.relisted, 10u);
  EXPECT_EQ(c.flow.sink.updated, 10u);
  EXPECT_EQ(c.flow.sink.unchanged, 90u);
  EXPECT_EQ(c.flow.sync.delisted, 0u);
  EXPECT_EQ(delisted("acme"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE delisted_run_id IS NOT NULL"), 0);
  EXPECT_EQ(scalar("SELECT rows_relisted FROM sluice_run WHERE id = " + std::to_string(c.run_id)), 10);

  // And the unchanged feed again writes nothing.
  RunOutcome d = run(s, feed(rows(100)));
  ASSERT_EQ(d.code, ExitCode::success) << d.error;
  EXPECT_EQ(d.flow.sink.unchanged, 100u);
  EXPECT_EQ(d.flow.sink.relisted, 0u);
  EXPECT_EQ(seen_tables(), 0);  // every run dropped its table of seen keys
}

TEST_F(PgSyncTest, AFeedThatWouldDelistTooManyDelistsNothingUnlessAllowed) {
  std::string s = full("acme");
  ASSERT_EQ(run(s, feed(rows(100))).code, ExitCode::success);

  // Half the catalogue is missing: a truncated file. The rows it has are still written.
  std::vector<std::string> half = range(0, 50);
  half[0] = "S0,Item 0 renamed,cat0,1.00";
  RunOutcome a = run(s, feed(half));
  EXPECT_EQ(a.code, ExitCode::delist_refused) << a.error;
  EXPECT_TRUE(a.flow.sync.refused);
  EXPECT_FALSE(a.flow.sync.applied);
  EXPECT_EQ(a.flow.sync.delisted, 50u);
  EXPECT_EQ(a.flow.sync.listed, 100u);
  EXPECT_NE(a.error.find("refused to delist 50 of the supplier's 100 listed products"), std::string::npos) << a.error;
  EXPECT_EQ(delisted("acme"), 0);
  EXPECT_EQ(a.flow.sink.updated, 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE title = 'Item 0 renamed'"), 1);
  EXPECT_EQ(run_status(a.run_id), "delist_refused");
  EXPECT_EQ(scalar("SELECT rows_delisted FROM sluice_run WHERE id = " + std::to_string(a.run_id)), 0);

  // 20% exactly is allowed by the default max_delist_ratio of 0.2.
  RunOutcome b = run(s, feed(range(0, 80)));
  ASSERT_EQ(b.code, ExitCode::success) << b.error;
  EXPECT_EQ(b.flow.sync.delisted, 20u);

  // One run may be told that the mass delisting is meant.
  allow_mass_delist_ = true;
  RunOutcome c = run(s, feed(range(0, 40)));
  ASSERT_EQ(c.code, ExitCode::success) << c.error;
  EXPECT_EQ(c.flow.sync.delisted, 40u);
  EXPECT_EQ(c.flow.sync.listed, 80u);
  EXPECT_EQ(delisted("acme"), 60);
}

TEST_F(PgSyncTest, ARunThatDidNotCompleteDelistsNothing) {
  std::string s = full("acme", "max_rejects: 0\n");
  ASSERT_EQ(run(s, feed(rows(3000))).code, ExitCode::success);

  // The error budget stops it.
  std::vector<std::string> bad = range(0, 2000);
  bad[1500] = "S1500,Item,cat0,not-a-price";
  RunOutcome a = run(s, feed(bad));
  EXPECT_EQ(a.code, ExitCode::error_budget) << a.error;
  EXPECT_FALSE(a.flow.sync.applied);
  EXPECT_EQ(a.flow.sync.delisted, 0u);

  // The deadline passes in the middle of the feed, with batches committed before it.
  RunOutcome b = run_in_two_parts(s, range(0, 2500), range(2500, 2600),
                                  [] { std::this_thread::sleep_for(std::chrono::seconds(3)); },
                                  {{"run.deadline", "2s"}});
  EXPECT_EQ(b.code, ExitCode::deadline) << b.error;
  EXPECT_FALSE(b.flow.sync.applied);
  EXPECT_EQ(delisted("acme"), 0);
  EXPECT_NE(format_summary(b, *pipelines_.back()).find("the run did not complete: nothing was delisted"),
            std::string::npos);

  // A cancelled run may leave its table of seen keys, and a killed process does; the next run drops it.
  {
    auto c = connect(db_);
    pqxx::work t(*c);
    t.exec0("CREATE UNLOGGED TABLE IF NOT EXISTS sluice_seen_" + std::to_string(b.run_id) + " (supplier text, sku text)");
    t.commit();
  }
  RunOutcome c = run(s, feed(range(0, 2900)));
  ASSERT_EQ(c.code, ExitCode::success) << c.error;
  EXPECT_EQ(c.flow.sync.delisted, 100u);
  EXPECT_EQ(seen_tables(), 0);
}

TEST_F(PgSyncTest, AnAtomicRunDelistsInItsOwnTransaction) {
  std::string s = full("acme", "mode: atomic\n");
  ASSERT_EQ(run(s, feed(rows(100))).code, ExitCode::success);
  RunOutcome a = run(s, feed(range(0, 85)));
  ASSERT_EQ(a.code, ExitCode::success) << a.error;
  EXPECT_EQ(a.flow.sync.delisted, 15u);
  EXPECT_EQ(delisted("acme"), 15);
  EXPECT_EQ(scalar("SELECT rows_delisted FROM sluice_run WHERE id = " + std::to_string(a.run_id)), 15);

  // Refused: the rows commit, nothing is delisted.
  std::vector<std::string> few = range(0, 10);
  few[0] = "S0,Item 0 renamed,cat0,1.00";
  RunOutcome b = run(s, feed(few));
  EXPECT_EQ(b.code, ExitCode::delist_refused) << b.error;
  EXPECT_EQ(delisted("acme"), 15);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE title = 'Item 0 renamed'"), 1);
  EXPECT_EQ(seen_tables(), 0);
}

TEST_F(PgSyncTest, ADryRunCountsWhatItWouldDelistAndChangesNothing) {
  std::string s = full("acme");
  ASSERT_EQ(run(s, feed(rows(100))).code, ExitCode::success);
  RunOutcome a = run(s, feed(range(0, 90)), true);
  ASSERT_EQ(a.code, ExitCode::success) << a.error;
  EXPECT_EQ(a.flow.sync.delisted, 10u);
  EXPECT_EQ(delisted("acme"), 0);
  EXPECT_EQ(seen_tables(), 0);
}

TEST_F(PgSyncTest, ManySessionsAndNoSnapshotGiveTheSameDelisting) {
  std::string s = full("acme");
  write_graph("  - {id: db, type: pg_sink, connections: 3, snapshot_max_rows: 0}\n");
  ASSERT_EQ(run(s, feed(rows(1000))).code, ExitCode::success);
  RunOutcome a = run(s, feed(range(100, 1000)));
  ASSERT_EQ(a.code, ExitCode::success) << a.error;
  EXPECT_EQ(a.flow.sync.delisted, 100u);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE delisted_at IS NOT NULL AND sku IN "
                   "(SELECT 'S' || i FROM generate_series(0, 99) i)"),
            100);
  RunOutcome b = run(s, feed(rows(1000)));
  ASSERT_EQ(b.code, ExitCode::success) << b.error;
  EXPECT_EQ(b.flow.sink.relisted, 100u);
  EXPECT_EQ(delisted("acme"), 0);
}

TEST_F(PgSyncTest, ATableOfTheUsersNeedsTheDelistingColumns) {
  pqxx::nontransaction(*connect(db_)).exec0(
      "CREATE TABLE item (sku text PRIMARY KEY, title text, sluice_row_hash bigint, sluice_run_id bigint)");
  write_graph("  - {id: db, type: pg_sink, table: item, key: [sku], columns: {sku: sku, title: title}}\n");
  RunOutcome a = run(full("acme"), feed(rows(10)));
  EXPECT_EQ(a.code, ExitCode::failure);
  EXPECT_NE(a.error.find("ALTER TABLE \"item\" ADD COLUMN sluice_delisted_at timestamptz"), std::string::npos)
      << a.error;

  pqxx::nontransaction(*connect(db_)).exec0(
      "ALTER TABLE item ADD COLUMN sluice_delisted_at timestamptz, ADD COLUMN sluice_delisted_run_id bigint");
  ASSERT_EQ(run(full("acme"), feed(rows(10))).code, ExitCode::success);
  RunOutcome b = run(full("acme"), feed(range(0, 9)));
  ASSERT_EQ(b.code, ExitCode::success) << b.error;
  EXPECT_EQ(b.flow.sync.delisted, 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM item WHERE sku = 'S9' AND sluice_delisted_run_id = " +
                   std::to_string(b.run_id)),
            1);
}

}  // namespace
}  // namespace sluice
