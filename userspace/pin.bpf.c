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

#define TS_WALK_GROUPS
#include "tcpstates_walk.bpf.h"
#include "tcpstates_pin.bpf.h"

/* CPUs summed at most; bpf_per_cpu_ptr() ends the sum at nr_cpu_ids. */
#define TS_PIN_CPUS		8192

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

#define TS_CELL(st, fam)	(w->counts[((st) * 2 + (fam)) & (TS_BPF_CELLS - 1)])

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
	struct bpf_iter_meta *meta = ctx->meta;
	struct ts_pin_walk *p;
	struct net *net;

	p = ts_pin_run(meta, ctx->task, &net);
	if (p)
		print_file(meta->seq, p, net);
	return 0;
}

/*
 * DIR/tcpstates_ports: the same walk by service port (module/ports.c's
 * groups: "in" a local port with a listener, the listener pass first,
 * else "out" the remote port, 65536 on), into rows kept sorted by group
 * in the reader's own struct ts_pin_ports, deleted once its file is
 * read.  A netns of more groups than TS_PORT_ROWS takes more passes:
 * each keeps the smallest groups above what the passes before printed
 * (a full pass that meets a smaller group drops its largest: a group it
 * drops has TS_PORT_ROWS smaller ones, so every row kept is whole).
 *
 * Rows are printed from the calls that follow a pass, TS_PRINT_BYTES at
 * most a call (500 rows of counts below 10000), what the 32 KB seq_file
 * buffer takes.  A call whose output does not fit beside what the calls
 * before it printed in the same read(2) is thrown away and called again
 * at the next read(2): it notices (a print that fails) and prints the
 * same rows again.  Nothing is printed before the first pass ends; if the
 * ticks run out after that, the file ends with "error incomplete" rather
 * than short.  A reader needs about (buckets / 8192 + 1) tasks in its pid
 * namespace for each pass, and one for each call's worth of rows.
 */
#define TS_NR_PORTS		65536
#define TS_PORT_ROWS		512
/*
 * Bytes of rows a call prints at most: the seq_file buffer's 32 KB less
 * the first three lines and the last.
 */
#define TS_PRINT_BYTES		(32768 - 512)
#define TS_PORT_STATES		TS_TCP_CLOSING
/* Walks at once, and how long one may sit unread before another takes it. */
#define TS_PORT_READERS		TS_PIN_READERS
#define TS_PORT_STALE_NS	(5ULL * 1000000000)
/* Private tables a call finds in one walk of the netns list. */
#define TS_ALL_BATCH		32

/*
 * A pass of tcpstates_all walks the shared tables (TS_PORTS_WALK), each
 * private ehash (TS_ALL_PRIVATE), then the netns list (TS_ALL_LIST),
 * before its rows are printed.
 */
enum { TS_PORTS_WALK, TS_PORTS_PRINT, TS_PORTS_DONE, TS_ALL_PRIVATE,
	TS_ALL_LIST };

struct ts_port_row {
	__u32 group;
	/* By state: cells[0] unused, so that the index needs no subtraction. */
	__u32 cells[TS_PORT_STATES + 1];
	/* tcpstates_all: the netns's TIME_WAIT picture, if it is still there. */
	__s32 tw_count;
	__s32 max_tw;
	__u32 seen;
};

/*
 * A walk of the netns list (tcpstates_all), in the reader's map value:
 * the combined stack of the nested callbacks has no room for it on 6.1.
 */
struct ts_list {
	__u64 head;
	__u64 pos;
	__u64 want;		/* TS_ALL_PRIVATE: the smallest cookie wanted */
	__u64 cookie;		/* find_batch(): the one being placed */
	__u32 at;
	__u32 pad;
};

