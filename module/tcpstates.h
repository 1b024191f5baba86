/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the files of tcpstates.ko. */
#ifndef _TCPSTATES_H
#define _TCPSTATES_H

#include <linux/bitops.h>
#include <linux/types.h>
#include "tcpstates_states.h"

struct net;

struct tcpstates_counts {
	u64 sockets[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
	u64 buckets;		/* hash buckets examined, ehash and lhash2 */
	u64 restarts;		/* chains walked again after a nulls mismatch */
};

void tcpstates_walk(struct net *net, struct tcpstates_counts *counts);

#define TCPSTATES_NR_PORTS	65536

/* Groups: "in" local ports with a listener, then "out" remote ports. */
struct tcpstates_ports {
	unsigned long listening[BITS_TO_LONGS(TCPSTATES_NR_PORTS)];
	u32 cells[2][TCPSTATES_NR_PORTS][TCPSTATES_NR_STATES];
};

void tcpstates_walk_ports(struct net *net, struct tcpstates_ports *ports,
			  struct tcpstates_counts *c);

/* Every netns, by slot of an open-addressed hash of their addresses. */
struct tcpstates_all {
	unsigned int bits;
	struct net **nets;	/* referenced, or NULL */
	u32 *cells;		/* [slot][state] */
};

int tcpstates_walk_all(struct tcpstates_all *all, struct tcpstates_counts *c);
void tcpstates_all_free(struct tcpstates_all *all);

int tcpstates_proc_init(void);
void tcpstates_proc_exit(void);

int tcpstates_sysfs_init(void);
void tcpstates_sysfs_exit(void);
void tcpstates_sysfs_apply(int max_tw, int reuse);

int tcpstates_parse_int(const char *buf, size_t count, int max, int *val);

#endif /* _TCPSTATES_H */
