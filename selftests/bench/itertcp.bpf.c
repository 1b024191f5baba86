// SPDX-License-Identifier: GPL-2.0
/*
 * The strongest peer of the bpf source that needs no module: the kernel's
 * own TCP iterator (iter/tcp) with twelve counters, pinned with "bpftool
 * iter pin" and read with cat.  The iterator visits every socket of the
 * reader's netns, taking each bucket's lock and each socket's reference
 * on the way; the program only counts, with the module's rules, and
 * prints "STATE ipv4 ipv6" lines at the end (benchtime's "states").
 *
 * A read() of the iterator that visits 1,000,000 objects without output
 * fails with EAGAIN (MAX_ITER_OBJECTS in kernel/bpf/bpf_iter.c), so the
 * counter prints a "# N sockets" line every 2^18: that read then returns
 * and the next one resumes.  benchtime's parser skips those lines.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define TS_AF_INET6		10
#define TS_NR_STATES		12
#define TS_TCP_FIN_WAIT2	5
#define TS_TCP_TIME_WAIT	6
#define TS_TCP_CLOSE		7
#define TS_TCP_LISTEN		10
#define TS_TCP_SYN_RECV		3
#define TS_TCP_NEW_SYN_RECV	12

#define TS_CELLS		32	/* 12 states by 2 families, a power of 2 */
#define TS_PROGRESS		((1ULL << 18) - 1)

static __u64 counts[TS_CELLS];

static const char names[TS_NR_STATES][12] = {
	"", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};

static __u32 sock_state(struct sock_common *skc)
{
	struct tcp_timewait_sock *tw;
	__u32 state = skc->skc_state;

	if (state == TS_TCP_TIME_WAIT) {
		tw = bpf_skc_to_tcp_timewait_sock(skc);
		if (!tw)
			return 0;
		state = tw->tw_sk.tw_substate;
		return state == TS_TCP_FIN_WAIT2 || state == TS_TCP_TIME_WAIT ?
		       state : 0;
	}
	if (state == TS_TCP_NEW_SYN_RECV)
		return TS_TCP_SYN_RECV;
	return state < TS_NR_STATES && state != TS_TCP_CLOSE ? state : 0;
}

SEC("iter/tcp")
int count_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;
	__u32 state, fam, i;

	if (ctx->meta->seq_num == 0 && skc)
		for (i = 0; i < TS_CELLS; i++)
			counts[i] = 0;
	if (skc) {
		state = sock_state(skc);
		fam = skc->skc_family == TS_AF_INET6;
		if (state)
			counts[(state * 2 + fam) & (TS_CELLS - 1)]++;
		if ((ctx->meta->seq_num & TS_PROGRESS) == TS_PROGRESS)
			BPF_SEQ_PRINTF(seq, "# %llu sockets\n",
				       ctx->meta->seq_num + 1);
		return 0;
	}
	for (i = 1; i < TS_NR_STATES; i++)
		BPF_SEQ_PRINTF(seq, "%s %llu %llu\n", names[i],
			       counts[i * 2], counts[i * 2 + 1]);
	for (i = 0; i < TS_CELLS; i++)
		counts[i] = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
