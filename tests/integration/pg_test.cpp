// pg_sink, the ledger and the supplier lock against a real PostgreSQL (scripts/pg, started by a CTest fixture).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <thread>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/run_summary.hpp"
#include "integration/pg_fixture.hpp"
#include "support/test_support.hpp"

namespace sluice {
namespace {

using test::PgTest;
using test::server_conninfo;
using test::with_dbname;
using test::pg_dir;

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

std::vector<std::string> slice(const std::vector<std::string>& v, std::size_t from, std::size_t to) {
  return {v.begin() + static_cast<std::ptrdiff_t>(from), v.begin() + static_cast<std::ptrdiff_t>(to)};
}

class PgRestartTest : public PgTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(PgRestartTest, ARestartBetweenBatchesIsRetriedAndTheRunCompletes) {
  std::vector<std::string> all = rows(5000, 7, 3);
  std::string s = supplier_file("acme");
  bool restarted = false;
  RunOutcome o = run_in_two_parts(s, slice(all, 0, 4000), slice(all, 4000, 5000), [&] {
    restarted = std::system(pg_script("restart " + pg_dir() + " " + GetParam()).c_str()) == 0;
  });
  ASSERT_TRUE(restarted);
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(o.flow.sink.inserted, 5000u);
  EXPECT_GE(o.flow.nodes.back().retries, 1u);
  EXPECT_EQ(run_status(o.run_id), "succeeded");
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(o.run_id)), 5000);

  RunOutcome clean = run(supplier_file("clean"), feed(all));
  ASSERT_EQ(clean.code, ExitCode::success) << clean.error;
  EXPECT_EQ(table_digest("acme"), table_digest("clean"));
}

INSTANTIATE_TEST_SUITE_P(Modes, PgRestartTest, ::testing::Values("fast", "immediate"));

TEST_F(PgTest, TerminatedSessionsAreReconnectedAndTheBatchRetried) {
  std::vector<std::string> all = rows(5000);
  RunOutcome o = run_in_two_parts(supplier_file("acme"), slice(all, 0, 4000), slice(all, 4000, 5000), [&] {
    auto c = connect(server_conninfo());
    pqxx::nontransaction(*c).exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name_ +
                                  "' AND pid <> pg_backend_pid()");
  });
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 5000);
  EXPECT_EQ(run_status(o.run_id), "succeeded");
}

TEST_F(PgTest, AFrozenSessionIsGivenUpAfterTheStatementTimeoutAndTheBatchRetried) {
  std::vector<std::string> all = rows(5000);
  int frozen = 0;
  RunOutcome o = run_in_two_parts(supplier_file("acme"), slice(all, 0, 4000), slice(all, 4000, 5000),
                                  [&] {
                                    frozen = backend_of("sluice pg_sink");
                                    if (frozen) ::kill(frozen, SIGSTOP);
                                  },
                                  {{"nodes.db.statement_timeout", "1s"}});
  if (frozen) ::kill(frozen, SIGCONT);
  ASSERT_NE(frozen, 0);
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 5000);
  EXPECT_GE(o.flow.nodes.back().retries, 1u);
}

