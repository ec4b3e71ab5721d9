// PostgreSQL plumbing shared by the sink, the ledger and the CLI: connection strings, errors, retries.
#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace sluice {

// The connection string from --db, else SLUICE_DB, else "" (libpq then uses PG* variables and defaults).
std::string resolve_conninfo(const std::string& from_flag);

// The connection string with any password replaced by "***", for messages and logs.
std::string redact_conninfo(const std::string& conninfo);

// An error message from libpq/libpqxx with passwords removed.
std::string redact_error(const std::string& message, const std::string& conninfo);

// Connects with reactivation disabled: libpqxx 6.4 otherwise reconnects silently and loses session
// state (advisory locks, temporary tables). Throws pqxx::broken_connection with a redacted message.
std::unique_ptr<pqxx::connection> connect(const std::string& conninfo);

// Errors worth retrying: the connection went away, the server is starting or shutting down, or the
// transaction lost a serialization conflict or deadlock.
bool is_transient(const std::exception& e);

// Errors caused by the rows themselves (a constraint, a bad value): retrying the same rows will fail
// again, but splitting the batch isolates them.
bool is_data_error(const std::exception& e);

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
};

}  // namespace sluice
