#include "session/replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

namespace privwatch::session {

namespace {

nlohmann::json parse_json(const std::string& s) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

template <typename T>
T jget(const nlohmann::json& j, const char* k, T def) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return def;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return def;
  }
}

bool resize_of(const Frame& f, int& rows, int& cols) {
  if (f.data.size() != 4) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(f.data.data());
  rows = p[0] | (p[1] << 8);
  cols = p[2] | (p[3] << 8);
  return true;
}

// Length of the longest prefix of s that does not end inside an incomplete UTF-8 sequence
// (a sequence cut by the end of a write: completed by the next one).
size_t complete_prefix(std::string_view s) {
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    size_t need = 0;
    if ((c & 0xE0) == 0xC0)
      need = 2;
    else if ((c & 0xF0) == 0xE0)
      need = 3;
    else if ((c & 0xF8) == 0xF0)
      need = 4;
    if (need > back) return n - back;  // incomplete lead at the end
    return n;
  }
  return n;
}

double secs(uint64_t t, uint64_t start) {
  return t > start ? static_cast<double>(t - start) / 1e9 : 0.0;
}

}  // namespace

RecordingInfo recording_info(const std::vector<Frame>& frames) {
  RecordingInfo info;
  bool have_meta = false;
  for (const auto& f : frames) {
    if (info.start_wall_ns == 0 || (f.wall_ns != 0 && f.wall_ns < info.start_wall_ns)) {
      if (f.wall_ns != 0) info.start_wall_ns = f.wall_ns;
    }
    info.end_wall_ns = std::max(info.end_wall_ns, f.wall_ns);
    switch (f.type) {
      case FrameType::kMeta: {
        if (have_meta) break;  // a later segment (agent restart) repeats it
        have_meta = true;
        const auto j = parse_json(f.data);
        info.recording_id = jget<std::string>(j, "recording_id", "");
        info.session_id = jget<std::string>(j, "session_id", "");
        info.session_type = jget<std::string>(j, "session_type", "");
        info.host = jget<std::string>(j, "host", "");
        info.tty = jget<std::string>(j, "tty", "");
        info.user = jget<std::string>(j, "user", "");
        info.human = jget<std::string>(j, "human", "");
        info.client_ip = jget<std::string>(j, "client_ip", "");
        const int rows = jget<int>(j, "rows", 0), cols = jget<int>(j, "cols", 0);
        if (rows > 0 && cols > 0) {
          info.rows = rows;
          info.cols = cols;
        }
        break;
      }
      case FrameType::kOutput:
        info.output_bytes += f.data.size();
        break;
      case FrameType::kInput:
        info.input_bytes += f.data.size();
        break;
      case FrameType::kGap:
        ++info.gaps;
        break;
      case FrameType::kResize:
        ++info.resizes;
        break;
      case FrameType::kCommand:
        ++info.commands;
        break;
      case FrameType::kCommandEnd:
        break;
      case FrameType::kEnd:
        info.ended = true;
        info.end_reason = jget<std::string>(parse_json(f.data), "reason", "");
        break;
    }
  }
  return info;
}

