// SSRF guard: address parsing, CIDR matching and classification of private and reserved ranges.
#include "clients/address_guard.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <stdexcept>

namespace sluice {

std::string_view describe(AddressKind kind) {
  switch (kind) {
    case AddressKind::public_address:
      return "public address";
    case AddressKind::unspecified:
      return "unspecified address";
    case AddressKind::loopback:
      return "loopback";
    case AddressKind::private_network:
      return "private network";
    case AddressKind::shared_address_space:
      return "shared address space";
    case AddressKind::link_local:
      return "link-local";
    case AddressKind::multicast:
      return "multicast";
    case AddressKind::reserved:
      return "reserved";
    case AddressKind::broadcast:
      return "broadcast";
    case AddressKind::not_ip:
      return "not an IP address";
  }
  return "unknown";
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; the longest textual IPv6 form is 45 characters.
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buffer) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  if (inet_pton(AF_INET, buffer, address.bytes.data()) == 1) return address;
  address.v6 = true;
  if (inet_pton(AF_INET6, buffer, address.bytes.data()) == 1) return address;
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::from_sockaddr(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return std::nullopt;
  IpAddress result;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in v4;
    std::memcpy(&v4, address, sizeof v4);
    std::memcpy(result.bytes.data(), &v4.sin_addr, 4);
    return result;
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 v6;
    std::memcpy(&v6, address, sizeof v6);
    result.v6 = true;
    std::memcpy(result.bytes.data(), &v6.sin6_addr, 16);
    return result;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN];
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer) == nullptr) return "?";
  return buffer;
}

std::optional<IpAddress> IpAddress::embedded_v4() const {
  if (!v6) return std::nullopt;
  static constexpr std::array<std::uint8_t, 12> mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::array<std::uint8_t, 12> nat64_prefix{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(bytes.data(), mapped_prefix.data(), 12) != 0 &&
      std::memcmp(bytes.data(), nat64_prefix.data(), 12) != 0) {
    return std::nullopt;
  }
  IpAddress v4;
  std::memcpy(v4.bytes.data(), bytes.data() + 12, 4);
  return v4;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  Cidr cidr;
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  cidr.network = *address;
  const int max_length = address->v6 ? 128 : 32;
  if (slash == std::string_view::npos) {
    cidr.prefix_length = max_length;
  } else {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    int length = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      length = length * 10 + (c - '0');
    }
    if (length > max_length) return std::nullopt;
    cidr.prefix_length = length;
  }
  for (int bit = cidr.prefix_length; bit < max_length; ++bit) {
    if (cidr.network.bytes[static_cast<std::size_t>(bit / 8)] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return cidr;
}

bool Cidr::contains(const IpAddress& address) const {
  if (address.v6 != network.v6) return false;
  const int full_bytes = prefix_length / 8;
  if (std::memcmp(address.bytes.data(), network.bytes.data(), static_cast<std::size_t>(full_bytes)) != 0) {
    return false;
  }
  const int rest = prefix_length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  const auto index = static_cast<std::size_t>(full_bytes);
  return (address.bytes[index] & mask) == (network.bytes[index] & mask);
}

namespace {

AddressKind classify_v4(const std::array<std::uint8_t, 16>& b) {
  if (b[0] == 0) return AddressKind::unspecified;
  if (b[0] == 10) return AddressKind::private_network;
  if (b[0] == 100 && (b[1] & 0xc0) == 64) return AddressKind::shared_address_space;
  if (b[0] == 127) return AddressKind::loopback;
  if (b[0] == 169 && b[1] == 254) return AddressKind::link_local;
  if (b[0] == 172 && (b[1] & 0xf0) == 16) return AddressKind::private_network;
  if (b[0] == 192 && b[1] == 168) return AddressKind::private_network;
  if ((b[0] & 0xf0) == 224) return AddressKind::multicast;
  if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return AddressKind::broadcast;
  if ((b[0] & 0xf0) == 240) return AddressKind::reserved;
  return AddressKind::public_address;
}

}  // namespace

AddressKind classify(const IpAddress& address) {
  if (!address.v6) return classify_v4(address.bytes);
  if (const auto v4 = address.embedded_v4()) return classify_v4(v4->bytes);
  const auto& b = address.bytes;
  bool zero_prefix_96 = true;
  for (std::size_t i = 0; i < 12; ++i) zero_prefix_96 = zero_prefix_96 && b[i] == 0;
  if (zero_prefix_96) {
    const bool zero_high = b[12] == 0 && b[13] == 0 && b[14] == 0;
    if (zero_high && b[15] == 0) return AddressKind::unspecified;
    if (zero_high && b[15] == 1) return AddressKind::loopback;
    // The deprecated IPv4-compatible form ::a.b.c.d: nothing legitimate serves images there.
    return AddressKind::reserved;
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressKind::link_local;
  if ((b[0] & 0xfe) == 0xfc) return AddressKind::private_network;
  if (b[0] == 0xff) return AddressKind::multicast;
  return AddressKind::public_address;
}

AddressGuard::AddressGuard(const std::vector<std::string>& allow_networks) {
  for (const auto& text : allow_networks) {
    auto cidr = Cidr::parse(text);
    if (!cidr) throw std::invalid_argument("allow_networks: '" + text + "' is not a network in CIDR notation");
    allowed_.push_back(*cidr);
  }
}

AddressGuard::Verdict AddressGuard::check(const IpAddress& address) const {
  Verdict verdict;
  verdict.kind = classify(address);
  verdict.address = address.to_string();
  if (verdict.kind == AddressKind::public_address) {
    verdict.allowed = true;
    return verdict;
  }
  const auto embedded = address.embedded_v4();
  for (const auto& cidr : allowed_) {
    if (cidr.contains(address) || (embedded && cidr.contains(*embedded))) {
      verdict.allowed = true;
      break;
    }
  }
  return verdict;
}

AddressGuard::Verdict AddressGuard::check(const sockaddr* address, socklen_t length) const {
  const auto ip = IpAddress::from_sockaddr(address, length);
  if (!ip) return Verdict{false, AddressKind::not_ip, "(non-IP address)"};
  return check(*ip);
}

}  // namespace sluice
