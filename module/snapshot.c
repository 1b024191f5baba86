// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots behind /proc/tcpstates_ports and /proc/tcpstates_all.
 *
 * The aggregate cannot be produced a line at a time from the live tables,
 * so it is built once at open and read through real seq_operations: a
 * reader with a small buffer, or seq_file growing its buffer, never makes
 * the walk run again.  A snapshot holds memory for as long as its file is
 * open, so the ports snapshots, which anyone may open, draw on one
 * budget: past it an open fails with EBUSY instead of the kernel paying.
 */
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "snapshot.h"
#include "tcpstates.h"

/* Room for one full ports snapshot (131072 groups) and many small ones. */
#define TCPSTATES_HELD_MAX	SZ_8M

static atomic_long_t tcpstates_held = ATOMIC_LONG_INIT(0);

int tcpstates_snap_charge(size_t bytes)
{
	if (atomic_long_add_return(bytes, &tcpstates_held) > TCPSTATES_HELD_MAX) {
		atomic_long_sub(bytes, &tcpstates_held);
		return -EBUSY;
	}
	return 0;
}

void tcpstates_snap_uncharge(size_t bytes)
{
	atomic_long_sub(bytes, &tcpstates_held);
}

struct tcpstates_snap *tcpstates_snap_alloc(void)
{
	return kzalloc(sizeof(struct tcpstates_snap), GFP_KERNEL_ACCOUNT);
}

void tcpstates_snap_free(struct tcpstates_snap *s)
{
	if (!s)
		return;
	kvfree(s->rows);
	tcpstates_snap_uncharge(s->charged);
	kfree(s);
}

/* Positions are lines; a cookie of line + 1 keeps line 0 non-NULL. */
static void *tcpstates_snap_start(struct seq_file *seq, loff_t *pos)
{
	const struct tcpstates_snap *s = seq->private;

	if (*pos >= s->nr_head + s->nr_rows)
		return NULL;
	return (void *)(uintptr_t)(*pos + 1);
}

static void *tcpstates_snap_next(struct seq_file *seq, void *v, loff_t *pos)
{
	++*pos;
	return tcpstates_snap_start(seq, pos);
}

static void tcpstates_snap_stop(struct seq_file *seq, void *v)
{
}

static int tcpstates_snap_show(struct seq_file *seq, void *v)
{
	const struct tcpstates_snap *s = seq->private;

	s->show(seq, s, (uintptr_t)v - 1);
	return 0;
}

static const struct seq_operations tcpstates_snap_seq_ops = {
	.start	= tcpstates_snap_start,
	.next	= tcpstates_snap_next,
	.stop	= tcpstates_snap_stop,
	.show	= tcpstates_snap_show,
};

/* Hand @s to @file, which frees it at release; on error, free it now. */
int tcpstates_snap_open(struct file *file, struct tcpstates_snap *s)
{
	int err;

	err = seq_open(file, &tcpstates_snap_seq_ops);
	if (err) {
		tcpstates_snap_free(s);
		return err;
	}
	((struct seq_file *)file->private_data)->private = s;
	return 0;
}

int tcpstates_snap_release(struct inode *inode, struct file *file)
{
	struct seq_file *seq = file->private_data;

	tcpstates_snap_free(seq->private);
	return seq_release(inode, file);
}

/* The state names, in file order, after @first. */
void tcpstates_show_header(struct seq_file *seq, const char *first)
{
	int s;

	seq_puts(seq, first);
	for (s = TCP_ESTABLISHED; s < TCPSTATES_NR_STATES; s++)
		seq_printf(seq, " %s", tcpstates_state_names[s]);
}

void tcpstates_show_cells(struct seq_file *seq, const u32 *cells)
{
	int s;

	for (s = TCP_ESTABLISHED; s < TCPSTATES_NR_STATES; s++)
		seq_printf(seq, " %u", cells[s]);
}
