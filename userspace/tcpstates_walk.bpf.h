/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's walk (module/walk.c) as BPF code, for the two programs
 * that run it: the reader's one-shot walk (tcpstates.bpf.c), a bounded
 * range of buckets a run, and the pinned files' (pin.bpf.c), a whole
 * table a run.  Both include it after vmlinux.h and libbpf's headers.
 *
 * The walk's state, its counts included, is one struct ts_walk in a map
 * value, not on the stack: the verifier then knows nothing of its values
 * between steps, and checks one step instead of following slot and node
 * through every iteration.  bpf_loop() hands each step a struct ts_loop
 * that points at it.  ts_walk_setup() starts a range of one table of a
 * netns; ts_walk_clear() zeroes the counts; ts_walk_step runs one step.
 *
 * With TS_BPF_DIRECT the walk reads the tables with plain loads through
 * bpf_rdonly_cast() (6.2 and later; a fault reads as 0, which the walk
 * takes as an error), empty buckets by the run and a few sockets of a
 * chain a step, so that the CPU overlaps the cache misses of neighbouring
 * buckets; without, for kernels without that kfunc, it copies each
 * socket's fields and chunks of bucket heads with bpf_probe_read_kernel().
 *
 * The loop takes one step per bucket and per socket; a range whose steps
 * end inside a chain drops that chain's counts (ts_walk_finish()) and
 * stops at its bucket, which the next range walks again.  A chain that
 * ends on another chain's nulls value is walked again, TS_RETRIES times at
 * most; then its last counts are kept and "incomplete" says so.
 *
 * Counts follow the module's rules: ehash holds ESTABLISHED to CLOSING
 * except CLOSE and LISTEN, timewait socks count by tw_substate (FIN_WAIT2
 * or TIME_WAIT), request socks as SYN_RECV in their own family; the
 * listener table holds LISTEN only.
 *
 * Sources layer, run in the kernel.  May call: BPF helpers and kfuncs,
 * tcpstates_bpf.h.
 */
#ifndef TCPSTATES_WALK_BPF_H
#define TCPSTATES_WALK_BPF_H

#include <bpf/bpf_endian.h>

#include "tcpstates_bpf.h"

#ifdef TS_BPF_DIRECT
/* The plain-load walk's kfunc (6.2): 6.1 refuses it, and loads the other. */
void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#endif

#define TS_RETRIES		8
#define TS_EMPTY_RUN		16
#define TS_CHAIN_RUN		4
#define TS_MAX_STEPS		0x800000	/* bpf_loop's own limit */
#define TS_LISTENING_NULLS_BASE	0x20000000	/* as in the kernel */
#define TS_AF_INET6		10

/*
 * A socket's fields come in one read of sock_common from skc_family to
 * skc_nulls_node, at most TS_SK_SPAN bytes; a chunk of bucket heads in one
 * read of at most TS_HEADS_BYTES.
 */
#define TS_SK_SPAN		128
#define TS_HEADS_BYTES		4096
#define TS_SK_OFF(f)		bpf_core_field_offset(struct sock_common, f)

enum {
	TS_TCP_ESTABLISHED = 1,
	TS_TCP_SYN_SENT,
	TS_TCP_SYN_RECV,
	TS_TCP_FIN_WAIT1,
	TS_TCP_FIN_WAIT2,
	TS_TCP_TIME_WAIT,
	TS_TCP_CLOSE,
	TS_TCP_CLOSE_WAIT,
	TS_TCP_LAST_ACK,
	TS_TCP_LISTEN,
	TS_TCP_CLOSING,
	TS_TCP_NEW_SYN_RECV,
};

/*
 * A chain's first TS_UNDO sockets count straight into counts[], their
 * cells logged so that a chain that strays can take them back; the rest
 * of a longer chain (rare: the kernel sizes ehash to its sockets) counts
 * into chain[], added when the chain ends well.  As in module/walk.c.
 */
#define TS_UNDO			16

