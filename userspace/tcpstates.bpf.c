// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf source: the module's walk (module/walk.c) as a BPF program, for
 * hosts that cannot load tcpstates.ko.
 *
 * The program is a task iterator that the reader attaches filtered to its
 * own thread, so one read of the iterator runs it once, under
 * rcu_read_lock(), for the reader: it walks the reader's netns's ehash
 * (a private one when the netns has it) or the listener table (lhash2),
 * filtered by netns, with bpf_loop() and plain probe reads of sock_common
 * fields and tw_substate.  No lock is taken, no socket referenced.  The
 * walk itself is tcpstates_walk.bpf.h's, which the pinned files' program
 * (pin.bpf.c) runs too.
 *
 * The source builds two objects, one walk each: with TS_BPF_DIRECT,
 * tcpstates_walk_direct reads the tables with plain loads (6.2 and
 * later); without, tcpstates_walk, for kernels without that kfunc, with
 * bpf_probe_read_kernel().  The reader loads the first, else the second.
 * Both keep what the reader reads and writes in one global, struct
 * ts_bpf_io io (tcpstates_bpf.h).
 *
 * One run covers at most "limit" buckets from "start" of one table; the
 * reader runs it again from "next" until "next" reaches "nr_slots".  A
 * run whose steps end inside a chain stops at its bucket, which the next
 * run walks again; a chain still straying after its tries counts in
 * "incomplete" (the reader makes that an error).
 *
 * Sources layer, run in the kernel.  May call: BPF helpers and kfuncs,
 * tcpstates_walk.bpf.h, tcpstates_bpf.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "tcpstates_walk.bpf.h"

struct ts_bpf_io io;

/* The walk's state (tcpstates_walk.bpf.h), in the program's .bss. */
static struct ts_walk walk;

/* Set the walk up from the reader's netns; 0 when there is a range to walk. */
static int walk_setup(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ts_walk *w = &walk;
	int ret;

	if (!task || BPF_CORE_READ(task, pid) != io.target_tid)
		return -1;
	io.ran++;
	io.next = io.start;
	ts_walk_clear(w);
	w->stray_tries = io.stray_tries;
	ret = ts_walk_setup(w, BPF_CORE_READ(task, nsproxy, net_ns), io.table,
			    io.start, io.limit);
	io.nr_slots = w->nr_slots;
	io.err = w->err;
	return ret;
}

/* Steps ran out inside a chain: the next run walks it again. */
static void walk_finish(void)
{
	struct ts_walk *w = &walk;
	__u32 i;

	ts_walk_finish(w);
	io.next = w->slot;
	io.err = w->err;
	io.restarts += w->restarts;
	io.incomplete += w->incomplete;
	for (i = 0; i < TS_BPF_CELLS; i++)
		io.counts[i] += w->counts[i];
}

static void walk_run(void)
{
	struct ts_loop l = { .w = &walk };

	bpf_loop(TS_MAX_STEPS, ts_walk_step, &l, 0);
	walk_finish();
}

#ifdef TS_BPF_DIRECT
SEC("iter/task")
int tcpstates_walk_direct(struct bpf_iter__task *ctx)
{
	if (!walk_setup(ctx))
		walk_run();
	return 0;
}
#else
SEC("iter/task")
int tcpstates_walk(struct bpf_iter__task *ctx)
{
	if (!walk_setup(ctx))
		walk_run();
	return 0;
}
#endif

char LICENSE[] SEC("license") = "GPL";
