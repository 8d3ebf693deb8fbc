// `privwatch respond warn|freeze|thaw|terminate --session ID | --pid PID [--reason TEXT]`:
// an operator's response, carried out directly (as root) and recorded as one JSON line in
// respond.actions_log before the command returns. No log, no action: the log is opened first.
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "export/action_json.hpp"
#include "respond/actuator.hpp"
#include "respond/responder.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

struct RespondArgs {
  std::string action;
  std::string session;
  uint32_t pid = 0;
  std::string reason;
  std::string config_path;
  std::string actions_log;
  bool dry_run = false;
};

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

// The human behind the command: the login user (loginuid) when set, else the user.
std::string operator_name() {
  uint32_t uid = static_cast<uint32_t>(getuid());
  std::ifstream f("/proc/self/loginuid");
  uint64_t login = model::kUnsetId;
  if (f >> login && login != model::kUnsetId) uid = static_cast<uint32_t>(login);
  passwd pw{};
  passwd* res = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != nullptr) return pw.pw_name;
  return "uid " + std::to_string(uid);
}

int run_respond(const RespondArgs& args) {
  auto cfg =
      args.config_path.empty() ? config::load_default() : config::load_file(args.config_path);
  if (!cfg) {
    std::fprintf(stderr, "privwatch: error: %s\n", cfg.error().to_string().c_str());
    return 2;
  }
  respond::ActionRequest req;
  if (!model::parse_action_type(args.action, req.action) ||
      req.action == model::ActionType::kKill) {
    std::fprintf(stderr, "privwatch: error: unknown action '%s' (warn, freeze, thaw, terminate)\n",
                 args.action.c_str());
    return 2;
  }
  if (args.session.empty() == (args.pid == 0)) {
    std::fprintf(stderr,
                 "privwatch: error: give exactly one of --session ID or --pid PID\n"
                 "  hint: --session takes the number in /proc/<pid>/sessionid (or a session.id "
                 "from an event); --pid acts on that process and its descendants\n");
    return 2;
  }
  if (!args.session.empty()) {
    if (auto s = respond::parse_session_arg(args.session, req.target); !s) {
      std::fprintf(stderr, "privwatch: error: %s\n", s.error().to_string().c_str());
      return 2;
    }
    if (req.target.audit_session == model::kUnsetId) req.session_id = args.session;
  } else {
    respond::ProcSnapshot p;
    if (!respond::read_proc(args.pid, p)) {
      std::fprintf(stderr, "privwatch: error: --pid %u: no such process\n", args.pid);
      return 2;
    }
    req.target.roots.push_back(p.key());
  }
  req.reason = args.reason.empty() ? "operator request" : args.reason;

  // The audit record's destination must be writable before anything is done.
  const std::string log_path =
      args.actions_log.empty() ? cfg->respond.actions_log : args.actions_log;
  Fd log_fd(::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!log_fd.ok()) {
    std::fprintf(stderr,
                 "privwatch: error: cannot open the actions log %s: %s; nothing was done\n"
                 "  hint: every action is recorded; create the directory, run as root, or pass "
                 "--actions-log FILE (respond.actions_log in the configuration)\n",
                 log_path.c_str(), std::strerror(errno));
    return 1;
  }

  respond::ActuatorOptions o;
  o.dry_run = args.dry_run || cfg->respond.dry_run;
  o.max_rounds = cfg->respond.max_rounds;
  o.warn_message = cfg->respond.warn_message;
  o.host = host_name();
  o.safety.self_pids = {static_cast<uint32_t>(getpid())};
  o.safety.self_exe = respond::self_exe();
  o.safety.protected_processes = cfg->respond.protected_processes;
  const respond::Actuator actuator(o);
  model::ResponseAction a = actuator.run(req);
  a.origin = model::ActionOrigin::kOperator;
  a.actor = operator_name();

  const std::string line = exporter::action_json(a) + "\n";
  const bool logged =
      ::write(log_fd.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (!logged) {
    std::fprintf(stderr, "privwatch: error: writing the action record to %s failed: %s\n",
                 log_path.c_str(), std::strerror(errno));
  }

  std::string pids;
  for (uint32_t p : a.pids) pids += (pids.empty() ? "" : " ") + std::to_string(p);
  std::printf("%s %s: %s (%zu process%s%s%s) — action %s recorded in %s\n",
              std::string(model::to_string(a.action)).c_str(),
              args.session.empty() ? ("pid " + std::to_string(args.pid)).c_str()
                                   : ("session " + args.session).c_str(),
              std::string(model::to_string(a.result)).c_str(), a.pids.size(),
              a.pids.size() == 1 ? "" : "es", pids.empty() ? "" : ": ", pids.c_str(), a.id.c_str(),
              log_path.c_str());
  for (const auto& t : a.ttys) std::printf("  terminal: %s\n", t.c_str());
  if (a.result != model::ActionResult::kRefused) {
    for (const auto& e : a.errors) std::fprintf(stderr, "  %s\n", e.c_str());
  } else {
    std::fprintf(stderr, "privwatch: %s\n", a.errors.empty() ? "refused" : a.errors[0].c_str());
    return 2;
  }
  if (!logged) return 1;
  return a.result == model::ActionResult::kSuccess || a.result == model::ActionResult::kDryRun ? 0
                                                                                               : 1;
}

}  // namespace

void add_respond_command(CLI::App& app, int& rc) {
  auto args = std::make_shared<RespondArgs>();
  auto* cmd = app.add_subcommand(
      "respond", "act on a session or process tree now: warn, freeze, thaw, terminate (recorded)");
  cmd->add_option("action", args->action, "warn | freeze | thaw | terminate")
      ->required()
      ->check(CLI::IsMember({"warn", "freeze", "thaw", "terminate"}));
  cmd->add_option("--session", args->session,
                  "audit session id (/proc/<pid>/sessionid) or session.id of an event");
  cmd->add_option("--pid", args->pid, "a process: it and its descendants");
  cmd->add_option("--reason", args->reason, "why (recorded, and shown by warn)");
  cmd->add_option("-c,--config", args->config_path, "configuration file (respond: section)");
  cmd->add_option("--actions-log", args->actions_log,
                  "append the action record here (default: respond.actions_log)");
  cmd->add_flag("--dry-run", args->dry_run, "record what would be done, do nothing");
  cmd->callback([args, &rc] {
    log::init("warn");
    rc = run_respond(*args);
  });
}

}  // namespace privwatch::cli
