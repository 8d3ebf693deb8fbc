// privwatch search: field filters and full text over the store.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/store_cmd.hpp"
#include "session/replay.hpp"
#include "store/query.hpp"
#include "store/recordings.hpp"
#include "store/store.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

std::string clip(std::string s, size_t n) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

}  // namespace

// Rows as a table or JSON lines (also used by alerts). Recording chunks show the screen lines
// that matched `text`, with the session and the offset in its recording.
void print_rows(const std::vector<store::Row>& rows, bool json, const std::string& text = {}) {
  if (json) {
    for (const auto& r : rows) {
      nlohmann::json j;
      j["seq"] = r.seq;
      j["kind"] = std::string(store::to_string(r.kind));
      j["time"] = short_time(r.wall_ns);
      auto body = nlohmann::json::parse(r.body, nullptr, false);
      j["record"] = body.is_discarded() ? nlohmann::json(r.body) : body;
      if (r.kind == store::RecordKind::kRecording) {
        j["session"] = r.session;
        j["recording"] = r.ref;
        nlohmann::json screen = nlohmann::json::array();
        for (const auto& h : store::screen_hits(r, text)) {
          screen.push_back({{"offset", session::format_offset(h.offset_s)},
                            {"offset_s", h.offset_s},
                            {"line", h.line}});
        }
        j["screen"] = std::move(screen);
      }
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    return;
  }
  std::printf("%-8s %-20s %-10s %-22s %-10s %-10s %-12s %s\n", "SEQ", "TIME (UTC)", "KIND", "NAME",
              "USER", "HUMAN", "HOST", "DETAIL");
  for (const auto& r : rows) {
    std::string detail = r.text;
    if (r.kind == store::RecordKind::kAlert) {
      detail = "[" + store::severity_name(r.severity) + "] " + r.text;
    } else if (r.kind == store::RecordKind::kSession) {
      detail = r.session + " " + r.text;
    } else if (r.kind == store::RecordKind::kRecording) {
      // "session S at 01:02.345: the line" (privwatch replay S --from 1:02 shows it).
      const auto hits = store::screen_hits(r, text);
      detail = "session " + r.ref;
      if (!hits.empty()) {
        detail += " at " + session::format_offset(hits[0].offset_s) + ": " + hits[0].line;
        if (hits.size() > 1) detail += fmt::format(" (+{} more lines)", hits.size() - 1);
      }
    }
    std::printf("%-8llu %-20s %-10s %-22s %-10s %-10s %-12s %s\n",
                static_cast<unsigned long long>(r.seq), short_time(r.wall_ns).c_str(),
                std::string(store::to_string(r.kind)).c_str(), clip(r.name, 22).c_str(),
                clip(r.user, 10).c_str(), clip(r.human, 10).c_str(), clip(r.host, 12).c_str(),
                clip(detail, 100).c_str());
  }
  std::printf("(%zu record%s)\n", rows.size(), rows.size() == 1 ? "" : "s");
}

void add_search_command(CLI::App& app, int& rc) {
  struct Opts {
    StoreLocation loc;
    store::SearchFilter f;
    std::vector<std::string> words;
    std::string since, until, text;
    bool json = false;
    bool all_versions = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "search",
      "search the store: field filters and full text over commands, arguments, paths and "
      "terminal screen text (newest first)");
  o->loc.add_options(cmd);
  cmd->add_option("words", o->words, "full-text words (all must match), \"a phrase\", or prefix*");
  cmd->add_option("-t,--text", o->text,
                  "full text as well (same syntax as WORDS); --kind recording: what was on a "
                  "terminal screen");
  cmd->add_option("-u,--user", o->f.user, "user (effective user or the human behind it)");
  cmd->add_option("--host", o->f.host, "host name");
  cmd->add_option("-s,--session", o->f.session, "session id");
  cmd->add_option("--role", o->f.role, "role (inventory)");
  cmd->add_option("--cluster", o->f.cluster, "cluster (inventory)");
  cmd->add_option("-k,--kind", o->f.kind,
                  "record kind (event, session, alert, escalation, recording, response, "
                  "tombstone, checkpoint) or event kind (exec, file, net, cred, ...)");
  cmd->add_option("--since", o->since, "from this time: an age (30d, 12h) or a UTC date");
  cmd->add_option("--until", o->until, "before this time: an age or a UTC date");
  cmd->add_option("-n,--limit", o->f.limit, "at most this many records")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--all-versions", o->all_versions, "sessions: every version, not the latest");
  cmd->add_flag("--json", o->json, "JSON lines: {seq, kind, time, record}");
  cmd->callback([&rc, o] {
    log::init("warn");
    for (const auto& w : o->words) o->f.text += (o->f.text.empty() ? "" : " ") + w;
    if (!o->text.empty()) o->f.text += (o->f.text.empty() ? "" : " ") + o->text;
    o->f.latest_sessions = !o->all_versions;
    const uint64_t now = store::wall_now_ns();
    if (!o->since.empty()) {
      auto t = store::parse_time(o->since, now);
      if (!t) {
        rc = report_error(t.error());
        return;
      }
      o->f.since_ns = *t;
    }
    if (!o->until.empty()) {
      auto t = store::parse_time(o->until, now);
      if (!t) {
        rc = report_error(t.error());
        return;
      }
      o->f.until_ns = *t;
    }
    auto st = o->loc.open_reader();
    if (!st) {
      rc = report_error(st.error());
      return;
    }
    auto rows = store::search(**st, o->f);
    if (!rows) {
      rc = report_error(rows.error());
      return;
    }
    print_rows(*rows, o->json, o->f.text);
    rc = 0;
  });
}

void add_alerts_command(CLI::App& app, int& rc) {
  struct Opts {
    StoreLocation loc;
    store::SearchFilter f;
    std::string severity, since;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("alerts", "list alerts from the store (newest first)");
  o->loc.add_options(cmd);
  cmd->add_option("--severity", o->severity,
                  "at least this severity: info, low, medium, high, critical");
  cmd->add_option("--rule", o->f.name, "rule name");
  cmd->add_option("-u,--user", o->f.user, "user (effective user or the human behind it)");
  cmd->add_option("--host", o->f.host, "host name");
  cmd->add_option("--since", o->since, "from this time: an age (7d, 12h) or a UTC date");
  cmd->add_option("-n,--limit", o->f.limit, "at most this many alerts")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--json", o->json, "JSON lines: {seq, kind, time, record}");
  cmd->callback([&rc, o] {
    log::init("warn");
    o->f.kind = "alert";
    if (!o->severity.empty()) {
      auto s = store::parse_severity(o->severity);
      if (!s) {
        rc = report_error(s.error());
        return;
      }
      o->f.min_severity = *s;
    }
    if (!o->since.empty()) {
      auto t = store::parse_time(o->since, store::wall_now_ns());
      if (!t) {
        rc = report_error(t.error());
        return;
      }
      o->f.since_ns = *t;
    }
    auto st = o->loc.open_reader();
    if (!st) {
      rc = report_error(st.error());
      return;
    }
    auto rows = store::search(**st, o->f);
    if (!rows) {
      rc = report_error(rows.error());
      return;
    }
    print_rows(*rows, o->json);
    rc = 0;
  });
}

}  // namespace privwatch::cli
