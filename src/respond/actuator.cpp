#include "respond/actuator.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "util/fd.hpp"

namespace privwatch::respond {

namespace {

using model::ActionResult;
using model::ActionType;

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// Sends `sig` to the process `p` was, and only to it. Returns 0 or an errno.
int send_signal(const ProcSnapshot& p, int sig, const std::string& proc_root) {
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, p.pid, 0)));
  if (!pidfd.ok()) return errno;
  // The pidfd pins the process: if it still has the start time we selected, it is the same one.
  ProcSnapshot now;
  if (!read_proc(p.pid, now, proc_root) || now.start_ticks != p.start_ticks) return ESRCH;
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) != 0) return errno;
  return 0;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string describe(const ProcSnapshot& p) { return fmt::format("{} ({})", p.pid, p.comm); }

}  // namespace

uint64_t wall_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::string new_action_id() {
  static thread_local std::mt19937_64 rng{(static_cast<uint64_t>(std::random_device{}()) << 32) ^
                                          std::random_device{}() ^ wall_now_ns()};
  return fmt::format("act-{:016x}", rng());
}

std::string Actuator::banner(const std::string& reason, const std::string& id) const {
  std::string msg =
      opts_.warn_message.empty() ? std::string("privwatch: {reason}") : opts_.warn_message;
  replace_all(msg, "{reason}", reason.empty() ? "security policy" : reason);
  replace_all(msg, "{host}", opts_.host);
  replace_all(msg, "{id}", id);
  // Terminal control characters from a reason text must not reach the terminal.
  for (char& c : msg) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return "\r\n\a*** privwatch security notice ***\r\n" + msg + "\r\n";
}

model::ResponseAction Actuator::run(const ActionRequest& req) const {
  model::ResponseAction a;
  a.id = new_action_id();
  a.wall_ns = wall_now_ns();
  a.action = req.action;
  a.reason = req.reason;
  a.session_id = req.session_id;
  a.host = opts_.host;
  a.audit_session = req.target.audit_session;
  if (!req.target.roots.empty()) a.root_pid = req.target.roots.front().pid;
  if (req.target.empty()) {
    a.result = ActionResult::kFailed;
    a.errors.push_back("no target: neither a session nor a process was given");
    return a;
  }
  // A root that is itself protected refuses the whole action: the request named it.
  for (const auto& root : req.target.roots) {
    ProcSnapshot p;
    if (!read_proc(root.pid, p, opts_.proc_root)) continue;
    if (root.start_ticks != 0 && p.start_ticks != root.start_ticks) continue;
    if (std::string why = refusal(p, opts_.safety); !why.empty()) {
      a.result = ActionResult::kRefused;
      a.errors.push_back("refused: " + why);
      return a;
    }
  }
  if (req.action == ActionType::kWarn) {
    warn(req, a);
  } else {
    signal_loop(req, a);
  }
  return a;
}

void Actuator::warn(const ActionRequest& req, model::ResponseAction& a) const {
  const Selection sel = select_targets(scan_proc(opts_.proc_root), req.target, opts_.safety);
  std::set<uint32_t> ttys;
  for (const auto& p : sel.targets) {
    if (p.tty_nr != 0) ttys.insert(p.tty_nr);
    a.pids.push_back(p.pid);
  }
  if (sel.targets.empty()) {
    a.result = ActionResult::kFailed;
    a.errors.push_back("no live process of the target was found");
    return;
  }
  if (ttys.empty()) {
    a.result = ActionResult::kFailed;
    a.errors.push_back("no process of the target has a terminal to write to");
    return;
  }
  const std::string text = banner(req.reason, a.id);
  size_t written = 0;
  for (uint32_t nr : ttys) {
    const std::string path = tty_path(nr, opts_.dev_root);
    if (path.empty()) {
      a.errors.push_back(fmt::format("terminal device {}:{} not found under {}", (nr >> 8) & 0xfff,
                                     (nr & 0xff) | ((nr >> 12) & 0xfff00), opts_.dev_root));
      continue;
    }
    a.ttys.push_back(path);
    if (opts_.dry_run) continue;
    Fd fd(::open(path.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.ok()) {
      a.errors.push_back(fmt::format("open {}: {}", path, std::strerror(errno)));
      continue;
    }
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n != static_cast<ssize_t>(text.size())) {
      a.errors.push_back(fmt::format("write {}: {}", path,
                                     n < 0 ? std::strerror(errno) : "short write (terminal full)"));
      continue;
    }
    ++written;
  }
  if (opts_.dry_run) {
    a.result = ActionResult::kDryRun;
  } else {
    a.result = written == 0                                   ? ActionResult::kFailed
               : written == a.ttys.size() && a.errors.empty() ? ActionResult::kSuccess
                                                              : ActionResult::kPartial;
  }
}

