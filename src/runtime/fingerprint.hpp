// SHA-256 fingerprints of input files and configuration, for the run ledger.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// Hex SHA-256 of a file's bytes; "" when it cannot be read (standard input is not fingerprinted).
std::string sha256_file(const std::string& path);

// Hex SHA-256 of several parts, each prefixed by its length so that boundaries count.
std::string sha256_parts(const std::vector<std::string>& parts);

}  // namespace sluice
