// url_history against a real PostgreSQL: every check kept under its run, what went down and came back since
// each URL's previous check, dry and incomplete runs, old checks deleted, and a write cut short.
#include <gtest/gtest.h>

#include <future>

#include "clients/pg_ledger.hpp"
#include "integration/pg_fixture.hpp"
#include "nodes/sink/url_history.hpp"

namespace sluice {
namespace {

using test::PgTest;

const char* kSupplier = "supplier: links\ncurrency: EUR\nfields:\n  sku: {column: SKU}\n";

// The node built from its YAML entry through its type's factory, the way the plan builds it.
test::BuiltNode build_history(const std::string& settings, test::SupplierFixture& supplier, Schema& schema) {
  test::BuiltNode b;
  b.doc = std::make_unique<Document>(test::parse_document("id: history\ntype: url_history\n" + settings, "graph.yaml"));
  b.entry = std::make_unique<NodeEntry>();
  b.entry->id = "history";
  b.entry->type = "url_history";
  b.entry->settings = b.doc->root();
  const ObjectSpec& spec = url_history_type().spec();  // a sink has no settings common to its role
  check_object(*b.doc, b.doc->root(), spec, b.entry->path(), b.diags, b.doc->root(), {"id", "type"});
  NodeBuildContext ctx{*b.entry, *b.doc, Settings(b.doc->root(), &spec), supplier.supplier, *supplier.doc,
                       schema,   b.diags};
  b.body = url_history_type().make(ctx);
  return b;
}

SinkNode& sink_of(test::BuiltNode& built) {
  return *std::get<std::unique_ptr<SinkNode>>(built.body);
}

// "url: before -> now" for each listed change, in the order given.
std::vector<std::string> listed(const std::vector<HealthChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.url + ": " + c.before + " -> " + c.now);
  return out;
}

using Checks = std::vector<std::pair<std::string, std::string>>;  // url, outcome

// How a test run of the node ends, and with which settings.
struct RunAs {
  bool complete = true;
  bool dry_run = false;
  std::string settings{};
};

// What a test run of the node did.
struct Stored {
  std::int64_t id = 0;
  WriteCounts written, undone;
  HealthChanges changes;
};

class UrlHistoryTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    // Fields in another order than the table's columns, with one the history does not store.
    for (std::string_view name : {url_fields::occurrences, url_fields::outcome, url_fields::url, url_fields::error,
                                  url_fields::status, url_fields::final_url, url_fields::total_ms})
      schema_.add(name);
    supplier_ = test::load_supplier(kSupplier);
    ledger_ = std::make_unique<Ledger>(db_);
  }

  std::int64_t new_run(bool dry_run = false) {
    return ledger_->start(RunStart{"links", "urls.yaml", "-", "0", dry_run, {}, {}});
  }

  RunContext context(std::int64_t run_id, bool dry_run = false) {
    RunContext ctx;
    ctx.db = db_;
    ctx.run_id = run_id;
    ctx.dry_run = dry_run;
    ctx.database = true;
    return ctx;
  }

  Value& at(Record& r, std::string_view field) { return r.values[*schema_.find(field)]; }

  // A record as http_check leaves it; an empty url or outcome stays null.
  Record check(const std::string& url, const std::string& outcome) {
    Record r;
    r.line = ++line_;
    r.values.resize(schema_.size());
    r.raw = {url, outcome};
    if (!url.empty()) at(r, url_fields::url) = url;
    if (!outcome.empty()) at(r, url_fields::outcome) = outcome;
    at(r, url_fields::occurrences) = std::int64_t{1};
    at(r, url_fields::total_ms) = *Decimal::parse("12.5").value;
    if (outcome == "up") at(r, url_fields::status) = std::int64_t{200};
    if (outcome == "redirected") {
      at(r, url_fields::status) = std::int64_t{301};
      at(r, url_fields::final_url) = url + "/moved";
    }
    if (outcome == "timeout") at(r, url_fields::error) = std::string("no answer within 10 s");
    return r;
  }

  Batch batch(const Checks& checks) {
    Batch b;
    for (const auto& [url, outcome] : checks) b.records.push_back(check(url, outcome));
    return b;
  }

  // One run of the node: the checks in batches of four, then close().
  Stored run(const Checks& checks, const RunAs& how = {}) {
    Stored out;
    out.id = new_run(how.dry_run);
    auto built = build_history(how.settings, *supplier_, schema_);
    EXPECT_TRUE(built.diags.empty()) << built.diags.format();
    SinkNode& sink = sink_of(built);
    sink.open(context(out.id, how.dry_run));
    for (std::size_t from = 0; from < checks.size(); from += 4) {
      Batch b = batch(Checks(checks.begin() + static_cast<std::ptrdiff_t>(from),
                             checks.begin() + static_cast<std::ptrdiff_t>(std::min(checks.size(), from + 4))));
      out.written += sink.write(b);
      EXPECT_TRUE(b.rejects.empty());
    }
    out.undone = sink.close(how.complete);
    out.changes = sink.health_changes();
    return out;
  }

  std::int64_t stored_of(std::int64_t run_id) {
    return scalar("SELECT count(*) FROM url_check WHERE run_id = " + std::to_string(run_id));
  }

  Schema schema_;
  std::unique_ptr<test::SupplierFixture> supplier_;
  std::unique_ptr<Ledger> ledger_;
  std::uint64_t line_ = 1;
};

