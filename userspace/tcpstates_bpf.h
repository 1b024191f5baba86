/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tcpstates.bpf.c and pin.bpf.c share with the reader's bpf.c and
 * pin.c: the programs' tables, errors and ranges, and the layout of the
 * counts.  Sources layer.
 * May call: nothing (constants and one struct).
 */
#ifndef TCPSTATES_BPF_H
#define TCPSTATES_BPF_H

#define TS_BPF_LISTEN		0	/* lhash2 */
#define TS_BPF_EHASH		1

/*
 * Buckets one program run walks at most, one RCU read-side section
 * between two scheduling points: a one-shot run (bpf.c; a 16M-bucket
 * private ehash takes 2048 runs, none of them long), a pinned walk's
 * call for one task (pin.bpf.c).
 */
#define TS_BPF_BUCKETS		8192

/*
 * The _ports and _all walks the pinned program holds at once (pin.bpf.c):
 * a user without CAP_NET_ADMIN holds TS_PIN_USER_MAX of them at most, and
 * never the last TS_PIN_RESERVE, as the module's snapshot budget.
 */
#define TS_PIN_READERS		64
#define TS_PIN_USER_MAX		16
#define TS_PIN_RESERVE		8

/*
 * The pinned transitions (pin_tr.bpf.c): the pairs of the module's file
 * (TCPSTATES_NR_TRANSITIONS, checked in pin.c), states by the kernel's
 * numbers, and the namespaces counted at once at most.
 */
#define TS_TR_PAIRS		25
#define TS_TR_STATES		12
#define TS_TR_NETNS		4096
#define TS_TR_CPUS		8192

/*
 * The pinned transitions' tables, in their .bss: both builds of
 * pin_tr.bpf.c (the tracepoint alone, and with the request and timewait
 * hooks) map it as this type, so that pin.c fills either through one
 * pointer before anything is attached.
 */
struct ts_tr_io {
	__u8 index[TS_TR_STATES][TS_TR_STATES];	/* the pair's index + 1 */
	__u8 from[TS_TR_PAIRS];
	__u8 to[TS_TR_PAIRS];
	__u32 counted;				/* bit i: pair i counted */
	char names[TS_TR_STATES][12];
};

/*
 * The pinned ages (pin_ages.bpf.c): the columns (TCPSTATES_NR_AGES,
 * checked in pin.c) and the bytes of their header line.
 */
#define TS_AGES			7
#define TS_AGE_HEAD		64

/*
 * The pinned ages' globals, in their .bss: both walks' light skeletons
 * map it as this type, so that pin.c fills either through one pointer.
 */
struct ts_ages_io {
	__u64 hz;			/* set by pin.c once it knows */
	__u64 bound_ms[TS_AGES - 1];	/* each column's upper bound */
	char head[TS_AGE_HEAD];		/* "state <1s ..." */
	/* Out, of a read while hz is 0: the netns's sysctls, in jiffies. */
	__s32 cal_fin;
	__s32 cal_keepalive;
};

/* counts[state * 2 + family]: 12 states by 2 families, a power of 2. */
#define TS_BPF_CELLS		32

#define TS_BPF_EFAULT		1	/* a table pointer did not read */
#define TS_BPF_ELAYOUT		2	/* sock_common too wide for one read */

/*
 * The program's one global, in its .bss: both walks' light skeletons map
 * it as this type, so the reader drives either through one pointer.
 */
struct ts_bpf_io {
	/* In, before each run: the reader's thread, the one task walked for... */
	__u32 target_tid;
	/* ...and what to walk. */
	__u32 table;		/* TS_BPF_LISTEN or TS_BPF_EHASH */
	__u32 start;
	__u32 limit;
	/* TCPSTATES_BPF_STRAY: the first tries of each chain count as strays. */
	__u32 stray_tries;
	/* Out. */
	__u32 ran;
	__u32 next;
	__u32 nr_slots;
	__u32 err;
	__u32 pad;
	__u64 restarts;
	__u64 incomplete;
	__u64 counts[TS_BPF_CELLS];	/* state * 2 + family, over runs */
};

#endif /* TCPSTATES_BPF_H */
