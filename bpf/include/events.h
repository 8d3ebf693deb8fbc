/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * events.h — the ONLY contract between the kernel programs and user space.
 *
 * Rules:
 *  - fixed-width types, explicit padding, every struct a multiple of 8 bytes;
 *  - every record starts with struct pw_event_hdr {type, version, size};
 *  - variable-length strings live after the fixed payload and are referenced by
 *    struct pw_str {offset from record start, length without NUL, flags};
 *  - any change to a layout bumps PRIVWATCH_EVENTS_SCHEMA_VERSION. User space
 *    refuses an object whose schema version differs (rodata `pw_schema_version`).
 *
 * Included from BPF C (vmlinux.h provides __u8.. types) and from C++ (linux/types.h).
 */
#ifndef PRIVWATCH_EVENTS_H
#define PRIVWATCH_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PRIVWATCH_EVENTS_SCHEMA_VERSION 2

/* Bounds shared by both sides. */
#define PW_COMM_LEN 16
#define PW_TTY_LEN 16
#define PW_PATH_MAX 4096        /* longest path string, including NUL */
#define PW_PATH_COMPONENTS 64   /* dentry walk depth */
#define PW_ARGS_MAX 8192        /* hard cap on captured argv bytes */
#define PW_RECORD_MAX 32768     /* largest record (power of two) */
#define PW_SENSITIVE_KEY_MAX 128 /* sensitive path prefix bytes (LPM trie key) */

enum pw_event_type {
	PW_EV_NONE = 0,
	PW_EV_EXEC = 1,    /* sched_process_exec, or a failed execve/execveat */
	PW_EV_FORK = 2,    /* a new process (not a thread) */
	PW_EV_EXIT = 3,    /* last thread of a process exited */
	PW_EV_FILE = 4,    /* open/creat/unlink/rename/chmod/chown/mkdir... see pw_file_op */
	PW_EV_NET = 5,     /* connect/accept/bind/listen, see pw_net_op */
	PW_EV_CRED = 6,    /* setuid/setgid families, setgroups, capset */
	PW_EV_PTRACE = 7,
	PW_EV_MODULE = 8,  /* init_module, finit_module, delete_module */
	PW_EV_BPF = 9,     /* bpf() program load / attach */
	PW_EV_MOUNT = 10,  /* mount, umount2 */
	PW_EV_SIGNAL = 11, /* a signal sent to the agent */
	PW_EV_TTY = 12,    /* terminal output/input of a monitored subject, window size, echo-off gap */
	PW_EV_MAX = 13,
};

/* Per-event-type counters (per-CPU array indexed type * PW_CNT_MAX + cause). */
enum pw_counter {
	PW_CNT_EMITTED = 0,       /* records written to the ring buffer */
	PW_CNT_RINGBUF_FULL = 1,  /* ring buffer output failed: record lost */
	PW_CNT_READ_FAIL = 2,     /* a kernel/user read failed: record emitted with a hole */
	PW_CNT_TRUNCATED = 3,     /* a string or argv was cut at its bound */
	PW_CNT_SCRATCH_FAIL = 4,  /* no scratch buffer: record lost */
	PW_CNT_KILLED = 5,        /* the kernel sent SIGKILL at this syscall (respond.kill) */
	PW_CNT_MAX = 6,
};

/* pw_event_hdr.flags */
#define PW_F_MONITORED (1u << 0) /* subject matched the monitoring filter */
#define PW_F_SENSITIVE (1u << 1) /* a path touched a configured sensitive area */
#define PW_F_READ_FAIL (1u << 2) /* some field could not be read */
#define PW_F_TRUNCATED (1u << 3) /* some string was truncated */
#define PW_F_KILLED (1u << 4)    /* the kernel sent SIGKILL at this syscall (respond.kill) */

/* pw_str.flags */
#define PW_STR_TRUNCATED (1u << 0)
#define PW_STR_READ_FAIL (1u << 1)

