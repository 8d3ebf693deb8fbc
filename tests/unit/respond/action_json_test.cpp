// The action record's JSON document (ECS names).
#include "export/action_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace privwatch::exporter {
namespace {

TEST(ActionJson, CarriesEveryFieldUnderItsEcsName) {
  model::ResponseAction a;
  a.id = "act-0123456789abcdef";
  a.wall_ns = 1'795'000'000'123'456'789ull;
  a.action = model::ActionType::kTerminate;
  a.origin = model::ActionOrigin::kRule;
  a.result = model::ActionResult::kPartial;
  a.session_id = "b00t-400-55";
  a.audit_session = 7;
  a.root_pid = 400;
  a.pids = {400, 401};
  a.reason = "alert al-1 (r): x";
  a.alert_id = "al-1";
  a.rule = "r";
  a.actor = "privwatch-agent";
  a.host = "h1";
  a.errors = {"still alive after 20 rounds: 401 (x)"};
  const auto j = nlohmann::json::parse(action_json(a));
  EXPECT_EQ(j["@timestamp"], "2026-11-18T11:06:40.123456789Z");
  EXPECT_EQ(j["event"]["kind"], "event");
  EXPECT_EQ(j["event"]["action"], "terminate");
  EXPECT_EQ(j["event"]["type"], nlohmann::json::array({"end"}));
  EXPECT_EQ(j["event"]["outcome"], "failure");
  EXPECT_EQ(j["event"]["id"], a.id);
  EXPECT_EQ(j["event"]["reason"], a.reason);
  EXPECT_EQ(j["host"]["name"], "h1");
  EXPECT_EQ(j["user"]["name"], "privwatch-agent");
  EXPECT_EQ(j["session"]["id"], "b00t-400-55");
  EXPECT_EQ(j["rule"]["name"], "r");
  EXPECT_EQ(j["process"]["pid"], 400);
  EXPECT_EQ(j["process"]["audit"]["session_id"], 7);
  const auto& p = j["privwatch"];
  EXPECT_EQ(p["kind"], "action");
  EXPECT_EQ(p["action"]["origin"], "rule");
  EXPECT_EQ(p["action"]["result"], "partial");
  EXPECT_EQ(p["action"]["dry_run"], false);
  EXPECT_EQ(p["action"]["target"]["pids"], nlohmann::json::array({400, 401}));
  EXPECT_EQ(p["action"]["alert_id"], "al-1");
  EXPECT_EQ(p["action"]["errors"].size(), 1u);
}

TEST(ActionJson, DryRunIsNeitherSuccessNorFailure) {
  model::ResponseAction a;
  a.action = model::ActionType::kWarn;
  a.result = model::ActionResult::kDryRun;
  const auto j = nlohmann::json::parse(action_json(a));
  EXPECT_EQ(j["event"]["outcome"], "unknown");
  EXPECT_EQ(j["event"]["type"], nlohmann::json::array({"change"}));
  EXPECT_EQ(j["privwatch"]["action"]["dry_run"], true);
  EXPECT_FALSE(j.contains("session"));
  EXPECT_FALSE(j["privwatch"]["action"]["target"].contains("audit_session_id"));
}

}  // namespace
}  // namespace privwatch::exporter
