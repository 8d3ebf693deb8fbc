#include "export/recording_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "session/recording_format.hpp"
#include "util/log.hpp"

namespace privwatch::exporter {

namespace {

constexpr size_t kMaxOpenFiles = 256;

Status make_dirs(const std::string& dir) {
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
      Error e = make_error(ErrorKind::kIo, "recording.dir: cannot create {}: {}", cur,
                           std::strerror(errno));
      e.hint = "create the directory (mode 0700, owned by root) or set recording.dir elsewhere";
      return e;
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return make_error(ErrorKind::kIo, "recording.dir: {} is not a directory", dir);
  }
  return {};
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<RecordingFiles>> RecordingFiles::open(const std::string& dir,
                                                             size_t max_queue) {
  if (auto s = make_dirs(dir); !s) return s.error();
  auto r = std::unique_ptr<RecordingFiles>(new RecordingFiles(dir, max_queue));
  r->writer_ = std::thread([p = r.get()] { p->run(); });
  return r;
}

RecordingFiles::RecordingFiles(std::string dir, size_t max_queue)
    : dir_(std::move(dir)), max_queue_(max_queue == 0 ? 1 : max_queue) {}

RecordingFiles::~RecordingFiles() { close(); }

void RecordingFiles::on_recording_chunk(const model::RecordingChunk& chunk) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    if (queue_.size() >= max_queue_) {
      ++stats_.dropped;
      return;
    }
    queue_.push_back(chunk);
  }
  cv_.notify_one();
}

void RecordingFiles::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (stop_) break;
      continue;
    }
    model::RecordingChunk c = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    write_chunk(c);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
  files_.clear();
  idle_cv_.notify_all();
}

void RecordingFiles::write_chunk(const model::RecordingChunk& c) {
  const std::string path = session::recording_path(dir_, c.recording_id);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (files_.size() >= kMaxOpenFiles) files_.erase(files_.begin());
    Fd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    struct stat st {};
    if (!fd.ok() || ::fstat(fd.get(), &st) != 0 ||
        (st.st_size == 0 &&
         !write_all(fd.get(), session::kFileMagic.data(), session::kFileMagic.size()))) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.write_errors;
      return;
    }
    it = files_.emplace(path, std::move(fd)).first;
  }
  const std::string body = session::encode_chunk(c);
  std::string rec;
  rec.reserve(4 + body.size());
  const auto n = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) rec.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  rec += body;
  // One write(): a reader following the file sees the record whole or not at all (it retries
  // a partial record).
  const bool ok = write_all(it->second.get(), rec.data(), rec.size());
  if (c.final || !ok) files_.erase(it);
  std::lock_guard<std::mutex> lock(mu_);
  if (ok) {
    ++stats_.chunks_written;
    stats_.bytes_written += rec.size();
  } else {
    ++stats_.write_errors;
  }
}

void RecordingFiles::flush() {
  RecordingFilesStats s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = stats_;
  }
  // Counted, and reported when the counts grow (at most once per flush: once a second).
  if (s.write_errors != reported_errors_ || s.dropped != reported_drops_) {
    log::warn("session recordings: {} chunks could not be written to {}, {} dropped (queue full)",
              s.write_errors, dir_, s.dropped);
    reported_errors_ = s.write_errors;
    reported_drops_ = s.dropped;
  }
}

void RecordingFiles::close() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_ && !writer_.joinable()) return;
    idle_cv_.wait_for(lock, std::chrono::seconds(5), [&] { return queue_.empty() && !busy_; });
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  flush();
}

RecordingFilesStats RecordingFiles::file_stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace privwatch::exporter
