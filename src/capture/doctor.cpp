#include "capture/doctor.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "capture/capture.hpp"
#include "capture/libbpf_log.hpp"
#include "capture/programs.hpp"
#include "privwatch.skel.h"

namespace privwatch::capture {

namespace {

using Level = Finding::Level;

Finding ok(std::string check, std::string detail) {
  return {Level::kOk, std::move(check), std::move(detail), {}};
}
Finding fail(std::string check, std::string detail, std::string fix) {
  return {Level::kFail, std::move(check), std::move(detail), std::move(fix)};
}
Finding warn(std::string check, std::string detail, std::string fix) {
  return {Level::kWarn, std::move(check), std::move(detail), std::move(fix)};
}

void check_kernel(std::vector<Finding>& out) {
  struct utsname u {};
  uname(&u);
  unsigned major = 0, minor = 0;
  std::sscanf(u.release, "%u.%u", &major, &minor);
  if (major * 1000 + minor >= 5017) {
    out.push_back(ok("kernel version", std::string(u.release) + " (5.17 or newer)"));
  } else {
    out.push_back(fail("kernel version", std::string(u.release) + " is older than 5.17",
                       "upgrade the kernel: privwatch needs bpf_loop and BTF tracepoints"));
  }
}

void check_privileges(std::vector<Finding>& out) {
  auto s = check_requirements();
  if (geteuid() == 0) {
    out.push_back(ok("privileges", "running as root"));
  } else if (s || s.error().kind != ErrorKind::kPermission) {
    out.push_back(ok("privileges", "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) present"));
  } else {
    out.push_back(fail("privileges", "not root and without CAP_BPF + CAP_PERFMON",
                       "run `sudo privwatch doctor` / `sudo privwatch agent`"));
  }
}

// Returns the vmlinux BTF (owned) or null.
btf* check_btf(std::vector<Finding>& out) {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    out.push_back(fail("kernel BTF", std::string("/sys/kernel/btf/vmlinux: ") + strerror(errno),
                       "use a kernel built with CONFIG_DEBUG_INFO_BTF=y"));
    return nullptr;
  }
  btf* b = btf__load_vmlinux_btf();
  if (b == nullptr) {
    out.push_back(fail("kernel BTF", std::string("cannot parse vmlinux BTF: ") + strerror(errno),
                       "the kernel's BTF is unreadable; check dmesg and the kernel build"));
    return nullptr;
  }
  out.push_back(
      ok("kernel BTF", "/sys/kernel/btf/vmlinux (" + std::to_string(btf__type_cnt(b)) + " types)"));
  return b;
}

void check_tracepoints(std::vector<Finding>& out, const btf* b) {
  // A raw/BTF tracepoint exists when the kernel's BTF has its btf_trace_<name> typedef.
  for (const char* tp : {"sched_process_exec", "sched_process_fork", "sched_process_exit"}) {
    std::string name = std::string("btf_trace_") + tp;
    const bool found =
        b != nullptr && btf__find_by_name_kind(b, name.c_str(), BTF_KIND_TYPEDEF) > 0;
    if (found) {
      out.push_back(ok(std::string("tracepoint ") + tp, "present"));
    } else {
      out.push_back(
          fail(std::string("tracepoint ") + tp, "not found in kernel BTF",
               "privwatch needs this tracepoint; use a kernel with CONFIG_FTRACE_SYSCALLS "
               "and scheduler tracepoints (all distribution kernels have them)"));
    }
  }
}

// Syscalls are observed through their tracepoints (tracefs). The agent mounts tracefs
// when it is missing.
void check_syscall_tracepoints(std::vector<Finding>& out) {
  std::string dir = tracefs_syscalls_dir();
  if (dir.empty()) {
    if (access("/sys/kernel/tracing", F_OK) == 0) {
      out.push_back(warn("syscall tracepoints (tracefs)",
                         "tracefs is not mounted; the agent mounts it at start",
                         "nothing to do when running as root; to mount it yourself: "
                         "`mount -t tracefs nodev /sys/kernel/tracing`"));
    } else {
      out.push_back(fail("syscall tracepoints (tracefs)", "this kernel has no tracefs",
                         "use a kernel with CONFIG_FTRACE_SYSCALLS and tracefs"));
    }
    return;
  }
  for (const char* tp : {"sys_exit_execve", "sys_exit_openat", "sys_exit_connect",
                         "sys_exit_setresuid", "sys_enter_setresuid"}) {
    if (access((dir + "/" + tp).c_str(), F_OK) == 0) {
      out.push_back(ok(std::string("tracepoint syscalls:") + tp, "present"));
    } else {
      out.push_back(fail(std::string("tracepoint syscalls:") + tp, "missing in " + dir,
                         "use a kernel built with CONFIG_FTRACE_SYSCALLS"));
    }
  }
  if (access((dir + "/sys_exit_finit_module").c_str(), F_OK) != 0) {
    out.push_back(warn("tracepoint syscalls:sys_exit_finit_module",
                       "absent (kernel without loadable module support)",
                       "nothing to do: module loading is impossible on this kernel"));
  }
}

void check_map_types(std::vector<Finding>& out) {
  struct {
    bpf_map_type type;
    const char* name;
  } const maps[] = {{BPF_MAP_TYPE_RINGBUF, "ring buffer"},
                    {BPF_MAP_TYPE_LPM_TRIE, "LPM trie"},
                    {BPF_MAP_TYPE_TASK_STORAGE, "task storage"},
                    {BPF_MAP_TYPE_PROG_ARRAY, "program array"},
                    {BPF_MAP_TYPE_PERCPU_ARRAY, "per-CPU array"}};
  for (const auto& m : maps) {
    int r = libbpf_probe_bpf_map_type(m.type, nullptr);
    if (r == 1) {
      out.push_back(ok(std::string("map type ") + m.name, "supported"));
    } else {
      out.push_back(fail(std::string("map type ") + m.name,
                         r == 0 ? "not supported by this kernel" : strerror(-r),
                         "upgrade to a kernel with BPF ring buffers (5.8+); 5.17+ recommended"));
    }
  }
}

void check_helpers(std::vector<Finding>& out) {
  struct {
    bpf_func_id id;
    const char* name;
  } const helpers[] = {
      {BPF_FUNC_loop, "bpf_loop"},
      {BPF_FUNC_ringbuf_output, "bpf_ringbuf_output"},
      {BPF_FUNC_ringbuf_query, "bpf_ringbuf_query"},
      {BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf"},
      {BPF_FUNC_task_pt_regs, "bpf_task_pt_regs"},
      {BPF_FUNC_task_storage_get, "bpf_task_storage_get"},
      {BPF_FUNC_get_current_ancestor_cgroup_id, "bpf_get_current_ancestor_cgroup_id"}};
  for (const auto& h : helpers) {
    // The syscall family programs are tracepoint programs.
    int r = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, h.id, nullptr);
    if (r == 1) {
      out.push_back(ok(std::string("helper ") + h.name, "available to tracepoint programs"));
    } else {
      out.push_back(fail(std::string("helper ") + h.name,
                         r == 0 ? "not available to tracepoint programs" : strerror(-r),
                         "upgrade the kernel (5.17 or newer)"));
    }
  }
  // Optional: not used by privwatch, reported so operators know what the host allows.
  int lsm = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, nullptr);
  if (lsm == 1) {
    out.push_back(ok("BPF LSM programs (optional)", "program type known to the kernel"));
  } else {
    out.push_back(warn("BPF LSM programs (optional)", "not available",
                       "none needed: privwatch builds on tracepoints only"));
  }
}

