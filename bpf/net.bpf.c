/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Network family: connect (always for IPv4/IPv6), accept (monitored subjects),
 * bind and listen (IPv4/IPv6 always, other families for monitored subjects). */
#include "common.bpf.h"
#include "syscalls.h"

#define PW_S_IFMT 00170000
#define PW_S_IFSOCK 0140000

static __always_inline struct socket *net__socket(struct task_struct *task, long fd)
{
	struct file *file = fd__file(task, fd);

	if (!file)
		return 0;
	if ((file->f_inode->i_mode & PW_S_IFMT) != PW_S_IFSOCK)
		return 0;
	return PW_CAST(struct socket, file->private_data);
}

/* Local and remote endpoint from the kernel socket. */
static __always_inline void net__from_sock(struct pw_net *e, struct socket *sock)
{
	struct sock *sk = sock->sk;

	e->sock_type = sock->type;
	if (!sk)
		return;
	e->protocol = sk->sk_protocol;
	e->family = sk->__sk_common.skc_family;
	e->local_port = sk->__sk_common.skc_num;
	e->remote_port = bpf_ntohs(sk->__sk_common.skc_dport);
	if (e->family == PW_AF_INET) {
		bpf_probe_read_kernel(e->local_addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_probe_read_kernel(e->remote_addr, 4, &sk->__sk_common.skc_daddr);
	} else if (e->family == PW_AF_INET6) {
		bpf_probe_read_kernel(e->local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_probe_read_kernel(e->remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* Endpoint from a user sockaddr (connect target, bind address). */
static __always_inline void net__from_user(struct pw_net *e, const void *uaddr, bool remote,
					   __u8 *rec, __u32 *tail)
{
	__u8 buf[28] = {};

	if (!uaddr || bpf_probe_read_user(buf, 2, uaddr))
		return;
	e->family = *(__u16 *)buf;
	if (e->family == PW_AF_INET) {
		bpf_probe_read_user(buf, 16, uaddr);
		__u16 port = bpf_ntohs(*(__u16 *)&buf[2]);
		if (remote) {
			e->remote_port = port;
			__builtin_memcpy(e->remote_addr, &buf[4], 4);
		} else {
			e->local_port = port;
			__builtin_memcpy(e->local_addr, &buf[4], 4);
		}
	} else if (e->family == PW_AF_INET6) {
		bpf_probe_read_user(buf, 24, uaddr);
		__u16 port = bpf_ntohs(*(__u16 *)&buf[2]);
		if (remote) {
			e->remote_port = port;
			__builtin_memcpy(e->remote_addr, &buf[8], 16);
		} else {
			e->local_port = port;
			__builtin_memcpy(e->local_addr, &buf[8], 16);
		}
	} else if (e->family == PW_AF_UNIX) {
		str__user(rec, tail, &e->unix_path, (const char *)uaddr + 2, 108);
	}
}

/* respond.kill: the destination of a monitored connect matches a kill entry (exact port or
 * any port), or the process's session is quarantined. */
static __always_inline void net__enforce(struct task_struct *task, struct pw_net *e)
{
	__u32 armed = pw_kill_armed;

	if (kill__session_match(task, armed))
		goto kill;
	if (!(armed & PW_KILL_NET) || (e->family != PW_AF_INET && e->family != PW_AF_INET6))
		return;
	struct pw_kill_net_key key = {};
	key.prefixlen = 32 + (e->family == PW_AF_INET ? 32 : 128);
	key.family = e->family;
	key.port = e->remote_port;
	__builtin_memcpy(key.addr, e->remote_addr, 16);
	if (e->family == PW_AF_INET6) {
		/* an IPv4-mapped address (::ffff:a.b.c.d) reaches an IPv4 destination: match
		 * it against the IPv4 entries, or a v6 socket would evade them */
		__u32 w0, w1, w2;
		__builtin_memcpy(&w0, &e->remote_addr[0], 4);
		__builtin_memcpy(&w1, &e->remote_addr[4], 4);
		__builtin_memcpy(&w2, &e->remote_addr[8], 4);
		if (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0xffff)) {
			key.prefixlen = 32 + 32;
			key.family = PW_AF_INET;
			__builtin_memset(key.addr, 0, 16);
			__builtin_memcpy(key.addr, &e->remote_addr[12], 4);
		}
	}
	if (bpf_map_lookup_elem(&kill_net, &key))
		goto kill;
	key.port = 0;
	if (bpf_map_lookup_elem(&kill_net, &key))
		goto kill;
	return;
kill:
	kill__now(task, &e->hdr, PW_EV_NET);
}

SEC("tracepoint")
int family_net(struct pw_sys_exit_ctx *ctx)
{
	long ret = ctx->ret;
	struct sc_args a;
	__u16 family = 0;

	struct task_struct *task = bpf_get_current_task_btf();

	if (sc_args__read(ctx, task, &a))
		return 0;
	bool monitored = subject__monitored(task);
	const void *uaddr = 0;

	switch (a.nr) {
	case PW_NR_connect:
	case PW_NR_bind:
		uaddr = (const void *)a.a[1];
		if (uaddr)
			bpf_probe_read_user(&family, sizeof(family), uaddr);
		if (!monitored && family != PW_AF_INET && family != PW_AF_INET6)
			return 0;
		break;
	case PW_NR_accept:
	case PW_NR_accept4:
		if (!monitored || ret < 0)
			return 0;
		break;
	case PW_NR_listen:
		break;
	default:
		return 0;
	}

	__u8 *rec = rec__scratch();
	if (!rec) {
		counter__inc(PW_EV_NET, PW_CNT_SCRATCH_FAIL);
		return 0;
	}
	struct pw_net *e = (void *)rec;
	__u32 tail = sizeof(*e);

	__builtin_memset(&e->result, 0, sizeof(*e) - sizeof(e->hdr));
	rec__header(&e->hdr, PW_EV_NET, a.nr, task);
	e->result = ret;
	e->fd = (int)a.a[0];
	switch (a.nr) {
	case PW_NR_connect: {
		struct socket *sock = net__socket(task, e->fd);
		e->op = PW_NET_CONNECT;
		if (sock)
			net__from_sock(e, sock); /* local address once bound */
		net__from_user(e, uaddr, true, rec, &tail);
		if (monitored && pw_kill_armed)
			net__enforce(task, e);
		break;
	}
	case PW_NR_bind: {
		struct socket *sock = net__socket(task, e->fd);
		e->op = PW_NET_BIND;
		if (sock) {
			e->sock_type = sock->type;
			if (sock->sk)
				e->protocol = sock->sk->sk_protocol;
		}
		net__from_user(e, uaddr, false, rec, &tail);
		if (sock && ret == 0 && sock->sk && e->local_port == 0)
			e->local_port = sock->sk->__sk_common.skc_num; /* port 0: the one assigned */
		break;
	}
	case PW_NR_accept:
	case PW_NR_accept4: {
		struct socket *sock = net__socket(task, ret);
		e->op = PW_NET_ACCEPT;
		e->fd = ret;
		if (sock)
			net__from_sock(e, sock);
		break;
	}
	case PW_NR_listen: {
		struct socket *sock = net__socket(task, e->fd);
		e->op = PW_NET_LISTEN;
		e->backlog = a.a[1];
		if (sock)
			net__from_sock(e, sock);
		if (!monitored && e->family != PW_AF_INET && e->family != PW_AF_INET6)
			return 0;
		break;
	}
	}
	if (monitored)
		e->hdr.flags |= PW_F_MONITORED;
	rec__note_str(&e->hdr, &e->unix_path);
	rec__count_flags(&e->hdr);
	rec__submit(rec, tail, PW_EV_NET);
	return 0;
}
