// SHA-256 through OpenSSL's EVP interface.
#include "runtime/fingerprint.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <memory>

namespace sluice {
namespace {

struct Hasher {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  Hasher() { EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr); }
  void update(const void* data, std::size_t n) { EVP_DigestUpdate(ctx.get(), data, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &n);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
      out.push_back(digits[md[i] >> 4]);
      out.push_back(digits[md[i] & 15]);
    }
    return out;
  }
};

}  // namespace

std::string sha256_file(const std::string& path) {
  if (path.empty() || path == "-") return "";
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  Hasher h;
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
    h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  return h.hex();
}

std::string sha256_parts(const std::vector<std::string>& parts) {
  Hasher h;
  for (const auto& p : parts) {
    std::string len = std::to_string(p.size()) + ":";
    h.update(len.data(), len.size());
    h.update(p.data(), p.size());
  }
  return h.hex();
}

}  // namespace sluice
