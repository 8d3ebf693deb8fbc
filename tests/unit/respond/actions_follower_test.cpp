// The agent follows respond.actions_log (cli/actions_follower.*): every line `privwatch respond`
// appends becomes the same action again, complete lines only, across rotation.
#include "cli/actions_follower.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "export/action_json.hpp"

namespace privwatch::cli {
namespace {

model::ResponseAction sample(const std::string& id) {
  model::ResponseAction a;
  a.id = id;
  a.wall_ns = 1'795'323'752'123'456'000ull;
  a.action = model::ActionType::kTerminate;
  a.origin = model::ActionOrigin::kOperator;
  a.result = model::ActionResult::kPartial;
  a.session_id = "9f3c-17-100";
  a.audit_session = 17;
  a.root_pid = 4242;
  a.pids = {4242, 4243};
  a.ttys = {"/dev/pts/3"};
  a.reason = "confirmed compromise \"x\"";
  a.alert_id = "al-42";
  a.rule = "read-shadow";
  a.actor = "alice";
  a.host = "app-3";
  a.errors = {"pid 4243: No such process"};
  return a;
}

TEST(ActionsLog, ALineParsesBackIntoTheSameAction) {
  const auto a = sample("act-0123456789abcdef");
  auto b = parse_action_line(exporter::action_json(a));
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(exporter::action_json(*b), exporter::action_json(a));
  EXPECT_EQ(b->wall_ns, a.wall_ns);
  EXPECT_EQ(b->pids, a.pids);
  EXPECT_EQ(b->origin, a.origin);
}

TEST(ActionsLog, WhatIsNotAnActionRecordIsRefused) {
  EXPECT_FALSE(parse_action_line("not json"));
  EXPECT_FALSE(parse_action_line("{\"event\":{\"kind\":\"alert\"}}"));
  auto line = exporter::action_json(sample("act-1"));
  EXPECT_FALSE(parse_action_line(line.substr(0, line.size() / 2)));
  std::string no_time = line;
  no_time.replace(no_time.find("2026"), 4, "xxxx");
  EXPECT_FALSE(parse_action_line(no_time));
}

TEST(ActionsLog, FollowsAppendedLinesCompleteOnlyAndAcrossRotation) {
  char tmpl[] = "/tmp/pw-actions-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string path = dir + "/actions.json";
  std::ofstream(path) << exporter::action_json(sample("act-before")) << "\n";
  ActionsLogFollower f(path);  // what is there already is not replayed
  std::vector<std::string> seen;
  auto collect = [&seen](const model::ResponseAction& a) { seen.push_back(a.id); };
  EXPECT_EQ(f.poll(collect), 0u);

  const std::string l1 = exporter::action_json(sample("act-1"));
  const std::string l2 = exporter::action_json(sample("act-2"));
  {
    std::ofstream out(path, std::ios::app);
    out << l1 << "\n" << l2.substr(0, 20);  // the second line is still being written
  }
  EXPECT_EQ(f.poll(collect), 1u);
  {
    std::ofstream out(path, std::ios::app);
    out << l2.substr(20) << "\ngarbage\n";
  }
  EXPECT_EQ(f.poll(collect), 1u);
  EXPECT_EQ(f.bad_lines(), 1u);
  EXPECT_EQ(seen, (std::vector<std::string>{"act-1", "act-2"}));

  // logrotate: moved away, a new file at the path: read from its start.
  std::filesystem::rename(path, path + ".1");
  std::ofstream(path) << exporter::action_json(sample("act-3")) << "\n";
  EXPECT_EQ(f.poll(collect), 1u);
  EXPECT_EQ(seen.back(), "act-3");
  EXPECT_EQ(f.followed(), 3u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace privwatch::cli
