// Numbered migrations of sluice's tables.
#include "clients/pg_schema.hpp"

#include <stdexcept>

namespace sluice {
namespace {

// Taken by every migrator for the length of its transaction, so two never interleave.
constexpr long long kMigrationLockKey = 0x736c7569636501;  // "sluice" + 1

const char* kInitial = R"sql(
CREATE TABLE sluice_run (
  id                 bigserial PRIMARY KEY,
  supplier           text NOT NULL,
  graph              text NOT NULL,
  input              text NOT NULL,
  input_sha256       text,
  config_sha256      text NOT NULL,
  dry_run            boolean NOT NULL DEFAULT false,
  started_at         timestamptz NOT NULL DEFAULT now(),
  finished_at        timestamptz,
  status             text NOT NULL DEFAULT 'running',
  exit_code          integer,
  rows_read          bigint NOT NULL DEFAULT 0,
  rows_written       bigint NOT NULL DEFAULT 0,
  rows_inserted      bigint NOT NULL DEFAULT 0,
  rows_updated       bigint NOT NULL DEFAULT 0,
  rows_unchanged     bigint NOT NULL DEFAULT 0,
  rows_rejected      bigint NOT NULL DEFAULT 0,
  rows_not_processed bigint NOT NULL DEFAULT 0,
  error              text
);
CREATE INDEX sluice_run_supplier_started ON sluice_run (supplier, started_at DESC);

CREATE TABLE sluice_reject (
  run_id  bigint NOT NULL REFERENCES sluice_run (id) ON DELETE CASCADE,
  line    bigint NOT NULL,
  node    text NOT NULL,
  code    text NOT NULL,
  message text NOT NULL,
  raw     jsonb NOT NULL
);
CREATE INDEX sluice_reject_run_code ON sluice_reject (run_id, code);

CREATE TABLE product (
  supplier     text NOT NULL,
  sku          text NOT NULL,
  title        text,
  category     text,
  net_minor    bigint CHECK (net_minor >= 0),
  tax_minor    bigint CHECK (tax_minor >= 0),
  gross_minor  bigint CHECK (gross_minor >= 0),
  currency     char(3),
  image_url    text,
  attributes   jsonb NOT NULL DEFAULT '{}',
  row_hash     bigint,
  first_run_id bigint,
  last_run_id  bigint,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (supplier, sku),
  CHECK (gross_minor = net_minor + tax_minor)
);

CREATE TABLE image_cache (
  url           text PRIMARY KEY,
  etag          text,
  last_modified text,
  sha256        text,
  mime          text,
  width         integer,
  height        integer,
  bytes         bigint,
  path          text,
  fetched_at    timestamptz NOT NULL DEFAULT now()
);
)sql";

const char* kSkipped = R"sql(
ALTER TABLE sluice_run ADD COLUMN rows_skipped bigint NOT NULL DEFAULT 0;
)sql";

// Full-feed sync: products that left the feed are delisted, not deleted; the run counts them.
const char* kDelisting = R"sql(
ALTER TABLE product ADD COLUMN delisted_at timestamptz, ADD COLUMN delisted_run_id bigint;
ALTER TABLE sluice_run ADD COLUMN rows_delisted bigint NOT NULL DEFAULT 0,
  ADD COLUMN rows_relisted bigint NOT NULL DEFAULT 0;
)sql";

// One feed across several workers: a run group, each run's shard, the rows other shards kept, and a
// sharded full sync's state.
const char* kShards = R"sql(
ALTER TABLE sluice_run ADD COLUMN group_id text, ADD COLUMN shard integer, ADD COLUMN shard_count integer,
  ADD COLUMN rows_other_shard bigint NOT NULL DEFAULT 0,
  ADD COLUMN sync_ready boolean NOT NULL DEFAULT false, ADD COLUMN rows_seen bigint;
CREATE INDEX sluice_run_group ON sluice_run (supplier, group_id) WHERE group_id IS NOT NULL;
-- A sharded full sync's group that delisted: once, by the last of its workers to complete.
CREATE TABLE sluice_group_sync (
  supplier    text NOT NULL,
  group_id    text NOT NULL,
  shard_count integer NOT NULL,
  run_id      bigint NOT NULL,
  delisted    bigint NOT NULL,
  synced_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (supplier, group_id)
);
)sql";

