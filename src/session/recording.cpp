#include "session/recording.hpp"

#include <time.h>

#include <nlohmann/json.hpp>

#include "session/recording_format.hpp"

namespace privwatch::session {

namespace {

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Recorder::Recorder(RecorderOptions opts, ChunkFn emit, ClockFn clock)
    : opts_(std::move(opts)), emit_(std::move(emit)), clock_(std::move(clock)) {
  if (opts_.max_open == 0) opts_.max_open = 1;
}

uint64_t Recorder::now() const { return clock_ ? clock_() : monotonic_ns(); }

Recorder::Rec* Recorder::find(uint32_t dev) {
  auto it = recs_.find(dev);
  return it == recs_.end() ? nullptr : &it->second;
}

void Recorder::touch(Rec& r) {
  if (r.lru != lru_.begin()) lru_.splice(lru_.begin(), lru_, r.lru);
}

void Recorder::append(Rec& r, uint8_t type, uint64_t wall, std::string_view data) {
  if (r.buf.empty()) {
    r.buf_since_mono = now();
    r.first_wall = wall;
  }
  r.hidden_off = std::string::npos;
  append_frame(r.buf, static_cast<FrameType>(type), wall, data);
  r.last_wall = wall;
  ++r.frames;
}

Recorder::Rec& Recorder::open(const model::Event& ev, const model::TtyData& t) {
  while (recs_.size() >= opts_.max_open && !lru_.empty()) {
    ++stats_.evictions;
    end(lru_.back(), "evicted", ev.wall_time_ns);
  }
  lru_.push_front(t.dev);
  Rec& r = recs_[t.dev];
  r.lru = lru_.begin();
  r.dev = t.dev;
  r.tty = t.tty;
  const auto& s = ev.attr.session;
  r.session_id = s ? s->id : fmt::format("unattributed-{}-{}", t.tty, ev.wall_time_ns);
  // One recording per session and terminal: a second terminal of the same session (the pty
  // sudo's use_pty gives its command) gets its own id.
  r.id = r.session_id;
  for (const auto& [dev, other] : recs_) {
    if (dev != t.dev && other.id == r.id) r.id = r.session_id + "." + t.tty;
  }
  r.rows = t.rows;
  r.cols = t.cols;
  if (r.rows == 0 && r.cols == 0) {
    if (auto it = sizes_.find(t.dev); it != sizes_.end()) std::tie(r.rows, r.cols) = it->second;
  }
  nlohmann::json meta = {{"recording_id", r.id},
                         {"session_id", r.session_id},
                         {"host", opts_.host},
                         {"tty", r.tty},
                         {"rows", r.rows},
                         {"cols", r.cols},
                         {"start_wall_ns", ev.wall_time_ns}};
  if (s) {
    meta["session_type"] = std::string(model::to_string(s->entry_type));
    meta["user"] = s->user;
    meta["human"] = s->human;
    meta["client_ip"] = s->client_ip;
  } else {
    meta["user"] = ev.user_name;
    meta["human"] = ev.attr.human;
  }
  append(r, static_cast<uint8_t>(FrameType::kMeta), ev.wall_time_ns, json_text(meta));
  ++stats_.recordings_started;
  stats_.recordings_open = recs_.size();
  return r;
}

void Recorder::emit(Rec& r, bool final) {
  if (r.buf.empty() && !final) return;
  model::RecordingChunk c;
  c.recording_id = r.id;
  c.session_id = r.session_id;
  c.host = opts_.host;
  c.tty = r.tty;
  c.seq = r.seq++;
  c.first_wall_ns = r.first_wall;
  c.last_wall_ns = r.last_wall;
  c.frames = r.frames;
  c.raw_bytes = static_cast<uint32_t>(r.buf.size());
  c.final = final;
  auto z = compress(r.buf, opts_.zstd_level);
  if (!z) {
    ++stats_.compress_errors;  // cannot happen short of memory exhaustion; counted
    r.buf.clear();
    r.frames = 0;
    return;
  }
  c.data = std::move(*z);
  stats_.chunks += 1;
  stats_.raw_bytes += c.raw_bytes;
  stats_.compressed_bytes += c.data.size();
  r.buf.clear();
  r.frames = 0;
  r.hidden_off = std::string::npos;
  emit_(c);
}

void Recorder::end(uint32_t dev, std::string_view reason, uint64_t wall) {
  Rec* r = find(dev);
  if (r == nullptr) return;
  if (wall < r->last_wall) wall = r->last_wall;
  append(*r, static_cast<uint8_t>(FrameType::kEnd), wall, json_text({{"reason", reason}}));
  emit(*r, true);
  lru_.erase(r->lru);
  recs_.erase(dev);
  stats_.recordings_open = recs_.size();
}

void Recorder::process(const model::Event& ev) {
  if (const auto* t = std::get_if<model::TtyData>(&ev.data)) {
    on_tty(ev, *t);
  } else if (const auto* x = std::get_if<model::ExecData>(&ev.data)) {
    on_exec(ev, *x);
  } else if (const auto* e = std::get_if<model::ExitData>(&ev.data)) {
    on_exit(ev, *e);
  }
}

void Recorder::on_tty(const model::Event& ev, const model::TtyData& t) {
  const uint64_t wall = ev.wall_time_ns;
  if (t.op == model::TtyOp::kResize) {
    sizes_[t.dev] = {t.rows, t.cols};
    if (sizes_.size() > 4 * static_cast<size_t>(opts_.max_open) + 1024) sizes_.clear();
  }
  Rec* r = find(t.dev);
  if (r == nullptr) {
    if (t.op == model::TtyOp::kResize) return;  // remembered for when output comes
    r = &open(ev, t);
  }
  touch(*r);
  if ((t.rows != r->rows || t.cols != r->cols) && (t.rows != 0 || t.cols != 0)) {
    r->rows = t.rows;
    r->cols = t.cols;
    std::string sz;
    sz.push_back(static_cast<char>(t.rows & 0xff));
    sz.push_back(static_cast<char>(t.rows >> 8));
    sz.push_back(static_cast<char>(t.cols & 0xff));
    sz.push_back(static_cast<char>(t.cols >> 8));
    append(*r, static_cast<uint8_t>(FrameType::kResize), wall, sz);
  }
  if (t.op != model::TtyOp::kResize) {
    auto gap = [&](std::string_view reason, int64_t bytes, uint64_t at) {
      append(*r, static_cast<uint8_t>(FrameType::kGap), at,
             json_text({{"reason", reason},
                        {"bytes", bytes},
                        {"direction", model::to_string(t.op)},
                        {"pid", ev.proc.pid},
                        {"comm", ev.proc.comm}}));
    };
    if (t.flags & model::kTtyEchoOff) {
      // getpass() reads a byte at a time: one gap per hidden input, not one per key.
      int64_t bytes = t.result;
      uint64_t at = wall;
      if (r->hidden_off != std::string::npos) {
        r->buf.resize(r->hidden_off);
        --r->frames;
        bytes += r->hidden_bytes;
        at = r->hidden_wall;
      } else {
        ++stats_.gaps_echo_off;
      }
      const size_t off = r->buf.size();
      gap("echo_off", bytes, at);
      r->last_wall = std::max(r->last_wall, wall);
      r->hidden_off = off;
      r->hidden_bytes = bytes;
      r->hidden_wall = at;
    } else {
      if (!t.data.empty()) {
        const bool out = t.op == model::TtyOp::kOutput;
        // The line discipline shows "\n" as "\r\n" (OPOST|ONLCR, the default): record what
        // the terminal displayed, not what the program wrote.
        std::string_view data = t.data;
        if (out && (t.oflag & model::kTtyOpost) && (t.oflag & model::kTtyOnlcr) &&
            data.find('\n') != std::string_view::npos) {
          onlcr_.clear();
          for (const char ch : data) {
            if (ch == '\n') onlcr_.push_back('\r');
            onlcr_.push_back(ch);
          }
          data = onlcr_;
        }
        append(*r, static_cast<uint8_t>(out ? FrameType::kOutput : FrameType::kInput), wall, data);
        (out ? stats_.output_bytes : stats_.input_bytes) += t.data.size();
      }
      if (t.flags & model::kTtyReadFail) {
        gap("read_fail", t.result, wall);
      } else if (t.result > static_cast<int64_t>(t.data.size())) {
        const int64_t lost = t.result - static_cast<int64_t>(t.data.size());
        stats_.truncated_bytes += static_cast<uint64_t>(lost);
        gap((t.flags & model::kTtySessionLimit) ? "session_limit" : "truncated", lost, wall);
      }
      if ((t.flags & model::kTtySessionLimit) && !r->limit_reached) {
        r->limit_reached = true;
        ++stats_.session_limits;
      }
    }
  }
  if (r->buf.size() >= opts_.chunk_bytes) emit(*r, false);
}

void Recorder::on_exec(const model::Event& ev, const model::ExecData& x) {
  if (x.result != 0 || (x.flags & model::kExecFailed) || ev.proc.tty_dev == 0) return;
  Rec* r = find(ev.proc.tty_dev);
  if (r == nullptr) return;
  const auto key = ev.proc.key();
  nlohmann::json j = {{"pid", key.pid},       {"start_ticks", key.start_ticks},
                      {"ppid", ev.proc.ppid}, {"exe", x.exe_path},
                      {"args", x.args},       {"cwd", x.cwd},
                      {"uid", ev.proc.uid},   {"euid", ev.proc.euid},
                      {"user", ev.user_name}, {"effective_user", ev.effective_user_name},
                      {"event_seq", ev.seq}};
  if (ev.attr.session) j["session_id"] = ev.attr.session->id;
  append(*r, static_cast<uint8_t>(FrameType::kCommand), ev.wall_time_ns, json_text(j));
  ++stats_.commands;
  commands_[key] = r->dev;
  if (commands_.size() > 65536) commands_.clear();  // bound: lost ends show as "unknown"
  if (r->buf.size() >= opts_.chunk_bytes) emit(*r, false);
}

void Recorder::on_exit(const model::Event& ev, const model::ExitData& x) {
  const auto key = ev.proc.key();
  auto it = commands_.find(key);
  if (it == commands_.end()) return;
  Rec* r = find(it->second);
  commands_.erase(it);
  if (r == nullptr) return;
  append(*r, static_cast<uint8_t>(FrameType::kCommandEnd), ev.wall_time_ns,
         json_text({{"pid", key.pid},
                    {"start_ticks", key.start_ticks},
                    {"exit_code", x.status()},
                    {"signal", x.signal()},
                    {"event_seq", ev.seq}}));
}

void Recorder::session_changed(const model::Session& s) {
  if (s.end_wall_ns == 0) return;
  std::vector<uint32_t> devs;
  for (const auto& [dev, r] : recs_) {
    if (r.session_id == s.id) devs.push_back(dev);
  }
  for (const uint32_t d : devs) end(d, "session_end", s.end_wall_ns);
}

void Recorder::tick() {
  const uint64_t t = now();
  const uint64_t limit = static_cast<uint64_t>(opts_.flush_ms) * 1'000'000ull;
  for (auto& [dev, r] : recs_) {
    if (!r.buf.empty() && t - r.buf_since_mono >= limit) emit(r, false);
  }
}

void Recorder::close_all() {
  std::vector<uint32_t> devs;
  for (const auto& [dev, r] : recs_) devs.push_back(dev);
  for (const uint32_t d : devs) end(d, "agent_stop", 0);
}

}  // namespace privwatch::session
