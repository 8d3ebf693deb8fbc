/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Shared maps, configuration, and helpers for all privwatch hook families. */
#ifndef PRIVWATCH_COMMON_BPF_H
#define PRIVWATCH_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "events.h"

#ifndef AT_FDCWD
#define AT_FDCWD -100
#endif
#define PW_O_ACCMODE 00000003
#define PW_O_WRONLY 00000001
#define PW_O_RDWR 00000002
#define PW_O_CREAT 00000100
#define PW_O_TRUNC 00001000
#define PW_FMODE_CREATED (1u << 20)
#define PW_S_ISUID 04000
#define PW_S_ISGID 02000
#define PW_AF_UNIX 1
#define PW_AF_INET 2
#define PW_AF_INET6 10
#define PW_SIGNAL_GROUP_EXIT 0x00000004
#define PW_NO_SYSCALL 0xffffffffu

/* Turn a kernel address obtained from a probe read into a typed (read-only, untrusted)
 * BTF pointer, so fields are read with plain loads instead of helper calls. The verifier
 * inlines the kfunc; loads are fault-protected. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define PW_CAST(type, ptr) ((type *)bpf_rdonly_cast((const void *)(ptr), bpf_core_type_id_kernel(type)))

/* ---- configuration: read-only data set by user space between open and load ---- */
const volatile __u32 pw_schema_version = PRIVWATCH_EVENTS_SCHEMA_VERSION;
const volatile __u32 cfg_agent_tgid = 0;
const volatile bool cfg_monitor_root = true;
const volatile bool cfg_monitor_all_logins = false;
const volatile bool cfg_have_subject_filters = false; /* entries in `subjects` */
const volatile bool cfg_have_cgroup_filters = false;
const volatile bool cfg_have_sensitive = false;       /* entries in `sensitive` */
const volatile __u32 cfg_max_arg_bytes = 4096;
const volatile __u64 cfg_wakeup_bytes = 256 * 1024;

/* ---- maps ---- */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* resized from capture.ring_buffer_mb */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_EV_MAX * PW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* 32 KiB: the largest per-CPU map value. Records use at most PW_TAIL_LIMIT + 8 KiB of it. */
struct pw_scratch {
	__u8 rec[PW_RECORD_MAX - 8];
	__u64 unchecked; /* bytes this CPU emitted since its last wakeup check (rec__wakeup_flags) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_scratch);
} scratch SEC(".maps");

struct pw_pathbuf {
	__u64 comp[PW_PATH_COMPONENTS]; /* dentries of a path being resolved (str__path) */
	/* str__path's loop state. Kept in map memory, not on the stack, so that the verifier does
	 * not track the values (it would explore every iteration separately: too many states). */
	__u32 n;   /* components remembered */
	__u32 len; /* bytes of "/name" for all of them (collect), bytes written (emit) */
	__u32 done; /* components written (emit) */
	__u32 _pad;
	struct pw_sensitive_key lpm;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_pathbuf);
} pathbuf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pw_subject_key);
	__type(value, __u8);
} subjects SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_sensitive_key);
	__type(value, __u8);
} sensitive SEC(".maps");

/* Monitoring verdict per task, used only when subject filters are configured (group
 * membership and ancestor cgroups are too costly to compute per syscall). Task-local
 * storage: no hashing, freed with the task, so a reused pid never inherits a verdict.
 * Cleared at exec and after credential changes. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} subject_cache SEC(".maps");

/* Credentials at syscall entry, for the before/after pair of credential events: task-local
 * like subject_cache (set at entry, taken and deleted at exit by the same thread). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pw_creds);
} cred_entry SEC(".maps");

/* ---- in-kernel enforcement (events.h: PW_KILL_*) ---- */
/* Which kill maps hold entries; written by user space at run time (sessions are added by the
 * responder), so it lives in .bss rather than in rodata. */
volatile __u32 pw_kill_armed = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct pw_kill_exe_key);
	__type(value, __u32);
} kill_exe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 512);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pw_kill_net_key);
	__type(value, __u32);
} kill_net SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* audit session id */
	__type(value, __u32);
} kill_session SEC(".maps");

/* Syscall families: each per-syscall exit tracepoint stub tail-calls into the program of
 * its family (index = enum pw_family), so the family code is verified once. */
enum pw_family {
	PW_FAM_FILE = 0,
	PW_FAM_NET = 1,
	PW_FAM_CRED = 2,
	PW_FAM_TAMPER = 3,
	PW_FAM_EXEC = 4,
	PW_FAM_MAX = 5,
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, PW_FAM_MAX);
	__type(key, __u32);
	__type(value, __u32);
} families SEC(".maps");

