// Tests for the SSRF address guard: every refused range, IPv4-mapped and NAT64 forms, CIDR allow-lists.
#include "clients/address_guard.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace sluice {
namespace {

AddressKind kind_of(const std::string& text) {
  const auto address = IpAddress::parse(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address ? classify(*address) : AddressKind::not_ip;
}

struct Case {
  const char* address;
  AddressKind kind;
};

TEST(AddressGuard, ClassifiesEveryRefusedIpv4Range) {
  const Case cases[] = {
      {"0.0.0.0", AddressKind::unspecified},
      {"0.255.255.255", AddressKind::unspecified},
      {"10.0.0.1", AddressKind::private_network},
      {"10.255.255.255", AddressKind::private_network},
      {"100.64.0.0", AddressKind::shared_address_space},
      {"100.127.255.255", AddressKind::shared_address_space},
      {"127.0.0.1", AddressKind::loopback},
      {"127.255.0.9", AddressKind::loopback},
      {"169.254.169.254", AddressKind::link_local},
      {"169.254.0.1", AddressKind::link_local},
      {"172.16.0.1", AddressKind::private_network},
      {"172.31.255.255", AddressKind::private_network},
      {"192.168.0.1", AddressKind::private_network},
      {"192.168.255.255", AddressKind::private_network},
      {"224.0.0.1", AddressKind::multicast},
      {"239.255.255.255", AddressKind::multicast},
      {"240.0.0.1", AddressKind::reserved},
      {"255.255.255.254", AddressKind::reserved},
      {"255.255.255.255", AddressKind::broadcast},
  };
  for (const auto& c : cases) EXPECT_EQ(kind_of(c.address), c.kind) << c.address;
}

TEST(AddressGuard, LeavesTheNeighboursOfRefusedRangesPublic) {
  for (const char* address : {"1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
                              "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
                              "172.32.0.0", "192.167.255.255", "192.169.0.0", "223.255.255.255", "8.8.8.8"}) {
    EXPECT_EQ(kind_of(address), AddressKind::public_address) << address;
  }
}

TEST(AddressGuard, ClassifiesEveryRefusedIpv6Range) {
  const Case cases[] = {
      {"::", AddressKind::unspecified},          {"::1", AddressKind::loopback},
      {"fe80::1", AddressKind::link_local},      {"febf:ffff::1", AddressKind::link_local},
      {"fc00::1", AddressKind::private_network}, {"fdff:ffff::1", AddressKind::private_network},
      {"ff02::1", AddressKind::multicast},       {"ff05::1:3", AddressKind::multicast},
      {"::7f00:1", AddressKind::reserved},  // deprecated IPv4-compatible ::127.0.0.1
  };
  for (const auto& c : cases) EXPECT_EQ(kind_of(c.address), c.kind) << c.address;
  for (const char* address : {"2001:4860:4860::8888", "2606:4700::1111", "fec0::1", "fb00::1", "fe00::1"}) {
    EXPECT_EQ(kind_of(address), AddressKind::public_address) << address;
  }
}

TEST(AddressGuard, ClassifiesMappedAndNat64AddressesByTheEmbeddedIpv4) {
  EXPECT_EQ(kind_of("::ffff:127.0.0.1"), AddressKind::loopback);
  EXPECT_EQ(kind_of("::ffff:10.1.2.3"), AddressKind::private_network);
  EXPECT_EQ(kind_of("::ffff:169.254.169.254"), AddressKind::link_local);
  EXPECT_EQ(kind_of("::ffff:0.0.0.0"), AddressKind::unspecified);
  EXPECT_EQ(kind_of("::ffff:7f00:1"), AddressKind::loopback);
  EXPECT_EQ(kind_of("::ffff:8.8.8.8"), AddressKind::public_address);
  EXPECT_EQ(kind_of("64:ff9b::127.0.0.1"), AddressKind::loopback);
  EXPECT_EQ(kind_of("64:ff9b::c0a8:101"), AddressKind::private_network);
  EXPECT_EQ(kind_of("64:ff9b::8.8.8.8"), AddressKind::public_address);
  const auto embedded = IpAddress::parse("::ffff:192.168.1.1")->embedded_v4();
  ASSERT_TRUE(embedded.has_value());
  EXPECT_EQ(embedded->to_string(), "192.168.1.1");
}

TEST(AddressGuard, ParsesCidrsStrictly) {
  const auto v4 = Cidr::parse("10.0.0.0/8");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->prefix_length, 8);
  EXPECT_TRUE(v4->contains(*IpAddress::parse("10.200.3.4")));
  EXPECT_FALSE(v4->contains(*IpAddress::parse("11.0.0.0")));
  EXPECT_FALSE(v4->contains(*IpAddress::parse("::ffff:10.0.0.1")));  // families differ
  const auto host = Cidr::parse("127.0.0.1");
  ASSERT_TRUE(host.has_value());
  EXPECT_EQ(host->prefix_length, 32);
  const auto odd = Cidr::parse("100.64.0.0/10");
  ASSERT_TRUE(odd.has_value());
  EXPECT_TRUE(odd->contains(*IpAddress::parse("100.127.0.1")));
  EXPECT_FALSE(odd->contains(*IpAddress::parse("100.128.0.1")));
  const auto v6 = Cidr::parse("fe80::/10");
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->contains(*IpAddress::parse("febf::1")));
  EXPECT_FALSE(v6->contains(*IpAddress::parse("fec0::1")));
  EXPECT_TRUE(Cidr::parse("0.0.0.0/0").has_value());
  EXPECT_TRUE(Cidr::parse("::/0").has_value());
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.1/8", "10.0.0.0/x", "10.0.0/8", "localhost",
                          "10.0.0.0/8/8", "010.0.0.0/8", "10.0.0.0/-1"}) {
    EXPECT_FALSE(Cidr::parse(bad).has_value()) << bad;
  }
}

