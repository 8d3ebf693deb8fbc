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

// The position kept between runs: what is appended while no agent runs is picked up on start.
class ActionsLogPosition : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pw-actpos-XXXXXX";
    dir_ = mkdtemp(tmpl);
    log_ = dir_ + "/actions.json";
    pos_ = dir_ + "/store.db.actions-position";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void append(const std::string& path, const std::string& id) {
    std::ofstream(path, std::ios::app) << exporter::action_json(sample(id)) << "\n";
  }
  // A new follower (an agent start) polled once: the ids it hands on.
  std::vector<std::string> start_and_poll(std::string* note = nullptr) {
    ActionsLogFollower f(log_, pos_);
    if (note != nullptr) *note = f.start_note();
    std::vector<std::string> seen;
    f.poll([&seen](const model::ResponseAction& a) { seen.push_back(a.id); });
    return seen;
  }
  std::string dir_, log_, pos_;
};

TEST_F(ActionsLogPosition, ActionsAppendedWhileStoppedAreHandedOnAtTheNextStartOnce) {
  append(log_, "act-old");
  EXPECT_TRUE(start_and_poll().empty()) << "the first start begins at the end";
  ASSERT_TRUE(std::filesystem::exists(pos_));
  append(log_, "act-down-1");
  append(log_, "act-down-2");
  std::string note;
  EXPECT_EQ(start_and_poll(&note), (std::vector<std::string>{"act-down-1", "act-down-2"}));
  EXPECT_NE(note.find("appended while no agent ran"), std::string::npos) << note;
  EXPECT_TRUE(start_and_poll(&note).empty()) << "handed on once, not at every start";
  EXPECT_EQ(note, "");
}

TEST_F(ActionsLogPosition, AnIncompleteLineAtTheStopIsReadWholeAfterTheStart) {
  EXPECT_TRUE(start_and_poll().empty());
  const std::string line = exporter::action_json(sample("act-split"));
  {
    ActionsLogFollower f(log_, pos_);
    std::ofstream(log_, std::ios::app) << line.substr(0, 25);
    std::vector<std::string> seen;
    EXPECT_EQ(f.poll([&seen](const model::ResponseAction& a) { seen.push_back(a.id); }), 0u);
  }  // stopped with half a line read
  std::ofstream(log_, std::ios::app) << line.substr(25) << "\n";
  EXPECT_EQ(start_and_poll(), std::vector<std::string>{"act-split"});
}

TEST_F(ActionsLogPosition, ARotationWhileStoppedReadsTheRestOfTheOldFileThenTheNewOne) {
  append(log_, "act-seen");
  EXPECT_TRUE(start_and_poll().empty());
  append(log_, "act-before-rotation");
  std::filesystem::rename(log_, log_ + ".1");
  append(log_, "act-after-rotation");
  { ActionsLogFollower stopped_before_its_first_poll(log_, pos_); }
  std::string note;
  EXPECT_EQ(start_and_poll(&note),
            (std::vector<std::string>{"act-before-rotation", "act-after-rotation"}));
  EXPECT_NE(note.find("rotated while no agent ran"), std::string::npos) << note;
  EXPECT_TRUE(start_and_poll().empty());
}

// Removed and created again (the new file may even get the old inode back).
TEST_F(ActionsLogPosition, AReplacedLogIsSaidAndTheNewOneIsReadWhole) {
  append(log_, "act-seen");
  EXPECT_TRUE(start_and_poll().empty());
  std::filesystem::remove(log_);
  append(log_, "act-new");
  std::string note;
  EXPECT_EQ(start_and_poll(&note), std::vector<std::string>{"act-new"});
  EXPECT_NE(note.find("are not replayed"), std::string::npos) << note;
}

TEST_F(ActionsLogPosition, ATruncatedLogIsReadFromItsStart) {
  append(log_, "act-1");
  append(log_, "act-2");
  EXPECT_TRUE(start_and_poll().empty());
  std::filesystem::resize_file(log_, 0);
  append(log_, "act-3");
  std::string note;
  EXPECT_EQ(start_and_poll(&note), std::vector<std::string>{"act-3"});
  EXPECT_NE(note.find("truncated"), std::string::npos) << note;
}

// Same inode, longer, other content: the position would point into the middle of a line.
TEST_F(ActionsLogPosition, ALogRewrittenInPlaceIsReadFromItsStart) {
  append(log_, "act-1");
  EXPECT_TRUE(start_and_poll().empty());
  std::ofstream(log_, std::ios::trunc) << exporter::action_json(sample("act-2x")) << "\n"
                                       << exporter::action_json(sample("act-3x")) << "\n";
  EXPECT_EQ(start_and_poll(), (std::vector<std::string>{"act-2x", "act-3x"}));
}

// Without a store the state goes next to the log: while neither the log nor its directory exists
// there is nothing to keep and nothing to warn about.
TEST_F(ActionsLogPosition, NoLogDirectoryYetIsNotAWarning) {
  ActionsLogFollower f(dir_ + "/no-dir/actions.json", dir_ + "/no-dir/actions.json.position");
  EXPECT_EQ(f.take_warning(), "");
  EXPECT_EQ(f.start_note(), "");
}

TEST_F(ActionsLogPosition, ALogCreatedWhileStoppedIsReadWhole) {
  EXPECT_TRUE(start_and_poll().empty());  // no log yet: the position says so
  append(log_, "act-first");
  std::string note;
  EXPECT_EQ(start_and_poll(&note), std::vector<std::string>{"act-first"});
  EXPECT_EQ(note, "");
}

TEST_F(ActionsLogPosition, AnUnreadablePositionIsSaidAndTheLogFollowedFromItsEnd) {
  append(log_, "act-1");
  std::ofstream(pos_) << "{\"inode\": \"x\"}\n";
  std::string note;
  EXPECT_TRUE(start_and_poll(&note).empty());
  EXPECT_NE(note.find(pos_), std::string::npos) << note;
  EXPECT_NE(note.find("not replayed"), std::string::npos) << note;
  append(log_, "act-2");
  EXPECT_EQ(start_and_poll(), std::vector<std::string>{"act-2"}) << "the position was rewritten";
}

TEST_F(ActionsLogPosition, AnUnwritablePositionIsWarnedOnceAndFollowingGoesOn) {
  const std::string missing_dir = dir_ + "/no/such/dir/pos";
  append(log_, "act-0");
  ActionsLogFollower f(log_, missing_dir);
  std::string w = f.take_warning();
  EXPECT_NE(w.find(missing_dir + ".tmp"), std::string::npos) << w;
  EXPECT_NE(w.find("may not be replayed"), std::string::npos) << w;
  append(log_, "act-1");
  std::vector<std::string> seen;
  EXPECT_EQ(f.poll([&seen](const model::ResponseAction& a) { seen.push_back(a.id); }), 1u);
  EXPECT_EQ(f.take_warning(), "") << "warned once";
}

}  // namespace
}  // namespace privwatch::cli