TEST_F(UrlHistoryTest, ARunNamesTheUrlsThatWentDownAndCameBackSinceTheirPreviousCheck) {
  Stored a = run({{"https://a.test/down-from-up", "up"},
                  {"https://a.test/down-from-redirected", "redirected"},
                  {"https://a.test/back-from-timeout", "timeout"},
                  {"https://a.test/back-from-client-error", "client_error"},
                  {"https://a.test/steady", "up"},
                  {"https://a.test/still-failing", "server_error"},
                  {"https://a.test/up-then-redirected", "up"},
                  {"https://a.test/failing-differently", "dns_error"},
                  {"https://a.test/not-checked-again", "up"},
                  {"https://B.test/down", "up"}});
  EXPECT_TRUE(a.changes.known);
  EXPECT_EQ(a.changes.first_seen, 10u);
  EXPECT_EQ(a.changes.went_down, 0u);
  EXPECT_EQ(a.changes.came_back, 0u);
  EXPECT_TRUE(a.changes.down.empty());
  EXPECT_TRUE(a.changes.back.empty());

  Stored b = run({{"https://a.test/down-from-up", "timeout"},
                  {"https://a.test/down-from-redirected", "server_error"},
                  {"https://a.test/back-from-timeout", "up"},
                  {"https://a.test/back-from-client-error", "redirected"},
                  {"https://a.test/steady", "up"},
                  {"https://a.test/still-failing", "server_error"},
                  {"https://a.test/up-then-redirected", "redirected"},
                  {"https://a.test/failing-differently", "timeout"},
                  {"https://B.test/down", "client_error"},
                  {"https://a.test/new-up", "up"},
                  {"https://a.test/new-failing", "timeout"}});
  EXPECT_EQ(b.written.inserted, 11u);
  EXPECT_EQ(b.undone.total(), 0u);
  EXPECT_EQ(stored_of(b.id), 11);
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(b.id)), 11);
  ASSERT_TRUE(b.changes.known);
  EXPECT_EQ(b.changes.went_down, 3u);
  EXPECT_EQ(b.changes.came_back, 2u);
  EXPECT_EQ(b.changes.first_seen, 2u);
  // In byte order: the upper-case host first.
  EXPECT_EQ(listed(b.changes.down),
            (std::vector<std::string>{"https://B.test/down: up -> client_error",
                                      "https://a.test/down-from-redirected: redirected -> server_error",
                                      "https://a.test/down-from-up: up -> timeout"}));
  EXPECT_EQ(listed(b.changes.back),
            (std::vector<std::string>{"https://a.test/back-from-client-error: client_error -> redirected",
                                      "https://a.test/back-from-timeout: timeout -> up"}));

  // The previous check is the latest from an earlier run: b's, not a's (where down-from-up was up).
  Stored c = run({{"https://a.test/down-from-up", "up"},
                  {"https://a.test/back-from-timeout", "up"},
                  {"https://a.test/new-failing", "up"}});
  ASSERT_TRUE(c.changes.known);
  EXPECT_EQ(c.changes.went_down, 0u);
  EXPECT_EQ(c.changes.first_seen, 0u);
  EXPECT_EQ(listed(c.changes.back), (std::vector<std::string>{"https://a.test/down-from-up: timeout -> up",
                                                              "https://a.test/new-failing: timeout -> up"}));
  EXPECT_EQ(c.changes.came_back, 2u);
}

