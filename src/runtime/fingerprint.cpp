// Fingerprints of input files and configuration for the run ledger.
#include "runtime/fingerprint.hpp"

#include "clients/sha256.hpp"

#include <fstream>
#include <memory>

namespace sluice {

std::string sha256_file(const std::string& path) {
  if (path.empty() || path == "-") return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
    h.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
  return h.hex();
}

std::string sha256_parts(const std::vector<std::string>& parts) {
  Sha256 h;
  for (const auto& p : parts) {
    h.update(std::to_string(p.size()) + ":");
    h.update(p);
  }
  return h.hex();
}

}  // namespace sluice
