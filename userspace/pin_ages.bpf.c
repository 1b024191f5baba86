// SPDX-License-Identifier: GPL-2.0
/*
 * DIR/tcpstates_ages: the module's /proc/tcpstates_ages (module/ages.c)
 * for the netns that reads it, from the walk of the other pinned files
 * (tcpstates_walk.bpf.h, tcpstates_pin.bpf.h) counting each socket by
 * state and age column, with module/ages.c's rule for each kind of
 * socket, read from the same fields against the same clocks:
 *
 *   timewait sock   jiffies since its timer was armed: expires less 60 s
 *                   (TIME_WAIT), or less the netns's fin timeout
 *                   (FIN_WAIT2, less 60 s above 60 s)
 *   request sock    tcp_clock_us() since snt_synack
 *   SYN_SENT        tcp_clock_us() since retrans_stamp, in ms, or in us
 *                   where the socket says tcp_usec_ts (6.7+)
 *   full socket     tcp_jiffies32 since icsk_ack.lrcvtime
 *
 * A BPF program cannot know HZ: pin.c reads the file once as it pins,
 * which leaves the pinner's netns's tcp_fin_timeout and keepalive_time in
 * jiffies in ts_ages_io, divides them by what /proc/sys says in seconds
 * and sets ts_ages_io.hz.  Until then the file is empty.
 *
 * Sources layer, run in the kernel.  May call: BPF helpers,
 * tcpstates_walk.bpf.h, tcpstates_pin.bpf.h, tcpstates_bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "tcpstates_bpf.h"

/* What ts_age_cell() needs of the read: HZ and the netns's fin timeout. */
struct ts_walk_ages_in {
	__u64 hz;
	__u64 fin_timeo;	/* a FIN_WAIT2 timewait sock's, in jiffies */
};

#define TS_WALK_AGES
#include "tcpstates_walk.bpf.h"
#include "tcpstates_pin.bpf.h"

#define TS_AGE_COLUMNS		8	/* cells a state: 7 columns, a power of 2 */
#define TS_TW_LEN_S		60	/* TCP_TIMEWAIT_LEN */

/* Set by pin.c: HZ, and the columns' bounds and header, from the tables. */
struct ts_ages_io ts_ages_io;

static __always_inline __u64 jiffies_ms(const struct ts_walk_ages_in *in,
					__s64 j)
{
	return j > 0 ? (__u64)j * 1000 / in->hz : 0;
}

/* A timewait sock: since its timer was armed (module/ages.c). */
static __always_inline __u64 tw_ms(const struct ts_walk_ages_in *in, __u64 sk,
				   __u32 state)
{
	struct inet_timewait_sock *tw = (void *)sk;
	__u64 armed = BPF_CORE_READ(tw, tw_timer.expires);

	armed -= state == TS_TCP_TIME_WAIT ? TS_TW_LEN_S * in->hz :
					     in->fin_timeo;
	return jiffies_ms(in, (__s64)(bpf_jiffies64() - armed));
}

/* A request sock: since its first SYN-ACK, sent as the SYN arrived. */
static __always_inline __u64 req_ms(__u64 sk)
{
	__u64 sent = BPF_CORE_READ((struct tcp_request_sock *)sk, snt_synack);
	__s64 us = bpf_ktime_get_ns() / 1000 - sent;

	return sent && us > 0 ? (__u64)us / 1000 : 0;
}

/* SYN_SENT: since the first SYN, stamped in the socket's TS clock. */
static __always_inline __u64 syn_sent_ms(__u64 sk)
{
	struct tcp_sock *tp = (void *)sk;
	__u32 stamp = BPF_CORE_READ(tp, retrans_stamp);
	__u64 now = bpf_ktime_get_ns() / 1000;

	if (!stamp)
		return 0;
	if (bpf_core_field_exists(tp->tcp_usec_ts) &&
	    BPF_CORE_READ_BITFIELD_PROBED(tp, tcp_usec_ts))
		return ((__u32)now - stamp) / 1000;
	return (__u32)((__u32)(now / 1000) - stamp);
}

