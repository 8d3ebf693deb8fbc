#include "capture/capture.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>

#include "capture/libbpf_log.hpp"
#include "capture/programs.hpp"
#include "privwatch.skel.h"
#include "util/log.hpp"

namespace privwatch::capture {

namespace {

constexpr long kCgroup2SuperMagic = 0x63677270;

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

uint32_t parse_kernel_version(const char* release) {
  unsigned major = 0, minor = 0;
  if (std::sscanf(release, "%u.%u", &major, &minor) != 2) return 0;
  return major * 1000 + minor;
}

bool has_capabilities() {
  if (geteuid() == 0) return true;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      const uint64_t caps = std::stoull(line.substr(7), nullptr, 16);
      const bool sys_admin = caps & (1ull << 21);
      const bool bpf_perfmon = (caps & (1ull << 39)) && (caps & (1ull << 38));
      return sys_admin || bpf_perfmon;
    }
  }
  return false;
}

// Tracepoints attached through perf events need tracefs; mount it where the host did not.
Status ensure_tracefs() {
  if (access("/sys/kernel/tracing/events/syscalls", F_OK) == 0) return {};
  if (access("/sys/kernel/debug/tracing/events/syscalls", F_OK) == 0) return {};
  if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
    return Error{ErrorKind::kUnsupported,
                 "tracefs is not mounted and mounting it at /sys/kernel/tracing failed: " +
                     errno_text(errno),
                 "mount it (`mount -t tracefs nodev /sys/kernel/tracing`); privwatch observes "
                 "syscalls through their tracepoints"};
  }
  log::info("mounted tracefs at /sys/kernel/tracing");
  return {};
}

// One pass over the ring: hands records to the handler and stops after kPassMax records or
// at the first record written after the pass began (`stop_pos`, a producer position),
// whichever comes first. Without the bound, libbpf keeps consuming for as long as the kernel
// keeps producing, and a process opening files in a loop as fast as the agent consumes them
// would keep the agent's loop (flushes, stats, timers, SIGTERM) from running for seconds.
constexpr int kPassMax = 1024;

struct RingPass {
  RecordHandler* handler = nullptr;
  uint64_t stop_pos = UINT64_MAX;
  int max = kPassMax;
  int handled = 0;
  bool stopped = false;  // records may be pending: the next poll does not wait
};

// The consumer position is published to the kernel every kPublishEvery records and at the end
// of a pass, not after every record as libbpf's ring_buffer does: the kernel reads it at every
// reserve, and a position rewritten by the other CPU for every record costs the producing
// program a cache miss on most records (bench/RESULTS.md §1, "Open path"). The space it holds
// back from the producer is at most kPublishEvery records (~16 KiB of a 16 MiB ring).
constexpr int kPublishEvery = 64;

}  // namespace

Status check_requirements() {
  if (!has_capabilities()) {
    return Error{ErrorKind::kPermission,
                 "privwatch agent needs root (or CAP_BPF + CAP_PERFMON): it loads eBPF programs",
                 "run it with sudo, as the systemd unit (deploy/privwatch.service), or in the "
                 "privileged DaemonSet"};
  }
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    return Error{
        ErrorKind::kUnsupported,
        "this kernel exposes no BTF at /sys/kernel/btf/vmlinux (" + errno_text(errno) + ")",
        "privwatch needs a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, "
        "Ubuntu 20.10+, RHEL 8.2+ and most distribution kernels have it)"};
  }
  struct utsname u {};
  uname(&u);
  if (parse_kernel_version(u.release) < 5017) {
    return Error{ErrorKind::kUnsupported,
                 std::string("kernel ") + u.release + " is too old: privwatch needs 5.17 or newer",
                 "upgrade the kernel (bpf_loop and BTF tracepoints are required)"};
  }
  return {};
}

