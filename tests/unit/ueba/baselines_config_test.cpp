#include <gtest/gtest.h>

#include "config/config.hpp"

namespace privwatch::config {
namespace {

TEST(BaselinesConfig, DefaultsAndOverrides) {
  auto d = load_default();
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->baselines.enabled);
  EXPECT_EQ(d->baselines.half_life_days, 30u);
  EXPECT_EQ(d->baselines.min_dimensions, 2u);
  auto c = parse(
      "baselines:\n  enabled: true\n  state_file: /var/lib/privwatch/b.state\n"
      "  internal_networks: [203.0.113.0/24, 'fd12::/16']\n  rarity: 0.005\n"
      "  score_threshold: 9\n  rollout_users: 0\n",
      "t.yaml");
  ASSERT_TRUE(c) << c.error().to_string();
  EXPECT_TRUE(c->baselines.enabled);
  EXPECT_EQ(c->baselines.state_file, "/var/lib/privwatch/b.state");
  EXPECT_EQ(c->baselines.internal_networks.size(), 2u);
  EXPECT_DOUBLE_EQ(c->baselines.rarity, 0.005);
  EXPECT_DOUBLE_EQ(c->baselines.score_threshold, 9.0);
  EXPECT_EQ(c->baselines.rollout_users, 0u);
}

TEST(BaselinesConfig, ErrorsNamePlaceProblemAndFix) {
  struct Case {
    const char* yaml;
    const char* message;
    const char* hint;
  };
  const Case cases[] = {
      {"baselines:\n  rarity: 0.9\n", "t.yaml:2:11: baselines.rarity: 0.9 is out of range",
       "between 0.0001 and 0.5"},
      {"baselines:\n  internal_networks: [10.0.0.0]\n",
       "t.yaml:2:23: baselines.internal_networks[0]: '10.0.0.0' is not a network in CIDR notation",
       "10.20.0.0/16"},
      {"baselines:\n  state_file: relative/path\n",
       "t.yaml:2:15: baselines.state_file: 'relative/path' is not an absolute path", "'/'"},
      {"baselines:\n  rollout_users: 1\n", "t.yaml:2:18: baselines.rollout_users: 1", "0 to turn"},
      {"baselines:\n  min_dimension: 2\n", "t.yaml:2:3: unknown key 'min_dimension' in 'baselines'",
       "did you mean 'min_dimensions'?"},
      {"baselines:\n  half_life_days: 0\n",
       "t.yaml:2:19: baselines.half_life_days: 0 is out of range", "between 1 and 3650"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.yaml, "t.yaml");
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().hint.find(c.hint), std::string::npos) << r.error().hint;
  }
}

}  // namespace
}  // namespace privwatch::config
