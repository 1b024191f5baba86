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

/* tcpstates.c */
void ts_err(const char *fmt, ...);

/* parse.c */
int ts_parse(char *buf, size_t len, const char *name, struct ts_sample *s);
int ts_read_module(const char *path, struct ts_sample *s);
int ts_read_file(const char *path, char **bufp, size_t *lenp);
int ts_state_lookup(const char *name);

/* netlink.c */
int ts_read_netlink(struct ts_sample *s);

/* output.c */
void ts_print(enum ts_format fmt, const struct ts_view *v);
const char *ts_source_name(enum ts_source src);

/* tunables.c */
int ts_set_tunable(const char *dir, const char *key, const char *val);

#endif /* TCPSTATES_H */
