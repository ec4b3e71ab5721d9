// A std::streambuf that transcodes a Latin-1, Windows-1252 or UTF-16 feed to UTF-8 as it is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class Encoding { utf8, latin1, windows1252, utf16 };

// Accepts (case-insensitive) "utf-8", "utf8", "latin-1", "latin1", "iso-8859-1", "windows-1252", "cp1252",
// "utf-16".
std::optional<Encoding> parse_encoding(std::string_view name);
std::string_view to_string(Encoding encoding);  // "utf-8", "latin-1", "windows-1252", "utf-16"

// The encoding of a text that starts as UTF-16 or UTF-32 would, with what gave it away: a byte-order mark,
// or NUL bytes between ASCII characters (no UTF-8 text starts with a NUL). Nothing for anything else.
// head is the first bytes of the text; four are enough.
std::optional<std::string> utf16_or_utf32_start(std::string_view head);

// Thrown by TranscodingInput::start when the feed's first bytes contradict the declared encoding.
struct EncodingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The CSV reader only understands UTF-8, so a source puts this between the file and the reader. Memory stays
// constant (one 64 KiB input and one 64 KiB output buffer) whatever the size of the feed.
//
// Bytes that cannot be transcoded faithfully (the five bytes Windows-1252 leaves undefined, unpaired UTF-16
// surrogates, an odd trailing byte of a UTF-16 feed) come out as the single byte 0xFF. That byte never occurs
// in valid UTF-8, so the CSV reader rejects just the row holding it as invalid_utf8 instead of the importer
// storing a guessed character or failing the whole feed.
class TranscodingInput : public std::streambuf {
 public:
  TranscodingInput(std::streambuf& source, Encoding declared);
  TranscodingInput(const TranscodingInput&) = delete;
  TranscodingInput& operator=(const TranscodingInput&) = delete;

  // Reads the first bytes and throws EncodingError with a clear, user-facing message when they contradict the
  // declared encoding: a byte-order mark of another encoding, a UTF-16 feed without one, or a feed declared
  // Latin-1 or Windows-1252 whose first 64 KiB are UTF-8 (every non-ASCII byte part of a UTF-8 sequence),
  // which would otherwise be stored as mojibake. Must be called before reading.
  void start();
  std::uint64_t source_bytes() const { return source_bytes_; }  // bytes taken from the source so far

 protected:
  int_type underflow() override;

 private:
  std::size_t pending() const { return in_end_ - in_pos_; }
  void refill();
  std::size_t decode();
  std::size_t finish(std::size_t produced);

  std::streambuf& source_;
  Encoding declared_;
  bool started_ = false;
  bool exhausted_ = false;  // the source returned 0 bytes
  bool big_endian_ = false;
  std::optional<char16_t> high_surrogate_;  // waiting for its low half, possibly from the next refill
  std::uint64_t source_bytes_ = 0;
  std::vector<char> in_;
  std::size_t in_pos_ = 0;
  std::size_t in_end_ = 0;
  std::vector<char> out_;
};

}  // namespace sluice
