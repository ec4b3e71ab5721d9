// pg_sink, the ledger and the supplier lock against a real PostgreSQL (scripts/pg, started by a CTest fixture).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <thread>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "runtime/pipeline.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

// The cluster scripts/pg runs in this folder (set by ctest).
std::string pg_dir() {
  const char* d = std::getenv("SLUICE_TEST_PG_DIR");
  if (!d || !*d) throw std::runtime_error("SLUICE_TEST_PG_DIR is not set: run these tests through ctest");
  return d;
}

std::string server_conninfo() {
  return "host=" + pg_dir() + " port=54329 dbname=sluice user=sluice";
}

std::string with_dbname(const std::string& conninfo, const std::string& db) {
  std::string out = conninfo;
  auto at = out.find("dbname=");
  if (at == std::string::npos) return out + " dbname=" + db;
  auto end = out.find(' ', at);
  return out.replace(at, end == std::string::npos ? std::string::npos : end - at, "dbname=" + db);
}

// A fresh database per test, migrated, dropped afterwards: tests may run in parallel.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(std::random_device{}());
    name_ = "t_" + std::to_string(rng() % 1000000000);
    admin_ = connect(server_conninfo());
    pqxx::nontransaction(*admin_).exec0("CREATE DATABASE " + name_);
    db_ = with_dbname(server_conninfo(), name_);
    auto c = connect(db_);
    migrate(*c);
    graph_ = dir_.file("graph.yaml");
    test::write_file(graph_, R"(run:
  batch_size: 50
  in_flight: 400
nodes:
  - {id: read, type: csv_source}
  - {id: check, type: validate}
  - {id: price, type: price}
  - {id: db, type: pg_sink}
edges: [read -> check, check -> price, price -> db]
)");
  }

  void TearDown() override {
    try {
      admin_ = connect(server_conninfo());  // the restart test breaks the first session
      pqxx::nontransaction n(*admin_);
      n.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ + "'");
      n.exec0("DROP DATABASE IF EXISTS " + name_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot drop test database: " << e.what();
    }
  }

  std::string supplier_file(const std::string& name, const std::string& extra = "") {
    std::string path = dir_.file(name + ".yaml");
    test::write_file(path, "supplier: " + name + "\ncurrency: EUR\n" + extra + R"(
fields:
  sku: {column: SKU, required: true}
  title: {column: Name, required: true}
  category: {column: Category}
  price: {column: Price, type: decimal, required: true, min: 0}
pricing:
  amount_field: price
  tax: {default: "0.20"}
)");
    return path;
  }

  std::string feed(const std::vector<std::string>& rows) {
    std::string path = dir_.file("feed" + std::to_string(++feeds_) + ".csv");
    std::string text = "SKU,Name,Category,Price\n";
    for (const auto& r : rows) text += r + "\n";
    test::write_file(path, text);
    return path;
  }

  static std::vector<std::string> rows(int n, int changed_every = 0, int version = 0) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      bool changed = changed_every && i % changed_every == 0;
      out.push_back("S" + std::to_string(i) + ",Item " + std::to_string(i) + ",cat" + std::to_string(i % 5) + "," +
                    std::to_string(i % 900 + 1) + "." + (changed ? std::to_string(10 + version) : "00"));
    }
    return out;
  }

  RunOutcome run(const std::string& supplier, const std::string& input, bool dry_run = false,
                 std::vector<std::pair<std::string, std::string>> sets = {}) {
    Diagnostics diags;
    auto p = load_pipeline(PipelineOptions{graph_, supplier, sets}, diags);
    EXPECT_TRUE(diags.empty()) << diags.format();
    if (!p->plan) throw std::runtime_error("no plan");
    RunOptions o;
    o.input = input;
    o.rejects_path = dir_.file("rejects.ndjson");
    o.db = db_;
    o.dry_run = dry_run;
    pipelines_.push_back(std::move(p));
    return run_pipeline(*pipelines_.back(), o);
  }

  std::string table_digest(const std::string& supplier) {
    auto c = connect(db_);
    pqxx::read_transaction t(*c);
    return t
        .exec_params1(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(sku || '|' || coalesce(title, '') || '|' "
            "|| net_minor || '|' || gross_minor || '|' || attributes::text, ',' ORDER BY sku)), '') FROM "
            "product WHERE supplier = $1",
            supplier)[0]
        .as<std::string>();
  }

  std::int64_t scalar(const std::string& sql) {
    auto c = connect(db_);
    pqxx::read_transaction t(*c);
    return t.exec1(sql)[0].as<std::int64_t>();
  }

  test::TempDir dir_;
  std::string name_, db_, graph_;
  std::unique_ptr<pqxx::connection> admin_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
  int feeds_ = 0;
};

