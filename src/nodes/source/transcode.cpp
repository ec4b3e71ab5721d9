// Streaming transcoding of supplier feeds to UTF-8: BOM checks, Latin-1, Windows-1252 and UTF-16 decoding.
#include "nodes/source/transcode.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/utf8.hpp"

namespace sluice {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 16;
// Decoding stops once kChunk bytes are out; one more character plus the end-of-input markers fit in the slack.
constexpr std::size_t kOutSlack = 8;

// Never valid in UTF-8, so the CSV reader rejects the row that holds it (see the class comment).
constexpr char kInvalidByte = static_cast<char>(0xFF);

// Windows-1252 for 0x80-0x9F; 0 marks the five undefined bytes. Every other byte is the Latin-1 code point.
constexpr std::array<char16_t, 32> kWindows1252High = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

std::size_t put_utf8(char* out, char32_t cp) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

bool is_high_surrogate(char16_t unit) {
  return unit >= 0xD800 && unit <= 0xDBFF;
}
bool is_low_surrogate(char16_t unit) {
  return unit >= 0xDC00 && unit <= 0xDFFF;
}

enum class Bom { none, utf8, utf16le, utf16be };

Bom detect_bom(const unsigned char* data, std::size_t size) {
  if (size >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF) return Bom::utf8;
  if (size >= 2 && data[0] == 0xFF && data[1] == 0xFE) return Bom::utf16le;
  if (size >= 2 && data[0] == 0xFE && data[1] == 0xFF) return Bom::utf16be;
  return Bom::none;
}

[[noreturn]] void throw_bom_mismatch(Bom found, Encoding declared) {
  const bool utf8 = found == Bom::utf8;
  std::string message = std::string("the feed starts with a ") +
                        (utf8                    ? "UTF-8"
                         : found == Bom::utf16le ? "UTF-16LE"
                                                 : "UTF-16BE") +
                        " byte-order mark but feed.encoding is " + std::string(to_string(declared)) +
                        "; set feed.encoding: " + (utf8 ? "utf-8" : "utf-16");
  // The usual cause is a feed re-saved as UTF-8 while the configuration still says Latin-1; reading it as
  // declared would silently store mojibake, which is much harder to notice and undo than a failed run.
  if (utf8 && (declared == Encoding::latin1 || declared == Encoding::windows1252)) {
    message += " (reading it as " + std::string(to_string(declared)) + " would store text like \"Ã©\" for \"é\")";
  }
  throw EncodingError(message);
}

// The code point of one Latin-1 or Windows-1252 byte, or nothing for the five bytes Windows-1252 leaves
// undefined.
std::optional<char32_t> single_byte_code_point(unsigned char byte, Encoding encoding) {
  if (encoding != Encoding::windows1252 || byte < 0x80 || byte > 0x9F) return byte;
  if (const char16_t mapped = kWindows1252High[byte - 0x80]; mapped != 0) return mapped;
  return std::nullopt;
}

// A feed declared Latin-1 or Windows-1252 whose non-ASCII bytes all pair up into UTF-8 sequences is a UTF-8
// feed: real Latin-1 text nearly always has a lone accented letter ("Caf\xE9 "), which is not UTF-8. Throws
// with the first such character and what reading it as declared would store. `complete`: data is the whole
// feed, so a sequence cut off at its end is not UTF-8 (otherwise its rest was just not read yet).
void refuse_utf8_content(std::string_view data, bool complete, Encoding declared) {
  std::size_t first = data.size();
  int first_length = 0;
  for (std::size_t i = 0; i < data.size();) {
    const int length = utf8_sequence(data, i);
    if (length == -1 && !complete) break;
    if (length <= 0) return;  // a byte UTF-8 cannot hold there: the feed is not UTF-8
    if (length > 1 && first == data.size()) {
      first = i;
      first_length = length;
    }
    i += static_cast<std::size_t>(length);
  }
  if (first == data.size()) return;  // plain ASCII so far: every encoding agrees
  const std::string_view as_utf8 = data.substr(first, static_cast<std::size_t>(first_length));
  std::string as_declared;
  for (const char c : as_utf8) {
    const auto byte = static_cast<unsigned char>(c);
    char buf[4];
    as_declared.append(buf, put_utf8(buf, single_byte_code_point(byte, declared).value_or(byte)));
  }
  throw EncodingError("feed.encoding is " + std::string(to_string(declared)) + " but the feed reads as UTF-8: every " +
                      "non-ASCII character in its first " + std::to_string(data.size()) + " bytes is a UTF-8 " +
                      "sequence (the first, \"" + std::string(as_utf8) + "\", at byte " + std::to_string(first + 1) +
                      "). Reading it as " + std::string(to_string(declared)) + " would store \"" + as_declared +
                      "\" for \"" + std::string(as_utf8) + "\"; set feed.encoding: utf-8");
}

}  // namespace

