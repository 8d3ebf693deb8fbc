/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Credential family: setuid/setgid families, setgroups, capset — always captured,
 * with the credentials before (saved at entry) and after the call. */
#include "common.bpf.h"
#include "syscalls.h"

static __always_inline void cred__read(struct pw_creds *c, const struct cred *cred)
{
	c->uid = cred->uid.val;
	c->euid = cred->euid.val;
	c->suid = cred->suid.val;
	c->fsuid = cred->fsuid.val;
	c->gid = cred->gid.val;
	c->egid = cred->egid.val;
	c->sgid = cred->sgid.val;
	c->fsgid = cred->fsgid.val;
	c->cap_effective = cred->cap_effective.val;
	c->cap_permitted = cred->cap_permitted.val;
}

SEC("raw_tp/sys_enter")
int sys_enter_cred(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pw_creds c;

	cred__read(&c, task->cred);
	bpf_map_update_elem(&cred_entry, &tid, &c, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int sys_exit_cred(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = ctx->args[1];
	struct sc_args a;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (sc_args__read(ctx, &a))
		return 0;
	subject__invalidate();
	struct task_struct *task = bpf_get_current_task_btf();
	__u8 *rec = rec__scratch();
	if (!rec) {
		counter__inc(PW_EV_CRED, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	struct pw_cred *e = (void *)rec;

	rec__header(&e->hdr, PW_EV_CRED, a.nr, task);
	if (subject__monitored(task))
		e->hdr.flags |= PW_F_MONITORED;
	e->result = ret;
	e->arg[0] = a.a[0];
	e->arg[1] = a.a[1];
	e->arg[2] = a.a[2];
	if (a.nr == PW_NR_setgroups) {
		/* arg[1]: first requested group, if any */
		__u32 g = (__u32)-1;
		if (a.a[0] > 0)
			bpf_probe_read_user(&g, sizeof(g), (void *)a.a[1]);
		e->arg[1] = g;
	} else if (a.nr == PW_NR_capset) {
		/* arg[1], arg[2]: requested effective and permitted (low 32 bits) */
		__u32 data[3] = {};
		bpf_probe_read_user(data, sizeof(data), (void *)a.a[1]);
		e->arg[1] = data[0];
		e->arg[2] = data[1];
	}
	struct pw_creds *before = bpf_map_lookup_elem(&cred_entry, &tid);
	if (before) {
		e->before = *before;
		e->before_valid = 1;
		bpf_map_delete_elem(&cred_entry, &tid);
	} else {
		__builtin_memset(&e->before, 0, sizeof(e->before));
		e->before_valid = 0;
	}
	e->_pad = 0;
	cred__read(&e->after, task->cred);
	rec__submit(rec, sizeof(*e), PW_EV_CRED);
	return 0;
}