TEST_F(PgTest, RerunsAreIdempotentAndOnlyChangedRowsAreWritten) {
  std::string s = supplier_file("acme");
  std::string first = feed(rows(1000));
  RunOutcome a = run(s, first);
  ASSERT_EQ(a.code, ExitCode::success) << a.error;
  EXPECT_EQ(a.flow.sink.inserted, 1000u);
  EXPECT_TRUE(a.flow.identity_holds());
  std::string digest = table_digest("acme");
  auto updated_at = scalar(
      "SELECT extract(epoch FROM max(updated_at))::bigint * 1000000 + "
      "extract(microseconds FROM max(updated_at))::bigint FROM product");

  RunOutcome b = run(s, first);
  ASSERT_EQ(b.code, ExitCode::success) << b.error;
  EXPECT_EQ(b.flow.sink.inserted, 0u);
  EXPECT_EQ(b.flow.sink.updated, 0u);
  EXPECT_EQ(b.flow.sink.unchanged, 1000u);
  EXPECT_EQ(table_digest("acme"), digest);
  EXPECT_EQ(scalar("SELECT extract(epoch FROM max(updated_at))::bigint * 1000000 + "
                   "extract(microseconds FROM max(updated_at))::bigint FROM product"),
            updated_at);  // zero writes

  RunOutcome c = run(s, feed(rows(1000, 10, 1)));
  ASSERT_EQ(c.code, ExitCode::success) << c.error;
  EXPECT_EQ(c.flow.sink.updated, 100u);
  EXPECT_EQ(c.flow.sink.unchanged, 900u);
  EXPECT_EQ(c.flow.sink.inserted, 0u);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE last_run_id = " + std::to_string(c.run_id)), 100);

  EXPECT_EQ(scalar("SELECT rows_unchanged FROM sluice_run WHERE id = " + std::to_string(b.run_id)), 1000);
  EXPECT_EQ(scalar("SELECT count(*) FROM sluice_run WHERE status = 'succeeded'"), 3);
}

TEST_F(PgTest, OnlyTheBadRowsAreRejectedAndTheRestCommit) {
  {
    auto c = connect(db_);
    pqxx::work t(*c);
    t.exec0("ALTER TABLE product ADD CONSTRAINT no_forbidden CHECK (title <> 'FORBIDDEN')");
    t.exec0("ALTER TABLE product ALTER COLUMN category TYPE varchar(8)");
    t.commit();
  }
  std::vector<std::string> r = rows(120);
  r[10] = "S10,FORBIDDEN,cat1,5.00";               // violates a constraint
  r[70] = "S70,Long category,much-too-long,5.00";  // a value PostgreSQL refuses (varchar(8))
  r[20] = "S3,Item 3 again,cat3,9.00";             // a repeated key in the same batch: the last one wins
  RunOutcome o = run(supplier_file("acme"), feed(r));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(o.flow.rejected, 3u);
  EXPECT_EQ(o.flow.sink.inserted, 117u);
  EXPECT_TRUE(o.flow.identity_holds());
  auto lines = test::read_lines(dir_.file("rejects.ndjson"));
  ASSERT_EQ(lines.size(), 3u);
  std::string all = lines[0] + lines[1] + lines[2];
  EXPECT_NE(all.find("\"line\":12,\"node\":\"db\",\"code\":\"database\""), std::string::npos) << all;
  EXPECT_NE(all.find("no_forbidden"), std::string::npos) << all;
  EXPECT_NE(all.find("\"line\":72,\"node\":\"db\",\"code\":\"database\""), std::string::npos) << all;
  EXPECT_NE(all.find("too long"), std::string::npos) << all;
  EXPECT_NE(all.find("\"line\":5,\"node\":\"db\",\"code\":\"duplicate_key\""), std::string::npos) << all;
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 117);
  EXPECT_EQ(scalar("SELECT gross_minor FROM product WHERE sku = 'S3'"), 1080);
  EXPECT_EQ(scalar("SELECT count(*) FROM sluice_reject WHERE run_id = " + std::to_string(o.run_id)), 3);
}

