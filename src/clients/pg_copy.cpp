// COPY text encoding, decoding and sending.
#include "clients/pg_copy.hpp"

#include <pqxx/tablewriter>

#include <charconv>

namespace sluice {

void append_copy_text(std::string& out, std::string_view value) {
  std::size_t from = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    char letter = 0;
    switch (c) {
      case '\\': letter = '\\'; break;
      case '\b': letter = 'b'; break;
      case '\f': letter = 'f'; break;
      case '\n': letter = 'n'; break;
      case '\r': letter = 'r'; break;
      case '\t': letter = 't'; break;
      case '\v': letter = 'v'; break;
      default: continue;
    }
    out.append(value.data() + from, i - from);
    out.push_back('\\');
    out.push_back(letter);
    from = i + 1;
  }
  out.append(value.data() + from, value.size() - from);
}

void append_copy_null(std::string& out) {
  out += "\\N";
}

void append_copy_int(std::string& out, std::int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

std::string unescape_copy_text(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out.push_back(c);
      continue;
    }
    char e = field[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      default: out.push_back(e); break;  // \\ and any other escaped character stand for themselves
    }
  }
  return out;
}

// libpqxx 6.4 sends raw COPY data only through tablewriter (stream_to keeps it private); tablewriter
// is marked deprecated in favour of stream_to, which converts field by field.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
CopyIn::CopyIn(pqxx::transaction_base& t, const std::string& table, const std::vector<std::string>& columns)
    : writer_(std::make_unique<pqxx::tablewriter>(t, table, columns.begin(), columns.end())) {}

CopyIn::~CopyIn() = default;

void CopyIn::send(std::string_view lines) {
  constexpr std::size_t piece = 1 << 20;
  std::size_t from = 0;
  while (from < lines.size()) {
    std::size_t end = lines.size();
    if (from + piece < lines.size()) {
      std::size_t nl = lines.find('\n', from + piece);
      if (nl != std::string_view::npos) end = nl + 1;
    }
    // write_raw_line() adds the newline that ends the piece.
    writer_->write_raw_line(std::string(lines.substr(from, end - from - 1)));
    from = end;
  }
}

void CopyIn::complete() {
  writer_->complete();
}
#pragma GCC diagnostic pop

}  // namespace sluice
