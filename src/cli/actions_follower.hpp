// The agent follows respond.actions_log, where `privwatch respond` (a separate process, run by
// an operator) appends one JSON line per action, and sends each new action through the
// pipeline's outputs and sinks like its own actions: the store keeps them (`privwatch search
// --kind response`), syslog/webhooks/OTLP see them. Lines already in the file when the agent
// starts are not replayed (they were written while no agent ran: the log is their record).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "model/action.hpp"
#include "util/result.hpp"

namespace privwatch::cli {

// One line of the actions log (exporter::action_json) back into an action.
[[nodiscard]] Result<model::ResponseAction> parse_action_line(std::string_view line);

class ActionsLogFollower {
 public:
  explicit ActionsLogFollower(std::string path);
  // Reads what was appended since the last call (complete lines only) and hands each action to
  // `emit`. A file that was replaced or truncated (rotation) is read from its start. Returns the
  // number of actions emitted; lines that do not parse are counted in bad_lines().
  size_t poll(const std::function<void(const model::ResponseAction&)>& emit);
  [[nodiscard]] uint64_t followed() const { return followed_; }
  [[nodiscard]] uint64_t bad_lines() const { return bad_lines_; }

 private:
  std::string path_;
  ino_t inode_ = 0;
  off_t offset_ = 0;
  std::string partial_;  // an incomplete last line, completed by the next poll
  uint64_t followed_ = 0;
  uint64_t bad_lines_ = 0;
};

}  // namespace privwatch::cli
