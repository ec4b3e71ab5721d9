// The run ledger: one row per run, rejected rows beside it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "clients/pg.hpp"
#include "core/record.hpp"
#include "core/shard.hpp"

namespace sluice {

struct RunStart {
  std::string supplier, graph, input, config_sha256;
  bool dry_run = false;
  std::string group;  // the workers of a sharded run share it; may be empty
  Shard shard;
};

// One sink's counts, for a graph with several.
struct RunSinkEnd {
  std::string sink, type;
  std::uint64_t in = 0, written = 0, inserted = 0, updated = 0, unchanged = 0, rejected = 0, not_processed = 0;
};

struct RunEnd {
  std::string status;  // succeeded, failed, deadline, error_budget, interrupted
  int exit_code = 0;
  std::string input_sha256;
  std::uint64_t read = 0, written = 0, inserted = 0, updated = 0, unchanged = 0, rejected = 0, not_processed = 0,
                skipped = 0, delisted = 0, relisted = 0, other_shard = 0;
  std::string error;
  std::vector<RunSinkEnd> sinks;
};

class Ledger {
 public:
  explicit Ledger(const std::string& conninfo, PgTimeouts timeouts = {});
  // Records a new run; runs of the supplier left "running" by a process that died become "abandoned".
  std::int64_t start(const RunStart& run);
  // Thread-safe. Rejected rows of the run, written as they come so that a crash keeps them.
  void add_rejects(std::int64_t run_id, const std::vector<Reject>& rejects, const std::vector<std::string>* header);
  void finish(std::int64_t run_id, const RunEnd& end);

 private:
  template <class F>
  auto with_retry(F&& f);

  std::mutex mutex_;
  std::string conninfo_;
  PgTimeouts timeouts_;
  std::unique_ptr<PgConnection> conn_;
};

// `sluice runs` and `sluice runs show ID`.
std::string format_runs(pqxx::connection_base& c, int limit);
std::string format_run(pqxx::connection_base& c, std::int64_t id);

}  // namespace sluice
