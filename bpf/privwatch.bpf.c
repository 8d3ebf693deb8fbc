/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * privwatch kernel programs: one object, one skeleton.
 *
 * Each hook family lives in its own file; they are compiled as one unit so that all
 * share the maps and the read-only configuration in common.bpf.h without a BPF
 * static-linking step.
 *
 * Syscalls are observed through two raw tracepoints (sys_enter, sys_exit) whose
 * programs only read the syscall number and tail-call into the family program
 * registered for it: an unobserved syscall costs one failed tail call.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "process.bpf.c"
#include "file.bpf.c"
#include "net.bpf.c"
#include "cred.bpf.c"
#include "tamper.bpf.c"

SEC("raw_tp/sys_exit")
int handle_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long nr = BPF_CORE_READ(regs, orig_ax);

	bpf_tail_call(ctx, &sys_exit_progs, (__u32)nr);
	return 0;
}

SEC("raw_tp/sys_enter")
int handle_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	bpf_tail_call(ctx, &sys_enter_progs, (__u32)ctx->args[1]);
	return 0;
}
