/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot: the rows of /proc/tcpstates_ports or _all, built once when
 * the file is opened and then read line by line through seq_file, so a
 * read of any size costs one walk and a page of buffer.
 */
#ifndef _TCPSTATES_SNAPSHOT_H
#define _TCPSTATES_SNAPSHOT_H

#include <linux/types.h>
#include <linux/uidgid.h>

struct file;
struct seq_file;
struct tcpstates_user;

struct tcpstates_snap {
	/* Line @line of the file: the first @nr_head are headers. */
	void (*show)(struct seq_file *seq, const struct tcpstates_snap *s,
		     unsigned int line);
	unsigned int nr_head;
	unsigned int nr_rows;
	void *rows;
	/* The budget: what this snapshot holds of it, and on whose behalf. */
	size_t charged;
	kuid_t uid;		/* the opener's real uid */
	bool privileged;	/* may use the reserve; no per-uid share */
	struct tcpstates_user *user;	/* @uid's share while @charged */
	u32 netns;
};

struct tcpstates_snap *tcpstates_snap_alloc(void);
int tcpstates_snap_charge(struct tcpstates_snap *s, size_t bytes);
void tcpstates_snap_uncharge(struct tcpstates_snap *s, size_t bytes);
size_t tcpstates_snap_held(void);
void tcpstates_snap_free(struct tcpstates_snap *s);
int tcpstates_snap_open(struct file *file, struct tcpstates_snap *s);

#endif /* _TCPSTATES_SNAPSHOT_H */
