// What to answer to a request: routes, query-parameter faults and the response head.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fixture_server/http_parser.hpp"
#include "fixture_server/image_bytes.hpp"
#include "fixture_server/stats.hpp"

namespace sluice::fixture {

// Every image has this Last-Modified date: Mon, 01 Jan 2024 00:00:00 GMT.
inline constexpr std::int64_t kLastModifiedUnix = 1704067200;

// A response body read piecewise while sending: nothing, a text (repeated when endless) or an image.
class BodySource {
 public:
  BodySource() = default;
  static BodySource text(std::string text, bool endless = false);
  static BodySource image(const ImageSpec& spec, bool endless);

  // nullopt for an endless body.
  std::optional<std::uint64_t> size() const;
  // Copies up to n bytes from offset; returns how many (0 at the end).
  std::size_t read(std::uint64_t offset, char* out, std::size_t n) const;

 private:
  std::string text_;
  std::optional<ImageBody> image_;
  bool endless_ = false;
};

// The decision for one request, made when it arrives (so fail_first and ratio count in arrival
// order) and carried out by the event loop after `latency`.
struct ResponsePlan {
  int status = 200;
  std::string headers;  // extra header lines, each ending in CRLF
  BodySource body;
  bool send_body = true;  // false for HEAD, 204 and 304: the head still describes the body
  bool chunked = false;
  bool close = false;            // close the connection after this response
  bool http10 = false;           // an HTTP/1.0 client needs "Connection: keep-alive" to keep the connection
  bool counted = true;           // false for /stats and /stats/reset, which leave the counters alone
  bool successful_body = false;  // a 2xx body whose complete delivery counts in bodies_sent
  std::chrono::milliseconds latency{0};
  std::uint64_t trickle_bytes_per_sec = 0;    // 0: as fast as the socket takes it
  std::optional<std::uint64_t> reset_after;   // body bytes to send before an abortive close
  std::optional<std::string> content_length;  // sent instead of the body's real length
  bool unframed = false;                      // neither Content-Length nor chunked: the close ends it
};

// Decides the response to a complete, well-formed request. Counts the request (unless it is a
// stats endpoint), so call it exactly once per request.
ResponsePlan plan_response(const Request& request, SharedState& state, std::chrono::milliseconds default_latency,
                           std::int64_t now_unix);

// 400 or 431 for a head the parser refused; the connection is closed afterwards.
ResponsePlan plan_parse_error(ParseStatus status);

// A short text/plain response, e.g. for 404 or 501.
ResponsePlan plan_text(int status, std::string_view detail, bool close = false);

std::string_view reason_phrase(int status);

// Status line, Date, Server, the plan's headers, framing (Content-Length or chunked) and Connection.
std::string render_head(const ResponsePlan& plan, std::string_view date);

}  // namespace sluice::fixture
