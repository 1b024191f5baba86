// SPDX-License-Identifier: GPL-2.0
/*
 * Count the TCP sockets of one network namespace by walking the kernel's
 * established (ehash) and listener (lhash2) hash tables under RCU alone.
 *
 * No bucket lock is taken, so a reader never delays the data path.  The
 * price is that a socket moving while we walk may be seen twice or missed:
 * counts are exact only when the namespace is quiescent, like ss's.
 */
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
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

/*
 * A keyed walk (every netns at once, or by service port) keeps a chain's
 * counts as keys until the chain ends well; a longer chain commits early,
 * so a restart after it may count some of its sockets twice.
 */
#define TCPSTATES_CHAIN_KEYS	32

#define TCPSTATES_NO_GROUP	U32_MAX

struct tcpstates_bucket {
	u32 sockets[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
};

struct tcpstates_keys {
	u32 key[TCPSTATES_CHAIN_KEYS];
	unsigned int n;
};

/* Where a keyed walk counts: cells[group * TCPSTATES_NR_STATES + state]. */
struct tcpstates_keyed {
	u32 *cells;
	struct tcpstates_all *all;	/* group: the netns's slot in all->nets */
	struct tcpstates_ports *ports;	/* group: direction and port */
	struct net *net;		/* ports: the netns */
};

struct tcpstates_table {
	struct net *net;
	struct inet_hashinfo *hashinfo;
	unsigned int nr_slots;
	bool listen;		/* lhash2 rather than ehash */
	struct tcpstates_keyed *keyed;	/* NULL: count @net's sockets */
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

static u32 tcpstates_ns_group(const struct tcpstates_all *all,
			      const struct net *net)
{
	u32 mask = (1U << all->bits) - 1;
	u32 i = hash_ptr(net, all->bits);

	for (; all->nets[i]; i = (i + 1) & mask)
		if (all->nets[i] == net)
			return i;
	return TCPSTATES_NO_GROUP;
}

/*
 * "in" (group = local port) when the local port has a listener in the
 * netns, else "out" (group = 65536 + remote port).  The lhash2 pass comes
 * first and records the listening ports.
 */
static u32 tcpstates_port_group(const struct tcpstates_table *t,
				const struct sock *sk)
{
	struct tcpstates_ports *p = t->keyed->ports;
	u16 lport = READ_ONCE(sk->sk_num);

	if (!net_eq(sock_net(sk), t->keyed->net))
		return TCPSTATES_NO_GROUP;
	if (t->listen)
		__set_bit(lport, p->listening);
	if (test_bit(lport, p->listening))
		return lport;
	return TCPSTATES_NR_PORTS + ntohs(READ_ONCE(sk->sk_dport));
}

static void tcpstates_commit(const struct tcpstates_keyed *k,
			     struct tcpstates_keys *keys)
{
	unsigned int i;

	for (i = 0; i < keys->n; i++)
		k->cells[keys->key[i]]++;
	keys->n = 0;
}

/* Returns false when the walk strayed into another chain. */
static bool tcpstates_walk_chain_keyed(const struct tcpstates_table *t,
				       unsigned int slot,
				       struct tcpstates_keys *keys)
{
	struct hlist_nulls_head *head = tcpstates_chain(t, slot);
	struct hlist_nulls_node *node;
	unsigned int state;
	struct sock *sk;
	u32 group;

	keys->n = 0;
	sk_nulls_for_each_rcu(sk, node, head) {
		if (t->keyed->all)
			group = tcpstates_ns_group(t->keyed->all, sock_net(sk));
		else
			group = tcpstates_port_group(t, sk);
		state = tcpstates_state(sk);
		if (group == TCPSTATES_NO_GROUP || state >= TCPSTATES_NR_STATES)
			continue;
		if (keys->n == TCPSTATES_CHAIN_KEYS)
			tcpstates_commit(t->keyed, keys);
		keys->key[keys->n++] = group * TCPSTATES_NR_STATES + state;
	}
	return get_nulls_value(node) == tcpstates_nulls(t, slot);
}

static void tcpstates_walk_bucket_keyed(const struct tcpstates_table *t,
					unsigned int slot,
					struct tcpstates_counts *c)
{
	struct tcpstates_keys keys;
	int tries = 1;

	while (!tcpstates_walk_chain_keyed(t, slot, &keys) &&
	       tries++ < TCPSTATES_RETRIES)
		c->restarts++;
	tcpstates_commit(t->keyed, &keys);
}

static void tcpstates_walk_bucket_single(const struct tcpstates_table *t,
					 unsigned int slot,
					 struct tcpstates_counts *c)
{
	struct tcpstates_bucket b;
	int tries = 1;

