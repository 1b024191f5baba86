// SPDX-License-Identifier: GPL-2.0
/*
 * DIR/tcpstates_transitions: the module's /proc/tcpstates_transitions
 * (module/transitions.c) for the netns that reads it, counted since the
 * pin by a program on the sock:inet_sock_set_state tracepoint and read
 * through a task iterator, as the other pinned files are (pin.bpf.c).
 *
 * The tracepoint sees every move of a full socket, so the pairs it alone
 * counts in the module are whole here too.  Built with TS_TR_HOOKS, the
 * program also takes the module's other hooks, as fentry and fexit
 * programs: a request sock hashed or dropped, the timewait sock made (the
 * hand-over), its FIN and its end; then every pair is counted, by the
 * module's rules.  Without them (a kernel that refuses fentry) those
 * pairs read "-", as a pair with no hook reads in the module; pin.c
 * tries this build first, then the tracepoint alone.
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
#include <bpf/bpf_endian.h>

#include "tcpstates_bpf.h"

/*
 * As the module's: pairs[0] takes moves that are no edge of the table;
 * the full sockets handed over to a timewait sock by their state, and
 * the timewait socks ended by their substate, taken off or added to the
 * pairs into CLOSE when the file is read.
 */
struct ts_tr_cpu {
	__u64 cookie;
	__u64 whole;
	__u64 pairs[TS_TR_PAIRS + 1][2];
	/* 16 states, so that a mask bounds a state for the verifier. */
	__u64 handovers[16][2];
	__u64 tw_ends[16][2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, TS_TR_NETNS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct ts_tr_cpu);
} ts_tr_counts SEC(".maps");

/* A new entry's value, never written: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_tr_cpu);
} ts_tr_blank SEC(".maps");

/* Set by pin.c from the shared tables before the hooks are attached. */
struct ts_tr_io ts_tr_io;
/* Set by pin.c once every hook is attached: a pin counts from there. */
__u32 ts_tr_on;
/* Entries the map had no room for: "-" from then on. */
__u64 ts_tr_lost;

#define TS_TR_SYN_RECV	3
#define TS_TR_FIN_WAIT1	4
#define TS_TR_FIN_WAIT2	5
#define TS_TR_TIME_WAIT	6
#define TS_TR_CLOSE	7
#define TS_TR_CLOSE_WAIT	8
#define TS_TR_LISTEN	10
#define TS_TR_CLOSING	11
#define TS_TR_INET6	10
#define TS_TR_TCP	6