/*
 * A walk by age (pin_ages.bpf.c, with TS_WALK_AGES) counts each socket in
 * a cell of the includer's, state * 8 + age column, which ts_age_cell()
 * names from the socket; the others count state * 2 + family.
 */
#ifdef TS_WALK_AGES
#define TS_WALK_CELLS		128
static __always_inline __u32 ts_age_cell(struct ts_walk_ages_in *in,
					 __u64 sk, __u32 raw, __u32 state);
#else
#define TS_WALK_CELLS		TS_BPF_CELLS
#endif

/* Keeps a loop over 128 cells a loop: clang would make it a memset(). */
static __always_inline void ts_cells_loop(void)
{
#ifdef TS_WALK_AGES
	asm volatile("" : : : "memory");
#endif
}

struct ts_walk {
	__u64 base;		/* address of the first bucket's chain head */
	__u64 stride;		/* bytes from one bucket to the next */
	__u64 net;		/* the netns counted */
	__u64 node;		/* the chain's current node; 0: between chains */
	__u64 nulls_off;	/* skc_nulls_node in sock_common */
	__u64 hinfo;		/* the table's struct inet_hashinfo */
	/* A walk of every netns: the last socket's, and what it was. */
	__u64 last_net;
	__u32 last_inum;
	__u32 last_ok;
	__u32 slot;
	__u32 end;
	__u32 hslot;		/* the first bucket in heads[] */
	__u32 hn;		/* how many there are; 0: none */
	__u32 hcap;		/* how many fit */
	__u32 nulls_base;
	__u32 tries;
	__u32 listen;
	__u32 chain_n;		/* sockets in chain[] */
	__u32 log_n;		/* sockets in log[] */
	__u8 log[TS_UNDO];
	/* A walk by group: the chain's keys, group * 16 + state. */
	__u64 keys[TS_UNDO];
	__u32 keys_n;
	__u32 committed;	/* keys of this chain already in the rows */
	/* Out: what the walk found, and why it stopped early. */
	__u32 nr_slots;		/* buckets in the table */
	__u32 err;		/* TS_BPF_E*, 0 if none */
	__u32 stray_tries;	/* in: TCPSTATES_BPF_STRAY, the tests' churn */
	__u32 pad;
	__u64 restarts;
	__u64 incomplete;
	__u64 counts[TS_WALK_CELLS];	/* state * 2 + family */
	__u32 chain[TS_WALK_CELLS];	/* a long chain's sockets past log[] */
#ifdef TS_WALK_AGES
	struct ts_walk_ages_in ages;	/* the clocks ts_age_cell() reads */
#endif
#ifndef TS_BPF_DIRECT
	__u8 heads[TS_HEADS_BYTES];	/* bucket heads from hslot on */
#endif
};

/* What bpf_loop() hands each step: the walk, in a map value. */
struct ts_loop {
	struct ts_walk *w;
};

#define TS_NO_GROUP		0xffffffff

/*
 * A walk by group (pin.bpf.c's tcpstates_ports, with TS_WALK_GROUPS)
 * counts each socket under a group of the includer's, in rows that live
 * beside the walk in the same map value: ts_group_of() names a socket's
 * group (TS_NO_GROUP: not counted), ts_group_commit() adds a chain's
 * keys to the rows once the chain ended well.
 */
#ifdef TS_WALK_GROUPS
static __always_inline __u32 ts_group_of(struct ts_walk *w, __u32 lport,
					 __u32 rport);
static __always_inline void ts_group_commit(struct ts_walk *w);
#else
static __always_inline __u32 ts_group_of(struct ts_walk *w, __u32 lport,
					 __u32 rport)
{
	return TS_NO_GROUP;
}

static __always_inline void ts_group_commit(struct ts_walk *w)
{
}
#endif

/*
 * One socket of a chain by group; a chain of more sockets than keys[]
 * holds commits early, and can then no longer be walked again.
 */
