// Which skeleton programs play which role (shared by the capture and the doctor).
#pragma once

#include <array>

#include "privwatch.skel.h"

namespace privwatch::capture {

// Tail-call targets of the sys_exit dispatcher, registered by syscall number.
inline std::array<bpf_program*, 5> family_programs(privwatch_bpf* skel) {
  return {skel->progs.sys_exit_file, skel->progs.sys_exit_net, skel->progs.sys_exit_cred,
          skel->progs.sys_exit_tamper, skel->progs.sys_exit_exec};
}

// Per-syscall entry tracepoints that record the credentials before a change.
inline std::array<bpf_program*, 10> cred_entry_programs(privwatch_bpf* skel) {
  return {skel->progs.sys_enter_setuid,   skel->progs.sys_enter_setgid,
          skel->progs.sys_enter_setreuid, skel->progs.sys_enter_setregid,
          skel->progs.sys_enter_setresuid, skel->progs.sys_enter_setresgid,
          skel->progs.sys_enter_setfsuid, skel->progs.sys_enter_setfsgid,
          skel->progs.sys_enter_setgroups, skel->progs.sys_enter_capset};
}

}  // namespace privwatch::capture
