// privwatch grant add | list | revoke: access grants as files in the grants directory
// (config inventory.grants), which the agent loads at start and on SIGHUP. Only root can write
// there, and the agent refuses files root does not own: that is the authentication.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "enrich/grants.hpp"
#include "enrich/inventory.hpp"

namespace privwatch::cli {

namespace {

struct GrantArgs {
  std::string config_path, dir;
  std::string user, from = "now", until, ticket, reason;
  std::vector<std::string> hosts, clusters;
  bool json = false;
};

int fail(const Error& e) {
  std::fprintf(stderr, "privwatch grant: error: %s\n", e.to_string().c_str());
  return e.kind == ErrorKind::kInvalidArgument ? 2 : 1;
}

Result<std::string> grants_dir(const GrantArgs& a) {
  if (!a.dir.empty()) return a.dir;
  auto cfg = a.config_path.empty() ? config::load_default() : config::load_file(a.config_path);
  if (!cfg) return cfg.error();
  return cfg->inventory.grants;
}

int run_add(const GrantArgs& a) {
  if (::geteuid() != 0) {
    return fail(Error{ErrorKind::kPermission, "granting access needs root",
                      "run it with sudo: the agent only accepts grant files owned by root"});
  }
  auto dir = grants_dir(a);
  if (!dir) return fail(dir.error());
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  enrich::Grant g;
  g.user = a.user;
  for (const auto& h : a.hosts) {
    g.hosts.push_back(enrich::Pattern{h, h.find_first_of("*?[\\") == std::string::npos, "cli"});
  }
  g.clusters = a.clusters;
  if (!enrich::parse_time_arg(a.from, now, g.from_s)) {
    return fail(Error{ErrorKind::kInvalidArgument, fmt::format("--from: cannot read '{}'", a.from),
                      "use now, +30m, +2h, +1d or an RFC 3339 time such as 2026-11-22T05:00:00Z"});
  }
  if (!enrich::parse_time_arg(a.until, g.from_s, g.until_s)) {
    return fail(Error{ErrorKind::kInvalidArgument,
                      fmt::format("--until: cannot read '{}'", a.until),
                      "use +2h (relative to --from), +1d or an RFC 3339 time"});
  }
  g.ticket = a.ticket;
  g.reason = a.reason;
  auto path = enrich::write_grant_file(*dir, g);
  if (!path) return fail(path.error());
  std::printf(
      "granted %s on %s%s%s from %s until %s (%s)\nwritten to %s; the agent loads it on "
      "SIGHUP (systemctl reload privwatch)\n",
      g.user.c_str(), fmt::format("{}", fmt::join(a.hosts, ",")).c_str(),
      a.hosts.empty() || a.clusters.empty() ? "" : ",",
      a.clusters.empty() ? "" : fmt::format("cluster {}", fmt::join(a.clusters, ",")).c_str(),
      enrich::format_rfc3339(g.from_s).c_str(), enrich::format_rfc3339(g.until_s).c_str(),
      g.ticket.empty() ? g.reason.c_str() : g.ticket.c_str(), path->c_str());
  return 0;
}

int run_list(const GrantArgs& a) {
  auto dir = grants_dir(a);
  if (!dir) return fail(dir.error());
  enrich::GrantStore store;
  auto report = store.load(*dir);
  if (!report) return fail(report.error());
  const int64_t now = static_cast<int64_t>(::time(nullptr));
  for (const auto& e : report->rejected) {
    std::fprintf(stderr, "privwatch grant: refused: %s\n", e.to_string().c_str());
  }
  const auto snap = store.snapshot();
  if (!a.json) {
    std::printf("%-8s %-12s %-24s %-20s %-20s %s\n", "STATE", "USER", "HOSTS", "FROM", "UNTIL",
                "TICKET/REASON");
  }
  for (const auto& g : snap->grants()) {
    const char* state = g.active_at(now) ? "active" : (now < g.from_s ? "pending" : "ended");
    std::vector<std::string> where;
    for (const auto& h : g.hosts) where.push_back(h.text);
    for (const auto& c : g.clusters) where.push_back("cluster:" + c);
    if (a.json) {
      std::printf(
          "{\"state\":\"%s\",\"user\":\"%s\",\"hosts\":\"%s\",\"from\":\"%s\","
          "\"until\":\"%s\",\"ticket\":\"%s\",\"file\":\"%s\"}\n",
          state, g.user.c_str(), fmt::format("{}", fmt::join(where, ",")).c_str(),
          enrich::format_rfc3339(g.from_s).c_str(), enrich::format_rfc3339(g.until_s).c_str(),
          g.ticket.c_str(), g.where.c_str());
    } else {
      std::printf("%-8s %-12s %-24s %-20s %-20s %s\n", state, g.user.c_str(),
                  fmt::format("{}", fmt::join(where, ",")).c_str(),
                  enrich::format_rfc3339(g.from_s).c_str(),
                  enrich::format_rfc3339(g.until_s).c_str(),
                  (g.ticket.empty() ? g.reason : g.ticket).c_str());
    }
  }
  return report->rejected.empty() ? 0 : 1;
}

int run_revoke(const GrantArgs& a) {
  if (::geteuid() != 0) {
    return fail(Error{ErrorKind::kPermission, "revoking access needs root", "run it with sudo"});
  }
  auto dir = grants_dir(a);
  if (!dir) return fail(dir.error());
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : fs::directory_iterator(*dir, ec)) {
    const std::string path = entry.path().string();
    if (!path.ends_with(".yaml") && !path.ends_with(".yml")) continue;
    enrich::GrantStore one;
    auto r = one.load(path);
    if (!r || !r->rejected.empty()) continue;
    const auto snap = one.snapshot();
    if (snap->grants().empty()) continue;
    bool all_match = true;
    for (const auto& g : snap->grants()) all_match = all_match && g.ticket == a.ticket;
    if (all_match && fs::remove(entry.path(), ec)) {
      ++removed;
      std::printf("removed %s\n", path.c_str());
    }
  }
  if (ec) {
    return fail(Error{ErrorKind::kIo, fmt::format("cannot list '{}': {}", *dir, ec.message()), ""});
  }
  if (removed == 0) {
    return fail(Error{ErrorKind::kNotFound,
                      fmt::format("no grant file with ticket '{}' in {}", a.ticket, *dir),
                      "see privwatch grant list"});
  }
  std::printf("the agent drops the grant on SIGHUP (systemctl reload privwatch)\n");
  return 0;
}

}  // namespace