static __always_inline void group_count(struct ts_walk *w, __u32 state,
					__u32 lport, __u32 rport)
{
	__u32 group = ts_group_of(w, lport, rport);

	if (group == TS_NO_GROUP)
		return;
	if (w->keys_n >= TS_UNDO) {
		ts_group_commit(w);
		w->keys_n = 0;
		w->committed = 1;
	}
	w->keys[w->keys_n & (TS_UNDO - 1)] = (__u64)group * 16 + state;
	w->keys_n++;
}

static __always_inline void chain_count(struct ts_walk *w, __u32 cell)
{
	cell &= TS_WALK_CELLS - 1;
	if (w->log_n < TS_UNDO) {
		w->counts[cell]++;
		w->log[w->log_n & (TS_UNDO - 1)] = cell;
		w->log_n++;
	} else {
		w->chain[cell]++;
		w->chain_n++;
	}
}

/* The chain strayed, or the run ended inside it: take its counts back. */
static __always_inline void chain_drop(struct ts_walk *w)
{
	__u32 i;

	w->keys_n = 0;
	for (i = 0; i < TS_UNDO && i < w->log_n; i++)
		w->counts[w->log[i] & (TS_WALK_CELLS - 1)]--;
	w->log_n = 0;
	if (!w->chain_n)
		return;
	for (i = 0; i < TS_WALK_CELLS; i++) {
		w->chain[i] = 0;
		ts_cells_loop();
	}
	w->chain_n = 0;
}

static __always_inline void chain_commit(struct ts_walk *w, const bool groups)
{
	__u32 i;

	if (groups && w->keys_n) {
		ts_group_commit(w);
		w->keys_n = 0;
	}
	w->committed = 0;
	w->log_n = 0;
	if (!w->chain_n)
		return;
	for (i = 0; i < TS_WALK_CELLS; i++) {
		w->counts[i] += w->chain[i];
		w->chain[i] = 0;
		ts_cells_loop();
	}
	w->chain_n = 0;
}

/* The state as the module counts it, or 0: see module/walk.c. */
static __always_inline __u32 sock_state(__u64 sk, __u32 state, __u32 listen)
{
	if (listen)
		return state == TS_TCP_LISTEN ? state : 0;
	switch (state) {
	case TS_TCP_ESTABLISHED:
	case TS_TCP_SYN_SENT:
	case TS_TCP_SYN_RECV:
	case TS_TCP_FIN_WAIT1:
	case TS_TCP_FIN_WAIT2:
	case TS_TCP_CLOSE_WAIT:
	case TS_TCP_LAST_ACK:
	case TS_TCP_CLOSING:
		return state;
	case TS_TCP_TIME_WAIT:
		state = BPF_CORE_READ((struct inet_timewait_sock *)sk,
				      tw_substate);
		return state == TS_TCP_FIN_WAIT2 || state == TS_TCP_TIME_WAIT ?
		       state : 0;
	case TS_TCP_NEW_SYN_RECV:
		return TS_TCP_SYN_RECV;
	default:
		return 0;
	}
}

/*
 * Whether a socket of netns @net counts: the walked netns's, or with
 * w->net 0 (a walk by group of every netns) any netns's that uses the
 * table walked, as module/walk.c's walk of every netns credits a
 * socket only from its own netns's table (a private ehash strayed into
 * from the shared one is not).  The listener table is everyone's.
 */
static __always_inline bool sock_mine(struct ts_walk *w, __u64 net,
				      const bool groups)
{
	struct net *n = (struct net *)net;

	if (!groups || w->net)
		return net == w->net;
	if (!net)
		return false;
	if (net != w->last_net) {
		w->last_net = net;
		w->last_inum = BPF_CORE_READ(n, ns.inum);
		w->last_ok = w->listen ||
			     (__u64)BPF_CORE_READ(n, ipv4.tcp_death_row.hashinfo) ==
			     w->hinfo;
	}
	return w->last_ok;
}

/*
 * One socket @sk of the netns, in state @state (@raw its sk_state): into
 * counts[], by age or family, or by group.
 */
