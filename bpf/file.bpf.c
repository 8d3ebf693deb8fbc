/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* File family: opens, creation, unlink, rename, chmod/chown, links, truncate.
 * Monitored subjects: every call. Everyone else: modifying calls that touch a sensitive area. */
#include "common.bpf.h"
#include "syscalls.h"

#define PW_AT_REMOVEDIR 0x200

struct file_args {
	const void *p1, *p2;
	long dirfd, dirfd2, fd;
	__u32 op, flags, mode, uid, gid;
	bool write;
};

static __always_inline int file__decode(struct sc_args *a, struct file_args *f)
{
	f->p1 = f->p2 = 0;
	f->dirfd = f->dirfd2 = AT_FDCWD;
	f->fd = -1;
	f->flags = f->mode = 0;
	f->uid = f->gid = (__u32)-1;
	f->write = true;
	switch (a->nr) {
	case PW_NR_open:
		f->op = PW_FILE_OPEN; f->p1 = (void *)a->a[0]; f->flags = a->a[1]; f->mode = a->a[2];
		break;
	case PW_NR_creat:
		f->op = PW_FILE_OPEN; f->p1 = (void *)a->a[0];
		f->flags = PW_O_CREAT | PW_O_WRONLY | PW_O_TRUNC; f->mode = a->a[1];
		break;
	case PW_NR_openat:
		f->op = PW_FILE_OPEN; f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1];
		f->flags = a->a[2]; f->mode = a->a[3];
		break;
	case PW_NR_openat2: {
		__u64 how[2] = {};
		f->op = PW_FILE_OPEN; f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1];
		bpf_probe_read_user(how, sizeof(how), (void *)a->a[2]);
		f->flags = how[0]; f->mode = how[1];
		break;
	}
	case PW_NR_unlink:
		f->op = PW_FILE_UNLINK; f->p1 = (void *)a->a[0];
		break;
	case PW_NR_rmdir:
		f->op = PW_FILE_RMDIR; f->p1 = (void *)a->a[0];
		break;
	case PW_NR_unlinkat:
		f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1]; f->flags = a->a[2];
		f->op = (f->flags & PW_AT_REMOVEDIR) ? PW_FILE_RMDIR : PW_FILE_UNLINK;
		break;
	case PW_NR_mkdir:
		f->op = PW_FILE_MKDIR; f->p1 = (void *)a->a[0]; f->mode = a->a[1];
		break;
	case PW_NR_mkdirat:
		f->op = PW_FILE_MKDIR; f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1];
		f->mode = a->a[2];
		break;
	case PW_NR_rename:
		f->op = PW_FILE_RENAME; f->p1 = (void *)a->a[0]; f->p2 = (void *)a->a[1];
		break;
	case PW_NR_renameat:
	case PW_NR_renameat2:
		f->op = PW_FILE_RENAME; f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1];
		f->dirfd2 = (int)a->a[2]; f->p2 = (void *)a->a[3];
		if (a->nr == PW_NR_renameat2)
			f->flags = a->a[4];
		break;
	case PW_NR_chmod:
		f->op = PW_FILE_CHMOD; f->p1 = (void *)a->a[0]; f->mode = a->a[1];
		break;
	case PW_NR_fchmod:
		f->op = PW_FILE_CHMOD; f->fd = (int)a->a[0]; f->mode = a->a[1];
		break;
	case PW_NR_fchmodat:
	case PW_NR_fchmodat2:
		f->op = PW_FILE_CHMOD; f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1];
		f->mode = a->a[2];
		if (a->nr == PW_NR_fchmodat2)
			f->flags = a->a[3];
		break;
	case PW_NR_chown:
	case PW_NR_lchown:
		f->op = PW_FILE_CHOWN; f->p1 = (void *)a->a[0]; f->uid = a->a[1]; f->gid = a->a[2];
		break;
	case PW_NR_fchown:
		f->op = PW_FILE_CHOWN; f->fd = (int)a->a[0]; f->uid = a->a[1]; f->gid = a->a[2];
		break;
	case PW_NR_fchownat:
		f->op = PW_FILE_CHOWN; f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1];
		f->uid = a->a[2]; f->gid = a->a[3]; f->flags = a->a[4];
		break;
	case PW_NR_link:
		f->op = PW_FILE_LINK; f->p1 = (void *)a->a[0]; f->p2 = (void *)a->a[1];
		break;
	case PW_NR_linkat:
		f->op = PW_FILE_LINK; f->dirfd = (int)a->a[0]; f->p1 = (void *)a->a[1];
		f->dirfd2 = (int)a->a[2]; f->p2 = (void *)a->a[3]; f->flags = a->a[4];
		break;
	case PW_NR_symlink:
		f->op = PW_FILE_SYMLINK; f->p1 = (void *)a->a[0]; f->p2 = (void *)a->a[1];
		break;
	case PW_NR_symlinkat:
		f->op = PW_FILE_SYMLINK; f->p1 = (void *)a->a[0]; f->dirfd2 = (int)a->a[1];
		f->p2 = (void *)a->a[2];
		break;
	case PW_NR_truncate:
		f->op = PW_FILE_TRUNCATE; f->p1 = (void *)a->a[0];
		break;
	default:
		return -1;
	}
	if (f->op == PW_FILE_OPEN)
		f->write = (f->flags & (PW_O_WRONLY | PW_O_RDWR | PW_O_CREAT | PW_O_TRUNC)) != 0;
	return 0;
}

