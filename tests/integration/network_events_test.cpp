// Network: bind / listen / accept by the test (a monitored root process) on a loopback
// listener bound to port 0, connect by a forked child over IPv4 and IPv6, and a refused
// connect.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

class NetworkEventsTest : public AgentSuite<NetworkEventsTest> {};

// A socket address for `ip` (IPv4 or IPv6 literal) and port.
struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = 0;
};

Addr make_addr(const std::string& ip, uint16_t port) {
  Addr a;
  if (ip.find(':') == std::string::npos) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a.ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    inet_pton(AF_INET, ip.c_str(), &in->sin_addr);
    a.len = sizeof(sockaddr_in);
    a.family = AF_INET;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip.c_str(), &in6->sin6_addr);
    a.len = sizeof(sockaddr_in6);
    a.family = AF_INET6;
  }
  return a;
}

uint16_t port_of(const sockaddr_storage& ss) {
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port)
                                 : ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

Predicate net_event(std::string action, uint32_t pid, int fd) {
  return [action = std::move(action), pid, fd](const json& e) {
    return str(e, "privwatch.kind") == "net" && str(e, "event.action") == action &&
           num(e, "process.pid") == pid && num(e, "privwatch.net.fd") == fd;
  };
}

void expect_endpoint(const json& ev, const std::string& side, const std::string& ip, int64_t port) {
  EXPECT_EQ(str(ev, side + ".ip"), ip) << side << ": " << short_dump(ev);
  EXPECT_EQ(num(ev, side + ".port"), port) << side << ": " << short_dump(ev);
}

void expect_network(const json& ev, int family, const std::string& direction) {
  EXPECT_EQ(str(ev, "network.type"), family == AF_INET ? "ipv4" : "ipv6") << short_dump(ev);
  EXPECT_EQ(str(ev, "network.transport"), "tcp");
  EXPECT_EQ(str(ev, "network.iana_number"), "6");
  EXPECT_EQ(str(ev, "privwatch.net.socket_type"), "stream");
  if (direction.empty()) {
    EXPECT_FALSE(has(ev, "network.direction"));
  } else {
    EXPECT_EQ(str(ev, "network.direction"), direction);
  }
}

