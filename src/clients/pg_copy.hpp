// COPY's text format written and read by hand: a batch's rows are encoded once into one buffer and sent
// in large pieces, at a fraction of the cost of converting and escaping field by field through libpqxx.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class tablewriter;
}

namespace sluice {

// Appends `value` escaped as COPY's text format escapes it: a backslash, and the control characters
// COPY writes as \b \f \n \r \t \v. The server's own output escapes the same way.
void append_copy_text(std::string& out, std::string_view value);

// Appends COPY's NULL marker, \N.
void append_copy_null(std::string& out);

void append_copy_int(std::string& out, std::int64_t value);

// The value of one field of a COPY text line, escapes resolved.
std::string unescape_copy_text(std::string_view field);

// A COPY FROM STDIN into `table` (quoted) and `columns` (quoted), fed with whole encoded lines.
class CopyIn {
 public:
  CopyIn(pqxx::transaction_base& t, const std::string& table, const std::vector<std::string>& columns);
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;
  // Sends `lines` (whole lines, each ending in '\n') in pieces of about 1 MiB: COPY's data is a byte
  // stream, its messages need not follow rows.
  void send(std::string_view lines);
  // Ends the COPY; the server's errors about the rows surface here.
  void complete();

 private:
  std::unique_ptr<pqxx::tablewriter> writer_;
};

}  // namespace sluice