/* A reader's _ports walk: the walk first, so that a ts_walk is one. */
struct ts_pin_ports {
	struct ts_pin_walk p;
	__u64 listening[TS_NR_PORTS / 64];
	__u32 floor;		/* groups below it were printed already */
	__u32 nr;		/* rows */
	__u32 more;		/* groups this pass had no room for */
	__u32 printed;		/* rows of this pass printed */
	__u32 hit;		/* the last key's row */
	__u32 phase;
	__u32 head;		/* the first three lines printed */
	__u32 maxcell;		/* the largest count yet: how wide rows are */
	__u32 denied;		/* tcpstates_all opened outside the initial netns */
	__u32 uid;		/* whose walk it is: see ports_claim() */
	__u32 pad2;
	__u64 last;		/* when a call last ran: see census() */
	/* tcpstates_all: the initial netns, and the private ehash walked. */
	__u64 init;
	__u64 shared;		/* the shared tables' struct inet_hashinfo */
	__u64 cookie;		/* the private table's netns's net_cookie */
	__u32 private_on;	/* that table is being walked */
	/* The next private tables by net_cookie, found by this call. */
	__u32 bn;
	__u32 bi;
	__u32 pad;
	__u64 bcookie[TS_ALL_BATCH];
	__u64 bnet[TS_ALL_BATCH];
	__u64 table;		/* the reader's netns: ts_ports_walk() */
	struct ts_list list;
	struct ts_port_row rows[TS_PORT_ROWS];
};

/*
 * The readers' walks, keyed by thread, allocated with the map when the
 * program loads: a value this size is more than task storage allocates
 * on newer kernels (7.2), and a fixed set bounds the memory however many
 * read.  A thread takes one at its open's first call, by copying the
 * blank one in, and gives it back when its file has been read whole.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TS_PORT_READERS);
	__type(key, __u64);		/* bpf_get_current_pid_tgid() */
	__type(value, struct ts_pin_ports);
} ts_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_pin_ports);
} ts_ports_blank SEC(".maps");

static __always_inline __u32 ts_group_of(struct ts_walk *w, __u32 lport,
					 __u32 rport)
{
	struct ts_pin_ports *pp = (struct ts_pin_ports *)w;
	__u64 bit = 1ULL << (lport & 63);
	__u32 word = (lport & (TS_NR_PORTS - 1)) / 64;
	__u32 group;

	if (pp->p.all)
		return w->last_inum < pp->floor ? TS_NO_GROUP : w->last_inum;
	if (w->listen)
		pp->listening[word] |= bit;
	if (pp->listening[word] & bit)
		group = lport & (TS_NR_PORTS - 1);
	else
		group = TS_NR_PORTS + (rport & (TS_NR_PORTS - 1));
	return group < pp->floor ? TS_NO_GROUP : group;
}

/* bpf_loop()'s context for moving rows up to make room. */
struct ts_shift {
	struct ts_pin_ports *pp;
	__u32 top;
};

static long shift_row(__u32 i, void *data)
{
	struct ts_shift *sh = data;
	__u32 j = sh->top - i;

	if (j < 1 || j >= TS_PORT_ROWS)
		return 1;
	/* The masks below stay: the verifier checks them, not the test. */
	barrier_var(j);
	sh->pp->rows[j & (TS_PORT_ROWS - 1)] =
		sh->pp->rows[(j - 1) & (TS_PORT_ROWS - 1)];
	return 0;
}

/* A new row for @group at @at, the largest dropped if the rows are full. */
static __always_inline int row_insert(struct ts_pin_ports *pp, __u32 at,
				      __u32 group)
{
	struct ts_shift sh = { .pp = pp };
	struct ts_port_row *r;

	if (pp->nr >= TS_PORT_ROWS) {
		pp->more = 1;
		if (at >= TS_PORT_ROWS - 1)
			return -1;
		pp->nr = TS_PORT_ROWS - 1;
	}
	sh.top = pp->nr;
	if (pp->nr > at)
		bpf_loop(pp->nr - at, shift_row, &sh, 0);
	r = &pp->rows[at & (TS_PORT_ROWS - 1)];
	__builtin_memset(r, 0, sizeof(*r));
	r->group = group;
	pp->nr++;
	pp->hit = at;
	return at;
}

/* bpf_loop()'s context for a binary search of the rows. */
struct ts_search {
	struct ts_pin_ports *pp;
	__u32 group;
	__u32 lo;
	__u32 hi;
};

static long search_step(__u32 i, void *data)
{
	struct ts_search *s = data;
	__u32 mid;

	if (s->lo >= s->hi)
		return 1;
	mid = (s->lo + s->hi) / 2;
	if (s->pp->rows[mid & (TS_PORT_ROWS - 1)].group < s->group)
		s->lo = mid + 1;
	else
		s->hi = mid;
	return 0;
}

/*
 * The row of @group: the last one, else a binary search, else a new one
 * if @make.
 */
