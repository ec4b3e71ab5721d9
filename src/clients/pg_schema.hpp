// The database schema sluice owns: numbered migrations and the check that a database is current.
#pragma once

#include <pqxx/pqxx>

#include <string>
#include <vector>

namespace sluice {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& migrations();
int latest_schema_version();

// The version a database is at; 0 when sluice never migrated it.
int schema_version(pqxx::connection_base& c);

// Applies every missing migration, each in its own transaction, serialised against concurrent
// migrators by an advisory lock. Returns the versions applied.
std::vector<int> migrate(pqxx::connection_base& c);

// Throws std::runtime_error naming `sluice db migrate` when the database is behind.
void require_current_schema(pqxx::connection_base& c);

}  // namespace sluice
