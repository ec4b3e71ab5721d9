// A download policy checked once and prepared for the I/O threads that share it.
#pragma once

#include <string>
#include <vector>

#include "clients/address_guard.hpp"
#include "clients/http_fetcher.hpp"

namespace sluice {

struct FetchSettings {
  FetchPolicy policy;
  std::vector<std::string> allowed_types;  // lowercased media types
  AddressGuard guard;
  std::string accept_header;  // "Accept: image/jpeg,image/png,..."
};

// Throws std::invalid_argument for an unusable policy.
FetchSettings make_fetch_settings(const FetchPolicy& policy);

}  // namespace sluice
