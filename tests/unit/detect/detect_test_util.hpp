// Synthetic events and small helpers for the detect unit tests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "detect/engine.hpp"
#include "model/event.hpp"

namespace privwatch::detect::testing {

inline uint64_t g_seq = 0;

inline model::Event base_event(model::EventKind kind, uint32_t pid = 4242, uint32_t euid = 0) {
  model::Event ev;
  ev.kind = kind;
  ev.proc.pid = ev.proc.tid = pid;
  ev.proc.ppid = 1;
  ev.proc.uid = ev.proc.euid = euid;
  ev.proc.comm = "proc";
  ev.user_name = ev.effective_user_name = euid == 0 ? "root" : "user";
  ev.ts_ns = 1'000'000'000ull * 1000 + g_seq * 1000;
  ev.wall_time_ns = 1'700'000'000'000'000'000ull;
  ev.seq = ++g_seq;
  return ev;
}

inline model::Event exec_event(const std::string& exe, std::vector<std::string> args,
                               uint32_t pid = 4242, uint32_t euid = 0) {
  model::Event ev = base_event(model::EventKind::kExec, pid, euid);
  model::ExecData d;
  d.exe_path = exe;
  d.filename = exe;
  d.args = std::move(args);
  ev.proc.comm = exe.substr(exe.rfind('/') + 1).substr(0, 15);
  ev.exe = exe;
  ev.data = std::move(d);
  return ev;
}

inline model::Event file_event(model::FileOp op, const std::string& path, uint32_t open_flags = 0,
                               uint32_t mode = 0, uint32_t pid = 4242) {
  model::Event ev = base_event(model::EventKind::kFile, pid);
  model::FileData f;
  f.op = op;
  f.path = path;
  f.open_flags = open_flags;
  f.mode = mode;
  ev.exe = "/usr/bin/tool";
  ev.data = std::move(f);
  return ev;
}

inline model::Event connect_event(const std::string& ip, uint16_t port, uint32_t pid = 4242,
                                  uint32_t euid = 0) {
  model::Event ev = base_event(model::EventKind::kNet, pid, euid);
  model::NetData n;
  n.op = model::NetOp::kConnect;
  n.sock_type = SOCK_STREAM;
  n.remote_port = port;
  if (ip.find(':') != std::string::npos) {
    n.family = AF_INET6;
    inet_pton(AF_INET6, ip.c_str(), n.remote_addr.data());
  } else {
    n.family = AF_INET;
    inet_pton(AF_INET, ip.c_str(), n.remote_addr.data());
  }
  ev.exe = "/usr/bin/nc";
  ev.data = n;
  return ev;
}

// A RuleSet from YAML text; fails the test on a load error.
inline RuleSet rules_from(const std::string& yaml, const std::string& origin = "test.yaml") {
  RuleSetBuilder b;
  auto s = b.add_text(yaml, origin);
  EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
  return std::move(b).finish();
}

// The load error message for YAML text ("" when it loads).
inline std::string load_error(const std::string& yaml, const std::string& origin = "bad.yaml") {
  RuleSetBuilder b;
  auto s = b.add_text(yaml, origin);
  return s ? std::string() : s.error().message + " | hint: " + s.error().hint;
}

// Evaluates events in order and returns the names of the rules that alerted.
inline std::vector<std::string> fire(Engine& e, const std::vector<model::Event>& evs) {
  std::vector<model::Alert> out;
  for (const auto& ev : evs) e.evaluate(ev, out);
  std::vector<std::string> names;
  for (const auto& a : out) names.push_back(a.rule);
  return names;
}

inline EngineOptions no_limits() {
  EngineOptions o;
  o.dedup_window_ns = 0;
  o.rate_limit_per_minute = 0;
  o.host = "testhost";
  o.self_pid = 777;
  return o;
}

}  // namespace privwatch::detect::testing
