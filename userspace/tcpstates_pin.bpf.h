/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pinned walks' harness, shared by pin.bpf.c (tcpstates, _ports,
 * _all) and pin_ages.bpf.c (tcpstates_ages): each reader thread's walk in
 * task storage, advanced a range of buckets at each call of a task
 * iterator (pin.bpf.c's head comment says why), and ts_pin_run(), the
 * calls of a file that prints once the walk of the reader's netns is
 * whole.  Included after tcpstates_walk.bpf.h.
 *
 * Sources layer, run in the kernel.  May call: BPF helpers,
 * tcpstates_walk.bpf.h.
 */
#ifndef TCPSTATES_PIN_BPF_H
#define TCPSTATES_PIN_BPF_H

/* bpf_loop() runs of TS_MAX_STEPS steps for one range, at most. */
#define TS_PIN_LOOPS		64
/* p->table once both tables are walked. */
#define TS_PIN_DONE		2

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
	__u32 all;		/* a walk of every netns (tcpstates_all) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ts_pin_walk);
} ts_walks SEC(".maps");

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

/*
 * bpf_loop()'s steps, as many as it takes: a loop of bpf_loop() calls
 * would have the verifier check the steps once a call.  One callback
 * for each walk, plain or by group, each with its own step.
 */
static __always_inline long walk_chunk_of(void *data, const bool groups)
{
	struct ts_walk *w = ((struct ts_loop *)data)->w;

	if (w->slot >= w->end || w->err)
		return 1;
#ifdef TS_WALK_GROUPS
	if (groups)
		bpf_loop(TS_MAX_STEPS, ts_walk_step_groups, data, 0);
	else
#endif
		bpf_loop(TS_MAX_STEPS, ts_walk_step, data, 0);
	return 0;
}

static long walk_chunk(__u32 i, void *data)
{
	return walk_chunk_of(data, false);
}

#ifdef TS_WALK_GROUPS
static long walk_chunk_groups(__u32 i, void *data)
{
	return walk_chunk_of(data, true);
}
#endif

/*
 * Walk @limit buckets at most of @net from where @p stands, whole chains
 * under this call's RCU read-side section; a range whose steps ran out
 * inside a chain stops at its bucket, which the next call walks again.
 */
static __always_inline __u32 advance(struct ts_pin_walk *p, struct net *net,
				     __u32 limit, const bool groups)
{
	struct ts_walk *w = &p->w;
	struct ts_loop l = { .w = w };
	__u64 t0 = bpf_ktime_get_ns();
	__u32 walked;

	if (p->table >= TS_PIN_DONE || p->failed)
		return 0;
	if (ts_walk_setup(w, net, p->table, p->next, limit)) {
		p->failed = w->err;
		if (!w->err) {
			p->table++;
			p->next = 0;
		}
		return 0;
	}
	/* Every netns's sockets: sock_mine() in tcpstates_walk.bpf.h. */
	if (groups && p->all)
		w->net = 0;
#ifdef TS_WALK_GROUPS
	if (groups)
		bpf_loop(TS_PIN_LOOPS, walk_chunk_groups, &l, 0);
	else
#endif
		bpf_loop(TS_PIN_LOOPS, walk_chunk, &l, 0);
	ts_walk_finish(w);
	p->ns += bpf_ktime_get_ns() - t0;
	if (w->err || w->slot == p->next) {
		p->failed = w->err ? w->err : TS_BPF_EFAULT;
		return 0;
	}
	walked = w->slot - p->next;
	p->next = w->slot;
	if (p->next >= w->nr_slots) {
		p->buckets += w->nr_slots;
		p->table++;
		p->next = 0;
	}
	return walked;
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
	p->all = 0;
}

/* A call's walk, one table's share a step: advance() called in one place. */
struct ts_pin_call {
	struct ts_pin_walk *p;
	struct net *net;
	__u32 limit;
};

static long pin_step(__u32 i, void *data)
{
	struct ts_pin_call *c = data;

	advance(c->p, c->net, c->limit, false);
	return 0;
}

/*
 * One call of an iterator of the walk of the reader's netns, with @meta
 * and @tick its context's (each read from the context once: the verifier
 * refuses a context pointer the compiler moved): a tick walks
 * TS_BPF_BUCKETS buckets, the last call (no @tick) what is left.  Returns
 * the walk to print once the last call ended it whole, else NULL; *@net
 * is the reader's netns.
 */
static __always_inline struct ts_pin_walk *
ts_pin_run(struct bpf_iter_meta *meta, struct task_struct *tick,
	   struct net **net)
{
	struct seq_file *seq = meta->seq;
	struct ts_pin_call c = { };
	struct task_struct *task;
	struct ts_pin_walk *p;

	task = bpf_get_current_task_btf();
	*net = BPF_CORE_READ(task, nsproxy, net_ns);
	p = bpf_task_storage_get(&ts_walks, task, NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	/* No line at all: a reader takes an empty file for an error. */
	if (!p || !*net)
		return NULL;
	if ((tick && !meta->seq_num) || p->seq != (__u64)seq)
		start(p, seq);
	c.p = p;
	c.net = *net;
	if (tick) {
		c.limit = TS_BPF_BUCKETS;
		bpf_loop(1, pin_step, &c, 0);
		return NULL;
	}
	/*
	 * The ticks ran out first: the rest of the listener table, then of
	 * ehash, ts_stretch_max buckets of each at most.
	 */
	c.limit = ts_stretch_max ? ts_stretch_max : ~0U;
	bpf_loop(2, pin_step, &c, 0);
	p->seq = 0;
	return p->table == TS_PIN_DONE && !p->failed ? p : NULL;
}

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

#endif /* TCPSTATES_PIN_BPF_H */