/* Record of a syscalls:sys_exit_<name> tracepoint (kernel struct syscall_trace_exit):
 * the syscall number is an int, unlike raw_syscalls:sys_exit's long. */
struct pw_sys_exit_ctx {
	__u64 ent; /* struct trace_entry */
	int nr;
	int _pad;
	long ret;
};

/* One stub per observed syscall: attached to syscalls:sys_exit_<name>, so syscalls that
 * privwatch does not observe cost nothing beyond the kernel's syscall-tracing path. */
#define PW_SYSCALL_EXIT(name, family)                                          \
	SEC("tracepoint/syscalls/sys_exit_" #name)                             \
	int sys_exit_##name(struct pw_sys_exit_ctx *ctx)              \
	{                                                                       \
		bpf_tail_call(ctx, &families, family);                          \
		return 0;                                                       \
	}

/* ---- counters ---- */
static __always_inline void counter__inc(__u32 type, __u32 cause)
{
	__u32 key = type * PW_CNT_MAX + cause;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += 1; /* per-CPU: no atomics needed */
}

/* ---- enforcement ---- */
/* Sends SIGKILL to the current process (never PID 1; the agent is never monitored) and
 * marks the record. Callers check pw_kill_armed and the subject first, so unmonitored
 * syscalls pay nothing here. */
static __always_inline void kill__now(struct task_struct *task, struct pw_event_hdr *h, __u32 type)
{
	if (task->tgid == 1)
		return;
	if (bpf_send_signal(9 /* SIGKILL */) == 0) {
		h->flags |= PW_F_KILLED;
		counter__inc(type, PW_CNT_KILLED);
	}
}

static __always_inline bool kill__session_match(struct task_struct *task, __u32 armed)
{
	__u32 sid = task->sessionid;

	if (!(armed & PW_KILL_SESSION) || sid == (__u32)-1)
		return false;
	return bpf_map_lookup_elem(&kill_session, &sid) != 0;
}

/* ---- subjects ---- */
static __always_inline bool subject__has(__u32 kind, __u64 value)
{
	struct pw_subject_key key = { .kind = kind, .value = value };

	return bpf_map_lookup_elem(&subjects, &key) != 0;
}

static __always_inline __u32 subject__compute(struct task_struct *task)
{
	const struct cred *cred = task->cred;

	if (task->tgid == cfg_agent_tgid) /* the agent's own file and socket activity */
		return 0;
	__u32 uid = cred->uid.val, euid = cred->euid.val;

	if (uid == 0 || euid == 0) {
		if (cfg_monitor_root)
			return 1;
	}
	__u32 loginuid = task->loginuid.val;
	if (cfg_monitor_all_logins && loginuid != (__u32)-1)
		return 1;
	if (!cfg_have_subject_filters)
		return 0;
	if (subject__has(PW_SUBJ_UID, uid) || subject__has(PW_SUBJ_UID, euid))
		return 1;
	if (loginuid != (__u32)-1 && subject__has(PW_SUBJ_LOGINUID, loginuid))
		return 1;
	if (subject__has(PW_SUBJ_SESSION, task->sessionid))
		return 1;
	if (subject__has(PW_SUBJ_GID, cred->gid.val) || subject__has(PW_SUBJ_GID, cred->egid.val))
		return 1;
	struct group_info *gi = cred->group_info;
	int ngroups = gi->ngroups;
	for (int i = 0; i < 32; i++) {
		if (i >= ngroups)
			break;
		kgid_t g;
		if (bpf_probe_read_kernel(&g, sizeof(g), &gi->gid[i]))
			break;
		if (subject__has(PW_SUBJ_GID, g.val))
			return 1;
	}
	if (cfg_have_cgroup_filters) {
		for (int level = 1; level < 16; level++) {
			__u64 id = bpf_get_current_ancestor_cgroup_id(level);
			if (id == 0)
				break;
			if (subject__has(PW_SUBJ_CGROUP, id))
				return 1;
		}
	}
	return 0;
}

/* Is the current task a fully monitored subject? The checks that cost a few loads (the agent
 * itself, root, any login) come before the cache lookup, a helper call. */
static __always_inline bool subject__monitored(struct task_struct *task)
{
	if (!cfg_have_subject_filters)
		return subject__compute(task);
	if (task->tgid == cfg_agent_tgid)
		return false;
	if (cfg_monitor_root) {
		const struct cred *cred = task->cred;
		if (cred->uid.val == 0 || cred->euid.val == 0)
			return true;
	}
	if (cfg_monitor_all_logins && task->loginuid.val != (__u32)-1)
		return true;
	__u32 *cached = bpf_task_storage_get(&subject_cache, task, 0, 0);
	if (cached)
		return *cached;
	__u32 v = subject__compute(task);
	bpf_task_storage_get(&subject_cache, task, &v, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return v;
}

static __always_inline void subject__invalidate(struct task_struct *task)
{
	if (cfg_have_subject_filters)
		bpf_task_storage_delete(&subject_cache, task);
}

/* ---- records ---- */
static __always_inline void *rec__scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

static __always_inline struct pw_pathbuf *pathbuf__get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&pathbuf, &zero);
}

