// One easy handle of a fetch loop's pool and the callbacks that watch its attempt.
#include "clients/transfer_slot.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace sluice {
namespace {

// libcurl's receive buffer (16 KiB by default) is allocated per handle, which adds up at 1,000+
// handles; 8 KiB still delivers a typical 100 KB image in about a dozen write callbacks.
constexpr long curl_buffer_size = 8 * 1024;

// A check keeps no body: an error page this size still ends on its own (and leaves its connection
// reusable); a server that ignores the one-byte range is cut off here.
constexpr std::size_t check_body_cap = 16 * 1024;

}  // namespace

TransferSlot::TransferSlot(const FetchSettings& settings, std::atomic<std::uint64_t>& body_bytes)
    : settings_(settings), body_bytes_(body_bytes), easy_(curl_easy_init()) {
  if (!easy_) throw std::runtime_error("curl_easy_init failed");
  CURL* e = easy_.get();
  const FetchPolicy& p = settings_.policy;
  // Set once per handle; an attempt only changes CURLOPT_URL and CURLOPT_HTTPHEADER.
  const bool ok =
      curl_easy_setopt(e, CURLOPT_PRIVATE, this) == CURLE_OK && curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS)) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(p.max_redirects)) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_PROXY, p.proxy.c_str()) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, p.connect_timeout_ms) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p.transfer_timeout_ms) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(p.max_body_bytes)) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_BUFFERSIZE, curl_buffer_size) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_USERAGENT, p.user_agent.c_str()) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &TransferSlot::on_body) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_WRITEDATA, this) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &TransferSlot::on_header) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_HEADERDATA, this) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &TransferSlot::on_progress) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_XFERINFODATA, this) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &TransferSlot::on_open_socket) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, this) == CURLE_OK &&
      curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_) == CURLE_OK;
  if (!ok) throw std::runtime_error("curl_easy_setopt failed: this libcurl lacks an option the fetcher needs");
}

TransferSlot* TransferSlot::of(CURL* easy) {
  TransferSlot* slot = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&slot));
  return slot;
}

bool TransferSlot::prepare(const FetchJob& job, void* owner) {
  HeaderList headers;
  auto add = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown == nullptr) return false;
    static_cast<void>(headers.release());
    headers.reset(grown);
    return true;
  };
  if (!add(settings_.accept_header)) return false;
  if (!job.etag.empty() && !add("If-None-Match: " + job.etag)) return false;
  if (!job.last_modified.empty() && !add("If-Modified-Since: " + job.last_modified)) return false;
  body_ = std::string();
  header_bytes_ = 0;
  body_started_ = false;
  body_too_large_ = false;
  headers_too_large_ = false;
  refused_type_.clear();
  refused_.clear();
  response_start_ = 0;
  blocked_.clear();
  ranged_get_ = job.ranged_get;
  body_cut_ = false;
  check_body_bytes_ = 0;
  hops_.clear();
  error_[0] = '\0';
  CURL* e = easy_.get();
  if (curl_easy_setopt(e, CURLOPT_URL, job.url.c_str()) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get()) != CURLE_OK) {
    return false;
  }
  if (settings_.policy.purpose == FetchPurpose::check) {
    // HEAD, or GET of the first byte; HTTPGET resets the method NOBODY set on an earlier attempt.
    const bool method_set =
        job.ranged_get ? curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
                             curl_easy_setopt(e, CURLOPT_RANGE, "0-0") == CURLE_OK
                       : curl_easy_setopt(e, CURLOPT_RANGE, nullptr) == CURLE_OK &&
                             curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK;
    if (!method_set) return false;
  }
  headers_ = std::move(headers);
  owner_ = owner;
  return true;
}

void TransferSlot::release() {
  owner_ = nullptr;
  headers_.reset();
  body_ = std::string();
}

bool TransferSlot::read_response(CURLcode code, FetchResult& result, long long& retry_after_s) {
  CURL* easy = easy_.get();
  result.curl_code = static_cast<int>(code);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.http_status);
  curl_off_t retry_after = 0;
  curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after);
  retry_after_s = retry_after;
  if (char* value = nullptr; curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &value) == CURLE_OK && value)
    result.effective_url = value;
  if (char* value = nullptr; curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &value) == CURLE_OK && value)
    result.content_type = value;
  curl_header* header = nullptr;
  if (curl_easy_header(easy, "ETag", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) result.etag = header->value;
  if (curl_easy_header(easy, "Last-Modified", 0, CURLH_HEADER, -1, &header) == CURLHE_OK)
    result.last_modified = header->value;
  // A request went out (on a new or a reused connection) once the pre-transfer phase ended.
  curl_off_t pretransfer_time = 0;
  curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_time);
  return pretransfer_time != 0;
}