void Actuator::signal_loop(const ActionRequest& req, model::ResponseAction& a) const {
  const ActionType t = req.action;
  std::set<uint32_t> acted;
  std::set<std::string> spared;
  std::vector<ProcSnapshot> left;  // target processes still not in the wanted state
  uint32_t failures = 0;
  for (uint32_t round = 0; round < std::max<uint32_t>(1, opts_.max_rounds); ++round) {
    const Selection sel = select_targets(scan_proc(opts_.proc_root), req.target, opts_.safety);
    for (const auto& [pid, why] : sel.spared) spared.insert(why);
    left.clear();
    for (const auto& p : sel.targets) {
      const bool done = p.dead() || (t == ActionType::kFreeze && p.stopped()) ||
                        (t == ActionType::kThaw && !p.stopped() && acted.count(p.pid) != 0);
      if (!done) left.push_back(p);
    }
    if (left.empty()) break;
    if (opts_.dry_run) {
      for (const auto& p : left) acted.insert(p.pid);
      break;
    }
    if (t == ActionType::kTerminate || t == ActionType::kKill) {
      // Stop first so that nothing forks between this scan and the kill; then kill.
      for (const auto& p : left) (void)send_signal(p, SIGSTOP, opts_.proc_root);
    }
    const int sig = t == ActionType::kFreeze ? SIGSTOP : t == ActionType::kThaw ? SIGCONT : SIGKILL;
    for (const auto& p : left) {
      const int err = send_signal(p, sig, opts_.proc_root);
      if (err == 0) {
        acted.insert(p.pid);
      } else if (err != ESRCH) {
        ++failures;
        a.errors.push_back(
            fmt::format("signal {} to {}: {}", sig, describe(p), std::strerror(err)));
      }
    }
    // Let the signals take effect (stopped / dead) before looking again.
    for (int waited = 0; waited < 200; waited += 5) {
      sleep_ms(5);
      bool settled = true;
      for (const auto& p : left) {
        ProcSnapshot now;
        if (!read_proc(p.pid, now, opts_.proc_root) || now.start_ticks != p.start_ticks) continue;
        if (now.dead()) continue;
        if (t == ActionType::kFreeze && now.stopped()) continue;
        if (t == ActionType::kThaw && !now.stopped()) continue;
        settled = false;
        break;
      }
      if (settled) break;
    }
    if (failures > 0 && failures >= left.size()) break;  // nothing we can do more of
  }
  a.pids.assign(acted.begin(), acted.end());
  for (const auto& why : spared) a.errors.push_back("spared: " + why);
  if (opts_.dry_run) {
    a.result = ActionResult::kDryRun;
    return;
  }
  // What is still not in the wanted state after the last round.
  const Selection final_sel = select_targets(scan_proc(opts_.proc_root), req.target, opts_.safety);
  std::vector<std::string> survivors;
  for (const auto& p : final_sel.targets) {
    const bool ok = p.dead() || (t == ActionType::kFreeze && p.stopped()) ||
                    (t == ActionType::kThaw && !p.stopped());
    if (!ok) survivors.push_back(describe(p));
  }
  for (const auto& s : survivors) {
    a.errors.push_back(fmt::format("still {} after {} rounds: {}",
                                   t == ActionType::kFreeze ? "running"
                                   : t == ActionType::kThaw ? "stopped"
                                                            : "alive",
                                   opts_.max_rounds, s));
  }
  if (acted.empty() && final_sel.targets.empty() && failures == 0) {
    a.result = ActionResult::kFailed;
    a.errors.insert(a.errors.begin(), "no live process of the target was found");
  } else if (survivors.empty() && failures == 0) {
    a.result = ActionResult::kSuccess;
  } else {
    a.result = acted.empty() ? ActionResult::kFailed : ActionResult::kPartial;
  }
}

}  // namespace privwatch::respond
