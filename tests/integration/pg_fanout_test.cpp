// Graphs with several sinks against PostgreSQL: a fan-out to the database and a file, each sink's
// counts in the summary and the ledger, and a failing branch that commits nothing half-done.
#include <gtest/gtest.h>

#include <filesystem>

#include "integration/pg_fixture.hpp"

namespace sluice {
namespace {

class PgFanOut : public test::PgTest {
 protected:
  void write_fanout(const std::string& extra_node = "", const std::string& extra_edge = "") {
    test::write_file(graph_, "run:\n  batch_size: 50\n  in_flight: 400\nnodes:\n"
                             "  - {id: read, type: csv_source}\n  - {id: check, type: validate}\n"
                             "  - {id: price, type: price}\n  - {id: db, type: pg_sink}\n"
                             "  - {id: export, type: ndjson_sink, path: " +
                                 dir_.file("export.ndjson") + "}\n" + extra_node +
                                 "edges: [read -> check, check -> price, price -> db, price -> export" + extra_edge +
                                 "]\n");
  }
};

TEST_F(PgFanOut, TheSameRecordsReachTheDatabaseAndTheExportEachCounted) {
  write_fanout();
  auto rows = this->rows(1000);
  rows.push_back("BAD,No price,cat1,");  // rejected once, before the fan-out
  RunOutcome o = run(supplier_file("fan"), feed(rows));
  ASSERT_EQ(o.code, ExitCode::success) << o.error;
  const FlowResult& f = o.flow;
  EXPECT_EQ(f.read, 1001u);
  EXPECT_EQ(f.rejected, 1u);
  EXPECT_EQ(f.copies, 1000u);
  EXPECT_EQ(f.sink.inserted, 1000u);
  EXPECT_EQ(f.sink.written, 1000u);
  EXPECT_TRUE(f.identity_holds());
  ASSERT_EQ(f.sinks.size(), 2u);
  for (const auto& s : f.sinks) {
    EXPECT_EQ(s.in, 1000u) << s.id;
    EXPECT_TRUE(s.identity_holds()) << s.id;
  }
  EXPECT_EQ(test::read_lines(dir_.file("export.ndjson")).size(), 1000u);
  auto c = connect(db_);
  pqxx::read_transaction t(*c);
  EXPECT_EQ(t.exec1("SELECT count(*) FROM product WHERE supplier = 'fan'")[0].as<int>(), 1000);
  auto sinks = t.exec_params(
      "SELECT sink, type, rows_in, rows_written, rows_inserted, rows_rejected, rows_not_processed "
      "FROM sluice_run_sink WHERE run_id = $1 ORDER BY sink",
      o.run_id);
  ASSERT_EQ(sinks.size(), 2u);
  EXPECT_EQ(sinks[0][0].as<std::string>(), "db");
  EXPECT_EQ(sinks[0][4].as<int>(), 1000);
  EXPECT_EQ(sinks[1][0].as<std::string>(), "export");
  EXPECT_EQ(sinks[1][1].as<std::string>(), "ndjson_sink");
  EXPECT_EQ(sinks[1][3].as<int>(), 1000);
  EXPECT_NE(format_summary(o, *pipelines_.back()).find("sink export: in 1000 = written 1000 + rejected 0"),
            std::string::npos)
      << format_summary(o, *pipelines_.back());
}

TEST_F(PgFanOut, ADeadlineCancelsEveryBranchAndCommitsNothingHalfDone) {
  // The feed stalls after 3,000 rows and the deadline cancels the run: the atomic database branch
  // rolls back, the export keeps no partial file, and each sink says what it did not finish.
  write_fanout();
  std::string fifo = dir_.file("stalling.fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::atomic<bool> ended{false};
  std::thread feeder([&] {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);  // blocks until the run opens the feed
    if (fd < 0) return;
    std::string text = "SKU,Name,Category,Price\n";
    for (const auto& r : rows(3000)) text += r + "\n";
    for (std::size_t at = 0; at < text.size();) {
      ssize_t n = ::write(fd, text.data() + at, text.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    while (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ::close(fd);
  });
  RunOutcome o;
  try {
    o = run(supplier_file("atom", "mode: atomic\n"), fifo, false, {{"run.deadline", "2s"}});
  } catch (...) {
    ended = true;
    feeder.join();
    throw;
  }
  ended = true;
  feeder.join();
  const FlowResult& f = o.flow;
  EXPECT_EQ(f.stop, StopReason::deadline);
  EXPECT_EQ(o.code, ExitCode::deadline);
  EXPECT_TRUE(f.identity_holds());
  ASSERT_EQ(f.sinks.size(), 2u);
  for (const auto& s : f.sinks) {
    EXPECT_TRUE(s.identity_holds()) << s.id;
    EXPECT_EQ(s.counts.total(), 0u) << s.id << ": nothing it wrote is kept";
    EXPECT_GT(s.not_processed, 0u) << s.id;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.file("export.ndjson")));
  auto c = connect(db_);
  pqxx::read_transaction t(*c);
  EXPECT_EQ(t.exec1("SELECT count(*) FROM product WHERE supplier = 'atom'")[0].as<int>(), 0);
}

}  // namespace
}  // namespace sluice
