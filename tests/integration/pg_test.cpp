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

  // Runs with a feed the test hands over in two parts through a FIFO: the first part, then `between`
  // once at least 1,000 rows are committed, then the rest: the fault lands in the middle of the run, with
  // batches committed before it and batches to write after it. The first part must be over 64 KiB:
  // the source reads that much before it starts (to check the encoding).
  RunOutcome run_in_two_parts(const std::string& supplier, const std::vector<std::string>& first,
                              const std::vector<std::string>& rest, const std::function<void()>& between,
                              std::vector<std::pair<std::string, std::string>> sets = {}) {
    std::string fifo = dir_.file("feed" + std::to_string(++feeds_) + ".fifo");
    if (::mkfifo(fifo.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
    const std::int64_t committed = 1000;
    std::atomic<bool> ended{false};
    std::thread feeder([&] {
      int fd = -1;
      while (!ended &&
             (fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)  // until the run opens the feed
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (fd < 0) return;
      ::fcntl(fd, F_SETFL, 0);  // blocking again; close-on-exec keeps a restarted server from holding it open
      auto send = [&](const std::vector<std::string>& rows) {
        std::string text;
        for (const auto& r : rows) text += r + "\n";
        for (std::size_t at = 0; at < text.size();) {
          ssize_t n = ::write(fd, text.data() + at, text.size() - at);
          if (n <= 0) return;
          at += static_cast<std::size_t>(n);
        }
      };
      send({"SKU,Name,Category,Price"});
      send(first);
      // Until 1,000 rows are committed and the count holds still for a moment: the sink is then
      // between two transactions, waiting for rows.
      std::int64_t last = -1;
      for (int i = 0; i < 600; ++i) {  // at most about a minute
        std::int64_t now = -1;
        try {
          now = scalar("SELECT count(*) FROM product");
        } catch (const std::exception&) {
        }
        if (now >= committed && now == last) break;
        last = now;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      between();
      send(rest);
      ::close(fd);
    });
    RunOutcome o;
    try {
      o = run(supplier, fifo, false, std::move(sets));
    } catch (...) {
      ended = true;
      feeder.join();
      throw;
    }
    ended = true;
    feeder.join();
    return o;
  }

  std::string pg_script(const std::string& args) { return test::source_dir() + "/scripts/pg " + args; }

  // The server's pid for the session sluice opened under this application name in the test's database.
  int backend_of(const std::string& application) {
    return static_cast<int>(scalar("SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = '" + name_ +
                                   "' AND application_name = '" + application + "'"));
  }

  std::string run_status(std::int64_t id) {
    auto c = connect(db_);
    pqxx::read_transaction t(*c);
    return t.exec1("SELECT status FROM sluice_run WHERE id = " + std::to_string(id))[0].as<std::string>();
  }

  test::TempDir dir_;
  std::string name_, db_, graph_;
  std::unique_ptr<PgConnection> admin_;
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