/* A full socket: since the peer's last data, as ss's lastrcv. */
static __always_inline __u64 full_ms(const struct ts_walk_ages_in *in,
				     __u64 sk)
{
	__u32 last = BPF_CORE_READ((struct inet_connection_sock *)sk,
				   icsk_ack.lrcvtime);

	return (__u64)(__u32)((__u32)bpf_jiffies64() - last) * 1000 / in->hz;
}

/* The kind of socket follows from @raw, its sk_state (module/ages.c). */
static __always_inline __u32 ts_age_cell(struct ts_walk_ages_in *in,
					 __u64 sk, __u32 raw, __u32 state)
{
	__u64 ms;
	__u32 i;
	__u32 cell;

	if (raw == TS_TCP_TIME_WAIT)
		ms = tw_ms(in, sk, state);
	else if (raw == TS_TCP_NEW_SYN_RECV)
		ms = req_ms(sk);
	else if (raw == TS_TCP_SYN_SENT)
		ms = syn_sent_ms(sk);
	else
		ms = full_ms(in, sk);
	for (i = 0; i < TS_AGES - 1; i++)
		if (ms < ts_ages_io.bound_ms[i])
			break;
	cell = state * TS_AGE_COLUMNS + i;
	/*
	 * Opaque to the compiler, so that chain_count()'s mask applies to
	 * the cell whole: 6.1's verifier lost the column's bound when the
	 * mask was folded into its parts.
	 */
	asm volatile("" : "+r"(cell));
	return cell;
}

/* The FIN_WAIT2 timewait sock's timeout, as module/ages.c takes it. */
static __always_inline __u64 fin_timeo(struct net *net)
{
	__s64 fin = BPF_CORE_READ(net, ipv4.sysctl_tcp_fin_timeout);
	__s64 tw = TS_TW_LEN_S * ts_ages_io.hz;

	return fin > tw ? fin - tw : fin;
}

static __always_inline void print_row(struct seq_file *seq, struct ts_walk *w,
				      __u32 st)
{
	__u64 *c = &w->counts[(st * TS_AGE_COLUMNS) & (TS_WALK_CELLS - 1)];

	if (st == TS_TCP_LISTEN) {
		BPF_SEQ_PRINTF(seq, "%s - - - - - - -\n", ts_names[st]);
		return;
	}
	BPF_SEQ_PRINTF(seq, "%s %llu %llu %llu %llu %llu %llu %llu\n",
		       ts_names[st], c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
}

static __always_inline void print_ages(struct seq_file *seq, struct ts_walk *w,
				       struct net *net)
{
	__u32 st;

	BPF_SEQ_PRINTF(seq, "tcpstates_ages 1\nnetns %u\n%s\n",
		       BPF_CORE_READ(net, ns.inum), ts_ages_io.head);
	for (st = TS_TCP_ESTABLISHED; st <= TS_TCP_CLOSING; st++)
		print_row(seq, w, st);
}

SEC("iter/task")
int tcpstates_pin_ages(struct bpf_iter__task *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct net *net = BPF_CORE_READ(task, nsproxy, net_ns);
	struct bpf_iter_meta *meta = ctx->meta;
	struct task_struct *tick = ctx->task;
	struct ts_ages_io *io = &ts_ages_io;
	struct ts_pin_walk *p;

	if (!io->hz) {
		if (!tick && net) {
			io->cal_fin = BPF_CORE_READ(net,
						    ipv4.sysctl_tcp_fin_timeout);
			io->cal_keepalive =
				BPF_CORE_READ(net, ipv4.sysctl_tcp_keepalive_time);
		}
		return 0;
	}
	/* The walk's clocks, at each call: the walk may start at any. */
	p = bpf_task_storage_get(&ts_walks, task, NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (p && net) {
		p->w.ages.hz = io->hz;
		p->w.ages.fin_timeo = fin_timeo(net);
	}
	p = ts_pin_run(meta, tick, &net);
	if (p)
		print_ages(meta->seq, &p->w, net);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
