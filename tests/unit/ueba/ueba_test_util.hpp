// Event builders for the baseline tests.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "model/event.hpp"

namespace privwatch::ueba::testing {

inline constexpr uint64_t kSec = 1'000'000'000ull;
inline constexpr uint64_t kDay = 86400 * kSec;
inline constexpr uint64_t kT0 = 1767571200ull * kSec;  // Mon 2026-01-05 00:00 UTC

struct Who {
  std::string user = "alice";
  std::vector<std::string> roles = {"dba"};
  std::string host = "db-1";
  std::string cluster = "db-servers";
  std::string client_ip = "10.8.1.20";
};

inline model::Event exec_event(const Who& w, uint64_t t, const std::string& path,
                               std::vector<std::string> args = {},
                               const std::string& parent = "/usr/bin/bash") {
  model::Event ev;
  ev.kind = model::EventKind::kExec;
  ev.wall_time_ns = t;
  ev.ts_ns = t;
  model::ExecData x;
  x.exe_path = path;
  x.args.push_back(path.substr(path.rfind('/') + 1));
  for (auto& a : args) x.args.push_back(std::move(a));
  ev.data = std::move(x);
  ev.exe = path;
  ev.parent_exe = parent;
  ev.user_name = w.user;
  ev.attr.human = w.user;
  ev.attr.roles = w.roles;
  ev.attr.host = w.host;
  ev.attr.cluster = w.cluster;
  auto s = std::make_shared<model::Session>();
  s->id = "s-" + w.user;
  s->interactive = true;
  s->client_ip = w.client_ip;
  ev.attr.session = s;
  return ev;
}

inline model::Event connect_event(const Who& w, uint64_t t, const std::string& ip, uint16_t port,
                                  const std::string& exe) {
  model::Event ev = exec_event(w, t, exe);
  ev.kind = model::EventKind::kNet;
  model::NetData n;
  n.op = model::NetOp::kConnect;
  n.family = AF_INET;
  inet_pton(AF_INET, ip.c_str(), n.remote_addr.data());
  n.remote_port = port;
  ev.data = n;
  return ev;
}

}  // namespace privwatch::ueba::testing