/* Fill the header and process context from the current task. Plain BTF loads wherever they
 * read the same field as a helper would (pid/tgid, comm, the cgroup v2 id): each helper call
 * costs a few ns on the hot path (bench/RESULTS.md §1, "Open path"). */
static __always_inline void rec__header(struct pw_event_hdr *h, __u16 type, __u32 syscall,
					struct task_struct *task)
{
	const struct cred *cred = task->cred;
	struct task_struct *parent = task->real_parent;
	struct nsproxy *ns = task->nsproxy;
	struct pw_proc *p = &h->proc;

	h->type = type;
	h->version = PRIVWATCH_EVENTS_SCHEMA_VERSION;
	h->size = 0;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->flags = 0;
	h->syscall = syscall;

	p->pid = task->tgid;
	p->tid = task->pid;
	p->start_ns = task->group_leader->start_boottime;
	p->ppid = parent->tgid;
	p->parent_start_ns = parent->group_leader->start_boottime;
	/* = bpf_get_current_cgroup_id(): the task's cgroup on the default (v2) hierarchy */
	p->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	p->uid = cred->uid.val;
	p->euid = cred->euid.val;
	p->gid = cred->gid.val;
	p->egid = cred->egid.val;
	p->suid = cred->suid.val;
	p->fsuid = cred->fsuid.val;
	p->loginuid = task->loginuid.val;
	p->sessionid = task->sessionid;
	p->pidns_ino = ns->pid_ns_for_children->ns.inum;
	p->mntns_ino = ns->mnt_ns->ns.inum;
	p->_pad0 = 0;
	/* = bpf_get_current_comm() without the string copy: task->comm is NUL-terminated (and
	 * NUL-padded since 4.x's strscpy_pad); two word loads, the last byte forced to NUL. */
	const __u64 *comm = (const __u64 *)task->comm;
	__u64 *dst = (__u64 *)p->comm;
	dst[0] = comm[0];
	dst[1] = comm[1];
	p->comm[sizeof(p->comm) - 1] = 0;

	struct tty_struct *tty = task->signal->tty;
	if (tty) {
		int major = tty->driver->major;
		int minor = tty->driver->minor_start + tty->index;
		p->tty_dev = ((__u32)major << 20) | ((__u32)minor & 0xfffff);
		__builtin_memcpy(p->tty, tty->name, sizeof(p->tty) - 1);
		p->tty[sizeof(p->tty) - 1] = 0;
	} else {
		p->tty_dev = 0;
		p->tty[0] = 0;
	}
}

static __always_inline void str__clear(struct pw_str *s)
{
	s->off = 0;
	s->len = 0;
	s->flags = 0;
	s->_pad = 0;
}

/* Room check for appending up to `max` bytes at *tail (max <= PW_PATH_MAX * 2). */
#define PW_TAIL_LIMIT (PW_RECORD_MAX / 2)

/* Append a NUL-terminated user string. */
static __always_inline void str__user(__u8 *rec, __u32 *tail, struct pw_str *s, const void *uptr,
				      __u32 max)
{
	__u32 off = *tail;

	str__clear(s);
	if (!uptr)
		return;
	if (off >= PW_TAIL_LIMIT) {
		s->flags = PW_STR_TRUNCATED;
		return;
	}
	long n = bpf_probe_read_user_str(&rec[off & (PW_TAIL_LIMIT - 1)], max & (PW_PATH_MAX * 2 - 1),
					 uptr);
	if (n <= 0) {
		s->flags = PW_STR_READ_FAIL;
		return;
	}
	s->off = off;
	s->len = n - 1;
	if ((__u32)n >= max)
		s->flags = PW_STR_TRUNCATED;
	*tail = off + n;
}

