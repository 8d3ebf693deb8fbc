#include "ueba/engine.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "ueba/geoip.hpp"
#include "ueba_test_util.hpp"

namespace privwatch::ueba {
namespace {

using namespace testing;  // NOLINT

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/pw-ueba-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

config::BaselinesConfig base_config() {
  config::BaselinesConfig c;
  c.enabled = true;
  c.learning_days = 7;
  c.min_events = 100;
  return c;
}

const Who kAlice{"alice", {"dba"}, "db-1", "db-servers", "10.8.1.20"};
const Who kBob{"bob", {"dba"}, "db-2", "db-servers", "10.8.1.21"};
const Who kCarol{"carol", {"developer"}, "app-1", "app-servers", "10.8.2.30"};
const Who kDave{"dave", {"developer"}, "app-2", "app-servers", "10.8.2.31"};

// `days` of ordinary work: dbas on database servers, developers on application servers.
void learn_history(Engine& e, int days) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> dba = {
      {"/usr/bin/psql", {"-U", "app"}},
      {"/usr/bin/ls", {"-la"}},
      {"/usr/bin/cat", {"/var/log/syslog"}},
      {"/usr/bin/vim", {"/etc/postgresql/pg.conf"}},
      {"/usr/bin/htop", {}}};
  const std::vector<std::pair<std::string, std::vector<std::string>>> dev = {
      {"/usr/bin/git", {"pull"}},
      {"/usr/bin/make", {}},
      {"/usr/bin/ls", {"-la"}},
      {"/usr/bin/cat", {"/srv/app/app.log"}}};
  for (int d = 0; d < days; ++d) {
    if (d % 7 >= 5) continue;  // weekends off
    for (int i = 0; i < 40; ++i) {
      const uint64_t t = kT0 + d * kDay + (9 * 3600 + i * 600) * kSec;
      const auto& a = dba[static_cast<size_t>(i) % (i % 10 == 9 ? 5 : 4)];  // htop: bob only
      const auto& b = dba[static_cast<size_t>(i) % 5];
      const auto& c = dev[static_cast<size_t>(i) % dev.size()];
      (void)e.process(exec_event(kAlice, t, a.first, a.second));
      (void)e.process(exec_event(kBob, t + kSec, b.first, b.second));
      (void)e.process(exec_event(kCarol, t + 2 * kSec, c.first, c.second));
      (void)e.process(exec_event(kDave, t + 3 * kSec, c.first, c.second));
      if (i % 2 == 0) {
        (void)e.process(connect_event(kAlice, t + 5 * kSec, "10.1.0.11", 5432, "/usr/bin/psql"));
      }
    }
  }
}

// The issue's example: a DBA runs nc from an application server to an outside address at 23:00.
model::Event nc_from_app_server(uint64_t t) {
  Who w = kAlice;
  w.host = "app-3";
  w.cluster = "app-servers";
  return exec_event(w, t, "/usr/bin/nc", {"203.0.113.9", "4444"});
}

std::unique_ptr<Engine> make(const config::BaselinesConfig& c) {
  auto e = Engine::create(c, "", 0);
  EXPECT_TRUE(e) << (e ? "" : e.error().to_string());
  return e ? std::move(*e) : nullptr;
}

TEST(Baselines, DbaRunningNcOnAnAppServerAlertsWithAnExplanationPerDimension) {
  auto e = make(base_config());
  learn_history(*e, 30);
  const uint64_t t = kT0 + 30 * kDay + 23 * 3600 * kSec;
  auto a = e->process(nc_from_app_server(t));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->source, "baseline");
  EXPECT_EQ(a->rule, "baseline:executable");
  EXPECT_EQ(a->human, "alice");
  EXPECT_EQ(a->cluster, "app-servers");
  EXPECT_EQ(a->roles, std::vector<std::string>{"dba"});
  // "nc: 0 of 1,234 executions by alice in 30 days; 0.0% for role dba; never on cluster x"
  const std::regex style(
      R"(^nc: 0 of [0-9]{1,3}(,[0-9]{3})* executions by alice in 30 days; 0\.0% for role dba; )"
      R"(never on cluster app-servers)");
  EXPECT_TRUE(std::regex_search(a->explanation, style)) << a->explanation;
  auto d = nlohmann::json::parse(a->details_json);
  EXPECT_EQ(d["dimensions_deviating"], 3);
  EXPECT_GE(d["score"].get<double>(), d["threshold"].get<double>());
  bool saw_exe = false;
  for (const auto& f : d["features"]) {
    if (f["feature"] != "executable") continue;
    saw_exe = true;
    EXPECT_EQ(f["value"], "nc");
    EXPECT_EQ(f["sensitivity"], "critical");
    ASSERT_EQ(f["dimensions"].size(), 3u);
    for (const auto& x : f["dimensions"]) {
      EXPECT_TRUE(x["deviates"].get<bool>()) << x;
      EXPECT_EQ(x["count"].get<double>(), 0.0);
      EXPECT_DOUBLE_EQ(x["maturity"].get<double>(), 1.0);
    }
  }
  EXPECT_TRUE(saw_exe);
}

