// privwatch report: what one user, host, role or cluster did over a period.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/store_cmd.hpp"
#include "store/query.hpp"
#include "store/store.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

void add_report_command(CLI::App& app, int& rc) {
  struct Opts {
    StoreLocation loc;
    store::ReportQuery q;
    std::string since = "30d", until, format = "markdown", hours = "8-18";
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "report",
      "report for a user, host, role or cluster: sessions, escalations, alerts, top "
      "commands, off-hours activity (Markdown or JSON)");
  o->loc.add_options(cmd);
  cmd->add_option("-u,--user", o->q.user, "user (effective user or the human behind it)");
  cmd->add_option("--host", o->q.host, "host name");
  cmd->add_option("--role", o->q.role, "role");
  cmd->add_option("--cluster", o->q.cluster, "cluster");
  cmd->add_option("--since", o->since, "period start: an age (30d) or a UTC date")
      ->capture_default_str();
  cmd->add_option("--until", o->until, "period end: an age or a UTC date (default: now)");
  cmd->add_option("--format", o->format, "markdown or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"markdown", "md", "json"}));
  cmd->add_option("--work-hours", o->hours, "working hours, local time: START-END")
      ->capture_default_str();
  cmd->add_flag("--utc", o->q.utc, "judge working hours in UTC");
  cmd->add_option("--top", o->q.top, "entries in each top list")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->callback([&rc, o] {
    log::init("warn");
    if (o->q.user.empty() && o->q.host.empty() && o->q.role.empty() && o->q.cluster.empty()) {
      rc = report_error(Error{ErrorKind::kInvalidArgument,
                              "report: name a subject with --user, --host, --role or --cluster",
                              "e.g. privwatch report --user alice --since 30d"});
      return;
    }
    int a = -1, b = -1;
    if (std::sscanf(o->hours.c_str(), "%d-%d", &a, &b) != 2 || a < 0 || b > 24 || a >= b) {
      rc = report_error(Error{ErrorKind::kInvalidArgument,
                              "--work-hours: expected START-END hours, e.g. 8-18", ""});
      return;
    }
    o->q.work_start_hour = a;
    o->q.work_end_hour = b;
    const uint64_t now = store::wall_now_ns();
    auto since = store::parse_time(o->since, now);
    if (!since) {
      rc = report_error(since.error());
      return;
    }
    o->q.since_ns = *since;
    if (!o->until.empty()) {
      auto until = store::parse_time(o->until, now);
      if (!until) {
        rc = report_error(until.error());
        return;
      }
      o->q.until_ns = *until;
    }
    auto st = o->loc.open_reader();
    if (!st) {
      rc = report_error(st.error());
      return;
    }
    auto rep = store::build_report(**st, o->q);
    if (!rep) {
      rc = report_error(rep.error());
      return;
    }
    const std::string out =
        o->format == "json" ? store::report_json(*rep) : store::report_markdown(*rep);
    std::fputs(out.c_str(), stdout);
    rc = 0;
  });
}

}  // namespace privwatch::cli