std::optional<std::string> utf16_or_utf32_start(std::string_view head) {
  const auto b = [&](std::size_t i) { return i < head.size() ? static_cast<unsigned char>(head[i]) : 0x100; };
  if (b(0) == 0xFF && b(1) == 0xFE && b(2) == 0 && b(3) == 0)
    return "UTF-32LE (it starts with the byte-order mark FF FE 00 00)";
  if (b(0) == 0 && b(1) == 0 && b(2) == 0xFE && b(3) == 0xFF)
    return "UTF-32BE (it starts with the byte-order mark 00 00 FE FF)";
  if (b(0) == 0xFF && b(1) == 0xFE) return "UTF-16LE (it starts with the byte-order mark FF FE)";
  if (b(0) == 0xFE && b(1) == 0xFF) return "UTF-16BE (it starts with the byte-order mark FE FF)";
  const char* interleaved = " without a byte-order mark (its first bytes are ASCII with NUL bytes between)";
  if (b(0) != 0 && b(0) < 0x80 && b(1) == 0 && b(2) == 0 && b(3) == 0) return "UTF-32LE" + std::string(interleaved);
  if (b(0) == 0 && b(1) == 0 && b(2) == 0 && b(3) != 0 && b(3) < 0x80) return "UTF-32BE" + std::string(interleaved);
  if (b(0) != 0 && b(0) < 0x80 && b(1) == 0) return "UTF-16LE" + std::string(interleaved);
  if (b(0) == 0 && b(1) != 0 && b(1) < 0x80) return "UTF-16BE" + std::string(interleaved);
  return std::nullopt;
}

std::optional<Encoding> parse_encoding(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  if (lower == "utf-8" || lower == "utf8") return Encoding::utf8;
  if (lower == "latin-1" || lower == "latin1" || lower == "iso-8859-1") return Encoding::latin1;
  if (lower == "windows-1252" || lower == "cp1252") return Encoding::windows1252;
  if (lower == "utf-16") return Encoding::utf16;
  return std::nullopt;
}

std::string_view to_string(Encoding encoding) {
  switch (encoding) {
    case Encoding::utf8:
      return "utf-8";
    case Encoding::latin1:
      return "latin-1";
    case Encoding::windows1252:
      return "windows-1252";
    case Encoding::utf16:
      return "utf-16";
  }
  return "unknown";
}

TranscodingInput::TranscodingInput(std::streambuf& source, Encoding declared)
    : source_(source), declared_(declared), in_(kChunk) {
  // UTF-8 is handed out straight from the input buffer, so it needs no output buffer.
  if (declared_ != Encoding::utf8) out_.resize(kChunk + kOutSlack);
}

void TranscodingInput::refill() {
  // Keeps the bytes not decoded yet (a BOM probe, half a UTF-16 code unit) in front of the new ones.
  const std::size_t rest = pending();
  if (rest > 0 && in_pos_ > 0) std::memmove(in_.data(), in_.data() + in_pos_, rest);
  in_pos_ = 0;
  in_end_ = rest;
  const std::streamsize n = source_.sgetn(in_.data() + rest, static_cast<std::streamsize>(in_.size() - rest));
  if (n <= 0) {
    exhausted_ = true;
    return;
  }
  in_end_ += static_cast<std::size_t>(n);
  source_bytes_ += static_cast<std::uint64_t>(n);
}

