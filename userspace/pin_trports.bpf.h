/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DIR/tcpstates_transitions_ports: the module's
 * /proc/tcpstates_transitions_ports (module/trports.c) for the netns that
 * reads it, counted by pin_tr.bpf.c's hooks as they count the pairs:
 * connections that entered SYN_RECV, CLOSE_WAIT and TIME_WAIT, by service
 * port, "in PORT" when a listener of the netns holds the local port, else
 * "out" and the remote port.
 *
 * The direction is decided at the move, as the module decides it: a
 * lookup in lhash2, the two chains the kernel's own lookup of a SYN tries
 * (the socket's address's and the wildcard's), their hashes computed here
 * as the kernel's ipv4_portaddr_hash() and ipv6_portaddr_hash() compute
 * them (jhash with the netns's hash_mix).  No helper a tracing program may
 * call does that lookup.
 *
 * Memory as the module's: 127 rows and "other" per netns (4 KB), in an
 * entry of a hash map keyed by the netns's inode number, made at its
 * first move; a row is claimed for a group by compare-and-swap on its
 * key, for the netns's life; counters are shared atomics.
 *
 * Sources layer, run in the kernel.  May call: BPF helpers.
 */
#ifndef TCPSTATES_PIN_TRPORTS_BPF_H
#define TCPSTATES_PIN_TRPORTS_BPF_H

#define TS_TRP_ROWS		127
#define TS_TRP_COLS		3
#define TS_TRP_SYN_RECV		0
#define TS_TRP_CLOSE_WAIT	1
#define TS_TRP_TIME_WAIT	2
/* Groups: "in" by local port, then "out" by remote port, as the module's. */
#define TS_TRP_OUT		65536
/* Listeners looked at in a chain, and walks of a chain that strayed. */
#define TS_TRP_CHAIN		32
#define TS_TRP_TRIES		4
#define TS_TRP_NULLS_BASE	0x20000000	/* the kernel's for lhash2 */

struct ts_trp_row {
	__u32 key;		/* group + 1, 0 while free; set once */
	__u32 pad;
	__u64 n[TS_TRP_COLS];
};

struct ts_trp_net {
	__u64 cookie;
	__u64 whole;
	/* The last row is "other": the groups that found no row free. */
	struct ts_trp_row rows[TS_TRP_ROWS + 1];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_TR_NETNS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct ts_trp_net);
} ts_trp_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_trp_net);
} ts_trp_blank SEC(".maps");

/* Entries the map had no room for: "-" from then on. */
__u64 ts_trp_lost;

/* bpf_loop() passes a pointer to the stack: the map value's, there. */
static long trp_zero_row(__u32 i, void *data)
{
	struct ts_trp_net *t = *(struct ts_trp_net **)data;

	if (i > TS_TRP_ROWS)
		return 1;
	t->rows[i].key = 0;
	t->rows[i].n[0] = 0;
	t->rows[i].n[1] = 0;
	t->rows[i].n[2] = 0;
	return 0;
}

/*
 * @net's rows.  A netns made on a dead one's inode finds its entry with
 * another cookie and takes it over, zeroed: a move of the new netns
 * counted on another CPU while the first one zeroes it can be lost, in
 * the first moves of such a netns only.
 */
static __always_inline struct ts_trp_net *trp_entry(struct net *net)
{
	__u32 key = BPF_CORE_READ(net, ns.inum), zero = 0;
	__u64 cookie = BPF_CORE_READ(net, net_cookie), old;
	struct ts_trp_net *t, *blank;

	t = bpf_map_lookup_elem(&ts_trp_counts, &key);
	if (!t) {
		blank = bpf_map_lookup_elem(&ts_trp_blank, &zero);
		if (!blank)
			return NULL;
		if (bpf_map_update_elem(&ts_trp_counts, &key, blank, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&ts_trp_counts, &key)) {
			__sync_fetch_and_add(&ts_trp_lost, 1);
			return NULL;
		}
		t = bpf_map_lookup_elem(&ts_trp_counts, &key);
		if (!t)
			return NULL;
	}
	old = t->cookie;
	if (old != cookie &&
	    __sync_val_compare_and_swap(&t->cookie, old, cookie) == old) {
		bpf_loop(TS_TRP_ROWS + 1, trp_zero_row, &t, 0);
		t->whole = !ts_trp_lost;
	}
	return t;
}

