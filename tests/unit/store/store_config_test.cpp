// The store: section of the agent configuration.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace privwatch::config {
namespace {

TEST(StoreConfig, DefaultsAreTheDocumentedOnes) {
  auto cfg = load_default();
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  const StoreConfig& s = cfg->store;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.path, "/var/lib/privwatch/privwatch.db");
  EXPECT_EQ(s.key_path, "/var/lib/privwatch/store.key");
  EXPECT_EQ(s.commit_interval_ms, 200u);
  EXPECT_EQ(s.checkpoint_every, 100000u);
  EXPECT_EQ(s.checkpoint_interval_s, 60u);
  EXPECT_EQ(s.retention.event_s, 365ull * 86400);
  EXPECT_EQ(s.retention.alert_s, 7ull * 365 * 86400);
  EXPECT_TRUE(s.checkpoint_file.empty());
}

TEST(StoreConfig, ParsesEveryKey) {
  auto cfg = parse(
      "store:\n"
      "  enabled: false\n"
      "  path: /srv/pw/store.db\n"
      "  key_path: /srv/pw/key\n"
      "  commit_interval_ms: 50\n"
      "  queue_size: 4096\n"
      "  checkpoint_every: 10\n"
      "  checkpoint_interval_s: 5\n"
      "  checkpoint_file: /mnt/audit/ckpt.jsonl\n"
      "  checkpoint_syslog: true\n"
      "  checkpoint_url: http://10.0.0.5:8080/ckpt\n"
      "  prune_interval_s: 120\n"
      "  retention:\n"
      "    event: 90d\n"
      "    alert: forever\n"
      "    recording: 2w\n",
      "t.yaml");
  ASSERT_TRUE(cfg) << cfg.error().to_string();
  const StoreConfig& s = cfg->store;
  EXPECT_FALSE(s.enabled);
  EXPECT_EQ(s.path, "/srv/pw/store.db");
  EXPECT_EQ(s.key_path, "/srv/pw/key");
  EXPECT_EQ(s.commit_interval_ms, 50u);
  EXPECT_EQ(s.queue_size, 4096u);
  EXPECT_EQ(s.checkpoint_every, 10u);
  EXPECT_EQ(s.checkpoint_interval_s, 5u);
  EXPECT_EQ(s.checkpoint_file, "/mnt/audit/ckpt.jsonl");
  EXPECT_TRUE(s.checkpoint_syslog);
  EXPECT_EQ(s.checkpoint_url, "http://10.0.0.5:8080/ckpt");
  EXPECT_EQ(s.prune_interval_s, 120u);
  EXPECT_EQ(s.retention.event_s, 90ull * 86400);
  EXPECT_EQ(s.retention.alert_s, 0u);
  EXPECT_EQ(s.retention.recording_s, 14ull * 86400);
  EXPECT_EQ(s.retention.session_s, 7ull * 365 * 86400);  // untouched keys keep the default
}

TEST(StoreConfig, ErrorsNamePositionProblemAndFix) {
  struct Case {
    const char* yaml;
    const char* where;
    const char* what;
  };
  const Case cases[] = {
      {"store:\n  retention:\n    event: 30 days\n", "t.yaml:3:12", "not a duration"},
      {"store:\n  retention:\n    events: 30d\n", "t.yaml:3:5", "did you mean 'event'"},
      {"store:\n  path: relative.db\n", "t.yaml:2:9", "not an absolute path"},
      {"store:\n  commit_interval_ms: 0\n", "t.yaml:2:23", "out of range"},
      {"store:\n  checkpoint_url: ftp://x\n", "t.yaml:2:19", "http://"},
      {"store:\n  path: /tmp/\n", "t.yaml:2:9", "directory"},
      {"store:\n  enabled: maybe\n", "t.yaml:2:12", "true or false"},
  };
  for (const auto& c : cases) {
    auto cfg = parse(c.yaml, "t.yaml");
    ASSERT_FALSE(cfg) << c.yaml;
    const std::string text = cfg.error().to_string();
    EXPECT_NE(text.find(c.where), std::string::npos) << text;
    EXPECT_NE(text.find(c.what), std::string::npos) << text;
    EXPECT_FALSE(cfg.error().hint.empty()) << text;
  }
}

TEST(StoreConfig, Durations) {
  EXPECT_EQ(*parse_duration("90s"), 90u);
  EXPECT_EQ(*parse_duration("15m"), 900u);
  EXPECT_EQ(*parse_duration("1y"), 365u * 86400);
  EXPECT_EQ(*parse_duration("forever"), 0u);
  EXPECT_FALSE(parse_duration("1.5d"));
  EXPECT_FALSE(parse_duration("d"));
  EXPECT_FALSE(parse_duration("0d"));
  EXPECT_FALSE(parse_duration("99999999999y"));
}

}  // namespace
}  // namespace privwatch::config
