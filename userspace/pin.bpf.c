// SPDX-License-Identifier: GPL-2.0
/*
 * The pinned file DIR/tcpstates: /proc/tcpstates without the module.
 *
 * "tcpstates pin" (pin.c) attaches this program as a task iterator and
 * pins the link in bpffs, where any process that may open the file reads
 * it with cat.  An open runs the program inside the reader's read(2) once
 * per task of the reader's pid namespace, then once more with no task.
 * The tasks are only the iterator's ticks: the kernel reschedules between
 * two of them (bpf_seq_read(), BPF_ITER_RESCHED), so each task's call
 * walks TS_BPF_BUCKETS buckets at most of the reader's netns
 * (bpf_get_current_task_btf()'s nsproxy->net_ns), the listener table
 * first, then ehash, with tcpstates_walk.bpf.h's walk.  The last call
 * walks what the ticks left, ts_stretch_max buckets at most where the
 * kernel does not preempt (a pid namespace of few tasks leaves more: its
 * reader gets an empty file, not a CPU held for the whole walk; see
 * docs/pins.md), and prints docs/interface.md's grammar of
 * /proc/tcpstates with bpf_seq_printf().  Nothing is printed before it,
 * so bpf_seq_read() runs the whole walk in one read(2) of one thread.
 *
 * Readers run at once, on any CPU and preempted anywhere: each thread
 * walks in a struct ts_pin_walk of its own, in task storage, made at its
 * first read and freed with the thread; an open's first call (seq_num 0)
 * starts it afresh.
 *
 * The TIME_WAIT count and limit come from the netns as the module reads
 * them; the four TcpExt counters are summed over the CPUs' copies of the
 * netns's LINUX_MIB array (their indexes are uapi, linux/snmp.h).  Each
 * CPU's per-CPU offset is where its copy of a per-CPU map of the
 * program's own lies, less the map's per-CPU address: a ksym such as
 * this_cpu_off needs data symbols in kallsyms, which not every kernel
 * has (CONFIG_KALLSYMS_ALL).
 *
 * Sources layer, run in the kernel.  May call: BPF helpers and kfuncs,
 * tcpstates_walk.bpf.h, tcpstates_bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "tcpstates_walk.bpf.h"

/* bpf_loop() runs of TS_MAX_STEPS steps for one range, at most. */
#define TS_PIN_LOOPS		64
/* p->table once both tables are walked. */
#define TS_PIN_DONE		2
/* CPUs summed at most; bpf_per_cpu_ptr() ends the sum at nr_cpu_ids. */
#define TS_PIN_CPUS		8192

/*
 * Buckets the last call may still walk in one stretch, set by pin.c: 0
 * (no bound) where the kernel preempts.
 */
__u32 ts_stretch_max;

/* A reader's walk, where it stands, and a pointer read back as a number. */
struct ts_pin_walk {
	struct ts_walk w;
	__u64 addr;
	__u64 seq;		/* the open whose walk this is */
	__u64 ns;		/* time spent walking */
	__u64 buckets;		/* of the tables walked whole */
	__u32 table;		/* TS_BPF_LISTEN, TS_BPF_EHASH or TS_PIN_DONE */
	__u32 next;		/* the table's first bucket not yet walked */
	__u32 failed;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ts_pin_walk);
} ts_walks SEC(".maps");

/* Its copies, one a CPU, give the CPUs' per-CPU offsets. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ts_cpus SEC(".maps");

/* TcpExt counters of the netns, as /proc/net/netstat sums them. */
struct ts_mibs {
	struct ts_pin_walk *p;
	__u64 pcpu;		/* ts_cpus's value, a per-CPU address */
	__u64 base;		/* net->mib.net_statistics, another */
	__u64 tw_overflow;
	__u64 listen_overflows;
	__u64 listen_drops;
	__u64 syncookies_sent;
};

static __always_inline __u64 mib_read(__u64 mib, __u32 field)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)(mib + field * 8));
	return v;
}

/*
 * A pointer as a number: stored in a map value (privileged programs may)
 * and read back, as the walk's node_number() does.
 */
static __always_inline __u64 addr_number(struct ts_pin_walk *p, void *ptr)
{
	p->addr = (__u64)ptr;
	asm volatile("" : : : "memory");
	return p->addr;
}

static long mib_add(__u32 cpu, void *data)
{
	struct ts_mibs *m = data;
	__u32 zero = 0;
	__u64 mib;
	void *v;

	v = bpf_map_lookup_percpu_elem(&ts_cpus, &zero, cpu);
	if (!v)
		return 1;
	mib = m->base + addr_number(m->p, v) - m->pcpu;
	m->tw_overflow += mib_read(mib, LINUX_MIB_TCPTIMEWAITOVERFLOW);
	m->listen_overflows += mib_read(mib, LINUX_MIB_LISTENOVERFLOWS);
	m->listen_drops += mib_read(mib, LINUX_MIB_LISTENDROPS);
	m->syncookies_sent += mib_read(mib, LINUX_MIB_SYNCOOKIESSENT);
	return 0;
}

/*
 * Walk @limit buckets at most of @net from where @p stands, whole chains
 * under this call's RCU read-side section; a range whose steps ran out
 * inside a chain stops at its bucket, which the next call walks again.
 */