struct pw_str {
	__u16 off;   /* offset from the start of the record; 0 = absent */
	__u16 len;   /* bytes, without a terminating NUL */
	__u16 flags; /* PW_STR_* */
	__u16 _pad;
};

/* Process context carried by every record. */
struct pw_proc {
	__u64 start_ns;        /* thread group leader start, boot-time ns (start_boottime) */
	__u64 parent_start_ns; /* real parent's leader start, boot-time ns */
	__u64 cgroup_id;       /* cgroup v2 id (kernfs inode) */
	__u32 pid;             /* tgid */
	__u32 tid;
	__u32 ppid;            /* real parent tgid */
	__u32 uid, euid, gid, egid;
	__u32 suid, fsuid;
	__u32 loginuid;        /* audit loginuid; 4294967295 = unset */
	__u32 sessionid;       /* audit session id; 4294967295 = unset */
	__u32 tty_dev;         /* (major << 20) | minor, 0 = none */
	__u32 pidns_ino;
	__u32 mntns_ino;
	__u32 _pad0;
	char comm[PW_COMM_LEN];
	char tty[PW_TTY_LEN];  /* e.g. "pts3", "tty1"; empty without a controlling tty */
};

struct pw_event_hdr {
	__u16 type;    /* enum pw_event_type */
	__u16 version; /* PRIVWATCH_EVENTS_SCHEMA_VERSION */
	__u32 size;    /* whole record, header and strings included */
	__u64 ts_ns;   /* bpf_ktime_get_boot_ns() */
	__u32 flags;   /* PW_F_* */
	__u32 syscall; /* syscall number that produced the record, or ~0 for scheduler events */
	struct pw_proc proc;
};

/* --- exec ------------------------------------------------------------------ */
#define PW_EXEC_MEMFD (1u << 0)       /* executable is a memfd */
#define PW_EXEC_DELETED (1u << 1)     /* executable has no links left (deleted file) */
#define PW_EXEC_SETUID (1u << 2)      /* executable has S_ISUID */
#define PW_EXEC_SETGID (1u << 3)      /* executable has S_ISGID */
#define PW_EXEC_ARGS_TRUNC (1u << 4)  /* argv longer than the configured bound */
#define PW_EXEC_FAILED (1u << 5)      /* execve returned an error (result) */

struct pw_exec {
	struct pw_event_hdr hdr;
	__s64 result;        /* 0, or -errno for a failed execve */
	__u32 exec_flags;    /* PW_EXEC_* */
	__u32 args_size;     /* full argv size in bytes in the process (before truncation) */
	__u32 exe_mode;      /* inode mode of the executable */
	__u32 exe_uid;       /* owner of the executable */
	__u64 exe_ino;
	__u32 exe_dev;
	__u32 _pad;
	struct pw_str filename; /* as passed to execve */
	struct pw_str exe_path; /* absolute path of the executed file (dentry walk) */
	struct pw_str args;     /* NUL-separated argv */
	struct pw_str cwd;
};

/* --- fork / exit ------------------------------------------------------------ */
struct pw_fork {
	struct pw_event_hdr hdr;   /* context: the parent */
	__u64 child_start_ns;
	__u32 child_pid;
	__u32 _pad;
};

struct pw_exit {
	struct pw_event_hdr hdr;
	__u32 exit_code;  /* raw wait status: (status << 8) | core << 7 | signal */
	__u32 _pad;
};

/* --- file -------------------------------------------------------------------- */
enum pw_file_op {
	PW_FILE_OPEN = 1,
	PW_FILE_UNLINK = 2,
	PW_FILE_RENAME = 3,
	PW_FILE_CHMOD = 4,
	PW_FILE_CHOWN = 5,
	PW_FILE_MKDIR = 6,
	PW_FILE_RMDIR = 7,
	PW_FILE_LINK = 8,
	PW_FILE_SYMLINK = 9,
	PW_FILE_TRUNCATE = 10,
};