static __always_inline int row_of(struct ts_pin_ports *pp, __u32 group,
				  bool make)
{
	struct ts_search s = { .pp = pp, .group = group, .hi = pp->nr };
	__u32 i;

	if (s.hi > TS_PORT_ROWS)
		return -1;
	i = pp->hit & (TS_PORT_ROWS - 1);
	if (i < s.hi && pp->rows[i].group == group)
		return i;
	/* 10 halvings of 512 rows at most. */
	bpf_loop(10, search_step, &s, 0);
	i = s.lo;
	if (i < pp->nr && pp->rows[i & (TS_PORT_ROWS - 1)].group == group) {
		pp->hit = i;
		return i;
	}
	return make ? row_insert(pp, i, group) : -1;
}

/* One key of the chain into its row: a bpf_loop() step, checked once. */
static long commit_key(__u32 i, void *data)
{
	struct ts_walk *w = ((struct ts_loop *)data)->w;
	struct ts_pin_ports *pp = (struct ts_pin_ports *)w;
	__u32 state, *cell;
	__u64 key;
	int row;

	if (i >= TS_UNDO)
		return 1;
	key = w->keys[i & (TS_UNDO - 1)];
	state = key & 15;
	row = row_of(pp, key >> 4, true);
	if (row < 0 || state < 1 || state > TS_PORT_STATES)
		return 0;
	cell = &pp->rows[row & (TS_PORT_ROWS - 1)].cells[state];
	if (++*cell > pp->maxcell)
		pp->maxcell = *cell;
	return 0;
}

static __always_inline void ts_group_commit(struct ts_walk *w)
{
	struct ts_loop l = { .w = w };

	bpf_loop(w->keys_n, commit_key, &l, 0);
}

/* bpf_loop()'s context for printing rows. */
struct ts_print {
	struct seq_file *seq;
	struct ts_pin_ports *pp;
	__u32 first;
	__u32 n;		/* rows printed */
	int err;
};

static const char ts_row_in[] = "in %u %u %u %u %u %u %u %u %u %u %u %u\n";
static const char ts_row_out[] = "out %u %u %u %u %u %u %u %u %u %u %u %u\n";

/* The next row: print_rows() made sure that it fits. */
static long print_row(__u32 i, void *data)
{
	struct ts_print *pr = data;
	struct ts_port_row *r;
	__u64 v[1 + TS_PORT_STATES];
	__u32 k, group;

	r = &pr->pp->rows[(pr->first + i) & (TS_PORT_ROWS - 1)];
	group = r->group;
	v[0] = group & (TS_NR_PORTS - 1);
	for (k = 0; k < TS_PORT_STATES; k++)
		v[1 + k] = r->cells[1 + k];
	if (group < TS_NR_PORTS)
		pr->err = bpf_seq_printf(pr->seq, ts_row_in, sizeof(ts_row_in),
					 v, sizeof(v));
	else
		pr->err = bpf_seq_printf(pr->seq, ts_row_out,
					 sizeof(ts_row_out), v, sizeof(v));
	pr->n++;
	return pr->err < 0;
}

static const char ts_row_all[] = "netns %u %u %u %u %u %u %u %u %u %u %u %u";

/* The next tcpstates_all row, if its netns was still there. */
static long print_all_row(__u32 i, void *data)
{
	struct ts_print *pr = data;
	struct ts_port_row *r;
	__u64 v[1 + TS_PORT_STATES];
	__u32 k;

	r = &pr->pp->rows[(pr->first + i) & (TS_PORT_ROWS - 1)];
	pr->n++;
	if (!r->seen)
		return 0;
	v[0] = r->group;
	for (k = 0; k < TS_PORT_STATES; k++)
		v[1 + k] = r->cells[1 + k];
	/* 14 numbers: more than one bpf_seq_printf() takes. */
	pr->err = bpf_seq_printf(pr->seq, ts_row_all, sizeof(ts_row_all), v,
				 sizeof(v));
	if (pr->err >= 0)
		pr->err = BPF_SEQ_PRINTF(pr->seq,
					 " tw_count %d max_tw_buckets %d\n",
					 r->tw_count, r->max_tw);
	return pr->err < 0;
}

/*
 * How many rows fit in TS_PRINT_BYTES, each at most "out 65535" and 11
 * counts as wide as the largest count of the walk.
 */
