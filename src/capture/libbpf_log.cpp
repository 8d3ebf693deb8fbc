#include "capture/libbpf_log.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <deque>
#include <mutex>

#include "util/log.hpp"

namespace privwatch::capture {

namespace {

// libbpf offers only a process-wide print callback; this is its sink.
struct LogRing {
  std::mutex mu;
  std::deque<std::string> lines;
};

LogRing& ring() {
  static LogRing r;
  return r;
}

int print(enum libbpf_print_level level, const char* format, va_list args) {
  char buf[1024];
  int n = std::vsnprintf(buf, sizeof(buf), format, args);
  if (n <= 0) return 0;
  std::string line(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (level != LIBBPF_DEBUG) log::debug("libbpf: {}", line);
  auto& r = ring();
  std::lock_guard lock(r.mu);
  r.lines.push_back(std::move(line));
  while (r.lines.size() > 400) r.lines.pop_front();
  return 0;
}

}  // namespace

void install_libbpf_log() { libbpf_set_print(print); }

void clear_libbpf_log() {
  auto& r = ring();
  std::lock_guard lock(r.mu);
  r.lines.clear();
}

std::string libbpf_log_tail(size_t max_lines) {
  auto& r = ring();
  std::lock_guard lock(r.mu);
  std::string out;
  size_t start = r.lines.size() > max_lines ? r.lines.size() - max_lines : 0;
  for (size_t i = start; i < r.lines.size(); ++i) {
    out += "  | ";
    out += r.lines[i];
    out += '\n';
  }
  return out;
}

}  // namespace privwatch::capture
