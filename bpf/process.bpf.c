/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Process family: exec (always), fork (monitored subjects), exit (always). */
#include "common.bpf.h"

static __always_inline bool dentry__is_memfd(struct dentry *d)
{
	char name[8] = {};

	bpf_probe_read_kernel(name, 6, d->d_name.name);
	return name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
	       name[4] == 'd' && name[5] == ':';
}

/* Append argv from the new image's mm (arg_start..arg_end), bounded by cfg_max_arg_bytes. */
static __always_inline void exec__args(struct pw_exec *e, __u8 *rec, __u32 *tail,
				       struct task_struct *task)
{
	struct mm_struct *mm = task->mm;
	unsigned long start = mm->arg_start, end = mm->arg_end;
	__u32 off = *tail;
	__u32 want;

	str__clear(&e->args);
	if (end <= start) {
		e->args_size = 0;
		return;
	}
	e->args_size = end - start;
	want = e->args_size;
	if (want > cfg_max_arg_bytes) {
		want = cfg_max_arg_bytes;
		e->exec_flags |= PW_EXEC_ARGS_TRUNC;
		e->args.flags |= PW_STR_TRUNCATED;
	}
	if (want > PW_ARGS_MAX)
		want = PW_ARGS_MAX;
	if (off >= PW_TAIL_LIMIT) {
		e->args.flags |= PW_STR_TRUNCATED;
		return;
	}
	if (bpf_probe_read_user(&rec[off & (PW_TAIL_LIMIT - 1)], want & (PW_ARGS_MAX - 1),
				(void *)start)) {
		e->args.flags |= PW_STR_READ_FAIL;
		return;
	}
	e->args.off = off;
	e->args.len = want & (PW_ARGS_MAX - 1);
	*tail = off + e->args.len;
}

/* respond.kill: a monitored process executes a listed file (device + inode, so renames and
 * hard links do not escape), or its session is quarantined. Killed before the new image runs
 * a single instruction. */
