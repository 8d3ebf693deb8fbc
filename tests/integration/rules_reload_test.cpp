// Rules from configured files and directories (ours and Sigma) under the real agent; reload on
// SIGHUP; a broken rule file refuses to start the agent and is rejected on reload.
#include <fmt/format.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

std::string rule_file(const std::string& name, const std::string& arg) {
  return fmt::format(R"(rules:
  - name: {}
    severity: low
    mitre: T1059
    condition:
      event.action: exec
      process.args: {{startswith: {}}}
    output: "{} saw {{process.command_line}}"
    response: [warn, freeze]
)",
                     name, arg, name);
}

constexpr const char* kSigma = R"(title: Reload Test True With Marker
id: 0f0f0f0f-0000-4000-8000-000000000001
status: test
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: '/true'
        CommandLine|contains: 'pwsigmamarker'
    condition: selection
level: high
tags:
    - attack.t1059.004
)";

class RulesReloadTest : public AgentSuite<RulesReloadTest> {
 public:
  static std::string config_body(const std::string& dir) {
    std::filesystem::create_directories(dir + "/rules");
    write_file(dir + "/rules/a.yaml", rule_file("custom-a", "pwreloadmarkera"));
    write_file(dir + "/rules/sigma.yml", kSigma);
    return fmt::format("detect:\n  default_rules: false\n  rules: [{}/rules]\n", dir);
  }

 protected:
  static std::optional<json> alert_for(const std::string& rule, const std::string& token,
                                       Duration timeout = kEventTimeout) {
    return agent().wait_for(
        [&](const json& j) {
          return str(j, "event.kind") == "alert" && str(j, "rule.name") == rule;
        },
        token, timeout);
  }
  static void trigger(const std::string& token) {
    Child c = Child::exec({"/bin/true", token});
    c.wait();
  }
  static size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  }
  // Sends SIGHUP and waits until the agent logged one more "rules loaded" or "not reloaded".
  static void reload() {
    const std::string before = agent().stderr_text();
    const size_t loaded = count(before, "rules loaded"), failed = count(before, "not reloaded");
    agent().signal(SIGHUP);
    for (int i = 0; i < 200; ++i) {
      const std::string now = agent().stderr_text();
      if (count(now, "rules loaded") > loaded || count(now, "not reloaded") > failed) return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "no reload logged: " << agent().stderr_text();
  }
};

TEST_F(RulesReloadTest, ConfiguredRuleFileAlertsWithItsResponseSettings) {
  const std::string hit = "pwreloadmarkera" + unique_token();
  const std::string token = "x" + hit;
  trigger(hit);
  trigger(token);  // does not start with the marker: no alert
  auto a = alert_for("custom-a", hit);
  ASSERT_TRUE(a) << agent().stderr_text();
  EXPECT_EQ(str(*a, "message"), "custom-a saw /bin/true " + hit);
  EXPECT_EQ(*field(*a, "privwatch.details.response.actions"), json::array({"warn", "freeze"}));
  EXPECT_TRUE(agent()
                  .matching([&](const json& j) { return str(j, "event.kind") == "alert"; }, token)
                  .empty());
}

TEST_F(RulesReloadTest, SigmaRuleFromTheRulesDirectoryAlerts) {
  const std::string token = "pwsigmamarker" + unique_token();
  trigger(token);
  auto a = alert_for("sigma.reload-test-true-with-marker", token);
  ASSERT_TRUE(a) << agent().stderr_text();
  EXPECT_EQ(str(*a, "privwatch.severity"), "high");
  EXPECT_EQ(str(*a, "threat.technique.id"), "T1059.004");
  EXPECT_EQ(str(*a, "privwatch.details.rule.source"), "sigma");
}

TEST_F(RulesReloadTest, SighupSwapsTheRulesAndABrokenFileKeepsThePreviousOnes) {
  const std::string dir = suite_dir() + "/rules";
  // 1. Replace rule a by rule b and reload.
  write_file(dir + "/a.yaml", rule_file("custom-b", "pwreloadmarkerb"));
  reload();
  const std::string b1 = "pwreloadmarkerb" + unique_token();
  trigger(b1);
  ASSERT_TRUE(alert_for("custom-b", b1)) << agent().stderr_text();
  agent().mark();
  const std::string a1 = "pwreloadmarkera" + unique_token();
  trigger(a1);
  // The exec is there, and no alert of the removed rule.
  ASSERT_TRUE(agent().wait_for([](const json& j) { return str(j, "event.action") == "exec"; }, a1));
  const std::string b2 = "pwreloadmarkerb" + unique_token();
  trigger(b2);
  ASSERT_TRUE(alert_for("custom-b", b2));
  EXPECT_TRUE(agent()
                  .matching([](const json& j) { return str(j, "rule.name") == "custom-a"; }, a1)
                  .empty());

  // 2. A broken file: the agent says where, and rule b stays active.
  write_file(dir + "/a.yaml",
             "rules:\n  - name: x\n    severity: high\n    condition: {process.nam: y}\n");
  reload();
  const std::string log = agent().stderr_text();
  EXPECT_NE(log.find("rules not reloaded"), std::string::npos) << log;
  EXPECT_NE(log.find(dir + "/a.yaml:4:17: unknown field 'process.nam'"), std::string::npos) << log;
  agent().mark();
  const std::string b3 = "pwreloadmarkerb" + unique_token();
  trigger(b3);
  EXPECT_TRUE(alert_for("custom-b", b3));
  write_file(dir + "/a.yaml", rule_file("custom-a", "pwreloadmarkera"));
  reload();
}

TEST(RulesStartup, AgentRefusesToStartWithABrokenRuleFile) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir;
  write_file(dir / "bad.yaml",
             "rules:\n  - name: x\n    severity: high\n    condition:\n      process.name: "
             "{startwith: a}\n");
  std::string error;
  auto agent = Agent::start(fmt::format("detect:\n  rules: [{}]\n", dir / "bad.yaml"), &error);
  EXPECT_EQ(agent, nullptr);
  EXPECT_NE(error.find(dir / "bad.yaml" + ":5:22: unknown operator 'startwith'"), std::string::npos)
      << error;
  EXPECT_NE(error.find("did you mean 'startswith'"), std::string::npos) << error;
}

}  // namespace
}  // namespace privwatch::itest
