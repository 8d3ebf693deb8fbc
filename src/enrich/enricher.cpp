#include "enrich/enricher.hpp"

#include <ctime>
#include <utility>
#include <variant>

namespace privwatch::enrich {

namespace {

int64_t clock_ns(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000ll + ts.tv_nsec;
}

UserDirectoryOptions with_clock(UserDirectoryOptions opts, const uint64_t* now) {
  if (!opts.clock) opts.clock = [now] { return *now; };
  return opts;
}

}  // namespace

Enricher::Enricher(size_t max_processes, uint64_t exited_grace_ns, UserDirectoryOptions users)
    : table_(max_processes, exited_grace_ns), users_(with_clock(std::move(users), &now_ns_)) {
  // Both clocks read back to back; the pair's skew (tens of ns) is far below what matters.
  const int64_t real = clock_ns(CLOCK_REALTIME);
  const int64_t boot = clock_ns(CLOCK_BOOTTIME);
  boot_to_realtime_ns_ = real - boot;
}

Result<size_t> Enricher::seed(const std::string& proc_root) {
  Result<size_t> r = table_.seed_from_proc(proc_root);
  if (r) seeded_ += *r;
  return r;
}

void Enricher::set_sensitive_paths(std::vector<std::string> prefixes) {
  sensitive_ = std::move(prefixes);
}

bool Enricher::is_sensitive(std::string_view path) const {
  for (const auto& p : sensitive_) {
    if (path.size() >= p.size() && path.compare(0, p.size(), p) == 0) return true;
  }
  return false;
}

void Enricher::flag_sensitive(model::Event& ev) const {
  if (ev.kind != model::EventKind::kFile || sensitive_.empty()) return;
  const auto* f = std::get_if<model::FileData>(&ev.data);
  if (f == nullptr) return;
  if (is_sensitive(f->path) || (!f->target_path.empty() && is_sensitive(f->target_path))) {
    ev.flags |= model::kFlagSensitive;
  }
}

void Enricher::process(model::Event& ev) {
  ++events_;
  flag_sensitive(ev);
  if (ev.ts_ns > now_ns_) now_ns_ = ev.ts_ns;
  table_.apply(ev);

  const ProcessInfo* self = table_.find(ev.proc.key());
  const auto* exec =
      ev.kind == model::EventKind::kExec ? std::get_if<model::ExecData>(&ev.data) : nullptr;
  // A failed exec leaves the image as it was: the table's entry, like any other event.
  if (exec != nullptr && exec->result >= 0 && (exec->flags & model::kExecFailed) == 0) {
    ev.exe = exec->exe_path;
  } else if (self != nullptr) {
    ev.exe = self->exe;
  } else {
    ev.exe.clear();
  }

  if (const ProcessInfo* parent = table_.find(ev.proc.parent_key())) {
    ev.parent_exe = parent->exe;
    ev.parent_comm = parent->comm;
    ev.parent_args = parent->args;  // element-wise assign: reuses the event's capacity
  } else {
    ev.parent_exe.clear();
    ev.parent_comm.clear();
    ev.parent_args.clear();
  }

  // Each reference is copied before the next lookup (see UserDirectory::user_name).
  const model::ProcessContext& pc = ev.proc;
  ev.user_name = users_.user_name(pc.uid);
  if (pc.euid == pc.uid) {
    ev.effective_user_name = ev.user_name;
  } else {
    ev.effective_user_name = users_.user_name(pc.euid);
  }
  if (pc.loginuid == pc.uid) {
    ev.login_user_name = ev.user_name;
  } else {
    ev.login_user_name = users_.user_name(pc.loginuid);
  }
  ev.group_name = users_.group_name(pc.gid);

  ev.wall_time_ns = static_cast<uint64_t>(static_cast<int64_t>(ev.ts_ns) + boot_to_realtime_ns_);

  // Last: expiry may remove the entries read above. Runs on the latest event time seen, so
  // events slightly out of order across CPUs never trigger it.
  if (now_ns_ >= next_expire_ns_) {
    table_.expire(now_ns_);
    next_expire_ns_ = now_ns_ + kExpireIntervalNs;
  }
}

void Enricher::process_recorded(model::Event& ev) {
  ++events_;
  flag_sensitive(ev);
  if (ev.ts_ns > now_ns_) now_ns_ = ev.ts_ns;
  table_.apply(ev);
  if (ev.exe.empty()) {
    if (const ProcessInfo* self = table_.find(ev.proc.key())) ev.exe = self->exe;
  }
  if (ev.parent_exe.empty()) {
    if (const ProcessInfo* parent = table_.find(ev.proc.parent_key())) {
      ev.parent_exe = parent->exe;
      ev.parent_comm = parent->comm;
      ev.parent_args = parent->args;
    }
  }
  const model::ProcessContext& pc = ev.proc;
  if (ev.user_name.empty()) ev.user_name = users_.user_name(pc.uid);
  if (ev.effective_user_name.empty()) ev.effective_user_name = users_.user_name(pc.euid);
  if (ev.login_user_name.empty() && pc.loginuid != model::kUnsetId) {
    ev.login_user_name = users_.user_name(pc.loginuid);
  }
  if (ev.group_name.empty()) ev.group_name = users_.group_name(pc.gid);
  // A recording's time can advance by seconds per event (sparse history): expiry scans the whole
  // table, so it also waits for kRecordedExpireEvents events (max_entries still bounds it).
  if (now_ns_ >= next_expire_ns_ && events_ - expired_at_event_ >= kRecordedExpireEvents) {
    table_.expire(now_ns_);
    next_expire_ns_ = now_ns_ + kExpireIntervalNs;
    expired_at_event_ = events_;
  }
}

EnricherStats Enricher::stats() const {
  EnricherStats s;
  s.entries = table_.size();
  s.max_entries = table_.max_entries();
  s.evictions = table_.evictions();
  s.expired = table_.expired();
  s.seeded = seeded_;
  s.seed_vanished = table_.seed_vanished();
  s.events = events_;
  s.user_lookups = users_.lookups();
  return s;
}

}  // namespace privwatch::enrich
