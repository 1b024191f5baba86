/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates reader: shared types.  One struct ts_sample is filled by
 * either source (the module's /proc/tcpstates or sock_diag netlink) and
 * printed by one print layer, so every output format sees the same data.
 */
#ifndef TCPSTATES_H
#define TCPSTATES_H

#include <stdbool.h>
#include <stddef.h>

#include "tcpstates_states.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define TS_VERSION		"1.0"
#define TS_PROC_DEFAULT		"/proc/tcpstates"
#define TS_SYSFS_DEFAULT	"/sys/kernel/tcpstates"
#define TS_PROC_ALL_DEFAULT	"/proc/tcpstates_all"
#define TS_PROC_PORTS_DEFAULT	"/proc/tcpstates_ports"
#define TS_PROCFS_DEFAULT	"/proc"
#define TS_COMM_LEN		16
#define TS_MAX_PORT		65535

enum ts_source {
	TS_SRC_AUTO,
	TS_SRC_MODULE,
	TS_SRC_NETLINK,
};

enum ts_format {
	TS_FMT_TABLE,
	TS_FMT_JSON,
	TS_FMT_PROM,
};

struct ts_sample {
	enum ts_source source;		/* module or netlink, never auto */
	unsigned long long netns;	/* inode of the network namespace */
	unsigned long long sockets[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
	unsigned long long total[TCPSTATES_NR_FAMILIES];
	unsigned long long tw_count;
	unsigned long long max_tw_buckets;
	unsigned long long tw_overflow;
	unsigned long long listen_overflows;
	unsigned long long listen_drops;
	unsigned long long syncookies_sent;
	bool has_scan;			/* scan_* exist only in module data */
	unsigned long long scan_buckets;
	unsigned long long scan_ns;
};

/* What to print: the sample, the one before it (watch mode) and a filter. */
struct ts_view {
	const struct ts_sample *cur;
	const struct ts_sample *prev;	/* NULL: first sample, no deltas */
	const bool *show;		/* [TCPSTATES_NR_STATES] */
	bool watch;
	bool no_header;
	double interval;
};

/* What the tool prints: one netns's sample, every netns, or by port. */
enum ts_mode {
	TS_MODE_SAMPLE,
	TS_MODE_ALL,
	TS_MODE_PORTS,
};

/* One row of /proc/tcpstates_all or /proc/tcpstates_ports. */
struct ts_row {
	unsigned long long key;		/* netns inode, or port */
	bool out;			/* ports: direction "out" */
	unsigned long long sockets[TCPSTATES_NR_STATES]; /* IPv4 + IPv6 */
	unsigned long long total;
	unsigned long long tw_count;	/* --all-netns only */
	unsigned long long max_tw_buckets;
	unsigned long long rank;	/* sort key, set by the print layer */
	int pid;			/* --all-netns: owner, 0 if none */
	char comm[TS_COMM_LEN];
};

struct ts_table {
	enum ts_mode mode;
	enum ts_source source;
	unsigned long long netns;	/* ports: the netns counted */
	struct ts_row *rows;		/* sorted by (out, key), no duplicates */
	size_t nrows;
	size_t cap;
};

/* How to print a table: which states, how to rank, how many rows. */
struct ts_table_view {
	const bool *show;		/* [TCPSTATES_NR_STATES] */
	bool filtered;			/* -s given: rank by the shown states */
	bool no_header;
	unsigned long top;		/* 0: all rows */
};

/* tcpstates.c */
void ts_err(const char *fmt, ...);

/* parse.c */
int ts_parse(char *buf, size_t len, const char *name, struct ts_sample *s);
int ts_read_module(const char *path, struct ts_sample *s);
int ts_read_file(const char *path, char **bufp, size_t *lenp);
int ts_state_lookup(const char *name);
int ts_find_state(const char *key);
int ts_parse_ull(const char *tok, unsigned long long *val);

/* tabular.c */
int ts_parse_table(char *buf, size_t len, const char *name,
		   struct ts_table *t);
int ts_read_table(enum ts_mode mode, const char *path, struct ts_table *t);
struct ts_row *ts_table_add(struct ts_table *t);
int ts_table_finish(struct ts_table *t, const char *name);

/* owners.c */
void ts_find_owners(struct ts_table *t, const char *procfs);

/* netlink.c */
int ts_read_netlink(struct ts_sample *s);
int ts_read_ports_netlink(struct ts_table *t);

/* output.c */
void ts_print(enum ts_format fmt, const struct ts_view *v);
const char *ts_source_name(enum ts_source src);
void ts_put_lower(const char *name);

/* views.c */
void ts_print_table(enum ts_format fmt, struct ts_table *t,
		    const struct ts_table_view *v);

/* tunables.c */
int ts_set_tunable(const char *dir, const char *key, const char *val);

#endif /* TCPSTATES_H */
