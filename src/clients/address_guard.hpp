// SSRF guard: classifies resolved socket addresses and refuses private, loopback and reserved ranges.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class AddressKind {
  public_address,
  unspecified,           // 0.0.0.0/8, ::
  loopback,              // 127/8, ::1
  private_network,       // 10/8, 172.16/12, 192.168/16, fc00::/7 (unique local)
  shared_address_space,  // 100.64/10 (carrier-grade NAT)
  link_local,            // 169.254/16, fe80::/10
  multicast,             // 224/4, ff00::/8
  reserved,              // 240/4, ::/96 (deprecated IPv4-compatible)
  broadcast,             // 255.255.255.255
  not_ip,                // any family other than AF_INET / AF_INET6
};

// "private network", "loopback", ... as used in reject messages.
std::string_view describe(AddressKind kind);

// An IPv4 or IPv6 address in network byte order; IPv4 uses the first 4 bytes.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};

  static std::optional<IpAddress> parse(std::string_view text);
  static std::optional<IpAddress> from_sockaddr(const sockaddr* address, socklen_t length);
  std::string to_string() const;
  // The IPv4 address carried inside ::ffff:0:0/96 (IPv4-mapped) or 64:ff9b::/96 (NAT64).
  std::optional<IpAddress> embedded_v4() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Cidr {
  IpAddress network;
  int prefix_length = 0;

  // "10.0.0.0/8", "fe80::/10", or a bare address meaning a single host. Host bits must be zero
  // so that a typo like "10.0.0.1/8" is reported instead of silently widening the range.
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
};

// Classification alone, without any allow-list. Mapped and NAT64 IPv6 addresses are classified by
// the IPv4 address they carry, because that is where the packets end up.
AddressKind classify(const IpAddress& address);

class AddressGuard {
 public:
  struct Verdict {
    bool allowed = false;
    AddressKind kind = AddressKind::not_ip;
    std::string address;  // printable form, for the reject message
  };

  AddressGuard() = default;
  // Throws std::invalid_argument naming the first entry that is not a CIDR.
  explicit AddressGuard(const std::vector<std::string>& allow_networks);

  // An address inside an allow-list network passes whatever its kind; for mapped and NAT64
  // addresses the embedded IPv4 address is matched against the allow-list too.
  Verdict check(const IpAddress& address) const;
  Verdict check(const sockaddr* address, socklen_t length) const;

 private:
  std::vector<Cidr> allowed_;
};

}  // namespace sluice