struct Capture::Impl {
  privwatch_bpf* skel = nullptr;
  RingPass pass;
  uint64_t ring_bytes = 0;
  // The ring buffer, consumed directly (the kernel's layout, as libbpf's ring_buffer reads it):
  // the consumer page (read-write: the consumer position), then the producer page followed by
  // the data pages mapped twice, so that a record that wraps around reads contiguously.
  void* cons_page = MAP_FAILED;
  void* prod_page = MAP_FAILED;
  size_t prod_map_size = 0;
  const uint8_t* data = nullptr;
  uint64_t mask = 0;
  int epoll_fd = -1;
  size_t page_size = 0;
  int ncpus = 1;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (cons_page != MAP_FAILED) munmap(cons_page, page_size);
    if (prod_page != MAP_FAILED) munmap(prod_page, prod_map_size);
    if (epoll_fd >= 0) close(epoll_fd);
    if (skel != nullptr) privwatch_bpf__destroy(skel);  // detaches links, closes fds
  }
};

Capture::Capture(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Capture::~Capture() = default;

namespace {

Result<std::vector<uint64_t>> resolve_cgroups(const std::vector<std::string>& paths) {
  std::vector<uint64_t> ids;
  for (const auto& p : paths) {
    struct statfs fs {};
    struct stat st {};
    if (statfs(p.c_str(), &fs) != 0 || stat(p.c_str(), &st) != 0) {
      return Error{ErrorKind::kInvalidArgument,
                   "monitor.cgroups: cannot read '" + p + "': " + errno_text(errno),
                   "give the path of an existing cgroup v2 directory (e.g. "
                   "/sys/fs/cgroup/kubepods.slice)"};
    }
    if (fs.f_type != kCgroup2SuperMagic) {
      return Error{ErrorKind::kInvalidArgument,
                   "monitor.cgroups: '" + p + "' is not on a cgroup v2 (unified) hierarchy",
                   "use the path under the cgroup2 mount (see `mount -t cgroup2`)"};
    }
    ids.push_back(st.st_ino);
  }
  return ids;
}

Status fill_subjects(int fd, const config::MonitorConfig& m, const std::vector<uint64_t>& cgroups) {
  auto add = [fd](uint32_t kind, uint64_t value) -> Status {
    pw_subject_key key{};
    key.kind = kind;
    key.value = value;
    const uint8_t one = 1;
    if (bpf_map_update_elem(fd, &key, &one, BPF_ANY) != 0) {
      return make_error(ErrorKind::kInvalidArgument,
                        "too many monitored subjects (the kernel filter holds 4096): {}",
                        errno_text(errno));
    }
    return {};
  };
  for (uint32_t v : m.uids)
    if (auto s = add(PW_SUBJ_UID, v); !s) return s;
  for (uint32_t v : m.gids)
    if (auto s = add(PW_SUBJ_GID, v); !s) return s;
  for (uint32_t v : m.loginuids)
    if (auto s = add(PW_SUBJ_LOGINUID, v); !s) return s;
  for (uint32_t v : m.sessions)
    if (auto s = add(PW_SUBJ_SESSION, v); !s) return s;
  for (uint64_t v : cgroups)
    if (auto s = add(PW_SUBJ_CGROUP, v); !s) return s;
  return {};
}

Status fill_sensitive(int fd, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    pw_sensitive_key key{};
    const size_t n = std::min(p.size(), sizeof(key.path));
    key.prefixlen = static_cast<uint32_t>(n * 8);
    std::memcpy(key.path, p.data(), n);
    const uint8_t one = 1;
    if (bpf_map_update_elem(fd, &key, &one, BPF_ANY) != 0) {
      return make_error(ErrorKind::kInvalidArgument,
                        "sensitive_paths: cannot add '{}' (the kernel filter holds 256): {}", p,
                        errno_text(errno));
    }
  }
  return {};
}

uint32_t kernel_dev(dev_t d) { return (major(d) << 20) | (minor(d) & 0xfffff); }

// respond.kill → the kill maps; returns the PW_KILL_* bits of the maps that hold entries.
Result<uint32_t> fill_kill(int exe_fd, int net_fd, const std::vector<config::KillEntry>& entries) {
  uint32_t armed = 0;
  for (uint32_t i = 0; i < entries.size(); ++i) {
    const config::KillEntry& k = entries[i];
    const uint32_t value = i + 1;
    if (!k.exec.empty()) {
      struct stat st {};
      if (::stat(k.exec.c_str(), &st) != 0) {
        return Error{
            ErrorKind::kInvalidArgument,
            fmt::format("respond.kill '{}': cannot stat {}: {}", k.name, k.exec, errno_text(errno)),
            "fix the path or remove the entry"};
      }
      pw_kill_exe_key key{};
      key.ino = st.st_ino;
      key.dev = kernel_dev(st.st_dev);
      if (bpf_map_update_elem(exe_fd, &key, &value, BPF_ANY) != 0) {
        return make_error(ErrorKind::kInvalidArgument,
                          "respond.kill: too many exec entries (the kernel map holds 256): {}",
                          errno_text(errno));
      }
      armed |= PW_KILL_EXE;
      continue;
    }
    for (uint16_t fam : {uint16_t{AF_INET}, uint16_t{AF_INET6}}) {
      if (k.family != 0 && k.family != fam) continue;
      pw_kill_net_key key{};
      key.family = fam;
      key.port = k.port;
      key.prefixlen = 32 + (k.family == 0 ? 0 : k.prefix_bits);
      std::memcpy(key.addr, k.addr.data(), sizeof(key.addr));
      if (bpf_map_update_elem(net_fd, &key, &value, BPF_ANY) != 0) {
        return make_error(ErrorKind::kInvalidArgument,
                          "respond.kill: too many connect entries (the kernel map holds 512): {}",
                          errno_text(errno));
      }
    }
    armed |= PW_KILL_NET;
  }
  return armed;
}

Error load_error(const char* what, int err) {
  return Error{ErrorKind::kUnsupported,
               fmt::format("{} failed: {}\n{}", what, errno_text(err), libbpf_log_tail(40)),
               "run `privwatch doctor` for a full report of what this kernel supports"};
}

}  // namespace