static __always_inline __u32 rows_that_fit(struct ts_pin_ports *pp,
					   const bool all)
{
	__u32 m = pp->maxcell, digits = 1, k;
	/*
	 * "out 65535" and a newline; "netns" and 10 digits, " tw_count " and
	 * " max_tw_buckets " and 11 characters each.
	 */
	__u32 rest = all ? 6 + 10 + 10 + 11 + 16 + 11 + 1 : 10;

	for (k = 0; k < 9 && m >= 10; k++) {
		m /= 10;
		digits++;
	}
	return TS_PRINT_BYTES / (rest + TS_PORT_STATES * (1 + digits));
}

static __always_inline int print_head(struct seq_file *seq, struct net *net,
				      bool all)
{
	__u32 st;
	int err;

	if (all)
		err = BPF_SEQ_PRINTF(seq, "tcpstates_all 1\nnetns <inode>");
	else
		err = BPF_SEQ_PRINTF(seq, "tcpstates_ports 1\nnetns %u\ndirection port",
				     BPF_CORE_READ(net, ns.inum));
	for (st = TS_TCP_ESTABLISHED; st <= TS_TCP_CLOSING && !err; st++)
		err = BPF_SEQ_PRINTF(seq, " %s", ts_names[st]);
	if (!err && all)
		err = BPF_SEQ_PRINTF(seq, " tw_count <n> max_tw_buckets <n>");
	if (!err)
		err = BPF_SEQ_PRINTF(seq, "\n");
	return err;
}

/*
 * The next TS_PRINT_BYTES of this pass's rows, the first three lines before
 * the first; moves on only when all of it fit.  Returns 1 once the pass
 * is printed, -1 when the seq_file's buffer is full (the kernel throws
 * this call's output away, and calls again).
 */
static __always_inline int print_rows(struct seq_file *seq,
				      struct ts_pin_ports *pp, struct net *net,
				      const bool all)
{
	struct ts_print pr = { .seq = seq, .pp = pp, .first = pp->printed };
	__u32 n = pp->nr - pp->printed, fit;

	if (pp->printed > pp->nr || pp->nr > TS_PORT_ROWS)
		return 1;
	fit = rows_that_fit(pp, all);
	if (n > fit)
		n = fit;
	if (!pp->head && print_head(seq, net, all))
		return -1;
	if (n && all)
		bpf_loop(n, print_all_row, &pr, 0);
	else if (n)
		bpf_loop(n, print_row, &pr, 0);
	if (pr.err < 0)
		return -1;
	pp->head = 1;
	pp->printed += pr.n;
	return pp->printed == pp->nr;
}

/* The next pass: the groups above the last row printed. */
static __always_inline void next_pass(struct ts_pin_ports *pp)
{
	struct ts_pin_walk *p = &pp->p;

	if (!pp->more || !pp->nr) {
		pp->phase = TS_PORTS_DONE;
		return;
	}
	pp->floor = pp->rows[(pp->nr - 1) & (TS_PORT_ROWS - 1)].group + 1;
	pp->nr = 0;
	pp->more = 0;
	pp->printed = 0;
	pp->hit = 0;
	pp->phase = TS_PORTS_WALK;
	pp->cookie = 0;
	pp->private_on = 0;
	p->table = TS_BPF_LISTEN;
	p->next = 0;
}

static long clear_listening(__u32 i, void *data)
{
	struct ts_pin_ports *pp = *(struct ts_pin_ports **)data;

	if (i >= TS_NR_PORTS / 64)
		return 1;
	pp->listening[i] = 0;
	return 0;
}

/*
 * tcpstates_all: the netns list, from the initial netns's entry, which
 * follows the list head (the first netns made, and never taken out).
 * Walked under the call's RCU read-side section, as for_each_net_rcu():
 * an entry taken out still leads on.  A netns is found by what it was
 * when found; nothing of it is kept past the call but its inode and
 * cookie (a private ehash is freed with its netns, without waiting for
 * readers: module/compat.h).
 */
#define TS_ALL_NETS		65536

static __always_inline struct net *list_next(struct ts_list *l)
{
	__u64 next = 0;

	bpf_probe_read_kernel(&next, sizeof(next), (void *)l->pos);
	if (!next || next == l->head)
		return NULL;
	l->pos = next;
	return (struct net *)(next - bpf_core_field_offset(struct net, list));
}

static __always_inline bool net_private(struct ts_pin_ports *pp,
					struct net *n)
{
	return (__u64)BPF_CORE_READ(n, ipv4.tcp_death_row.hashinfo) !=
	       pp->shared;
}