static __always_inline struct ts_tr_cpu *tr_entry(struct net *net)
{
	__u32 key = BPF_CORE_READ(net, ns.inum);
	__u64 cookie = BPF_CORE_READ(net, net_cookie);
	struct ts_tr_cpu *c;

	c = bpf_map_lookup_elem(&ts_tr_counts, &key);
	if (!c) {
		__u32 zero = 0;
		struct ts_tr_cpu *blank = bpf_map_lookup_elem(&ts_tr_blank, &zero);

		/* Every CPU's copy starts zeroed: cookie 0 is none, below. */
		if (!blank)
			return NULL;
		if (bpf_map_update_elem(&ts_tr_counts, &key, blank, BPF_NOEXIST) &&
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

#ifdef TS_TR_HOOKS
#include "pin_trports.bpf.h"
#endif

/* Pair [from][to] of @net, family @family, one more on this CPU. */
static __always_inline void tr_count(struct net *net, __u16 family,
				     __u32 from, __u32 to)
{
	struct ts_tr_cpu *c;
	__u32 i;

	if (from >= TS_TR_STATES || to >= TS_TR_STATES)
		return;
	c = tr_entry(net);
	if (!c)
		return;
	/*
	 * The verifier may lose the bounds above by here: masks it can see
	 * (within ts_tr_io whatever the value, and exact for the values).
	 */
	barrier_var(from);
	barrier_var(to);
	from &= 15;
	to &= 15;
	i = ts_tr_io.index[from][to];
	if (i <= TS_TR_PAIRS)
		c->pairs[i][family == TS_TR_INET6]++;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcpstates_pin_tr_state, const struct sock *sk, const int from,
	     const int to)
{
	if (!ts_tr_on || sk->sk_protocol != TS_TR_TCP || from == to)
		return 0;
	/* A listener's child: its request sock's hook counts that step. */
	if (from == TS_TR_LISTEN && to == TS_TR_SYN_RECV)
		return 0;
	tr_count(sk->__sk_common.skc_net.net, sk->__sk_common.skc_family,
		 from, to);
#ifdef TS_TR_HOOKS
	if (to == TS_TR_CLOSE_WAIT)
		trp_count((struct sock_common *)&sk->__sk_common,
			  TS_TRP_CLOSE_WAIT);
#endif
	return 0;
}

#ifdef TS_TR_HOOKS
/*
 * The hand-over: tcp_time_wait() makes the timewait sock, then always
 * hashes it in (inet_twsk_hashdance() up to 6.9, _schedule() since):
 * counted where it is made, the one function of the same name and
 * arguments on every kernel.  @sk's state is the connection's until now;
 * its own move to CLOSE that follows is taken off at read time.
 */
SEC("fexit/inet_twsk_alloc")
int BPF_PROG(tcpstates_pin_tr_twalloc, const struct sock *sk, void *dr,
	     const int state)
{
	__u32 from = sk->__sk_common.skc_state, f;
	__u64 tw = 0;
	struct ts_tr_cpu *c;

	if (!ts_tr_on || sk->sk_protocol != TS_TR_TCP ||
	    bpf_get_func_ret(ctx, &tw) || !tw || from >= TS_TR_STATES)
		return 0;
	c = tr_entry(sk->__sk_common.skc_net.net);
	if (!c)
		return 0;
	f = sk->__sk_common.skc_family == TS_TR_INET6;
	/* As in tr_count(): a bound the verifier keeps (-mcpu=v3). */
	barrier_var(from);
	c->handovers[from & 15][f]++;
	if (state != TS_TR_TIME_WAIT)
		return 0;
	tr_count(sk->__sk_common.skc_net.net, sk->__sk_common.skc_family,
		 from, TS_TR_TIME_WAIT);
	trp_count((struct sock_common *)&sk->__sk_common, TS_TRP_TIME_WAIT);
	return 0;
}

/* The FIN_WAIT2 timewait sock a segment is for, on this CPU, if any. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ts_tr_twfin SEC(".maps");

/*
 * tcp_timewait_state_process(tw, ...) runs in softirq, never nested on
 * a CPU: what it was at entry is kept per CPU for its exit, where a
 * FIN_WAIT2 sock that is now TIME_WAIT took the peer's FIN.  Only the
 * first argument is read, whose place is the same on every kernel.
 */
SEC("fentry/tcp_timewait_state_process")
int BPF_PROG(tcpstates_pin_tr_twfin_in, struct inet_timewait_sock *tw)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&ts_tr_twfin, &zero);

	if (slot)
		*slot = tw->tw_substate == TS_TR_FIN_WAIT2 ? (__u64)tw : 0;
	return 0;
}

SEC("fexit/tcp_timewait_state_process")
int BPF_PROG(tcpstates_pin_tr_twfin, struct inet_timewait_sock *tw)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&ts_tr_twfin, &zero);

	if (!slot || *slot != (__u64)tw)
		return 0;
	*slot = 0;
	if (!ts_tr_on || tw->tw_substate != TS_TR_TIME_WAIT)
		return 0;
	tr_count(tw->__tw_common.skc_net.net, tw->__tw_common.skc_family,
		 TS_TR_FIN_WAIT2, TS_TR_TIME_WAIT);
	trp_count(&tw->__tw_common, TS_TRP_TIME_WAIT);
	return 0;
}

/* A timewait sock ends (timer, reuse, RST, purge): TCP's only. */
SEC("fentry/inet_twsk_kill")
int BPF_PROG(tcpstates_pin_tr_twkill, struct inet_timewait_sock *tw)
{
	struct net *net = BPF_CORE_READ(tw, __tw_common.skc_net.net);
	__u64 dr = (__u64)BPF_CORE_READ(tw, __tw_common.skc_tw_dr);
	__u32 sub = tw->tw_substate;
	struct ts_tr_cpu *c;

	if (!ts_tr_on || sub >= TS_TR_STATES ||
	    dr != (__u64)net + bpf_core_field_offset(net->ipv4.tcp_death_row))
		return 0;
	c = tr_entry(net);
	barrier_var(sub);
	if (c)
		c->tw_ends[sub & 15][BPF_CORE_READ(tw, __tw_common.skc_family) ==
				     TS_TR_INET6]++;
	return 0;
}