void add_grant_command(CLI::App& app, int& rc) {
  auto args = std::make_shared<GrantArgs>();
  auto* grant = app.add_subcommand("grant", "approved privileged-access windows (access grants)");
  grant->require_subcommand(1);
  const auto common = [args](CLI::App* sub) {
    sub->add_option("-c,--config", args->config_path,
                    "agent configuration (for inventory.grants); default: embedded");
    sub->add_option("--dir", args->dir, "grants directory (overrides inventory.grants)");
  };

  auto* add = grant->add_subcommand("add", "approve privileged access for a user on some hosts");
  common(add);
  add->add_option("--user", args->user, "the person (login name)")->required();
  add->add_option("--hosts", args->hosts, "hostnames or globs (db-*), comma-separated")
      ->delimiter(',');
  add->add_option("--cluster", args->clusters, "inventory cluster names, comma-separated")
      ->delimiter(',');
  add->add_option("--from", args->from, "start: now, +1h or RFC 3339 (default now)");
  add->add_option("--until", args->until, "end: +2h (after --from), +1d or RFC 3339")->required();
  add->add_option("--ticket", args->ticket, "change/ticket id, e.g. CHG-1234");
  add->add_option("--reason", args->reason, "why");
  add->callback([args, &rc] { rc = run_add(*args); });

  auto* list = grant->add_subcommand("list", "show the grants in the grants directory");
  common(list);
  list->add_flag("--json", args->json, "one JSON object per grant");
  list->callback([args, &rc] { rc = run_list(*args); });

  auto* revoke = grant->add_subcommand("revoke", "remove the grant files of a ticket");
  common(revoke);
  revoke->add_option("--ticket", args->ticket, "the ticket to revoke")->required();
  revoke->callback([args, &rc] { rc = run_revoke(*args); });
}

}  // namespace privwatch::cli
