// The respond: section of the configuration.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace privwatch::config {
namespace {

Config ok(const std::string& yaml) {
  auto r = parse(yaml, "p.yaml");
  EXPECT_TRUE(r) << r.error().to_string() << "\nfor:\n" << yaml;
  return r ? *r : Config{};
}

std::string err(const std::string& yaml) {
  auto r = parse(yaml, "p.yaml");
  EXPECT_FALSE(r) << "accepted:\n" << yaml;
  return r ? std::string() : r.error().to_string();
}

TEST(RespondConfig, DefaultsMatchTheDocumentation) {
  auto c = load_default();
  ASSERT_TRUE(c);
  const RespondConfig& r = c->respond;
  EXPECT_TRUE(r.enabled);
  EXPECT_FALSE(r.dry_run);
  EXPECT_EQ(r.max_rounds, 20u);
  EXPECT_EQ(r.actions_log, "/var/log/privwatch/actions.json");
  EXPECT_EQ(r.protected_processes,
            (std::vector<std::string>{"systemd", "systemd-logind", "dbus-daemon", "auditd"}));
  EXPECT_NE(r.warn_message.find("{reason}"), std::string::npos);
  EXPECT_TRUE(r.kill.empty());
  const RespondConfig plain;
  EXPECT_EQ(r.enabled, plain.enabled);
  EXPECT_EQ(r.dry_run, plain.dry_run);
  EXPECT_EQ(r.max_rounds, plain.max_rounds);
}

TEST(RespondConfig, EveryKeyIsApplied) {
  const Config c = ok(R"(
respond:
  enabled: false
  dry_run: true
  protected: [sshd, /usr/sbin/cron]
  warn_message: "stop: {reason}"
  actions_log: /tmp/actions.json
  max_rounds: 5
  kill:
    - {name: nc, exec: /bin/true}
    - {name: c2, connect: "203.0.113.0/24:4444"}
    - {name: v6, connect: "[2001:db8::/32]:22"}
    - {name: port, connect: "*:31337"}
    - {name: host, connect: 192.0.2.7}
    - {name: bare-port, connect: 6667}
)");
  const RespondConfig& r = c.respond;
  EXPECT_FALSE(r.enabled);
  EXPECT_TRUE(r.dry_run);
  EXPECT_EQ(r.protected_processes, (std::vector<std::string>{"sshd", "/usr/sbin/cron"}));
  EXPECT_EQ(r.warn_message, "stop: {reason}");
  EXPECT_EQ(r.actions_log, "/tmp/actions.json");
  EXPECT_EQ(r.max_rounds, 5u);
  ASSERT_EQ(r.kill.size(), 6u);
  EXPECT_EQ(r.kill[0].exec, "/bin/true");
  EXPECT_FALSE(r.kill[0].connect);
  EXPECT_TRUE(r.kill[1].connect);
  EXPECT_EQ(r.kill[1].family, AF_INET);
  EXPECT_EQ(r.kill[1].prefix_bits, 24);
  EXPECT_EQ(r.kill[1].port, 4444);
  EXPECT_EQ(r.kill[1].addr[0], 203);
  EXPECT_EQ(r.kill[2].family, AF_INET6);
  EXPECT_EQ(r.kill[2].prefix_bits, 32);
  EXPECT_EQ(r.kill[2].port, 22);
  EXPECT_EQ(r.kill[3].family, 0);  // any address
  EXPECT_EQ(r.kill[3].port, 31337);
  EXPECT_EQ(r.kill[4].prefix_bits, 32);
  EXPECT_EQ(r.kill[4].port, 0);  // any port
  EXPECT_EQ(r.kill[5].family, 0);
  EXPECT_EQ(r.kill[5].port, 6667);
}

TEST(RespondConfig, ErrorsNamePositionProblemAndFix) {
  struct Case {
    const char* yaml;
    const char* where;
    const char* what;
  };
  const Case cases[] = {
      {"respond:\n  enable: true\n", "p.yaml:2:3", "unknown key 'enable'"},
      {"respond:\n  max_rounds: 0\n", "p.yaml:2:15", "out of range"},
      {"respond:\n  kill:\n    - {name: a}\n", "p.yaml:3:7", "exactly one of 'exec' or 'connect'"},
      {"respond:\n  kill:\n    - {exec: /bin/true}\n", "p.yaml:3:7", "'name' is missing"},
      {"respond:\n  kill:\n    - {name: a, exec: /no/such/file}\n", "p.yaml:3:23",
       "not an existing regular file"},
      {"respond:\n  kill:\n    - {name: a, connect: \"10.0.0.0/33\"}\n", "p.yaml:3:26",
       "longer than 32 bits"},
      {"respond:\n  kill:\n    - {name: a, connect: \"10.0.0.1:99999\"}\n", "p.yaml:3:26",
       "not a port"},
      {"respond:\n  kill:\n    - {name: a, connect: \"example.com:80\"}\n", "p.yaml:3:26",
       "not an IPv4 or IPv6 address"},
      {"respond:\n  kill:\n    - {name: a, connect: 80}\n    - {name: a, connect: 81}\n",
       "p.yaml:4:14", "used twice"},
      {"respond:\n  kill:\n    - {name: a, connect: \"*\"}\n", "p.yaml:3:26",
       "matches every connection"},
      {"respond:\n  actions_log: actions.json\n", "p.yaml:2:16", "not an absolute path"},
      {"respond:\n  protected: [a-very-long-process-name]\n", "p.yaml:2:15",
       "neither a process name"},
      {"respond:\n  kill: yes\n", "p.yaml:2:9", "expected a list of entries"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.yaml);
    const std::string e = err(c.yaml);
    EXPECT_EQ(e.rfind(c.where, 0), 0u) << e;
    EXPECT_NE(e.find(c.what), std::string::npos) << e;
    EXPECT_NE(e.find("hint:"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace privwatch::config
