// Process exit codes: part of sluice's interface (cron, systemd and Airflow read them).
#pragma once

namespace sluice {

enum class ExitCode : int {
  success = 0,        // every row accounted for; rejected rows (if any) are in the rejects output
  failure = 1,        // a fatal error at run time (I/O, database, a bug); committed work is consistent
  usage = 2,          // bad command line or configuration; nothing ran
  deadline = 3,       // the run's deadline passed; finished rows were committed, the rest not processed
  error_budget = 4,   // more rejects than the supplier's error budget allows
  locked = 5,         // another run for the same supplier holds the lock
  delist_refused = 6,  // sync: full would delist more than max_delist_ratio; rows were written, none delisted
  checks_failed = 7,   // a URL check found URLs in a class its fail_on names; every result was written
  interrupted = 130,  // SIGINT or SIGTERM; finished rows were committed
};

constexpr int to_int(ExitCode c) {
  return static_cast<int>(c);
}

// The run status recorded in the ledger and the report.
constexpr const char* status_of(ExitCode c) {
  switch (c) {
    case ExitCode::success:
      return "succeeded";
    case ExitCode::deadline:
      return "deadline";
    case ExitCode::error_budget:
      return "error_budget";
    case ExitCode::interrupted:
      return "interrupted";
    case ExitCode::locked:
      return "locked";
    case ExitCode::delist_refused:
      return "delist_refused";
    case ExitCode::checks_failed:
      return "checks_failed";
    case ExitCode::usage:
      return "usage";
    case ExitCode::failure:
      return "failed";
  }
  return "failed";
}

}  // namespace sluice
