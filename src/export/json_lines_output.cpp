#include "export/json_lines_output.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "export/ecs_json.hpp"

namespace privwatch::exporter {

namespace {

// memchr (vectorised in glibc) rather than std::count, which -O2 compiles to a byte loop: at
// 100 MB/s of lines that loop was ~8 % of the agent's CPU samples (perf, 100k events/s flood).
uint64_t count_lines(const char* p, size_t n) {
  uint64_t lines = 0;
  const char* const end = p + n;
  while (p != end) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) break;
    ++lines;
    p = nl + 1;
  }
  return lines;
}

std::string numbered(const std::string& path, uint32_t i) { return path + "." + std::to_string(i); }

}  // namespace

JsonLinesOutput::JsonLinesOutput(const config::OutputConfig& cfg, std::string hostname,
                                 JsonLinesLimits limits)
    : path_(cfg.path),
      hostname_(std::move(hostname)),
      max_size_(limits.max_size_bytes != 0 ? limits.max_size_bytes
                                           : cfg.max_size_mb * 1024ull * 1024ull),
      max_files_(cfg.max_files),
      limits_(limits) {
  buf_.reserve(limits_.buffer_bytes + 16 * 1024);
  if (limits_.async) {
    front_.reserve(limits_.buffer_bytes + 16 * 1024);
    if (limits_.max_queued_buffers == 0) limits_.max_queued_buffers = 1;
  }
}

Result<std::unique_ptr<JsonLinesOutput>> JsonLinesOutput::open(const config::OutputConfig& cfg,
                                                               std::string hostname,
                                                               JsonLinesLimits limits) {
  if (cfg.path.empty()) {
    return Error{ErrorKind::kInvalidArgument, "output.path is empty",
                 "set output.path to \"-\" for stdout or to a file path"};
  }
  std::unique_ptr<JsonLinesOutput> out(new JsonLinesOutput(cfg, std::move(hostname), limits));
  if (cfg.path == "-") {
    out->fd_ = STDOUT_FILENO;
    out->owns_fd_ = false;
    struct stat st {};
    out->regular_ = ::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode);
    if (out->limits_.async) out->writer_ = std::thread([p = out.get()] { p->writer_loop(); });
    return out;
  }
  if (Status st = out->open_file(); !st) return st.error();
  if (out->limits_.async) out->writer_ = std::thread([p = out.get()] { p->writer_loop(); });
  return out;
}

JsonLinesOutput::~JsonLinesOutput() {
  (void)flush();
  if (writer_.joinable()) {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    work_cv_.notify_all();
    writer_.join();
  }
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Status JsonLinesOutput::open_file() {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    const int err = errno;
    ++write_errors_;
    Error e = make_error(err == EACCES || err == EPERM ? ErrorKind::kPermission : ErrorKind::kIo,
                         "cannot open output file {}: {}", path_, std::strerror(err));
    e.hint = "check output.path: its directory must exist and be writable by the agent";
    return e;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    ++write_errors_;
    return make_error(ErrorKind::kIo, "cannot stat output file {}: {}", path_, std::strerror(err));
  }
  fd_ = fd;
  owns_fd_ = true;
  regular_ = S_ISREG(st.st_mode);
  size_ = regular_ ? static_cast<uint64_t>(st.st_size) : 0;
  broken_line_ = false;
  return {};
}

