// The supplier lock: pg_try_advisory_lock on a connection of its own, taken again after a restart.
#include "clients/supplier_lock.hpp"

#include <thread>

namespace sluice {

SupplierLock::SupplierLock(std::string conninfo, std::string supplier, Shard shard, PgTimeouts timeouts)
    : conninfo_(std::move(conninfo)),
      supplier_key_("sluice:" + supplier),
      shard_key_(shard.active() ? "sluice:" + supplier + ":shard " + shard.text() : std::string()),
      timeouts_(timeouts) {}

ConnectOptions SupplierLock::connect_options() const {
  return ConnectOptions{timeouts_.connect, {}, nullptr, "sluice lock"};
}

SupplierLock::~SupplierLock() {
  // Unlocking a lock this session never took makes the server log a warning.
  if (!conn_ || !held_) return;
  try {
    StatementTimer timer(*conn_, timeouts_.statement);
    pqxx::nontransaction n{*conn_};
    n.exec("SELECT pg_advisory_unlock_all()");  // the session holds nothing else
  } catch (const std::exception&) {
    // The lock goes with the session anyway.
  }
}

bool SupplierLock::try_acquire(const ConnectOptions& options) {
  held_ = false;
  conn_.reset();
  conn_ = connect(conninfo_, options);
  StatementTimer timer(*conn_, timeouts_.statement);
  pqxx::nontransaction n{*conn_};
  if (shard_key_.empty()) {
    held_ = n.exec_params1("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", supplier_key_)[0].as<bool>();
  } else {
    // Both or neither: the shared lock is let go again when the shard's is taken.
    held_ = n.exec_params1(
                 "SELECT CASE WHEN pg_try_advisory_lock_shared(hashtextextended($1, 0)) THEN CASE WHEN "
                 "pg_try_advisory_lock(hashtextextended($2, 0)) THEN true ELSE NOT "
                 "pg_advisory_unlock_shared(hashtextextended($1, 0)) END ELSE false END",
                 supplier_key_, shard_key_)[0]
                .as<bool>();
  }
  return held_;
}

bool SupplierLock::still_held(const std::atomic<bool>& stop, std::chrono::milliseconds patience) {
  if (conn_) {
    try {
      StatementTimer timer(*conn_, timeouts_.statement);
      pqxx::nontransaction n{*conn_};
      n.exec("SELECT 1");
      return held_;
    } catch (const std::exception&) {
      // Broken: libpqxx will not reconnect this session (reactivation is off), so take the lock anew.
    }
  }
  held_ = false;
  conn_.reset();
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + patience;
  std::chrono::milliseconds wait{100};
  while (!stop.load()) {
    try {
      ConnectOptions o = connect_options();
      o.cancel = &stop;
      return try_acquire(o);
    } catch (const std::exception&) {
      // The server is not back yet.
    }
    if (Clock::now() + wait >= give_up) return false;
    for (auto slept = std::chrono::milliseconds(0); slept < wait && !stop.load();
         slept += std::chrono::milliseconds(50))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(2));
  }
  return false;
}

}  // namespace sluice
