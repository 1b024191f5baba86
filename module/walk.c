// SPDX-License-Identifier: GPL-2.0
/*
 * Count the TCP sockets of one network namespace by walking the kernel's
 * established (ehash) and listener (lhash2) hash tables under RCU alone.
 *
 * No bucket lock is taken, so a reader never delays the data path.  The
 * price is that a socket moving while we walk may be seen twice or missed:
 * counts are exact only when the namespace is quiescent, like ss's.
 */
#include <linux/sched.h>
#include <linux/string.h>
#include <net/inet_hashtables.h>
#include <net/inet_timewait_sock.h>
#include <net/sock.h>

#include "compat.h"
#include "tcpstates.h"

/*
 * Buckets per RCU read-side section.  Small enough that even a private
 * ehash of 16M buckets yields the CPU often, large enough that the
 * rcu_read_lock/cond_resched pair costs nothing measurable per bucket.
 */
#define TCPSTATES_BATCH		1024

/*
 * A chain walk that ends on another chain's nulls value followed a socket
 * that was freed and reused elsewhere; walk that bucket again, but not
 * forever under a storm of churn.
 */
#define TCPSTATES_RETRIES	8

struct tcpstates_bucket {
	u32 sockets[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
};

struct tcpstates_table {
	struct net *net;
	struct inet_hashinfo *hashinfo;
	unsigned int nr_slots;
	bool listen;		/* lhash2 rather than ehash */
};

static struct hlist_nulls_head *tcpstates_chain(const struct tcpstates_table *t,
						unsigned int slot)
{
	if (t->listen)
		return &t->hashinfo->lhash2[slot].nulls_head;
	return &t->hashinfo->ehash[slot].chain;
}

/* The nulls value that ends the chain of @slot, as inet_hashtables.c sets it. */
static unsigned long tcpstates_nulls(const struct tcpstates_table *t,
				     unsigned int slot)
{
	return t->listen ? slot + LISTENING_NULLS_BASE : slot;
}

/*
 * The state as ss (inet_diag) and /proc/net/tcp name it.  Only sock_common
 * is valid on every ehash entry; a timewait sock is known by its state,
 * and SLAB_TYPESAFE_BY_RCU keeps it a timewait sock while we hold RCU.
 */
static unsigned int tcpstates_state(const struct sock *sk)
{
	unsigned int state = READ_ONCE(sk->sk_state);

	if (state == TCP_TIME_WAIT)
		return tcpstates_tw_substate(inet_twsk(sk));
	if (state == TCP_NEW_SYN_RECV)
		return TCP_SYN_RECV;
	return state;
}

/* Returns false when the walk strayed into another chain. */
static bool tcpstates_walk_chain(const struct tcpstates_table *t,
				 unsigned int slot,
				 struct tcpstates_bucket *b)
{
	struct hlist_nulls_head *head = tcpstates_chain(t, slot);
	struct hlist_nulls_node *node;
	struct sock *sk;
	unsigned int state;
	int family;

	memset(b, 0, sizeof(*b));
	sk_nulls_for_each_rcu(sk, node, head) {
		/*
		 * Filter even a private ehash: a recycled socket can lead the
		 * walk into another table's chain of the same index.
		 */
		if (!net_eq(sock_net(sk), t->net))
			continue;
		state = tcpstates_state(sk);
		if (state >= TCPSTATES_NR_STATES)
			continue;
		family = READ_ONCE(sk->sk_family) == AF_INET6 ?
			 TCPSTATES_IPV6 : TCPSTATES_IPV4;
		b->sockets[state][family]++;
	}
	return get_nulls_value(node) == tcpstates_nulls(t, slot);
}

static void tcpstates_add(struct tcpstates_counts *c,
			  const struct tcpstates_bucket *b)
{
	int s, f;

	for (s = 0; s < TCPSTATES_NR_STATES; s++)
		for (f = 0; f < TCPSTATES_NR_FAMILIES; f++)
			c->sockets[s][f] += b->sockets[s][f];
}

/* Called under rcu_read_lock(). */
static void tcpstates_walk_bucket(const struct tcpstates_table *t,
				  unsigned int slot,
				  struct tcpstates_counts *c)
{
	struct tcpstates_bucket b;
	int tries = 1;

	c->buckets++;
	/* hlist_nulls_empty() reads the head with READ_ONCE: no lock needed. */
	if (hlist_nulls_empty(tcpstates_chain(t, slot)))
		return;
	while (!tcpstates_walk_chain(t, slot, &b) &&
	       tries++ < TCPSTATES_RETRIES)
		c->restarts++;
	tcpstates_add(c, &b);
}

static void tcpstates_walk_table(const struct tcpstates_table *t,
				 struct tcpstates_counts *c)
{
	unsigned int slot = 0, end;

	while (slot < t->nr_slots) {
		end = slot + min(t->nr_slots - slot, TCPSTATES_BATCH);
		rcu_read_lock();
		for (; slot < end; slot++)
			tcpstates_walk_bucket(t, slot, c);
		rcu_read_unlock();
		cond_resched();
	}
}

/*
 * The caller holds a reference on @net: a private ehash is freed without
 * an RCU grace period when its netns is dismantled.
 */
void tcpstates_walk(struct net *net, struct tcpstates_counts *counts)
{
	struct inet_hashinfo *h = tcpstates_hashinfo(net);
	const struct tcpstates_table ehash = {
		.net		= net,
		.hashinfo	= h,
		.nr_slots	= h->ehash_mask + 1,
	};
	/* lhash2 is always the global one, shared by every netns. */
	const struct tcpstates_table lhash2 = {
		.net		= net,
		.hashinfo	= h,
		.nr_slots	= h->lhash2_mask + 1,
		.listen		= true,
	};

	memset(counts, 0, sizeof(*counts));
	tcpstates_walk_table(&ehash, counts);
	tcpstates_walk_table(&lhash2, counts);
}