// Every check of the URL health pipeline: a run compares each URL's check with the URL's latest one from an
// earlier run, so the table keeps history rather than one row per URL.
const char* kUrlChecks = R"sql(
CREATE TABLE url_check (
  id         bigserial PRIMARY KEY,
  run_id     bigint NOT NULL,
  url        text NOT NULL,
  checked_at timestamptz NOT NULL DEFAULT now(),
  outcome    text NOT NULL,
  status     integer,
  latency_ms numeric(12,3),
  final_url  text,
  error      text
);
-- A URL's latest check before a run: one probe per URL, already in the order the lookup wants.
CREATE INDEX url_check_url_run ON url_check (url, run_id DESC, id DESC);
-- A run's own checks, which the comparison starts from.
CREATE INDEX url_check_run ON url_check (run_id);
-- Checks past keep_days, deleted by age: rows arrive in time order, so a small block range index finds them.
CREATE INDEX url_check_checked_at ON url_check USING brin (checked_at);
)sql";

// What each sink of a run did: a graph with several sinks (a fan-out, a router's branches) has a row per
// sink, each with its own identity (in = written + inserted + updated + unchanged + rejected + not processed).
const char* kRunSinks = R"sql(
CREATE TABLE sluice_run_sink (
  run_id             bigint NOT NULL REFERENCES sluice_run (id) ON DELETE CASCADE,
  sink               text NOT NULL,
  type               text NOT NULL,
  rows_in            bigint NOT NULL,
  rows_written       bigint NOT NULL,
  rows_inserted      bigint NOT NULL,
  rows_updated       bigint NOT NULL,
  rows_unchanged     bigint NOT NULL,
  rows_rejected      bigint NOT NULL,
  rows_not_processed bigint NOT NULL,
  PRIMARY KEY (run_id, sink)
);
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> all{
      {1, "runs, rejects, products and the image cache", kInitial},
      {2, "runs count rows that are not products (image-only, parent rows)", kSkipped},
      {3, "products that left a full feed are delisted; runs count delisted and relisted products", kDelisting},
      {4, "runs of one feed sharded across workers: a group, the shard, rows other shards kept", kShards},
      {5, "URL checks with their history: what went down and came back since a URL's previous check", kUrlChecks},
      {6, "what each sink of a run did, for graphs with several sinks", kRunSinks},
  };
  return all;
}

int latest_schema_version() {
  return migrations().back().version;
}

int schema_version(pqxx::connection_base& c) {
  pqxx::read_transaction t{c};
  auto exists = t.exec1("SELECT to_regclass('sluice_schema') IS NOT NULL")[0].as<bool>();
  if (!exists) return 0;
  return t.exec1("SELECT coalesce(max(version), 0) FROM sluice_schema")[0].as<int>();
}

std::vector<int> migrate(pqxx::connection_base& c) {
  std::vector<int> applied;
  {
    pqxx::work t{c};
    t.exec0(
        "CREATE TABLE IF NOT EXISTS sluice_schema (version integer PRIMARY KEY, name text NOT NULL, "
        "applied_at timestamptz NOT NULL DEFAULT now())");
    t.commit();
  }
  for (const auto& m : migrations()) {
    pqxx::work t{c};
    t.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
    if (!t.exec_params("SELECT 1 FROM sluice_schema WHERE version = $1", m.version).empty()) continue;
    t.exec0(m.sql);
    t.exec_params0("INSERT INTO sluice_schema (version, name) VALUES ($1, $2)", m.version, m.name);
    t.commit();
    applied.push_back(m.version);
  }
  return applied;
}

void require_current_schema(pqxx::connection_base& c) {
  int have = schema_version(c);
  int want = latest_schema_version();
  if (have < want)
    throw std::runtime_error("the database schema is at version " + std::to_string(have) + ", sluice needs " +
                             std::to_string(want) + ": run `sluice db migrate` first");
  if (have > want)
    throw std::runtime_error("the database schema is at version " + std::to_string(have) +
                             ", newer than this sluice knows (" + std::to_string(want) + "): upgrade sluice");
}

}  // namespace sluice
