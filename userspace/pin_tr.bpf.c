// SPDX-License-Identifier: GPL-2.0
/*
 * DIR/tcpstates_transitions: the module's /proc/tcpstates_transitions
 * (module/transitions.c) for the netns that reads it, counted since the
 * pin by a program on the sock:inet_sock_set_state tracepoint and read
 * through a task iterator, as the other pinned files are (pin.bpf.c).
 *
 * The tracepoint sees every move of a full socket, so the pairs it alone
 * counts in the module are whole here too (pin.c marks them in
 * ts_tr_counted).  The others need the module's kprobes (a request sock
 * hashed or dropped, the timewait hand-over, a timewait sock's FIN and
 * end) and read "-", as a pair with no hook reads in the module.
 *
 * Counts are per CPU, in an entry per netns keyed by its inode number;
 * each CPU's copy says which netns it counts for by its net_cookie, which
 * is never reused, so a netns made on a dead one's inode starts from 0.
 * A netns with no entry has seen no move, unless an entry could not be
 * made (the map full): then, and for entries made after that, "-".
 *
 * Sources layer, run in the kernel.  May call: BPF helpers.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "tcpstates_bpf.h"

/* As the module's: pairs[0] takes moves that are no edge of the table. */
struct ts_tr_cpu {
	__u64 cookie;
	__u64 whole;
	__u64 pairs[TS_TR_PAIRS + 1][2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TS_TR_NETNS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct ts_tr_cpu);
} ts_tr_counts SEC(".maps");

/* Set by pin.c from the shared tables before the tracepoint is attached. */
__u8 ts_tr_index[TS_TR_STATES][TS_TR_STATES];	/* the pair's index + 1 */
__u8 ts_tr_from[TS_TR_PAIRS];
__u8 ts_tr_to[TS_TR_PAIRS];
__u32 ts_tr_counted;				/* bit i: pair i counted here */
char ts_tr_names[TS_TR_STATES][12];
/* Entries the map had no room for: "-" from then on. */
__u64 ts_tr_lost;

#define TS_TR_LISTEN	10
#define TS_TR_SYN_RECV	3
#define TS_TR_INET6	10
#define TS_TR_TCP	6

static __always_inline struct ts_tr_cpu *tr_entry(struct net *net)
{
	__u32 key = BPF_CORE_READ(net, ns.inum);
	__u64 cookie = BPF_CORE_READ(net, net_cookie);
	struct ts_tr_cpu *c;

	c = bpf_map_lookup_elem(&ts_tr_counts, &key);
	if (!c) {
		/* The other CPUs' copies start zeroed: cookie 0 is none. */
		struct ts_tr_cpu blank = { .cookie = cookie };

		blank.whole = !ts_tr_lost;
		if (bpf_map_update_elem(&ts_tr_counts, &key, &blank, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&ts_tr_counts, &key)) {
			__sync_fetch_and_add(&ts_tr_lost, 1);
			return NULL;
		}
		c = bpf_map_lookup_elem(&ts_tr_counts, &key);
		if (!c)
			return NULL;
	}
	if (c->cookie != cookie) {
		__builtin_memset(c, 0, sizeof(*c));
		c->cookie = cookie;
		c->whole = !ts_tr_lost;
	}
	return c;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcpstates_pin_tr_state, const struct sock *sk, const int from,
	     const int to)
{
	struct ts_tr_cpu *c;
	__u32 i, f;

	if (sk->sk_protocol != TS_TR_TCP || from == to ||
	    (__u32)from >= TS_TR_STATES || (__u32)to >= TS_TR_STATES)
		return 0;
	/* A listener's child: its request sock's hook counts that step. */
	if (from == TS_TR_LISTEN && to == TS_TR_SYN_RECV)
		return 0;
	c = tr_entry(sk->__sk_common.skc_net.net);
	if (!c)
		return 0;
	i = ts_tr_index[from][to];
	f = sk->__sk_common.skc_family == TS_TR_INET6;
	if (i <= TS_TR_PAIRS)
		c->pairs[i][f]++;
	return 0;
}

/* The reader's netns's counts, summed over the CPUs. */
struct ts_tr_sum {
	__u32 key;
	__u32 whole;
	__u64 cookie;
	__u64 pairs[TS_TR_PAIRS + 1][2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_tr_sum);
} ts_tr_scratch SEC(".maps");

static long sum_cpu(__u32 cpu, void *data)
{
	struct ts_tr_sum *s = *(struct ts_tr_sum **)data;
	struct ts_tr_cpu *c;
	__u32 i;

	c = bpf_map_lookup_percpu_elem(&ts_tr_counts, &s->key, cpu);
	if (!c)
		return 1;	/* past the last CPU */
	if (c->cookie != s->cookie)
		return 0;
	if (!c->whole)
		s->whole = 0;
	for (i = 1; i <= TS_TR_PAIRS; i++) {
		s->pairs[i][0] += c->pairs[i][0];
		s->pairs[i][1] += c->pairs[i][1];
	}
	return 0;
}

static __always_inline void print_pair(struct seq_file *seq,
				       struct ts_tr_sum *s, __u32 i)
{
	__u32 from = ts_tr_from[i] % TS_TR_STATES;
	__u32 to = ts_tr_to[i] % TS_TR_STATES;

	if (!s->whole || !((ts_tr_counted >> i) & 1))
		BPF_SEQ_PRINTF(seq, "%s %s - -\n", ts_tr_names[from],
			       ts_tr_names[to]);
	else
		BPF_SEQ_PRINTF(seq, "%s %s %llu %llu\n", ts_tr_names[from],
			       ts_tr_names[to], s->pairs[i + 1][0],
			       s->pairs[i + 1][1]);
}

/* The whole file at the iterator's last call; the tasks before it, none. */
SEC("iter/task")
int tcpstates_pin_tr(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task;
	struct ts_tr_sum *s;
	struct net *net;
	__u32 zero = 0, i;

	if (ctx->task)
		return 0;
	s = bpf_map_lookup_elem(&ts_tr_scratch, &zero);
	if (!s)
		return 0;
	__builtin_memset(s, 0, sizeof(*s));
	task = bpf_get_current_task_btf();
	net = BPF_CORE_READ(task, nsproxy, net_ns);
	if (!net)
		return 0;
	s->key = BPF_CORE_READ(net, ns.inum);
	s->cookie = BPF_CORE_READ(net, net_cookie);
	s->whole = bpf_map_lookup_elem(&ts_tr_counts, &s->key) || !ts_tr_lost;
	bpf_loop(TS_TR_CPUS, sum_cpu, &s, 0);
	BPF_SEQ_PRINTF(seq, "tcpstates_transitions 1\nnetns %u\nfrom to ipv4 ipv6\n",
		       s->key);
	for (i = 0; i < TS_TR_PAIRS; i++)
		print_pair(seq, s, i);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
