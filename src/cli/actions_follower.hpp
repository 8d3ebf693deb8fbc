// The agent follows respond.actions_log, where `privwatch respond` (a separate process, run by
// an operator) appends one JSON line per action, and sends each new action through the
// pipeline's outputs and sinks like its own actions: the store keeps them (`privwatch search
// --kind response`), syslog/webhooks/OTLP see them.
//
// Actions taken while no agent runs are not lost: the follower keeps its position (device,
// inode, byte offset of the first line not yet handed on) in a small state file, rewritten
// atomically after every poll that moved it. On start it resumes there, so the lines appended
// while the agent was stopped go out on the first poll, including the tail of a log that was
// rotated meanwhile (found as "<log>.1", the name logrotate gives it). Without a state file (the
// first start) it starts at the end: older lines predate this agent's record. Delivery is at
// least once: a crash between a poll and its state write repeats that poll's lines.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "model/action.hpp"
#include "util/result.hpp"

namespace privwatch::cli {

// One line of the actions log (exporter::action_json) back into an action.
[[nodiscard]] Result<model::ResponseAction> parse_action_line(std::string_view line);

class ActionsLogFollower {
 public:
  // `position_path`: the state file ("" keeps no state: start at the end, as on a first start).
  explicit ActionsLogFollower(std::string path, std::string position_path = {});
  // Reads what was appended since the last call (complete lines only) and hands each action to
  // `emit`. A file that was replaced or truncated (rotation) is read from its start. Returns the
  // number of actions emitted; lines that do not parse are counted in bad_lines().
  size_t poll(const std::function<void(const model::ResponseAction&)>& emit);
  [[nodiscard]] uint64_t followed() const { return followed_; }
  [[nodiscard]] uint64_t bad_lines() const { return bad_lines_; }
  // What the constructor found (resumed, rotated meanwhile, state unreadable...), for the log;
  // empty on a plain start.
  [[nodiscard]] const std::string& start_note() const { return start_note_; }
  // A problem since the last call (state file not writable), at most one; empty when none.
  [[nodiscard]] std::string take_warning() { return std::exchange(warning_, {}); }

 private:
  // Takes up the position kept in position_path_ (st: the log, when inode_ != 0). False when
  // there is none to take up (first start, or unreadable: start_note_ says so).
  bool resume(const struct stat& st);
  // Reads `path` (expected to be the file `dev`/`ino`) from `from` to its end into `buf`;
  // returns the offset reached, or `from` when it cannot be read.
  static off_t read_from(const std::string& path, dev_t dev, ino_t ino, off_t from,
                         std::string& buf);
  size_t emit_lines(std::string& buf,
                    const std::function<void(const model::ResponseAction&)>& emit);
  void save_position();

  std::string path_;
  std::string position_path_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  off_t offset_ = 0;
  // What the state file holds.
  dev_t saved_device_ = 0;
  ino_t saved_inode_ = 0;
  off_t saved_offset_ = -1;
  bool position_failed_ = false;  // warned once until a write succeeds again
  // The rotated file's unread tail found at start ("<log>.1" from this offset), read first.
  std::string rotated_path_;
  dev_t rotated_device_ = 0;
  ino_t rotated_inode_ = 0;
  off_t rotated_offset_ = -1;
  std::string start_note_;
  std::string warning_;
  std::string partial_;  // an incomplete last line, completed by the next poll
  uint64_t followed_ = 0;
  uint64_t bad_lines_ = 0;
};

}  // namespace privwatch::cli
