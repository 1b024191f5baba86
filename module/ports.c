// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates_ports: the opener's netns by service port, and
 * /proc/tcpstates_close_wait: its rows that hold CLOSE_WAIT sockets.
 * "in PORT" gathers the sockets whose local port has a listener (the
 * listeners, their request socks and accepted connections); "out PORT"
 * the rest, by remote port, so leaked connections to a server show as
 * "out 3306".
 *
 * Anyone may open this file, as often as they like.  The walk's scratch
 * (which ports listen, and where each group's row is) is allocated once
 * at load and used by one builder at a time; a snapshot holds only the
 * groups found, charged to the opener's memory cgroup and to its share of
 * the readers' budget (snapshot.c).
 */
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/net_namespace.h>

#include "snapshot.h"
#include "tcpstates.h"

/* First guess of the groups a netns has; a walk that finds more resizes. */
#define TCPSTATES_PORTS_GUESS	64
/* Most the hint asks for: a huge snapshot is sized by a walk of its own. */
#define TCPSTATES_PORTS_HINT_MAX	4096
/* Walks before giving up on a netns whose groups keep multiplying. */
#define TCPSTATES_PORTS_TRIES	4

static DEFINE_MUTEX(tcpstates_ports_lock);
static unsigned long *tcpstates_listening;	/* under tcpstates_ports_lock */
static u32 *tcpstates_index;			/* under tcpstates_ports_lock */
/* Room the last walk needed: a netns read again usually needs the same. */
static unsigned int tcpstates_ports_hint = TCPSTATES_PORTS_GUESS;

/* A group as _ports and _transitions_ports print it: "in PORT", "out PORT". */
void tcpstates_show_group(struct seq_file *seq, u32 group)
{
	if (group < TCPSTATES_NR_PORTS)
		seq_printf(seq, "in %u", group);
	else
		seq_printf(seq, "out %u", group - TCPSTATES_NR_PORTS);
}

static void tcpstates_ports_show(struct seq_file *seq,
				 const struct tcpstates_snap *s,
				 unsigned int line)
{
	const struct tcpstates_port_row *r;

	if (line == 0) {
		seq_printf(seq, "tcpstates_ports %d\n", TCPSTATES_FORMAT_VERSION);
	} else if (line == 1) {
		seq_printf(seq, "netns %u\n", s->netns);
	} else if (line == 2) {
		tcpstates_show_header(seq, "direction port");
		seq_putc(seq, '\n');
	} else {
		r = (const struct tcpstates_port_row *)s->rows + line - 3;
		tcpstates_show_group(seq, r->group);
		tcpstates_show_cells(seq, r->cells);
		seq_putc(seq, '\n');
	}
}

/*
 * /proc/tcpstates_close_wait: the rows of _ports that hold CLOSE_WAIT
 * sockets, with how many and how old the oldest is: a leak is a row
 * whose oldest keeps growing.
 */
static void tcpstates_close_wait_show(struct seq_file *seq,
				      const struct tcpstates_snap *s,
				      unsigned int line)
{
	const struct tcpstates_port_row *r;

	if (line == 0) {
		seq_printf(seq, "tcpstates_close_wait %d\n",
			   TCPSTATES_FORMAT_VERSION);
	} else if (line == 1) {
		seq_printf(seq, "netns %u\n", s->netns);
	} else if (line == 2) {
		seq_puts(seq, "direction port sockets oldest_seconds\n");
	} else {
		r = (const struct tcpstates_port_row *)s->rows + line - 3;
		tcpstates_show_group(seq, r->group);
		seq_printf(seq, " %u %u\n", r->cells[TCP_CLOSE_WAIT],
			   r->close_wait_age);
	}
}

/* Keep the rows with CLOSE_WAIT sockets, in their order. */
static void tcpstates_close_wait_rows(struct tcpstates_snap *s)
{
	struct tcpstates_port_row *rows = s->rows;
	unsigned int i, n = 0;

	for (i = 0; i < s->nr_rows; i++)
		if (rows[i].cells[TCP_CLOSE_WAIT])
			rows[n++] = rows[i];
	s->nr_rows = n;
}

static int tcpstates_row_cmp(const void *a, const void *b)
{
	const struct tcpstates_port_row *x = a, *y = b;

	return x->group < y->group ? -1 : x->group > y->group;
}

/* Leave the scratch zeroed for the next builder. */
static void tcpstates_ports_clear(struct tcpstates_ports *p)
{
	unsigned int i;

	bitmap_zero(p->listening, TCPSTATES_NR_PORTS);
	if (p->missing) {
		memset(p->index, 0, TCPSTATES_NR_GROUPS * sizeof(*p->index));
		return;
	}
	for (i = 0; i < p->nr; i++)
		p->index[p->rows[i].group] = 0;
}

static int tcpstates_ports_rows(struct tcpstates_ports *p,
				struct tcpstates_snap *s, unsigned int cap)
{
	size_t bytes = (size_t)cap * sizeof(*p->rows);
	int err;

	err = tcpstates_snap_charge(s, bytes);
	if (err)
		return err;
	p->rows = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!p->rows) {
		tcpstates_snap_uncharge(s, bytes);
		return -ENOMEM;
	}
	s->rows = p->rows;
	p->cap = cap;
	p->nr = 0;
	p->missing = 0;
	return 0;
}

