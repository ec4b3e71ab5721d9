// What one finished attempt at checking a URL came to: its class, whether to ask again with a
// ranged GET (a server that refuses or mishandles HEAD), and whether to retry. Pure, so it is
// tested by table.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>

#include "clients/url_probe.hpp"

namespace sluice {

struct CheckFacts {
  CURLcode code = CURLE_OK;
  long http_status = 0;         // of the last response; 0 when none arrived
  bool ranged_get = false;      // the attempt was a GET of one byte, not a HEAD
  bool request_sent = false;    // the pre-transfer phase ended: a timeout was not spent connecting
  bool body_cut = false;        // the answer's body was cut short on purpose: its head is what counts
  long redirects = 0;           // redirects followed
  std::string_view curl_message;  // libcurl's error buffer, or its text for the code
  std::string_view refused;       // why a response was refused for its head (a 305)
  std::string_view blocked;       // the address guard's reason for refusing a connection
  bool headers_too_large = false;
};

struct CheckVerdict {
  CheckOutcome outcome = CheckOutcome::connection_error;
  std::string error;         // empty for up and redirected
  bool try_ranged_get = false;  // HEAD was refused or mishandled: ask again with GET bytes=0-0
  bool retry = false;           // 429, 503 or a broken connection: another attempt may answer
};

CheckVerdict judge_check(const CheckFacts& facts, long transfer_timeout_ms, long connect_timeout_ms,
                         int max_redirects);

}  // namespace sluice
