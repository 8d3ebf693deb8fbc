// Behavioural baselines in the real agent: a never-seen program raises a baseline alert in the
// JSON lines output, `privwatch alert ID --benign` folds back while the agent runs, and what
// was learned survives a restart (state_file).
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

// Thresholds opened wide (the machine is shared: root's history is whatever else runs here);
// the assertions only concern the test's own, uniquely named program.
std::string config_for(const TempDir& dir) {
  return fmt::format(
      "baselines:\n  enabled: true\n  state_file: {0}/baselines.state\n"
      "  feedback_file: {0}/feedback.jsonl\n  learning_days: 0\n  min_events: 0\n"
      "  rarity: 0.5\n  score_threshold: 0.1\n  dedup_window_s: 0\n  rollout_users: 0\n",
      dir.path());
}

Predicate alert_about(const std::string& token) {
  return [token](const json& ev) {
    return str(ev, "event.kind") == "alert" &&
           str(ev, "privwatch.explanation").find(token) != std::string::npos;
  };
}

Predicate exec_of(const std::string& exe, uint32_t pid) {
  return [exe, pid](const json& ev) {
    return str(ev, "event.action") == "exec" && num(ev, "process.pid") == pid &&
           str(ev, "process.executable") == exe;
  };
}

bool wait_for_log(Agent& agent, const std::string& text, Duration timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (agent.stderr_text().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(BaselinesTest, NeverSeenProgramAlertsFeedbackFoldsBackAndStateSurvivesRestart) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  TempDir dir("pwbaseline");
  const std::string token = unique_token("pwprobe");
  const std::string probe = dir / token;
  std::filesystem::copy_file("/usr/bin/true", probe);
  ::chmod(probe.c_str(), 0755);

  std::string error;
  auto agent = Agent::start(config_for(dir), &error);
  ASSERT_NE(agent, nullptr) << error;
  // Some ordinary history for root on this host.
  for (int i = 0; i < 100; ++i) ASSERT_EQ(Child::exec({"/usr/bin/true"}).wait(), 0);

  agent->mark();
  Child first = Child::exec({probe, "--once"});
  ASSERT_EQ(first.wait(), 0);
  auto alert = agent->wait_for(alert_about(token), token);
  ASSERT_TRUE(alert.has_value()) << agent->stderr_text();
  EXPECT_EQ(str(*alert, "privwatch.source"), "baseline");
  EXPECT_EQ(str(*alert, "rule.name").rfind("baseline:", 0), 0u) << short_dump(*alert);
  const std::string explanation = str(*alert, "privwatch.explanation");
  EXPECT_NE(explanation.find(fmt::format("{}: 0 of ", token)), std::string::npos) << explanation;
  EXPECT_NE(explanation.find("never on cluster"), std::string::npos) << explanation;
  const json* details = field(*alert, "privwatch.details.features");
  ASSERT_NE(details, nullptr) << short_dump(*alert);
  const std::string id = str(*alert, "event.id");
  ASSERT_FALSE(id.empty());

  // The analyst's verdict, through the real command and the configured feedback file.
  Child verdict = Child::exec({agent_binary(), "alert", id, "--benign", "-c", agent->config_path()},
                              {.capture_stdout = true, .stderr_to_stdout = true});
  ASSERT_EQ(verdict.wait(), 0) << verdict.stdout_text();
  ASSERT_TRUE(wait_for_log(*agent, "1 analyst verdict(s) folded into the baselines"))
      << agent->stderr_text();

  agent->mark();
  Child second = Child::exec({probe, "--once"});
  ASSERT_EQ(second.wait(), 0);
  // The alert would be written right after the exec event, in the same pipeline call.
  ASSERT_TRUE(agent->wait_for(exec_of(probe, static_cast<uint32_t>(second.pid())), token));
  EXPECT_TRUE(agent->matching(alert_about(token), token).empty());

  const StopResult stopped = agent->stop();
  EXPECT_EQ(describe_status(stopped.status), "exit 0") << stopped.stderr_text;
  ASSERT_TRUE(std::filesystem::exists(dir / "baselines.state"));
  EXPECT_FALSE(std::filesystem::exists(dir / "baselines.state.tmp"));

  // A restarted agent remembers: still no alert for the program.
  auto again = Agent::start(config_for(dir), &error);
  ASSERT_NE(again, nullptr) << error;
  EXPECT_EQ(again->stderr_text().find("0 users"), std::string::npos) << again->stderr_text();
  again->mark();
  Child third = Child::exec({probe, "--once"});
  ASSERT_EQ(third.wait(), 0);
  ASSERT_TRUE(again->wait_for(exec_of(probe, static_cast<uint32_t>(third.pid())), token));
  EXPECT_TRUE(again->matching(alert_about(token), token).empty());
  EXPECT_EQ(describe_status(again->stop().status), "exit 0");
}

}  // namespace
}  // namespace privwatch::itest