AttemptVerdict TransferSlot::conclude(CURLcode code, FetchResult& result, long long& retry_after_s) {
  CURL* easy = easy_.get();
  const bool request_sent = read_response(code, result, retry_after_s);
  const bool success = code == CURLE_OK && result.http_status >= 200 && result.http_status < 300;
  // A body's first bytes had the head checked already (on_body); only an empty body needs it here.
  const std::string head = success && !body_started_ ? head_problem(easy) : std::string();

  AttemptFacts facts;
  facts.code = code;
  facts.http_status = result.http_status;
  facts.request_sent = request_sent;
  facts.curl_message = error_[0] != '\0' ? std::string_view(error_) : std::string_view(curl_easy_strerror(code));
  facts.refused = refused_;
  facts.blocked = blocked_;
  facts.body_too_large = body_too_large_;
  facts.headers_too_large = headers_too_large_;
  facts.body_started = body_started_;
  facts.refused_type = refused_type_;
  facts.content_type = result.content_type;
  facts.head = head;
  facts.body = body_;
  AttemptVerdict verdict = judge_attempt(facts, settings_.policy, settings_.allowed_types);
  if (verdict.status == FetchResult::Status::ok) result.body = std::move(body_);
  body_ = std::string();
  return verdict;
}

CheckVerdict TransferSlot::conclude_check(CURLcode code, FetchResult& result, long long& retry_after_s) {
  CURL* easy = easy_.get();
  const bool request_sent = read_response(code, result, retry_after_s);
  UrlProbe& probe = result.probe;
  probe.ranged_get = ranged_get_;
  // When an answer came, the last response is it and those before are the redirects that led
  // there; when none did, every response was a redirect followed.
  if ((code == CURLE_OK || (code == CURLE_WRITE_ERROR && body_cut_)) && !hops_.empty()) hops_.pop_back();
  probe.redirects = std::move(hops_);
  hops_.clear();
  curl_header* header = nullptr;
  curl_off_t length = -1;
  if (result.http_status == 206 &&
      curl_easy_header(easy, "Content-Range", 0, CURLH_HEADER, -1, &header) == CURLHE_OK) {
    // "bytes 0-0/12345": the size is after the slash ("*" when unknown).
    const std::string_view range = header->value;
    const auto slash = range.rfind('/');
    if (slash != std::string_view::npos) {
      std::int64_t total = 0;
      const std::string_view digits = range.substr(slash + 1);
      bool ok = !digits.empty() && digits.size() <= 18;
      for (char c : digits) {
        ok = ok && c >= '0' && c <= '9';
        total = total * 10 + (c - '0');
      }
      if (ok) length = total;
    }
  } else if (result.http_status >= 200 && result.http_status < 300) {
    curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  }
  probe.content_length = length;
  auto micros = [easy](CURLINFO info) {
    curl_off_t value = 0;
    curl_easy_getinfo(easy, info, &value);
    return static_cast<std::int64_t>(value);
  };
  probe.timings.dns_us = micros(CURLINFO_NAMELOOKUP_TIME_T);
  probe.timings.connect_us = micros(CURLINFO_CONNECT_TIME_T);
  probe.timings.tls_us = micros(CURLINFO_APPCONNECT_TIME_T);
  probe.timings.first_byte_us = micros(CURLINFO_STARTTRANSFER_TIME_T);
  probe.timings.total_us = micros(CURLINFO_TOTAL_TIME_T);
  long redirects = 0;
  curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &redirects);

  CheckFacts facts;
  facts.code = code;
  facts.http_status = result.http_status;
  facts.ranged_get = ranged_get_;
  facts.request_sent = request_sent;
  facts.body_cut = body_cut_;
  facts.redirects = redirects;
  facts.curl_message = error_[0] != '\0' ? std::string_view(error_) : std::string_view(curl_easy_strerror(code));
  facts.refused = refused_;
  facts.blocked = blocked_;
  facts.headers_too_large = headers_too_large_;
  const FetchPolicy& p = settings_.policy;
  CheckVerdict verdict = judge_check(facts, p.transfer_timeout_ms, p.connect_timeout_ms, p.max_redirects);
  probe.outcome = verdict.outcome;
  body_ = std::string();
  return verdict;
}

// ---- libcurl callbacks (on the loop's I/O thread, inside curl_multi_socket_action) ----

