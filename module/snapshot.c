// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots behind /proc/tcpstates_ports and /proc/tcpstates_all.
 *
 * The aggregate cannot be produced a line at a time from the live tables,
 * so it is built once at open and read through real seq_operations: a
 * reader with a small buffer, or seq_file growing its buffer, never makes
 * the walk run again.
 *
 * A snapshot holds memory for as long as its file is open, and anyone may
 * open _ports, so every snapshot draws on a budget: past it an open fails
 * with EBUSY instead of the kernel paying.  The budget is shared out so
 * that no one user can lock out another, and no number of users can lock
 * out the administrator (docs/design.md):
 *
 *  - every snapshot together holds at most TCPSTATES_HELD_MAX;
 *  - an opener without CAP_NET_ADMIN in the initial user namespace holds,
 *    with every other snapshot of its real uid, at most TCPSTATES_USER_MAX,
 *    and never the last TCPSTATES_HELD_RESERVE of the total, which is
 *    kept for openers with that capability.
 *
 * A uid's share in use is an entry of a small hash, made at its first
 * charge and freed when it holds nothing again.  Each entry's uid holds at
 * least a page of the budget, so there are never more than the budget has
 * pages.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>

#include "snapshot.h"
#include "tcpstates.h"

/* Room for four full ports snapshots (131072 groups, 6.8 MB each). */
#define TCPSTATES_HELD_MAX	SZ_32M
/* Kept for CAP_NET_ADMIN: one full snapshot, whatever the others hold. */
#define TCPSTATES_HELD_RESERVE	SZ_8M
/* One uid without it: a full snapshot, and a third of what is not kept. */
#define TCPSTATES_USER_MAX	SZ_8M
/* Charged to every snapshot: the page seq_file allocates at a read. */
#define TCPSTATES_SNAP_OVERHEAD	PAGE_SIZE
#define TCPSTATES_USER_BITS	8

/* What the snapshots of one uid hold; exists only while @held is not 0. */
struct tcpstates_user {
	struct hlist_node node;
	kuid_t uid;
	size_t held;
};

static DEFINE_SPINLOCK(tcpstates_budget_lock);
/* Under tcpstates_budget_lock: */
static DEFINE_HASHTABLE(tcpstates_users, TCPSTATES_USER_BITS);
static size_t tcpstates_held;

/* Whether @bytes more fit under @limit, @held being in use: no overflow. */
static bool tcpstates_fits(size_t held, size_t bytes, size_t limit)
{
	return held <= limit && bytes <= limit - held;
}

static struct tcpstates_user *tcpstates_user_find(kuid_t uid)
{
	struct tcpstates_user *u;

	hash_for_each_possible(tcpstates_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/*
 * Under tcpstates_budget_lock.  An unprivileged snapshot without an entry
 * comes with @spare, which becomes its uid's entry if the uid has none.
 */
static int tcpstates_budget_add(struct tcpstates_snap *s, size_t bytes,
				struct tcpstates_user **spare)
{
	size_t limit = TCPSTATES_HELD_MAX;
	struct tcpstates_user *u = NULL;

	if (!s->privileged) {
		limit -= TCPSTATES_HELD_RESERVE;
		u = s->user ?: tcpstates_user_find(s->uid);
		if (!tcpstates_fits(u ? u->held : 0, bytes, TCPSTATES_USER_MAX))
			return -EBUSY;
	}
	if (!tcpstates_fits(tcpstates_held, bytes, limit))
		return -EBUSY;
	if (!s->privileged && !u) {
		u = *spare;
		*spare = NULL;
		u->uid = s->uid;
		hash_add(tcpstates_users, &u->node, __kuid_val(u->uid));
	}
	if (u) {
		u->held += bytes;
		s->user = u;
	}
	tcpstates_held += bytes;
	s->charged += bytes;
	return 0;
}

/* Hold @bytes more for @s, or fail with EBUSY (or ENOMEM) holding none. */
int tcpstates_snap_charge(struct tcpstates_snap *s, size_t bytes)
{
	struct tcpstates_user *spare = NULL;
	int err;

	if (!bytes)
		return 0;
	/* Allocated here, not under the lock; freed below if not needed. */
	if (!s->privileged && !s->user) {
		spare = kzalloc(sizeof(*spare), GFP_KERNEL_ACCOUNT);
		if (!spare)
			return -ENOMEM;
	}
	spin_lock(&tcpstates_budget_lock);
	err = tcpstates_budget_add(s, bytes, &spare);
	spin_unlock(&tcpstates_budget_lock);
	kfree(spare);
	return err;
}

void tcpstates_snap_uncharge(struct tcpstates_snap *s, size_t bytes)
{
	struct tcpstates_user *gone = NULL;

	if (WARN_ON_ONCE(bytes > s->charged))
		bytes = s->charged;
	spin_lock(&tcpstates_budget_lock);
	tcpstates_held -= bytes;
	s->charged -= bytes;
	if (s->user) {
		s->user->held -= bytes;
		/* Its snapshots hold nothing, @s included: drop the entry. */
		if (!s->user->held) {
			hash_del(&s->user->node);
			gone = s->user;
		}
		if (!s->charged)
			s->user = NULL;
	}
	spin_unlock(&tcpstates_budget_lock);
	kfree(gone);
}

/* What every snapshot together holds (sysfs snapshot_bytes). */
size_t tcpstates_snap_held(void)
{
	size_t held;

	spin_lock(&tcpstates_budget_lock);
	held = tcpstates_held;
	spin_unlock(&tcpstates_budget_lock);
	return held;
}

/*
 * A snapshot for the current task, holding its overhead of the budget.
 * Whether it may use the reserve is decided here, in the opener's context.
 */
struct tcpstates_snap *tcpstates_snap_alloc(void)
{
	struct tcpstates_snap *s;
	int err;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	s->uid = current_uid();
	s->privileged = ns_capable_noaudit(&init_user_ns, CAP_NET_ADMIN);
	err = tcpstates_snap_charge(s, TCPSTATES_SNAP_OVERHEAD);
	if (err) {
		kfree(s);
		return ERR_PTR(err);
	}
	return s;
}

void tcpstates_snap_free(struct tcpstates_snap *s)
{
	if (!s)
		return;
	kvfree(s->rows);
	tcpstates_snap_uncharge(s, s->charged);
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