Result<std::unique_ptr<Capture>> Capture::start(const config::Config& cfg, RecordHandler& handler) {
  if (auto s = check_requirements(); !s) return s.error();
  install_libbpf_log();

  auto cgroups = resolve_cgroups(cfg.monitor.cgroups);
  if (!cgroups) return cgroups.error();

  // Syscall tracepoints are attached through tracefs.
  if (auto s = ensure_tracefs(); !s) return s.error();

  auto impl = std::make_unique<Impl>();
  impl->skel = privwatch_bpf__open();
  if (impl->skel == nullptr) return load_error("opening the privwatch BPF object", errno);
  auto* skel = impl->skel;

  if (skel->rodata->pw_schema_version != PRIVWATCH_EVENTS_SCHEMA_VERSION) {
    return make_error(ErrorKind::kCorrupt,
                      "BPF object has event schema version {}, this agent understands {}",
                      skel->rodata->pw_schema_version, PRIVWATCH_EVENTS_SCHEMA_VERSION);
  }
  const auto& m = cfg.monitor;
  skel->rodata->cfg_agent_tgid = static_cast<uint32_t>(getpid());
  skel->rodata->cfg_monitor_root = m.root;
  skel->rodata->cfg_monitor_all_logins = m.all_logins;
  skel->rodata->cfg_have_subject_filters = !m.uids.empty() || !m.gids.empty() ||
                                           !m.loginuids.empty() || !m.sessions.empty() ||
                                           !cgroups->empty();
  skel->rodata->cfg_have_cgroup_filters = !cgroups->empty();
  skel->rodata->cfg_have_sensitive = !cfg.sensitive_paths.empty();
  skel->rodata->cfg_max_arg_bytes = cfg.capture.max_arg_bytes;
  skel->rodata->cfg_wakeup_bytes = cfg.capture.wakeup_bytes;
  skel->rodata->cfg_tty_max_bytes = cfg.recording.max_event_bytes;
  skel->rodata->cfg_tty_session_max_bytes = static_cast<uint64_t>(cfg.recording.max_session_mb)
                                            << 20;

  impl->ring_bytes = static_cast<uint64_t>(cfg.capture.ring_buffer_mb) << 20;
  if (int err =
          bpf_map__set_max_entries(skel->maps.events, static_cast<uint32_t>(impl->ring_bytes));
      err != 0) {
    return load_error("sizing the ring buffer", err);
  }
  // Family programs are tail-call targets, not attached on their own. Syscall stubs whose
  // tracepoint this kernel lacks are not loaded (e.g. init_module without CONFIG_MODULES).
  for (bpf_program* p : family_programs(skel)) bpf_program__set_autoattach(p, false);
  // Terminal capture hooks every write()/read() of the host: loaded only when recording is on.
  if (!cfg.recording.enabled) {
    for (bpf_program* p : tty_programs(skel)) bpf_program__set_autoload(p, false);
  }
  const auto missing = skip_missing_syscall_tracepoints(skel);
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += " " + m;
    log::info("syscall tracepoints absent on this kernel, not observed:{}", names);
  }
  if (int err = privwatch_bpf__load(skel); err != 0) {
    return load_error("loading the privwatch BPF programs (verifier)", err);
  }

  if (auto s = fill_subjects(bpf_map__fd(skel->maps.subjects), m, *cgroups); !s) return s.error();
  if (auto s = fill_sensitive(bpf_map__fd(skel->maps.sensitive), cfg.sensitive_paths); !s) {
    return s.error();
  }
  auto armed = fill_kill(bpf_map__fd(skel->maps.kill_exe), bpf_map__fd(skel->maps.kill_net),
                         cfg.respond.kill);
  if (!armed) return armed.error();
  // respond.dry_run: the entries are loaded (and checked) but the kernel acts on none.
  skel->bss->pw_kill_armed = cfg.respond.dry_run ? 0 : *armed;
  if (*armed != 0) {
    log::info("respond.kill: {} in-kernel kill entries {}", cfg.respond.kill.size(),
              cfg.respond.dry_run ? "loaded but NOT armed (respond.dry_run)" : "armed");
  }
  const int families_fd = bpf_map__fd(skel->maps.families);
  const auto fams = family_programs(skel);
  for (uint32_t i = 0; i < fams.size(); ++i) {
    const int prog_fd = bpf_program__fd(fams[i]);
    if (bpf_map_update_elem(families_fd, &i, &prog_fd, BPF_ANY) != 0) {
      return make_error(ErrorKind::kInternal, "registering the {} program: {}",
                        bpf_program__name(fams[i]), errno_text(errno));
    }
  }

  if (int err = privwatch_bpf__attach(skel); err != 0) {
    return load_error("attaching the privwatch tracepoints", err);
  }
  impl->pass.handler = &handler;
  impl->page_size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const int ring_fd = bpf_map__fd(skel->maps.events);
  const uint64_t ring_size = bpf_map__max_entries(skel->maps.events);
  impl->mask = ring_size - 1;
  impl->cons_page = mmap(nullptr, impl->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
  if (impl->cons_page == MAP_FAILED) return load_error("mapping the ring buffer", errno);
  impl->prod_map_size = impl->page_size + 2 * ring_size;
  impl->prod_page = mmap(nullptr, impl->prod_map_size, PROT_READ, MAP_SHARED, ring_fd,
                         static_cast<off_t>(impl->page_size));
  if (impl->prod_page == MAP_FAILED) return load_error("mapping the ring buffer", errno);
  impl->data = static_cast<const uint8_t*>(impl->prod_page) + impl->page_size;
  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (impl->epoll_fd < 0) return load_error("opening the ring buffer", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, ring_fd, &ev) != 0) {
    return load_error("opening the ring buffer", errno);
  }
  impl->ncpus = libbpf_num_possible_cpus();
  if (impl->ncpus <= 0) impl->ncpus = 1;
  return std::unique_ptr<Capture>(new Capture(std::move(impl)));
}