struct trp_probe {
	struct ts_trp_net *t;
	__u32 key;
	__u32 i;
	__u32 found;
};

/* One slot of the open addressing: the group's, or free and claimed. */
static long trp_probe_step(__u32 n, void *data)
{
	struct trp_probe *p = data;
	__u32 i = p->i, old;

	if (i >= TS_TRP_ROWS)
		return 1;
	old = p->t->rows[i].key;
	if (!old)
		old = __sync_val_compare_and_swap(&p->t->rows[i].key, 0, p->key);
	if (!old || old == p->key) {
		p->found = i;
		return 1;
	}
	p->i = i + 1 < TS_TRP_ROWS ? i + 1 : 0;
	return 0;
}

static __always_inline void trp_add(struct ts_trp_net *t, __u32 group,
				    __u32 col)
{
	struct trp_probe p = {
		.t = t, .key = group + 1, .i = group % TS_TRP_ROWS,
		.found = TS_TRP_ROWS,
	};

	bpf_loop(TS_TRP_ROWS, trp_probe_step, &p, 0);
	if (p.found <= TS_TRP_ROWS && col < TS_TRP_COLS)
		__sync_fetch_and_add(&t->rows[p.found].n[col], 1);
}

static __always_inline __u32 trp_rol(__u32 w, __u32 s)
{
	return (w << s) | (w >> (32 - s));
}

/* The kernel's __jhash_final() (include/linux/jhash.h): c of a, b, c. */
static __always_inline __u32 trp_jhash_final(__u32 a, __u32 b, __u32 c)
{
	c ^= b;
	c -= trp_rol(b, 14);
	a ^= c;
	a -= trp_rol(c, 11);
	b ^= a;
	b -= trp_rol(a, 25);
	c ^= b;
	c -= trp_rol(b, 16);
	a ^= c;
	a -= trp_rol(c, 4);
	b ^= a;
	b -= trp_rol(a, 14);
	c ^= b;
	c -= trp_rol(b, 24);
	return c;
}

#define TRP_JHASH_INITVAL	0xdeadbeef

/* jhash_1word(@w, @mix): ipv4_portaddr_hash() less its port. */
static __always_inline __u32 trp_jhash_1word(__u32 w, __u32 mix)
{
	mix += TRP_JHASH_INITVAL + (1 << 2);
	return trp_jhash_final(w + mix, mix, mix);
}

/* jhash2(@k, 4, @mix): an IPv6 address's, ipv6_portaddr_hash(). */
static __always_inline __u32 trp_jhash_v6(const __u32 *k, __u32 mix)
{
	__u32 init = TRP_JHASH_INITVAL + (4 << 2) + mix;
	__u32 a = init + k[0], b = init + k[1], c = init + k[2];

	/* __jhash_mix(a, b, c) */
	a -= c;
	a ^= trp_rol(c, 4);
	c += b;
	b -= a;
	b ^= trp_rol(a, 6);
	a += c;
	c -= b;
	c ^= trp_rol(b, 8);
	b += a;
	a -= c;
	a ^= trp_rol(c, 16);
	c += b;
	b -= a;
	b ^= trp_rol(a, 19);
	a += c;
	c -= b;
	c ^= trp_rol(b, 4);
	b += a;
	return trp_jhash_final(a + k[3], b, c);
}

/* 1 when lhash2's chain @slot holds a listener of @net on @port, -1 to retry. */
static __always_inline int trp_chain(__u64 head, __u32 slot, __u64 net,
				     __u32 port)
{
	__u64 off = bpf_core_field_offset(struct sock_common, skc_nulls_node);
	__u64 node = 0;
	struct sock_common *skc;
	int i;

	bpf_probe_read_kernel(&node, sizeof(node), (void *)head);
	for (i = 0; i < TS_TRP_CHAIN && node && !(node & 1); i++) {
		skc = (void *)(node - off);
		if (BPF_CORE_READ(skc, skc_num) == port &&
		    (__u64)BPF_CORE_READ(skc, skc_net.net) == net &&
		    BPF_CORE_READ(skc, skc_state) == TS_TR_LISTEN)
			return 1;
		node = (__u64)BPF_CORE_READ(skc, skc_nulls_node.next);
	}
	if (!(node & 1))
		return 0;	/* a chain longer than we look: not found */
	return (node >> 1) == TS_TRP_NULLS_BASE + slot ? 0 : -1;
}

