/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Terminal family (session recording): what monitored subjects write to and read from their
 * terminals, window-size changes, and gaps where input was typed with echo off (passwords).
 *
 * Hooks: syscalls:sys_exit_write, sys_exit_read, sys_exit_ioctl — direct programs, not
 * tail-called stubs: the write/read tracepoints fire on every write()/read() of the host, so
 * the test order is chosen to leave early at the cheapest point (result, then the monitored
 * subject, then the descriptor's inode). The buffer pointer comes from the saved user
 * registers at exit, so no entry hook (and no entry/exit map) is needed. bench/RESULTS.md
 * has the measured cost; the programs are only loaded when recording.enabled is set.
 *
 * Only the terminal side of a pty (the slave, /dev/pts/N), consoles (major 4) and /dev/tty
 * are recorded — the master side (sshd, tmux) would duplicate the same bytes. Resizes are
 * taken from either side: sshd resizes the master when the client window changes.
 */
#include "common.bpf.h"

const volatile __u32 cfg_tty_max_bytes = 4096;                 /* per record */
const volatile __u64 cfg_tty_session_max_bytes = 64ull << 20; /* per session and terminal */

#define PW_TIOCSWINSZ 0x5414
#define PW_S_IFMT 00170000
#define PW_S_IFCHR 0020000
#define PW_ECHO 0000010
#define PW_ICANON 0000002
#define PW_MINORBITS 20

/* Bytes captured so far per (audit session, terminal); LRU so that forgotten sessions age
 * out without a cleanup hook. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pw_tty_budget_key);
	__type(value, __u64);
} tty_budget SEC(".maps");

enum pw_tty_side { PW_TTY_SIDE_NONE = 0, PW_TTY_SIDE_TERMINAL = 1, PW_TTY_SIDE_MASTER = 2 };

/* Which side of a terminal `file` is, from its inode's device number (char devices only):
 * 4 consoles/serial, 5 /dev/tty (0) /dev/console (1) /dev/ptmx (2), 136-143 pty slaves,
 * 128-135 legacy pty masters. */
static __always_inline int tty__side(struct file *file)
{
	struct inode *inode = file->f_inode;

	if ((inode->i_mode & PW_S_IFMT) != PW_S_IFCHR)
		return PW_TTY_SIDE_NONE;
	__u32 major = inode->i_rdev >> PW_MINORBITS;
	__u32 minor = inode->i_rdev & ((1u << PW_MINORBITS) - 1);
	if (major >= 136 && major <= 143)
		return PW_TTY_SIDE_TERMINAL;
	if (major == 4)
		return PW_TTY_SIDE_TERMINAL;
	if (major == 5)
		return minor == 2 ? PW_TTY_SIDE_MASTER : PW_TTY_SIDE_TERMINAL;
	if (major >= 128 && major <= 135)
		return PW_TTY_SIDE_MASTER;
	return PW_TTY_SIDE_NONE;
}

static __always_inline struct tty_struct *tty__of(struct file *file)
{
	struct tty_file_private *priv = PW_CAST(struct tty_file_private, file->private_data);

	if (!priv)
		return 0;
	struct tty_struct *tty = priv->tty;
	if (!tty)
		return 0;
	return PW_CAST(struct tty_struct, tty);
}

static __always_inline struct pw_tty *tty__record(struct task_struct *task, long nr,
						  struct tty_struct *tty, __u32 op, long ret)
{
	struct pw_tty *e = rec__scratch();

	if (!e) {
		counter__inc(PW_EV_TTY, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	rec__header(&e->hdr, PW_EV_TTY, nr, task);
	e->result = ret;
	e->op = op;
	e->tty_flags = 0;
	e->dev = ((__u32)tty->driver->major << PW_MINORBITS) |
		 (((__u32)(tty->driver->minor_start + tty->index)) & ((1u << PW_MINORBITS) - 1));
	e->rows = tty->winsize.ws_row;
	e->cols = tty->winsize.ws_col;
	e->data_len = 0;
	e->oflag = tty->termios.c_oflag;
	__builtin_memcpy(e->tty, tty->name, sizeof(e->tty) - 1);
	e->tty[sizeof(e->tty) - 1] = 0;
	return e;
}

/* Charge `n` bytes to the terminal's budget for this audit session. Returns the bytes that
 * may still be captured (0 when spent); *first_over is set on the call that spends it. */
static __always_inline __u64 tty__charge(struct task_struct *task, __u32 dev, __u64 n,
					 bool *first_over)
{
	struct pw_tty_budget_key key = { .sessionid = task->sessionid, .dev = dev };
	__u64 *used = bpf_map_lookup_elem(&tty_budget, &key);
	__u64 zero = 0;

	*first_over = false;
	if (!used) {
		bpf_map_update_elem(&tty_budget, &key, &zero, BPF_NOEXIST);
		used = bpf_map_lookup_elem(&tty_budget, &key);
		if (!used)
			return n; /* map full of live entries: do not lose data for it */
	}
	__u64 limit = cfg_tty_session_max_bytes;
	__u64 u = *used;
	if (u >= limit)
		return 0;
	if (n >= limit - u) {
		*first_over = true;
		n = limit - u;
	}
	__sync_fetch_and_add(used, n);
	return n;
}

static __always_inline int tty__io(struct pw_sys_exit_ctx *ctx, __u32 op)
{
	long ret = ctx->ret;

	if (ret <= 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (!subject__monitored(task))
		return 0;
	struct sc_args a;
	if (sc_args__read(ctx, task, &a))
		return 0;
	struct file *file = fd__file(task, (int)a.a[0]);
	if (!file || tty__side(file) != PW_TTY_SIDE_TERMINAL)
		return 0;
	struct tty_struct *tty = tty__of(file);
	if (!tty)
		return 0;

	struct pw_tty *e = tty__record(task, a.nr, tty, op, ret);
	if (!e)
		return 0;
	e->hdr.flags |= PW_F_MONITORED;

	if (op == PW_TTY_INPUT) {
		__u32 lflag = tty->termios.c_lflag;
		/* Echo off in canonical mode: a password prompt (getpass, sudo, ssh, passwd).
		 * Raw-mode programs (readline, editors) turn echo off too but echo themselves;
		 * their input is recorded. */
		if (!(lflag & PW_ECHO) && (lflag & PW_ICANON)) {
			e->tty_flags |= PW_TTY_ECHO_OFF;
			rec__submit(e, sizeof(*e), PW_EV_TTY);
			return 0;
		}
	}

	bool over = false;
	__u64 n = tty__charge(task, e->dev, (__u64)ret, &over);
	if (n == 0 && !over) {
		counter__inc(PW_EV_TTY, PW_CNT_TRUNCATED); /* budget spent: counted, not sent */
		return 0;
	}
	if (over)
		e->tty_flags |= PW_TTY_SESSION_LIMIT;
	__u32 max = cfg_tty_max_bytes;
	if (max > PW_TTY_DATA_MAX)
		max = PW_TTY_DATA_MAX;
	if (n > max)
		n = max;
	if (n < (__u64)ret) {
		e->tty_flags |= PW_TTY_TRUNCATED;
		e->hdr.flags |= PW_F_TRUNCATED;
	}
	__u32 len = n;
	if (len > PW_TTY_DATA_MAX)
		len = PW_TTY_DATA_MAX;
	if (len > 0) {
		__u8 *data = (__u8 *)(e + 1);
		if (bpf_probe_read_user(data, len, (void *)a.a[1])) {
			e->tty_flags |= PW_TTY_READ_FAIL;
			e->hdr.flags |= PW_F_READ_FAIL;
			len = 0;
		}
	}
	e->data_len = len;
	rec__count_flags(&e->hdr);
	rec__submit(e, sizeof(*e) + len, PW_EV_TTY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int handle_tty_write(struct pw_sys_exit_ctx *ctx)
{
	return tty__io(ctx, PW_TTY_OUTPUT);
}

SEC("tracepoint/syscalls/sys_exit_read")
int handle_tty_read(struct pw_sys_exit_ctx *ctx)
{
	return tty__io(ctx, PW_TTY_INPUT);
}

/* Window-size changes of any terminal (rare: no subject filter), from either side. */
SEC("tracepoint/syscalls/sys_exit_ioctl")
int handle_tty_ioctl(struct pw_sys_exit_ctx *ctx)
{
	if (ctx->ret != 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct sc_args a;
	if (sc_args__read(ctx, task, &a))
		return 0;
	if ((__u32)a.a[1] != PW_TIOCSWINSZ)
		return 0;
	if (task->tgid == cfg_agent_tgid)
		return 0;
	struct file *file = fd__file(task, (int)a.a[0]);
	if (!file)
		return 0;
	int side = tty__side(file);
	if (side == PW_TTY_SIDE_NONE)
		return 0;
	struct tty_struct *tty = tty__of(file);
	if (!tty)
		return 0;
	if (side == PW_TTY_SIDE_MASTER) {
		struct tty_struct *slave = tty->link;
		if (!slave)
			return 0;
		tty = PW_CAST(struct tty_struct, slave);
	}
	struct pw_tty *e = tty__record(task, a.nr, tty, PW_TTY_RESIZE, 0);
	if (!e)
		return 0;
	if (subject__monitored(task))
		e->hdr.flags |= PW_F_MONITORED;
	rec__submit(e, sizeof(*e), PW_EV_TTY);
	return 0;
}