// A server that accepts connections and never says a word.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentServer() { ::close(fd_); }  // connections wait in the backlog, unanswered
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(PgTest, AServerThatNeverAnswersFailsTheConnectAfterTheConnectTimeout) {
  SilentServer silent;
  Diagnostics diags;
  auto p = load_pipeline(PipelineOptions{graph_, supplier_file("acme"), {{"nodes.db.connect_timeout", "1s"}}}, diags);
  ASSERT_TRUE(p->plan) << diags.format();
  RunOptions o;
  o.input = feed(rows(10));
  o.rejects_path = dir_.file("rejects.ndjson");
  o.db = "host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=x user=x password=hunter2";
  try {
    run_pipeline(*p, o);
    FAIL() << "expected a connection error";
  } catch (const pqxx::broken_connection& e) {
    std::string what = redact_error(e.what(), o.db);
    EXPECT_NE(what.find("no answer from the server within 1 s"), std::string::npos) << what;
    EXPECT_NE(what.find("password=***): "), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST_F(PgTest, TheDeadlineCutsAHungConnectShort) {
  SilentServer silent;
  Diagnostics diags;
  auto p = load_pipeline(PipelineOptions{graph_, supplier_file("acme"), {{"run.deadline", "1s"}}}, diags);
  ASSERT_TRUE(p->plan) << diags.format();
  RunOptions o;
  o.input = feed(rows(10));
  o.rejects_path = dir_.file("rejects.ndjson");
  o.db = "host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=x user=x connect_timeout=600";
  RunOutcome out = run_pipeline(*p, o);
  EXPECT_EQ(out.code, ExitCode::deadline) << out.error;
  EXPECT_NE(out.error.find("the deadline passed while connecting"), std::string::npos) << out.error;
}

TEST_F(PgTest, ARunThatFailsDuringAnOutageIsStillRecordedOnceTheServerIsBack) {
  std::vector<std::string> all = rows(5000);
  std::thread starter;
  RunOutcome o = run_in_two_parts(supplier_file("acme"), slice(all, 0, 4000), slice(all, 4000, 5000),
                                  [&] {
                                    ASSERT_EQ(std::system(pg_script("stop " + pg_dir()).c_str()), 0);
                                    starter = std::thread([this] {
                                      std::this_thread::sleep_for(std::chrono::milliseconds(3500));
                                      std::system((pg_script("start " + pg_dir()) + " >/dev/null").c_str());
                                    });
                                  },
                                  {{"nodes.db.max_attempts", "1"}});
  starter.join();
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_EQ(run_status(o.run_id), "failed") << o.error;
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(o.run_id)),
            scalar("SELECT count(*) FROM product"));
  EXPECT_EQ(o.flow.sink.inserted, static_cast<std::uint64_t>(scalar("SELECT count(*) FROM product")));
  EXPECT_GE(o.flow.sink.inserted, 1000u);
}

// A ledger row that is never finished (as when the process is killed) still counts what was committed.
class PgUnfinishedTest : public PgTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(PgUnfinishedTest, CountsAreCommittedWithTheRows) {
  pqxx::nontransaction(*connect(db_)).exec0(R"(
    CREATE FUNCTION no_finish() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.status = 'running' AND NEW.status NOT IN ('running', 'abandoned') THEN RAISE 'no finish'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER no_finish BEFORE UPDATE ON sluice_run FOR EACH ROW EXECUTE FUNCTION no_finish();)");
  std::string s = supplier_file("acme", "mode: " + GetParam() + "\n");
  RunOutcome o = run(s, feed(rows(500)));
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("cannot record the run"), std::string::npos) << o.error;
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 500);
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(o.run_id)), 500);

  pqxx::nontransaction(*connect(db_)).exec0("DROP TRIGGER no_finish ON sluice_run");
  RunOutcome next = run(s, feed(rows(500)));
  ASSERT_EQ(next.code, ExitCode::success) << next.error;
  EXPECT_EQ(run_status(o.run_id), "abandoned");
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(o.run_id)), 500);
}

INSTANTIATE_TEST_SUITE_P(Modes, PgUnfinishedTest, ::testing::Values("batch", "atomic"));

TEST_F(PgTest, AnAtomicRunWhoseCommitFailsReportsNothingWritten) {
  pqxx::nontransaction(*connect(db_)).exec0(R"(
    CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'refused at commit'; END $$;
    CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON product DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.sku = 'S7') EXECUTE FUNCTION refuse();)");
  RunOutcome o = run(supplier_file("acme", "mode: atomic\n"), feed(rows(500)));
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("refused at commit"), std::string::npos) << o.error;
  EXPECT_EQ(o.flow.sink.total(), 0u);
  EXPECT_EQ(o.flow.not_processed, 500u);
  EXPECT_TRUE(o.flow.identity_holds());
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 0);
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(o.run_id)), 0);
}

