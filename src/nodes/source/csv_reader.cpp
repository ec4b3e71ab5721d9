// Streaming RFC 4180 CSV reader: chunked input, per-record errors, bounded memory.
#include "nodes/source/csv_reader.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "core/utf8.hpp"

namespace sluice {

namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Offset of the first byte of the first ill-formed sequence (Unicode table 3-7), or npos.
std::size_t find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, s + i, sizeof word);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    while (i < n && s[i] < 0x80) ++i;
    if (i == n) break;
    const int length = utf8_sequence(text, i);
    if (length <= 0) return i;
    i += static_cast<std::size_t>(length);
  }
  return npos;
}

bool is_framing(CsvErrorCode code) {
  return code == CsvErrorCode::unterminated_quote || code == CsvErrorCode::record_too_large;
}

const char* scan(const char* p, const char* end, const std::array<bool, 256>& stop) {
  while (end - p >= 4) {
    if (stop[static_cast<unsigned char>(p[0])]) return p;
    if (stop[static_cast<unsigned char>(p[1])]) return p + 1;
    if (stop[static_cast<unsigned char>(p[2])]) return p + 2;
    if (stop[static_cast<unsigned char>(p[3])]) return p + 3;
    p += 4;
  }
  while (p != end && !stop[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

std::string field_position(std::size_t byte, std::size_t field) {
  return "at byte " + std::to_string(byte) + " of field " + std::to_string(field);
}

}  // namespace

std::string_view to_string(CsvErrorCode code) {
  switch (code) {
    case CsvErrorCode::none:
      return "none";
    case CsvErrorCode::unterminated_quote:
      return "unterminated_quote";
    case CsvErrorCode::field_too_large:
      return "field_too_large";
    case CsvErrorCode::record_too_large:
      return "record_too_large";
    case CsvErrorCode::invalid_utf8:
      return "invalid_utf8";
    case CsvErrorCode::nul_byte:
      return "nul_byte";
    case CsvErrorCode::stray_quote:
      return "stray_quote";
  }
  return "unknown";
}

CsvReader::CsvReader(std::istream& in, CsvDialect dialect, std::size_t chunk_size)
    : in_(in), dialect_(dialect), chunk_size_(chunk_size), capacity_(std::max<std::size_t>(chunk_size, 3)) {
  const auto is_line_end = [](char c) { return c == '\r' || c == '\n'; };
  if (chunk_size_ == 0) throw std::invalid_argument("csv: chunk size must be positive");
  if (dialect_.delimiter == '\0' || is_line_end(dialect_.delimiter)) {
    throw std::invalid_argument("csv: delimiter must not be NUL, CR or LF");
  }
  if (dialect_.quote != '\0' && (is_line_end(dialect_.quote) || dialect_.quote == dialect_.delimiter)) {
    throw std::invalid_argument("csv: quote must differ from the delimiter, CR and LF");
  }
  if (dialect_.escape == dialect_.quote) dialect_.escape = '\0';
  if (dialect_.escape != '\0') {
    if (dialect_.quote == '\0') throw std::invalid_argument("csv: an escape character needs a quote character");
    if (is_line_end(dialect_.escape) || dialect_.escape == dialect_.delimiter) {
      throw std::invalid_argument("csv: escape must differ from the delimiter, CR and LF");
    }
  }
  buffer_ = std::make_unique<char[]>(capacity_);

  const auto mark = [](std::array<bool, 256>& table, char c) { table[static_cast<unsigned char>(c)] = true; };
  for (auto* table : {&unquoted_stop_, &quoted_stop_}) {
    mark(*table, '\r');
    mark(*table, '\n');
    mark(*table, '\0');
  }
  mark(unquoted_stop_, dialect_.delimiter);
  if (dialect_.quote != '\0') {
    if (!dialect_.allow_bare_quotes) mark(unquoted_stop_, dialect_.quote);
    mark(quoted_stop_, dialect_.quote);
  }
  if (dialect_.escape != '\0') mark(quoted_stop_, dialect_.escape);
}

bool CsvReader::refill() {
  consumed_base_ += end_;
  pos_ = 0;
  end_ = 0;
  if (eof_) return false;
  in_.read(buffer_.get(), static_cast<std::streamsize>(chunk_size_));
  end_ = static_cast<std::size_t>(in_.gcount());
  // A short read only happens at end of input or on failure; not asking again avoids blocking on pipes.
  if (end_ < chunk_size_) eof_ = true;
  return end_ > 0;
}

void CsvReader::prime() {
  primed_ = true;
  // The BOM may straddle chunks when the chunk size is tiny, so gather three bytes first.
  while (end_ < 3 && !eof_) {
    const std::size_t want = std::min(chunk_size_, capacity_ - end_);
    in_.read(buffer_.get() + end_, static_cast<std::streamsize>(want));
    const auto got = static_cast<std::size_t>(in_.gcount());
    end_ += got;
    if (got < want) eof_ = true;
  }
  if (dialect_.strip_bom && end_ >= 3 && std::memcmp(buffer_.get(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
}

int CsvReader::peek() {
  if (pos_ == end_ && !refill()) return -1;
  return static_cast<unsigned char>(buffer_[pos_]);
}

bool CsvReader::skip_blank_lines() {
  for (;;) {
    const int c = peek();
    if (c < 0) return false;
    if (c == '\n') {
      ++pos_;
      if (skip_lf_)
        skip_lf_ = false;
      else
        ++line_;
      continue;
    }
    skip_lf_ = false;
    if (c != '\r') return true;
    ++pos_;
    ++line_;
    skip_lf_ = true;
  }
}

bool CsvReader::next(CsvRecord& out) {
  if (!primed_) prime();
  if (!skip_blank_lines()) return false;

  out_ = &out;
  out.line = line_;
  out.number = ++records_;
  out.error = CsvErrorCode::none;
  out.message.clear();
  record_start_ = position();
  field_count_ = 0;
  discard_ = false;

  for (;;) {
    begin_field();
    FieldEnd end;
    const int c = peek();
    if (c >= 0 && dialect_.quote != '\0' && static_cast<char>(c) == dialect_.quote) {
      ++pos_;
      end = read_quoted();
    } else {
      end = read_unquoted();
    }
    finish_field();
    if (end != FieldEnd::delimiter) break;
  }
  out.fields.resize(field_count_);
  out_ = nullptr;
  field_ = nullptr;
  return true;
}

void CsvReader::begin_field() {
  field_truncated_ = false;
  if (discard_) {
    field_ = nullptr;
    return;
  }
  auto& fields = out_->fields;
  if (field_count_ < fields.size()) {
    field_ = &fields[field_count_];
    field_->clear();
  } else {
    field_ = &fields.emplace_back();
  }
  ++field_count_;
}

void CsvReader::finish_field() {
  if (field_ == nullptr || !dialect_.check_utf8 || out_->error != CsvErrorCode::none) return;
  const std::size_t bad = find_invalid_utf8(*field_);
  if (bad != npos) report(CsvErrorCode::invalid_utf8, "invalid UTF-8 " + field_position(bad + 1, field_count_));
}

void CsvReader::append(const char* data, std::size_t size) {
  if (discard_ || field_truncated_ || size == 0) return;
  const std::size_t room = dialect_.max_field_bytes - field_->size();
  if (size <= room) {
    field_->append(data, size);
    return;
  }
  field_->append(data, room);
  field_truncated_ = true;
  if (can_report(CsvErrorCode::field_too_large)) {
    report(CsvErrorCode::field_too_large, "field " + std::to_string(field_count_) + " exceeds max_field_bytes (" +
                                              std::to_string(dialect_.max_field_bytes) + ")");
  }
}

void CsvReader::append_byte(char c) {
  append(&c, 1);
}

bool CsvReader::take_run(const char* start, const char* stop) {
  pos_ = static_cast<std::size_t>(stop - buffer_.get());
  const auto size = static_cast<std::size_t>(stop - start);
  const std::uint64_t used = position() - record_start_;
  if (discard_ || used <= dialect_.max_record_bytes) {
    append(start, size);
    return false;
  }
  // Keep the part that fits so the error record shows where the oversized record went wrong.
  const std::uint64_t before = used - size;
  append(start, before < dialect_.max_record_bytes ? static_cast<std::size_t>(dialect_.max_record_bytes - before) : 0);
  return crossed_record_limit();
}

bool CsvReader::crossed_record_limit() {
  if (discard_ || position() - record_start_ <= dialect_.max_record_bytes) return false;
  discard_ = true;
  if (can_report(CsvErrorCode::record_too_large)) {
    report(CsvErrorCode::record_too_large, "record exceeds max_record_bytes (" +
                                               std::to_string(dialect_.max_record_bytes) + ") in field " +
                                               std::to_string(field_count_));
  }
  return true;
}

bool CsvReader::can_report(CsvErrorCode code) const {
  const CsvErrorCode current = out_->error;
  return current == CsvErrorCode::none || (is_framing(code) && !is_framing(current));
}

void CsvReader::report(CsvErrorCode code, std::string message) {
  out_->error = code;
  out_->message = std::move(message);
}

void CsvReader::report_nul() {
  if (field_ == nullptr || !can_report(CsvErrorCode::nul_byte)) return;
  report(CsvErrorCode::nul_byte, "NUL byte " + field_position(field_->size() + 1, field_count_));
}

CsvReader::FieldEnd CsvReader::end_line(char c) {
  ++pos_;
  ++line_;
  if (c == '\r') skip_lf_ = true;
  return FieldEnd::line_end;
}

CsvReader::FieldEnd CsvReader::read_unquoted() {
  for (;;) {
    const char* base = buffer_.get();
    const char* start = base + pos_;
    const char* stop = scan(start, base + end_, unquoted_stop_);
    take_run(start, stop);
    if (pos_ == end_) {
      if (!refill()) return FieldEnd::input_end;
      continue;
    }
    const char c = *stop;
    if (c == dialect_.delimiter) {
      ++pos_;
      return FieldEnd::delimiter;
    }
    if (c == '\n' || c == '\r') return end_line(c);
    if (c == '\0') {
      report_nul();
    } else if (can_report(CsvErrorCode::stray_quote)) {
      report(CsvErrorCode::stray_quote,
             "quote inside unquoted field " + std::to_string(field_count_) + " (quote the whole field)");
    }
    append_byte(c);
    ++pos_;
  }
}

CsvReader::FieldEnd CsvReader::read_quoted() {
  const std::uint64_t open_line = line_;
  const auto unterminated = [&] {
    if (can_report(CsvErrorCode::unterminated_quote)) {
      report(CsvErrorCode::unterminated_quote, "quote opened on line " + std::to_string(open_line) + " in field " +
                                                   std::to_string(field_count_) + " is not closed at end of input");
    }
    return FieldEnd::input_end;
  };
  for (;;) {
    const char* base = buffer_.get();
    const char* start = base + pos_;
    const char* stop = scan(start, base + end_, quoted_stop_);
    if (take_run(start, stop)) return resync_to_line_end();
    if (pos_ == end_) {
      if (!refill()) return unterminated();
      continue;
    }
    const char c = *stop;
    ++pos_;
    if (c == '\0') {
      report_nul();
      append_byte(c);
    } else if (c == dialect_.quote) {
      if (peek() != static_cast<unsigned char>(dialect_.quote)) return after_closing_quote();
      append_byte(c);
      ++pos_;
    } else if (c == '\n') {
      append_byte(c);
      ++line_;
    } else if (c == '\r') {
      append_byte(c);
      ++line_;
      if (peek() == '\n') {
        append_byte('\n');
        ++pos_;
      }
    } else {
      const int escaped = peek();
      if (escaped < 0) return unterminated();
      ++pos_;
      if (escaped == '\0') report_nul();
      append_byte(static_cast<char>(escaped));
      if (escaped == '\n') {
        ++line_;
      } else if (escaped == '\r') {
        ++line_;
        if (peek() == '\n') {
          append_byte('\n');
          ++pos_;
        }
      }
    }
  }
}

CsvReader::FieldEnd CsvReader::after_closing_quote() {
  const int c = peek();
  crossed_record_limit();
  if (c < 0) return FieldEnd::input_end;
  if (static_cast<char>(c) == dialect_.delimiter) {
    ++pos_;
    return FieldEnd::delimiter;
  }
  if (c == '\n' || c == '\r') return end_line(static_cast<char>(c));
  if (can_report(CsvErrorCode::stray_quote)) {
    report(CsvErrorCode::stray_quote, "unexpected character after closing quote in field " +
                                          std::to_string(field_count_) + " (expected delimiter or line end)");
  }
  return read_unquoted();
}

CsvReader::FieldEnd CsvReader::resync_to_line_end() {
  for (;;) {
    const char* base = buffer_.get();
    const char* p = base + pos_;
    const char* end = base + end_;
    while (p != end && *p != '\n' && *p != '\r') ++p;
    pos_ = static_cast<std::size_t>(p - base);
    if (p != end) return end_line(*p);
    if (!refill()) return FieldEnd::input_end;
  }
}

}  // namespace sluice