/* Does a listener of @net hold @skc's local port?  As trports.c. */
static __always_inline bool trp_listened(struct sock_common *skc,
					 struct net *net)
{
	struct inet_hashinfo *h = BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo);
	__u32 mix = BPF_CORE_READ(net, hash_mix), port = skc->skc_num;
	__u32 mask, slots[2], addr[4], own, i;
	__u64 base, stride;
	int ret = 0, tries;

	if (!h)
		return false;
	mask = BPF_CORE_READ(h, lhash2_mask);
	base = (__u64)BPF_CORE_READ(h, lhash2) +
	       bpf_core_field_offset(struct inet_listen_hashbucket, nulls_head);
	stride = bpf_core_type_size(struct inet_listen_hashbucket);
	if (skc->skc_family == TS_TR_INET6) {
		bpf_probe_read_kernel(addr, sizeof(addr),
				      &skc->skc_v6_rcv_saddr.in6_u.u6_addr32);
		if (!(addr[0] | addr[1] | addr[2] | addr[3]))
			own = trp_jhash_1word(0, mix);
		else if (!(addr[0] | addr[1]) && addr[2] == bpf_htonl(0xffff))
			own = trp_jhash_1word(addr[3], mix);
		else
			own = trp_jhash_v6(addr, mix);
	} else {
		own = trp_jhash_1word(skc->skc_rcv_saddr, mix);
	}
	slots[0] = (trp_jhash_1word(0, mix) ^ port) & mask;
	slots[1] = (own ^ port) & mask;
	for (i = 0; i < 2 && ret != 1; i++) {
		if (i && slots[1] == slots[0])
			break;
		for (tries = 0; tries < TS_TRP_TRIES; tries++) {
			ret = trp_chain(base + (__u64)slots[i] * stride, slots[i],
					(__u64)net, port);
			if (ret >= 0)
				break;
		}
	}
	return ret == 1;
}

/* A full or timewait socket's move into column @col. */
static __always_inline void trp_count(struct sock_common *skc, __u32 col)
{
	struct net *net = skc->skc_net.net;
	struct ts_trp_net *t = trp_entry(net);
	__u32 group = skc->skc_num;

	if (!t)
		return;
	if (!trp_listened(skc, net))
		group = TS_TRP_OUT + bpf_ntohs(skc->skc_dport);
	trp_add(t, group, col);
}

/* A request sock: its listener's port is a service's. */
static __always_inline void trp_count_in(struct net *net, __u32 port,
					 __u32 col)
{
	struct ts_trp_net *t = trp_entry(net);

	if (t)
		trp_add(t, port, col);
}

/* The reader's netns's rows, copied, and their order by group. */
struct ts_trp_out {
	/* 128 each, so that a mask bounds an index for the verifier. */
	__u32 key[TS_TRP_ROWS + 1];
	__u32 rank[TS_TRP_ROWS + 1];
	__u32 order[TS_TRP_ROWS + 1];
	__u64 n[TS_TRP_ROWS + 1][TS_TRP_COLS];
	__u64 whole;
};

struct trp_copy {
	struct ts_trp_net *t;
	struct ts_trp_out *o;
};

/* Row @i of the netns's entry (or of the blank one) into the copy. */
static long trp_copy_row(__u32 i, void *data)
{
	struct trp_copy *c = data;

	i &= TS_TRP_ROWS;
	c->o->key[i] = i < TS_TRP_ROWS ? c->t->rows[i].key : 0;
	c->o->rank[i] = 0;
	c->o->order[i] = 0;
	c->o->n[i][0] = c->t->rows[i].n[0];
	c->o->n[i][1] = c->t->rows[i].n[1];
	c->o->n[i][2] = c->t->rows[i].n[2];
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_trp_out);
} ts_trp_scratch SEC(".maps");

