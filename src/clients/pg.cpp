// PostgreSQL connection strings, redaction and error classification.
#include "clients/pg.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
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
    if (s.compare(i, 3, "***") == 0 &&
        (i + 3 == s.size() || s[i + 3] == ')' || std::isspace(static_cast<unsigned char>(s[i + 3])))) {
      i += 3;  // already redacted (a message quoting a redacted string): the text after it is not a secret
    } else if (i < s.size() && s[i] == '\'') {
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

std::string server_message(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  for (std::string_view prefix : {"ERROR:  ", "FATAL:  ", "PANIC:  "})
    if (line.rfind(prefix, 0) == 0) line = line.substr(prefix.size());
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

namespace {

std::string describe(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// connect() hands its limits to the policy this way: libpqxx constructs the policy from the
// connection string alone.
thread_local const ConnectOptions* t_connect_options = nullptr;

}  // namespace

BoundedConnect::BoundedConnect(const std::string& options)
    : pqxx::connectionpolicy(options),
      timeout_(t_connect_options ? t_connect_options->timeout : std::chrono::milliseconds(0)),
      deadline_(t_connect_options ? t_connect_options->deadline : std::nullopt),
      cancel_(t_connect_options ? t_connect_options->cancel : nullptr),
      name_(t_connect_options ? t_connect_options->name : "sluice") {}

BoundedConnect::handle BoundedConnect::do_startconnect(handle orig) {
  if (orig) return orig;
  using Clock = std::chrono::steady_clock;
  const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
  const char* values[] = {options().c_str(), name_.c_str(), nullptr};
  PGconn* c = PQconnectStartParams(keywords, values, 1);
  if (!c) throw std::bad_alloc();
  auto fail = [&](const std::string& why, bool cancelled) {
    PQfinish(c);
    if (cancelled) throw ConnectCancelled(why);
    throw pqxx::broken_connection(why);
  };
  if (PQstatus(c) == CONNECTION_BAD) fail(PQerrorMessage(c), false);
  std::optional<Clock::time_point> give_up;
  if (timeout_.count() > 0) give_up = Clock::now() + timeout_;
  // libpq ignores connect_timeout when driven like this: the limits are enforced here, in short
  // waits so that a stop is noticed promptly.
  for (PostgresPollingStatusType st = PGRES_POLLING_WRITING; st != PGRES_POLLING_OK; st = PQconnectPoll(c)) {
    if (st == PGRES_POLLING_FAILED) fail(PQerrorMessage(c), false);
    for (;;) {
      auto now = Clock::now();
      if (cancel_ && cancel_->load()) fail("the run was stopped while connecting", true);
      if (deadline_ && now >= *deadline_) fail("the deadline passed while connecting", true);
      if (give_up && now >= *give_up)
        fail("no answer from the server within " + describe(timeout_) + " (connect_timeout)", false);
      pollfd p{PQsocket(c), static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
      int r = ::poll(&p, 1, 100);
      if (r > 0) break;
      if (r < 0 && errno != EINTR) fail(std::string("poll: ") + std::strerror(errno), false);
    }
  }
  return c;
}

std::unique_ptr<PgConnection> connect(const std::string& conninfo, const ConnectOptions& options) {
  try {
    t_connect_options = &options;
    struct Reset {
      ~Reset() { t_connect_options = nullptr; }
    } reset;
    auto c = std::make_unique<PgConnection>(conninfo);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    return c;
  } catch (const ConnectCancelled& e) {
    throw ConnectCancelled("cannot connect to PostgreSQL (" + redact_conninfo(conninfo) + "): " + e.what());
  } catch (const pqxx::broken_connection& e) {
    throw pqxx::broken_connection("cannot connect to PostgreSQL (" + redact_conninfo(conninfo) +
                                  "): " + server_message(redact_error(e.what(), conninfo)));
  }
}

StatementTimer::StatementTimer(pqxx::connection_base& c, std::chrono::milliseconds limit) {
  int fd = c.sock();
  if (fd < 0 || limit.count() <= 0) return;
  thread_ = std::thread([this, fd, limit] {
    std::unique_lock l(m_);
    if (cv_.wait_for(l, limit, [this] { return done_; })) return;
    fired_ = true;
    ::shutdown(fd, SHUT_RDWR);
  });
}

StatementTimer::~StatementTimer() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard l(m_);
    done_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

namespace {

std::string sqlstate_of(const std::exception& e) {
  if (const auto* s = dynamic_cast<const pqxx::sql_error*>(&e)) return s->sqlstate();
  return {};
}

}  // namespace

bool is_transient(const std::exception& e) {
  if (dynamic_cast<const ConnectCancelled*>(&e)) return false;
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) return true;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) return true;
  std::string state = sqlstate_of(e);
  if (state == "40001" || state == "40P01" || state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
      state == "57P03" || state == "53300")
    return true;
  if (!state.empty()) return false;
  // libpq's own words for a connection that went away; libpqxx passes some of them on without a
  // SQLSTATE or as a plain pqxx::failure (a backend terminated during COPY, say).
  std::string_view what = e.what();
  for (std::string_view lost :
       {"server closed the connection unexpectedly", "terminating connection", "no connection to the server",
        "could not receive data from server", "could not send data to server", "connection to server was lost",
        "Lost connection", "SSL connection has been closed unexpectedly", "the database system is shutting down",
        "the database system is starting up", "the database system is in recovery mode", "reactivation is inhibited"})
    if (what.find(lost) != std::string_view::npos) return true;
  return false;
}

bool is_transient(const std::exception& e, const pqxx::connection_base* c) {
  if (dynamic_cast<const ConnectCancelled*>(&e)) return false;
  return is_transient(e) || (c && !c->is_open());
}

bool is_data_error(const std::exception& e) {
  std::string state = sqlstate_of(e);
  // Class 22: data exception; class 23: integrity constraint violation; 21000: cardinality violation.
  // 54000: program limit exceeded, for a row whose key is too long for the B-tree index.
  return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0 || state == "21000" || state == "54000";
}

}  // namespace sluice