// listener (bind + listen + accept) in the test, connect in a child.
void connect_accept_roundtrip(Agent& agent, const std::string& ip) {
  constexpr int kBacklog = 7;
  const Addr any = make_addr(ip, 0);
  Fd lfd(::socket(any.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_GE(lfd.get(), 0) << std::strerror(errno);
  ASSERT_EQ(::bind(lfd.get(), reinterpret_cast<const sockaddr*>(&any.ss), any.len), 0)
      << ip << ": " << std::strerror(errno);
  ASSERT_EQ(::listen(lfd.get(), kBacklog), 0);
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  ASSERT_EQ(::getsockname(lfd.get(), reinterpret_cast<sockaddr*>(&bound), &blen), 0);
  const uint16_t port = port_of(bound);

  const Addr target = make_addr(ip, port);
  constexpr int kClientFd = 61;
  Child c = Child::run([&] {
    const int s = ::socket(target.family, SOCK_STREAM, 0);
    if (s < 0 || ::dup2(s, kClientFd) != kClientFd) return 100;
    return ::connect(kClientFd, reinterpret_cast<const sockaddr*>(&target.ss), target.len) == 0
               ? 0
               : errno;
  });
  sockaddr_storage peer{};
  socklen_t plen = sizeof(peer);
  Fd afd(::accept4(lfd.get(), reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC));
  ASSERT_GE(afd.get(), 0) << std::strerror(errno);
  const uint16_t client_port = port_of(peer);
  ASSERT_EQ(describe_status(c.wait()), "exit 0");
  ASSERT_TRUE(c.info_at_exit());
  const uint32_t self = static_cast<uint32_t>(::getpid());
  ExpectedProcess me = expected_self();
  me.monitored = true;

  // bind: the address the listener is bound to.
  auto bind_ev =
      agent.wait_for(net_event("bind", self, lfd.get()), fmt::format("\"pid\":{},", self));
  ASSERT_TRUE(bind_ev) << "no bind event";
  expect_process(*bind_ev, me);
  expect_categorized(*bind_ev, "network", {"connection"});
  EXPECT_EQ(str(*bind_ev, "event.outcome"), "success");
  EXPECT_EQ(num(*bind_ev, "privwatch.syscall"), SYS_bind);
  expect_network(*bind_ev, any.family, "");
  EXPECT_EQ(str(*bind_ev, "source.ip"), ip) << short_dump(*bind_ev);
  // source.port of a bind to port 0: see BindToPortZeroReportsTheAssignedPort.

  // listen: the bound address and the backlog.
  auto listen_ev =
      agent.wait_for(net_event("listen", self, lfd.get()), fmt::format("\"pid\":{},", self));
  ASSERT_TRUE(listen_ev) << "no listen event";
  expect_process(*listen_ev, me);
  EXPECT_EQ(str(*listen_ev, "event.outcome"), "success");
  EXPECT_EQ(num(*listen_ev, "privwatch.syscall"), SYS_listen);
  expect_endpoint(*listen_ev, "source", ip, port);
  EXPECT_EQ(num(*listen_ev, "privwatch.net.backlog"), kBacklog);
  expect_network(*listen_ev, any.family, "");

  // connect by the child: destination = the listener, source = the client's port.
  auto conn_ev =
      agent.wait_for(net_event("connect", c.pid(), kClientFd), fmt::format("\"pid\":{},", c.pid()));
  ASSERT_TRUE(conn_ev) << "no connect event from pid " << c.pid();
  ExpectedProcess child = expected_child(*c.info_at_exit());
  child.monitored = true;
  expect_process(*conn_ev, child);
  expect_categorized(*conn_ev, "network", {"connection", "start"});
  EXPECT_EQ(str(*conn_ev, "event.outcome"), "success");
  EXPECT_EQ(num(*conn_ev, "privwatch.syscall"), SYS_connect);
  expect_endpoint(*conn_ev, "destination", ip, port);
  expect_endpoint(*conn_ev, "source", ip, client_port);
  expect_network(*conn_ev, any.family, "egress");

  // accept by the test: source = the client, destination = the listener.
  auto acc_ev =
      agent.wait_for(net_event("accept", self, afd.get()), fmt::format("\"pid\":{},", self));
  ASSERT_TRUE(acc_ev) << "no accept event";
  expect_process(*acc_ev, me);
  expect_categorized(*acc_ev, "network", {"connection", "start"});
  EXPECT_EQ(str(*acc_ev, "event.outcome"), "success");
  EXPECT_EQ(num(*acc_ev, "privwatch.syscall"), SYS_accept4);
  expect_endpoint(*acc_ev, "source", ip, client_port);
  expect_endpoint(*acc_ev, "destination", ip, port);
  expect_network(*acc_ev, any.family, "ingress");
}

TEST_F(NetworkEventsTest, ConnectAndAcceptOverIPv4Loopback) {
  connect_accept_roundtrip(agent(), "127.0.0.1");
}

TEST_F(NetworkEventsTest, ConnectAndAcceptOverIPv6Loopback) {
  Fd probe(::socket(AF_INET6, SOCK_STREAM, 0));
  ASSERT_GE(probe.get(), 0) << "IPv6 is not available: " << std::strerror(errno);
  connect_accept_roundtrip(agent(), "::1");
}

// A listener bound to port 0 holds the port the kernel picked; the bind event must say
// which one, or "who opened port N" cannot be answered from the events.
TEST_F(NetworkEventsTest, BindToPortZeroReportsTheAssignedPort) {
  const Addr any = make_addr("127.0.0.1", 0);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&any.ss), any.len), 0);
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  ASSERT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &blen), 0);
  const uint32_t self = static_cast<uint32_t>(::getpid());
  auto ev = agent().wait_for(net_event("bind", self, fd.get()), fmt::format("\"pid\":{},", self));
  ASSERT_TRUE(ev) << "no bind event";
  EXPECT_EQ(str(*ev, "event.outcome"), "success");
  expect_endpoint(*ev, "source", "127.0.0.1", port_of(bound));
}

TEST_F(NetworkEventsTest, RefusedConnectIsAFailureWithErrno) {
  // A bound socket that does not listen: its port answers with a reset, and stays reserved.
  const Addr any = make_addr("127.0.0.1", 0);
  Fd hold(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(hold.get(), reinterpret_cast<const sockaddr*>(&any.ss), any.len), 0);
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  ASSERT_EQ(::getsockname(hold.get(), reinterpret_cast<sockaddr*>(&bound), &blen), 0);
  const uint16_t port = port_of(bound);
  const Addr target = make_addr("127.0.0.1", port);
  constexpr int kClientFd = 62;
  Child c = Child::run([&] {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || ::dup2(s, kClientFd) != kClientFd) return 100;
    return ::connect(kClientFd, reinterpret_cast<const sockaddr*>(&target.ss), target.len) == 0
               ? 0
               : errno;
  });
  ASSERT_EQ(describe_status(c.wait()), fmt::format("exit {}", ECONNREFUSED));
  ASSERT_TRUE(c.info_at_exit());

  auto ev = agent().wait_for(net_event("connect", c.pid(), kClientFd),
                             fmt::format("\"pid\":{},", c.pid()));
  ASSERT_TRUE(ev) << "no connect event from pid " << c.pid();
  expect_process(*ev, expected_child(*c.info_at_exit()));
  SCOPED_TRACE(short_dump(*ev));
  EXPECT_EQ(str(*ev, "event.outcome"), "failure");
  EXPECT_EQ(str(*ev, "error.code"), "ECONNREFUSED");
  EXPECT_EQ(str(*ev, "error.message"), std::strerror(ECONNREFUSED));
  expect_endpoint(*ev, "destination", "127.0.0.1", port);
  expect_network(*ev, AF_INET, "egress");
}

}  // namespace
}  // namespace privwatch::itest
