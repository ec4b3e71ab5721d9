// One easy handle of a fetch loop's pool, and what its callbacks see of the attempt it carries: the
// response's head and body, with the size caps, the content-type check and the address guard
// applied while the bytes arrive.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "clients/check_verdict.hpp"
#include "clients/curl_handles.hpp"
#include "clients/fetch_response.hpp"
#include "clients/fetch_settings.hpp"

namespace sluice {

class TransferSlot {
 public:
  // Sets every option that does not change between attempts. Throws std::runtime_error when
  // libcurl cannot make a handle or lacks an option. body_bytes counts every body byte received.
  TransferSlot(const FetchSettings& settings, std::atomic<std::uint64_t>& body_bytes);

  TransferSlot(const TransferSlot&) = delete;
  TransferSlot& operator=(const TransferSlot&) = delete;

  CURL* easy() const { return easy_.get(); }

  // Readies the handle for an attempt at job; false when out of memory. `owner` is whatever the
  // caller wants back from owner() until release().
  bool prepare(const FetchJob& job, void* owner);
  void* owner() const { return owner_; }
  void release();

  // What the attempt came to, read from the handle before it leaves the multi handle. Fills the
  // response's facts into result; for ok, result.body takes the body.
  AttemptVerdict conclude(CURLcode code, FetchResult& result, long long& retry_after_s);
  // The same for a check: fills result.probe, keeps no body.
  CheckVerdict conclude_check(CURLcode code, FetchResult& result, long long& retry_after_s);

  static TransferSlot* of(CURL* easy);

 private:
  // The facts both kinds of attempt read from the handle; returns whether a request went out.
  bool read_response(CURLcode code, FetchResult& result, long long& retry_after_s);

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* slot);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* slot);
  static int on_progress(void* slot, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
  static curl_socket_t on_open_socket(void* slot, curlsocktype purpose, curl_sockaddr* address);

  const FetchSettings& settings_;
  std::atomic<std::uint64_t>& body_bytes_;
  EasyHandle easy_;
  HeaderList headers_;
  void* owner_ = nullptr;

  // The current attempt.
  std::string body_;
  std::size_t header_bytes_ = 0;
  bool body_started_ = false;
  bool body_too_large_ = false;
  bool headers_too_large_ = false;
  std::string refused_type_;       // set when the body was refused for its content type
  std::string refused_;            // the whole reason when a response was refused for its head
  curl_off_t response_start_ = 0;  // bytes received before the current response's body
  std::string blocked_;            // reject message from the address guard
  bool ranged_get_ = false;        // a check's GET of one byte
  bool body_cut_ = false;          // a check stopped a body it does not need
  std::size_t check_body_bytes_ = 0;
  std::vector<RedirectHop> hops_;  // a check's responses so far, the redirects among them
  char error_[CURL_ERROR_SIZE] = {};
};

}  // namespace sluice
