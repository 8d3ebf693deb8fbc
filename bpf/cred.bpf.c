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

static __always_inline int cred__save_entry(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pw_creds *slot =
		bpf_task_storage_get(&cred_entry, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (slot)
		cred__read(slot, task->cred);
	return 0;
}

#define PW_CRED_ENTRY(name)                                               \
	SEC("tracepoint/syscalls/sys_enter_" #name)                       \
	int sys_enter_##name(void *ctx) { return cred__save_entry(); }

PW_CRED_ENTRY(setuid)
PW_CRED_ENTRY(setgid)
PW_CRED_ENTRY(setreuid)
PW_CRED_ENTRY(setregid)
PW_CRED_ENTRY(setresuid)
PW_CRED_ENTRY(setresgid)
PW_CRED_ENTRY(setfsuid)
PW_CRED_ENTRY(setfsgid)
PW_CRED_ENTRY(setgroups)
PW_CRED_ENTRY(capset)

SEC("tracepoint")
int family_cred(struct pw_sys_exit_ctx *ctx)
{
	long ret = ctx->ret;
	struct sc_args a;
	struct task_struct *task = bpf_get_current_task_btf();

	if (sc_args__read(ctx, task, &a))
		return 0;
	subject__invalidate(task);
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
		/* [count, first requested gid] */
		__u32 g = (__u32)-1;
		if ((int)a.a[0] > 0)
			bpf_probe_read_user(&g, sizeof(g), (void *)a.a[1]);
		e->arg[0] = (int)a.a[0];
		e->arg[1] = g;
		e->arg[2] = 0;
	} else if (a.nr == PW_NR_capset) {
		/* [effective, permitted, inheritable] requested (low 32 bits) */
		__u32 data[3] = {};
		bpf_probe_read_user(data, sizeof(data), (void *)a.a[1]);
		e->arg[0] = data[0];
		e->arg[1] = data[1];
		e->arg[2] = data[2];
	}
	struct pw_creds *before = bpf_task_storage_get(&cred_entry, task, 0, 0);
	if (before) {
		e->before = *before;
		e->before_valid = 1;
		bpf_task_storage_delete(&cred_entry, task);
	} else {
		__builtin_memset(&e->before, 0, sizeof(e->before));
		e->before_valid = 0;
	}
	e->_pad = 0;
	cred__read(&e->after, task->cred);
	rec__submit(rec, sizeof(*e), PW_EV_CRED);
	return 0;
}