static __always_inline void advance(struct ts_pin_walk *p, struct net *net,
				    __u32 limit)
{
	struct ts_walk *w = &p->w;
	struct ts_loop l = { .w = w };
	__u64 t0 = bpf_ktime_get_ns();
	int k;

	if (p->table >= TS_PIN_DONE || p->failed)
		return;
	if (ts_walk_setup(w, net, p->table, p->next, limit)) {
		p->failed = w->err;
		if (!w->err) {
			p->table++;
			p->next = 0;
		}
		return;
	}
	for (k = 0; k < TS_PIN_LOOPS && w->slot < w->end && !w->err; k++)
		bpf_loop(TS_MAX_STEPS, ts_walk_step, &l, 0);
	ts_walk_finish(w);
	p->ns += bpf_ktime_get_ns() - t0;
	if (w->err || w->slot == p->next) {
		p->failed = w->err ? w->err : TS_BPF_EFAULT;
		return;
	}
	p->next = w->slot;
	if (p->next >= w->nr_slots) {
		p->buckets += w->nr_slots;
		p->table++;
		p->next = 0;
	}
}

/* An open's first call: a walk of its own, from the first bucket. */
static __always_inline void start(struct ts_pin_walk *p, struct seq_file *seq)
{
	ts_walk_clear(&p->w);
	p->seq = (__u64)seq;
	p->ns = 0;
	p->buckets = 0;
	p->table = TS_BPF_LISTEN;
	p->next = 0;
	p->failed = 0;
}

#define TS_CELL(st, fam)	(w->counts[((st) * 2 + (fam)) & (TS_BPF_CELLS - 1)])

/* The names as the module prints them, in the kernel's order. */
static const char ts_names[TS_TCP_CLOSING + 1][12] = {
	[TS_TCP_ESTABLISHED] = "ESTABLISHED",
	[TS_TCP_SYN_SENT] = "SYN_SENT",
	[TS_TCP_SYN_RECV] = "SYN_RECV",
	[TS_TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TS_TCP_FIN_WAIT2] = "FIN_WAIT2",
	[TS_TCP_TIME_WAIT] = "TIME_WAIT",
	[TS_TCP_CLOSE] = "CLOSE",
	[TS_TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TS_TCP_LAST_ACK] = "LAST_ACK",
	[TS_TCP_LISTEN] = "LISTEN",
	[TS_TCP_CLOSING] = "CLOSING",
};

static __always_inline void print_states(struct seq_file *seq,
					 struct ts_walk *w)
{
	__u64 v4 = 0, v6 = 0;
	__u32 st;

	for (st = TS_TCP_ESTABLISHED; st <= TS_TCP_CLOSING; st++) {
		BPF_SEQ_PRINTF(seq, "%s %llu %llu\n", ts_names[st],
			       TS_CELL(st, 0), TS_CELL(st, 1));
		v4 += TS_CELL(st, 0);
		v6 += TS_CELL(st, 1);
	}
	BPF_SEQ_PRINTF(seq, "total %llu %llu\n", v4, v6);
}

static __always_inline void print_file(struct seq_file *seq,
				       struct ts_pin_walk *p, struct net *net)
{
	struct ts_walk *w = &p->w;
	struct ts_mibs m = { .p = p };

	m.base = (__u64)BPF_CORE_READ(net, mib.net_statistics);
	bpf_probe_read_kernel(&m.pcpu, sizeof(m.pcpu),
			      (void *)(addr_number(p, &ts_cpus) +
				       bpf_core_field_offset(struct bpf_array,
							     pptrs)));
	if (m.base && m.pcpu)
		bpf_loop(TS_PIN_CPUS, mib_add, &m, 0);

	BPF_SEQ_PRINTF(seq, "tcpstates 1\nnetns %u\nstate ipv4 ipv6\n",
		       BPF_CORE_READ(net, ns.inum));
	print_states(seq, w);
	BPF_SEQ_PRINTF(seq, "tw_count %d\nmax_tw_buckets %d\n",
		       BPF_CORE_READ(net, ipv4.tcp_death_row.tw_refcount.refs.counter) - 1,
		       BPF_CORE_READ(net, ipv4.tcp_death_row.sysctl_max_tw_buckets));
	BPF_SEQ_PRINTF(seq, "tw_overflow %llu\nlisten_overflows %llu\n",
		       m.tw_overflow, m.listen_overflows);
	BPF_SEQ_PRINTF(seq, "listen_drops %llu\nsyncookies_sent %llu\n",
		       m.listen_drops, m.syncookies_sent);
	BPF_SEQ_PRINTF(seq, "scan_buckets %llu\nscan_ns %llu\n", p->buckets,
		       p->ns);
	BPF_SEQ_PRINTF(seq, "scan_restarts %llu\nscan_incomplete %llu\n",
		       w->restarts, w->incomplete);
}

SEC("iter/task")
int tcpstates_pin(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task;
	struct ts_pin_walk *p;
	struct net *net;
	__u32 limit;

	task = bpf_get_current_task_btf();
	net = BPF_CORE_READ(task, nsproxy, net_ns);
	p = bpf_task_storage_get(&ts_walks, task, NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* No line at all: a reader takes an empty file for an error. */
	if (!p || !net)
		return 0;
	if ((ctx->task && !ctx->meta->seq_num) || p->seq != (__u64)seq)
		start(p, seq);
	if (ctx->task) {
		advance(p, net, TS_BPF_BUCKETS);
		return 0;
	}
	/*
	 * The ticks ran out first: the rest of the listener table, then of
	 * ehash, ts_stretch_max buckets of each at most.
	 */
	limit = ts_stretch_max ? ts_stretch_max : ~0U;
	advance(p, net, limit);
	advance(p, net, limit);
	p->seq = 0;
	if (p->table == TS_PIN_DONE && !p->failed)
		print_file(seq, p, net);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
