// privwatch watch SESSION — follow a live session recording: what was on the terminal so far,
// then new output as the agent stores it (recording.flush_ms + store.commit_interval_ms
// behind), until the session ends (docs/recording.md). Reads the store, or recording files.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.hpp"
#include "cli/recording_source.hpp"

namespace privwatch::cli {

namespace {

volatile std::sig_atomic_t g_watch_stop = 0;
extern "C" void on_watch_signal(int) { g_watch_stop = 1; }

struct WatchArgs {
  std::string session;
  RecordingLocation loc;
  double timeout_s = 0;  // stop after this long without the session ending (0: never)
  double wait_s = 10;    // wait this long for the recording to appear
};

int run_watch(const WatchArgs& a) {
  auto src = resolve_sources(a.loc);
  if (!src) return print_cmd_error(src.error());
  std::signal(SIGINT, on_watch_signal);
  std::signal(SIGTERM, on_watch_signal);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto reader = open_recording(a.session, *src);
  while (!reader && reader.error().kind == ErrorKind::kNotFound && elapsed() < a.wait_s &&
         g_watch_stop == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    reader = open_recording(a.session, *src);
  }
  if (!reader) return print_cmd_error(reader.error());
  if (const auto note = (*reader)->notice(); !note.empty()) {
    std::fprintf(stderr, "privwatch: note: %s\r\n", note.c_str());
  }
  uint64_t expect = (*reader)->removed_head();
  while (g_watch_stop == 0) {
    auto c = (*reader)->next();
    if (!c) return print_cmd_error(c.error());
    if (!c->has_value()) {
      if (a.timeout_s > 0 && elapsed() >= a.timeout_s) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const auto& chunk = **c;
    if (chunk.seq != expect && chunk.seq != 0) {
      std::fprintf(stderr, "\r\nprivwatch: chunks %llu..%llu are missing\r\n",
                   static_cast<unsigned long long>(expect),
                   static_cast<unsigned long long>(chunk.seq - 1));
    }
    expect = chunk.seq + 1;
    auto raw = session::decompress(chunk);
    if (!raw) return print_cmd_error(raw.error());
    auto frames = session::decode_frames(*raw);
    if (!frames) return print_cmd_error(frames.error());
    for (const auto& f : *frames) {
      if (f.type == session::FrameType::kOutput) {
        std::fwrite(f.data.data(), 1, f.data.size(), stdout);
      }
    }
    std::fflush(stdout);
    if (chunk.final) {
      std::fprintf(stderr, "\r\nprivwatch: the session's recording ended\r\n");
      return 0;
    }
  }
  return 0;
}

}  // namespace

void add_watch_command(CLI::App& app, int& rc) {
  auto a = std::make_shared<WatchArgs>();
  auto* cmd = app.add_subcommand("watch", "follow a live session's terminal");
  cmd->add_option("session", a->session, "session id or path to a .pwrec file")->required();
  a->loc.add_options(cmd);
  cmd->add_option("--timeout", a->timeout_s, "stop after this many seconds (0: until the end)")
      ->check(CLI::Range(0.0, 86400.0 * 365));
  cmd->add_option("--wait", a->wait_s, "wait this long for the recording to appear (seconds)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->callback([a, &rc] { rc = run_watch(*a); });
}

}  // namespace privwatch::cli
