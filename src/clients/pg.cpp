// PostgreSQL connection strings, redaction and error classification.
#include "clients/pg.hpp"

#include <cstdlib>
#include <regex>

namespace sluice {

std::string resolve_conninfo(const std::string& from_flag) {
  if (!from_flag.empty()) return from_flag;
  if (const char* env = std::getenv("SLUICE_DB")) return env;
  return "";
}

std::string redact_conninfo(const std::string& conninfo) {
  // key=value form (password=..., quoted or not) and URI form (postgresql://user:secret@host).
  static const std::regex kv(R"((password\s*=\s*)('([^'\\]|\\.)*'|\S+))", std::regex::icase);
  static const std::regex uri(R"(((?:postgres|postgresql)://[^:/@\s]*:)[^@\s]*@)", std::regex::icase);
  std::string out = std::regex_replace(conninfo, kv, "$1***");
  return std::regex_replace(out, uri, "$1***@");
}

std::string redact_error(const std::string& message, const std::string& conninfo) {
  std::string out = redact_conninfo(message);
  static const std::regex pw(R"(password\s*=\s*('([^'\\]|\\.)*'|\S+))", std::regex::icase);
  std::smatch m;
  if (std::regex_search(conninfo, m, pw)) {
    std::string secret = m[1].str();
    if (secret.size() >= 2 && secret.front() == '\'') secret = secret.substr(1, secret.size() - 2);
    for (std::size_t at; !secret.empty() && (at = out.find(secret)) != std::string::npos;)
      out.replace(at, secret.size(), "***");
  }
  return out;
}

std::unique_ptr<pqxx::connection> connect(const std::string& conninfo) {
  try {
    auto c = std::make_unique<pqxx::connection>(conninfo);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    return c;
  } catch (const pqxx::broken_connection& e) {
    throw pqxx::broken_connection("cannot connect to PostgreSQL (" + redact_conninfo(conninfo) +
                                  "): " + redact_error(e.what(), conninfo));
  }
}

namespace {

std::string sqlstate_of(const std::exception& e) {
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) return s->sqlstate();
  return {};
}

}  // namespace

bool is_transient(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return true;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) return true;
  std::string state = sqlstate_of(e);
  if (state.empty()) return false;
  return state == "40001" || state == "40P01" || state.rfind("08", 0) == 0 || state == "57P01" ||
         state == "57P02" || state == "57P03" || state == "53300";
}

bool is_data_error(const std::exception& e) {
  std::string state = sqlstate_of(e);
  // Class 22: data exception; class 23: integrity constraint violation; 21000: cardinality violation.
  return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0 || state == "21000";
}

}  // namespace sluice