/* Step @k of 127 x 127: row i ranks after each row j of a smaller key. */
static long trp_rank_step(__u32 k, void *data)
{
	struct ts_trp_out *o = *(struct ts_trp_out **)data;
	__u32 i = k / TS_TRP_ROWS, j = k % TS_TRP_ROWS;

	/* The compiler knows both below 127 and would drop a mask. */
	barrier_var(i);
	barrier_var(j);
	i &= TS_TRP_ROWS;
	j &= TS_TRP_ROWS;

	if (o->key[i] && o->key[j] && o->key[j] < o->key[i])
		o->rank[i]++;
	return 0;
}

/* Rows' places in group order: row i goes to place rank[i]. */
static long trp_order_step(__u32 i, void *data)
{
	struct ts_trp_out *o = *(struct ts_trp_out **)data;
	__u32 r;

	i &= TS_TRP_ROWS;
	r = o->rank[i];
	if (!o->key[i] || r >= TS_TRP_ROWS)
		return 0;
	barrier_var(r);
	o->order[r & TS_TRP_ROWS] = i + 1;
	return 0;
}

struct trp_print {
	struct seq_file *seq;
	struct ts_trp_out *o;
};

/* Place @r's row; the places end at the first empty one. */
static long trp_print_step(__u32 r, void *data)
{
	struct trp_print *p = data;
	struct ts_trp_out *o = p->o;
	__u32 i, group;

	i = o->order[r & TS_TRP_ROWS];
	if (!i)
		return 1;
	i = (i - 1) & TS_TRP_ROWS;
	group = o->key[i] - 1;
	if (!o->whole)
		BPF_SEQ_PRINTF(p->seq, "%s %u - - -\n",
			       group < TS_TRP_OUT ? "in" : "out",
			       group % TS_TRP_OUT);
	else
		BPF_SEQ_PRINTF(p->seq, "%s %u %llu %llu %llu\n",
			       group < TS_TRP_OUT ? "in" : "out",
			       group % TS_TRP_OUT, o->n[i][0], o->n[i][1],
			       o->n[i][2]);
	return 0;
}

/* The whole file at the iterator's last call; the tasks before it, none. */
SEC("iter/task")
int tcpstates_pin_trp(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task;
	struct ts_trp_out *o;
	struct trp_print print;
	struct trp_copy copy;
	struct ts_trp_net *t;
	__u32 zero = 0, key;
	__u64 whole, cookie;
	struct net *net;

	if (ctx->task)
		return 0;
	o = bpf_map_lookup_elem(&ts_trp_scratch, &zero);
	if (!o)
		return 0;
	task = bpf_get_current_task_btf();
	net = BPF_CORE_READ(task, nsproxy, net_ns);
	if (!net)
		return 0;
	key = BPF_CORE_READ(net, ns.inum);
	cookie = BPF_CORE_READ(net, net_cookie);
	t = bpf_map_lookup_elem(&ts_trp_counts, &key);
	whole = !ts_trp_lost;
	if (t && t->cookie == cookie)
		whole = t->whole;
	else
		t = bpf_map_lookup_elem(&ts_trp_blank, &zero);
	if (!t)
		return 0;
	copy.t = t;
	copy.o = o;
	bpf_loop(TS_TRP_ROWS + 1, trp_copy_row, &copy, 0);
	o->whole = whole;
	bpf_loop(TS_TRP_ROWS * TS_TRP_ROWS, trp_rank_step, &o, 0);
	bpf_loop(TS_TRP_ROWS, trp_order_step, &o, 0);
	BPF_SEQ_PRINTF(seq, "tcpstates_transitions_ports 1\nnetns %u\n", key);
	BPF_SEQ_PRINTF(seq, "direction port SYN_RECV CLOSE_WAIT TIME_WAIT\n");
	print.seq = seq;
	print.o = o;
	bpf_loop(TS_TRP_ROWS, trp_print_step, &print, 0);
	if (!whole)
		BPF_SEQ_PRINTF(seq, "other - - - -\n");
	else
		BPF_SEQ_PRINTF(seq, "other - %llu %llu %llu\n",
			       o->n[TS_TRP_ROWS][0], o->n[TS_TRP_ROWS][1],
			       o->n[TS_TRP_ROWS][2]);
	return 0;
}

#endif /* TCPSTATES_PIN_TRPORTS_BPF_H */
