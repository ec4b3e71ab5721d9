// The rules for one finished download attempt.
#include "clients/fetch_response.hpp"

#include <algorithm>

#include "clients/image_validate.hpp"

namespace sluice {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool allowed(const std::vector<std::string>& types, const std::string& type) {
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

// A transfer libcurl ended with an error.
AttemptVerdict judge_error(const AttemptFacts& f, const FetchPolicy& policy) {
  AttemptVerdict v;
  if (!f.refused.empty()) {
    v.error = f.refused;
  } else if (!f.blocked.empty() && f.code == CURLE_COULDNT_CONNECT) {
    v.error = f.blocked;
  } else if (f.body_too_large || f.code == CURLE_FILESIZE_EXCEEDED) {
    v.error = "body exceeds " + std::to_string(policy.max_body_bytes) + " bytes";
  } else if (f.headers_too_large || (f.code == CURLE_OUT_OF_MEMORY && !f.body_started)) {
    // libcurl fails a single header line longer than CURL_MAX_HTTP_HEADER with "out of memory"
    // before the header callback sees it.
    v.error = policy.max_header_bytes < CURL_MAX_HTTP_HEADER || f.headers_too_large
                  ? "response headers exceed " + std::to_string(policy.max_header_bytes) + " bytes"
                  : "a response header line exceeds " + std::to_string(CURL_MAX_HTTP_HEADER) + " bytes";
  } else if (!f.refused_type.empty()) {
    v.error = "content type " + std::string(f.refused_type) + " is not allowed";
  } else if (f.code == CURLE_OPERATION_TIMEDOUT) {
    v.error = f.request_sent ? "timeout after " + std::to_string(policy.transfer_timeout_ms) + " ms"
                             : "connect timeout after " + std::to_string(policy.connect_timeout_ms) + " ms";
    v.retry = true;
  } else if (f.code == CURLE_TOO_MANY_REDIRECTS) {
    v.error = "too many redirects (more than " + std::to_string(policy.max_redirects) + ")";
  } else {
    v.error = "curl error " + std::to_string(static_cast<int>(f.code)) + ": " + std::string(f.curl_message);
    v.retry = retryable_curl_code(f.code);
  }
  return v;
}

}  // namespace

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string media_type(std::string_view content_type) {
  return lowercase(trim(content_type.substr(0, content_type.find(';'))));
}

bool has_line_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

bool retryable_curl_code(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

std::string head_problem(const std::vector<std::string_view>& content_lengths,
                         std::optional<std::string_view> content_encoding) {
  for (std::size_t i = 0; i < content_lengths.size(); ++i) {
    const std::string_view value = trim(content_lengths[i]);
    const std::string_view first = trim(content_lengths[0]);
    const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || value != first)
      return "malformed Content-Length: " + std::string(i > 0 && digits ? std::string(first) + " and " : "") +
             std::string(value);
  }
  if (content_encoding) {
    const std::string_view value = trim(*content_encoding);
    if (!value.empty() && lowercase(value) != "identity")
      return "content encoding " + std::string(value) + " was not offered";
  }
  return {};
}

std::string head_problem(CURL* easy) {
  std::vector<std::string_view> lengths;
  curl_header* header = nullptr;
  if (curl_easy_header(easy, "Content-Length", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
    const std::size_t amount = header->amount;
    lengths.emplace_back(header->value);
    for (std::size_t i = 1; i < amount; ++i) {
      if (curl_easy_header(easy, "Content-Length", i, CURLH_HEADER, -1, &header) != CURLHE_OK) break;
      lengths.emplace_back(header->value);
    }
  }
  std::optional<std::string_view> encoding;
  if (curl_easy_header(easy, "Content-Encoding", 0, CURLH_HEADER, -1, &header) == CURLHE_OK)
    encoding = std::string_view(header->value);
  return head_problem(lengths, encoding);
}

AttemptVerdict judge_attempt(const AttemptFacts& f, const FetchPolicy& policy,
                             const std::vector<std::string>& allowed_types) {
  if (f.code != CURLE_OK) return judge_error(f, policy);
  AttemptVerdict v;
  const long status = f.http_status;
  if (status == 304) {
    v.status = FetchResult::Status::not_modified;
  } else if (status >= 200 && status < 300) {
    const std::string type = media_type(f.content_type);
    if (!allowed(allowed_types, type)) {
      v.error = "content type " + (type.empty() ? std::string("(none)") : type) + " is not allowed";
    } else if (!f.head.empty()) {
      v.error = f.head;
    } else if (ImageCheck check = validate_image(f.body); !check.ok()) {
      v.error = std::move(check.problem);
      // A body cut short by a closed connection may come whole next time.
      v.retry = check.truncated;
    } else {
      v.status = FetchResult::Status::ok;
      v.image = check.image;
    }
  } else {
    v.error = "HTTP " + std::to_string(status);
    v.retry = status >= 500 || status == 429;
  }
  return v;
}

}  // namespace sluice
