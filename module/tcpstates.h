/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the files of tcpstates.ko. */
#ifndef _TCPSTATES_H
#define _TCPSTATES_H

#include <linux/atomic.h>
#include <linux/types.h>
#include "tcpstates_ages.h"
#include "tcpstates_states.h"

struct file;
struct inode;
struct net;
struct seq_file;
struct sock;

struct tcpstates_counts {
	u64 sockets[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
	u64 buckets;		/* hash buckets examined, ehash and listeners */
	u64 restarts;		/* chains walked again after a nulls mismatch */
	u64 incomplete;		/* buckets given up on: counts may be off */
};

void tcpstates_walk(struct net *net, struct tcpstates_counts *counts);

#define TCPSTATES_NR_PORTS	65536
/* "in" groups are local ports, "out" groups 65536 + the remote port. */
#define TCPSTATES_NR_GROUPS	(2 * TCPSTATES_NR_PORTS)

struct tcpstates_port_row {
	u32 group;
	u32 cells[TCPSTATES_NR_STATES];
	/* The oldest CLOSE_WAIT socket's age, in seconds (ages.c's rule). */
	u32 close_wait_age;
};

/*
 * A walk by service port.  @listening and @index are scratch that ports.c
 * owns and keeps zeroed between walks; @rows is the read's, with room for
 * @cap groups.  Groups found beyond @cap are counted in @missing only.
 */
struct tcpstates_ports {
	struct net *net;
	unsigned long *listening;
	u32 *index;		/* group -> row + 1, 0 when none */
	struct tcpstates_port_row *rows;
	unsigned int nr, cap, missing;
};

void tcpstates_walk_ports(struct tcpstates_ports *p,
			  struct tcpstates_counts *c);

/* Every netns, by slot of an open-addressed hash of their addresses. */
struct tcpstates_all {
	unsigned int bits;
	struct net **nets;	/* referenced, or NULL */
	u32 *cells;		/* [slot][state] */
};

void tcpstates_walk_all(struct tcpstates_all *all, struct tcpstates_counts *c);

/*
 * A walk by age: the established table's sockets of @net by age column
 * and state (the listeners have no age and are not walked).  Fixed size:
 * a read of /proc/tcpstates_ages allocates nothing.
 */

struct tcpstates_ages {
	struct net *net;
	/* What a FIN_WAIT2 timewait sock's timer was armed with, in jiffies. */
	unsigned long fin_timeo;
	u32 cells[TCPSTATES_NR_AGES][TCPSTATES_NR_STATES];
};

void tcpstates_walk_ages(struct tcpstates_ages *a, struct tcpstates_counts *c);
unsigned int tcpstates_age_column(const struct tcpstates_ages *a,
				  const struct sock *sk, unsigned int state);

/* Totals since load, over every walk of every netns (sysfs). */
struct tcpstates_stats {
	atomic64_t scans;
	atomic64_t restarts;
	atomic64_t incomplete;
};

extern struct tcpstates_stats tcpstates_stats;

int tcpstates_proc_init(void);
void tcpstates_proc_exit(void);
/* A single_open() file of the opener's netns, pinned until release. */
int tcpstates_net_open(struct file *file,
		       int (*show)(struct seq_file *seq, void *v));
int tcpstates_net_release(struct inode *inode, struct file *file);

/* /proc/tcpstates_ages */
int tcpstates_ages_init(void);
void tcpstates_ages_exit(void);

/* /proc/tcpstates_ports and /proc/tcpstates_all: snapshots, read as rows. */
int tcpstates_ports_init(void);
void tcpstates_ports_exit(void);
int tcpstates_ports_open(struct inode *inode, struct file *file);
int tcpstates_close_wait_open(struct inode *inode, struct file *file);
u32 tcpstates_close_wait_age(const struct sock *sk);
int tcpstates_all_open(struct inode *inode, struct file *file);
int tcpstates_snap_release(struct inode *inode, struct file *file);
void tcpstates_show_header(struct seq_file *seq, const char *first);
void tcpstates_show_group(struct seq_file *seq, u32 group);
void tcpstates_show_cells(struct seq_file *seq, const u32 *cells);

/* /proc/tcpstates_transitions */
int tcpstates_transitions_init(void);
void tcpstates_transitions_exit(void);
/* Which of the by-port columns have every hook they need, as bits. */
unsigned int tcpstates_tr_ports_whole(void);

/* /proc/tcpstates_transitions_ports: its columns, the states entered. */
enum {
	TCPSTATES_TRP_SYN_RECV,
	TCPSTATES_TRP_CLOSE_WAIT,
	TCPSTATES_TRP_TIME_WAIT,
	TCPSTATES_TRP_NR
};

struct sock_common;

int tcpstates_trp_init(void);
void tcpstates_trp_exit(void);
void tcpstates_trp_count(const struct sock_common *skc, int col);
void tcpstates_trp_count_in(const struct net *net, unsigned short port,
			    int col);

int tcpstates_sysfs_init(void);
void tcpstates_sysfs_exit(void);
void tcpstates_sysfs_apply(int max_tw, int reuse);

int tcpstates_parse_int(const char *buf, size_t count, int max, int *val);

#endif /* _TCPSTATES_H */