static __always_inline void exec__enforce(struct task_struct *task, struct pw_exec *e)
{
	__u32 armed = pw_kill_armed;

	if (!kill__session_match(task, armed)) {
		if (!(armed & PW_KILL_EXE))
			return;
		struct pw_kill_exe_key key = { .ino = e->exe_ino, .dev = e->exe_dev };
		if (!bpf_map_lookup_elem(&kill_exe, &key))
			return;
	}
	kill__now(task, &e->hdr, PW_EV_EXEC);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct pw_pathbuf *pb = pathbuf__get();
	__u8 *rec = rec__scratch();
	struct pw_exec *e = (void *)rec;
	__u32 tail = sizeof(*e);

	subject__invalidate(task);
	if (!rec || !pb) {
		counter__inc(PW_EV_EXEC, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	rec__header(&e->hdr, PW_EV_EXEC, PW_NO_SYSCALL, task);
	bool monitored = subject__monitored(task);
	if (monitored)
		e->hdr.flags |= PW_F_MONITORED;
	e->result = 0;
	e->exec_flags = 0;
	e->_pad = 0;

	struct file *file = bprm->file;
	struct inode *inode = file->f_inode;
	e->exe_mode = inode->i_mode;
	e->exe_uid = inode->i_uid.val;
	e->exe_ino = inode->i_ino;
	e->exe_dev = inode->i_sb->s_dev;
	if (e->exe_mode & PW_S_ISUID)
		e->exec_flags |= PW_EXEC_SETUID;
	if (e->exe_mode & PW_S_ISGID)
		e->exec_flags |= PW_EXEC_SETGID;
	if (inode->__i_nlink == 0)
		e->exec_flags |= PW_EXEC_DELETED;
	if (dentry__is_memfd(file->f_path.dentry))
		e->exec_flags |= PW_EXEC_MEMFD;
	if (monitored && pw_kill_armed)
		exec__enforce(task, e);

	str__path(rec, &tail, &e->exe_path, &file->f_path, pb);
	rec__note_str(&e->hdr, &e->exe_path);
	{
		/* bprm->filename is a kernel string */
		__u32 off = tail;
		str__clear(&e->filename);
		if (off < PW_TAIL_LIMIT) {
			long n = bpf_probe_read_kernel_str(&rec[off & (PW_TAIL_LIMIT - 1)], PW_PATH_MAX,
							   bprm->filename);
			if (n > 0) {
				e->filename.off = off;
				e->filename.len = n - 1;
				tail = off + n;
			} else {
				e->filename.flags = PW_STR_READ_FAIL;
			}
		}
		rec__note_str(&e->hdr, &e->filename);
	}
	str__path(rec, &tail, &e->cwd, &task->fs->pwd, pb);
	exec__args(e, rec, &tail, task);
	rec__note_str(&e->hdr, &e->args);
	rec__count_flags(&e->hdr);
	rec__submit(rec, tail, PW_EV_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (child->pid != child->tgid) /* a thread */
		return 0;
	if (!subject__monitored(task))
		return 0;
	__u8 *rec = rec__scratch();
	if (!rec) {
		counter__inc(PW_EV_FORK, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	struct pw_fork *f = (void *)rec;
	rec__header(&f->hdr, PW_EV_FORK, PW_NO_SYSCALL, task);
	f->hdr.flags |= PW_F_MONITORED;
	f->child_pid = child->tgid;
	f->child_start_ns = child->start_boottime;
	f->_pad = 0;
	rec__submit(rec, sizeof(*f), PW_EV_FORK);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct signal_struct *sig = task->signal;

	if (sig->live.counter != 0) /* other threads remain */
		return 0;
	__u8 *rec = rec__scratch();
	if (!rec) {
		counter__inc(PW_EV_EXIT, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	struct pw_exit *x = (void *)rec;
	rec__header(&x->hdr, PW_EV_EXIT, PW_NO_SYSCALL, task);
	if (subject__monitored(task))
		x->hdr.flags |= PW_F_MONITORED;
	if (sig->flags & PW_SIGNAL_GROUP_EXIT)
		x->exit_code = sig->group_exit_code;
	else
		x->exit_code = task->exit_code;
	x->_pad = 0;
	rec__submit(rec, sizeof(*x), PW_EV_EXIT);
	return 0;
}

/* Failed execve/execveat (a successful one is reported by sched_process_exec). */
SEC("tracepoint")
int family_exec(struct pw_sys_exit_ctx *ctx)
{
	long ret = ctx->ret;
	struct sc_args a;

	if (ret >= 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();

	if (sc_args__read(ctx, task, &a))
		return 0;
	struct pw_pathbuf *pb = pathbuf__get();
	__u8 *rec = rec__scratch();
	if (!rec || !pb) {
		counter__inc(PW_EV_EXEC, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	struct pw_exec *e = (void *)rec;
	__u32 tail = sizeof(*e);
	const void *filename = (const void *)(a.nr == 59 /* execve */ ? a.a[0] : a.a[1]);

	rec__header(&e->hdr, PW_EV_EXEC, a.nr, task);
	if (subject__monitored(task))
		e->hdr.flags |= PW_F_MONITORED;
	e->result = ret;
	e->exec_flags = PW_EXEC_FAILED;
	e->args_size = 0;
	e->exe_mode = 0;
	e->exe_uid = 0;
	e->exe_ino = 0;
	e->exe_dev = 0;
	e->_pad = 0;
	str__clear(&e->exe_path);
	str__clear(&e->args);
	str__user(rec, &tail, &e->filename, filename, PW_PATH_MAX);
	rec__note_str(&e->hdr, &e->filename);
	str__path(rec, &tail, &e->cwd, &task->fs->pwd, pb);
	rec__count_flags(&e->hdr);
	rec__submit(rec, tail, PW_EV_EXEC);
	return 0;
}
