/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Tampering and kernel-surface family: ptrace, kernel modules, bpf(), mount, and signals
 * sent to the agent. Always captured (rare, and each is security relevant). */
#include "common.bpf.h"
#include "syscalls.h"

#define PW_PTRACE_TRACEME 0
#define PW_PTRACE_POKETEXT 4
#define PW_PTRACE_POKEDATA 5
#define PW_PTRACE_POKEUSR 6
#define PW_PTRACE_SETREGS 13
#define PW_PTRACE_ATTACH 16
#define PW_PTRACE_SEIZE 0x4206

#define PW_BPF_PROG_LOAD 5
#define PW_BPF_PROG_ATTACH 8
#define PW_BPF_RAW_TRACEPOINT_OPEN 17
#define PW_BPF_LINK_CREATE 28

static __always_inline bool ptrace__interesting(long req)
{
	return req == PW_PTRACE_TRACEME || req == PW_PTRACE_POKETEXT || req == PW_PTRACE_POKEDATA ||
	       req == PW_PTRACE_POKEUSR || req == PW_PTRACE_SETREGS || req == PW_PTRACE_ATTACH ||
	       req == PW_PTRACE_SEIZE;
}

SEC("tracepoint")
int family_tamper(struct pw_sys_exit_ctx *ctx)
{
	long ret = ctx->ret;
	struct sc_args a;
	__u32 type;

	struct task_struct *task = bpf_get_current_task_btf();

	if (sc_args__read(ctx, task, &a))
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	switch (a.nr) {
	case PW_NR_ptrace:
		if (!ptrace__interesting(a.a[0]) && (__u32)a.a[1] != cfg_agent_tgid)
			return 0;
		type = PW_EV_PTRACE;
		break;
	case PW_NR_init_module:
	case PW_NR_finit_module:
	case PW_NR_delete_module:
		type = PW_EV_MODULE;
		break;
	case PW_NR_bpf:
		if (tgid == cfg_agent_tgid)
			return 0;
		if (a.a[0] != PW_BPF_PROG_LOAD && a.a[0] != PW_BPF_PROG_ATTACH &&
		    a.a[0] != PW_BPF_RAW_TRACEPOINT_OPEN && a.a[0] != PW_BPF_LINK_CREATE)
			return 0;
		type = PW_EV_BPF;
		break;
	case PW_NR_mount:
	case PW_NR_umount2:
		type = PW_EV_MOUNT;
		break;
	case PW_NR_kill:
	case PW_NR_tkill:
		if (!cfg_agent_tgid || (__u32)a.a[0] != cfg_agent_tgid || a.a[1] == 0)
			return 0;
		type = PW_EV_SIGNAL;
		break;
	case PW_NR_tgkill:
		if (!cfg_agent_tgid || (__u32)a.a[0] != cfg_agent_tgid || a.a[2] == 0)
			return 0;
		type = PW_EV_SIGNAL;
		break;
	default:
		return 0;
	}

	struct pw_pathbuf *pb = pathbuf__get();
	__u8 *rec = rec__scratch();
	if (!rec || !pb) {
		counter__inc(type, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	struct pw_event_hdr *h = (void *)rec;
	__u32 tail;

	rec__header(h, type, a.nr, task);
	if (subject__monitored(task))
		h->flags |= PW_F_MONITORED;

	if (type == PW_EV_PTRACE) {
		struct pw_ptrace *e = (void *)rec;
		e->result = ret;
		e->request = a.a[0];
		e->target_pid = a.a[1];
		e->_pad = 0;
		tail = sizeof(*e);
	} else if (type == PW_EV_MODULE) {
		struct pw_module *e = (void *)rec;
		tail = sizeof(*e);
		e->result = ret;
		e->flags = 0;
		str__clear(&e->name);
		str__clear(&e->params);
		if (a.nr == PW_NR_init_module) {
			e->op = PW_MODULE_INIT;
			str__user(rec, &tail, &e->params, (void *)a.a[2], 1024);
		} else if (a.nr == PW_NR_finit_module) {
			e->op = PW_MODULE_FINIT;
			e->flags = a.a[2];
			struct file *file = fd__file(task, (int)a.a[0]);
			if (file)
				str__path(rec, &tail, &e->name, &file->f_path, pb);
			str__user(rec, &tail, &e->params, (void *)a.a[1], 1024);
		} else {
			e->op = PW_MODULE_DELETE;
			e->flags = a.a[1];
			str__user(rec, &tail, &e->name, (void *)a.a[0], 64);
		}
		rec__note_str(h, &e->name);
	} else if (type == PW_EV_BPF) {
		struct pw_bpf *e = (void *)rec;
		e->result = ret;
		e->cmd = a.a[0];
		e->prog_type = 0;
		__builtin_memset(e->prog_name, 0, sizeof(e->prog_name));
		if (a.a[0] == PW_BPF_PROG_LOAD && a.a[1]) {
			bpf_probe_read_user(&e->prog_type, sizeof(e->prog_type), (void *)a.a[1]);
			bpf_probe_read_user(e->prog_name, sizeof(e->prog_name),
					    (void *)a.a[1] + __builtin_offsetof(union bpf_attr, prog_name));
		}
		tail = sizeof(*e);
	} else if (type == PW_EV_MOUNT) {
		struct pw_mount *e = (void *)rec;
		tail = sizeof(*e);
		e->result = ret;
		e->_pad = 0;
		str__clear(&e->source);
		str__clear(&e->fstype);
		if (a.nr == PW_NR_mount) {
			e->op = PW_MOUNT_MOUNT;
			e->flags = a.a[3];
			str__user(rec, &tail, &e->source, (void *)a.a[0], 512);
			str__user(rec, &tail, &e->target, (void *)a.a[1], PW_PATH_MAX);
			str__user(rec, &tail, &e->fstype, (void *)a.a[2], 64);
		} else {
			e->op = PW_MOUNT_UMOUNT;
			e->flags = a.a[1];
			str__user(rec, &tail, &e->target, (void *)a.a[0], PW_PATH_MAX);
		}
		rec__note_str(h, &e->target);
	} else {
		struct pw_signal *e = (void *)rec;
		e->result = ret;
		e->target_pid = a.a[0];
		e->sig = a.nr == PW_NR_tgkill ? a.a[2] : a.a[1];
		tail = sizeof(*e);
	}
	rec__count_flags(h);
	rec__submit(rec, tail, type);
	return 0;
}
