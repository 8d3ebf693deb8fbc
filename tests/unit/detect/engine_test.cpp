// The engine: sequence rules (order, window, same-field correlation, keys, bounded state),
// alerts (fields, details), deduplication and rate limiting (every suppression counted).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "detect_test_util.hpp"
#include "respond/responder.hpp"

namespace privwatch::detect {
namespace {

using namespace testing;

constexpr const char* kChain = R"(
rules:
  - name: chain
    severity: high
    output: "ran {process.executable}"
    sequence:
      within: 60s
      by: session
      steps:
        - name: write
          condition: {event.action: open, file.path: {startswith: /tmp/}}
        - name: chmod
          condition: {event.action: chmod, file.mode: {bits_any: 0o111}}
          same: {file.path: file.path}
        - name: run
          condition: {event.action: exec}
          same: {process.executable: file.path}
)";

model::Event in_session(model::Event ev, uint32_t audit_session) {
  ev.proc.sessionid = audit_session;
  return ev;
}

TEST(Sequences, OrderedStepsWithTheSameFileAlertOnce) {
  Engine e(rules_from(kChain), no_limits());
  std::vector<model::Alert> out;
  const auto w = in_session(file_event(model::FileOp::kOpen, "/tmp/a", O_WRONLY | O_CREAT), 5);
  const auto c = in_session(file_event(model::FileOp::kChmod, "/tmp/a", 0, 0755), 5);
  const auto x = in_session(exec_event("/tmp/a", {"a"}), 5);
  for (const auto* ev : {&w, &c, &x}) e.evaluate(*ev, out);
  ASSERT_EQ(out.size(), 1u);
  const model::Alert& a = out[0];
  EXPECT_EQ(a.rule, "chain");
  EXPECT_EQ(a.title, "ran /tmp/a");
  EXPECT_EQ(a.event_ids, (std::vector<std::string>{std::to_string(w.seq), std::to_string(c.seq),
                                                   std::to_string(x.seq)}));
  EXPECT_NE(a.explanation.find("write (event " + std::to_string(w.seq) + "): "), std::string::npos)
      << a.explanation;
  EXPECT_NE(a.explanation.find("→ run (event"), std::string::npos);
  const auto d = nlohmann::json::parse(a.details_json);
  EXPECT_EQ(d["sequence_key"], "audit:5");
  EXPECT_EQ(e.stats().sequence_completed, 1u);
  EXPECT_EQ(e.stats().sequence_states, 0u);
}

TEST(Sequences, OutOfOrderOtherFileOtherSessionOrLateDoNotAlert) {
  {
    Engine e(rules_from(kChain), no_limits());  // chmod before the write
    EXPECT_TRUE(fire(e, {in_session(file_event(model::FileOp::kChmod, "/tmp/a", 0, 0755), 5),
                         in_session(file_event(model::FileOp::kOpen, "/tmp/a", O_WRONLY), 5),
                         in_session(exec_event("/tmp/a", {"a"}), 5)})
                    .empty());
  }
  {
    Engine e(rules_from(kChain), no_limits());  // a different file is executed
    EXPECT_TRUE(fire(e, {in_session(file_event(model::FileOp::kOpen, "/tmp/a", O_WRONLY), 5),
                         in_session(file_event(model::FileOp::kChmod, "/tmp/a", 0, 0755), 5),
                         in_session(exec_event("/tmp/b", {"b"}), 5)})
                    .empty());
  }
  {
    Engine e(rules_from(kChain), no_limits());  // the exec is in another session
    EXPECT_TRUE(fire(e, {in_session(file_event(model::FileOp::kOpen, "/tmp/a", O_WRONLY), 5),
                         in_session(file_event(model::FileOp::kChmod, "/tmp/a", 0, 0755), 5),
                         in_session(exec_event("/tmp/a", {"a"}), 6)})
                    .empty());
  }
  {
    Engine e(rules_from(kChain), no_limits());  // the exec comes after the window
    auto x = in_session(exec_event("/tmp/a", {"a"}), 5);
    auto w = in_session(file_event(model::FileOp::kOpen, "/tmp/a", O_WRONLY), 5);
    x.ts_ns = w.ts_ns + 61'000'000'000ull;
    EXPECT_TRUE(fire(e, {w, in_session(file_event(model::FileOp::kChmod, "/tmp/a", 0, 0755), 5), x})
                    .empty());
    EXPECT_EQ(e.stats().sequence_expired, 1u);
  }
}

TEST(Sequences, SessionKeyPrefersTheTrackerSession) {
  Engine e(rules_from(kChain), no_limits());
  auto s = std::make_shared<model::Session>();
  s->id = "boot-1-77";
  auto w = in_session(file_event(model::FileOp::kOpen, "/tmp/a", O_WRONLY), 5);
  auto c = in_session(file_event(model::FileOp::kChmod, "/tmp/a", 0, 0755), 9);  // other audit id
  auto x = in_session(exec_event("/tmp/a", {"a"}), 9);
  for (auto* ev : {&w, &c, &x}) ev->attr.session = s;
  std::vector<model::Alert> out;
  for (auto* ev : {&w, &c, &x}) e.evaluate(*ev, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].session_id, "boot-1-77");
  EXPECT_EQ(nlohmann::json::parse(out[0].details_json)["sequence_key"], "session:boot-1-77");
}

