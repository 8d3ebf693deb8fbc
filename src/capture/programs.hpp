// Which skeleton programs play which role (shared by the capture and the doctor).
#pragma once

#include <bpf/libbpf.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "privwatch.skel.h"

namespace privwatch::capture {

// Family programs: tail-call targets of the per-syscall stubs, by enum pw_family index.
inline std::array<bpf_program*, 5> family_programs(privwatch_bpf* skel) {
  return {skel->progs.family_file, skel->progs.family_net, skel->progs.family_cred,
          skel->progs.family_tamper, skel->progs.family_exec};
}

// Terminal capture (session recording): loaded only with recording.enabled.
inline std::array<bpf_program*, 3> tty_programs(privwatch_bpf* skel) {
  return {skel->progs.handle_tty_write, skel->progs.handle_tty_read, skel->progs.handle_tty_ioctl};
}

// Programs on syscall tracepoints ("tracepoint/syscalls/<event>"): the exit stubs and the
// credential entry probes. Returns the tracepoint event name, or "" for other programs.
inline std::string syscall_tracepoint(const bpf_program* p) {
  constexpr const char* kPrefix = "tracepoint/syscalls/";
  const char* sec = bpf_program__section_name(p);
  if (sec == nullptr || std::strncmp(sec, kPrefix, std::strlen(kPrefix)) != 0) return {};
  return sec + std::strlen(kPrefix);
}

// tracefs directory holding the syscall events, or "" when tracefs is not mounted.
inline std::string tracefs_syscalls_dir() {
  for (const char* d :
       {"/sys/kernel/tracing/events/syscalls", "/sys/kernel/debug/tracing/events/syscalls"}) {
    if (access(d, F_OK) == 0) return d;
  }
  return {};
}

// Disables loading of syscall programs whose tracepoint this kernel lacks (for example
// init_module without CONFIG_MODULES, fchmodat2 before 6.6). Returns their event names.
inline std::vector<std::string> skip_missing_syscall_tracepoints(privwatch_bpf* skel) {
  std::vector<std::string> missing;
  const std::string dir = tracefs_syscalls_dir();
  bpf_program* p = nullptr;
  while ((p = bpf_object__next_program(skel->obj, p)) != nullptr) {
    const std::string tp = syscall_tracepoint(p);
    if (tp.empty()) continue;
    if (dir.empty() || access((dir + "/" + tp).c_str(), F_OK) != 0) {
      bpf_program__set_autoload(p, false);
      missing.push_back(tp);
    }
  }
  return missing;
}

}  // namespace privwatch::capture
