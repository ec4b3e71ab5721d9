// One run per supplier (or per shard of a supplier): advisory locks on a dedicated connection, held
// for the whole run.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "clients/pg.hpp"
#include "core/shard.hpp"

namespace sluice {

// An unsharded run takes the supplier's lock exclusively. A worker of a sharded run takes it shared
// and its shard's lock exclusively: workers of different shards run side by side, while a second
// worker of the same shard, or an unsharded run, is refused.
class SupplierLock {
 public:
  SupplierLock(std::string conninfo, std::string supplier, Shard shard = {}, PgTimeouts timeouts = {});
  ~SupplierLock();
  bool try_acquire(const ConnectOptions& options);
  bool try_acquire() { return try_acquire(connect_options()); }
  // Checks the lock's connection; if it broke, reconnects and takes the lock again, retrying with
  // backoff while the server is away (a restart) for up to `patience`. False means the lock is lost
  // (another run holds it now, or the server did not come back) and the run must stop. Setting
  // `stop` ends the retries early.
  bool still_held(const std::atomic<bool>& stop, std::chrono::milliseconds patience = std::chrono::seconds(60));

 private:
  ConnectOptions connect_options() const;

  std::string conninfo_;
  std::string supplier_key_, shard_key_;  // shard_key_ empty: an unsharded run
  PgTimeouts timeouts_;
  bool held_ = false;
  std::unique_ptr<PgConnection> conn_;
};

}  // namespace sluice