	while (!tcpstates_walk_chain(t, slot, &b) &&
	       tries++ < TCPSTATES_RETRIES)
		c->restarts++;
	tcpstates_add(c, &b);
}

/*
 * Called under rcu_read_lock().  The scratch counts live in the callees,
 * past the empty check: kernels built with INIT_STACK_ALL_ZERO zero them
 * on entry, which would otherwise cost every empty bucket a memset.
 */
static void tcpstates_walk_bucket(const struct tcpstates_table *t,
				  unsigned int slot,
				  struct tcpstates_counts *c)
{
	c->buckets++;
	/* hlist_nulls_empty() reads the head with READ_ONCE: no lock needed. */
	if (hlist_nulls_empty(tcpstates_chain(t, slot)))
		return;
	if (t->keyed)
		tcpstates_walk_bucket_keyed(t, slot, c);
	else
		tcpstates_walk_bucket_single(t, slot, c);
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

static void tcpstates_walk_tables(struct inet_hashinfo *h, bool ehash,
				  bool lhash2, struct tcpstates_keyed *k,
				  struct tcpstates_counts *c)
{
	struct tcpstates_table t = {
		.net		= k->net,
		.hashinfo	= h,
		.keyed		= k,
	};

	if (lhash2) {
		t.nr_slots = h->lhash2_mask + 1;
		t.listen = true;
		tcpstates_walk_table(&t, c);
	}
	if (ehash) {
		t.nr_slots = h->ehash_mask + 1;
		t.listen = false;
		tcpstates_walk_table(&t, c);
	}
}

/* Per-state counts of @net's sockets by service port; see tcpstates.h. */
void tcpstates_walk_ports(struct net *net, struct tcpstates_ports *ports,
			  struct tcpstates_counts *c)
{
	struct tcpstates_keyed k = {
		.cells	= &ports->cells[0][0][0],
		.ports	= ports,
		.net	= net,
	};

	memset(c, 0, sizeof(*c));
	/* Listeners first: they decide which ports are "in". */
	tcpstates_walk_tables(tcpstates_hashinfo(net), true, true, &k, c);
}

/*
 * Take a reference on every live netns, in a hash by address: the walk
 * of the shared tables attributes each socket to its netns in one pass.
 */
static int tcpstates_all_collect(struct tcpstates_all *all)
{
	unsigned int nr = 0;
	struct net *net;

	down_read(&net_rwsem);
	for_each_net(net)
		nr++;
	all->bits = order_base_2(2 * nr + 1);
	all->nets = kvcalloc(1U << all->bits, sizeof(*all->nets), GFP_KERNEL);
	all->cells = kvcalloc((size_t)TCPSTATES_NR_STATES << all->bits,
			      sizeof(*all->cells), GFP_KERNEL);
	if (!all->nets || !all->cells) {
		up_read(&net_rwsem);
		return -ENOMEM;
	}
	for_each_net(net) {
		u32 mask = (1U << all->bits) - 1;
		u32 i = hash_ptr(net, all->bits);

		if (!maybe_get_net(net))
			continue;	/* being dismantled */
		while (all->nets[i])
			i = (i + 1) & mask;
		all->nets[i] = net;
	}
	up_read(&net_rwsem);
	return 0;
}

void tcpstates_all_free(struct tcpstates_all *all)
{
	unsigned int i;

	for (i = 0; all->nets && i < (1U << all->bits); i++)
		if (all->nets[i])
			put_net(all->nets[i]);
	kvfree(all->nets);
	kvfree(all->cells);
}

/*
 * Count the sockets of every netns: the shared tables once, then each
 * private ehash once.  The references taken keep private tables alive.
 */
int tcpstates_walk_all(struct tcpstates_all *all, struct tcpstates_counts *c)
{
	struct tcpstates_keyed k = { .all = all };
	struct inet_hashinfo *h;
	unsigned int i;
	int err;

	memset(all, 0, sizeof(*all));
	memset(c, 0, sizeof(*c));
	err = tcpstates_all_collect(all);
	if (err)
		return err;
	k.cells = all->cells;
	tcpstates_walk_tables(tcpstates_hashinfo(&init_net), true, true, &k, c);
	for (i = 0; i < (1U << all->bits); i++) {
		if (!all->nets[i])
			continue;
		h = tcpstates_hashinfo(all->nets[i]);
		if (h->pernet)
			tcpstates_walk_tables(h, true, false, &k, c);
	}
	return 0;
}
