// SHA-256 through OpenSSL, as lowercase hex.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace sluice {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  std::string hex();  // finishes the digest

 private:
  evp_md_ctx_st* ctx_;
};

std::string sha256_hex(std::string_view bytes);

}  // namespace sluice
