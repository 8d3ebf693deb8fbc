// Subcommands beyond agent/doctor/version. Each lives in src/cli/<name>_cmd.cpp as
//
//   void add_<name>_command(CLI::App& app, int& rc);
//
// which creates the subcommand, its options and a callback that runs it and stores the exit
// code in rc (0 ok, 1 failure, 2 bad input). Declare it here and call it from run() in
// cli.cpp (explicit calls: a static library drops objects nothing references, so
// self-registering statics would silently vanish).
#pragma once

namespace CLI {
class App;
}

namespace privwatch::cli {

// privwatch grant add | list | revoke (grant_cmd.cpp)
void add_grant_command(CLI::App& app, int& rc);
// The store (src/store): verify, search, alerts, report, store pubkey|info.
void add_verify_command(CLI::App& app, int& rc);
void add_search_command(CLI::App& app, int& rc);
void add_alerts_command(CLI::App& app, int& rc);
void add_report_command(CLI::App& app, int& rc);
void add_store_command(CLI::App& app, int& rc);
// privwatch rules check|import FILE... (rules_cmd.cpp)
void add_rules_command(CLI::App& app, int& rc);
// `privwatch respond`: src/cli/respond_cmd.cpp.
void add_respond_command(CLI::App& app, int& rc);
// privwatch import FILE [--format jsonl|auditd] [--speed N|max] (import_cmd.cpp)
void add_import_command(CLI::App& app, int& rc);
// privwatch alert ID --benign (alert_cmd.cpp): analyst feedback to the baselines
void add_alert_command(CLI::App& app, int& rc);
void add_replay_command(CLI::App& app, int& rc);  // replay_cmd.cpp: privwatch replay
void add_watch_command(CLI::App& app, int& rc);   // watch_cmd.cpp: privwatch watch
// privwatch sessions | session show ID (sessions_cmd.cpp)
void add_sessions_command(CLI::App& app, int& rc);

}  // namespace privwatch::cli