/*
 * Requests, by their listener's netns and family: a SYN hashed a request
 * sock (LISTEN -> SYN_RECV) when inet_csk_reqsk_queue_hash_add() returns
 * true (the kernels since the 2024 fix for duplicate requests: Debian's
 * 6.1 and later); a request ended unanswered when the drop returns true.
 * The return value is read where the kernel put it, whatever the number
 * of arguments (two on 7.x, three before).
 */
SEC("fexit/inet_csk_reqsk_queue_hash_add")
int BPF_PROG(tcpstates_pin_tr_reqadd, const struct sock *sk)
{
	__u64 ret = 0;

	if (!ts_tr_on || sk->sk_protocol != TS_TR_TCP ||
	    bpf_get_func_ret(ctx, &ret) || !(__u8)ret)
		return 0;
	tr_count(sk->__sk_common.skc_net.net, sk->__sk_common.skc_family,
		 TS_TR_LISTEN, TS_TR_SYN_RECV);
	trp_count_in(sk->__sk_common.skc_net.net, sk->__sk_common.skc_num,
		     TS_TRP_SYN_RECV);
	return 0;
}

SEC("fexit/__inet_csk_reqsk_queue_drop")
int BPF_PROG(tcpstates_pin_tr_reqdrop, const struct sock *sk)
{
	__u64 ret = 0;

	if (ts_tr_on && sk->sk_protocol == TS_TR_TCP &&
	    !bpf_get_func_ret(ctx, &ret) && (__u8)ret)
		tr_count(sk->__sk_common.skc_net.net,
			 sk->__sk_common.skc_family, TS_TR_SYN_RECV,
			 TS_TR_CLOSE);
	return 0;
}
#endif /* TS_TR_HOOKS */

/* The reader's netns's counts, summed over the CPUs. */
struct ts_tr_sum {
	__u32 key;
	__u32 whole;
	__u64 cookie;
	__u64 pairs[TS_TR_PAIRS + 1][2];
	__u64 handovers[TS_TR_STATES][2];
	__u64 tw_ends[TS_TR_STATES][2];
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
	for (i = 0; i < TS_TR_STATES; i++) {
		s->handovers[i][0] += c->handovers[i][0];
		s->handovers[i][1] += c->handovers[i][1];
		s->tw_ends[i][0] += c->tw_ends[i][0];
		s->tw_ends[i][1] += c->tw_ends[i][1];
	}
	return 0;
}

/*
 * Pair @i's count for family @f as the module's tcpstates_tr_sum(): a
 * timewait sock's end is TIME_WAIT -> CLOSE, and a move into CLOSE is a
 * close of the connection unless it was a hand-over (a FIN_WAIT2
 * timewait sock's end is then the close).  Never below 0: a hand-over
 * counted before its socket's CLOSE, on another CPU.
 */
static __always_inline __u64 pair_sum(struct ts_tr_sum *s, __u32 i, __u32 f)
{
	__u32 from = ts_tr_io.from[i], to = ts_tr_io.to[i];
	__s64 n = s->pairs[i + 1][f];

	if (from >= TS_TR_STATES)
		return 0;
	if (from == TS_TR_TIME_WAIT)
		return s->tw_ends[TS_TR_TIME_WAIT][f];
	if (to != TS_TR_CLOSE)
		return n;
	n -= s->handovers[from][f];
	if (from == TS_TR_FIN_WAIT2)
		n += s->tw_ends[TS_TR_FIN_WAIT2][f];
	return n > 0 ? n : 0;
}

static __always_inline void print_pair(struct seq_file *seq,
				       struct ts_tr_sum *s, __u32 i)
{
	__u32 from = ts_tr_io.from[i] % TS_TR_STATES;
	__u32 to = ts_tr_io.to[i] % TS_TR_STATES;

	if (!s->whole || !((ts_tr_io.counted >> i) & 1))
		BPF_SEQ_PRINTF(seq, "%s %s - -\n", ts_tr_io.names[from],
			       ts_tr_io.names[to]);
	else
		BPF_SEQ_PRINTF(seq, "%s %s %llu %llu\n", ts_tr_io.names[from],
			       ts_tr_io.names[to], pair_sum(s, i, 0), pair_sum(s, i, 1));
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
