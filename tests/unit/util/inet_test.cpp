// util::put_ipv4 / put_ipv6 must write exactly what glibc's inet_ntop writes: the test compares
// them on every zero/non-zero pattern of the eight IPv6 groups (what decides "::" and the
// embedded IPv4 forms), with group values of every hex length, and on random addresses.
#include "util/inet.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>

namespace privwatch::util {
namespace {

std::string libc_text(int family, const uint8_t* a) {
  char buf[INET6_ADDRSTRLEN] = {};
  EXPECT_NE(inet_ntop(family, a, buf, sizeof buf), nullptr);
  return buf;
}

std::string ours(int family, const uint8_t* a) {
  char buf[kIpTextMax];
  const size_t n = family == AF_INET ? put_ipv4(buf, a) : put_ipv6(buf, a);
  EXPECT_LE(n, kIpTextMax - 1);
  return {buf, n};
}

TEST(Inet, KnownForms) {
  auto v6 = [](std::initializer_list<uint16_t> groups) {
    std::array<uint8_t, 16> a{};
    size_t i = 0;
    for (uint16_t g : groups) a[i++] = g >> 8, a[i++] = g & 0xff;
    return ours(AF_INET6, a.data());
  };
  EXPECT_EQ(v6({0, 0, 0, 0, 0, 0, 0, 0}), "::");
  EXPECT_EQ(v6({0, 0, 0, 0, 0, 0, 0, 1}), "::1");
  EXPECT_EQ(v6({0, 0, 0, 0, 0, 0xffff, 0x7f00, 0x0001}), "::ffff:127.0.0.1");
  EXPECT_EQ(v6({0, 0, 0, 0, 0, 0, 0x0a00, 0x0001}), "::10.0.0.1");
  EXPECT_EQ(v6({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}), "2001:db8::1:0:0:1");  // the first longest run
  EXPECT_EQ(v6({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}), "2001:db8:0:1:1:1:1:1");  // one zero: no "::"
  EXPECT_EQ(v6({0xfe80, 0, 0, 0, 0, 0, 0, 0}), "fe80::");
  const uint8_t v4[4] = {192, 0, 2, 255};
  EXPECT_EQ(ours(AF_INET, v4), "192.0.2.255");
}

TEST(Inet, Ipv4MatchesInetNtop) {
  const uint8_t edges[] = {0, 1, 9, 10, 11, 99, 100, 101, 199, 200, 249, 250, 255};
  uint8_t a[4];
  for (uint8_t x : edges) {
    for (uint8_t y : edges) {
      a[0] = x, a[1] = y, a[2] = y, a[3] = x;
      ASSERT_EQ(ours(AF_INET, a), libc_text(AF_INET, a));
    }
  }
  std::mt19937 rng(42);
  for (int i = 0; i < 200'000; ++i) {
    const uint32_t r = rng();
    for (int b = 0; b < 4; ++b) a[b] = static_cast<uint8_t>(r >> (8 * b));
    ASSERT_EQ(ours(AF_INET, a), libc_text(AF_INET, a));
  }
}

TEST(Inet, Ipv6MatchesInetNtopOnEveryZeroPattern) {
  std::mt19937 rng(7);
  // Non-zero group values of every hex length, and 0xffff (the mapped form's marker).
  const uint16_t values[] = {0x1, 0xf, 0x10, 0xab, 0x100, 0xfff, 0x1000, 0xffff};
  std::array<uint8_t, 16> a{};
  for (unsigned pattern = 0; pattern < 256; ++pattern) {
    for (int trial = 0; trial < 64; ++trial) {
      for (int g = 0; g < 8; ++g) {
        uint16_t v = 0;
        if ((pattern >> g) & 1) {
          v = trial < 8 ? values[(trial + g) % 8] : static_cast<uint16_t>(rng() % 0xffff + 1);
        }
        a[2 * g] = static_cast<uint8_t>(v >> 8);
        a[2 * g + 1] = static_cast<uint8_t>(v);
      }
      ASSERT_EQ(ours(AF_INET6, a.data()), libc_text(AF_INET6, a.data())) << "pattern " << pattern;
    }
  }
}

}  // namespace
}  // namespace privwatch::util
