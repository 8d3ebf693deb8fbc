#include "respond/responder.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "util/log.hpp"

namespace privwatch::respond {

namespace {

constexpr size_t kMaxQueued = 64;
constexpr const char* kAgentActor = "privwatch-agent";

bool prefix_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                  unsigned bits) {
  for (unsigned i = 0; i < 16 && bits > 0; ++i) {
    const unsigned take = bits >= 8 ? 8 : bits;
    const uint8_t mask = static_cast<uint8_t>(0xff00u >> take);
    if ((a[i] & mask) != (b[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

bool connect_matches(const config::KillEntry& k, const model::NetData& n) {
  if (!k.connect || (n.family != AF_INET && n.family != AF_INET6)) return false;
  if (k.port != 0 && k.port != n.remote_port) return false;
  if (k.family == 0) return true;
  uint16_t family = n.family;
  std::array<uint8_t, 16> addr = n.remote_addr;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == AF_INET6 && std::memcmp(addr.data(), kMapped, 12) == 0) {
    family = AF_INET;  // ::ffff:a.b.c.d is an IPv4 destination (as the kernel matches it)
    addr = {addr[12], addr[13], addr[14], addr[15]};
  }
  return k.family == family && prefix_equal(k.addr, addr, k.prefix_bits);
}

ActuatorOptions actuator_options(const config::RespondConfig& cfg, const std::string& host,
                                 bool dry_run) {
  ActuatorOptions o;
  o.dry_run = dry_run;
  o.max_rounds = cfg.max_rounds;
  o.warn_message = cfg.warn_message;
  o.host = host;
  o.safety.self_pids = {static_cast<uint32_t>(::getpid())};
  o.safety.self_exe = self_exe();
  o.safety.protected_processes = cfg.protected_processes;
  return o;
}

}  // namespace

std::string self_exe() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::optional<AlertResponse> parse_alert_response(const std::string& details_json) {
  if (details_json.empty() || details_json.find("\"response\"") == std::string::npos) {
    return std::nullopt;
  }
  const auto j = nlohmann::json::parse(details_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("response")) return std::nullopt;
  AlertResponse r;
  // Two shapes: the rule engine's {"response": {"actions": [...], "mode": "..."}} and the
  // flat {"response": [...], "mode": "..."} (docs/response.md).
  const nlohmann::json* resp = &j["response"];
  const nlohmann::json* mode = j.contains("mode") ? &j["mode"] : nullptr;
  if (resp->is_object()) {
    mode = resp->contains("mode") ? &(*resp)["mode"] : nullptr;
    if (!resp->contains("actions")) {
      r.problems.push_back("details.response has no \"actions\" list");
      return r;
    }
    resp = &(*resp)["actions"];
  }
  if (resp->is_array() && resp->empty()) return std::nullopt;  // a rule without a response
  if (!resp->is_array()) {
    r.problems.push_back("details.response is not an array of action names");
  } else {
    for (const auto& item : *resp) {
      model::ActionType t{};
      if (!item.is_string() || !model::parse_action_type(item.get<std::string>(), t)) {
        r.problems.push_back(
            fmt::format("unknown response action {} (known: warn, freeze, thaw, "
                        "terminate, kill)",
                        item.dump()));
        continue;
      }
      r.actions.push_back(t);
    }
  }
  if (mode != nullptr) {
    const auto& m = *mode;
    if (m == "enforce") {
      r.enforce = true;
    } else if (m != "detect") {
      r.problems.push_back(fmt::format("unknown mode {} (detect or enforce)", m.dump()));
    }
  }
  if (j.contains("process") && j["process"].is_object()) {
    const auto& p = j["process"];
    if (p.contains("pid") && p["pid"].is_number_unsigned()) {
      model::ProcessKey k;
      k.pid = p["pid"].get<uint32_t>();
      if (p.contains("start_ticks") && p["start_ticks"].is_number_unsigned()) {
        k.start_ticks = p["start_ticks"].get<uint64_t>();
      }
      r.process = k;
    }
  }
  return r;
}

namespace {
// `audit_session`: the trigger's audit session id (set at a login by pam_loginuid).
bool acts_on_whole_session(model::EntryType t, uint32_t audit_session) {
  switch (t) {
    case model::EntryType::kSsh:
    case model::EntryType::kConsole:
    case model::EntryType::kTerminal:
    case model::EntryType::kContainer:
    case model::EntryType::kCron:
    case model::EntryType::kSu:
    case model::EntryType::kSudo:
      return true;
    case model::EntryType::kUnknown:  // an unrecognised entry: a login only if it set one
      return audit_session != model::kUnsetId;
    case model::EntryType::kSystemd:
    case model::EntryType::kInit:
      return false;
  }
  return false;
}
}  // namespace

TargetSpec alert_target(const model::Alert& alert, const model::Event* trigger,
                        const std::optional<model::ProcessKey>& process, bool kill) {
  TargetSpec spec;
  if (trigger != nullptr) {
    if (kill) {
      spec.roots.push_back(trigger->proc.key());
      return spec;
    }
    const auto& session = trigger->attr.session;
    // Only login-like sessions (a person's SSH, console, terminal, su/sudo shell, a container
    // exec, a cron job) are acted on as a whole. A session led by init (processes older than
    // any known entry), a systemd service or an unknown entry without an audit session (no
    // login) is a daemon's whole process tree: an automatic response there reaches the
    // offending process's subtree only (an operator can still act on the whole service with
    // `privwatch respond --session`).
    if (session && session->leader.pid > 1 &&
        acts_on_whole_session(session->entry_type, trigger->proc.sessionid)) {
      spec.audit_session = trigger->proc.sessionid;
      spec.roots.push_back(session->leader);
    } else {
      spec.roots.push_back(trigger->proc.key());
    }
    return spec;
  }
  if (process) {
    spec.roots.push_back(*process);
    if (kill) return spec;
  }
  model::ProcessKey leader;
  if (!alert.session_id.empty() && parse_session_id(alert.session_id, leader)) {
    if (!kill || spec.roots.empty()) spec.roots.push_back(leader);
  }
  return spec;
}

void add_known_from_table(TargetSpec& spec, const enrich::ProcessTable& table) {
  if (spec.empty()) return;
  auto is_root = [&](const model::ProcessKey& k) {
    for (const auto& r : spec.roots) {
      if (r.pid == k.pid && (r.start_ticks == 0 || r.start_ticks == k.start_ticks)) return true;
    }
    return false;
  };
  // Whether a process descends from a root, memoised so that the scan is O(table size): every
  // ancestor chain is walked once.
  std::unordered_map<model::ProcessKey, bool, enrich::ProcessKeyHash> below_root;
  std::vector<model::ProcessKey> path;
  auto descends = [&](const enrich::ProcessInfo& p) {
    path.clear();
    bool verdict = false;
    const enrich::ProcessInfo* cur = &p;
    for (int depth = 0; cur != nullptr && depth < 64; ++depth) {
      if (const auto it = below_root.find(cur->key); it != below_root.end()) {
        verdict = it->second;
        break;
      }
      path.push_back(cur->key);
      if (is_root(cur->key)) {
        verdict = true;
        break;
      }
      if (cur->parent.pid == 0 || cur->parent == cur->key) break;
      cur = table.find(cur->parent);
    }
    for (const auto& k : path) below_root.emplace(k, verdict);
    return verdict;
  };
  table.for_each([&](const enrich::ProcessInfo& p) {
    if (p.exited || is_root(p.key)) return;
    const bool in_session =
        spec.audit_session != model::kUnsetId && p.sessionid == spec.audit_session;
    if (in_session || (!spec.roots.empty() && descends(p))) spec.known.push_back(p.key);
  });
}

Responder::Responder(const config::RespondConfig& cfg, std::string host, Quarantine quarantine)
    : cfg_(cfg),
      host_(std::move(host)),
      quarantine_(std::move(quarantine)),
      live_(actuator_options(cfg, host_, false)),
      dry_(actuator_options(cfg, host_, true)) {
  for (const auto& k : cfg_.kill) {
    struct stat st {};
    ExeKey e{0, 0};
    if (!k.exec.empty() && ::stat(k.exec.c_str(), &st) == 0) {
      e = {static_cast<uint64_t>(st.st_ino),
           (major(st.st_dev) << 20) | (minor(st.st_dev) & 0xfffff)};
    }
    kill_exe_.push_back(e);
  }
  thread_ = std::thread([this] { worker(); });
}

Responder::~Responder() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    stats_.actions_dropped += queue_.size();
    queue_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Responder::on_alert(const model::Alert& alert, const model::Event* trigger,
                         const enrich::ProcessTable* table) {
  if (!cfg_.enabled) return;
  auto resp = parse_alert_response(alert.details_json);
  if (!resp) return;
  {
    std::lock_guard lk(mu_);
    ++stats_.alerts_with_response;
    if (!resp->problems.empty()) ++stats_.invalid_responses;
  }
  const std::string reason = fmt::format("alert {} ({}): {}", alert.id, alert.rule, alert.title);
  const bool dry = cfg_.dry_run || !resp->enforce;
  auto base_record = [&](model::ActionType t) {
    model::ResponseAction m;
    m.action = t;
    m.origin = model::ActionOrigin::kRule;
    m.alert_id = alert.id;
    m.rule = alert.rule;
    m.actor = kAgentActor;
    m.host = host_;
    m.session_id = alert.session_id;
    m.reason = reason;
    return m;
  };
  if (!resp->problems.empty()) {
    // The rule's response is malformed: record it (failed) so that it is seen and fixed.
    model::ResponseAction a = base_record(model::ActionType::kWarn);
    a.id = new_action_id();
    a.wall_ns = wall_now_ns();
    a.result = model::ActionResult::kFailed;
    for (const auto& p : resp->problems) a.errors.push_back("rule response: " + p);
    finish(std::move(a));
  }
  for (model::ActionType t : resp->actions) {
    const bool kill = t == model::ActionType::kKill;
    Job job;
    job.req.action = t;
    job.req.reason = reason;
    job.req.session_id = alert.session_id;
    job.req.target = alert_target(alert, trigger, resp->process, kill);
    if (table != nullptr) add_known_from_table(job.req.target, *table);
    job.meta = base_record(t);
    job.dry_run = dry;
    if (kill && !dry && trigger != nullptr && trigger->proc.sessionid != model::kUnsetId) {
      // From now on the kernel kills this session's monitored processes at exec / connect.
      const uint32_t sid = trigger->proc.sessionid;
      if (quarantined_.insert(sid).second && quarantine_) {
        if (auto s = quarantine_(sid); !s) {
          job.meta.errors.push_back(s.error().message);
          quarantined_.erase(sid);
        } else {
          job.quarantined = true;
          std::lock_guard lk(mu_);
          ++stats_.sessions_quarantined;
        }
      }
    }
    std::unique_lock lk(mu_);
    if (queue_.size() >= kMaxQueued) {
      ++stats_.actions_dropped;
      lk.unlock();
      model::ResponseAction a = std::move(job.meta);
      a.id = new_action_id();
      a.wall_ns = wall_now_ns();
      a.result = model::ActionResult::kFailed;
      a.errors.push_back(
          fmt::format("not carried out: {} actions were already waiting", kMaxQueued));
      finish(std::move(a));
      continue;
    }
    ++stats_.actions_queued;
    queue_.push_back(std::move(job));
    lk.unlock();
    cv_.notify_one();
  }
}

model::ResponseAction Responder::on_kernel_kill(const model::Event& ev) {
  model::ResponseAction a;
  a.id = new_action_id();
  a.wall_ns = ev.wall_time_ns != 0 ? ev.wall_time_ns : wall_now_ns();
  a.action = model::ActionType::kKill;
  a.origin = model::ActionOrigin::kKernel;
  a.result = model::ActionResult::kSuccess;
  a.actor = kAgentActor;
  a.host = host_;
  a.root_pid = ev.proc.pid;
  a.pids = {ev.proc.pid};
  a.audit_session = ev.proc.sessionid;
  if (ev.attr.session) a.session_id = ev.attr.session->id;
  std::string what;
  std::string entry;
  if (const auto* x = std::get_if<model::ExecData>(&ev.data)) {
    what = fmt::format("exec of {}", x->exe_path.empty() ? x->filename : x->exe_path);
    for (size_t i = 0; i < cfg_.kill.size() && i < kill_exe_.size(); ++i) {
      if (!cfg_.kill[i].exec.empty() && kill_exe_[i].ino == x->exe_ino &&
          kill_exe_[i].dev == x->exe_dev) {
        entry = cfg_.kill[i].name;
        break;
      }
    }
  } else if (const auto* n = std::get_if<model::NetData>(&ev.data)) {
    what = fmt::format("connect to {} port {}", n->remote_ip(), n->remote_port);
    for (const auto& k : cfg_.kill) {
      if (connect_matches(k, *n)) {
        entry = k.name;
        break;
      }
    }
  }
  if (!entry.empty()) {
    a.rule = "respond.kill:" + entry;
    a.reason = fmt::format("killed by the kernel at {}: respond.kill entry '{}'", what, entry);
  } else {
    a.rule = "respond.quarantine";
    a.reason = fmt::format("killed by the kernel at {}: audit session {} is quarantined", what,
                           ev.proc.sessionid);
  }
  {
    std::lock_guard lk(mu_);
    ++stats_.kernel_kills;
  }
  return a;
}

void Responder::finish(model::ResponseAction a) {
  std::lock_guard lk(mu_);
  done_.push_back(std::move(a));
}

void Responder::drain(const std::function<void(const model::ResponseAction&)>& fn) {
  std::vector<model::ResponseAction> out;
  {
    std::lock_guard lk(mu_);
    if (done_.empty()) return;
    out.swap(done_);
  }
  for (const auto& a : out) fn(a);
}

void Responder::wait_idle(int timeout_ms) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(timeout_ms),
               [this] { return queue_.empty() && !busy_; });
}

ResponderStats Responder::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void Responder::worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    model::ResponseAction a = (job.dry_run ? dry_ : live_).run(job.req);
    a.origin = job.meta.origin;
    a.alert_id = job.meta.alert_id;
    a.rule = job.meta.rule;
    a.actor = job.meta.actor;
    a.session_id = job.meta.session_id;
    for (auto& e : job.meta.errors) a.errors.push_back(std::move(e));
    if (job.quarantined && a.result == model::ActionResult::kFailed && a.pids.empty()) {
      // The session was quarantined before this kill ran: an offender that executed a program
      // or connected meanwhile was already killed by the kernel (its own kernel record).
      a.errors.push_back(
          "the offending process had exited before the kill: the kernel kills a quarantined "
          "session's processes at their next exec or connect (see the kernel kill record), or "
          "it ended on its own");
    }
    {
      std::lock_guard lk(mu_);
      done_.push_back(std::move(a));
      busy_ = false;
    }
    cv_.notify_all();
  }
}

}  // namespace privwatch::respond
