// SPDX-License-Identifier: GPL-2.0
/*
 * Count TCP sockets by walking the kernel's established (ehash) and
 * listener hash tables under RCU alone.
 *
 * No bucket lock is taken, so a reader never delays the data path.  The
 * price is that a socket moving while we walk may be seen twice or missed:
 * counts are exact only when the namespace is quiescent, like ss's.  What
 * a walk never does is count a state that cannot be in the table walked.
 */
#include <linux/bitops.h>
#include <linux/hash.h>
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

/*
 * A keyed walk keeps a chain's counts as keys until the chain ends well.
 * A longer chain commits early, and is then not walked again if it strays
 * (that would count its first sockets twice): it is counted incomplete.
 */
#define TCPSTATES_CHAIN_KEYS	32

/* Sockets a chain may count straight into the totals, undoably. */
#define TCPSTATES_UNDO		16

#define TCPSTATES_NO_GROUP	U32_MAX
/* An index entry for a group that found no room in the rows. */
#define TCPSTATES_NO_ROOM	U32_MAX

struct tcpstates_stats tcpstates_stats;

struct tcpstates_bucket {
	u32 sockets[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
};

struct tcpstates_keys {
	u32 key[TCPSTATES_CHAIN_KEYS];
	u32 age[TCPSTATES_CHAIN_KEYS];	/* the ports walk's CLOSE_WAIT ages */
	unsigned int n;
	bool committed;
};

struct tcpstates_table {
	struct net *net;		/* the netns counted; NULL when keyed */
	struct inet_hashinfo *hashinfo;
	unsigned int nr_slots;
	bool listen;			/* the listener table rather than ehash */
	struct tcpstates_all *all;	/* keyed by netns */
	struct tcpstates_ports *ports;	/* keyed by service port */
	struct tcpstates_ages *ages;	/* keyed by age column */
};

static struct hlist_nulls_head *tcpstates_chain(const struct tcpstates_table *t,
						unsigned int slot)
{
	if (t->listen)
		return tcpstates_listen_chain(t->hashinfo, slot);
	return &t->hashinfo->ehash[slot].chain;
}

/* The nulls value that ends the chain of @slot, as inet_hashtables.c sets it. */
static unsigned long tcpstates_nulls(const struct tcpstates_table *t,
				     unsigned int slot)
{
	return t->listen ? tcpstates_listen_nulls(slot) : slot;
}

/*
 * The state as ss (inet_diag) and /proc/net/tcp name it, or 0 when @sk
 * cannot belong to the table walked.  SLAB_TYPESAFE_BY_RCU reuses a freed
 * socket at once, and the new one keeps the old chain link on purpose, so
 * a walker standing on it can meet a fresh socket (CLOSE), a child still
 * carrying its listener's state (LISTEN) or zeroed memory.  Only
 * sock_common is valid on every entry; a timewait sock stays one while we
 * hold RCU.
 */
static unsigned int tcpstates_state(const struct sock *sk, bool listen)
{
	unsigned int state = READ_ONCE(sk->sk_state);

	if (listen)
		return state == TCP_LISTEN ? state : 0;
	switch (state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSE_WAIT:
	case TCP_LAST_ACK:
	case TCP_CLOSING:
		return state;
	case TCP_TIME_WAIT:
		state = tcpstates_tw_substate(inet_twsk(sk));
		return state == TCP_FIN_WAIT2 || state == TCP_TIME_WAIT ?
		       state : 0;
	case TCP_NEW_SYN_RECV:
		return TCP_SYN_RECV;
	default:
		return 0;
	}
}

/* Returns false when the walk strayed into another chain. */
static bool tcpstates_walk_chain(const struct tcpstates_table *t,
				 unsigned int slot,
				 struct tcpstates_bucket *b)
{
	struct hlist_nulls_head *head = tcpstates_chain(t, slot);
	struct hlist_nulls_node *node;
	unsigned int state;
	struct sock *sk;
	int family;