static __always_inline void sock_count(struct ts_walk *w, const bool groups,
				       __u64 sk, __u32 raw, __u32 state,
				       __u32 fam, __u32 lport, __u32 rport)
{
	if (groups)
		group_count(w, state, lport, rport);
	else
#ifdef TS_WALK_AGES
		chain_count(w, ts_age_cell(&w->ages, sk, raw, state));
#else
		chain_count(w, state * 2 + fam);
#endif
}

/* A table or a socket did not read: the walk stops, and says so. */
static __always_inline long walk_fault(struct ts_walk *w)
{
	w->err = TS_BPF_EFAULT;
	return 1;
}

/* The end of a chain: count it, or walk it again if it strayed. */
static __always_inline void chain_end(struct ts_walk *w, const bool groups)
{
	bool strayed = (w->node >> 1) != w->nulls_base + w->slot;

	/* The tests' stand-in for churn: every chain that counted strays. */
	if (w->tries < w->stray_tries && (w->log_n || w->chain_n || w->keys_n))
		strayed = true;
	if (strayed) {
		w->restarts++;
		if (++w->tries < TS_RETRIES && !w->committed) {
			chain_drop(w);
			w->node = 0;
			return;
		}
		/* Out of tries: the last walk's counts, marked. */
		w->incomplete++;
	}
	chain_commit(w, groups);
	w->tries = 0;
	w->slot++;
	w->node = 0;
}

#ifndef TS_BPF_DIRECT
/*
 * The first node of the current bucket: from a chunk of heads read in
 * this run, under this RCU read-side section (a head that changed since
 * is a socket that came or went during the walk, as in the module); a
 * chain walked again reads its head again.
 */
static int head_read(struct ts_walk *w, __u64 *first)
{
	__u64 size, off;
	__u32 n;

	if (w->tries)
		return bpf_probe_read_kernel(first, sizeof(*first),
					     (void *)(w->base +
						      w->slot * w->stride));
	if (w->slot < w->hslot || w->slot - w->hslot >= w->hn) {
		n = w->end - w->slot;
		if (n > w->hcap)
			n = w->hcap;
		size = (n - 1) * w->stride + sizeof(*first);
		if (!n || size > TS_HEADS_BYTES)
			return -1;
		if (bpf_probe_read_kernel(w->heads, size,
					  (void *)(w->base +
						   w->slot * w->stride)))
			return -1;
		w->hslot = w->slot;
		w->hn = n;
	}
	off = (w->slot - w->hslot) * w->stride;
	if (off > TS_HEADS_BYTES - sizeof(*first))
		return -1;
	*first = *(__u64 *)(w->heads + off);
	return 0;
}

/* One bucket head or one socket per step; returns 1 to stop. */
static __always_inline long walk_step_probe(void *data, const bool groups)
{
	__u32 o_fam = TS_SK_OFF(skc_family);
	__u32 o_num = TS_SK_OFF(skc_num);
	__u32 o_dport = TS_SK_OFF(skc_dport);
	__u32 o_state = TS_SK_OFF(skc_state);
	__u32 o_net = TS_SK_OFF(skc_net);
	__u32 o_next = TS_SK_OFF(skc_nulls_node);
	__u64 words[TS_SK_SPAN / 8];
	__u8 *buf = (__u8 *)words;
	struct ts_walk *w = ((struct ts_loop *)data)->w;
	__u64 sk, first = 0;
	__u32 state, fam;

	if (!w->node) {
		if (w->slot >= w->end)
			return 1;
		if (head_read(w, &first) || !first)
			return walk_fault(w);
		w->node = first;
		/* An empty bucket costs no second step. */
		if (first & 1)
			chain_end(w, groups);
		return 0;
	}
	if (w->node & 1) {
		chain_end(w, groups);
		return 0;
	}
	/* Each offset is a constant once relocated: the verifier sees it. */
	if (o_fam > TS_SK_SPAN - 2 || o_num > TS_SK_SPAN - 2 ||
	    o_dport > TS_SK_SPAN - 2 ||
	    o_state > TS_SK_SPAN - 1 || o_net > TS_SK_SPAN - 8 ||
	    o_next > TS_SK_SPAN - 8) {
		w->err = TS_BPF_ELAYOUT;
		return 1;
	}
	sk = w->node - w->nulls_off;
	/* Up to skc_nulls_node: the first cache lines, as the fields need. */
	if (bpf_probe_read_kernel(words, o_next + 8, (void *)sk))
		return walk_fault(w);
	/*
	 * Filter even a private ehash: a recycled socket can lead the walk
	 * into another table's chain of the same index.
	 */
	if (sock_mine(w, *(__u64 *)(buf + o_net), groups)) {
		state = sock_state(sk, buf[o_state], w->listen);
		if (state) {
			fam = *(__u16 *)(buf + o_fam) == TS_AF_INET6;
			sock_count(w, groups, sk, buf[o_state], state, fam,
				   *(__u16 *)(buf + o_num),
				   bpf_ntohs(*(__u16 *)(buf + o_dport)));
		}
	}
	w->node = *(__u64 *)(buf + o_next);
	if (!w->node)
		return walk_fault(w);
	return 0;
}