/* One place down the batch, from l->at, for a smaller cookie. */
static long shift_batch(__u32 i, void *data)
{
	struct ts_pin_ports *pp = *(struct ts_pin_ports **)data;
	struct ts_list *l = &pp->list;
	__u32 j = l->at;

	if (j < 1 || j >= TS_ALL_BATCH ||
	    pp->bcookie[(j - 1) & (TS_ALL_BATCH - 1)] <= l->cookie)
		return 1;
	barrier_var(j);
	pp->bcookie[j & (TS_ALL_BATCH - 1)] =
		pp->bcookie[(j - 1) & (TS_ALL_BATCH - 1)];
	pp->bnet[j & (TS_ALL_BATCH - 1)] =
		pp->bnet[(j - 1) & (TS_ALL_BATCH - 1)];
	l->at = j - 1;
	return 0;
}

/*
 * The TS_ALL_BATCH private tables of the smallest net_cookies from
 * l->want on, sorted: the list is mostly in cookie order (a netns is
 * listed as it is made), so most are placed last or not at all.
 */
static long find_batch(__u32 i, void *data)
{
	struct ts_pin_ports *pp = *(struct ts_pin_ports **)data;
	struct ts_list *l = &pp->list;
	struct net *n = list_next(l);
	__u64 cookie;

	if (!n)
		return 1;
	cookie = BPF_CORE_READ(n, net_cookie);
	if (cookie < l->want || !net_private(pp, n))
		return 0;
	if (pp->bn >= TS_ALL_BATCH) {
		if (cookie >= pp->bcookie[TS_ALL_BATCH - 1])
			return 0;
		pp->bn = TS_ALL_BATCH - 1;
	}
	l->cookie = cookie;
	l->at = pp->bn;
	bpf_loop(TS_ALL_BATCH, shift_batch, data, 0);
	pp->bcookie[l->at & (TS_ALL_BATCH - 1)] = cookie;
	pp->bnet[l->at & (TS_ALL_BATCH - 1)] = (__u64)n;
	pp->bn++;
	return 0;
}

/*
 * A netns's TIME_WAIT picture into its row: a netns of this pass with a
 * private ehash has one, sockets or not (module/allns.c); a row whose
 * netns is gone by now is not printed.
 */
static long fill_row(__u32 i, void *data)
{
	struct ts_pin_ports *pp = *(struct ts_pin_ports **)data;
	struct net *n = list_next(&pp->list);
	struct ts_port_row *r;
	__u32 inum;
	int row;

	if (!n)
		return 1;
	inum = BPF_CORE_READ(n, ns.inum);
	if (inum < pp->floor)
		return 0;
	row = row_of(pp, inum, net_private(pp, n));
	if (row < 0)
		return 0;
	r = &pp->rows[row & (TS_PORT_ROWS - 1)];
	r->tw_count = BPF_CORE_READ(n, ipv4.tcp_death_row.tw_refcount.refs.counter) - 1;
	r->max_tw = BPF_CORE_READ(n, ipv4.tcp_death_row.sysctl_max_tw_buckets);
	r->seen = 1;
	return 0;
}

static __always_inline void list_start(struct ts_pin_ports *pp)
{
	struct net *init = (struct net *)pp->init;

	pp->list.head = (__u64)BPF_CORE_READ(init, list.prev);
	pp->list.pos = pp->list.head;
}

/*
 * The next private tables, into the batch: once a call (a netns found
 * by an earlier call may be gone), and again when the batch is spent.
 * Counted as a bucket per 16 netns in the call's budget.
 */
static __always_inline __u32 find_private(struct ts_pin_ports *pp)
{
	__u32 cost = 1;

	pp->list.want = pp->cookie + !pp->private_on;
	list_start(pp);
	pp->bn = 0;
	pp->bi = 0;
	cost += (__u32)bpf_loop(TS_ALL_NETS, find_batch, &pp, 0) / 16;
	return cost;
}

/*
 * TS_ALL_PRIVATE: the private ehash to walk now, the one being walked or
 * the next in net_cookie order, else NULL and the phase moves on.  The
 * batch is found once a call (*@found), counted into *@cost.
 */