TEST_F(PgTest, DryRunWritesNothingButCountsWhatItWould) {
  std::string s = supplier_file("acme");
  RunOutcome o = run(s, feed(rows(300)), true);
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(o.flow.sink.inserted, 300u);
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM sluice_run WHERE dry_run"), 1);
}

TEST_F(PgTest, AtomicRunOverItsErrorBudgetCommitsNothing) {
  std::string s = supplier_file("acme", "mode: atomic\nmax_rejects: 5\n");
  std::vector<std::string> r = rows(500);
  for (int i = 300; i < 320; ++i) r[i] = "S" + std::to_string(i) + ",,cat,1.00";  // 20 rows without a title
  RunOutcome o = run(s, feed(r));
  EXPECT_EQ(o.code, ExitCode::error_budget);
  EXPECT_TRUE(o.flow.identity_holds());
  EXPECT_EQ(o.flow.sink.total(), 0u);
  EXPECT_GT(o.flow.not_processed, 0u);
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 0);

  RunOutcome ok = run(s, feed(rows(500)));
  ASSERT_EQ(ok.code, ExitCode::success) << ok.error;
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 500);
}

TEST_F(PgTest, RejectRatioBudgetFailsABatchRun) {
  std::string s = supplier_file("acme", "max_reject_ratio: \"0.01\"\n");
  std::vector<std::string> r = rows(200);
  r[5] = "S5,,x,1.00";
  r[6] = "S6,,x,1.00";
  r[7] = "S7,,x,1.00";
  RunOutcome o = run(s, feed(r));
  EXPECT_EQ(o.code, ExitCode::error_budget);
  EXPECT_EQ(scalar("SELECT exit_code FROM sluice_run WHERE id = " + std::to_string(o.run_id)), 4);
}

TEST_F(PgTest, ASecondRunForTheSameSupplierIsRefused) {
  auto holder = connect(db_);
  pqxx::nontransaction n(*holder);
  ASSERT_TRUE(n.exec1("SELECT pg_try_advisory_lock(hashtextextended('sluice:acme', 0))")[0].as<bool>());
  EXPECT_THROW(run(supplier_file("acme"), feed(rows(10))), SupplierLocked);
  RunOutcome other = run(supplier_file("globex"), feed(rows(10)));
  EXPECT_EQ(other.code, ExitCode::success) << other.error;
}

TEST_F(PgTest, ABehindSchemaRefusesToStartNamingTheFix) {
  pqxx::nontransaction(*connect(db_)).exec0("DELETE FROM sluice_schema");
  try {
    run(supplier_file("acme"), feed(rows(10)));
    FAIL() << "expected a StartupError";
  } catch (const StartupError& e) {
    EXPECT_NE(std::string(e.what()).find("sluice db migrate"), std::string::npos) << e.what();
  }
}

TEST_F(PgTest, ARestartedServerLeavesTheSameTableAsACleanRun) {
  const std::string restart = test::source_dir() + "/scripts/pg restart " + pg_dir();
  std::string s = supplier_file("acme");
  std::string input = feed(rows(20000, 7, 3));

  std::atomic<bool> restarted{false};
  std::thread restarter([&] {
    for (int i = 0; i < 3000; ++i) {  // wait (at most 30 s) until the first batches are committed
      try {
        if (scalar("SELECT count(*) FROM product") > 0) break;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    restarted = std::system(restart.c_str()) == 0;
  });
  RunOutcome during = run(s, input);
  restarter.join();
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(during.code == ExitCode::success || during.code == ExitCode::failure) << to_int(during.code);
  EXPECT_TRUE(during.flow.identity_holds());

  RunOutcome again;
  for (int attempt = 0; attempt < 50; ++attempt) {  // the server may still be starting
    try {
      again = run(s, input);
      break;
    } catch (const pqxx::broken_connection&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  ASSERT_EQ(again.code, ExitCode::success) << again.error;
  std::string after_restart = table_digest("acme");

  // A clean import of the same feed under another supplier name gives the same rows.
  RunOutcome clean = run(supplier_file("clean"), input);
  ASSERT_EQ(clean.code, ExitCode::success) << clean.error;
  EXPECT_EQ(table_digest("clean"), after_restart);
  EXPECT_EQ(scalar("SELECT count(*) FROM product WHERE supplier = 'acme'"), 20000);
}

}  // namespace
}  // namespace sluice