static long walk_step(__u32 i, void *data)
{
	return walk_step_probe(data, false);
}

#ifdef TS_WALK_GROUPS
static long walk_step_groups(__u32 i, void *data)
{
	return walk_step_probe(data, true);
}
#endif

#else
/*
 * A link loaded through bpf_rdonly_cast() is a typed pointer to the
 * verifier, which allows no bit test on it; stored in the walk's map value
 * (privileged programs may) and read back, it is a number.
 */
static __always_inline __u64 node_number(struct ts_walk *w, void *link)
{
	w->node = (__u64)link;
	/* A compiler barrier: the value must come back from memory. */
	asm volatile("" : : : "memory");
	return w->node;
}

/*
 * The head of the next bucket that is not empty (an empty head holds its
 * own nulls value), passing over TS_EMPTY_RUN empty ones at most: most
 * buckets of a table sized to its sockets are empty, and a step apiece
 * would cost them more than the sockets.  Returns 0 when the step should
 * end there, 1 with *node set (0 if the load faulted).
 */
static __always_inline int next_head(struct ts_walk *w, __u64 *node)
{
	struct hlist_nulls_head *head;
	__u32 slot = w->slot, k;

	for (k = 0; k < TS_EMPTY_RUN && slot < w->end; k++, slot++) {
		head = bpf_rdonly_cast((void *)(w->base +
						(__u64)slot * w->stride),
				       bpf_core_type_id_kernel(struct hlist_nulls_head));
		*node = node_number(w, head->first);
		if (*node != (((__u64)(w->nulls_base + slot) << 1) | 1)) {
			w->slot = slot;
			return 1;
		}
	}
	w->slot = slot;
	w->node = 0;
	return 0;
}

/*
 * A socket's cell in a plain-load walk by family, or by age: its own
 * function, so that the walks by family and by group compile as they
 * did before the walk by age.
 */
static __always_inline __u32 plain_cell(struct ts_walk *w,
					struct sock_common *sk, __u64 addr,
					__u32 state)
{
#ifdef TS_WALK_AGES
	return ts_age_cell(&w->ages, addr, sk->skc_state, state);
#else
	return state * 2 + (sk->skc_family == TS_AF_INET6);
#endif
}

/*
 * As walk_step(), with plain loads: empty buckets by the run, then a
 * bucket's chain, TS_CHAIN_RUN sockets a step: fewer steps, and the
 * helpers inlined, let the CPU overlap more of the sockets' misses.
 */
