// What respond takes from and gives to the rest of the pipeline: the response the rule engine
// writes into an alert is the one the responder reads (a rule's `response:`/`mode:` reach the
// responder intact; a rule without a response is none of its business), and an action record
// becomes a store record of kind response.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../detect/detect_test_util.hpp"
#include "respond/responder.hpp"
#include "store/encode.hpp"

namespace privwatch::respond {
namespace {

using detect::Engine;
using detect::testing::exec_event;
using detect::testing::no_limits;
using detect::testing::rules_from;

constexpr const char* kRules = R"(rules:
  - name: with-response
    severity: high
    condition: {event.action: exec, process.args: {contains: marker-a}}
    response: [warn, terminate]
    mode: enforce
  - name: detect-only
    severity: low
    condition: {event.action: exec, process.args: {contains: marker-b}}
    response: [freeze]
  - name: no-response
    severity: low
    condition: {event.action: exec, process.args: {contains: marker-c}}
)";

model::Alert alert_for(Engine& e, const std::string& marker) {
  std::vector<model::Alert> out;
  e.evaluate(exec_event("/usr/bin/tool", {"tool", marker}, 4321), out);
  EXPECT_EQ(out.size(), 1u) << marker;
  return out.empty() ? model::Alert{} : out[0];
}

TEST(RuleContract, TheEnginesAlertCarriesTheRulesResponseToTheResponder) {
  Engine e(rules_from(kRules), no_limits());
  auto r = parse_alert_response(alert_for(e, "marker-a").details_json);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->problems.empty()) << r->problems[0];
  EXPECT_EQ(r->actions, (std::vector<model::ActionType>{model::ActionType::kWarn,
                                                        model::ActionType::kTerminate}));
  EXPECT_TRUE(r->enforce);
  ASSERT_TRUE(r->process);
  EXPECT_EQ(r->process->pid, 4321u);

  r = parse_alert_response(alert_for(e, "marker-b").details_json);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->problems.empty());
  EXPECT_EQ(r->actions, std::vector<model::ActionType>{model::ActionType::kFreeze});
  EXPECT_FALSE(r->enforce);  // detect is the default mode

  const model::Alert none = alert_for(e, "marker-c");
  EXPECT_FALSE(parse_alert_response(none.details_json)) << none.details_json;
  // ... and the responder records nothing for it (it used to record a failed action).
  config::RespondConfig cfg;
  Responder resp(cfg, "testhost", nullptr);
  resp.on_alert(none, nullptr, nullptr);
  resp.wait_idle(1000);
  size_t n = 0;
  resp.drain([&](const model::ResponseAction&) { ++n; });
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(resp.stats().alerts_with_response, 0u);
}

TEST(RuleContract, AnActionIsAStoreRecordOfKindResponse) {
  model::ResponseAction a;
  a.id = "act-00000000000000ab";
  a.wall_ns = 1'700'000'000'123'456'789ull;
  a.action = model::ActionType::kTerminate;
  a.origin = model::ActionOrigin::kRule;
  a.result = model::ActionResult::kPartial;
  a.session_id = "boot-12-34";
  a.audit_session = 7;
  a.root_pid = 12;
  a.pids = {12, 13};
  a.reason = "alert al-9 (resp-rule): something";
  a.alert_id = "al-9";
  a.rule = "resp-rule";
  a.actor = "privwatch-agent";
  a.errors = {"still alive after 20 rounds: 13 (sleep)"};
  store::Record r;
  store::encode_action(a, "host-a", r);
  EXPECT_EQ(r.kind, store::RecordKind::kResponse);
  EXPECT_EQ(r.name, "terminate");
  EXPECT_EQ(r.ref, "act-00000000000000ab");
  EXPECT_EQ(r.wall_ns, a.wall_ns);
  EXPECT_EQ(r.host, "host-a");
  EXPECT_EQ(r.user, "privwatch-agent");
  EXPECT_EQ(r.session, "boot-12-34");
  EXPECT_NE(r.flags & store::kRecFailed, 0u);  // partial is a failure to look at
  for (const char* word : {"al-9", "resp-rule", "something", "still alive"}) {
    EXPECT_NE(r.text.find(word), std::string::npos) << word << " not in " << r.text;
  }
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["event"]["id"], "act-00000000000000ab");
  EXPECT_EQ(j["privwatch"]["action"]["result"], "partial");
  EXPECT_EQ(j["privwatch"]["action"]["alert_id"], "al-9");

  a.result = model::ActionResult::kSuccess;
  store::encode_action(a, "host-a", r);
  EXPECT_EQ(r.flags & store::kRecFailed, 0u);
}

}  // namespace
}  // namespace privwatch::respond
