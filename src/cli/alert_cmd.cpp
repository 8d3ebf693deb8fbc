// `privwatch alert ID --benign`: an analyst's verdict on an alert. Appended to the feedback file
// (baselines.feedback_file); the agent folds it into the baselines within a second (and at its
// next start if it is not running), so the same behaviour stops alerting.
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.hpp"
#include "config/config.hpp"
#include "ueba/engine.hpp"

namespace privwatch::cli {

namespace {

struct AlertOptions {
  std::string id;
  bool benign = false;
  std::string config_path;
  std::string feedback_file;
  std::string analyst;
};

int run_alert(const AlertOptions& o) {
  if (!o.benign) {
    std::fprintf(stderr,
                 "privwatch: error: nothing to do for alert %s\n  hint: mark it with --benign "
                 "(the baselines then learn the behaviour as normal)\n",
                 o.id.c_str());
    return 2;
  }
  std::string path = o.feedback_file;
  if (path.empty()) {
    auto cfg = o.config_path.empty() ? config::load_default() : config::load_file(o.config_path);
    if (!cfg) {
      std::fprintf(stderr, "privwatch: error: %s\n", cfg.error().to_string().c_str());
      return 2;
    }
    path = cfg->baselines.feedback_file;
    if (path.empty()) {
      std::fprintf(stderr,
                   "privwatch: error: no feedback file configured (%s)\n  hint: set "
                   "baselines.feedback_file in the agent's configuration and pass it with -c, or "
                   "pass --feedback-file\n",
                   cfg->source_file.c_str());
      return 2;
    }
  }
  std::string analyst = o.analyst;
  if (analyst.empty()) {
    char buf[4096];
    passwd pw{}, *found = nullptr;
    const uid_t uid = getuid();
    analyst = getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr
                  ? pw.pw_name
                  : std::to_string(uid);
  }
  if (auto s = ueba::append_feedback(path, o.id, "benign", analyst); !s) {
    std::fprintf(stderr, "privwatch: error: %s\n", s.error().to_string().c_str());
    return 1;
  }
  std::printf(
      "alert %s marked benign by %s (recorded in %s); the agent folds it into the "
      "baselines within a second\n",
      o.id.c_str(), analyst.c_str(), path.c_str());
  return 0;
}

}  // namespace

void add_alert_command(CLI::App& app, int& rc) {
  auto o = std::make_shared<AlertOptions>();
  auto* cmd = app.add_subcommand("alert", "give a verdict on an alert (feedback to the baselines)");
  cmd->add_option("id", o->id, "the alert id (event.id of the alert record)")->required();
  cmd->add_flag("--benign", o->benign, "the behaviour is legitimate: learn it as normal");
  cmd->add_option("-c,--config", o->config_path,
                  "agent configuration (for baselines.feedback_file)");
  cmd->add_option("--feedback-file", o->feedback_file,
                  "feedback file (overrides the configuration)");
  cmd->add_option("--analyst", o->analyst, "who decided (default: the current user)");
  cmd->callback([o, &rc] { rc = run_alert(*o); });
}

}  // namespace privwatch::cli
