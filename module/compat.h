/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference tcpstates cares about lives here, so the
 * .c files can be written against one API.  Force-included by Kbuild.
 */
#ifndef _TCPSTATES_COMPAT_H
#define _TCPSTATES_COMPAT_H

#include <linux/version.h>

/*
 * 6.1 is the first kernel with a per-netns tcp_death_row embedded in
 * netns_ipv4 and per-netns (tcp_child_ehash_entries) hash tables; before it
 * the walk would need tcp_hashinfo, which 6.12 no longer exports to us.
 */
#if KERNEL_VERSION(6, 1, 0) > LINUX_VERSION_CODE
#error "tcpstates needs Linux 6.1 or later"
#endif

#include <linux/compiler.h>
#include <linux/refcount.h>
#include <net/inet_timewait_sock.h>
#include <net/net_namespace.h>

/*
 * tw_substate is "volatile unsigned char" on 6.1 and a plain field written
 * with WRITE_ONCE on 6.12 (a timewait sock changes substate on a FIN while we
 * walk it).  READ_ONCE is right for both.
 */
static inline int tcpstates_tw_substate(const struct inet_timewait_sock *tw)
{
	return READ_ONCE(tw->tw_substate);
}

/*
 * The table a netns's sockets live in: the global one, or its own when it
 * was created with net.ipv4.tcp_child_ehash_entries set in its parent.
 * tcp_hashinfo itself is not exported on Debian's 6.12.
 */
static inline struct inet_hashinfo *tcpstates_hashinfo(const struct net *net)
{
	return net->ipv4.tcp_death_row.hashinfo;
}

/* What /proc/net/sockstat prints as "tw": every timewait sock of the netns. */
static inline int tcpstates_tw_count(const struct net *net)
{
	return refcount_read(&net->ipv4.tcp_death_row.tw_refcount) - 1;
}

static inline int *tcpstates_max_tw_buckets(struct net *net)
{
	return &net->ipv4.tcp_death_row.sysctl_max_tw_buckets;
}

/* A u8 on 6.1 and 6.12 (an int before 5.19). */
static inline u8 *tcpstates_tw_reuse(struct net *net)
{
	return &net->ipv4.sysctl_tcp_tw_reuse;
}

#endif /* _TCPSTATES_COMPAT_H */