#define PW_FILE_CREATED (1u << 0)  /* open created the file (FMODE_CREATED) */
#define PW_FILE_WRITE (1u << 1)    /* opened for writing, or a modifying operation */
#define PW_FILE_FD_BASED (1u << 2) /* fchmod/fchown: path comes from the fd */

struct pw_file {
	struct pw_event_hdr hdr;
	__s64 result;     /* fd or 0 on success, -errno on failure */
	__u32 op;         /* enum pw_file_op */
	__s32 dirfd;      /* AT_FDCWD (-100) or a directory fd */
	__u32 open_flags; /* O_* for opens; AT_* flags for *at calls */
	__u32 mode;       /* requested mode (open with O_CREAT, chmod, mkdir) */
	__u32 uid;        /* chown target uid (~0 = unchanged) */
	__u32 gid;        /* chown target gid */
	__u32 file_flags; /* PW_FILE_* */
	__u32 _pad;
	struct pw_str path;      /* as passed by the process */
	struct pw_str base;      /* directory a relative path resolves against (cwd or dirfd) */
	struct pw_str resolved;  /* absolute path from the kernel's file (successful opens) */
	struct pw_str path2;     /* rename / link target as passed */
	struct pw_str base2;     /* directory the relative target resolves against */
};

/* --- network ----------------------------------------------------------------- */
enum pw_net_op {
	PW_NET_CONNECT = 1,
	PW_NET_ACCEPT = 2,
	PW_NET_BIND = 3,
	PW_NET_LISTEN = 4,
};

struct pw_net {
	struct pw_event_hdr hdr;
	__s64 result;
	__u32 op;          /* enum pw_net_op */
	__s32 fd;          /* socket fd (for accept: the new fd on success) */
	__u16 family;      /* AF_INET, AF_INET6, AF_UNIX */
	__u16 sock_type;   /* SOCK_STREAM, SOCK_DGRAM... (0 = unknown) */
	__u16 protocol;    /* IPPROTO_* (0 = unknown) */
	__u16 local_port;  /* host byte order */
	__u16 remote_port; /* host byte order */
	__u16 _pad0;
	__u32 backlog;     /* listen */
	__u8 local_addr[16];  /* IPv4 in the first 4 bytes */
	__u8 remote_addr[16];
	struct pw_str unix_path; /* AF_UNIX peer/bound path */
};

/* --- credentials ---------------------------------------------------------- */
struct pw_creds {
	__u32 uid, euid, suid, fsuid;
	__u32 gid, egid, sgid, fsgid;
	__u64 cap_effective;
	__u64 cap_permitted;
};

struct pw_cred {
	struct pw_event_hdr hdr;  /* hdr.proc holds the credentials after the call */
	__s64 result;
	__u64 arg[3];             /* requested ids / capset header, as passed */
	struct pw_creds before;
	struct pw_creds after;
	__u32 before_valid;       /* 0 when the entry record was not available */
	__u32 _pad;
};

/* --- tampering / kernel surface ---------------------------------------------- */
struct pw_ptrace {
	struct pw_event_hdr hdr;
	__s64 result;
	__s64 request;
	__u32 target_pid;
	__u32 _pad;
};

enum pw_module_op { PW_MODULE_INIT = 1, PW_MODULE_FINIT = 2, PW_MODULE_DELETE = 3 };

struct pw_module {
	struct pw_event_hdr hdr;
	__s64 result;
	__u32 op;       /* enum pw_module_op */
	__u32 flags;
	struct pw_str name; /* module file path (finit) or name (delete), may be absent for init */
	struct pw_str params;
};

struct pw_bpf {
	struct pw_event_hdr hdr;
	__s64 result;
	__u32 cmd;        /* BPF_PROG_LOAD, BPF_LINK_CREATE, ... */
	__u32 prog_type;  /* for BPF_PROG_LOAD */
	char prog_name[16];
};

enum pw_mount_op { PW_MOUNT_MOUNT = 1, PW_MOUNT_UMOUNT = 2 };

