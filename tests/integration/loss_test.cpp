// No silent loss: when the ring buffer overflows, every event that could not be delivered is
// counted (by type, in the stats file), reported on stderr and marked on the sessions that
// were active.
#include <fmt/format.h>
#include <signal.h>

#include <cstdio>

#include "agent_fixture.hpp"

namespace privwatch::itest {
namespace {

TEST(LossTest, OverflowingTheRingBufferIsCountedAndReported) {
  PW_SKIP_UNLESS_KERNEL_TESTS_CAN_RUN();
  std::string error;
  // The smallest ring buffer; report losses every second.
  auto agent = Agent::start(
      "capture:\n"
      "  ring_buffer_mb: 1\n"
      "  drop_log_interval_s: 1\n",
      &error);
  ASSERT_NE(agent, nullptr) << error;

  TempDir dir;
  const std::string path = dir / ("flood-" + unique_token());
  write_file(path, "x");
  constexpr long kOpens = 300000;

  // The agent cannot drain while stopped: a monitored (root) open flood fills 1 MiB quickly.
  agent->signal(SIGSTOP);
  Child flood = Child::exec({helper_path("open_flood"), path, std::to_string(kOpens)},
                            {.capture_stdout = true});
  const int status = flood.wait(120s);
  agent->signal(SIGCONT);
  ASSERT_EQ(describe_status(status), "exit 0") << flood.stdout_text();
  long opens = 0;
  ASSERT_EQ(std::sscanf(flood.stdout_text().c_str(), "opens %ld", &opens), 1)
      << flood.stdout_text();
  ASSERT_EQ(opens, kOpens);

  // The flood's session is marked incomplete, with the count (losses cannot be attributed
  // to one session, so every session active at the time is marked).
  auto ev = agent->wait_for(kind_is("exec", static_cast<uint32_t>(flood.pid())),
                            fmt::format("\"pid\":{},", flood.pid()), 30s);
  ASSERT_TRUE(ev) << "no exec event from the flood helper";
  const std::string session = str(*ev, "privwatch.session.id");
  ASSERT_FALSE(session.empty()) << short_dump(*ev);
  auto incomplete = agent->wait_for(
      [&](const json& e) {
        return str(e, "privwatch.kind") == "session" && str(e, "session.id") == session &&
               e.at("session").value("incomplete", false);
      },
      session, 30s);
  ASSERT_TRUE(incomplete) << "session " << session << " was not marked incomplete";
  EXPECT_GT(num(*incomplete, "session.lost_events"), 0);

  const StopResult r = agent->stop();
  EXPECT_EQ(describe_status(r.status), "exit 0") << r.stderr_text;
  ASSERT_TRUE(r.stats.is_object()) << "no stats file";
  SCOPED_TRACE("stats: " + r.stats.dump());
  const json& s = r.stats;
  const auto drops = s.value("drops_total", uint64_t{0});
  const auto total = s.value("events_total", uint64_t{0});
  EXPECT_GT(drops, 0u);
  ASSERT_TRUE(s.contains("kernel_lost_by_type") && s["kernel_lost_by_type"].contains("file"));
  const auto lost_files = s["kernel_lost_by_type"]["file"].get<uint64_t>();
  const auto emitted_files = s["kernel_emitted_by_type"]["file"].get<uint64_t>();
  EXPECT_GT(lost_files, 0u);
  // Every open the helper made was either delivered or counted as lost.
  EXPECT_GE(total + drops, static_cast<uint64_t>(opens));
  EXPECT_GE(emitted_files + lost_files, static_cast<uint64_t>(opens));
  EXPECT_EQ(s.value("ring_buffer_bytes", uint64_t{0}), 1u << 20);
  // ... and the operator was told.
  EXPECT_NE(r.stderr_text.find("events lost"), std::string::npos) << r.stderr_text;
}

}  // namespace
}  // namespace privwatch::itest