TEST_F(PgTest, ABatchRunStopsCommittingWhereItsRejectsExceedMaxRejects) {
  std::vector<std::string> r = rows(2000);
  for (int i = 25; i < 2000; i += 50) r[i] = "S" + std::to_string(i) + ",,cat,1.00";  // one per batch of 50
  RunOutcome o = run(supplier_file("acme", "max_rejects: 10\n"), feed(r));
  EXPECT_EQ(o.code, ExitCode::error_budget);
  EXPECT_TRUE(o.flow.identity_holds());
  // Ten batches hold the ten rejects the budget allows; the eleventh would go over it.
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 490);
  EXPECT_EQ(o.flow.sink.inserted, 490u);
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(o.run_id)), 490);
}

TEST_F(PgTest, ABatchRunOverItsRejectRatioCommitsNoFurtherBatch) {
  std::vector<std::string> r = rows(1000);
  for (int i = 0; i < 3; ++i) r[i] = "S" + std::to_string(i) + ",,cat,1.00";
  RunOutcome o = run(supplier_file("acme", "max_reject_ratio: \"0.01\"\n"), feed(r));
  EXPECT_EQ(o.code, ExitCode::error_budget);
  EXPECT_TRUE(o.flow.identity_holds());
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 0);
}

TEST_F(PgTest, AKeyTooLongForTheIndexRejectsOnlyItsRow) {
  std::mt19937 rng(7);
  std::string key;
  for (int i = 0; i < 12000; ++i) key.push_back("abcdefghijklmnopqrstuvwxyz0123456789"[rng() % 36]);
  std::vector<std::string> r = rows(100);
  r[40] = key + ",Long key,cat,1.00";
  RunOutcome o = run(supplier_file("acme"), feed(r));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  EXPECT_EQ(o.flow.rejected, 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM product"), 99);
  auto lines = test::read_lines(dir_.file("rejects.ndjson"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"line\":42,\"node\":\"db\",\"code\":\"database\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("index row"), std::string::npos) << lines[0];
}

TEST_F(PgTest, ASinkThatCannotOpenIsSummarisedAndRecordedAsFailed) {
  RunOutcome o = run(supplier_file("acme"), feed(rows(10)), false, {{"nodes.db.table", "nope"}});
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("table nope does not exist"), std::string::npos) << o.error;
  EXPECT_EQ(o.error.find("ERROR:"), std::string::npos) << o.error;
  EXPECT_EQ(run_status(o.run_id), "failed");
  EXPECT_NE(format_summary(o, *pipelines_.back()).find("error: node 'db': table nope does not exist"), std::string::npos);
}

TEST_F(PgTest, AFatalDatabaseErrorNamesTheFeedLineNotTheCopyLine) {
  pqxx::nontransaction(*connect(db_)).exec0(R"(
    CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'no S7 here'; END $$;
    CREATE TRIGGER refuse BEFORE INSERT ON product FOR EACH ROW WHEN (NEW.sku = 'S7') EXECUTE FUNCTION refuse();)");
  RunOutcome o = run(supplier_file("acme"), feed(rows(100)));
  EXPECT_EQ(o.code, ExitCode::failure);
  EXPECT_NE(o.error.find("no S7 here (feed line 9)"), std::string::npos) << o.error;
  EXPECT_EQ(o.error.find("ERROR:"), std::string::npos) << o.error;
  EXPECT_EQ(o.error.find("COPY product, line"), std::string::npos) << o.error;
}

TEST_F(PgTest, ARefusedRunDoesNotUnlockALockItNeverTook) {
  auto log_count = [] {
    std::ifstream in(pg_dir() + "/server.log");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::size_t n = 0;
    for (std::size_t at = text.find("you don't own a lock"); at != std::string::npos;
         at = text.find("you don't own a lock", at + 1))
      ++n;
    return n;
  };
  auto before = log_count();
  auto holder = connect(db_);
  pqxx::nontransaction n(*holder);
  ASSERT_TRUE(n.exec1("SELECT pg_try_advisory_lock(hashtextextended('sluice:acme', 0))")[0].as<bool>());
  EXPECT_THROW(run(supplier_file("acme"), feed(rows(10))), SupplierLocked);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server writes its log asynchronously
  EXPECT_EQ(log_count(), before);
}

}  // namespace
}  // namespace sluice
