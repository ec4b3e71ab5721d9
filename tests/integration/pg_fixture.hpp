// The PostgreSQL test fixture: a fresh migrated database per test on the cluster CTest starts.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <random>
#include <thread>

#include "clients/pg.hpp"
#include "clients/pg_schema.hpp"
#include "runtime/pipeline.hpp"
#include "runtime/run_summary.hpp"
#include "support/test_support.hpp"

namespace sluice::test {


// The cluster scripts/pg runs in this folder (set by ctest).
inline std::string pg_dir() {
  const char* d = std::getenv("SLUICE_TEST_PG_DIR");
  if (!d || !*d) throw std::runtime_error("SLUICE_TEST_PG_DIR is not set: run these tests through ctest");
  return d;
}

inline std::string server_conninfo() {
  return "host=" + pg_dir() + " port=54329 dbname=sluice user=sluice";
}

inline std::string with_dbname(const std::string& conninfo, const std::string& db) {
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
    write_graph("  - {id: db, type: pg_sink}\n");
  }

  // The test graph, read -> check -> price -> db, with `db` as given (a YAML list entry).
  void write_graph(const std::string& db_node) {
    test::write_file(graph_, "run:\n  batch_size: 50\n  in_flight: 400\nnodes:\n"
                             "  - {id: read, type: csv_source}\n  - {id: check, type: validate}\n"
                             "  - {id: price, type: price}\n" +
                                 db_node + "edges: [read -> check, check -> price, price -> db]\n");
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

  std::string feed(const std::vector<std::string>& rows, const std::string& header = "SKU,Name,Category,Price") {
    std::string path = dir_.file("feed" + std::to_string(++feeds_) + ".csv");
    std::string text = header + "\n";
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
    return run_with(supplier, input, std::move(sets), [dry_run](RunOptions& o) { o.dry_run = dry_run; });
  }

  // A run whose options `adjust` changes (a shard, say).
  RunOutcome run_with(const std::string& supplier, const std::string& input,
                      std::vector<std::pair<std::string, std::string>> sets,
                      const std::function<void(RunOptions&)>& adjust) {
    Diagnostics diags;
    auto p = load_pipeline(PipelineOptions{graph_, supplier, std::move(sets)}, diags);
    EXPECT_TRUE(diags.empty()) << diags.format();
    if (!p->plan) throw std::runtime_error("no plan");
    RunOptions o;
    o.input = input;
    o.rejects_path = dir_.file("rejects.ndjson");
    o.db = db_;
    o.allow_mass_delist = allow_mass_delist_;
    adjust(o);
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
  bool allow_mass_delist_ = false;  // --allow-mass-delist for the runs that follow
};

}  // namespace sluice::test
