// privwatch sessions / privwatch session show ID: sessions from the store (docs/sessions.md).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/store_cmd.hpp"
#include "store/query.hpp"
#include "store/session_format.hpp"
#include "store/session_query.hpp"
#include "store/store.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

Result<uint64_t> time_option(const std::string& text, const char* name, uint64_t now) {
  if (text.empty()) return uint64_t{0};
  auto t = store::parse_time(text, now);
  if (!t) {
    Error e = t.error();
    e.message = std::string(name) + ": " + e.message;
    return e;
  }
  return *t;
}

}  // namespace

void add_sessions_command(CLI::App& app, int& rc) {
  // privwatch sessions
  {
    struct Opts {
      StoreLocation loc;
      store::SessionFilter f;
      std::string since, until;
      bool json = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand(
        "sessions",
        "list sessions from the store: entry type, human, users escalated to, host, roles, "
        "start, duration, commands, alerts (most recently active first)");
    o->loc.add_options(cmd);
    cmd->add_option("-u,--user", o->f.user, "the session's user or the human behind it");
    cmd->add_option("--host", o->f.host, "host name");
    cmd->add_option("--role", o->f.role, "role (inventory)");
    cmd->add_option("--cluster", o->f.cluster, "cluster (inventory)");
    cmd->add_flag("--active", o->f.active_only, "only sessions that have not ended");
    cmd->add_option("--since", o->since,
                    "active at or after this time: an age (30d, 12h) or a UTC date");
    cmd->add_option("--until", o->until, "started before this time: an age or a UTC date");
    cmd->add_option("-n,--limit", o->f.limit, "at most this many sessions")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000000));
    cmd->add_flag("--json", o->json, "one JSON document: {sessions: [...], count, truncated}");
    cmd->callback([&rc, o] {
      log::init("warn");
      const uint64_t now = store::wall_now_ns();
      auto since = time_option(o->since, "--since", now);
      if (!since) {
        rc = report_error(since.error());
        return;
      }
      auto until = time_option(o->until, "--until", now);
      if (!until) {
        rc = report_error(until.error());
        return;
      }
      o->f.since_ns = *since;
      o->f.until_ns = *until;
      auto st = o->loc.open_reader();
      if (!st) {
        rc = report_error(st.error());
        return;
      }
      store::map_for_scans(**st);
      auto list = store::list_sessions(**st, o->f);
      if (!list) {
        rc = report_error(list.error());
        return;
      }
      const std::string out = o->json ? store::sessions_json(*list, o->f.limit)
                                      : store::sessions_text(*list, o->f.limit);
      std::fputs(out.c_str(), stdout);
      rc = 0;
    });
  }

  // privwatch session show ID
  {
    struct Opts {
      StoreLocation loc;
      std::string id;
      store::SessionDetailOptions d;
      bool no_nested = false;
      bool json = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand("session", "one session from the store");
    cmd->require_subcommand(1);
    auto* show = cmd->add_subcommand(
        "show",
        "a session: entry leader, human, process tree with a timeline, escalations, files, "
        "network, alerts, responses, nested sessions");
    o->loc.add_options(show);
    show->add_option("id", o->id, "session id, or an unambiguous prefix of one")->required();
    show->add_flag("--no-nested", o->no_nested,
                   "only this session's own records, not those of the sessions nested in it");
    show->add_option("-n,--limit", o->d.limit, "read at most this many records (oldest first)")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000000));
    show->add_flag("--json", o->json, "one JSON document");
    show->callback([&rc, o] {
      log::init("warn");
      o->d.nested = !o->no_nested;
      auto st = o->loc.open_reader();
      if (!st) {
        rc = report_error(st.error());
        return;
      }
      store::map_for_scans(**st);
      auto id = store::resolve_session_id(**st, o->id);
      if (!id) {
        rc = report_error(id.error());
        return;
      }
      auto d = store::session_detail(**st, *id, o->d);
      if (!d) {
        rc = report_error(d.error());
        return;
      }
      const std::string out =
          o->json ? store::session_detail_json(*d) : store::session_detail_text(*d);
      std::fputs(out.c_str(), stdout);
      rc = 0;
    });
  }
}

}  // namespace privwatch::cli