static __always_inline struct net *private_next(struct ts_pin_ports *pp,
						__u32 *found, __u32 *cost)
{
	struct ts_pin_walk *p = &pp->p;
	__u32 i;

	if (!*found || (pp->bi >= pp->bn && pp->bn == TS_ALL_BATCH)) {
		*cost += find_private(pp);
		*found = 1;
	}
	if (pp->bi >= pp->bn) {
		pp->phase = TS_ALL_LIST;
		return NULL;
	}
	i = pp->bi & (TS_ALL_BATCH - 1);
	/* A new table, or the one walked went with its netns. */
	if (!pp->private_on || pp->bcookie[i] != pp->cookie) {
		pp->cookie = pp->bcookie[i];
		pp->private_on = 1;
		p->table = TS_BPF_EHASH;
		p->next = 0;
	}
	return (struct net *)pp->bnet[i];
}

/* The walk's parent chain up to the idle task, whose netns is init_net. */
struct ts_up {
	struct task_struct *t;
};

static long up_step(__u32 i, void *data)
{
	struct ts_up *u = data;
	struct task_struct *t = u->t;
	struct task_struct *parent = BPF_CORE_READ(t, real_parent);

	if (!parent || parent == t)
		return 1;
	u->t = parent;
	return BPF_CORE_READ(parent, pid) == 0;
}

static __always_inline __u64 init_net_of(struct task_struct *task)
{
	struct ts_up u = { .t = task };
	struct task_struct *t;

	bpf_loop(4096, up_step, &u, 0);
	t = u.t;
	if (BPF_CORE_READ(t, pid))
		return 0;
	return (__u64)BPF_CORE_READ(t, nsproxy, net_ns);
}

static __noinline void ports_start(struct ts_pin_ports *pp,
				   struct seq_file *seq, bool all,
					struct task_struct *task,
					struct net *net)
{
	start(&pp->p, seq);
	bpf_loop(TS_NR_PORTS / 64, clear_listening, &pp, 0);
	pp->floor = 0;
	pp->nr = 0;
	pp->more = 0;
	pp->printed = 0;
	pp->hit = 0;
	pp->phase = TS_PORTS_WALK;
	pp->head = 0;
	pp->maxcell = 0;
	pp->p.all = all;
	pp->denied = 0;
	pp->cookie = 0;
	pp->private_on = 0;
	if (!all)
		return;
	/* As the module's: the initial netns's view of every netns. */
	pp->init = init_net_of(task);
	pp->shared = (__u64)BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo);
	if (!pp->init || pp->init != (__u64)net) {
		pp->denied = 1;
		pp->phase = TS_PORTS_DONE;
	}
}

/*
 * One call's share of the walk by group: @limit buckets of a table, the
 * next private table's, or the netns list (tcpstates_all); returns the
 * buckets walked.  A global function, verified once on its own and not
 * again in every state of the callbacks that call it: inlined, it took
 * the verifier past its million instructions for tcpstates_all on
 * 6.18.44.  Its arguments are numbers and memory, as a global function's
 * must be: the reader's netns comes in @pp, and the walk reads it with
 * probe reads.
 */
__noinline __u32 ts_ports_walk(struct ts_pin_ports *pp, __u32 limit,
			       __u32 *found, __u32 all)
{
	struct ts_pin_walk *p;
	struct net *table;
	__u32 walked = 0;

	if (!pp || !found)
		return 0;
	p = &pp->p;
	table = (struct net *)pp->table;
	if (all && pp->phase == TS_ALL_PRIVATE) {
		table = private_next(pp, found, &walked);
		if (!table)
			return walked;
	}
	if (pp->phase == TS_PORTS_WALK || (all && pp->phase == TS_ALL_PRIVATE)) {
		walked += advance(p, table, limit, true) + 1;
		if (p->failed) {
			pp->phase = TS_PORTS_DONE;
		} else if (p->table != TS_PIN_DONE) {
			return walked;
		} else if (pp->phase == TS_PORTS_WALK) {
			pp->phase = all ? TS_ALL_PRIVATE : TS_PORTS_PRINT;
		} else {
			pp->private_on = 0;
			pp->bi++;
		}
		return walked;
	}
	if (all && pp->phase == TS_ALL_LIST) {
		list_start(pp);
		bpf_loop(TS_ALL_NETS, fill_row, &pp, 0);
		pp->phase = TS_PORTS_PRINT;
		return 1;
	}
	return 0;
}

/*
 * One call's share: walk @limit buckets of a table, or print a batch of
 * rows once the pass is walked; returns what print_rows() did, and the
 * buckets walked into *@walked.
 */