TEST(Sequences, ProcessTreeKeyFollowsForks) {
  const std::string yaml = R"(
rules:
  - name: tree
    severity: low
    sequence:
      by: process_tree
      steps:
        - condition: {event.action: exec, process.name: curl}
        - condition: {event.action: connect}
)";
  Engine e(rules_from(yaml), no_limits());
  auto fork = [](uint32_t parent, uint32_t child) {
    auto ev = base_event(model::EventKind::kFork, parent);
    ev.data = model::ForkData{child, 0};
    return ev;
  };
  // 100 → 200 (curl) ; 100 → 300 connects: same tree rooted at 100. 900 is another tree.
  EXPECT_TRUE(fire(e, {fork(100, 200), fork(100, 300), exec_event("/usr/bin/curl", {"curl"}, 200),
                       connect_event("1.2.3.4", 80, 900)})
                  .empty());
  EXPECT_EQ(fire(e, {connect_event("1.2.3.4", 80, 300)}), std::vector<std::string>{"tree"});
}

TEST(Sequences, StateIsBoundedAndEvictionsAreCounted) {
  EngineOptions o = no_limits();
  o.max_sequence_states = 100;
  Engine e(rules_from(kChain), o);
  std::vector<model::Alert> out;
  for (uint32_t s = 0; s < 250; ++s) {
    e.evaluate(
        in_session(file_event(model::FileOp::kOpen, "/tmp/f" + std::to_string(s), O_WRONLY), s),
        out);
  }
  EXPECT_LE(e.stats().sequence_states, 100u);
  EXPECT_EQ(e.stats().sequence_started, 250u);
  EXPECT_EQ(e.stats().sequence_evicted, 150u);
  // The newest partial matches survive and still complete.
  e.evaluate(in_session(file_event(model::FileOp::kChmod, "/tmp/f249", 0, 0700), 249), out);
  e.evaluate(in_session(exec_event("/tmp/f249", {"f"}), 249), out);
  EXPECT_EQ(out.size(), 1u);
}

constexpr const char* kSimple = R"(
rules:
  - name: shadow
    severity: high
    condition: {event.action: open, file.path: /etc/shadow}
    output: "shadow read by {process.executable}"
)";

