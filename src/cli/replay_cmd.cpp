// privwatch replay SESSION — play a session recording back, export it (asciicast v2, text),
// list its commands, search its screen text (docs/recording.md).
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "cli/recording_source.hpp"
#include "session/replay.hpp"
#include "store/recordings.hpp"

namespace privwatch::cli {

namespace {

struct ReplayArgs {
  std::string session;
  RecordingLocation loc;
  std::string format = "terminal";
  double speed = 1.0;
  bool skip_idle = false;
  double idle_limit = 0.5;
  std::string from;
  bool commands = false;
  std::string search;
  bool list = false;
  bool no_input = false;
};

void put(std::string_view s) { std::fwrite(s.data(), 1, s.size(), stdout); }

std::string utc(uint64_t wall_ns) {
  char when[32] = "-";
  const time_t t = static_cast<time_t>(wall_ns / 1'000'000'000ull);
  tm tmv{};
  if (wall_ns != 0 && gmtime_r(&t, &tmv) != nullptr) {
    std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tmv);
  }
  return when;
}

void print_summary(const std::string& id, uint64_t start, uint64_t end, const std::string& user,
                   const std::string& tty, uint64_t commands, const std::string& state,
                   const char* source) {
  std::printf(
      "%-36s %-20s %-10s %-8s %10s %9llu %-16s %s\n", id.c_str(), utc(start).c_str(), user.c_str(),
      tty.c_str(),
      session::format_offset(end > start ? static_cast<double>(end - start) / 1e9 : 0).c_str(),
      static_cast<unsigned long long>(commands), state.c_str(), source);
}

// The store's recordings, then recording files the store does not hold.
int list_recordings(const RecordingSources& src) {
  std::printf("%-36s %-20s %-10s %-8s %10s %9s %-16s %s\n", "SESSION", "START (UTC)", "USER", "TTY",
              "DURATION", "COMMANDS", "STATE", "SOURCE");
  std::set<std::string> in_store;
  struct stat st {};
  if (!src.db.empty() && ::stat(src.db.c_str(), &st) == 0) {
    auto store = store::Store::open_reader(src.db);
    if (!store) return print_cmd_error(store.error());
    auto recs = store::list_recordings(**store);
    if (!recs) return print_cmd_error(recs.error());
    for (const auto& r : *recs) {
      in_store.insert(r.recording_id);
      std::string state = r.ended ? r.end_reason : "live";
      if (r.first_chunk != 0) state += " (head pruned)";
      print_summary(r.recording_id, r.start_wall_ns, r.end_wall_ns, r.user, r.tty, r.commands,
                    state, "store");
    }
  }
  if (src.dir.empty()) return 0;
  DIR* d = opendir(src.dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT && !src.db.empty()) return 0;  // no file export: nothing more to list
    std::fprintf(stderr, "privwatch: error: cannot read recording directory %s: %s\n",
                 src.dir.c_str(), std::strerror(errno));
    return 1;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 6 && n.ends_with(".pwrec")) names.push_back(n.substr(0, n.size() - 6));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  const RecordingSources files_only{"", src.dir};
  for (const auto& n : names) {
    if (in_store.count(n) != 0) continue;
    auto frames = load_recording(n, files_only);
    if (!frames) {
      std::printf("%-36s (unreadable: %s)\n", n.c_str(), frames.error().message.c_str());
      continue;
    }
    const auto info = session::recording_info(*frames);
    print_summary(n, info.start_wall_ns, info.end_wall_ns, info.user, info.tty, info.commands,
                  info.ended ? info.end_reason : "live", "file");
  }
  return 0;
}

int run_replay(const ReplayArgs& a) {
  auto src = resolve_sources(a.loc);
  if (!src) return print_cmd_error(src.error());
  if (a.list) return list_recordings(*src);
  if (a.session.empty()) {
    std::fprintf(stderr, "privwatch: error: name a session (privwatch replay --list shows them)\n");
    return 2;
  }
  std::string notice;
  auto frames = load_recording(a.session, *src, &notice);
  if (!frames) return print_cmd_error(frames.error());
  if (!notice.empty()) std::fprintf(stderr, "privwatch: note: %s\n", notice.c_str());

  if (a.commands) {
    auto cmds = session::command_log(*frames);
    if (!cmds) return print_cmd_error(cmds.error());
    std::printf("%-10s %-10s %-5s %-10s %-24s %s\n", "AT", "DURATION", "EXIT", "USER", "CWD",
                "COMMAND");
    for (const auto& c : *cmds) {
      std::string line;
      for (const auto& arg : c.args) line += (line.empty() ? "" : " ") + arg;
      if (line.empty()) line = c.exe;
      std::string exit = "-";
      if (c.ended)
        exit = c.signal != 0 ? "sig" + std::to_string(c.signal) : std::to_string(c.exit_code);
      std::string user = c.effective_user.empty() ? c.user : c.effective_user;
      std::printf("%-10s %-10s %-5s %-10s %-24s %s\n", session::format_offset(c.offset_s).c_str(),
                  c.ended ? session::format_offset(static_cast<double>(c.duration_ns) / 1e9).c_str()
                          : "running",
                  exit.c_str(), user.c_str(), c.cwd.c_str(), line.c_str());
    }
    return 0;
  }
  if (!a.search.empty()) {
    const auto hits = session::search(*frames, a.search);
    for (const auto& h : hits) {
      std::printf("%s  %s\n", session::format_offset(h.offset_s).c_str(), h.line.c_str());
    }
    return hits.empty() ? 1 : 0;  // like grep: 1 = no match
  }
  if (a.format == "asciicast") {
    put(session::to_asciicast(*frames, !a.no_input));
    return 0;
  }
  if (a.format == "text") {
    for (const auto& l : session::screen_text(*frames)) {
      put(l.text);
      put("\n");
    }
    return 0;
  }
  double from = 0;
  if (!a.from.empty()) {
    from = session::parse_offset(a.from);
    if (from < 0) {
      std::fprintf(stderr,
                   "privwatch: error: --from '%s' is not a time offset; use seconds (90), "
                   "m:ss (1:30) or 1m30s\n",
                   a.from.c_str());
      return 2;
    }
  }
  session::PlayOptions o{a.speed, a.skip_idle ? a.idle_limit : 0.0, from};
  for (const auto& step : session::play_schedule(*frames, o)) {
    if (step.delay_ns > 0) {
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::nanoseconds(step.delay_ns));
    }
    put(step.data);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_replay_command(CLI::App& app, int& rc) {
  auto a = std::make_shared<ReplayArgs>();
  auto* cmd = app.add_subcommand("replay", "play back or export a session recording");
  cmd->add_option("session", a->session, "session id (see --list) or path to a .pwrec file");
  a->loc.add_options(cmd);
  cmd->add_option("--format", a->format, "terminal (play in real time), asciicast or text")
      ->check(CLI::IsMember({"terminal", "asciicast", "text"}));
  cmd->add_option("--speed", a->speed, "playback speed factor")->check(CLI::Range(0.01, 1000.0));
  cmd->add_flag("--skip-idle", a->skip_idle, "shorten pauses to --idle-limit seconds");
  cmd->add_option("--idle-limit", a->idle_limit, "longest pause with --skip-idle (seconds)")
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--from", a->from,
                  "start at this offset (90, 1:30, 1m30s); earlier output is "
                  "drawn at once");
  cmd->add_flag("--commands", a->commands,
                "list the commands run in the session with their offsets in the recording");
  cmd->add_option("--search", a->search,
                  "print the screen lines containing TEXT (after escape processing)");
  cmd->add_flag("--list", a->list, "list the recordings (store, then recording files)");
  cmd->add_flag("--no-input", a->no_input, "asciicast: leave out the input (\"i\") events");
  cmd->callback([a, &rc] { rc = run_replay(*a); });
}

}  // namespace privwatch::cli