std::string to_asciicast(const std::vector<Frame>& frames, bool with_input) {
  const RecordingInfo info = recording_info(frames);
  nlohmann::json header = {{"version", 2},
                           {"width", info.cols},
                           {"height", info.rows},
                           {"timestamp", info.start_wall_ns / 1'000'000'000ull},
                           {"env", {{"TERM", "xterm-256color"}}}};
  std::string title = fmt::format("{}@{} {}", info.user, info.host, info.tty);
  if (!info.human.empty() && info.human != info.user) title += " (" + info.human + ")";
  header["title"] = title;
  std::string out = header.dump() + "\n";
  std::string carry_o, carry_i;
  auto event = [&](uint64_t wall, const char* code, const std::string& data) {
    nlohmann::json e = nlohmann::json::array();
    e.push_back(std::round(secs(wall, info.start_wall_ns) * 1e6) / 1e6);
    e.push_back(code);
    e.push_back(data);
    out += e.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
  };
  for (const auto& f : frames) {
    switch (f.type) {
      case FrameType::kOutput:
      case FrameType::kInput: {
        if (f.type == FrameType::kInput && !with_input) break;
        std::string& carry = f.type == FrameType::kOutput ? carry_o : carry_i;
        std::string data = carry + f.data;
        const size_t n = complete_prefix(data);
        carry = data.substr(n);
        data.resize(n);
        if (!data.empty()) event(f.wall_ns, f.type == FrameType::kOutput ? "o" : "i", data);
        break;
      }
      case FrameType::kResize: {
        int rows = 0, cols = 0;
        if (resize_of(f, rows, cols)) event(f.wall_ns, "r", fmt::format("{}x{}", cols, rows));
        break;
      }
      case FrameType::kGap: {
        const auto j = parse_json(f.data);
        const std::string reason = jget<std::string>(j, "reason", "gap");
        const auto bytes = jget<int64_t>(j, "bytes", 0);
        event(f.wall_ns, "m",
              reason == "echo_off"
                  ? fmt::format("hidden input ({} bytes typed with echo off)", bytes)
                  : fmt::format("{}: {} bytes not recorded", reason, bytes));
        break;
      }
      default:
        break;
    }
  }
  if (!carry_o.empty()) event(info.end_wall_ns, "o", carry_o);  // replaced by U+FFFD
  return out;
}

std::vector<TextLine> screen_text(const std::vector<Frame>& frames) {
  const RecordingInfo info = recording_info(frames);
  TerminalText vt(info.rows, info.cols);
  for (const auto& f : frames) {
    if (f.type == FrameType::kOutput) {
      vt.feed(f.data, f.wall_ns);
    } else if (f.type == FrameType::kResize) {
      int rows = 0, cols = 0;
      if (resize_of(f, rows, cols) && rows > 0 && cols > 0) vt.resize(rows, cols);
    }
  }
  return vt.finish();
}

Result<std::vector<CommandEntry>> command_log(const std::vector<Frame>& frames) {
  const RecordingInfo info = recording_info(frames);
  std::vector<CommandEntry> cmds;
  for (const auto& f : frames) {
    if (f.type != FrameType::kCommand && f.type != FrameType::kCommandEnd) continue;
    auto j = nlohmann::json::parse(f.data, nullptr, false);
    if (!j.is_object()) {
      return make_error(ErrorKind::kCorrupt, "command frame at {} is not a JSON object",
                        format_offset(secs(f.wall_ns, info.start_wall_ns)));
    }
    const auto pid = jget<uint32_t>(j, "pid", 0);
    const auto start = jget<uint64_t>(j, "start_ticks", 0);
    if (f.type == FrameType::kCommand) {
      CommandEntry c;
      c.wall_ns = f.wall_ns;
      c.offset_s = secs(f.wall_ns, info.start_wall_ns);
      c.pid = pid;
      c.start_ticks = start;
      c.exe = jget<std::string>(j, "exe", "");
      c.cwd = jget<std::string>(j, "cwd", "");
      c.user = jget<std::string>(j, "user", "");
      c.effective_user = jget<std::string>(j, "effective_user", "");
      c.session_id = jget<std::string>(j, "session_id", "");
      c.args = jget<std::vector<std::string>>(j, "args", {});
      cmds.push_back(std::move(c));
    } else {
      // The latest command of that process (an exec chain ends with its last image).
      for (auto it = cmds.rbegin(); it != cmds.rend(); ++it) {
        if (it->pid == pid && it->start_ticks == start && !it->ended) {
          it->ended = true;
          it->exit_code = jget<int>(j, "exit_code", 0);
          it->signal = jget<int>(j, "signal", 0);
          it->duration_ns = f.wall_ns > it->wall_ns ? f.wall_ns - it->wall_ns : 0;
          break;
        }
      }
    }
  }
  return cmds;
}

std::vector<SearchHit> search(const std::vector<Frame>& frames, std::string_view needle) {
  std::vector<SearchHit> hits;
  if (needle.empty()) return hits;
  const RecordingInfo info = recording_info(frames);
  auto lower = [](std::string_view s) {
    std::string o(s);
    std::transform(o.begin(), o.end(), o.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return o;
  };
  const std::string n = lower(needle);
  for (auto& l : screen_text(frames)) {
    if (lower(l.text).find(n) != std::string::npos) {
      hits.push_back({secs(l.wall_ns, info.start_wall_ns), std::move(l.text)});
    }
  }
  return hits;
}

std::vector<PlayStep> play_schedule(const std::vector<Frame>& frames, const PlayOptions& o) {
  std::vector<PlayStep> steps;
  const RecordingInfo info = recording_info(frames);
  const double speed = o.speed > 0 ? o.speed : 1.0;
  uint64_t prev = info.start_wall_ns;
  std::string before;  // output before --from, written at once
  for (const auto& f : frames) {
    if (f.type != FrameType::kOutput) continue;
    const double at = secs(f.wall_ns, info.start_wall_ns);
    if (at < o.from_s) {
      before += f.data;
      prev = f.wall_ns;
      continue;
    }
    if (!before.empty()) {
      steps.push_back({0, std::move(before)});
      before.clear();
    }
    double pause = secs(f.wall_ns, prev) / speed;
    if (o.idle_limit_s > 0) pause = std::min(pause, o.idle_limit_s);
    steps.push_back({static_cast<uint64_t>(pause * 1e9), f.data});
    prev = f.wall_ns;
  }
  if (!before.empty()) steps.push_back({0, std::move(before)});
  return steps;
}

double parse_offset(std::string_view s) {
  if (s.empty()) return -1;
  double total = 0, cur = 0, frac_scale = 0;
  bool digits = false;
  int colons = 0;
  for (const char ch : s) {
    if (std::isdigit(static_cast<unsigned char>(ch))) {
      if (frac_scale > 0) {
        cur += (ch - '0') * frac_scale;
        frac_scale /= 10;
      } else {
        cur = cur * 10 + (ch - '0');
      }
      digits = true;
    } else if (ch == '.' && frac_scale == 0) {
      frac_scale = 0.1;
    } else if (ch == ':' && digits && ++colons <= 2) {
      total = (total + cur) * 60;
      cur = 0;
      frac_scale = 0;
      digits = false;
    } else if ((ch == 'h' || ch == 'm' || ch == 's') && digits && colons == 0) {
      total += cur * (ch == 'h' ? 3600 : ch == 'm' ? 60 : 1);
      cur = 0;
      frac_scale = 0;
      digits = false;
    } else {
      return -1;
    }
  }
  if (colons > 0 && !digits) return -1;
  return total + cur;
}

std::string format_offset(double seconds) {
  if (seconds < 0) seconds = 0;
  const auto ms = static_cast<uint64_t>(std::llround(seconds * 1000));
  const uint64_t h = ms / 3'600'000, m = (ms / 60'000) % 60, s = (ms / 1000) % 60, r = ms % 1000;
  if (h > 0) return fmt::format("{}:{:02}:{:02}.{:03}", h, m, s, r);
  return fmt::format("{:02}:{:02}.{:03}", m, s, r);
}

}  // namespace privwatch::session
