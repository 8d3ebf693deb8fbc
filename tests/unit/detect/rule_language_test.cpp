// The YAML rule language: operators, lists, macros, exceptions, templates, response settings,
// and the load errors (file:line:column, what, what to do).
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <fstream>
#include <sstream>

#include "detect/fields.hpp"
#include "detect_test_util.hpp"

namespace privwatch::detect {
namespace {

// event.action in rules is the name the outputs write, terminal events included (they were
// "unknown" to rules before the name moved into the model).
TEST(EventAction, RulesSeeTheActionTheOutputsWrite) {
  model::Event ev;
  ev.kind = model::EventKind::kTty;
  model::TtyData t;
  t.op = model::TtyOp::kInput;
  t.flags = model::kTtyEchoOff;
  ev.data = t;
  EXPECT_EQ(model::event_action(ev), "tty-input-hidden");
  t.op = model::TtyOp::kResize;
  ev.data = t;
  EXPECT_EQ(model::event_action(ev), "tty-resize");
  EXPECT_EQ(kinds_of_action("tty-input-hidden"), kind_bit(model::EventKind::kTty));
  ev.kind = model::EventKind::kCred;
  ev.syscall = SYS_setresuid;
  ev.data = model::CredData{};
  EXPECT_EQ(model::event_action(ev), "setresuid");
  ev.syscall = SYS_read;
  EXPECT_EQ(model::event_action(ev), "credential_change");
}

using namespace testing;

// One rule named "r" with `cond` (YAML flow or block text indented for the condition key).
std::string one_rule(const std::string& cond, const std::string& extra = "") {
  return "rules:\n  - name: r\n    severity: high\n    condition: " + cond + "\n" + extra;
}

bool matches(const std::string& cond, const model::Event& ev) {
  Engine e(rules_from(one_rule(cond)), no_limits());
  return !fire(e, {ev}).empty();
}

TEST(RuleLanguage, EqualsAndIn) {
  const auto ev = exec_event("/usr/bin/nc", {"nc", "-e", "/bin/sh"});
  EXPECT_TRUE(matches("{process.name: nc}", ev));
  EXPECT_FALSE(matches("{process.name: ncat}", ev));
  EXPECT_TRUE(matches("{process.name: [ncat, nc]}", ev));
  EXPECT_TRUE(matches("{process.name: {in: [ncat, nc]}}", ev));
  EXPECT_FALSE(matches("{process.name: NC}", ev));
  EXPECT_TRUE(matches("{process.name: {equals: NC, nocase: true}}", ev));
  // A list field matches when any element does.
  EXPECT_TRUE(matches("{process.args: -e}", ev));
  EXPECT_FALSE(matches("{process.args: -x}", ev));
}

TEST(RuleLanguage, StringOperators) {
  const auto ev = exec_event("/tmp/x/payload", {"payload", "--url=http://evil.example/a"});
  EXPECT_TRUE(matches("{process.executable: {startswith: /tmp/}}", ev));
  EXPECT_FALSE(matches("{process.executable: {startswith: /usr/}}", ev));
  EXPECT_TRUE(matches("{process.executable: {endswith: /payload}}", ev));
  EXPECT_TRUE(matches("{process.command_line: {contains: evil.example}}", ev));
  EXPECT_TRUE(matches("{process.command_line: {contains: EVIL.EXAMPLE, nocase: true}}", ev));
  EXPECT_FALSE(matches("{process.command_line: {contains: EVIL.EXAMPLE}}", ev));
  EXPECT_TRUE(matches("{process.executable: {glob: \"/tmp/*/pay*\"}}", ev));
  EXPECT_FALSE(matches("{process.executable: {glob: \"/var/*\"}}", ev));
  EXPECT_TRUE(matches("{process.command_line: {regex: \"https?://[a-z.]+/\"}}", ev));
  EXPECT_FALSE(matches("{process.command_line: {regex: \"^https\"}}", ev));
  // Several operators in one mapping: all must hold.
  EXPECT_TRUE(matches("{process.executable: {startswith: /tmp/, endswith: payload}}", ev));
  EXPECT_FALSE(matches("{process.executable: {startswith: /tmp/, endswith: other}}", ev));
}

TEST(RuleLanguage, NumbersBitsAndCidr) {
  auto chmod = file_event(model::FileOp::kChmod, "/tmp/f", 0, 04755);
  EXPECT_TRUE(matches("{file.mode: {bits_any: 0o6000}}", chmod));
  EXPECT_FALSE(matches("{file.mode: {bits_all: 0o6000}}", chmod));
  EXPECT_TRUE(matches("{file.mode: {gte: 0o4000, lt: 0o10000}}", chmod));
  EXPECT_TRUE(matches("{file.mode: 2541}", chmod));  // decimal 2541 == 0o4755
  const auto c = connect_event("203.0.113.9", 4444);
  EXPECT_TRUE(matches("{destination.port: {gt: 1024}}", c));
  EXPECT_FALSE(matches("{destination.port: {lte: 1024}}", c));
  EXPECT_TRUE(matches("{destination.ip: 203.0.113.9}", c));
  EXPECT_TRUE(matches("{destination.ip: {cidr: [10.0.0.0/8, 203.0.113.0/24]}}", c));
  EXPECT_FALSE(matches("{destination.ip: {cidr: 203.0.112.0/24}}", c));
  EXPECT_TRUE(matches("{destination.ip: 203.0.113.0/25}", c));  // a plain network is a CIDR
  const auto v6 = connect_event("fd00::1", 22);
  EXPECT_TRUE(matches("{destination.ip: {cidr: \"fc00::/7\"}}", v6));
  EXPECT_FALSE(matches("{destination.ip: {cidr: 10.0.0.0/8}}", v6));
  const auto mapped = connect_event("::ffff:10.1.2.3", 22);
  EXPECT_TRUE(matches("{destination.ip: {cidr: 10.0.0.0/8}}", mapped));
}

TEST(RuleLanguage, AndOrNotExistsAndBooleans) {
  auto ev = exec_event("/bin/bash", {"bash", "-i"}, 10, 1000);
  EXPECT_TRUE(matches("{all: [{process.name: bash}, {process.args: -i}]}", ev));
  EXPECT_FALSE(matches("{all: [{process.name: bash}, {process.args: -c}]}", ev));
  EXPECT_TRUE(matches("{any: [{process.name: zsh}, {process.args: -i}]}", ev));
  EXPECT_TRUE(matches("{not: {user.id: 0}}", ev));
  EXPECT_FALSE(matches("{privwatch.service_account: {exists: true}}", ev));
  EXPECT_TRUE(matches("{privwatch.service_account: {exists: false}}", ev));
  ev.attr.service_account = "svc-backup";
  EXPECT_TRUE(matches("{privwatch.service_account: {exists: true}}", ev));
  EXPECT_TRUE(matches("{privwatch.escalated: false}", ev));
  ev.attr.escalated = true;
  ev.attr.escalation = model::EscalationMethod::kSudo;
  EXPECT_TRUE(matches("{privwatch.escalated: true, privwatch.escalation: sudo}", ev));
}

TEST(RuleLanguage, IdentityAndSessionFields) {
  auto ev = exec_event("/usr/bin/psql", {"psql"});
  auto s = std::make_shared<model::Session>();
  s->id = "b1-100-5";
  s->entry_type = model::EntryType::kSsh;
  s->interactive = true;
  ev.attr.session = s;
  ev.attr.human = "alice";
  ev.attr.roles = {"dba", "oncall"};
  ev.attr.cluster = "prod-eu";
  ev.attr.container.id = "abc123";
  EXPECT_TRUE(matches("{session.entry_type: sshd, session.interactive: true}", ev));
  EXPECT_TRUE(matches("{privwatch.roles: oncall, privwatch.human: alice}", ev));
  EXPECT_TRUE(matches("{privwatch.cluster: {startswith: prod-}, container.id: abc123}", ev));
  EXPECT_TRUE(matches("{session.id: b1-100-5}", ev));
}

TEST(RuleLanguage, ListsMacrosAndExceptions) {
  const std::string yaml = R"(
lists:
  shells: [sh, bash]
  more_shells: [$shells, zsh]
macros:
  shell: {process.name: $more_shells}
  root_shell: {macro: shell, user.effective.id: 0}
rules:
  - name: root-shell
    severity: low
    condition: {macro: root_shell}
    exceptions:
      - process.parent.name: sshd
      - process.args: --norc
)";
  Engine e(rules_from(yaml), no_limits());
  auto zsh = exec_event("/bin/zsh", {"zsh"});
  EXPECT_EQ(fire(e, {zsh}), std::vector<std::string>{"root-shell"});
  auto from_sshd = exec_event("/bin/bash", {"bash"});
  from_sshd.parent_comm = "sshd";
  EXPECT_TRUE(fire(e, {from_sshd}).empty());
  EXPECT_TRUE(fire(e, {exec_event("/bin/bash", {"bash", "--norc"})}).empty());
  EXPECT_EQ(e.stats().excepted, 2u);
  EXPECT_TRUE(fire(e, {exec_event("/bin/bash", {"bash"}, 1, 1000)}).empty());
}

TEST(RuleLanguage, OutputTemplateResponseAndTypedRuleData) {
  const std::string yaml = R"(
rules:
  - name: nc
    description: netcat
    severity: critical
    mitre: [T1059.004, T1071]
    tags: [reverse-shell]
    condition: {process.name: nc}
    output: "{process.name} by {user.name} to {{literal}}: {process.command_line}"
    response: [warn, freeze, kill]
    mode: enforce
)";
  Engine e(rules_from(yaml), no_limits());
  const Rule* r = e.rule("nc");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->severity, model::Severity::kCritical);
  EXPECT_EQ(r->mitre, "T1059.004,T1071");
  EXPECT_EQ(r->response.mode, RuleMode::kEnforce);
  EXPECT_EQ(r->response.actions,
            (std::vector<ResponseAction>{ResponseAction::kWarn, ResponseAction::kFreeze,
                                         ResponseAction::kKill}));
  EXPECT_TRUE(r->response.has(ResponseAction::kKill));
  EXPECT_FALSE(r->response.has(ResponseAction::kTerminate));
  EXPECT_EQ(r->kinds, kAllKinds);
  std::vector<model::Alert> out;
  e.evaluate(exec_event("/usr/bin/nc", {"nc", "-l", "9"}), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].title, "nc by root to {literal}: nc -l 9");
  EXPECT_NE(out[0].details_json.find(
                R"("response":{"actions":["warn","freeze","kill"],"mode":"enforce"})"),
            std::string::npos)
      << out[0].details_json;
}