	memset(b, 0, sizeof(*b));
	sk_nulls_for_each_rcu(sk, node, head) {
		/*
		 * Filter even a private ehash: a recycled socket can lead the
		 * walk into another table's chain of the same index.
		 */
		if (!net_eq(sock_net(sk), t->net))
			continue;
		state = tcpstates_state(sk, t->listen);
		if (!state)
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

/*
 * The common case: count straight into the totals, remembering what this
 * chain added so that a stray can take it back.  A chain that counts more
 * than the log holds is handed, undone, to tcpstates_walk_chain() (a
 * chain that long is rare: the kernel sizes ehash to its sockets).
 * Returns 1 when the chain ended well, 0 when it strayed, -1 when the log
 * overflowed.  Per-bucket scratch would cost an empty-ish bucket more
 * than its one socket does.
 */
static void tcpstates_undo(struct tcpstates_counts *c, const u8 *log,
			   unsigned int n)
{
	u64 *cells = &c->sockets[0][0];

	while (n--)
		cells[log[n]]--;
}

static int tcpstates_walk_chain_direct(const struct tcpstates_table *t,
				       unsigned int slot,
				       struct tcpstates_counts *c)
{
	struct hlist_nulls_head *head = tcpstates_chain(t, slot);
	u64 *cells = &c->sockets[0][0];
	struct hlist_nulls_node *node;
	u8 log[TCPSTATES_UNDO];
	unsigned int state, n = 0;
	struct sock *sk;
	u8 i;

	sk_nulls_for_each_rcu(sk, node, head) {
		/* See tcpstates_walk_chain(). */
		if (!net_eq(sock_net(sk), t->net))
			continue;
		state = tcpstates_state(sk, t->listen);
		if (!state)
			continue;
		if (n == TCPSTATES_UNDO) {
			tcpstates_undo(c, log, n);
			return -1;
		}
		i = state * TCPSTATES_NR_FAMILIES +
		    (READ_ONCE(sk->sk_family) == AF_INET6 ?
		     TCPSTATES_IPV6 : TCPSTATES_IPV4);
		log[n++] = i;
		cells[i]++;
	}
	if (get_nulls_value(node) == tcpstates_nulls(t, slot))
		return 1;
	tcpstates_undo(c, log, n);
	return 0;
}

/* A long chain: per-bucket scratch, committed once the chain ends well. */
static void tcpstates_walk_bucket_long(const struct tcpstates_table *t,
				       unsigned int slot,
				       struct tcpstates_counts *c, int tries)
{
	struct tcpstates_bucket b;

	for (; tries < TCPSTATES_RETRIES; tries++) {
		if (tcpstates_walk_chain(t, slot, &b)) {
			tcpstates_add(c, &b);
			return;
		}
		c->restarts++;
	}
	/* The last try's counts are the best we have; say so. */
	tcpstates_add(c, &b);
	c->incomplete++;
}

static void tcpstates_walk_bucket_single(const struct tcpstates_table *t,
					 unsigned int slot,
					 struct tcpstates_counts *c)
{
	int tries, ret = 0;

	for (tries = 0; tries < TCPSTATES_RETRIES; tries++) {
		ret = tcpstates_walk_chain_direct(t, slot, c);
		if (ret > 0)
			return;
		if (ret < 0)
			break;
		c->restarts++;
	}
	/* Out of tries: one last walk whose counts stay, marked incomplete. */
	tcpstates_walk_bucket_long(t, slot, c,
				   ret < 0 ? tries : TCPSTATES_RETRIES - 1);
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
 * The netns of @sk, if we hold it and @sk is in the table that netns
 * uses.  Without the second test, a walk of the global ehash that strays
 * through a recycled socket into a private table's chain of the same
 * index ends on the same nulls value (the slot), looks well terminated,
 * and would credit that netns's sockets a second time.  The net is ours
 * to dereference: its slot holds a reference.
 */
static u32 tcpstates_all_group(const struct tcpstates_table *t,
			       const struct sock *sk)
{
	u32 group = tcpstates_ns_group(t->all, sock_net(sk));

	if (group == TCPSTATES_NO_GROUP || t->listen)
		return group;
	if (tcpstates_hashinfo(t->all->nets[group]) != t->hashinfo)
		return TCPSTATES_NO_GROUP;
	return group;
}

/*
 * "in" (group = local port) when the local port has a listener in the
 * netns, else "out" (group = 65536 + remote port).  The listener pass
 * comes first and records the listening ports.
 */
static u32 tcpstates_port_group(const struct tcpstates_table *t,
				const struct sock *sk)
{
	struct tcpstates_ports *p = t->ports;
	u16 lport = READ_ONCE(sk->sk_num);

	if (!net_eq(sock_net(sk), p->net))
		return TCPSTATES_NO_GROUP;
	if (t->listen)
		__set_bit(lport, p->listening);
	if (test_bit(lport, p->listening))
		return lport;
	return TCPSTATES_NR_PORTS + ntohs(READ_ONCE(sk->sk_dport));
}

/* The age column of @sk, a socket of the netns counted (ages.c). */
static u32 tcpstates_ages_group(const struct tcpstates_table *t,
				const struct sock *sk, unsigned int state)
{
	if (!net_eq(sock_net(sk), t->ages->net))
		return TCPSTATES_NO_GROUP;
	return tcpstates_age_column(t->ages, sk, state);
}

/* One socket into the ports rows; a group without room is only noted. */
static void tcpstates_port_count(struct tcpstates_ports *p, u32 key, u32 age)
{
	u32 group = key / TCPSTATES_NR_STATES;
	u32 *idx = &p->index[group];
	struct tcpstates_port_row *row;

	if (*idx == TCPSTATES_NO_ROOM)
		return;
	if (!*idx) {
		if (p->nr == p->cap) {
			*idx = TCPSTATES_NO_ROOM;
			p->missing++;
			return;
		}
		row = &p->rows[p->nr++];
		memset(row, 0, sizeof(*row));
		row->group = group;
		*idx = p->nr;
	}
	row = &p->rows[*idx - 1];
	row->cells[key % TCPSTATES_NR_STATES]++;
	row->close_wait_age = max(row->close_wait_age, age);
}

static void tcpstates_commit(const struct tcpstates_table *t,
			     struct tcpstates_keys *keys)
{
	unsigned int i;

	for (i = 0; i < keys->n; i++) {
		if (t->all)
			t->all->cells[keys->key[i]]++;
		else if (t->ages)
			(&t->ages->cells[0][0])[keys->key[i]]++;
		else
			tcpstates_port_count(t->ports, keys->key[i],
					     keys->age[i]);
	}
	keys->n = 0;
	keys->committed = true;
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
	keys->committed = false;
	sk_nulls_for_each_rcu(sk, node, head) {
		state = tcpstates_state(sk, t->listen);
		if (!state)
			continue;
		if (t->all)
			group = tcpstates_all_group(t, sk);
		else if (t->ages)
			group = tcpstates_ages_group(t, sk, state);
		else
			group = tcpstates_port_group(t, sk);
		if (group == TCPSTATES_NO_GROUP)
			continue;
		if (keys->n == TCPSTATES_CHAIN_KEYS)
			tcpstates_commit(t, keys);
		keys->age[keys->n] = t->ports && state == TCP_CLOSE_WAIT ?
				     tcpstates_close_wait_age(sk) : 0;
		keys->key[keys->n++] = group * TCPSTATES_NR_STATES + state;
	}
	return get_nulls_value(node) == tcpstates_nulls(t, slot);
}

static void tcpstates_walk_bucket_keyed(const struct tcpstates_table *t,
					unsigned int slot,
					struct tcpstates_counts *c)
{
	struct tcpstates_keys keys;
	int tries;

	for (tries = 0; tries < TCPSTATES_RETRIES; tries++) {
		if (tcpstates_walk_chain_keyed(t, slot, &keys)) {
			tcpstates_commit(t, &keys);
			return;
		}
		c->restarts++;
		if (keys.committed)
			break;
	}
	tcpstates_commit(t, &keys);
	c->incomplete++;
}

/*
 * Called under rcu_read_lock() for a bucket that was not empty.  The
 * scratch counts live in the callees: kernels built with
 * INIT_STACK_ALL_ZERO zero them on entry.
 */
static void tcpstates_walk_bucket(const struct tcpstates_table *t,
				  unsigned int slot,
				  struct tcpstates_counts *c)
{
	if (t->net)
		tcpstates_walk_bucket_single(t, slot, c);
	else
		tcpstates_walk_bucket_keyed(t, slot, c);
}

/*
 * Most buckets are empty (the kernel sizes ehash to its memory, not to
 * its sockets): their loop stores nothing, so that the table's fields
 * stay in registers from one head to the next.
 */
static void tcpstates_walk_table(const struct tcpstates_table *t,
				 struct tcpstates_counts *c)
{
	unsigned int slot = 0, end;

	c->buckets += t->nr_slots;
	while (slot < t->nr_slots) {
		end = slot + min(t->nr_slots - slot, TCPSTATES_BATCH);
		rcu_read_lock();
		for (; slot < end; slot++) {
			/* READ_ONCE of the head: no lock needed. */
			if (!hlist_nulls_empty(tcpstates_chain(t, slot)))
				tcpstates_walk_bucket(t, slot, c);
		}
		rcu_read_unlock();
		cond_resched();
	}
}

/*
 * The listener table (always the global one, shared by every netns)
 * first, so that a ports walk knows the listening ports; then @ehash.
 */
static void tcpstates_walk_tables(struct tcpstates_table *t,
				  struct inet_hashinfo *ehash,
				  struct tcpstates_counts *c)
{
	t->hashinfo = ehash;
	t->nr_slots = tcpstates_listen_slots(ehash);
	t->listen = true;
	tcpstates_walk_table(t, c);
	t->nr_slots = ehash->ehash_mask + 1;
	t->listen = false;
	tcpstates_walk_table(t, c);
}

static void tcpstates_walk_done(struct tcpstates_counts *c)
{
	atomic64_inc(&tcpstates_stats.scans);
	atomic64_add(c->restarts, &tcpstates_stats.restarts);
	atomic64_add(c->incomplete, &tcpstates_stats.incomplete);
}

/*
 * The caller holds a reference on @net: a private ehash is freed without
 * an RCU grace period when its netns is dismantled.
 */
void tcpstates_walk(struct net *net, struct tcpstates_counts *c)
{
	struct tcpstates_table t = { .net = net };

	memset(c, 0, sizeof(*c));
	tcpstates_walk_tables(&t, tcpstates_hashinfo(net), c);
	tcpstates_walk_done(c);
}

/* Per-state counts of p->net's sockets by service port; see tcpstates.h. */
void tcpstates_walk_ports(struct tcpstates_ports *p,
			  struct tcpstates_counts *c)
{
	struct tcpstates_table t = { .ports = p };

	memset(c, 0, sizeof(*c));
	tcpstates_walk_tables(&t, tcpstates_hashinfo(p->net), c);
	tcpstates_walk_done(c);
}

/*
 * a->net's sockets by age and state; see tcpstates.h.  Only the
 * established table: a listener has no age (ages.c prints it as "-").
 */
void tcpstates_walk_ages(struct tcpstates_ages *a, struct tcpstates_counts *c)
{
	struct tcpstates_table t = {
		.ages		= a,
		.hashinfo	= tcpstates_hashinfo(a->net),
	};

	memset(c, 0, sizeof(*c));
	memset(a->cells, 0, sizeof(a->cells));
	t.nr_slots = t.hashinfo->ehash_mask + 1;
	tcpstates_walk_table(&t, c);
	tcpstates_walk_done(c);
}

/*
 * Count the sockets of every netns held in @all: the shared tables once,
 * then each private ehash once.  The references keep private tables alive.
 */
void tcpstates_walk_all(struct tcpstates_all *all, struct tcpstates_counts *c)
{
	struct tcpstates_table t = { .all = all };
	struct inet_hashinfo *h;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	tcpstates_walk_tables(&t, tcpstates_hashinfo(&init_net), c);
	for (i = 0; i < (1U << all->bits); i++) {
		if (!all->nets[i])
			continue;
		h = tcpstates_hashinfo(all->nets[i]);
		if (!tcpstates_private_ehash(h))
			continue;
		t.hashinfo = h;
		t.nr_slots = h->ehash_mask + 1;
		tcpstates_walk_table(&t, c);
	}
	tcpstates_walk_done(c);
}