static __always_inline int ports_step(struct seq_file *seq,
				      struct ts_pin_ports *pp,
				      struct net *net, __u32 limit,
				      __u32 *walked, __u32 *found,
				      const bool all)
{
	int done;

	if (pp->phase != TS_PORTS_PRINT) {
		pp->table = (__u64)net;
		*walked = ts_ports_walk(pp, limit, found, all);
		return 0;
	}
	*walked = 0;
	done = print_rows(seq, pp, net, all);
	if (done > 0)
		next_pass(pp);
	return done;
}

/* bpf_loop()'s context for a call's steps: one place checks them all. */
struct ts_ports_call {
	struct seq_file *seq;
	struct ts_pin_ports *pp;
	struct net *net;
	__u32 limit;		/* buckets this call may still walk */
	__u32 found;		/* the private tables' batch was found */
	int printed;		/* the last step's print_rows(), if it printed */
};

/*
 * One step; the call ends after a batch of rows (two could overflow the
 * seq_file's buffer, which fails a read that has nothing else in it with
 * E2BIG), when the walk ends, or when its buckets are spent.
 */
static __always_inline long call_step(struct ts_ports_call *c,
				      const bool all)
{
	bool printing = c->pp->phase == TS_PORTS_PRINT;
	__u32 walked;

	c->printed = ports_step(c->seq, c->pp, c->net, c->limit, &walked,
				&c->found, all);
	c->limit = walked < c->limit ? c->limit - walked : 0;
	return printing || c->pp->phase == TS_PORTS_DONE || !c->limit;
}

static long ports_tick(__u32 i, void *data)
{
	return call_step(data, false);
}

static long all_tick(__u32 i, void *data)
{
	return call_step(data, true);
}

/* The walks held: in all, and by one uid; with @reclaim, stale ones go. */
struct ts_census {
	__u64 now;
	__u32 uid;
	__u32 total;
	__u32 mine;
	__u32 reclaim;
};

/*
 * A CPU's census, counted in a map value: counts on the stack, exact to
 * the verifier, make it walk the callback once a count (6.18 refuses).
 * Another run on this CPU can only come between two runs' censuses on a
 * kernel that preempts, and then makes one claim's count wrong once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ts_census);
} ts_census SEC(".maps");

/* One walk counted, or taken back if nobody read it for TS_PORT_STALE_NS. */
static long census(struct bpf_map *map, const void *key, void *value,
		   void *data)
{
	struct ts_pin_ports *pp = value;
	struct ts_census *c = *(struct ts_census **)data;

	if (c->reclaim && c->now - pp->last > TS_PORT_STALE_NS) {
		bpf_map_delete_elem(map, key);
		return 0;
	}
	c->total++;
	c->mine += pp->uid == c->uid;
	return 0;
}

static __always_inline bool may_claim(struct ts_census *c, bool admin)
{
	if (c->total >= TS_PORT_READERS)
		return false;
	return admin || (c->mine < TS_PIN_USER_MAX &&
			 c->total < TS_PORT_READERS - TS_PIN_RESERVE);
}

/*
 * CAP_NET_ADMIN in the initial user namespace, effective: the low 64 bits
 * of cap_effective, an array of two u32 before 6.3 and a u64 since, alike
 * on a little-endian machine.
 */
#define TS_CAP_NET_ADMIN	12

static __always_inline bool net_admin(struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	__u64 caps = 0;

	bpf_probe_read_kernel(&caps, sizeof(caps),
			      (void *)cred +
			      bpf_core_field_offset(struct cred, cap_effective));
	return (caps >> TS_CAP_NET_ADMIN) & 1 &&
	       BPF_CORE_READ(cred, user_ns, level) == 0;
}

/*
 * A walk for @key's open: its own, else a blank one, within the shares
 * of the module's snapshot budget (tcpstates_bpf.h), taking back stale
 * ones if that makes room.  Two claims at once on two CPUs may both
 * pass a share's last place: the map's size still bounds the memory.
 */
static __noinline struct ts_pin_ports *ports_claim(__u64 *key,
						   struct task_struct *task)
{
	struct ts_pin_ports *pp, *blank;
	struct ts_census *c;
	__u32 zero = 0;
	bool admin;