TEST(RuleLanguage, KindIndexFromActionAndKind) {
  auto set = rules_from(R"(
rules:
  - {name: a, severity: low, condition: {event.action: [exec, connect]}}
  - {name: b, severity: low, condition: {privwatch.kind: file, file.path: /x}}
  - {name: c, severity: low, condition: {any: [{event.action: setuid}, {event.action: ptrace}]}}
)");
  ASSERT_EQ(set.rules.size(), 3u);
  EXPECT_EQ(set.rules[0]->kinds,
            kind_bit(model::EventKind::kExec) | kind_bit(model::EventKind::kNet));
  EXPECT_EQ(set.rules[1]->kinds, kind_bit(model::EventKind::kFile));
  EXPECT_EQ(set.rules[2]->kinds,
            kind_bit(model::EventKind::kCred) | kind_bit(model::EventKind::kPtrace));
}

// --- load errors --------------------------------------------------------------------------

TEST(RuleLanguageErrors, UnknownFieldNamesPositionAndSuggestion) {
  const std::string e = load_error(one_rule("{process.exe: /bin/sh}"));
  EXPECT_NE(e.find("bad.yaml:4:17: unknown field 'process.exe'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'process.pid'"), std::string::npos) << e;
}

TEST(RuleLanguageErrors, UnknownOperator) {
  const std::string e = load_error(one_rule("{process.name: {startwith: x}}"));
  EXPECT_NE(e.find("bad.yaml:4:32: unknown operator 'startwith' for process.name"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("did you mean 'startswith'"), std::string::npos) << e;
}

TEST(RuleLanguageErrors, OperatorOfTheWrongType) {
  EXPECT_NE(load_error(one_rule("{destination.port: {startswith: 44}}"))
                .find("operator 'startswith' does not apply to destination.port, a number"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{destination.port: http}")).find("'http' is not a number"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{destination.ip: {cidr: 10.0.0.0/33}}"))
                .find("'10.0.0.0/33' is not an IP address or network"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{destination.ip: 10.0.0.0/8x}")).find("not an IP address"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{process.name: {regex: \"(unclosed\"}}"))
                .find("bad.yaml:4:39: invalid regular expression '(unclosed'"),
            std::string::npos)
      << load_error(one_rule("{process.name: {regex: \"(unclosed\"}}"));
  EXPECT_NE(load_error(one_rule("{privwatch.escalated: maybe}")).find("not true or false"),
            std::string::npos);
}

