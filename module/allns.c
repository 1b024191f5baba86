// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates_all: one row per netns with sockets or a private table,
 * from one pass over the shared tables and one over each private one.
 * For the host's administrator only: it shows every container.
 */
#include <linux/capability.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "snapshot.h"
#include "tcpstates.h"

/* Tries at taking every netns when they are created faster than counted. */
#define TCPSTATES_ALL_TRIES	4

struct tcpstates_ns_row {
	u32 inum;
	int tw_count;
	int max_tw_buckets;
	u32 cells[TCPSTATES_NR_STATES];
};

static void tcpstates_all_show(struct seq_file *seq,
			       const struct tcpstates_snap *s,
			       unsigned int line)
{
	const struct tcpstates_ns_row *r;

	if (line == 0) {
		seq_printf(seq, "tcpstates_all %d\n", TCPSTATES_FORMAT_VERSION);
	} else if (line == 1) {
		tcpstates_show_header(seq, "netns <inode>");
		seq_puts(seq, " tw_count <n> max_tw_buckets <n>\n");
	} else {
		r = (const struct tcpstates_ns_row *)s->rows + line - 2;
		seq_printf(seq, "netns %u", r->inum);
		tcpstates_show_cells(seq, r->cells);
		seq_printf(seq, " tw_count %d max_tw_buckets %d\n",
			   r->tw_count, r->max_tw_buckets);
	}
}

static unsigned int tcpstates_nr_nets(void)
{
	unsigned int nr = 0;
	struct net *net;

	down_read(&net_rwsem);
	for_each_net(net)
		nr++;
	up_read(&net_rwsem);
	return nr;
}

static void tcpstates_all_free(struct tcpstates_all *all)
{
	unsigned int i;

	for (i = 0; all->nets && i < (1U << all->bits); i++)
		if (all->nets[i])
			put_net(all->nets[i]);
	kvfree(all->nets);
	kvfree(all->cells);
	all->nets = NULL;
	all->cells = NULL;
}

/*
 * Reference every live netns into the hash; false if there were more
 * than @room, which was sized before net_rwsem was taken.
 */
static bool tcpstates_all_fill(struct tcpstates_all *all, unsigned int room)
{
	u32 mask = (1U << all->bits) - 1, i;
	unsigned int nr = 0;
	bool full = false;
	struct net *net;

	down_read(&net_rwsem);
	for_each_net(net) {
		if (nr == room) {
			full = true;
			break;
		}
		if (!maybe_get_net(net))
			continue;	/* being dismantled */
		for (i = hash_ptr(net, all->bits); all->nets[i]; i = (i + 1) & mask)
			;
		all->nets[i] = net;
		nr++;
	}
	up_read(&net_rwsem);
	return !full;
}

/*
 * Allocate outside net_rwsem (reclaim under it would stall every netns
 * creation and teardown): count, allocate with slack, fill, and start
 * over if namespaces arrived faster than the slack.
 */
static int tcpstates_all_collect(struct tcpstates_all *all)
{
	unsigned int room;
	int tries;

	for (tries = 0; tries < TCPSTATES_ALL_TRIES; tries++) {
		room = tcpstates_nr_nets();
		room += room / 4 + 16;
		all->bits = order_base_2(2 * room);
		all->nets = kvcalloc(1U << all->bits, sizeof(*all->nets),
				     GFP_KERNEL_ACCOUNT);
		all->cells = kvcalloc((size_t)TCPSTATES_NR_STATES << all->bits,
				      sizeof(*all->cells), GFP_KERNEL_ACCOUNT);
		if (!all->nets || !all->cells) {
			tcpstates_all_free(all);
			return -ENOMEM;
		}
		if (tcpstates_all_fill(all, room))
			return 0;
		tcpstates_all_free(all);
	}
	return -EAGAIN;
}

static bool tcpstates_all_wanted(const struct tcpstates_all *all,
				 unsigned int i)
{
	const u32 *cells = &all->cells[i * TCPSTATES_NR_STATES];
	int st;

	if (tcpstates_private_ehash(tcpstates_hashinfo(all->nets[i])))
		return true;
	for (st = 0; st < TCPSTATES_NR_STATES; st++)
		if (cells[st])
			return true;
	return false;
}

static int tcpstates_ns_row_cmp(const void *a, const void *b)
{
	const struct tcpstates_ns_row *x = a, *y = b;

	return x->inum < y->inum ? -1 : x->inum > y->inum;
}

/* The rows the snapshot keeps: no references, only numbers. */
static int tcpstates_all_rows(const struct tcpstates_all *all,
			      struct tcpstates_snap *s)
{
	struct tcpstates_ns_row *rows, *r;
	unsigned int i, nr = 0;
	struct net *net;
	size_t bytes;
	int err;

	for (i = 0; i < (1U << all->bits); i++)
		nr += all->nets[i] && tcpstates_all_wanted(all, i);
	bytes = (size_t)max(nr, 1U) * sizeof(*rows);
	err = tcpstates_snap_charge(s, bytes);
	if (err)
		return err;
	rows = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (!rows) {
		tcpstates_snap_uncharge(s, bytes);
		return -ENOMEM;
	}
	r = rows;
	for (i = 0; i < (1U << all->bits); i++) {
		net = all->nets[i];
		if (!net || !tcpstates_all_wanted(all, i))
			continue;
		r->inum = net->ns.inum;
		r->tw_count = tcpstates_tw_count(net);
		r->max_tw_buckets = READ_ONCE(*tcpstates_max_tw_buckets(net));
		memcpy(r->cells, &all->cells[i * TCPSTATES_NR_STATES],
		       sizeof(r->cells));
		r++;
	}
	sort(rows, nr, sizeof(*rows), tcpstates_ns_row_cmp, NULL);
	s->rows = rows;
	s->nr_rows = nr;
	return 0;
}

static int tcpstates_all_build(struct tcpstates_snap *s)
{
	struct tcpstates_all all = { };
	struct tcpstates_counts c;
	int err;

	err = tcpstates_all_collect(&all);
	if (err)
		return err;
	tcpstates_walk_all(&all, &c);
	err = tcpstates_all_rows(&all, s);
	tcpstates_all_free(&all);
	return err;
}

/* Every netns of the host: for the host's administrator only. */
int tcpstates_all_open(struct inode *inode, struct file *file)
{
	struct tcpstates_snap *s;
	int err;

	if (!net_eq(current->nsproxy->net_ns, &init_net) ||
	    !capable(CAP_NET_ADMIN))
		return -EPERM;
	s = tcpstates_snap_alloc();
	if (IS_ERR(s))
		return PTR_ERR(s);
	s->show = tcpstates_all_show;
	s->nr_head = 2;
	err = tcpstates_all_build(s);
	if (err) {
		tcpstates_snap_free(s);
		return err;
	}
	return tcpstates_snap_open(file, s);
}