/* The absolute path of a struct path, in two passes so that it is written once, forwards,
 * straight into the record (no staging buffer, no second copy):
 *  1. path__collect walks the dentries up to the global root (crossing mounts), remembering
 *     each component's dentry in pb->comp and adding up the length, leaf first;
 *  2. path__emit writes "/name" for each remembered component, root first. A name stored
 *     inside its dentry (d_shortname: every name under 40 bytes) is copied with five word
 *     loads; a longer one with a probe read.
 * When the path is longer than PW_PATH_MAX - 1 bytes or PW_PATH_COMPONENTS components, the
 * components nearest the leaf are kept and the string is flagged truncated. One bpf_loop
 * callback per component keeps verification cost independent of the depth bound. */
struct path_walk {
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct mount *mnt_parent;
	struct pw_pathbuf *pb;
	__u32 truncated;
};

static __always_inline long path__collect_step(struct path_walk *w)
{
	struct pw_pathbuf *pb = w->pb;
	struct dentry *dentry = PW_CAST(struct dentry, w->dentry);
	struct vfsmount *vfsmnt = PW_CAST(struct vfsmount, w->vfsmnt);
	struct mount *mnt = PW_CAST(struct mount, w->mnt);
	struct dentry *mnt_root = vfsmnt->mnt_root;
	struct dentry *parent = dentry->d_parent;
	bool pseudo = false;

	if (!pb)
		return 1;
	if (dentry == mnt_root || dentry == parent) {
		if (dentry != mnt_root) {
			/* a pseudo filesystem's lone dentry (memfd, pipe, anon inode): keep its
			 * name so the path reads e.g. "/memfd:payload" */
			if (pb->n != 0)
				return 1;
			pseudo = true;
		} else if ((void *)mnt != (void *)w->mnt_parent) {
			struct mount *up = PW_CAST(struct mount, w->mnt_parent);
			w->dentry = mnt->mnt_mountpoint;
			w->mnt = up;
			w->mnt_parent = up->mnt_parent;
			w->vfsmnt = &up->mnt;
			return 0;
		} else {
			return 1; /* global root */
		}
	}
	__u32 len = dentry->d_name.len;
	__u32 n = pb->n;

	if (n >= PW_PATH_COMPONENTS || pb->len + len + 1 > PW_PATH_MAX - 1) {
		w->truncated = 1;
		return 1;
	}
	pb->comp[n & (PW_PATH_COMPONENTS - 1)] = (__u64)dentry;
	pb->n = n + 1;
	pb->len += len + 1;
	if (pseudo)
		return 1;
	w->dentry = parent;
	return 0;
}

static long path__collect(__u32 i, struct path_walk *w)
{
	return path__collect_step(w);
}

struct path_emit {
	__u8 *rec;
	struct pw_pathbuf *pb;
	__u32 base; /* offset of the string in rec, < PW_TAIL_LIMIT */
};

static __always_inline long path__emit_step(struct path_emit *x)
{
	struct pw_pathbuf *pb = x->pb;
	if (!pb)
		return 1;
	__u32 n = pb->n;
	__u32 done = pb->done;
	__u32 off = pb->len;
	__u32 k = n - 1 - done;

	if (done >= n)
		return 1;
	struct dentry *dentry = PW_CAST(struct dentry, pb->comp[k & (PW_PATH_COMPONENTS - 1)]);
	const unsigned char *name = dentry->d_name.name;
	__u32 len = dentry->d_name.len & (PW_PATH_MAX - 1);
	__u8 *dst = &x->rec[(x->base & (PW_TAIL_LIMIT - 1)) + (off & (PW_PATH_MAX - 1))];

	dst[0] = '/';
	dst += 1;
	if (bpf_core_field_exists(struct dentry, d_shortname) && len < 40 &&
	    (void *)name == (void *)dentry->d_shortname.string) {
		/* copies up to 40 bytes past the name: the next component or the final NUL
		 * overwrites them, and the record's size ends at the NUL */
		*(__u64 *)&dst[0] = dentry->d_shortname.words[0];
		*(__u64 *)&dst[8] = dentry->d_shortname.words[1];
		*(__u64 *)&dst[16] = dentry->d_shortname.words[2];
		*(__u64 *)&dst[24] = dentry->d_shortname.words[3];
		*(__u64 *)&dst[32] = dentry->d_shortname.words[4];
	} else if (bpf_probe_read_kernel(dst, len, name)) {
		return 1;
	}
	pb->len = off + len + 1;
	pb->done = done + 1;
	return 0;
}