void Capture::begin_pass(int max) {
  RingPass& p = impl_->pass;
  p.max = max;
  p.handled = 0;
  p.stopped = false;
  p.stop_pos = __atomic_load_n(static_cast<const uint64_t*>(impl_->prod_page), __ATOMIC_ACQUIRE);
}

void Capture::consume_pass() {
  RingPass& p = impl_->pass;
  auto* cons_ptr = static_cast<uint64_t*>(impl_->cons_page);
  const auto* prod_ptr = static_cast<const uint64_t*>(impl_->prod_page);
  uint64_t cons = __atomic_load_n(cons_ptr, __ATOMIC_RELAXED);  // only this thread writes it
  const uint64_t start = cons;
  uint64_t prod = __atomic_load_n(prod_ptr, __ATOMIC_ACQUIRE);
  int unpublished = 0;
  while (cons < p.stop_pos && p.handled < p.max) {
    if (cons >= prod) {
      prod = __atomic_load_n(prod_ptr, __ATOMIC_ACQUIRE);
      if (cons >= prod) break;
    }
    const uint8_t* hdr = impl_->data + (cons & impl_->mask);
    const uint32_t len = __atomic_load_n(reinterpret_cast<const uint32_t*>(hdr), __ATOMIC_ACQUIRE);
    if ((len & BPF_RINGBUF_BUSY_BIT) != 0) break;  // reserved, not yet committed
    const uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if ((len & BPF_RINGBUF_DISCARD_BIT) == 0) {
      p.handler->on_record({hdr + BPF_RINGBUF_HDR_SZ, size});
      ++p.handled;
    }
    cons += (static_cast<uint64_t>(size) + BPF_RINGBUF_HDR_SZ + 7) & ~uint64_t{7};
    if (++unpublished == kPublishEvery) {
      __atomic_store_n(cons_ptr, cons, __ATOMIC_RELEASE);
      unpublished = 0;
    }
  }
  if (cons != start) __atomic_store_n(cons_ptr, cons, __ATOMIC_RELEASE);
  // Stopped at the bound or at the pass's end position: records may remain.
  if (p.handled > 0 && (p.handled >= p.max || cons >= p.stop_pos)) p.stopped = true;
}

