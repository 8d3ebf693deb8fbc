#include "cli/cli.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "capture/doctor.hpp"
#include "cli/agent.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "events.h"
#include "util/log.hpp"

namespace privwatch::cli {

namespace {

constexpr const char* kVersion = "0.1.0";

Result<config::Config> load_config(const std::string& path) {
  return path.empty() ? config::load_default() : config::load_file(path);
}

int print_error(const Error& e) {
  std::fprintf(stderr, "privwatch: error: %s\n", e.to_string().c_str());
  return e.kind == ErrorKind::kInvalidArgument ? 2 : 1;
}

int run_doctor_cmd(const std::string& config_path) {
  auto cfg = load_config(config_path);
  auto findings = capture::run_doctor(cfg ? &*cfg : nullptr);
  if (!cfg) {
    findings.push_back(
        {capture::Finding::Level::kFail, "configuration", cfg.error().message,
         cfg.error().hint.empty() ? "fix the file and run doctor again" : cfg.error().hint});
  }
  const bool color = isatty(STDOUT_FILENO) != 0;
  int failures = 0, warnings = 0;
  for (const auto& f : findings) {
    const char* tag = "ok";
    const char* c = "\033[32m";
    if (f.level == capture::Finding::Level::kWarn) {
      tag = "warn";
      c = "\033[33m";
      ++warnings;
    } else if (f.level == capture::Finding::Level::kFail) {
      tag = "FAIL";
      c = "\033[31m";
      ++failures;
    }
    std::printf("%s%-5s%s %-40s %s\n", color ? c : "", tag, color ? "\033[0m" : "", f.check.c_str(),
                f.detail.c_str());
    if (!f.fix.empty() && f.level != capture::Finding::Level::kOk) {
      std::printf("      %-40s fix: %s\n", "", f.fix.c_str());
    }
  }
  if (failures == 0) {
    std::printf("\nprivwatch can run on this host (%d warning%s).\n", warnings,
                warnings == 1 ? "" : "s");
    return 0;
  }
  std::printf("\n%d requirement%s missing: the agent will not start until %s fixed.\n", failures,
              failures == 1 ? " is" : "s are", failures == 1 ? "it is" : "they are");
  return 1;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"privwatch — kernel-level monitoring of privileged activity"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kVersion);

  // Each subcommand sets rc from its callback (run while parsing, after validation).
  int rc = 0;

  std::string config_path;
  std::string log_level;
  std::string output_path;
  AgentOptions agent_opts;

  auto* agent =
      app.add_subcommand("agent", "capture privileged activity with eBPF and emit events");
  agent->add_option("-c,--config", config_path, "configuration file (YAML); default: embedded");
  agent->add_option("-o,--output", output_path,
                    "event output: a file path or - for stdout "
                    "(overrides output.path)");
  agent->add_option("--log-level", log_level, "trace, debug, info, warn, error");
  agent->add_option("--stats-file", agent_opts.stats_file,
                    "write agent statistics (JSON) here periodically and at exit");
  agent->add_option("--stats-interval", agent_opts.stats_interval_s, "seconds between stats writes")
      ->check(CLI::Range(1, 3600));
  agent
      ->add_option("--max-runtime", agent_opts.max_runtime_s,
                   "stop after this many seconds (0: run until SIGTERM/SIGINT)")
      ->check(CLI::Range(0, 86400 * 365));
  agent->callback([&] {
    auto cfg = load_config(config_path);
    if (!cfg) {
      log::init("info");
      rc = print_error(cfg.error());
      return;
    }
    if (!log_level.empty()) cfg->log_level = log_level;
    if (!output_path.empty()) cfg->output.path = output_path;
    log::init(cfg->log_level);
    rc = run_agent(*cfg, agent_opts);
  });

  auto* doctor = app.add_subcommand("doctor", "check that this host can run privwatch");
  doctor->add_option("-c,--config", config_path, "configuration file to validate too");
  doctor->callback([&] {
    log::init("warn");
    rc = run_doctor_cmd(config_path);
  });

  app.add_subcommand("version", "print the version")->callback([&] {
    std::printf("privwatch %s (event schema %d)\n", kVersion, PRIVWATCH_EVENTS_SCHEMA_VERSION);
    rc = 0;
  });

  // Further commands, one file each (src/cli/<name>_cmd.cpp; see commands.hpp).
  add_grant_command(app, rc);
  add_verify_command(app, rc);
  add_search_command(app, rc);
  add_alerts_command(app, rc);
  add_report_command(app, rc);
  add_store_command(app, rc);
  add_rules_command(app, rc);
  add_respond_command(app, rc);
  add_import_command(app, rc);
  add_alert_command(app, rc);
  add_replay_command(app, rc);
  add_watch_command(app, rc);
  add_sessions_command(app, rc);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return rc;
}

}  // namespace privwatch::cli
