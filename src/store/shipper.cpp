#include "store/shipper.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "store/store.hpp"
#include "util/fd.hpp"
#include "util/log.hpp"

namespace privwatch::store {

CheckpointShipper::CheckpointShipper(ShipperOptions options) : opt_(std::move(options)) {
  if (!enabled()) return;
  if (opt_.syslog) openlog("privwatch", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
  thread_ = std::thread([this] { run(); });
}

CheckpointShipper::~CheckpointShipper() { close(0); }

void CheckpointShipper::send(std::string json_line) {
  if (!enabled()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() >= opt_.capacity) {
      pending_.pop_front();
      ++dropped_;
    }
    pending_.push_back(std::move(json_line));
  }
  cv_.notify_one();
}

void CheckpointShipper::close(uint32_t max_wait_ms) {
  if (!thread_.joinable()) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(max_wait_ms);
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (!pending_.empty() && std::chrono::steady_clock::now() < deadline) {
      lock.unlock();
      cv_.notify_one();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      lock.lock();
    }
    failed_ += pending_.size();
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  if (opt_.syslog) closelog();
}

bool CheckpointShipper::deliver(const std::string& line) {
  bool ok = true;
  std::string why;
  if (!opt_.file.empty() && !file_done_) {
    Fd fd(::open(opt_.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    const std::string l = line + "\n";
    if (fd.ok() && ::write(fd.get(), l.data(), l.size()) == static_cast<ssize_t>(l.size()) &&
        ::fdatasync(fd.get()) == 0) {
      file_done_ = true;
    } else {
      ok = false;
      why += fmt::format(" file {}: {};", opt_.file, std::strerror(errno));
    }
  }
  if (opt_.syslog && !syslog_done_) {
    ::syslog(LOG_NOTICE, "%s", line.c_str());
    syslog_done_ = true;
  }
  if (!opt_.url.empty() && !http_done_) {
    const size_t scheme_end = opt_.url.find("://");
    const size_t path_start =
        opt_.url.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
    const std::string base = opt_.url.substr(0, path_start);
    const std::string path = path_start == std::string::npos ? "/" : opt_.url.substr(path_start);
    httplib::Client cli(base);
    cli.set_connection_timeout(3, 0);
    cli.set_read_timeout(5, 0);
    cli.set_write_timeout(5, 0);
    auto res = cli.Post(path, line, "application/json");
    if (res && res->status >= 200 && res->status < 300) {
      http_done_ = true;
    } else {
      ok = false;
      why += res ? fmt::format(" {}: HTTP {};", opt_.url, res->status)
                 : fmt::format(" {}: {};", opt_.url, httplib::to_string(res.error()));
    }
  }
  if (!ok) {
    const uint64_t now = wall_now_ns();
    if (now - last_warn_ns_ > 60'000'000'000ull) {
      log::warn("store: sending a checkpoint off the host failed ({}); retrying", why);
      last_warn_ns_ = now;
    }
  }
  return ok;
}

void CheckpointShipper::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (stop_) return;
    const std::string line = pending_.front();
    lock.unlock();
    const bool ok = deliver(line);
    lock.lock();
    if (ok) {
      if (!pending_.empty() && pending_.front() == line) pending_.pop_front();
      file_done_ = syslog_done_ = http_done_ = false;
      ++sent_;
    } else {
      ++failed_;
      cv_.wait_for(lock, std::chrono::milliseconds(opt_.retry_ms), [this] { return stop_; });
      if (stop_) return;
    }
  }
}

}  // namespace privwatch::store
