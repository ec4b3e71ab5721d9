// What one finished download attempt came to: the rules that turn libcurl's outcome and the
// response into an image, a failure with its reason, or a retry. Pure, so they are tested by table.
#pragma once

#include <curl/curl.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/http_fetcher.hpp"

namespace sluice {

std::string lowercase(std::string_view text);

// "image/JPEG; charset=binary" -> "image/jpeg".
std::string media_type(std::string_view content_type);

bool has_line_break(std::string_view text);

// Connection errors, timeouts and broken bodies that may not happen again.
bool retryable_curl_code(CURLcode code);

// What makes a successful response's body untrustworthy before a byte of it is kept: a
// Content-Length that is not one plain number (libcurl reads "12abc" as 12 and "10, 20" as 10, and
// stores the fragment), or a Content-Encoding although none was offered (no Accept-Encoding is sent,
// so the bytes would be stored still encoded). Empty when the head is sound.
std::string head_problem(const std::vector<std::string_view>& content_lengths,
                         std::optional<std::string_view> content_encoding);

// The same, for the last response the handle received.
std::string head_problem(CURL* easy);

// What the transfer's callbacks and libcurl saw of one attempt.
struct AttemptFacts {
  CURLcode code = CURLE_OK;
  long http_status = 0;
  bool request_sent = false;     // the pre-transfer phase ended: a timeout was not spent connecting
  std::string_view curl_message;  // libcurl's error buffer, or its text for the code
  std::string_view refused;       // the whole reason a response was refused for its head (305, ...)
  std::string_view blocked;       // the address guard's reason for refusing a connection
  bool body_too_large = false;
  bool headers_too_large = false;
  bool body_started = false;
  std::string_view refused_type;  // the content type a 2xx body was refused for before download
  std::string_view content_type;  // of the last response
  std::string_view head;          // head_problem() of a 2xx response
  std::string_view body;
};

struct AttemptVerdict {
  FetchResult::Status status = FetchResult::Status::failed;
  std::string error;  // empty unless failed
  bool retry = false;  // failed, but another attempt may succeed
  ImageInfo image;     // for ok: the body is a whole, well-formed image
};

// allowed_types: lowercased media types; empty accepts any (the bytes are still validated).
AttemptVerdict judge_attempt(const AttemptFacts& facts, const FetchPolicy& policy,
                             const std::vector<std::string>& allowed_types);

}  // namespace sluice
