// End to end without a kernel: `privwatch import` learns from a recorded history, raises the
// DBA-runs-nc alert into the output, `privwatch alert ID --benign` records the verdict, and the
// next import (baselines restored from the snapshot) no longer alerts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "export/ecs_json.hpp"
#include "ueba_test_util.hpp"

namespace privwatch::ueba {
namespace {

using namespace testing;  // NOLINT

int run_cli(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return cli::run(static_cast<int>(args.size()), argv.data());
}

// One ECS line with the attribution fields an inventory-enabled agent writes.
std::string line_for(const model::Event& ev) {
  std::string line;
  exporter::append_ecs_json(ev, line, ev.attr.host);
  auto j = nlohmann::json::parse(line);
  j["privwatch"]["cluster"] = ev.attr.cluster;
  j["privwatch"]["human"] = ev.attr.human;
  j["privwatch"]["roles"] = ev.attr.roles;
  return j.dump();
}

std::vector<nlohmann::json> alerts_in(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j["event"]["kind"] == "alert") out.push_back(j);
  }
  return out;
}

TEST(ImportCommand, LearnsFromHistoryAlertsAndTakesFeedback) {
  char tmpl[] = "/tmp/pw-import-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string config = dir + "/privwatch.yaml";
  std::ofstream(config) << "store:\n  enabled: false\nbaselines:\n  enabled: true\n  state_file: "
                        << dir << "/baselines.state\n  feedback_file: " << dir
                        << "/feedback.jsonl\n  learning_days: 7\n  min_events: 100\n"
                           "  dedup_window_s: 0\n";
  const Who alice{"alice", {"dba"}, "db-1", "db-servers", ""};
  const Who bob{"bob", {"dba"}, "db-2", "db-servers", ""};
  const Who carol{"carol", {"developer"}, "app-1", "app-servers", ""};
  {
    std::ofstream h(dir + "/history.jsonl");
    for (int d = 0; d < 21; ++d) {
      for (int i = 0; i < 30; ++i) {
        const uint64_t t = kT0 + d * kDay + (9 * 3600 + i * 600) * kSec;
        h << line_for(exec_event(alice, t, i % 2 ? "/usr/bin/psql" : "/usr/bin/ls")) << "\n";
        h << line_for(exec_event(bob, t + kSec, i % 3 ? "/usr/bin/psql" : "/usr/bin/cat")) << "\n";
        h << line_for(exec_event(carol, t + 2 * kSec, i % 2 ? "/usr/bin/git" : "/usr/bin/make"))
          << "\n";
      }
    }
    Who away = alice;
    away.host = "app-3";
    away.cluster = "app-servers";
    h << line_for(exec_event(away, kT0 + 21 * kDay + 23 * 3600 * kSec, "/usr/bin/nc",
                             {"203.0.113.9", "4444"}))
      << "\n";
  }
  const std::string out1 = dir + "/out1.jsonl";
  ASSERT_EQ(run_cli({"privwatch", "import", dir + "/history.jsonl", "-c", config, "-o", out1,
                     "--alerts-only"}),
            0);
  auto alerts = alerts_in(out1);
  ASSERT_EQ(alerts.size(), 1u);
  const auto& a = alerts[0];
  EXPECT_EQ(a["rule"]["name"], "baseline:executable");
  EXPECT_EQ(a["privwatch"]["source"], "baseline");
  EXPECT_EQ(a["privwatch"]["human"], "alice");
  const std::string expl = a["privwatch"]["explanation"];
  EXPECT_EQ(expl.rfind("nc: 0 of ", 0), 0u) << expl;
  EXPECT_NE(expl.find("0.0% for role dba; never on cluster app-servers"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir + "/baselines.state"));

  // The analyst says benign; the next run folds it in before it sees anything.
  const std::string id = a["event"]["id"];
  ASSERT_EQ(run_cli({"privwatch", "alert", id, "--benign", "-c", config}), 0);
  ASSERT_EQ(run_cli({"privwatch", "alert", id, "-c", config}), 2);  // no verdict given
  {
    std::ofstream again(dir + "/again.jsonl");
    Who away = alice;
    away.host = "app-3";
    away.cluster = "app-servers";
    again << line_for(exec_event(away, kT0 + 21 * kDay + (23 * 3600 + 60) * kSec, "/usr/bin/nc",
                                 {"203.0.113.9", "4444"}))
          << "\n";
  }
  const std::string out2 = dir + "/out2.jsonl";
  ASSERT_EQ(run_cli({"privwatch", "import", dir + "/again.jsonl", "-c", config, "-o", out2}), 0);
  EXPECT_TRUE(alerts_in(out2).empty());
  // Without --alerts-only the replayed event is written out again.
  std::ifstream f(out2);
  std::string line;
  ASSERT_TRUE(std::getline(f, line));
  EXPECT_NE(line.find("\"executable\":\"/usr/bin/nc\""), std::string::npos);

  EXPECT_EQ(run_cli({"privwatch", "import", dir + "/again.jsonl", "--speed", "fast"}), 2);
  EXPECT_EQ(run_cli({"privwatch", "import", dir + "/missing.jsonl"}), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace privwatch::ueba
