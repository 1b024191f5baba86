/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the files of tcpstates.ko. */
#ifndef _TCPSTATES_H
#define _TCPSTATES_H

#include <linux/types.h>
#include "tcpstates_states.h"

struct net;

struct tcpstates_counts {
	u64 sockets[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
	u64 buckets;		/* hash buckets examined, ehash and lhash2 */
	u64 restarts;		/* chains walked again after a nulls mismatch */
};

void tcpstates_walk(struct net *net, struct tcpstates_counts *counts);

int tcpstates_proc_init(void);
void tcpstates_proc_exit(void);

int tcpstates_sysfs_init(void);
void tcpstates_sysfs_exit(void);
void tcpstates_sysfs_apply(int max_tw, int reuse);

int tcpstates_parse_int(const char *buf, size_t count, int max, int *val);

#endif /* _TCPSTATES_H */