TEST(AddressGuard, AllowListOverridesTheClassification) {
  const AddressGuard strict;
  const auto loopback = *IpAddress::parse("127.0.0.1");
  auto verdict = strict.check(loopback);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.kind, AddressKind::loopback);
  EXPECT_EQ(verdict.address, "127.0.0.1");
  EXPECT_TRUE(strict.check(*IpAddress::parse("93.184.216.34")).allowed);

  const AddressGuard relaxed({"127.0.0.1/32", "fd00::/8"});
  EXPECT_TRUE(relaxed.check(loopback).allowed);
  EXPECT_FALSE(relaxed.check(*IpAddress::parse("127.0.0.2")).allowed);
  EXPECT_TRUE(relaxed.check(*IpAddress::parse("::ffff:127.0.0.1")).allowed);
  EXPECT_FALSE(relaxed.check(*IpAddress::parse("::1")).allowed);
  EXPECT_TRUE(relaxed.check(*IpAddress::parse("fd12::1")).allowed);
  EXPECT_FALSE(relaxed.check(*IpAddress::parse("fc00::1")).allowed);
}

TEST(AddressGuard, RejectsAMalformedAllowList) {
  EXPECT_THROW(AddressGuard({"127.0.0.1/32", "not-a-network"}), std::invalid_argument);
}

TEST(AddressGuard, ChecksSockaddrsOfBothFamilies) {
  const AddressGuard guard;
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "192.168.1.20", &v4.sin_addr);
  auto verdict = guard.check(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.kind, AddressKind::private_network);
  EXPECT_EQ(verdict.address, "192.168.1.20");

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:169.254.169.254", &v6.sin6_addr);
  verdict = guard.check(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.kind, AddressKind::link_local);
  EXPECT_EQ(verdict.address, "::ffff:169.254.169.254");

  inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr);
  EXPECT_TRUE(guard.check(reinterpret_cast<const sockaddr*>(&v6), sizeof v6).allowed);

  sockaddr other{};
  other.sa_family = AF_UNIX;
  verdict = guard.check(&other, sizeof other);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.kind, AddressKind::not_ip);
  EXPECT_FALSE(guard.check(reinterpret_cast<const sockaddr*>(&v4), 4).allowed);  // truncated length
}

TEST(AddressGuard, DescribesKindsForRejectMessages) {
  EXPECT_EQ(describe(AddressKind::private_network), "private network");
  EXPECT_EQ(describe(AddressKind::loopback), "loopback");
  EXPECT_EQ(describe(AddressKind::link_local), "link-local");
}

}  // namespace
}  // namespace sluice
