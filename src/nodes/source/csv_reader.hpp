// Streaming RFC 4180 CSV reader with per-record errors and bounded memory.
//
// Framing rules
// - Records end at CRLF, LF or a bare CR outside quotes, or at end of input (a final newline is optional).
// - Each of CRLF, LF and bare CR ends one physical line, inside quoted fields too; CsvRecord::line is the
//   physical line holding the record's first byte.
// - A blank line (nothing between two line ends, or before the first one) is skipped: it yields no
//   record and no record number, but it still counts as a line. A line holding only spaces is a record
//   with one field, a line holding only a delimiter is a record with two empty fields, and `""` is a
//   record with one empty field, so single-column files can still carry empty values.
// - A field is quoted only if its first byte is the quote character. Inside quotes a doubled quote is a
//   literal quote; with an escape character set, escape + any byte is that byte (doubled quotes still
//   work). The escape character has no meaning outside quotes, so Windows paths in unquoted fields
//   survive. Whitespace is never trimmed.
// - A UTF-8 byte-order mark is removed only as the first three bytes of the input.
//
// Bad data never throws and never stops the reader early. A bad record is returned with error != none,
// its line, number and whatever fields were read (possibly truncated), and reading goes on with the next
// record:
// - nul_byte: a NUL byte anywhere in the record (the byte is kept in the field).
// - invalid_utf8: a field that is not valid UTF-8 (overlongs, surrogates and code points above U+10FFFF
//   included) when check_utf8 is set.
// - stray_quote: a quote inside an unquoted field (unless allow_bare_quotes, which keeps it literally),
//   or anything but a delimiter or line end after a closing quote (`"ab"c`). The rest of the field is
//   then read as unquoted text, so the record still ends at the next line end and no lines are merged.
// - field_too_large: a field whose unquoted content exceeds max_field_bytes; the field keeps its first
//   max_field_bytes bytes and the rest of the record is read normally.
// - record_too_large: a record whose raw bytes (quotes and delimiters included, line end excluded)
//   exceed max_record_bytes. From that point nothing more is stored. Resync rule: if the limit is
//   crossed inside an open quote, the quote is treated as runaway and the record ends at the next line
//   end, whatever the quoting; if it is crossed outside quotes, scanning continues with normal quoting
//   rules to the record's real end.
// - unterminated_quote: end of input inside a quoted field; that record is returned and the stream ends.
// Only one error is reported per record: the first one found, except that the framing errors
// (unterminated_quote, record_too_large) replace an earlier content error because they explain it.
//
// Memory is one read chunk plus the current record: its stored content never exceeds max_record_bytes by
// more than a couple of bytes, and it has at most about max_record_bytes + 1 fields, one std::string each.
// Ragged rows are left to the caller.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

struct CsvDialect {
  char delimiter = ',';
  char quote = '"';    // '\0' = no quoting at all (e.g. unquoted tab-separated)
  char escape = '\0';  // '\0' = doubled quote escapes a quote; e.g. '\\' = backslash escape inside quotes
  std::size_t max_field_bytes = 1 << 20;
  std::size_t max_record_bytes = 8 << 20;
  bool strip_bom = true;           // UTF-8 BOM at the very start of input
  bool check_utf8 = true;          // invalid UTF-8 makes the record an error
  bool allow_bare_quotes = false;  // keep a quote inside an unquoted field literally instead of stray_quote
};

enum class CsvErrorCode {
  none,
  unterminated_quote,
  field_too_large,
  record_too_large,
  invalid_utf8,
  nul_byte,
  stray_quote
};

// Stable snake_case codes for reject output, e.g. "unterminated_quote"; "none" for none.
std::string_view to_string(CsvErrorCode code);

struct CsvRecord {
  std::vector<std::string> fields;
  std::uint64_t line = 0;    // 1-based physical line on which the record starts
  std::uint64_t number = 0;  // 1-based record number in the input (header = record 1 if read)
  CsvErrorCode error = CsvErrorCode::none;
  std::string message;  // human message when error != none, e.g. "invalid UTF-8 at byte 3 of field 2"
};

class CsvReader {
 public:
  static constexpr std::size_t default_chunk_size = 64 * 1024;

  // Throws std::invalid_argument for a dialect that cannot frame records (delimiter, quote or escape
  // equal to CR, LF or each other, a NUL delimiter) or a zero chunk size. Bad data never throws.
  CsvReader(std::istream& in, CsvDialect dialect, std::size_t chunk_size = default_chunk_size);

  // False at end of input. Reuses out's storage.
  bool next(CsvRecord& out);

  // Input bytes parsed so far (BOM included); equals the input size once next() has returned false.
  std::uint64_t bytes_consumed() const { return consumed_base_ + pos_; }

  // True if reading stopped because the stream failed rather than reached its end.
  bool io_error() const { return in_.bad(); }

 private:
  enum class FieldEnd { delimiter, line_end, input_end };

  bool refill();
  void prime();
  int peek();
  bool skip_blank_lines();

  FieldEnd read_quoted();
  FieldEnd read_unquoted();
  FieldEnd after_closing_quote();
  FieldEnd resync_to_line_end();
  FieldEnd end_line(char c);

  void begin_field();
  void finish_field();
  void append(const char* data, std::size_t size);
  void append_byte(char c);
  bool take_run(const char* start, const char* stop);
  bool crossed_record_limit();
  bool can_report(CsvErrorCode code) const;
  void report(CsvErrorCode code, std::string message);
  void report_nul();

  std::uint64_t position() const { return consumed_base_ + pos_; }

  std::istream& in_;
  CsvDialect dialect_;
  std::size_t chunk_size_;
  std::size_t capacity_;
  std::unique_ptr<char[]> buffer_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::uint64_t consumed_base_ = 0;
  std::uint64_t line_ = 1;
  std::uint64_t records_ = 0;
  bool eof_ = false;
  bool primed_ = false;
  bool skip_lf_ = false;
  std::array<bool, 256> unquoted_stop_{};
  std::array<bool, 256> quoted_stop_{};

  CsvRecord* out_ = nullptr;
  std::string* field_ = nullptr;
  std::size_t field_count_ = 0;
  std::uint64_t record_start_ = 0;
  bool field_truncated_ = false;
  bool discard_ = false;
};

}  // namespace sluice
