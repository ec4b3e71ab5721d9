// Fuzz target: the SSRF guard's parsers and classification. Text that parses as an address prints back
// to an address that parses equal; mapped IPv6 addresses are never judged more leniently than the IPv4
// address they carry.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "clients/address_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto a = IpAddress::parse(text)) {
    auto back = IpAddress::parse(a->to_string());
    if (!back || !(*back == *a)) std::abort();
    if (auto v4 = a->embedded_v4())
      if (classify(*v4) != AddressKind::public_address && classify(*a) == AddressKind::public_address) std::abort();
  }
  (void)Cidr::parse(text);
  // Raw bytes as a socket address, as libcurl hands them to the guard.
  AddressGuard guard;
  if (size >= 16) {
    sockaddr_in6 six{};
    six.sin6_family = AF_INET6;
    std::memcpy(&six.sin6_addr, data, 16);
    auto v = guard.check(reinterpret_cast<const sockaddr*>(&six), sizeof six);
    if (v.allowed && v.kind != AddressKind::public_address) std::abort();
  }
  if (size >= 4) {
    sockaddr_in four{};
    four.sin_family = AF_INET;
    std::memcpy(&four.sin_addr, data, 4);
    auto v = guard.check(reinterpret_cast<const sockaddr*>(&four), sizeof four);
    if (v.allowed && v.kind != AddressKind::public_address) std::abort();
  }
  return 0;
}
