// PostgreSQL plumbing shared by the sink, the ledger and the CLI: connection strings, errors, retries.
#pragma once

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace sluice {

// The connection string from --db, else SLUICE_DB, else "" (libpq then uses PG* variables and defaults).
std::string resolve_conninfo(const std::string& from_flag);

// The connection string with any password replaced by "***", for messages and logs.
std::string redact_conninfo(const std::string& conninfo);

// An error message from libpq/libpqxx with passwords removed.
std::string redact_error(const std::string& message, const std::string& conninfo);

// A server error for people: without libpq's "ERROR:  " prefix, on one line (the first), trimmed.
std::string server_message(const std::string& message);

// How long sluice waits for the database.
struct PgTimeouts {
  std::chrono::milliseconds connect{10000};    // to connect, including the server's first answer
  std::chrono::milliseconds statement{60000};  // for one statement (one batch, in the sink)
};

// Opens connections whose set-up libpq drives without blocking, so that it can be bounded by a
// time limit and given up when the run is being stopped. Everything else is pqxx::connection's.
class BoundedConnect final : public pqxx::connectionpolicy {
 public:
  explicit BoundedConnect(const std::string& options);
  handle do_startconnect(handle orig) override;

 private:
  std::chrono::milliseconds timeout_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  const std::atomic<bool>* cancel_;
  std::string name_;
};
using PgConnection = pqxx::basic_connection_base<BoundedConnect>;

struct ConnectOptions {
  std::chrono::milliseconds timeout{10000};                       // 0: wait as long as it takes
  std::optional<std::chrono::steady_clock::time_point> deadline;  // the run's deadline
  const std::atomic<bool>* cancel = nullptr;                      // set: stop waiting
  std::string name = "sluice";                                    // application_name, unless the string sets one
};

// Thrown by connect() when `cancel` was set or the deadline passed while connecting.
class ConnectCancelled : public pqxx::broken_connection {
 public:
  using pqxx::broken_connection::broken_connection;
};

// Connects with reactivation disabled: libpqxx 6.4 otherwise reconnects silently and loses session
// state (advisory locks, temporary tables). Throws pqxx::broken_connection with a redacted message.
std::unique_ptr<PgConnection> connect(const std::string& conninfo, const ConnectOptions& options = {});

// Breaks the connection if what runs on it gets no answer within `limit`. A frozen server (or one that
// accepts and never answers) would hold the caller for ever, and a cancel request would hang the same
// way; shutting the socket down makes libpq report the connection lost, which callers retry.
class StatementTimer {
 public:
  StatementTimer(pqxx::connection_base& c, std::chrono::milliseconds limit);
  ~StatementTimer();
  StatementTimer(const StatementTimer&) = delete;
  StatementTimer& operator=(const StatementTimer&) = delete;
  bool fired() const { return fired_.load(); }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

// Errors worth retrying: the connection went away, the server is starting or shutting down, or the
// transaction lost a serialization conflict or deadlock.
bool is_transient(const std::exception& e);

// The same, also counting any error after which the connection is no longer usable: libpqxx reports
// a backend terminated during COPY as a plain pqxx::failure.
bool is_transient(const std::exception& e, const pqxx::connection_base* c);

// Errors caused by the rows themselves (a constraint, a bad value, a key too long for its index):
// retrying the same rows will fail again, but splitting the batch isolates them.
bool is_data_error(const std::exception& e);

}  // namespace sluice