TEST_F(UrlHistoryTest, TheListsHoldTheFirstUrlsAndTheCountsAllOfThem) {
  Checks up, down;
  for (int i = 0; i < 130; ++i) {
    char url[40];
    std::snprintf(url, sizeof url, "https://a.test/p%03d", 129 - i);  // written in reverse order
    up.emplace_back(url, "up");
    down.emplace_back(url, "timeout");
  }
  Stored a = run(up);
  EXPECT_EQ(a.changes.first_seen, 130u);
  Stored b = run(down);
  ASSERT_TRUE(b.changes.known);
  EXPECT_EQ(b.changes.went_down, 130u);
  ASSERT_EQ(b.changes.down.size(), HealthChanges::listed_max);
  EXPECT_EQ(b.changes.down.front().url, "https://a.test/p000");
  EXPECT_EQ(b.changes.down.back().url, "https://a.test/p099");
  EXPECT_EQ(b.changes.down.back().before, "up");
  EXPECT_EQ(b.changes.down.back().now, "timeout");
  EXPECT_EQ(b.changes.first_seen, 0u);
}

TEST_F(UrlHistoryTest, ADryRunCountsItsChecksAndStoresNone) {
  Stored a = run({{"https://a.test/x", "up"}, {"https://a.test/y", "timeout"}});
  Stored dry =
      run({{"https://a.test/x", "timeout"}, {"https://a.test/y", "up"}, {"https://a.test/z", "up"}}, {.dry_run = true});
  EXPECT_EQ(dry.written.inserted, 3u);
  EXPECT_EQ(dry.undone.total(), 0u);
  EXPECT_FALSE(dry.changes.known);
  EXPECT_EQ(scalar("SELECT count(*) FROM url_check"), 2);
  EXPECT_EQ(scalar("SELECT rows_inserted FROM sluice_run WHERE id = " + std::to_string(dry.id)), 0);

  // The next run compares with a's checks: the dry run left none behind.
  Stored c = run({{"https://a.test/x", "timeout"}, {"https://a.test/y", "timeout"}, {"https://a.test/z", "up"}});
  ASSERT_TRUE(c.changes.known);
  EXPECT_EQ(listed(c.changes.down), std::vector<std::string>{"https://a.test/x: up -> timeout"});
  EXPECT_EQ(c.changes.came_back, 0u);
  EXPECT_EQ(c.changes.first_seen, 1u);
}

TEST_F(UrlHistoryTest, ARunThatDidNotCompleteKeepsItsChecksAndSaysNothingOfChanges) {
  run({{"https://a.test/x", "up"}});
  Stored b = run({{"https://a.test/x", "timeout"}, {"https://a.test/y", "up"}}, {.complete = false});
  EXPECT_FALSE(b.changes.known);
  EXPECT_EQ(b.changes.went_down, 0u);
  EXPECT_EQ(b.undone.total(), 0u);  // each batch committed
  EXPECT_EQ(stored_of(b.id), 2);

  // Its checks are history like any other: x was already down at b.
  Stored c = run({{"https://a.test/x", "timeout"}, {"https://a.test/y", "up"}});
  ASSERT_TRUE(c.changes.known);
  EXPECT_EQ(c.changes.went_down, 0u);
  EXPECT_EQ(c.changes.first_seen, 0u);
}