TEST(Alerts, CarryIdentitySessionAndEvidence) {
  Engine e(rules_from(kSimple), no_limits());
  auto ev = file_event(model::FileOp::kOpen, "/etc/shadow");
  ev.attr.host = "db-1";
  ev.attr.cluster = "prod";
  ev.attr.human = "alice";
  ev.attr.roles = {"dba"};
  auto s = std::make_shared<model::Session>();
  s->id = "sess-9";
  ev.attr.session = s;
  std::vector<model::Alert> out;
  e.evaluate(ev, out);
  ASSERT_EQ(out.size(), 1u);
  const model::Alert& a = out[0];
  EXPECT_FALSE(a.id.empty());
  EXPECT_EQ(a.wall_ns, ev.wall_time_ns);
  EXPECT_EQ(a.severity, model::Severity::kHigh);
  EXPECT_EQ(a.source, "rule");
  EXPECT_EQ(a.host, "db-1");
  EXPECT_EQ(a.cluster, "prod");
  EXPECT_EQ(a.user, "root");
  EXPECT_EQ(a.human, "alice");
  EXPECT_EQ(a.roles, std::vector<std::string>{"dba"});
  EXPECT_EQ(a.session_id, "sess-9");
  EXPECT_EQ(a.event_ids, std::vector<std::string>{std::to_string(ev.seq)});
  EXPECT_EQ(a.title, "shadow read by /usr/bin/tool");
  EXPECT_NE(a.explanation.find("file.path '/etc/shadow' equals /etc/shadow"), std::string::npos)
      << a.explanation;
  const auto d = nlohmann::json::parse(a.details_json);
  EXPECT_EQ(d["process"]["pid"], 4242);
  EXPECT_EQ(d["event"]["seq"], ev.seq);
  EXPECT_EQ(d["event"]["action"], "open");
  EXPECT_EQ(d["response"]["mode"], "detect");
  EXPECT_TRUE(d["response"]["actions"].empty());
  // Ids are unique.
  e.evaluate(ev, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].id, out[1].id);
  // The host of the engine when the event has none.
  ev.attr.host.clear();
  e.evaluate(ev, out);
  EXPECT_EQ(out.back().host, "testhost");
}

TEST(Alerts, IdenticalAlertsAreFoldedWithinTheWindowAndCounted) {
  EngineOptions o = no_limits();
  o.dedup_window_ns = 10'000'000'000ull;
  Engine e(rules_from(kSimple), o);
  std::vector<model::Alert> out;
  auto ev = file_event(model::FileOp::kOpen, "/etc/shadow");
  const uint64_t t0 = ev.ts_ns;
  for (int i = 0; i < 5; ++i) {
    ev.ts_ns = t0 + static_cast<uint64_t>(i) * 1'000'000'000ull;
    e.evaluate(ev, out);
  }
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(e.stats().deduplicated, 4u);
  // Another process (another message) is not a duplicate.
  auto other = ev;
  other.exe = "/usr/bin/other";
  e.evaluate(other, out);
  EXPECT_EQ(out.size(), 2u);
  // After the window the next alert carries the folded count.
  ev.ts_ns = t0 + 11'000'000'000ull;
  e.evaluate(ev, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].count, 5u);
}

TEST(Alerts, RateLimitPerRuleDropsAndCounts) {
  EngineOptions o = no_limits();
  o.rate_limit_per_minute = 3;
  Engine e(rules_from(kSimple), o);
  std::vector<model::Alert> out;
  auto ev = file_event(model::FileOp::kOpen, "/etc/shadow");
  const uint64_t t0 = ev.ts_ns;
  for (int i = 0; i < 10; ++i) {
    ev.ts_ns = t0 + static_cast<uint64_t>(i);
    e.evaluate(ev, out);
  }
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(e.stats().rate_limited, 7u);
  // A minute later the bucket is full again.
  ev.ts_ns = t0 + 61'000'000'000ull;
  e.evaluate(ev, out);
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(e.alerts_by_rule()[0], 4u);
  const auto s = nlohmann::json::parse(e.stats_json());
  EXPECT_EQ(s["rate_limited"], 7);
  EXPECT_EQ(s["alerts"], 4);
}

