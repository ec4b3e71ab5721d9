// One feed across several workers (--shard) against a real PostgreSQL: the workers together store
// what one run stores, each under its own lock, and each accounts for every row it read.
#include <gtest/gtest.h>

#include <thread>

#include "clients/pg_ledger.hpp"
#include "clients/supplier_lock.hpp"
#include "integration/pg_fixture.hpp"

namespace sluice {
namespace {

using test::PgTest;

class PgShardTest : public PgTest {
 protected:
  // Runs the feed as `count` workers at once, each with its own pipeline, as separate machines would.
  std::vector<RunOutcome> run_sharded(const std::string& supplier, const std::string& input, std::uint32_t count,
                                      const std::string& group = "nightly") {
    std::vector<RunOutcome> out(count);
    std::vector<std::unique_ptr<Pipeline>> pipelines(count);
    std::vector<std::string> errors(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      Diagnostics diags;
      pipelines[i] = load_pipeline(PipelineOptions{graph_, supplier, {}}, diags);
      EXPECT_TRUE(diags.empty()) << diags.format();
    }
    std::vector<std::thread> workers;
    for (std::uint32_t i = 0; i < count; ++i) {
      workers.emplace_back([&, i] {
        RunOptions o;
        o.input = input;
        o.rejects_path = dir_.file("rejects" + std::to_string(i) + ".ndjson");
        o.db = db_;
        o.shard = Shard{i, count};
        o.group = group;
        try {
          out[i] = run_pipeline(*pipelines[i], o);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& w : workers) w.join();
    for (const auto& e : errors) EXPECT_EQ(e, "");
    for (auto& p : pipelines) pipelines_.push_back(std::move(p));
    return out;
  }

  // One worker on its own.
  RunOutcome run_worker(const std::string& supplier, const std::string& input, Shard shard, const std::string& group,
                        std::vector<std::pair<std::string, std::string>> sets = {}) {
    return run_with(supplier, input, std::move(sets), [&](RunOptions& o) {
      o.shard = shard;
      o.group = group;
    });
  }

  std::int64_t delisted() { return scalar("SELECT count(*) FROM product WHERE delisted_at IS NOT NULL"); }
  std::int64_t seen_tables() { return scalar("SELECT count(*) FROM pg_class WHERE relname LIKE 'sluice_seen_%'"); }

  // Rows first..last-1 of the usual feed.
  static std::vector<std::string> range(int first, int last) {
    auto all = rows(last);
    return {all.begin() + first, all.end()};
  }
};

TEST_F(PgShardTest, FourWorkersStoreWhatOneRunStores) {
  std::vector<std::string> r = rows(3000);
  r[100] = "S100,Item 100,cat0,not-a-price";  // rejected by the worker of its shard only
  r[200] = "S200,Item 200,cat0";              // a ragged row: the source rejects it, worker 0 reports it
  std::string s = supplier_file("acme");
  std::string input = feed(r);
  RunOutcome single = run(s, input);
  ASSERT_EQ(single.code, ExitCode::success) << single.error;
  const std::string expected = table_digest("acme");
  pqxx::nontransaction(*connect(db_)).exec0("DELETE FROM product");

  std::vector<RunOutcome> workers = run_sharded(s, input, 4);
  std::uint64_t stored = 0, rejected = 0;
  for (std::uint32_t i = 0; i < 4; ++i) {
    const RunOutcome& w = workers[i];
    ASSERT_EQ(w.code, ExitCode::success) << w.error;
    EXPECT_TRUE(w.flow.identity_holds());
    EXPECT_EQ(w.flow.read, 3000u);
    EXPECT_GT(w.flow.other_shard, 1500u);  // about three quarters of the feed
    stored += w.flow.sink.inserted;
    rejected += w.flow.rejected;
    EXPECT_EQ(scalar("SELECT count(*) FROM sluice_run WHERE id = " + std::to_string(w.run_id) +
                     " AND group_id = 'nightly' AND shard = " + std::to_string(i) + " AND shard_count = 4"),
              1);
  }
  EXPECT_EQ(stored, single.flow.sink.inserted);
  EXPECT_EQ(rejected, single.flow.rejected);
  EXPECT_EQ(workers[0].flow.rejected >= 1, true);  // the ragged row
  EXPECT_EQ(table_digest("acme"), expected);

  // `sluice runs` shows the group as one line, with its four shards done.
  auto c = connect(db_);
  std::string listing = format_runs(*c, 10);
  EXPECT_NE(listing.find("4/4"), std::string::npos) << listing;
  EXPECT_EQ(std::count(listing.begin(), listing.end(), '\n'), 3) << listing;  // header, the group, the single run

  // A rerun of the group finds every row unchanged.
  for (const RunOutcome& w : run_sharded(s, input, 4, "nightly-2")) {
    ASSERT_EQ(w.code, ExitCode::success) << w.error;
    EXPECT_EQ(w.flow.sink.inserted + w.flow.sink.updated, 0u);
  }
  EXPECT_EQ(table_digest("acme"), expected);
}

TEST_F(PgShardTest, AShardedFullSyncDelistsOnceWhenItsLastWorkerCompletes) {
  std::string s = supplier_file("acme", "sync: full\n");
  auto applied = [](const std::vector<RunOutcome>& ws) {
    int n = 0;
    for (const auto& w : ws) n += w.flow.sync.applied;
    return n;
  };
  std::vector<RunOutcome> first = run_sharded(s, feed(rows(2000)), 4, "g1");
  for (const auto& w : first) ASSERT_EQ(w.code, ExitCode::success) << w.error;
  EXPECT_EQ(applied(first), 1);

  // S0..S199 left the feed: one worker, the last, delists them for the group.
  std::vector<RunOutcome> second = run_sharded(s, feed(range(200, 2000)), 4, "g2");
  for (const auto& w : second) ASSERT_EQ(w.code, ExitCode::success) << w.error;
  EXPECT_EQ(applied(second), 1);
  for (const auto& w : second) {
    if (w.flow.sync.applied) {
      EXPECT_EQ(w.flow.sync.delisted, 200u);
      EXPECT_EQ(w.flow.sync.listed, 2000u);
      EXPECT_EQ(scalar("SELECT rows_delisted FROM sluice_run WHERE id = " + std::to_string(w.run_id)), 200);
    } else {
      EXPECT_TRUE(w.flow.sync.pending);
      EXPECT_EQ(w.flow.sync.delisted, 0u);
    }
  }
  EXPECT_EQ(delisted(), 200);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE delisted_at IS NOT NULL AND sku IN "
                   "(SELECT 'S' || i FROM generate_series(0, 199) i)"),
            200);
  EXPECT_EQ(scalar("SELECT count(*) FROM sluice_group_sync WHERE group_id = 'g2' AND delisted = 200"), 1);
  EXPECT_EQ(seen_tables(), 0);

  // S200..S399 leave too; worker 3 stops at its deadline: the group waits and delists nothing...
  std::string third = feed(range(400, 2000));
  for (std::uint32_t i = 0; i < 3; ++i) {
    RunOutcome w = run_worker(s, third, Shard{i, 4}, "g3");
    ASSERT_EQ(w.code, ExitCode::success) << w.error;
    EXPECT_TRUE(w.flow.sync.pending);
    EXPECT_EQ(w.flow.sync.shards_ready, i + 1);
    EXPECT_NE(format_summary(w, *pipelines_.back()).find("its group delists once all its shards complete"),
              std::string::npos);
  }
  RunOutcome cut = run_worker(s, third, Shard{3, 4}, "g3", {{"run.deadline", "1ms"}});
  EXPECT_EQ(cut.code, ExitCode::deadline) << cut.error;
  EXPECT_FALSE(cut.flow.sync.applied);
  EXPECT_EQ(delisted(), 200);
  EXPECT_EQ(seen_tables(), 3);  // the three ready workers' keys wait for the fourth
  // ... until the worker is run again and completes.
  RunOutcome rerun = run_worker(s, third, Shard{3, 4}, "g3");
  ASSERT_EQ(rerun.code, ExitCode::success) << rerun.error;
  EXPECT_TRUE(rerun.flow.sync.applied);
  EXPECT_EQ(rerun.flow.sync.delisted, 200u);
  EXPECT_EQ(delisted(), 400);
  EXPECT_EQ(seen_tables(), 0);
  // A worker run again after its group delisted changes nothing.
  RunOutcome late = run_worker(s, third, Shard{1, 4}, "g3");
  ASSERT_EQ(late.code, ExitCode::success) << late.error;
  EXPECT_FALSE(late.flow.sync.applied);
  EXPECT_FALSE(late.flow.sync.pending);
  EXPECT_EQ(delisted(), 400);
  EXPECT_EQ(seen_tables(), 0);
}

TEST_F(PgShardTest, AShardedGroupThatWouldDelistTooManyWaitsForAnAllowedRerun) {
  std::string s = supplier_file("acme", "sync: full\n");
  for (const auto& w : run_sharded(s, feed(rows(1000)), 2, "g1")) ASSERT_EQ(w.code, ExitCode::success) << w.error;
  std::string half = feed(range(500, 1000));
  RunOutcome a = run_worker(s, half, Shard{0, 2}, "g2");
  ASSERT_EQ(a.code, ExitCode::success) << a.error;
  RunOutcome b = run_worker(s, half, Shard{1, 2}, "g2");
  EXPECT_EQ(b.code, ExitCode::delist_refused) << b.error;
  EXPECT_TRUE(b.flow.sync.refused);
  EXPECT_EQ(b.flow.sync.delisted, 500u);
  EXPECT_EQ(delisted(), 0);
  allow_mass_delist_ = true;
  RunOutcome c = run_worker(s, half, Shard{1, 2}, "g2");
  ASSERT_EQ(c.code, ExitCode::success) << c.error;
  EXPECT_EQ(c.flow.sync.delisted, 500u);
  EXPECT_EQ(delisted(), 500);
  EXPECT_EQ(seen_tables(), 0);
}

TEST_F(PgShardTest, EachShardHasItsLockAndAnUnshardedRunExcludesThemAll) {
  auto lock = [&](Shard shard, const std::string& supplier = "acme") {
    auto l = std::make_unique<SupplierLock>(db_, supplier, shard);
    return l->try_acquire() ? std::move(l) : nullptr;
  };
  auto zero = lock(Shard{0, 4});
  ASSERT_NE(zero, nullptr);
  EXPECT_EQ(lock(Shard{0, 4}), nullptr);  // a second worker of the same shard
  auto one = lock(Shard{1, 4});
  EXPECT_NE(one, nullptr);
  EXPECT_EQ(lock(Shard{}), nullptr);  // a whole run while workers run
  EXPECT_NE(lock(Shard{}, "nordlys"), nullptr);
  // The refused attempts let go of the shared lock they had taken: once the workers end, a whole run
  // may start, and then no worker may.
  zero.reset();
  one.reset();
  auto whole = lock(Shard{});
  EXPECT_NE(whole, nullptr);
  EXPECT_EQ(lock(Shard{2, 4}), nullptr);
}

TEST_F(PgShardTest, AShardedRunIntoTheDatabaseNeedsAGroup) {
  Diagnostics diags;
  auto p = load_pipeline(PipelineOptions{graph_, supplier_file("acme"), {}}, diags);
  ASSERT_TRUE(diags.empty()) << diags.format();
  RunOptions o;
  o.input = feed(rows(10));
  o.rejects_path = dir_.file("rejects.ndjson");
  o.db = db_;
  o.shard = Shard{1, 2};
  try {
    run_pipeline(*p, o);
    FAIL() << "ran without a group";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string(e.what()).find("--group"), std::string::npos) << e.what();
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM sluice_run"), 0);
}

}  // namespace
}  // namespace sluice
