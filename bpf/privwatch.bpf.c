/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * privwatch kernel programs: one object, one skeleton.
 *
 * Each hook family lives in its own file; they are compiled as one unit so that all
 * share the maps and the read-only configuration in common.bpf.h without a BPF
 * static-linking step.
 *
 * Syscalls are observed at exit through the sys_exit BTF tracepoint, whose program
 * only reads the syscall number and tail-calls into the family program registered
 * for it: an unobserved syscall costs one failed tail call. Only the credential
 * syscalls also need their entry (the credentials before the change): those use the
 * per-syscall tracepoints, which cost nothing for other syscalls.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "process.bpf.c"
#include "file.bpf.c"
#include "net.bpf.c"
#include "cred.bpf.c"
#include "tamper.bpf.c"

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	bpf_tail_call(ctx, &sys_exit_progs, (__u32)regs->orig_ax);
	return 0;
}