TEST(Alerts, ReloadKeepsCountersAndDedupState) {
  EngineOptions o = no_limits();
  o.dedup_window_ns = 60'000'000'000ull;
  auto old_engine = std::make_unique<Engine>(rules_from(kSimple), o);
  std::vector<model::Alert> out;
  auto ev = file_event(model::FileOp::kOpen, "/etc/shadow");
  old_engine->evaluate(ev, out);
  Engine fresh(rules_from(kSimple), o);
  fresh.take_state_from(*old_engine);
  fresh.evaluate(ev, out);  // a duplicate of the alert the old engine raised
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(fresh.stats().alerts, 1u);
  EXPECT_EQ(fresh.stats().deduplicated, 1u);
  EXPECT_EQ(fresh.stats().events, 2u);
}

TEST(Alerts, OnlyRulesForTheEventKindAreEvaluated) {
  Engine e(rules_from(kSimple), no_limits());
  std::vector<model::Alert> out;
  e.evaluate(exec_event("/bin/true", {"true"}), out);
  e.evaluate(connect_event("1.1.1.1", 53), out);
  EXPECT_EQ(e.stats().rule_evaluations, 0u);
  // A file event is tested when it meets the rule's necessary literal (/etc/shadow occurs in
  // the path), not otherwise (the prefilter).
  e.evaluate(file_event(model::FileOp::kOpen, "/etc/shadow-"), out);
  EXPECT_EQ(e.stats().rule_evaluations, 1u);
  e.evaluate(file_event(model::FileOp::kOpen, "/etc/passwd"), out);
  EXPECT_EQ(e.stats().rule_evaluations, 1u);
  EXPECT_TRUE(out.empty());
}

TEST(Alerts, TargetSelfIsTheAgentPid) {
  Engine e(rules_from(R"(
rules:
  - {name: t, severity: high, condition: {event.action: signal, privwatch.target.self: true}}
)"),
           no_limits());
  auto sig = base_event(model::EventKind::kSignal, 50);
  sig.data = model::SignalData{0, 777, 19};
  auto other = base_event(model::EventKind::kSignal, 50);
  other.data = model::SignalData{0, 778, 19};
  EXPECT_EQ(fire(e, {sig, other}), std::vector<std::string>{"t"});
}

// The details are built by hand with util::append_json_string: a rule file path, an executable
// or a comm with invalid UTF-8 (an attacker picks the file name) and control characters must
// still give a document that parses, or respond would not find the rule's response in it.
TEST(AlertDetails, InvalidUtf8AndControlCharactersStayValidJson) {
  const std::string yaml = R"(
rules:
  - name: odd
    description: "bell\a and tab\t"
    severity: high
    condition: {event.action: exec}
    response: [kill]
    mode: enforce
)";
  Engine e(rules_from(yaml, "rules/\xff\xfe.yaml"), no_limits());
  std::vector<model::Alert> out;
  model::Event ev = exec_event("/tmp/\xc3\x28x\x01\x7f", {"x"});  // \xc3\x28: a broken sequence
  ev.proc.comm = "\xe2\x82";                                      // truncated 3-byte sequence
  e.evaluate(ev, out);
  ASSERT_EQ(out.size(), 1u);
  const std::string& text = out[0].details_json;
  const auto d = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(d.is_discarded()) << text;
  const std::string fffd = "\xef\xbf\xbd";  // U+FFFD, one per invalid byte
  EXPECT_EQ(d["rule"]["origin"], "rules/" + fffd + fffd + ".yaml:3:5");  // file:line:col
  EXPECT_EQ(d["rule"]["description"], "bell\a and tab\t");
  EXPECT_EQ(d["process"]["executable"], "/tmp/" + fffd + "(x\x01\x7f");
  EXPECT_EQ(d["process"]["name"], fffd + fffd);
  EXPECT_NE(text.find(R"(\u0001\u007f")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(bell\u0007 and tab\t")"), std::string::npos) << text;
  const auto resp = respond::parse_alert_response(text);
  ASSERT_TRUE(resp.has_value());
  EXPECT_EQ(resp->actions, std::vector<model::ActionType>{model::ActionType::kKill});
  EXPECT_TRUE(resp->enforce);
  EXPECT_TRUE(resp->problems.empty());
}

}  // namespace
}  // namespace privwatch::detect