	pp = bpf_map_lookup_elem(&ts_ports, key);
	if (pp)
		return pp;
	blank = bpf_map_lookup_elem(&ts_ports_blank, &zero);
	c = bpf_map_lookup_elem(&ts_census, &zero);
	if (!blank || !c)
		return NULL;
	admin = net_admin(task);
	c->uid = bpf_get_current_uid_gid();
	c->total = 0;
	c->mine = 0;
	c->reclaim = 0;
	bpf_for_each_map_elem(&ts_ports, census, &c, 0);
	if (!may_claim(c, admin)) {
		c->total = 0;
		c->mine = 0;
		c->reclaim = 1;
		c->now = bpf_ktime_get_ns();
		bpf_for_each_map_elem(&ts_ports, census, &c, 0);
		if (!may_claim(c, admin))
			return NULL;
	}
	if (bpf_map_update_elem(&ts_ports, key, blank, BPF_NOEXIST))
		return NULL;
	pp = bpf_map_lookup_elem(&ts_ports, key);
	if (pp)
		pp->uid = c->uid;
	return pp;
}

/*
 * Steps a tick takes at most: one does for _ports (a table's chunk);
 * tcpstates_all's private tables are often small, and a tick walks as
 * many as TS_BPF_BUCKETS buckets hold.  The last call's steps.
 */
#define TS_ALL_TICK_STEPS	16
#define TS_LAST_STEPS		3
#define TS_ALL_LAST_STEPS	4096

/* Both files' program: _ports if !@all, else _all. */
static __always_inline int ports_call(struct bpf_iter__task *ctx,
				      const bool all)
{
	struct ts_ports_call c = { .seq = ctx->meta->seq };
	struct task_struct *tick = ctx->task;
	__u64 seq_num = ctx->meta->seq_num;
	__u64 key = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct ts_pin_ports *pp;

	task = bpf_get_current_task_btf();
	c.net = BPF_CORE_READ(task, nsproxy, net_ns);
	if (!c.net)
		return 0;
	if (tick && !seq_num)
		pp = ports_claim(&key, task);
	else
		pp = bpf_map_lookup_elem(&ts_ports, &key);
	/*
	 * No walk: every one in use at the open, or this one taken back
	 * after it sat unread, or by another open of this thread.  Said once,
	 * by the last call.
	 */
	if (!pp || (seq_num && pp->p.seq != (__u64)c.seq)) {
		if (!tick)
			BPF_SEQ_PRINTF(c.seq, "error busy\n");
		return 0;
	}
	c.pp = pp;
	pp->last = bpf_ktime_get_ns();
	if (tick && !seq_num)
		ports_start(pp, c.seq, all, task, c.net);
	if (tick) {
		c.limit = TS_BPF_BUCKETS;
		if (all)
			bpf_loop(TS_ALL_TICK_STEPS, all_tick, &c, 0);
		else
			bpf_loop(1, ports_tick, &c, 0);
		return 0;
	}
	/*
	 * The last call: the rest of the listener table, then of ehash, in
	 * stretches bounded as the file's, then one batch of rows.
	 */
	c.limit = ts_stretch_max ? ts_stretch_max : ~0U;
	if (all)
		bpf_loop(TS_ALL_LAST_STEPS, all_tick, &c, 0);
	else
		bpf_loop(TS_LAST_STEPS, ports_tick, &c, 0);
	if (c.printed < 0)
		return 0;
	if (pp->denied) {
		BPF_SEQ_PRINTF(c.seq, "error netns\n");
	} else if (pp->head && (pp->phase != TS_PORTS_DONE || pp->p.failed) &&
		   BPF_SEQ_PRINTF(c.seq, "error incomplete\n")) {
		/* Nothing printed is an empty file; rows printed never a short one. */
		return 0;
	}
	bpf_map_delete_elem(&ts_ports, &key);
	return 0;
}

SEC("iter/task")
int tcpstates_pin_ports(struct bpf_iter__task *ctx)
{
	return ports_call(ctx, false);
}

/*
 * DIR/tcpstates_all: module/allns.c's file, a row per netns with sockets
 * or a private ehash, from one walk of the shared tables and one of each
 * private ehash, by the same rows and passes as tcpstates_pin_ports's,
 * keyed by the netns's inode.  Pinned 0400; read from the initial netns
 * only, as the module's file is ("error netns" elsewhere).
 */
SEC("iter/task")
int tcpstates_pin_all(struct bpf_iter__task *ctx)
{
	return ports_call(ctx, true);
}

char LICENSE[] SEC("license") = "GPL";