void TranscodingInput::start() {
  if (started_) return;
  // A source may hand out fewer bytes than asked for, so the three-byte probe can take several reads.
  while (pending() < 3 && !exhausted_) refill();
  const Bom bom = detect_bom(reinterpret_cast<const unsigned char*>(in_.data() + in_pos_), pending());
  switch (declared_) {
    case Encoding::utf8:
      // A UTF-8 BOM is left for the CSV reader, which strips it itself.
      if (bom == Bom::utf16le || bom == Bom::utf16be) throw_bom_mismatch(bom, declared_);
      break;
    case Encoding::latin1:
    case Encoding::windows1252:
      // FF FE is also "ÿþ" in these encodings, but no real feed starts with that while UTF-16 feeds do.
      if (bom != Bom::none) throw_bom_mismatch(bom, declared_);
      // Judged on the first buffer (64 KiB, a few hundred rows), read whole before any row is handed out.
      while (pending() < in_.size() && !exhausted_) refill();
      refuse_utf8_content(std::string_view(in_.data() + in_pos_, pending()), exhausted_, declared_);
      break;
    case Encoding::utf16:
      if (bom == Bom::utf8) throw_bom_mismatch(bom, declared_);
      if (bom == Bom::none && pending() > 0) {
        // Guessing the byte order from the content is unreliable for short or numeric feeds, so ask.
        throw EncodingError(
            "feed.encoding is utf-16 but the feed has no byte-order mark; a UTF-16 feed must start with FF FE "
            "(little-endian) or FE FF (big-endian). Check the encoding the supplier really uses and set "
            "feed.encoding accordingly");
      }
      if (bom != Bom::none) {
        big_endian_ = bom == Bom::utf16be;
        in_pos_ += 2;
      }
      break;
  }
  started_ = true;
}

std::size_t TranscodingInput::decode() {
  const auto* in = reinterpret_cast<const unsigned char*>(in_.data());
  char* out = out_.data();
  std::size_t produced = 0;
  switch (declared_) {
    case Encoding::utf8:
      break;
    case Encoding::latin1:
    case Encoding::windows1252:
      while (in_pos_ < in_end_ && produced < kChunk) {
        if (const auto cp = single_byte_code_point(in[in_pos_++], declared_)) {
          produced += put_utf8(out + produced, *cp);
        } else {
          // Undefined in Windows-1252: mapping it to a C1 control (as some decoders do) would hide a feed
          // in another encoding, so the row is left for the CSV reader to reject.
          out[produced++] = kInvalidByte;
        }
      }
      break;
    case Encoding::utf16:
      while (pending() >= 2 && produced < kChunk) {
        const unsigned char b0 = in[in_pos_];
        const unsigned char b1 = in[in_pos_ + 1];
        in_pos_ += 2;
        const auto unit = static_cast<char16_t>(big_endian_ ? (b0 << 8 | b1) : (b1 << 8 | b0));
        if (high_surrogate_) {
          const char16_t high = *high_surrogate_;
          high_surrogate_.reset();
          if (is_low_surrogate(unit)) {
            const char32_t cp = 0x10000 + ((static_cast<char32_t>(high) - 0xD800) << 10) + (unit - 0xDC00);
            produced += put_utf8(out + produced, cp);
            continue;
          }
          out[produced++] = kInvalidByte;  // the high half had no partner; this unit is decoded on its own
        }
        if (is_high_surrogate(unit)) {
          high_surrogate_ = unit;
        } else if (is_low_surrogate(unit)) {
          out[produced++] = kInvalidByte;
        } else {
          produced += put_utf8(out + produced, unit);
        }
      }
      break;
  }
  return produced;
}

std::size_t TranscodingInput::finish(std::size_t produced) {
  // Only once everything decodable has been decoded, or the markers would land mid-stream.
  if (declared_ != Encoding::utf16 || pending() >= 2) return produced;
  if (high_surrogate_) {
    high_surrogate_.reset();
    out_[produced++] = kInvalidByte;
  }
  if (pending() == 1) {
    in_pos_ = in_end_;
    out_[produced++] = kInvalidByte;
  }
  return produced;
}

TranscodingInput::int_type TranscodingInput::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  // std::istream turns this into badbit; reading before start() would skip the BOM checks.
  if (!started_) throw std::logic_error("TranscodingInput::start() must be called before reading");
  if (declared_ == Encoding::utf8) {
    while (pending() == 0 && !exhausted_) refill();
    if (pending() == 0) return traits_type::eof();
    char* begin = in_.data() + in_pos_;
    setg(begin, begin, in_.data() + in_end_);
    in_pos_ = in_end_;
    return traits_type::to_int_type(*begin);
  }
  for (;;) {
    std::size_t produced = decode();
    if (exhausted_) produced = finish(produced);
    if (produced > 0) {
      setg(out_.data(), out_.data(), out_.data() + produced);
      return traits_type::to_int_type(out_[0]);
    }
    if (exhausted_) return traits_type::eof();
    refill();
  }
}

}  // namespace sluice
