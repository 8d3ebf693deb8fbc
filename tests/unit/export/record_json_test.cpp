#include "export/record_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace privwatch::exporter {
namespace {

TEST(RecordJson, SessionCarriesEntryLeaderIdentityAndState) {
  model::Session s;
  s.id = "abcd-1234-99";
  s.parent_id = "abcd-1000-5";
  s.entry_type = model::EntryType::kSsh;
  s.leader = {1234, 99};
  s.leader_exe = "/usr/sbin/sshd";
  s.start_wall_ns = 1'700'000'000'000'000'000ull;
  s.loginuid = 1001;
  s.uid = 1001;
  s.user = "alice";
  s.human = "alice";
  s.roles = {"dba"};
  s.client_ip = "127.0.0.1";
  s.client_port = 40000;
  s.container.pod_uid = "pod-1";
  s.lost_events = 3;
  auto j = nlohmann::json::parse(session_json(s));
  EXPECT_EQ(j["session"]["id"], "abcd-1234-99");
  EXPECT_EQ(j["session"]["parent_id"], "abcd-1000-5");
  EXPECT_EQ(j["session"]["active"], true);
  EXPECT_EQ(j["session"]["incomplete"], true);
  EXPECT_EQ(j["session"]["lost_events"], 3);
  EXPECT_EQ(j["process"]["entry_leader"]["entry_meta"]["type"], "sshd");
  EXPECT_EQ(j["process"]["entry_leader"]["entry_meta"]["source"]["ip"], "127.0.0.1");
  EXPECT_EQ(j["process"]["entry_leader"]["entry_meta"]["source"]["port"], 40000);
  EXPECT_EQ(j["process"]["audit"]["login_uid"], 1001);
  EXPECT_FALSE(j["process"]["audit"].contains("session_id"));  // unset id omitted
  EXPECT_EQ(j["privwatch"]["roles"][0], "dba");
  EXPECT_EQ(j["orchestrator"]["resource"]["id"], "pod-1");
  EXPECT_EQ(j["@timestamp"], "2023-11-14T22:13:20.000000000Z");
}

TEST(RecordJson, AlertSeverityRuleAndDetails) {
  model::Alert a;
  a.id = "al-1";
  a.severity = model::Severity::kHigh;
  a.rule = "reverse_shell";
  a.mitre = "T1059.004";
  a.title = "reverse shell by alice";
  a.details_json = R"({"dest":"203.0.113.9"})";
  a.event_ids = {"7", "9"};
  auto j = nlohmann::json::parse(alert_json(a));
  EXPECT_EQ(j["event"]["severity"], 73);
  EXPECT_EQ(j["privwatch"]["severity"], "high");
  EXPECT_EQ(j["rule"]["name"], "reverse_shell");
  EXPECT_EQ(j["threat"]["technique"]["id"], "T1059.004");
  EXPECT_EQ(j["privwatch"]["details"]["dest"], "203.0.113.9");
  EXPECT_EQ(j["privwatch"]["event_ids"][1], "9");
  a.details_json = "{not json";
  auto k = nlohmann::json::parse(alert_json(a));  // bad details are dropped, output stays valid
  EXPECT_FALSE(k["privwatch"].contains("details"));
}

}  // namespace
}  // namespace privwatch::exporter