std::size_t TransferSlot::on_header(char* data, std::size_t size, std::size_t count, void* slot_ptr) {
  auto* slot = static_cast<TransferSlot*>(slot_ptr);
  const std::size_t n = size * count;
  if (n >= 5 && std::memcmp(data, "HTTP/", 5) == 0) {
    // A new response (after a redirect or a 100 Continue): its headers and body start afresh.
    slot->header_bytes_ = 0;
    slot->body_.clear();
    slot->body_started_ = false;
    curl_easy_getinfo(slot->easy_.get(), CURLINFO_SIZE_DOWNLOAD_T, &slot->response_start_);
    // libcurl follows a 305 like any redirect, but it names a proxy to use, which a supplier's
    // server has no business choosing.
    const std::string_view line(data, n);
    const auto space = line.find(' ');
    const auto code = space == std::string_view::npos ? std::string_view() : line.substr(space + 1, 4);
    if (code.substr(0, 3) == "305" && (code.size() == 3 || code[3] < '0' || code[3] > '9')) {
      slot->refused_ = "HTTP 305 (Use Proxy) is not followed";
      return 0;
    }
    if (slot->settings_.policy.purpose == FetchPurpose::check) {
      // The URL this response answers: libcurl has moved the effective URL to a redirect's target
      // before it sends the request there.
      long status = 0;
      for (std::size_t i = 0; i < 3 && i < code.size() && code[i] >= '0' && code[i] <= '9'; ++i)
        status = status * 10 + (code[i] - '0');
      char* url = nullptr;
      curl_easy_getinfo(slot->easy_.get(), CURLINFO_EFFECTIVE_URL, &url);
      if (status >= 200 || status < 100) slot->hops_.push_back(RedirectHop{url != nullptr ? url : "", status});
    }
  }
  slot->header_bytes_ += n;
  if (slot->header_bytes_ > slot->settings_.policy.max_header_bytes) {
    slot->headers_too_large_ = true;
    return 0;
  }
  return n;
}

// libcurl reads and drops the body of a redirect it follows without calling on_body, so only the
// byte count seen here bounds it.
int TransferSlot::on_progress(void* slot_ptr, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* slot = static_cast<TransferSlot*>(slot_ptr);
  const auto limit = static_cast<curl_off_t>(slot->settings_.policy.max_body_bytes);
  if (dlnow - slot->response_start_ > limit) {
    slot->body_too_large_ = true;
    return 1;
  }
  return 0;
}

std::size_t TransferSlot::on_body(char* data, std::size_t size, std::size_t count, void* slot_ptr) {
  auto* slot = static_cast<TransferSlot*>(slot_ptr);
  const FetchSettings& settings = slot->settings_;
  const std::size_t n = size * count;
  CURL* easy = slot->easy_.get();
  if (settings.policy.purpose == FetchPurpose::check) {
    static_cast<void>(data);
    slot->body_started_ = true;
    slot->body_bytes_.fetch_add(n, std::memory_order_relaxed);
    slot->check_body_bytes_ += n;
    if (slot->check_body_bytes_ > check_body_cap) {
      slot->body_cut_ = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
  if (!slot->body_started_) {
    slot->body_started_ = true;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      // Refuse a wrong content type before its body is downloaded; the bytes are validated later anyway.
      const auto& allowed = settings.allowed_types;
      if (!allowed.empty()) {
        char* content_type = nullptr;
        curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
        auto type = content_type != nullptr ? media_type(content_type) : std::string();
        if (std::find(allowed.begin(), allowed.end(), type) == allowed.end()) {
          slot->refused_type_ = type.empty() ? "(none)" : type;
          return CURL_WRITEFUNC_ERROR;
        }
      }
      slot->refused_ = head_problem(easy);
      if (!slot->refused_.empty()) return CURL_WRITEFUNC_ERROR;
      curl_off_t length = -1;
      curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      if (length > 0) slot->body_.reserve(std::min(static_cast<std::size_t>(length), settings.policy.max_body_bytes));
    }
  }
  // CURLOPT_MAXFILESIZE_LARGE only sees a Content-Length; chunked and endless bodies stop here.
  if (slot->body_.size() + n > settings.policy.max_body_bytes) {
    slot->body_too_large_ = true;
    return CURL_WRITEFUNC_ERROR;
  }
  slot->body_.append(data, n);
  slot->body_bytes_.fetch_add(n, std::memory_order_relaxed);
  return n;
}

curl_socket_t TransferSlot::on_open_socket(void* slot_ptr, curlsocktype purpose, curl_sockaddr* address) {
  auto* slot = static_cast<TransferSlot*>(slot_ptr);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  // Runs for every new connection, redirect hops included, with the address actually dialled, so a
  // DNS answer that changes between checks cannot slip through. Reused connections were checked
  // when they were opened.
  const auto verdict = slot->settings_.guard.check(&address->addr, address->addrlen);
  if (!verdict.allowed) {
    if (slot->blocked_.empty())
      slot->blocked_ = "blocked address " + verdict.address + " (" + std::string(describe(verdict.kind)) + ")";
    return CURL_SOCKET_BAD;
  }
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  return fd < 0 ? CURL_SOCKET_BAD : fd;
}

}  // namespace sluice