TEST(RuleLanguageErrors, SyntaxErrorHasLineAndColumn) {
  const std::string e =
      load_error("rules:\n  - name: r\n    severity: high\n    condition: {a: [}\n");
  EXPECT_NE(e.find("bad.yaml:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
}

TEST(RuleLanguageErrors, RuleStructure) {
  EXPECT_NE(load_error("rules:\n  - name: r\n    severity: high\n    condtion: {process.name: x}\n")
                .find("bad.yaml:4:5: unknown key 'condtion' in a rule"),
            std::string::npos);
  EXPECT_NE(
      load_error("rules:\n  - name: r\n    severity: urgent\n    condition: {process.name: x}\n")
          .find("bad.yaml:3:15: severity: unknown severity 'urgent'"),
      std::string::npos);
  EXPECT_NE(
      load_error("rules:\n  - name: r\n    condition: {process.name: x}\n").find("no severity"),
      std::string::npos);
  EXPECT_NE(load_error("rules:\n  - name: r\n    severity: low\n").find("has no condition"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{process.name: x}", "    response: [kill]\n"))
                .find("kill needs 'mode: enforce'"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{process.name: x}", "    response: [explode]\n"))
                .find("unknown action 'explode'"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{process.name: x}", "    output: \"{process.nme}\"\n"))
                .find("output: unknown field '{process.nme}'"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{process.name: x}", "    mitre: X1059\n"))
                .find("not an ATT&CK technique id"),
            std::string::npos);
  const std::string dup =
      load_error(one_rule("{process.name: x}") +
                 "  - {name: r, severity: low, condition: {process.name: y}}\n");
  EXPECT_NE(dup.find("duplicate rule name 'r' (first defined at bad.yaml:2:5)"), std::string::npos)
      << dup;
  EXPECT_NE(load_error(one_rule("\n      process.name: x\n      process.name: y"))
                .find("duplicate key 'process.name' in one condition"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("[{process.name: x}]")).find("wrap a list of conditions"),
            std::string::npos);
}

TEST(RuleLanguageErrors, UnknownListMacroAndCycles) {
  EXPECT_NE(load_error(one_rule("{process.name: $nolist}")).find("unknown list 'nolist'"),
            std::string::npos);
  EXPECT_NE(load_error(one_rule("{macro: nomacro}")).find("unknown macro 'nomacro'"),
            std::string::npos);
  EXPECT_NE(load_error("macros:\n  a: {macro: a}\n").find("macro 'a' refers to itself"),
            std::string::npos);
}

TEST(RuleLanguageErrors, SequenceErrors) {
  const std::string head = "rules:\n  - name: s\n    severity: low\n    sequence:\n";
  EXPECT_NE(
      load_error(head + "      steps: [{condition: {process.name: a}}]\n").find("at least 2 steps"),
      std::string::npos);
  EXPECT_NE(load_error(head + "      within: soon\n      steps: [{condition: {process.name: a}}, "
                              "{condition: {process.name: b}}]\n")
                .find("'soon' is not a duration"),
            std::string::npos);
  EXPECT_NE(load_error(head + "      by: host\n      steps: [{condition: {process.name: a}}, "
                              "{condition: {process.name: b}}]\n")
                .find("expected session or process_tree"),
            std::string::npos);
  EXPECT_NE(load_error(head + "      steps: [{condition: {process.name: a}}, "
                              "{condition: {process.name: b}, same: {file.pth: file.path}}]\n")
                .find("same: unknown field 'file.pth'"),
            std::string::npos);
}

}  // namespace
}  // namespace privwatch::detect

namespace privwatch::detect {
namespace {

// yaml-cpp's LoadAll loops forever on this input (found by fuzz_rules); loading returns.
TEST(RuleLanguageErrors, MalformedInputThatHangsYamlLoadAllReturns) {
  std::ifstream in(std::string(PRIVWATCH_SOURCE_DIR) +
                   "/tests/unit/detect/fixtures/yaml-loadall-hang.bin");
  std::stringstream ss;
  ss << in.rdbuf();
  ASSERT_FALSE(ss.str().empty());
  RuleSetBuilder b;
  (void)b.add_text(ss.str(), "hang.yaml");  // an error or rules: either way it returns
  SUCCEED();
}

TEST(RuleLanguage, MultipleDocumentsKeepTheirLineNumbers) {
  const std::string e = load_error(
      "rules: []\n---\nrules:\n  - name: r\n    severity: high\n    condition: {process.nme: x}\n");
  EXPECT_NE(e.find("bad.yaml:6:17: unknown field 'process.nme'"), std::string::npos) << e;
}

}  // namespace
}  // namespace privwatch::detect
