// IP addresses as text, byte for byte what glibc's inet_ntop writes (RFC 5952 for IPv6: lower-
// case hex, no leading zeros, the first longest run of two or more zero groups as "::", and the
// IPv4-mapped / IPv4-compatible forms "::ffff:1.2.3.4" / "::1.2.3.4"), without its cost: glibc
// formats every number through sprintf, which was ~10 % of the pipeline thread's time on a
// connect flood (several addresses per event: ECS JSON, rules, baselines).
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace privwatch::util {

// Longest text: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" (45) + NUL = INET6_ADDRSTRLEN.
inline constexpr size_t kIpTextMax = 46;

// Writes the dotted quad of a[0..3] at out (16 bytes free); returns its length (7..15). No NUL.
inline size_t put_ipv4(char* out, const uint8_t* a) {
  char* p = out;
  for (int i = 0; i < 4; ++i) {
    const unsigned v = a[i];
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (i < 3) *p++ = '.';
  }
  return static_cast<size_t>(p - out);
}

// Writes the IPv6 text of a[0..15] at out (kIpTextMax bytes free); returns its length. No NUL.
inline size_t put_ipv6(char* out, const uint8_t* a) {
  unsigned w[8];
  for (int i = 0; i < 8; ++i) w[i] = (unsigned{a[2 * i]} << 8) | a[2 * i + 1];
  // The first longest run of zero groups, if it has two groups or more.
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (w[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  char* p = out;
  for (int i = 0; i < 8; ++i) {
    if (best >= 0 && i >= best && i < best + best_len) {
      if (i == best) *p++ = ':';
      continue;
    }
    if (i != 0) *p++ = ':';
    // An IPv4 address in the last 32 bits: "::a.b.c.d" (compatible), "::ffff:a.b.c.d" (mapped).
    if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
      p += put_ipv4(p, a + 12);
      return static_cast<size_t>(p - out);
    }
    const unsigned v = w[i];
    if (v >= 0x1000) *p++ = kHex[v >> 12];
    if (v >= 0x100) *p++ = kHex[(v >> 8) & 0xf];
    if (v >= 0x10) *p++ = kHex[(v >> 4) & 0xf];
    *p++ = kHex[v & 0xf];
  }
  if (best >= 0 && best + best_len == 8) *p++ = ':';
  return static_cast<size_t>(p - out);
}

// The text of an address of socket family `af` (AF_INET: a[0..3], AF_INET6: a[0..15]) at out
// (kIpTextMax bytes free); 0 for any other family.
inline size_t put_ip(char* out, int af, const uint8_t* a) {
  if (af == AF_INET) return put_ipv4(out, a);
  if (af == AF_INET6) return put_ipv6(out, a);
  return 0;
}

}  // namespace privwatch::util
