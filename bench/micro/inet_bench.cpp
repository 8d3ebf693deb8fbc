// IP address text: glibc's inet_ntop (sprintf per number) against util::put_ip, on the
// addresses a connect event carries (loopback, private IPv4, global and mapped IPv6).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "util/inet.hpp"

namespace {

struct Addr {
  int af;
  std::array<uint8_t, 16> a;
};

std::vector<Addr> addresses() {
  std::vector<Addr> v;
  auto add = [&v](int af, const char* text) {
    Addr x{af, {}};
    inet_pton(af, text, x.a.data());
    v.push_back(x);
  };
  add(AF_INET, "127.0.0.1");
  add(AF_INET, "10.42.7.193");
  add(AF_INET, "203.0.113.254");
  add(AF_INET, "192.168.1.20");
  add(AF_INET6, "::1");
  add(AF_INET6, "2001:db8:85a3::8a2e:370:7334");
  add(AF_INET6, "::ffff:198.51.100.7");
  add(AF_INET6, "fe80::1c2f:4aff:fe3b:9d01");
  return v;
}

void BM_IpText(benchmark::State& state) {
  const auto addrs = addresses();
  const bool libc = state.range(0) != 0;
  char buf[INET6_ADDRSTRLEN];
  size_t i = 0;
  for (auto _ : state) {
    const Addr& x = addrs[i++ & 7];
    if (libc) {
      benchmark::DoNotOptimize(inet_ntop(x.af, x.a.data(), buf, sizeof buf));
    } else {
      benchmark::DoNotOptimize(privwatch::util::put_ip(buf, x.af, x.a.data()));
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IpText)->Arg(1)->Arg(0)->ArgName("inet_ntop");

}  // namespace