struct pw_mount {
	struct pw_event_hdr hdr;
	__s64 result;
	__u64 flags;
	__u32 op;
	__u32 _pad;
	struct pw_str source;
	struct pw_str target;
	struct pw_str fstype;
};

struct pw_signal {
	struct pw_event_hdr hdr;
	__s64 result;
	__u32 target_pid;
	__u32 sig;
};

/* --- terminal I/O (session recording) ---------------------------------------- */
#define PW_TTY_DATA_MAX 16384 /* hard cap on bytes captured per record (power of two) */

enum pw_tty_op {
	PW_TTY_OUTPUT = 1, /* write() to a terminal: what the user sees */
	PW_TTY_INPUT = 2,  /* read() from a terminal: what the user typed */
	PW_TTY_RESIZE = 3, /* TIOCSWINSZ on the terminal (or on its pty master) */
};

#define PW_TTY_ECHO_OFF (1u << 0)      /* input read with echo off in canonical mode (a
					* password prompt): data NOT captured, a gap */
#define PW_TTY_TRUNCATED (1u << 1)     /* more bytes than capture bound: data cut */
#define PW_TTY_SESSION_LIMIT (1u << 2) /* the terminal's per-session byte budget is spent;
					* this record is the last one until the session ends */
#define PW_TTY_READ_FAIL (1u << 3)     /* the user buffer could not be read: data absent */

struct pw_tty {
	struct pw_event_hdr hdr;
	__s64 result;      /* bytes written / read (the full count, before truncation) */
	__u32 op;          /* enum pw_tty_op */
	__u32 tty_flags;   /* PW_TTY_* */
	__u32 dev;         /* the terminal: (major << 20) | minor (the slave of a pty master) */
	__u16 rows, cols;  /* window size of the terminal after the call */
	__u32 data_len;    /* bytes of data following this struct */
	__u32 oflag;       /* termios c_oflag of the terminal (OPOST|ONLCR: "\n" shown as "\r\n") */
	char tty[PW_TTY_LEN]; /* terminal name, e.g. "pts3" */
	/* __u8 data[data_len] follows (raw bytes, not NUL-terminated) */
};

/* Key of the per-terminal byte budget map (one budget per audit session and terminal). */
struct pw_tty_budget_key {
	__u32 sessionid;
	__u32 dev;
};

/* Key of the subject filter map (monitor.* in the configuration). */
enum pw_subject_kind {
	PW_SUBJ_UID = 1,
	PW_SUBJ_GID = 2,
	PW_SUBJ_LOGINUID = 3,
	PW_SUBJ_SESSION = 4,
	PW_SUBJ_CGROUP = 5,
};

struct pw_subject_key {
	__u32 kind;
	__u32 _pad;
	__u64 value;
};

struct pw_sensitive_key {
	__u32 prefixlen; /* bits */
	char path[PW_SENSITIVE_KEY_MAX];
};

/* In-kernel enforcement (respond.kill and quarantined sessions): map keys, and the bits of
 * pw_kill_armed (.bss) that say which maps hold entries. A monitored process whose exec or
 * connect matches is sent SIGKILL by the kernel at that syscall; its record carries
 * PW_F_KILLED. Values are the entry number (index in respond.kill + 1). */
#define PW_KILL_EXE (1u << 0)
#define PW_KILL_NET (1u << 1)
#define PW_KILL_SESSION (1u << 2)

struct pw_kill_exe_key {
	__u64 ino;
	__u32 dev; /* kernel encoding: (major << 20) | minor, as pw_exec.exe_dev */
	__u32 _pad;
};

/* LPM trie key: family and port are always compared (prefixlen >= 32); the address is
 * compared over prefixlen - 32 bits. port 0 in an entry = any port (user space looks up
 * the actual port, then port 0). */
struct pw_kill_net_key {
	__u32 prefixlen;
	__u16 family;
	__u16 port; /* host byte order */
	__u8 addr[16];
};

#endif /* PRIVWATCH_EVENTS_H */