/* Directory a relative user path resolves against: cwd or the dirfd's file. */
static __always_inline void file__base(__u8 *rec, __u32 *tail, struct pw_str *base,
				       const struct pw_str *path, long dirfd,
				       struct task_struct *task, struct pw_pathbuf *pb)
{
	str__clear(base);
	if (path->off == 0 || path->len == 0)
		return;
	if (rec[path->off & (PW_TAIL_LIMIT - 1)] == '/')
		return;
	if (dirfd == AT_FDCWD) {
		str__path(rec, tail, base, &task->fs->pwd, pb);
	} else {
		struct file *df = fd__file(task, dirfd);
		if (df)
			str__path(rec, tail, base, &df->f_path, pb);
	}
}

static __always_inline bool file__is_abs(__u8 *rec, const struct pw_str *s)
{
	return s->off && s->len && rec[s->off & (PW_TAIL_LIMIT - 1)] == '/';
}

/* The whole file family at syscall exit. `nr` >= 0: the syscall is known at compile time (a
 * dedicated program: the decoding folds to that syscall); -1: read it from the context. */
static __always_inline int file__exit(struct pw_sys_exit_ctx *ctx, long nr)
{
	long ret = ctx->ret;
	struct file_args f;
	struct sc_args a;

	struct task_struct *task = bpf_get_current_task_btf();

	if (sc_args__read(ctx, task, &a))
		return 0;
	if (nr >= 0)
		a.nr = nr;
	if (file__decode(&a, &f))
		return 0;
	bool monitored = subject__monitored(task);
	if (!monitored && !(f.write && cfg_have_sensitive))
		return 0;

	struct pw_pathbuf *pb = pathbuf__get();
	__u8 *rec = rec__scratch();
	if (!rec || !pb) {
		counter__inc(PW_EV_FILE, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	struct pw_file *e = (void *)rec;
	__u32 tail = sizeof(*e);

	rec__header(&e->hdr, PW_EV_FILE, a.nr, task);
	e->result = ret;
	e->op = f.op;
	e->dirfd = f.dirfd;
	e->open_flags = f.flags;
	e->mode = f.mode;
	e->uid = f.uid;
	e->gid = f.gid;
	e->file_flags = f.write ? PW_FILE_WRITE : 0;
	e->_pad = 0;
	str__clear(&e->resolved);
	str__clear(&e->path2);
	str__clear(&e->base2);

	if (f.fd >= 0) {
		/* fchmod / fchown: the path is the descriptor's file */
		struct file *file = fd__file(task, f.fd);
		e->file_flags |= PW_FILE_FD_BASED;
		e->dirfd = f.fd;
		str__clear(&e->path);
		str__clear(&e->base);
		if (file)
			str__path(rec, &tail, &e->resolved, &file->f_path, pb);
	} else {
		if (f.op == PW_FILE_OPEN && ret >= 0) {
			struct file *file = fd__file(task, ret);
			if (file) {
				str__path_fast(rec, &tail, &e->resolved, &file->f_path, pb);
				if (file->f_mode & PW_FMODE_CREATED)
					e->file_flags |= PW_FILE_CREATED;
			}
		}
		/* A successful open's file is authoritative: its absolute path comes from the
		 * kernel's dentries, and the string the process passed is not copied (the copy from
		 * user memory was the dearest part of a monitored open). It is kept where it is the
		 * only account of the path: failed opens, every other operation, and a resolved
		 * path that is missing or truncated. */
		if (e->resolved.off == 0 || (e->resolved.flags & PW_STR_TRUNCATED))
			str__user(rec, &tail, &e->path, f.p1, PW_PATH_MAX);
		else
			str__clear(&e->path);
		if (e->resolved.off == 0)
			file__base(rec, &tail, &e->base, &e->path, f.dirfd, task, pb);
		else
			str__clear(&e->base);
	}
	if (f.p2) {
		str__user(rec, &tail, &e->path2, f.p2, PW_PATH_MAX);
		file__base(rec, &tail, &e->base2, &e->path2, f.dirfd2, task, pb);
	}
	rec__note_str(&e->hdr, &e->path);
	rec__note_str(&e->hdr, &e->resolved);
	rec__note_str(&e->hdr, &e->path2);

	/* Sensitive area: the resolved path, else an absolute path, else its base directory.
	 * Only needed to decide on unmonitored subjects; user space flags monitored events. */
	bool sens = false;
	if (monitored)
		;
	else if (e->resolved.off)
		sens = sensitive__match(rec, &e->resolved, pb);
	else if (file__is_abs(rec, &e->path))
		sens = sensitive__match(rec, &e->path, pb);
	else if (e->base.off)
		sens = sensitive__match(rec, &e->base, pb);
	if (!sens && e->path2.off) {
		if (file__is_abs(rec, &e->path2))
			sens = sensitive__match(rec, &e->path2, pb);
		else if (e->base2.off)
			sens = sensitive__match(rec, &e->base2, pb);
	}
	if (!monitored && !sens)
		return 0;
	if (monitored)
		e->hdr.flags |= PW_F_MONITORED;
	if (sens)
		e->hdr.flags |= PW_F_SENSITIVE;
	rec__count_flags(&e->hdr);
	rec__submit(rec, tail, PW_EV_FILE);
	return 0;
}

SEC("tracepoint")
int family_file(struct pw_sys_exit_ctx *ctx)
{
	return file__exit(ctx, -1);
}

/* The most frequent file syscall gets its own program on its tracepoint instead of a stub that
 * tail-calls family_file: no tail call, and the decoding specialised for openat
 * (bench/RESULTS.md §1, "Open path"). */
SEC("tracepoint/syscalls/sys_exit_openat")
int sys_exit_openat(struct pw_sys_exit_ctx *ctx)
{
	return file__exit(ctx, PW_NR_openat);
}
