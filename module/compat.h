/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference tcpstates cares about lives here, so the
 * .c files are written against one API.  Included by each file that
 * touches a kernel structure (main.c does not: see there).
 *
 * Supported: 5.10.y, and 6.1 to today's mainline.  Tested in QEMU on
 * Debian's 5.10, 6.1, 6.12 and sid's and experimental's 7.x kernels.
 */
#ifndef _TCPSTATES_COMPAT_H
#define _TCPSTATES_COMPAT_H

#include <linux/version.h>

/*
 * 5.11 to 6.0 are refused rather than guessed: between them the listener
 * table, the TIME_WAIT count and tcp_death_row itself (a pointer around
 * 5.18-6.0) each change shape, and a module that walked the wrong list
 * would build cleanly and Oops on the first read.
 */
#if KERNEL_VERSION(5, 10, 0) > LINUX_VERSION_CODE || \
	(KERNEL_VERSION(5, 11, 0) <= LINUX_VERSION_CODE && \
	 KERNEL_VERSION(6, 1, 0) > LINUX_VERSION_CODE)
#error "tcpstates supports Linux 5.10.y and 6.1 or later"
#endif

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/refcount.h>
#include <net/inet_hashtables.h>
#include <net/inet_timewait_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/tcp.h>

/*
 * tw_substate is "volatile unsigned char" on older kernels and a plain
 * field written with WRITE_ONCE on 6.12 (a timewait sock changes substate
 * on a FIN while we walk it).  READ_ONCE is right for all.
 */
static inline int tcpstates_tw_substate(const struct inet_timewait_sock *tw)
{
	return READ_ONCE(tw->tw_substate);
}

/*
 * The table a netns's established sockets live in: the global one, or
 * (6.1+) its own when it was created with net.ipv4.tcp_child_ehash_entries
 * set in its parent.  tcp_hashinfo is not exported on Debian's 6.12.
 */
static inline struct inet_hashinfo *tcpstates_hashinfo(const struct net *net)
{
	return net->ipv4.tcp_death_row.hashinfo;
}

static inline int *tcpstates_max_tw_buckets(struct net *net)
{
	return &net->ipv4.tcp_death_row.sysctl_max_tw_buckets;
}

/*
 * tcp_tw_reuse is a u8 on the kernels we build for, an int on some older
 * 5.10.y: go through the field's own type.
 */
static inline int tcpstates_tw_reuse_get(const struct net *net)
{
	return READ_ONCE(net->ipv4.sysctl_tcp_tw_reuse);
}

static inline void tcpstates_tw_reuse_set(struct net *net, int val)
{
	WRITE_ONCE(net->ipv4.sysctl_tcp_tw_reuse, val);
}

/*
 * A TcpExt counter of @net summed over the CPUs.  snmp_fold_field() is
 * not exported on 7.x (IPv6 can no longer be a module);
 * snmp_get_cpu_field() exists on every supported kernel.
 */
static inline unsigned long tcpstates_mib(struct net *net, int field)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += snmp_get_cpu_field(net->mib.net_statistics, cpu, field);
	return sum;
}

#if KERNEL_VERSION(6, 1, 0) <= LINUX_VERSION_CODE

/* What /proc/net/sockstat prints as "tw": every timewait sock of @net. */
static inline int tcpstates_tw_count(const struct net *net)
{
	return refcount_read(&net->ipv4.tcp_death_row.tw_refcount) - 1;
}

static inline bool tcpstates_private_ehash(const struct inet_hashinfo *h)
{
	return h->pernet;
}

/*
 * Listeners: lhash2, nulls-terminated and linked through sk_nulls_node,
 * always the global table.
 */
static inline unsigned int
tcpstates_listen_slots(const struct inet_hashinfo *h)
{
	return h->lhash2_mask + 1;
}

static inline struct hlist_nulls_head *
tcpstates_listen_chain(struct inet_hashinfo *h, unsigned int slot)
{
	return &h->lhash2[slot].nulls_head;
}

/*
 * The chains a listener on @skc's local port in @skc's netns would be on:
 * lhash2 hashes a listener by address and port, so the wildcard's chain
 * and @skc's own address's (as the kernel's lookup of a SYN tries them).
 * A listener on another of the host's addresses is not found.
 */
static inline unsigned int
tcpstates_port_slots(const struct sock_common *skc,
		     const struct inet_hashinfo *h, unsigned int *slots)
{
	const struct net *net = read_pnet(&skc->skc_net);
	unsigned short port = skc->skc_num;
	u32 own;

#if IS_ENABLED(CONFIG_IPV6)
	if (skc->skc_family == AF_INET6)
		own = ipv6_portaddr_hash(net, &skc->skc_v6_rcv_saddr, port);
	else
#endif
		own = ipv4_portaddr_hash(net, skc->skc_rcv_saddr, port);
	slots[0] = ipv4_portaddr_hash(net, 0, port) & h->lhash2_mask;
	slots[1] = own & h->lhash2_mask;
	return slots[0] == slots[1] ? 1 : 2;
}

#else /* 5.10.y */

