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

void add_replay_command(CLI::App& app, int& rc);  // replay_cmd.cpp: privwatch replay
void add_watch_command(CLI::App& app, int& rc);   // watch_cmd.cpp: privwatch watch

}  // namespace privwatch::cli
