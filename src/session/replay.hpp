// Reading recordings back: metadata, asciicast v2 and plain-text exports, the command log,
// search over the screen text, and the replay schedule (docs/recording.md). Pure functions
// over decoded frames; `privwatch replay` / `watch` do the I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "session/recording_format.hpp"
#include "session/vt.hpp"

namespace privwatch::session {

struct RecordingInfo {
  std::string recording_id, session_id, session_type, host, tty, user, human, client_ip;
  int rows = 24, cols = 80;  // initial window (80x24 when the terminal reported none)
  uint64_t start_wall_ns = 0, end_wall_ns = 0;  // first and last frame
  bool ended = false;
  std::string end_reason;
  uint64_t output_bytes = 0, input_bytes = 0, gaps = 0, resizes = 0, commands = 0;
};
[[nodiscard]] RecordingInfo recording_info(const std::vector<Frame>& frames);

// asciicast v2: a header line, then [seconds, "o"|"i", data] events, "r" for resizes and "m"
// markers for gaps (a hidden password, truncation). Data is valid UTF-8 (sequences split
// between writes are joined; invalid bytes become U+FFFD).
[[nodiscard]] std::string to_asciicast(const std::vector<Frame>& frames, bool with_input = true);

// The text that was on screen, line by line, after escape processing.
[[nodiscard]] std::vector<TextLine> screen_text(const std::vector<Frame>& frames);

struct CommandEntry {
  uint64_t wall_ns = 0;
  double offset_s = 0;  // seconds from the start of the recording
  uint32_t pid = 0;
  uint64_t start_ticks = 0;
  std::string exe, cwd, user, effective_user, session_id;
  std::vector<std::string> args;
  bool ended = false;
  int exit_code = 0, signal = 0;
  uint64_t duration_ns = 0;  // when ended
};
[[nodiscard]] Result<std::vector<CommandEntry>> command_log(const std::vector<Frame>& frames);

struct SearchHit {
  double offset_s = 0;
  std::string line;
};
// Lines of screen text containing `needle` (case-insensitive ASCII).
[[nodiscard]] std::vector<SearchHit> search(const std::vector<Frame>& frames,
                                            std::string_view needle);

struct PlayOptions {
  double speed = 1.0;       // > 0
  double idle_limit_s = 0;  // cap on pauses (0: none)
  double from_s = 0;        // output before this offset is written at once
};
struct PlayStep {
  uint64_t delay_ns = 0;  // pause before writing
  std::string data;       // output bytes (resizes are applied by the terminal, not replayed)
};
[[nodiscard]] std::vector<PlayStep> play_schedule(const std::vector<Frame>& frames,
                                                  const PlayOptions& o);

// "90", "1:30", "1:02:03", "1m30s", "2.5" → seconds; -1 when malformed.
[[nodiscard]] double parse_offset(std::string_view s);
[[nodiscard]] std::string format_offset(double seconds);  // "01:02.345" / "1:01:02.345"

}  // namespace privwatch::session
