// privwatch rules check | import: the real binary on rule files.
#include <fmt/format.h>

#include <filesystem>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

const std::string kSigmaDir =
    std::string(PRIVWATCH_SOURCE_DIR) + "/tests/unit/detect/fixtures/sigma";

struct CliRun {
  std::string out;
  std::string status;
};

CliRun privwatch(std::vector<std::string> args) {
  args.insert(args.begin(), agent_binary());
  Child c = Child::exec(args, {.capture_stdout = true, .stderr_to_stdout = true});
  const int st = c.wait();
  return {c.stdout_text(), describe_status(st)};
}

TEST(RulesCli, CheckTheDefaultRuleset) {
  const CliRun r = privwatch(
      {"rules", "check", "--no-default", std::string(PRIVWATCH_SOURCE_DIR) + "/config/rules"});
  EXPECT_EQ(r.status, "exit 0") << r.out;
  EXPECT_NE(r.out.find("loaded      dropper-chain"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", 0 not loaded"), std::string::npos) << r.out;
}

TEST(RulesCli, CheckSigmaReportsEveryRuleAndWhyOthersDidNotLoad) {
  const CliRun r = privwatch({"rules", "check", kSigmaDir});
  EXPECT_EQ(r.status, "exit 1") << r.out;  // some rules did not load
  EXPECT_NE(r.out.find("loaded      sigma.potential-netcat-reverse-shell-execution"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("loaded      sigma.linux-reverse-shell-indicator-port"), std::string::npos);
  EXPECT_NE(r.out.find(fmt::format("not loaded  {}/unsupported.yml:", kSigmaDir)),
            std::string::npos);
  EXPECT_NE(r.out.find("'Windash Flags': modifier 'windash' is not supported"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("5 loaded, 7 not loaded"), std::string::npos) << r.out;
}

TEST(RulesCli, CheckRejectsASyntaxErrorWithItsPosition) {
  TempDir dir;
  write_file(dir / "r.yaml", "rules:\n  - name: r\n    severity: high\n    condition: {a: [}\n");
  const CliRun r = privwatch({"rules", "check", dir / "r.yaml"});
  EXPECT_EQ(r.status, "exit 2") << r.out;
  EXPECT_NE(r.out.find(dir / "r.yaml" + ":4:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("YAML syntax error"), std::string::npos) << r.out;
}

TEST(RulesCli, ImportCopiesTheRulesThatLoad) {
  TempDir out;
  std::vector<std::string> args = {"rules", "import", "--to", out.path()};
  for (const auto& e : std::filesystem::directory_iterator(kSigmaDir)) args.push_back(e.path());
  const CliRun r = privwatch(args);
  EXPECT_EQ(r.status, "exit 1") << r.out;
  EXPECT_NE(r.out.find("5 loaded, 7 not loaded"), std::string::npos) << r.out;
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(out.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 5u);
  // What was imported loads cleanly.
  const CliRun check = privwatch({"rules", "check", "--no-default", out.path()});
  EXPECT_EQ(check.status, "exit 0") << check.out;
  EXPECT_NE(check.out.find("5 loaded, 0 not loaded"), std::string::npos) << check.out;
}

}  // namespace
}  // namespace privwatch::itest
