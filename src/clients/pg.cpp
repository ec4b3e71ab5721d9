// PostgreSQL connection strings, redaction and error classification.
#include "clients/pg.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

namespace sluice {

std::string resolve_conninfo(const std::string& from_flag) {
  if (!from_flag.empty()) return from_flag;
  if (const char* env = std::getenv("SLUICE_DB")) return env;
  return "";
}

namespace {

bool iequals_at(const std::string& s, std::size_t at, std::string_view word) {
  if (at + word.size() > s.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[at + i])) != word[i]) return false;
  return true;
}

// Finds each "password = value" (value quoted with '...' or up to white space or '&') and calls
// f(begin, end) on the value's bytes.
template <class F>
void for_each_password(const std::string& s, F&& f) {
  for (std::size_t at = 0; at < s.size(); ++at) {
    if (!iequals_at(s, at, "password")) continue;
    std::size_t i = at + 8;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size() || s[i] != '=') continue;
    ++i;
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t begin = i;
    if (i < s.size() && s[i] == '\'') {
      for (++i; i < s.size() && s[i] != '\''; ++i)
        if (s[i] == '\\') ++i;
      if (i < s.size()) ++i;
    } else {
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '&') ++i;
    }
    f(begin, std::min(i, s.size()));
    at = i;
  }
}

}  // namespace

std::string redact_conninfo(const std::string& conninfo) {
  std::string out;
  std::size_t copied = 0;
  for_each_password(conninfo, [&](std::size_t b, std::size_t e) {
    out += conninfo.substr(copied, b - copied) + "***";
    copied = e;
  });
  out += conninfo.substr(copied);
  // URI form: postgresql://user:secret@host/db
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    for (std::size_t at = out.find(scheme); at != std::string::npos; at = out.find(scheme, at + 1)) {
      std::size_t start = at + scheme.size();
      std::size_t end = out.find_first_of("/?@ ", start);
      if (end == std::string::npos || out[end] != '@') continue;
      std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < end) out.replace(colon + 1, end - colon - 1, "***");
    }
  }
  return out;
}

std::string redact_error(const std::string& message, const std::string& conninfo) {
  std::string out = redact_conninfo(message);
  for_each_password(conninfo, [&](std::size_t b, std::size_t e) {
    std::string secret = conninfo.substr(b, e - b);
    if (secret.size() >= 2 && secret.front() == '\'') secret = secret.substr(1, secret.size() - 2);
    if (secret.empty()) return;
    for (std::size_t at; (at = out.find(secret)) != std::string::npos;) out.replace(at, secret.size(), "***");
  });
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
  return state == "40001" || state == "40P01" || state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
         state == "57P03" || state == "53300";
}

bool is_data_error(const std::exception& e) {
  std::string state = sqlstate_of(e);
  // Class 22: data exception; class 23: integrity constraint violation; 21000: cardinality violation.
  return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0 || state == "21000";
}

}  // namespace sluice