Result<int> Capture::poll(int timeout_ms) {
  // Wakeups are batched in the kernel: wait for one at most timeout_ms, then drain anyway.
  // A pass is bounded (RingPass), so a poll returns even while the kernel produces as fast as
  // the agent consumes; when the last pass stopped early, records are pending and the next
  // poll does not wait (no wakeup comes for them: records are submitted without one).
  int total = 0;
  if (timeout_ms == 0) {
    // A drain (the agent's last poll before it exits): everything written before this call,
    // however much; the producer position bounds it.
    begin_pass(INT_MAX);
    consume_pass();
    return impl_->pass.handled;
  }
  if (!impl_->pass.stopped) {
    begin_pass(kPassMax);
    epoll_event ev{};
    if (epoll_wait(impl_->epoll_fd, &ev, 1, timeout_ms) < 0 && errno != EINTR) {
      return make_error(ErrorKind::kIo, "ring buffer poll failed: {}", errno_text(errno));
    }
    consume_pass();
    total = impl_->pass.handled;
    if (impl_->pass.stopped) return total;
  }
  begin_pass(kPassMax);
  consume_pass();
  total += impl_->pass.handled;
  return total;
}

Counters Capture::read_counters() const {
  Counters c;
  const int fd = bpf_map__fd(impl_->skel->maps.counters);
  std::vector<uint64_t> per_cpu(static_cast<size_t>(impl_->ncpus));
  for (uint32_t type = 0; type < PW_EV_MAX; ++type) {
    for (uint32_t cause = 0; cause < PW_CNT_MAX; ++cause) {
      const uint32_t key = type * PW_CNT_MAX + cause;
      if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) != 0) continue;
      uint64_t sum = 0;
      for (uint64_t v : per_cpu) sum += v;
      c.v[type][cause] = sum;
    }
  }
  return c;
}

uint64_t Capture::ring_size_bytes() const { return impl_->ring_bytes; }

uint64_t Capture::ring_used_bytes() const {
  if (impl_->cons_page == MAP_FAILED || impl_->prod_page == MAP_FAILED) return 0;
  const uint64_t cons =
      __atomic_load_n(static_cast<const uint64_t*>(impl_->cons_page), __ATOMIC_ACQUIRE);
  const uint64_t prod =
      __atomic_load_n(static_cast<const uint64_t*>(impl_->prod_page), __ATOMIC_ACQUIRE);
  return prod > cons ? prod - cons : 0;
}

Status Capture::quarantine_session(uint32_t audit_session) {
  const uint32_t value = UINT32_MAX;  // not a respond.kill entry: a quarantined session
  if (bpf_map_update_elem(bpf_map__fd(impl_->skel->maps.kill_session), &audit_session, &value,
                          BPF_ANY) != 0) {
    return make_error(ErrorKind::kIo,
                      "cannot quarantine audit session {} in the kernel: {} (at most 1024 "
                      "sessions are held until the agent restarts)",
                      audit_session, errno_text(errno));
  }
  __atomic_or_fetch(&impl_->skel->bss->pw_kill_armed, PW_KILL_SESSION, __ATOMIC_SEQ_CST);
  return {};
}

}  // namespace privwatch::capture
