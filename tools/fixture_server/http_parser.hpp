// HTTP/1.x request-head parser and query-string decoding for the fixture server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::fixture {

// A request head larger than this is answered with 431 and the connection is closed.
inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;
inline constexpr std::size_t kMaxHeaderFields = 100;

struct Request {
  std::string method;
  std::string target;  // as sent: path plus optional "?query"
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?', still percent-encoded
  int version_minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values without surrounding OWS
  std::uint64_t content_length = 0;
  bool has_transfer_encoding = false;
  bool keep_alive = true;

  // The first field with this (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
};

enum class ParseStatus { kIncomplete, kComplete, kBadRequest, kHeadTooLarge };

struct ParseResult {
  ParseStatus status = ParseStatus::kIncomplete;
  std::size_t consumed = 0;  // bytes of the head (request line through the empty line) when complete
};

// Parses one request head from the start of `data`. Stateless: the caller keeps unconsumed bytes
// and calls again when more arrive. The body, if any, is left to the caller (content_length).
ParseResult parse_request_head(std::string_view data, Request& out);

// Query parameters in order of appearance; names and values percent-decoded, '+' read as a space.
class QueryParams {
 public:
  // nullopt when an escape is malformed ("%zz", a trailing "%").
  static std::optional<QueryParams> parse(std::string_view query);

  // The last value given for `name` (later parameters override earlier ones).
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace sluice::fixture