static long path__emit(__u32 i, struct path_emit *x)
{
	return path__emit_step(x);
}

/* Append the absolute path of `path` to the record. `fast`: the first steps of each pass run
 * inline (a call and its return per component — a return thunk with this CPU's mitigations —
 * cost more than the step itself); for the hot paths only (a successful open), since each
 * inline copy adds ~300 instructions to its program. */
static __always_inline void str__path_impl(__u8 *rec, __u32 *tail, struct pw_str *s,
					   const struct path *path, struct pw_pathbuf *pb, bool fast)
{
	__u32 tail_off = *tail;

	str__clear(s);
	if (!path)
		return;
	if (tail_off >= PW_TAIL_LIMIT) {
		s->flags = PW_STR_TRUNCATED;
		return;
	}
	struct path_walk w = {};
	struct vfsmount *vfsmnt = path->mnt;
	struct mount *mnt = PW_CAST(struct mount, container_of(vfsmnt, struct mount, mnt));

	w.dentry = path->dentry;
	w.vfsmnt = vfsmnt;
	w.mnt = mnt;
	w.mnt_parent = mnt->mnt_parent;
	w.pb = pb;
	pb->n = 0;
	pb->len = 0;
	if (w.dentry &&
	    !(fast && (path__collect_step(&w) || path__collect_step(&w) ||
		       path__collect_step(&w) || path__collect_step(&w))))
		bpf_loop(PW_PATH_COMPONENTS, path__collect, &w, 0);

	struct path_emit x = { .rec = rec, .pb = pb, .base = tail_off };
	__u32 want = pb->len;
	pb->len = 0;
	pb->done = 0;
	if (pb->n && !(fast && (path__emit_step(&x) || path__emit_step(&x) ||
				path__emit_step(&x))))
		bpf_loop(PW_PATH_COMPONENTS, path__emit, &x, 0);
	__u32 len = pb->len;
	if (len != want) {
		s->flags = PW_STR_READ_FAIL;
		return;
	}
	if (len == 0) { /* the root itself */
		rec[tail_off & (PW_TAIL_LIMIT - 1)] = '/';
		len = 1;
	}
	rec[(tail_off & (PW_TAIL_LIMIT - 1)) + (len & (PW_PATH_MAX - 1))] = 0;
	s->off = tail_off;
	s->len = len;
	s->flags = w.truncated ? PW_STR_TRUNCATED : 0;
	*tail = tail_off + len + 1;
}

static __always_inline void str__path(__u8 *rec, __u32 *tail, struct pw_str *s,
				      const struct path *path, struct pw_pathbuf *pb)
{
	str__path_impl(rec, tail, s, path, pb, false);
}

static __always_inline void str__path_fast(__u8 *rec, __u32 *tail, struct pw_str *s,
					   const struct path *path, struct pw_pathbuf *pb)
{
	str__path_impl(rec, tail, s, path, pb, true);
}

/* struct file * of descriptor `fd` in the current task, or NULL. The slot fds[fd] is read with
 * a plain (fault-protected) load: cast to a kernel struct whose first member is a struct file *
 * (struct kiocb: ki_filp at offset 0 — checked, else a probe read), since the verifier types
 * no pointer-to-pointer array. */
static __always_inline struct file *fd__file(struct task_struct *task, long fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file **fds;
	struct file *f = 0;

	if (fd < 0 || fd >= fdt->max_fds)
		return 0;
	fds = fdt->fd;
	if (bpf_core_field_offset(struct kiocb, ki_filp) == 0)
		return PW_CAST(struct kiocb, &fds[fd & 0xfffffff])->ki_filp;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffffff]) || !f)
		return 0;
	return PW_CAST(struct file, f);
}

/* Does the string at rec[s.off] start with a configured sensitive prefix? */
static __always_inline bool sensitive__match(__u8 *rec, const struct pw_str *s, struct pw_pathbuf *pb)
{
	if (!cfg_have_sensitive || s->len == 0 || s->off == 0)
		return false;
	__u32 n = s->len;
	if (n > PW_SENSITIVE_KEY_MAX)
		n = PW_SENSITIVE_KEY_MAX;
	/* Constant-size copy; prefixlen bounds what the trie compares. */
	if (bpf_probe_read_kernel(pb->lpm.path, PW_SENSITIVE_KEY_MAX,
				  &rec[s->off & (PW_TAIL_LIMIT - 1)]))
		return false;
	pb->lpm.prefixlen = n * 8;
	return bpf_map_lookup_elem(&sensitive, &pb->lpm) != 0;
}