TEST(Baselines, TimeOfWeekExplainsItselfForARegularUser) {
  auto e = make(base_config());
  learn_history(*e, 30);
  // erin (dba) works one hour a day, every weekday: 23:00 is far outside her rhythm.
  Who erin = kBob;
  erin.user = "erin";
  for (int d = 0; d < 30; ++d) {
    if (d % 7 >= 5) continue;
    for (int i = 0; i < 40; ++i) {
      (void)e->process(exec_event(erin, kT0 + d * kDay + (9 * 3600 + i * 60) * kSec,
                                  i % 2 ? "/usr/bin/psql" : "/usr/bin/ls"));
    }
  }
  Who away = erin;
  away.host = "app-3";
  away.cluster = "app-servers";
  auto a = e->process(
      exec_event(away, kT0 + 30 * kDay + 23 * 3600 * kSec, "/usr/bin/nc", {"203.0.113.9", "4444"}));
  ASSERT_TRUE(a.has_value());
  EXPECT_NE(a->explanation.find("Wed 23:00: erin is active 0.0% of the time in this hour"),
            std::string::npos)
      << a->explanation;
}

TEST(Baselines, ADeviationInOneDimensionAloneDoesNotAlert) {
  auto e = make(base_config());
  learn_history(*e, 30);
  // htop: new for alice, but bob (same role, same cluster) runs it daily.
  auto a = e->process(exec_event(kAlice, kT0 + 30 * kDay + 10 * 3600 * kSec, "/usr/bin/htop"));
  EXPECT_FALSE(a.has_value()) << a->explanation;
  auto b = e->process(
      exec_event(kCarol, kT0 + 30 * kDay + 10 * 3600 * kSec, "/usr/bin/psql", {"-U", "app"}));
  // psql is known to dbas only: new for carol, for developers and on app-servers, but not
  // a sensitive tool: below the score threshold for a normal action.
  EXPECT_FALSE(b.has_value()) << b->explanation;
}

TEST(Baselines, LearningPeriodIsVisibleAndYoungEntitiesDoNotAlert) {
  auto e = make(base_config());
  learn_history(*e, 2);
  EXPECT_GT(e->maturity(Dim::kUser, "alice"), 0.0);
  EXPECT_LT(e->maturity(Dim::kUser, "alice"), 1.0);
  EXPECT_EQ(e->maturity(Dim::kUser, "nobody"), 0.0);
  EXPECT_FALSE(e->process(nc_from_app_server(kT0 + 2 * kDay + 23 * 3600 * kSec)).has_value());
  learn_history(*e, 0);
  auto st = e->stats();
  EXPECT_EQ(st.entities[0], 4u);  // users
  EXPECT_EQ(st.entities[1], 2u);  // roles
  EXPECT_GE(st.entities[2], 2u);  // clusters
  EXPECT_EQ(st.mature[0], 0u);
}

