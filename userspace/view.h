/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates reader, views layer: what of the samples and tables to show.
 * The ranking and --top cut of table rows and of --transitions --ports
 * rows (views.c), the owners of each network namespace (owners.c) and the
 * processes holding the sockets of the shown states (procs.c).  May call:
 * the sources layer (source.h) and the model layer, libc.
 */
#ifndef TS_VIEW_H
#define TS_VIEW_H

#include "source.h"

/* --processes: sockets no process holds (TIME_WAIT, request, orphans)... */
#define TS_PID_NONE		0
/* ...and sockets with a file whose process was not found in /proc. */
#define TS_PID_UNSEEN		(-1)

/* --processes: how many sockets of one group one process holds. */
struct ts_proc {
	unsigned int group;		/* state, or a --ports group */
	int pid;			/* or TS_PID_NONE, TS_PID_UNSEEN */
	unsigned long long sockets;
	char comm[TS_COMM_LEN];
};

/* Sorted by group; in a group, most sockets first, the two kinds last. */
struct ts_procs {
	struct ts_proc *v;
	size_t n;
};

/* views.c */
void ts_rank_table(struct ts_table *t, const bool *show, bool filtered,
		   unsigned long top);
size_t ts_rank_tr_ports(const struct ts_tr_ports *p, const bool *show,
			unsigned long top, unsigned int *idx);

/* owners.c */
void ts_find_owners(struct ts_table *t, const char *procfs);
void ts_read_comm(const char *procfs, int pid, char *comm);

/* procs.c */
int ts_find_procs(struct ts_procs *p, const bool *show, unsigned int fams,
		  bool ports, const char *procfs);
const struct ts_proc *ts_procs_group(const struct ts_procs *p,
				     unsigned int group, size_t *n);

#endif /* TS_VIEW_H */