Status JsonLinesOutput::rotate() {
  // path.N (the oldest) goes; path.i → path.i+1; path → path.1; reopen path.
  if (max_files_ == 0) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      const int err = errno;
      ++write_errors_;
      return make_error(ErrorKind::kIo, "cannot rotate {}: unlink: {}", path_, std::strerror(err));
    }
  } else {
    const std::string oldest = numbered(path_, max_files_);
    if (::unlink(oldest.c_str()) != 0 && errno != ENOENT) {
      const int err = errno;
      ++write_errors_;
      return make_error(ErrorKind::kIo, "cannot rotate {}: unlink {}: {}", path_, oldest,
                        std::strerror(err));
    }
    for (uint32_t i = max_files_ - 1; i >= 1; --i) {
      const std::string from = numbered(path_, i);
      if (::rename(from.c_str(), numbered(path_, i + 1).c_str()) != 0 && errno != ENOENT) {
        const int err = errno;
        ++write_errors_;
        return make_error(ErrorKind::kIo, "cannot rotate {}: rename {}: {}", path_, from,
                          std::strerror(err));
      }
    }
    if (::rename(path_.c_str(), numbered(path_, 1).c_str()) != 0) {
      const int err = errno;
      ++write_errors_;
      return make_error(ErrorKind::kIo, "cannot rotate {}: {}", path_, std::strerror(err));
    }
  }
  ::close(fd_);
  fd_ = -1;
  ++rotations_;
  return open_file();
}

Status JsonLinesOutput::write_chunk(size_t pos, size_t end) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(limits_.write_timeout_ms);

  // Writes [p, p+n) fully; returns 0 or an errno. `done` counts bytes written.
  auto write_all = [&](const char* p, size_t n, size_t& done) -> int {
    done = 0;
    while (done < n) {
      if (!regular_) {  // pipes, sockets, ttys: never wait on a stalled reader forever
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return ETIMEDOUT;
        pollfd pfd{fd_, POLLOUT, 0};
        const int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno;
        if (r == 0) return ETIMEDOUT;
      }
      // At most PIPE_BUF per write on non-files so that a POLLOUT promise is not overrun.
      const size_t want = regular_ ? n - done : std::min<size_t>(n - done, PIPE_BUF);
      const ssize_t w = ::write(fd_, p + done, want);
      if (w < 0) {
        if (errno == EINTR || (errno == EAGAIN && !regular_)) continue;
        return errno;
      }
      if (w == 0) return EIO;
      done += static_cast<size_t>(w);
    }
    return 0;
  };

  size_t done = 0;
  int err = 0;
  if (broken_line_) {  // terminate a partial line left by an earlier failure
    err = write_all("\n", 1, done);
    if (err == 0) broken_line_ = false;
  }
  if (err == 0) err = write_all(buf_.data() + pos, end - pos, done);
  if (err == 0) {
    size_ += end - pos;
    lines_written_ += count_lines(buf_.data() + pos, end - pos);
    return {};
  }

  ++write_errors_;
  // Complete lines that made it out count as written; a trailing partial line is removed
  // again from a file we own, or terminated before the next write elsewhere.
  const std::string_view sent(buf_.data() + pos, done);
  const size_t last_nl = sent.rfind('\n');
  const size_t complete = last_nl == std::string_view::npos ? 0 : last_nl + 1;
  const size_t partial = done - complete;
  lines_written_ += count_lines(sent.data(), complete);
  lines_dropped_ += count_lines(buf_.data() + pos + complete, end - pos - complete);
  size_ += complete;
  if (partial != 0) {
    bool removed = false;
    if (owns_fd_ && regular_) {
      const off_t file_end = ::lseek(fd_, 0, SEEK_END);
      removed = file_end >= static_cast<off_t>(partial) &&
                ::ftruncate(fd_, file_end - static_cast<off_t>(partial)) == 0;
    }
    if (!removed) {
      broken_line_ = true;
      size_ += partial;
    }
  }
  Error e = make_error(ErrorKind::kIo, "writing events to {} failed: {}",
                       path_ == "-" ? std::string("stdout") : path_, std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) {
    e.hint = "free disk space, or lower output.max_size_mb / output.max_files";
  } else if (err == ETIMEDOUT) {
    e.hint = "the reader of the output is not consuming it";
  }
  return e;
}

Status JsonLinesOutput::write(const model::Event& ev) {
  if (limits_.async) {
    append_ecs_json(ev, front_, hostname_);
    front_.push_back('\n');
    if (front_.size() >= limits_.buffer_bytes) hand_off();
    return take_async_error();
  }
  append_ecs_json(ev, buf_, hostname_);
  buf_.push_back('\n');
  if (buf_.size() >= limits_.buffer_bytes) return flush();
  return {};
}