TEST(Baselines, WhatAlertedIsNotLearnedAndRepeatsAreFolded) {
  auto c = base_config();
  c.dedup_window_s = 3600;
  auto e = make(c);
  learn_history(*e, 30);
  const uint64_t t = kT0 + 30 * kDay + 23 * 3600 * kSec;
  ASSERT_TRUE(e->process(nc_from_app_server(t)).has_value());
  // Within the dedup window: folded, not learned.
  for (int i = 1; i <= 5; ++i) EXPECT_FALSE(e->process(nc_from_app_server(t + i * kSec)));
  EXPECT_EQ(e->stats().duplicates, 5u);
  // After the window it alerts again: it was never learned as normal.
  auto again = e->process(nc_from_app_server(t + 2 * 3600 * kSec));
  ASSERT_TRUE(again.has_value());
  EXPECT_NE(again->explanation.find("nc: 0 of"), std::string::npos) << again->explanation;
}

TEST(Baselines, RecurringOnSeveralDaysBecomesTheUsersNewNormal) {
  auto c = base_config();
  c.recurrence_days = 3;
  auto e = make(c);
  learn_history(*e, 30);
  const uint64_t t = kT0 + 30 * kDay + 23 * 3600 * kSec;
  EXPECT_TRUE(e->process(nc_from_app_server(t)).has_value());
  EXPECT_TRUE(e->process(nc_from_app_server(t + kDay)).has_value());
  EXPECT_FALSE(e->process(nc_from_app_server(t + 2 * kDay)).has_value());  // third day: learned
  EXPECT_EQ(e->stats().recurrences, 1u);
  auto off = base_config();
  off.recurrence_days = 0;
  auto strict = make(off);
  learn_history(*strict, 30);
  for (int d = 0; d < 4; ++d) EXPECT_TRUE(strict->process(nc_from_app_server(t + d * kDay)));
}

TEST(Baselines, AnalystFeedbackFoldsBackThroughTheFeedbackFile) {
  TempDir dir;
  auto c = base_config();
  c.dedup_window_s = 0;
  c.feedback_file = dir.file("feedback.jsonl");
  auto e = make(c);
  learn_history(*e, 30);
  const uint64_t t = kT0 + 30 * kDay + 23 * 3600 * kSec;
  auto a = e->process(nc_from_app_server(t));
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(append_feedback(c.feedback_file, "no-such-alert", "benign", "tester"));
  ASSERT_TRUE(append_feedback(c.feedback_file, a->id, "benign", "tester"));
  auto n = e->apply_feedback_file();
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(e->stats().feedback_unknown, 1u);
  EXPECT_FALSE(e->process(nc_from_app_server(t + 60 * kSec)).has_value());
  // Read once: applying again changes nothing.
  EXPECT_EQ(*e->apply_feedback_file(), 0u);
}