void check_load(std::vector<Finding>& out) {
  install_libbpf_log();
  clear_libbpf_log();
  privwatch_bpf* skel = privwatch_bpf__open();
  if (skel == nullptr) {
    out.push_back(fail("load privwatch programs", std::string("open: ") + strerror(errno),
                       "reinstall privwatch; the embedded BPF object is unreadable"));
    return;
  }
  for (bpf_program* p : family_programs(skel)) bpf_program__set_autoattach(p, false);
  (void)skip_missing_syscall_tracepoints(skel);
  int err = privwatch_bpf__load(skel);
  if (err == 0) {
    size_t progs = 0;
    bpf_program* p = nullptr;
    while ((p = bpf_object__next_program(skel->obj, p)) != nullptr)
      progs += bpf_program__autoload(p) ? 1 : 0;
    out.push_back(ok("load privwatch programs",
                     std::to_string(progs) + " programs accepted by the verifier"));
  } else {
    out.push_back(fail("load privwatch programs",
                       std::string("the kernel refused the programs: ") + strerror(-err) + "\n" +
                           libbpf_log_tail(25),
                       "report this with the output above; check `dmesg` and "
                       "kernel.unprivileged_bpf_disabled / lockdown settings"));
  }
  privwatch_bpf__destroy(skel);
}

}  // namespace

std::vector<Finding> run_doctor(const config::Config* cfg) {
  std::vector<Finding> out;
  check_kernel(out);
  check_privileges(out);
  btf* b = check_btf(out);
  check_tracepoints(out, b);
  btf__free(b);
  check_syscall_tracepoints(out);
  if (geteuid() == 0) {
    check_map_types(out);
    check_helpers(out);
    check_load(out);
  } else {
    out.push_back(warn("kernel feature probes", "skipped: probing BPF features needs root",
                       "run `sudo privwatch doctor` for the full report"));
  }
  if (cfg != nullptr) {
    out.push_back(ok("configuration", "valid: " + cfg->source_file));
  }
  return out;
}

}  // namespace privwatch::capture