static __always_inline long walk_step_plain(void *data, const bool groups)
{
	struct ts_walk *w = ((struct ts_loop *)data)->w;
	struct sock_common *sk;
	__u64 node = w->node;
	__u32 state, k;

	if (!node && !next_head(w, &node))
		return w->slot >= w->end;
	for (k = 0; k < TS_CHAIN_RUN && node && !(node & 1); k++) {
		sk = bpf_rdonly_cast((void *)(node - w->nulls_off),
				     bpf_core_type_id_kernel(struct sock_common));
		/* See walk_step(). */
		if (sock_mine(w, (__u64)sk->skc_net.net, groups)) {
			state = sock_state(node - w->nulls_off, sk->skc_state,
					   w->listen);
			if (state && groups)
				group_count(w, state, sk->skc_num,
					    bpf_ntohs(sk->skc_dport));
			else if (state)
				chain_count(w, plain_cell(w, sk,
							  node - w->nulls_off,
							  state));
		}
		node = node_number(w, sk->skc_nulls_node.next);
	}
	/* A load that faulted read 0: never a link the kernel leaves. */
	if (!node)
		return walk_fault(w);
	w->node = node;
	if (node & 1)
		chain_end(w, groups);
	return 0;
}

static long walk_step_direct(__u32 i, void *data)
{
	return walk_step_plain(data, false);
}

#ifdef TS_WALK_GROUPS
static long walk_step_groups(__u32 i, void *data)
{
	return walk_step_plain(data, true);
}
#endif
#endif

/* Everything of @w before nr_slots: a range's own state. */
#define TS_WALK_RANGE		__builtin_offsetof(struct ts_walk, nr_slots)

/* The counts, restarts and error, before a walk of both tables. */
static __always_inline void ts_walk_clear(struct ts_walk *w)
{
	__u32 i;

	for (i = 0; i < TS_WALK_CELLS; i++) {
		w->counts[i] = 0;
		ts_cells_loop();
	}
	w->restarts = 0;
	w->incomplete = 0;
	w->err = 0;
}

/*
 * Set @w up for buckets [start, start + limit) of @table (TS_BPF_LISTEN or
 * TS_BPF_EHASH) of @net, the netns counted; 0 when there is a range to
 * walk, and w->nr_slots is the table's size.
 */
static __always_inline int ts_walk_setup(struct ts_walk *w, struct net *net,
					 __u32 table, __u32 start, __u32 limit)
{
	struct inet_hashinfo *h;
	__u64 base;

	h = BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo);
	if (!net || !h) {
		w->err = TS_BPF_EFAULT;
		return -1;
	}
	__builtin_memset(w, 0, TS_WALK_RANGE);
	w->net = (__u64)net;
	w->hinfo = (__u64)h;
	w->nulls_off = TS_SK_OFF(skc_nulls_node);
	if (table == TS_BPF_LISTEN) {
		base = (__u64)BPF_CORE_READ(h, lhash2);
		w->base = base +
			  bpf_core_field_offset(struct inet_listen_hashbucket,
						nulls_head);
		w->stride = bpf_core_type_size(struct inet_listen_hashbucket);
		w->nr_slots = BPF_CORE_READ(h, lhash2_mask) + 1;
		w->nulls_base = TS_LISTENING_NULLS_BASE;
		w->listen = 1;
	} else {
		base = (__u64)BPF_CORE_READ(h, ehash);
		w->base = base +
			  bpf_core_field_offset(struct inet_ehash_bucket, chain);
		w->stride = bpf_core_type_size(struct inet_ehash_bucket);
		w->nr_slots = BPF_CORE_READ(h, ehash_mask) + 1;
	}
	w->hcap = TS_HEADS_BYTES / w->stride;
	if (!base) {
		w->err = TS_BPF_EFAULT;
		return -1;
	}
	w->slot = start;
	w->end = w->nr_slots - start > limit ? start + limit : w->nr_slots;
	return start < w->nr_slots ? 0 : -1;
}

/* Steps ran out inside a chain: the next range walks it again. */
static __always_inline void ts_walk_finish(struct ts_walk *w)
{
	/* Keys already in the rows are counted twice: say so. */
	if (w->committed)
		w->incomplete++;
	w->committed = 0;
	chain_drop(w);
}

#ifdef TS_BPF_DIRECT
#define ts_walk_step		walk_step_direct
#else
#define ts_walk_step		walk_step
#endif
#define ts_walk_step_groups	walk_step_groups

#endif /* TCPSTATES_WALK_BPF_H */