TEST(Baselines, SnapshotSurvivesARestartAndACorruptOneIsRefused) {
  TempDir dir;
  auto c = base_config();
  c.state_file = dir.file("baselines.state");
  {
    auto e = make(c);
    learn_history(*e, 30);
    ASSERT_TRUE(e->save(c.state_file));
  }
  EXPECT_FALSE(std::filesystem::exists(c.state_file + ".tmp"));
  {
    auto e = make(c);  // loads state_file
    EXPECT_DOUBLE_EQ(e->maturity(Dim::kUser, "alice"), 1.0);
    auto a = e->process(nc_from_app_server(kT0 + 30 * kDay + 23 * 3600 * kSec));
    ASSERT_TRUE(a.has_value());
    EXPECT_NE(a->explanation.find("never on cluster app-servers"), std::string::npos);
    EXPECT_FALSE(e->process(exec_event(kAlice, kT0 + 30 * kDay + 10 * 3600 * kSec, "/usr/bin/psql",
                                       {"-U", "app"}))
                     .has_value());
  }
  {
    std::fstream f(c.state_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  auto broken = Engine::create(c, "", 0);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().kind, ErrorKind::kCorrupt);
  EXPECT_NE(broken.error().message.find(c.state_file), std::string::npos);
}

TEST(Baselines, MemoryStaysBoundedUnderHighCardinality) {
  auto c = base_config();
  c.max_values_user = 32;
  auto e = make(c);
  for (int i = 0; i < 20000; ++i) {
    (void)e->process(exec_event(kAlice, kT0 + i * kSec, "/usr/bin/tool" + std::to_string(i)));
  }
  const auto st = e->stats();
  EXPECT_GT(st.value_evictions, 10000u);
  for (const auto& info : e->entities()) {
    if (info.dim == Dim::kUser) EXPECT_LE(info.values, 32u * kFeatureCount);
  }
  EXPECT_LT(st.memory_bytes, 4u << 20);
}

TEST(Baselines, UnattributedEventsAreCountedNotLearned) {
  auto e = make(base_config());
  model::Event ev = exec_event(kAlice, kT0, "/usr/bin/ls");
  ev.user_name.clear();
  ev.attr.human.clear();
  EXPECT_FALSE(e->process(ev).has_value());
  EXPECT_EQ(e->stats().unattributed, 1u);
  EXPECT_EQ(e->stats().learned, 0u);
}

// A MaxMind-format database written by Debian's MaxMind DB writer (libmaxmind-db-writer-perl).
std::string write_country_db(const std::string& path) {
  const std::string script = path + ".pl";
  std::ofstream(script) << R"(use strict; use MaxMind::DB::Writer::Tree;
my $t = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,
  remove_reserved_networks => 0, database_type => 'GeoLite2-Country', languages => ['en'], description => { en => 'test' },
  map_key_type_callback => sub { { country => 'map', iso_code => 'utf8_string' }->{ $_[0] } });
$t->insert_network('203.0.113.0/24', { country => { iso_code => 'DE' } });
$t->insert_network('2001:db8::/32', { country => { iso_code => 'FR' } });
open my $fh, '>:raw', $ARGV[0] or die; $t->write_tree($fh); close $fh;
)";
  const std::string cmd = "perl " + script + " " + path + " 2>&1";
  return std::system(cmd.c_str()) == 0 ? path : std::string();
}

TEST(Baselines, CountryFromAMaxMindDatabase) {
  TempDir dir;
  const std::string db = write_country_db(dir.file("country.mmdb"));
  ASSERT_FALSE(db.empty()) << "perl MaxMind::DB::Writer failed (libmaxmind-db-writer-perl)";
  auto g = GeoIp::open(db);
  ASSERT_TRUE(g) << g.error().to_string();
  std::array<uint8_t, 16> a{};
  inet_pton(AF_INET, "203.0.113.9", a.data());
  EXPECT_EQ((*g)->country(AF_INET, a), "DE");
  inet_pton(AF_INET, "198.51.100.1", a.data());
  EXPECT_EQ((*g)->country(AF_INET, a), "");
  inet_pton(AF_INET6, "2001:db8::1", a.data());
  EXPECT_EQ((*g)->country(AF_INET6, a), "FR");

  auto c = base_config();
  c.geoip_database = db;
  auto e = make(c);
  learn_history(*e, 30);
  Who w = kAlice;
  auto alert = e->process(
      connect_event(w, kT0 + 30 * kDay + 23 * 3600 * kSec, "203.0.113.9", 4444, "/usr/bin/psql"));
  ASSERT_TRUE(alert.has_value());
  auto d = nlohmann::json::parse(alert->details_json);
  bool country = false;
  for (const auto& f : d["features"])
    country = country || (f["feature"] == "country" && f["value"] == "DE");
  EXPECT_TRUE(country) << alert->details_json;

  auto missing = GeoIp::open(dir.file("nope.mmdb"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.mmdb"), std::string::npos);
}

}  // namespace
}  // namespace privwatch::ueba