Status JsonLinesOutput::write_json(std::string_view json_object) {
  std::string& b = limits_.async ? front_ : buf_;
  b.append(json_object);
  b.push_back('\n');
  if (limits_.async) {
    if (front_.size() >= limits_.buffer_bytes) hand_off();
    return take_async_error();
  }
  if (buf_.size() >= limits_.buffer_bytes) return flush();
  return {};
}

void JsonLinesOutput::hand_off() {
  if (front_.empty()) return;
  std::unique_lock lk(mu_);
  done_cv_.wait(lk, [&] { return queue_.size() < limits_.max_queued_buffers; });
  queue_.push_back(std::move(front_));
  if (!spare_.empty()) {
    front_ = std::move(spare_.back());
    spare_.pop_back();
  } else {
    front_ = std::string();
    front_.reserve(limits_.buffer_bytes + 16 * 1024);
  }
  front_.clear();
  lk.unlock();
  work_cv_.notify_one();
}

Status JsonLinesOutput::take_async_error() {
  std::lock_guard lk(mu_);
  if (!async_error_) return {};
  Error e = std::move(*async_error_);
  async_error_.reset();
  return e;
}

void JsonLinesOutput::writer_loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop requested and nothing left
    std::string next = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lk.unlock();
    done_cv_.notify_all();  // queue space
    buf_.swap(next);
    Status st = drain_buf();
    lk.lock();
    spare_.push_back(std::move(next));  // the drained buffer keeps its capacity
    if (!st && !async_error_) async_error_ = st.error();
    busy_ = false;
    done_cv_.notify_all();
  }
}

Status JsonLinesOutput::flush_async() {
  if (!limits_.async) return flush();
  hand_off();
  return take_async_error();
}

Status JsonLinesOutput::flush() {
  if (limits_.async) {
    hand_off();
    std::unique_lock lk(mu_);
    done_cv_.wait(lk, [&] { return queue_.empty() && !busy_; });
    lk.unlock();
    return take_async_error();
  }
  return drain_buf();
}

Status JsonLinesOutput::drain_buf() {
  if (buf_.empty()) return {};
  Status result;
  size_t pos = 0;
  const bool rotating = path_ != "-" && max_size_ != 0;
  bool rotation_failed = false;

  while (pos < buf_.size()) {
    if (fd_ < 0) {
      if (Status st = open_file(); !st) {
        result = st;
        break;
      }
    }
    size_t end = buf_.size();
    const uint64_t room = size_ < max_size_ ? max_size_ - size_ : 0;
    if (rotating && regular_ && !rotation_failed && end - pos > room) {
      // Only whole lines go into the current file; the rest starts the next one.
      end = pos;
      if (room != 0) {
        const size_t nl = buf_.rfind('\n', pos + room - 1);
        if (nl != std::string::npos && nl >= pos) end = nl + 1;
      }
      if (end == pos) {
        if (size_ != 0) {
          if (Status st = rotate(); !st) {
            result = st;
            rotation_failed = true;  // keep appending to the current file, if still open
            if (fd_ < 0) break;
          }
          continue;
        }
        end = buf_.find('\n', pos) + 1;  // one line larger than the limit: a file of its own
      }
    }
    if (Status st = write_chunk(pos, end); !st) {
      result = st;
      pos = end;
      break;
    }
    pos = end;
  }
  if (pos < buf_.size()) lines_dropped_ += count_lines(buf_.data() + pos, buf_.size() - pos);
  buf_.clear();
  return result;
}

Status JsonLinesOutput::reopen() {
  Status flushed = flush();  // async mode: the writer is idle from here until the next write
  if (path_ == "-") return flushed;
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (Status st = open_file(); !st) return st;
  return flushed;
}

}  // namespace privwatch::exporter