TEST_F(UrlHistoryTest, ARunThatCompletesDeletesChecksOlderThanKeepDays) {
  std::int64_t old_run = new_run();
  pqxx::nontransaction(*connect(db_))
      .exec0("INSERT INTO url_check (run_id, url, outcome, checked_at) VALUES (" + std::to_string(old_run) +
             ", 'https://a.test/old', 'up', now() - interval '100 days'), (" + std::to_string(old_run) +
             ", 'https://a.test/recent', 'up', now() - interval '10 days')");
  auto old_checks = [&] { return scalar("SELECT count(*) FROM url_check WHERE url = 'https://a.test/old'"); };

  run({{"https://a.test/other", "up"}}, {.settings = "keep_days: 0\n"});
  EXPECT_EQ(old_checks(), 1);
  run({{"https://a.test/other", "up"}}, {.complete = false, .settings = "keep_days: 30\n"});
  EXPECT_EQ(old_checks(), 1);
  run({{"https://a.test/other", "up"}}, {.dry_run = true, .settings = "keep_days: 30\n"});
  EXPECT_EQ(old_checks(), 1);

  // Compared before the deletion: the old check still counts as the previous one.
  Stored d = run({{"https://a.test/old", "timeout"}}, {.settings = "keep_days: 30\n"});
  EXPECT_EQ(listed(d.changes.down), std::vector<std::string>{"https://a.test/old: up -> timeout"});
  EXPECT_EQ(old_checks(), 1);  // d's own
  EXPECT_EQ(scalar("SELECT count(*) FROM url_check WHERE run_id = " + std::to_string(old_run)), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM url_check WHERE url = 'https://a.test/recent'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM url_check WHERE url = 'https://a.test/other'"), 2);
}

TEST_F(UrlHistoryTest, ACheckIsStoredWithItsStatusLatencyFinalUrlAndError) {
  auto built = build_history("", *supplier_, schema_);
  SinkNode& sink = sink_of(built);
  std::int64_t id = new_run();
  sink.open(context(id));
  Batch b = batch({{"https://a.test/moved", "redirected"}, {"https://a.test/quiet", "timeout"}});
  at(b.records[0], url_fields::total_ms) = *Decimal::parse("12.3456").value;
  at(b.records[1], url_fields::total_ms) = Value{};
  at(b.records[1], url_fields::error) = std::string("tab\there\nback\\slash");
  EXPECT_EQ(sink.write(b).inserted, 2u);
  sink.close(true);

  auto c = connect(db_);
  pqxx::read_transaction t(*c);
  auto moved = t.exec1(
      "SELECT run_id, outcome, status, latency_ms::text, final_url, error IS NULL FROM url_check WHERE url = "
      "'https://a.test/moved'");
  EXPECT_EQ(moved[0].as<std::int64_t>(), id);
  EXPECT_EQ(moved[1].as<std::string>(), "redirected");
  EXPECT_EQ(moved[2].as<int>(), 301);
  EXPECT_EQ(moved[3].as<std::string>(), "12.346");
  EXPECT_EQ(moved[4].as<std::string>(), "https://a.test/moved/moved");
  EXPECT_TRUE(moved[5].as<bool>());
  auto quiet = t.exec1(
      "SELECT status IS NULL, latency_ms IS NULL, final_url IS NULL, error FROM url_check WHERE url = "
      "'https://a.test/quiet'");
  EXPECT_TRUE(quiet[0].as<bool>());
  EXPECT_TRUE(quiet[1].as<bool>());
  EXPECT_TRUE(quiet[2].as<bool>());
  EXPECT_EQ(quiet[3].as<std::string>(), "tab\there\nback\\slash");
}

TEST_F(UrlHistoryTest, RecordsWithoutUrlOrOutcomeAreRejectedAndTheRestStored) {
  auto built = build_history("", *supplier_, schema_);
  SinkNode& sink = sink_of(built);
  std::int64_t id = new_run();
  sink.open(context(id));
  Batch b = batch({{"", "up"},
                   {"https://a.test/unchecked", ""},
                   {"https://a.test/fine", "up"},
                   {"https://a.test/odd-status", "up"}});
  at(b.records[3], url_fields::status) = std::string("200");
  EXPECT_EQ(sink.write(b).inserted, 1u);
  ASSERT_EQ(b.records.size(), 1u);
  ASSERT_EQ(b.rejects.size(), 3u);
  for (const auto& r : b.rejects) {
    EXPECT_EQ(r.code, "url_history");
    EXPECT_EQ(r.node, "history");
  }
  EXPECT_NE(b.rejects[0].message.find("'url'"), std::string::npos) << b.rejects[0].message;
  EXPECT_NE(b.rejects[1].message.find("'check_outcome'"), std::string::npos) << b.rejects[1].message;
  EXPECT_NE(b.rejects[2].message.find("'check_status'"), std::string::npos) << b.rejects[2].message;
  EXPECT_EQ(b.rejects[1].line + 1, b.records[0].line);
  sink.close(true);
  EXPECT_EQ(stored_of(id), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM url_check WHERE url = 'https://a.test/fine'"), 1);
}

TEST_F(UrlHistoryTest, AbortCutsAWriteShortAndStoresNothing) {
  // Without abort() the COPY would wait for the lock for the ten minutes of its statement_timeout.
  auto built = build_history("statement_timeout: 10m\n", *supplier_, schema_);
  SinkNode& sink = sink_of(built);
  sink.open(context(new_run()));
  auto holder = connect(db_);
  pqxx::work lock(*holder);
  lock.exec0("LOCK TABLE url_check IN ACCESS EXCLUSIVE MODE");
  Batch b = batch({{"https://a.test/x", "up"}});
  auto writing = std::async(std::launch::async, [&]() -> std::string {
    try {
      sink.write(b);
      return "written";
    } catch (const RunCancelled&) {
      return "cancelled";
    } catch (const std::exception& e) {
      return e.what();
    }
  });
  bool waiting = false;
  for (int i = 0; i < 200 && !waiting; ++i) {
    waiting = scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + name_ +
                     "' AND application_name = 'sluice url_history' AND wait_event_type = 'Lock'") > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(waiting);
  sink.abort();
  const bool ended = writing.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  lock.abort();
  EXPECT_TRUE(ended);
  EXPECT_EQ(writing.get(), "cancelled");
  EXPECT_EQ(sink.close(false).total(), 0u);
  EXPECT_FALSE(sink.health_changes().known);
  EXPECT_EQ(scalar("SELECT count(*) FROM url_check"), 0);
}

TEST(UrlHistory, RecordsWithoutTheCheckFieldsAreAStartUpError) {
  auto supplier = test::load_supplier(kSupplier);
  Schema schema;
  for (std::string_view name : {url_fields::url, url_fields::outcome, url_fields::status}) schema.add(name);
  auto built = build_history("", *supplier, schema);
  ASSERT_TRUE(built.diags.empty()) << built.diags.format();  // the example builds on its own
  try {
    sink_of(built).open(RunContext{});
    FAIL() << "expected a start-up error";
  } catch (const StartupError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("graph.yaml:1:"), std::string::npos) << what;
    EXPECT_NE(what.find("'check_total_ms', 'check_final_url', 'check_error'"), std::string::npos) << what;
    EXPECT_EQ(what.find("'check_status'"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace sluice
