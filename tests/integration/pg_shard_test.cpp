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
