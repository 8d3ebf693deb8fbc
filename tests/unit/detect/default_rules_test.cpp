// The default ruleset: loads; the embedded copy equals config/rules; the rules that cannot be
// triggered on this machine by a real program (no CONFIG_MODULES, no inventory) are checked
// with replayed events here — the rest have kernel tests in
// tests/integration/rules_default_test.cpp.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "detect/embedded_rules.hpp"
#include "detect_test_util.hpp"

namespace privwatch::detect {
namespace {

using namespace testing;

const std::string kRulesDir = std::string(PRIVWATCH_SOURCE_DIR) + "/config/rules";

RuleSet default_rules() {
  RuleSetBuilder b;
  auto s = b.add_path(kRulesDir);
  EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
  return std::move(b).finish();
}

TEST(DefaultRules, LoadWithoutSkipsAndCoverTheIssueList) {
  auto set = default_rules();
  EXPECT_TRUE(set.skipped.empty());
  std::vector<std::string> names;
  for (const auto& r : set.rules) names.push_back(r->name);
  for (const char* want : {"tmp-script-privileged-connect",
                           "dropper-chain",
                           "reverse-shell-netcat",
                           "reverse-shell-socat",
                           "reverse-shell-dev-tcp",
                           "reverse-shell-interpreter",
                           "shell-with-network-stdio",
                           "privileged-outbound-connection",
                           "read-shadow",
                           "read-ssh-private-key",
                           "read-cloud-credentials",
                           "read-kubernetes-token",
                           "service-account-interactive-shell",
                           "setuid-file-created",
                           "file-capabilities-set",
                           "persistence-cron",
                           "persistence-systemd-unit",
                           "persistence-shell-profile",
                           "persistence-authorized-keys",
                           "persistence-ld-so-preload",
                           "user-account-change",
                           "sudoers-change",
                           "history-clearing",
                           "log-tampering",
                           "monitor-tampering",
                           "kernel-module-load",
                           "exec-from-memfd",
                           "exec-of-deleted-file",
                           "world-writable-write-chmod-exec",
                           "secret-read-then-outbound",
                           "observe-only-account-package-manager"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  for (const auto& r : set.rules) {
    EXPECT_FALSE(r->mitre.empty()) << r->name;
    EXPECT_FALSE(r->description.empty()) << r->name;
  }
}

TEST(DefaultRules, EmbeddedCopyEqualsTheSourceTree) {
  std::vector<std::string> files;
  DIR* d = ::opendir(kRulesDir.c_str());
  ASSERT_NE(d, nullptr);
  while (const dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n.size() > 5 && n.ends_with(".yaml")) files.push_back(n);
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), kEmbeddedRuleFileCount);
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i], kEmbeddedRuleFiles[i].name);
    std::ifstream in(kRulesDir + "/" + files[i]);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), kEmbeddedRuleFiles[i].text) << files[i];
  }
}

TEST(DefaultRules, FromTheBuildTreeTheSourceRulesAreUsed) {
  // The unit test binary runs from the build tree, like build/privwatch.
  RuleSetBuilder b;
  std::string where;
  ASSERT_TRUE(add_default_rules(b, &where));
  EXPECT_EQ(where, kRulesDir);
  EXPECT_EQ(std::move(b).finish().rules.size(), default_rules().rules.size());
}

// Replayed: this kernel has no CONFIG_MODULES (no module syscalls, no tracepoints).
TEST(DefaultRules, KernelModuleLoadOnReplayedEvents) {
  Engine e(default_rules(), no_limits());
  auto finit = base_event(model::EventKind::kModule, 321);
  model::ModuleData m;
  m.op = model::ModuleOp::kFinit;
  m.name = "/tmp/rootkit.ko";
  finit.data = m;
  std::vector<model::Alert> out;
  e.evaluate(finit, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, "kernel-module-load");
  EXPECT_NE(out[0].title.find("finit_module /tmp/rootkit.ko"), std::string::npos) << out[0].title;
  auto unload = finit;
  std::get<model::ModuleData>(unload.data).op = model::ModuleOp::kDelete;
  out.clear();
  e.evaluate(unload, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(fire(e, {exec_event("/usr/sbin/modprobe", {"modprobe", "evil"})}),
            std::vector<std::string>{"kernel-module-load"});
  EXPECT_TRUE(fire(e, {exec_event("/usr/sbin/modprobe", {"modprobe", "-r", "evil"})}).empty());
}

// Replayed: service accounts and roles come from the inventory (enrich), not from this kernel.
TEST(DefaultRules, InventoryServiceAccountRulesOnReplayedEvents) {
  Engine e(default_rules(), no_limits());
  auto apt = exec_event("/usr/bin/apt-get", {"apt-get", "install", "netcat"}, 55, 0);
  apt.attr.service_account = "svc-metrics";
  apt.attr.roles = {"observe-only"};
  EXPECT_EQ(fire(e, {apt}), std::vector<std::string>{"observe-only-account-package-manager"});
  apt.attr.roles = {"deployer"};
  EXPECT_TRUE(fire(e, {apt}).empty());
  auto shell = exec_event("/bin/bash", {"bash"}, 56, 0);
  shell.attr.service_account = "svc-backup";
  shell.proc.tty_dev = (136u << 20) | 3;  // /dev/pts/3
  EXPECT_EQ(fire(e, {shell}), std::vector<std::string>{"service-account-interactive-shell"});
  shell.attr.service_account.clear();
  EXPECT_TRUE(fire(e, {shell}).empty());  // root with a terminal is an ordinary admin shell
}

TEST(DefaultRules, BenignActivityRaisesNothing) {
  Engine e(default_rules(), no_limits());
  std::vector<model::Event> evs = {
      exec_event("/usr/bin/ls", {"ls", "-la"}),
      exec_event("/usr/bin/bash", {"bash", "-c", "echo hi"}),
      exec_event("/usr/bin/nc", {"nc", "-l", "8080"}),
      exec_event("/usr/bin/python3", {"python3", "-c", "print(1)"}),
      file_event(model::FileOp::kOpen, "/etc/passwd", O_RDONLY),
      file_event(model::FileOp::kOpen, "/home/a/.ssh/id_ed25519.pub", O_RDONLY),
      file_event(model::FileOp::kChmod, "/home/a/script.sh", 0, 0755),
      file_event(model::FileOp::kOpen, "/var/log/syslog", O_WRONLY | O_APPEND),
      connect_event("10.1.2.3", 443),
      connect_event("192.168.1.1", 53),
      connect_event("203.0.113.8", 443, 4242, 1000),  // unprivileged
  };
  EXPECT_TRUE(fire(e, evs).empty());
}

}  // namespace
}  // namespace privwatch::detect
