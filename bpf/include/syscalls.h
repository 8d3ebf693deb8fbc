/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Syscall numbers the family programs switch on (ctx->id of the syscall tracepoints).
 * Which syscalls are observed is decided by the tracepoint stubs in privwatch.bpf.c. */
#ifndef PRIVWATCH_SYSCALLS_H
#define PRIVWATCH_SYSCALLS_H

#if defined(__TARGET_ARCH_x86) || defined(__x86_64__)
#define PW_NR_open 2
#define PW_NR_creat 85
#define PW_NR_openat 257
#define PW_NR_openat2 437
#define PW_NR_unlink 87
#define PW_NR_unlinkat 263
#define PW_NR_rmdir 84
#define PW_NR_mkdir 83
#define PW_NR_mkdirat 258
#define PW_NR_rename 82
#define PW_NR_renameat 264
#define PW_NR_renameat2 316
#define PW_NR_chmod 90
#define PW_NR_fchmod 91
#define PW_NR_fchmodat 268
#define PW_NR_fchmodat2 452
#define PW_NR_chown 92
#define PW_NR_fchown 93
#define PW_NR_lchown 94
#define PW_NR_fchownat 260
#define PW_NR_link 86
#define PW_NR_linkat 265
#define PW_NR_symlink 88
#define PW_NR_symlinkat 266
#define PW_NR_truncate 76
#define PW_NR_execve 59
#define PW_NR_execveat 322
#define PW_NR_connect 42
#define PW_NR_accept 43
#define PW_NR_accept4 288
#define PW_NR_bind 49
#define PW_NR_listen 50
#define PW_NR_setuid 105
#define PW_NR_setgid 106
#define PW_NR_setreuid 113
#define PW_NR_setregid 114
#define PW_NR_setgroups 116
#define PW_NR_setresuid 117
#define PW_NR_setresgid 119
#define PW_NR_setfsuid 122
#define PW_NR_setfsgid 123
#define PW_NR_capset 126
#define PW_NR_ptrace 101
#define PW_NR_init_module 175
#define PW_NR_finit_module 313
#define PW_NR_delete_module 176
#define PW_NR_bpf 321
#define PW_NR_mount 165
#define PW_NR_umount2 166
#define PW_NR_kill 62
#define PW_NR_tkill 200
#define PW_NR_tgkill 234
#else
#error "privwatch: syscall numbers not defined for this architecture"
#endif

#endif