static inline int tcpstates_tw_count(const struct net *net)
{
	return atomic_read(&net->ipv4.tcp_death_row.tw_count);
}

/* Private ehash tables came with 6.1. */
static inline bool tcpstates_private_ehash(const struct inet_hashinfo *h)
{
	return false;
}

/*
 * Listeners: 5.10's lhash2 links them through icsk_listen_portaddr_node
 * on plain hlists, which a nulls walk would run off the end of.  Its
 * nulls-terminated table is listening_hash, linked by sk_nulls_node.
 */
static inline unsigned int
tcpstates_listen_slots(const struct inet_hashinfo *h)
{
	return INET_LHTABLE_SIZE;
}

static inline struct hlist_nulls_head *
tcpstates_listen_chain(struct inet_hashinfo *h, unsigned int slot)
{
	return &h->listening_hash[slot].nulls_head;
}

/* listening_hash is by port alone: one chain holds them all. */
static inline unsigned int
tcpstates_port_slots(const struct sock_common *skc,
		     const struct inet_hashinfo *h, unsigned int *slots)
{
	slots[0] = inet_lhashfn(read_pnet(&skc->skc_net), skc->skc_num);
	return 1;
}

#endif

/*
 * Milliseconds since a SYN_SENT socket sent its first SYN.  tcp_connect()
 * stamps retrans_stamp with the socket's TS clock, tcp_clock_us() in
 * milliseconds or (6.7+, a route with tcp_usec_ts) in microseconds, and
 * retransmissions of the SYN keep it.  0 is a socket hashed by connect()
 * whose SYN is not stamped yet: it is new.  The u32 wraps after 49.7 days
 * of milliseconds, 71 minutes of microseconds.
 */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
static inline u64 tcpstates_syn_sent_ms(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	u32 stamp = READ_ONCE(tp->retrans_stamp);
	u64 now = tcp_clock_us();

	if (!stamp)
		return 0;
	if (tp->tcp_usec_ts)
		return ((u32)now - stamp) / USEC_PER_MSEC;
	return (u32)div_u64(now, USEC_PER_MSEC) - stamp;
}
#else
static inline u64 tcpstates_syn_sent_ms(const struct sock *sk)
{
	u32 stamp = READ_ONCE(tcp_sk(sk)->retrans_stamp);

	if (!stamp)
		return 0;
	return (u32)div_u64(tcp_clock_us(), USEC_PER_MSEC) - stamp;
}
#endif

/* Both listener tables end chain i with this nulls value. */
static inline unsigned long tcpstates_listen_nulls(unsigned int slot)
{
	return slot + LISTENING_NULLS_BASE;
}

/*
 * The timewait hand-over's name: inet_twsk_hashdance() up to 6.9,
 * inet_twsk_hashdance_schedule() since (it arms the timer too).  Both take
 * (tw, sk, hashinfo, ...).  Tried in this order by transitions.c.
 */
static const char * const tcpstates_hashdance_syms[] __maybe_unused = {
	"inet_twsk_hashdance_schedule",
	"inet_twsk_hashdance",
	NULL,
};

/*
 * A request's drop: the core __inet_csk_reqsk_queue_drop(sk, req, ...)
 * where it exists (6.12, and Debian's 5.10 and 6.1), which the request
 * timer calls directly; else the exported inet_csk_reqsk_queue_drop(sk,
 * req), the one way in there.  Either returns true when it took the
 * request out of the ehash: never for a completed handshake, whose child
 * has replaced the request there already.  Tried in this order.
 */
static const char * const tcpstates_reqdrop_syms[] __maybe_unused = {
	"__inet_csk_reqsk_queue_drop",
	"inet_csk_reqsk_queue_drop",
	NULL,
};

/* A bool a kretprobed function returned: %al, the rest of %rax undefined. */
static inline bool tcpstates_kretprobe_bool(struct pt_regs *regs)
{
	return (u8)regs_return_value(regs);
}

/*
 * Did inet_csk_reqsk_queue_hash_add() hash the request?  Since the fix for
 * duplicate requests (mainline in 2024, and the stable kernels it went
 * to: Debian's 6.1 has it, its 5.10 not) it returns false when an
 * identical request was there first, and its caller frees the new one;
 * before, it returned nothing and always hashed.  The kernel's own
 * prototype says which.
 */
static inline bool tcpstates_reqsk_hashed(struct pt_regs *regs)
{
	if (__builtin_types_compatible_p(typeof(inet_csk_reqsk_queue_hash_add),
					 void (struct sock *, struct request_sock *,
					       unsigned long)))
		return true;
	return tcpstates_kretprobe_bool(regs);
}

/* A kprobed function's argument @n (x86-64: the calling convention's). */
static inline void *tcpstates_kprobe_arg(struct pt_regs *regs, unsigned int n)
{
	return (void *)regs_get_kernel_argument(regs, n);
}

/* DCCP (up to 6.15) makes timewait socks too, on its own death row. */
static inline bool tcpstates_twsk_is_tcp(const struct inet_timewait_sock *tw)
{
	return tw->tw_dr == &twsk_net(tw)->ipv4.tcp_death_row;
}

#endif /* _TCPSTATES_COMPAT_H */