static void tcpstates_ports_drop(struct tcpstates_ports *p,
				 struct tcpstates_snap *s)
{
	kvfree(s->rows);
	s->rows = NULL;
	tcpstates_snap_uncharge(s, (size_t)p->cap * sizeof(*p->rows));
}

/* Hold no more than the rows found when the room was much larger. */
static void tcpstates_ports_compact(struct tcpstates_ports *p,
				    struct tcpstates_snap *s)
{
	unsigned int cap = max(p->nr, 1U);
	void *rows;

	if (p->nr >= p->cap / 2)
		return;
	rows = kvmalloc_array(cap, sizeof(*p->rows), GFP_KERNEL_ACCOUNT);
	if (!rows)
		return;
	memcpy(rows, p->rows, (size_t)p->nr * sizeof(*p->rows));
	kvfree(p->rows);
	p->rows = rows;
	s->rows = rows;
	tcpstates_snap_uncharge(s, (size_t)(p->cap - cap) * sizeof(*p->rows));
	p->cap = cap;
}

/*
 * Walk with room for @cap groups; when the walk finds more, it knows how
 * many, so one more walk with that much room (and some slack for what
 * arrives meanwhile) normally suffices.
 */
static int tcpstates_ports_walk(struct tcpstates_ports *p,
				struct tcpstates_snap *s)
{
	unsigned int cap = tcpstates_ports_hint, want;
	struct tcpstates_counts c;
	int tries, err;

	for (tries = 0; tries < TCPSTATES_PORTS_TRIES; tries++) {
		err = tcpstates_ports_rows(p, s, cap);
		if (err)
			return err;
		tcpstates_walk_ports(p, &c);
		tcpstates_ports_clear(p);
		want = p->nr + p->missing;
		cap = min_t(unsigned int, TCPSTATES_NR_GROUPS, want + want / 4 + 16);
		tcpstates_ports_hint = clamp_t(unsigned int, cap,
					       TCPSTATES_PORTS_GUESS,
					       TCPSTATES_PORTS_HINT_MAX);
		if (!p->missing) {
			tcpstates_ports_compact(p, s);
			s->nr_rows = p->nr;
			return 0;
		}
		tcpstates_ports_drop(p, s);
	}
	return -EAGAIN;
}

static int tcpstates_ports_build(struct net *net, struct tcpstates_snap *s)
{
	struct tcpstates_ports p = {
		.net		= net,
		.listening	= tcpstates_listening,
		.index		= tcpstates_index,
	};
	int err;

	err = mutex_lock_killable(&tcpstates_ports_lock);
	if (err)
		return err;
	err = tcpstates_ports_walk(&p, s);
	mutex_unlock(&tcpstates_ports_lock);
	if (err)
		return err;
	sort(s->rows, s->nr_rows, sizeof(p.rows[0]), tcpstates_row_cmp, NULL);
	return 0;
}

/* A snapshot of the opener's netns by port: every row, or @close_wait's. */
static int tcpstates_ports_snap_open(struct file *file, bool close_wait)
{
	struct net *net = get_net(current->nsproxy->net_ns);
	struct tcpstates_snap *s;
	int err;

	s = tcpstates_snap_alloc();
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		goto err_net;
	}
	s->show = close_wait ? tcpstates_close_wait_show : tcpstates_ports_show;
	s->nr_head = 3;
	s->netns = net->ns.inum;
	err = tcpstates_ports_build(net, s);
	if (err)
		goto err_snap;
	put_net(net);
	if (close_wait)
		tcpstates_close_wait_rows(s);
	return tcpstates_snap_open(file, s);

err_snap:
	tcpstates_snap_free(s);
err_net:
	put_net(net);
	return err;
}

int tcpstates_ports_open(struct inode *inode, struct file *file)
{
	return tcpstates_ports_snap_open(file, false);
}

int tcpstates_close_wait_open(struct inode *inode, struct file *file)
{
	return tcpstates_ports_snap_open(file, true);
}

int tcpstates_ports_init(void)
{
	tcpstates_listening = bitmap_zalloc(TCPSTATES_NR_PORTS, GFP_KERNEL);
	if (!tcpstates_listening)
		return -ENOMEM;
	tcpstates_index = kvcalloc(TCPSTATES_NR_GROUPS, sizeof(*tcpstates_index),
				   GFP_KERNEL);
	if (!tcpstates_index)
		goto err_listening;
	return 0;

err_listening:
	bitmap_free(tcpstates_listening);
	return -ENOMEM;
}

void tcpstates_ports_exit(void)
{
	kvfree(tcpstates_index);
	bitmap_free(tcpstates_listening);
}