/* Producer position at the last wakeup check point (see rec__wakeup_flags). Shared by all CPUs:
 * written once per cfg_wakeup_bytes of records at most; a lost race costs one extra check. */
__u64 pw_last_wakeup_pos = 0;

/* Batched wakeups (no wakeup per event). The consumer polls with a short timeout; a wakeup is
 * forced only at a check point — once cfg_wakeup_bytes have been produced since the last
 * one (looked at every cfg_wakeup_bytes / 8 bytes of each CPU's records) — and only when that
 * much is pending. Forcing one on every record while the backlog stays
 * above the threshold (a consumer that is awake but behind) would queue an irq_work — a self
 * IPI, a VM exit on virtual machines, ~2 µs — per record (bench/RESULTS.md §1). The ring is
 * queried only at those looks: the producer position, and the pending amount at a check point.
 * `rec` is the per-CPU scratch record (rec__scratch). */
static __always_inline __u64 rec__wakeup_flags(struct pw_scratch *sc, __u32 size)
{
	/* Each CPU looks at the ring only every cfg_wakeup_bytes / 8 of its own records: a helper
	 * call less per record. */
	__u64 unchecked = sc->unchecked + size;

	if (unchecked < cfg_wakeup_bytes / 8) {
		sc->unchecked = unchecked;
		return BPF_RB_NO_WAKEUP;
	}
	sc->unchecked = 0;
	__u64 prod = bpf_ringbuf_query(&events, BPF_RB_PROD_POS);

	if (prod - pw_last_wakeup_pos < cfg_wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	pw_last_wakeup_pos = prod;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Emit the record built in scratch memory. */
static __always_inline void rec__submit(void *rec, __u32 size, __u32 type)
{
	struct pw_event_hdr *h = rec;

	h->size = size;
	if (bpf_ringbuf_output(&events, rec, size & (PW_RECORD_MAX - 1),
			       rec__wakeup_flags(rec, size)))
		counter__inc(type, PW_CNT_RINGBUF_FULL);
	else
		counter__inc(type, PW_CNT_EMITTED);
}

/* Mark header flags from string flags. */
static __always_inline void rec__note_str(struct pw_event_hdr *h, const struct pw_str *s)
{
	if (s->flags & PW_STR_TRUNCATED)
		h->flags |= PW_F_TRUNCATED;
	if (s->flags & PW_STR_READ_FAIL)
		h->flags |= PW_F_READ_FAIL;
}

static __always_inline void rec__count_flags(const struct pw_event_hdr *h)
{
	if (h->flags & PW_F_TRUNCATED)
		counter__inc(h->type, PW_CNT_TRUNCATED);
	if (h->flags & PW_F_READ_FAIL)
		counter__inc(h->type, PW_CNT_READ_FAIL);
}

/* Syscall arguments from the saved user registers (x86-64 syscall ABI). */
struct sc_args {
	unsigned long a[6];
	long nr;
};

/* Offset of the saved user registers from the task's stack page. task_pt_regs() is the same
 * fixed offset for every task (THREAD_SIZE less the top padding less sizeof(struct pt_regs), all
 * fixed when the kernel was built), so it is learnt from bpf_task_pt_regs() on first use and
 * then applied with an addition and plain loads: one helper call less per observed syscall. */
__u64 pw_pt_regs_off = 0;

/* The syscall's number, result and arguments (from the saved user registers). */
static __always_inline int sc_args__read(struct pw_sys_exit_ctx *ctx,
					 struct task_struct *task, struct sc_args *args)
{
	__u64 stack = (__u64)task->stack;
	__u64 off = pw_pt_regs_off;
	struct pt_regs *regs;

	if (off) {
		regs = PW_CAST(struct pt_regs, stack + off);
	} else {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		if (!regs)
			return -1;
		pw_pt_regs_off = (__u64)regs - stack;
	}
#if defined(__TARGET_ARCH_x86)
	args->a[0] = regs->di;
	args->a[1] = regs->si;
	args->a[2] = regs->dx;
	args->a[3] = regs->r10;
	args->a[4] = regs->r8;
	args->a[5] = regs->r9;
	args->nr = ctx->nr;
#else
#error "privwatch: syscall argument layout not defined for this architecture"
#endif
	return 0;
}

#endif /* PRIVWATCH_COMMON_BPF_H */
