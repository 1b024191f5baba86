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
#include <time.h>

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
/* --ports groups: "in PORT" is PORT, "out PORT" is TS_OUT + PORT. */
#define TS_OUT			(TS_MAX_PORT + 1)
#define TS_MAX_LABELS		16

#define TS_BIT(n)		(1U << (n))
/* Every state the module reports: bits 1 to TCP_CLOSING. */
#define TS_STATES_ALL		((TS_BIT(TCPSTATES_NR_STATES) - 1) & ~1U)
#define TS_FAMS_ALL		(TS_BIT(TCPSTATES_NR_FAMILIES) - 1)

/* --processes: sockets no process holds (TIME_WAIT, request, orphans)... */
#define TS_PID_NONE		0
/* ...and sockets with a file whose process was not found in /proc. */
#define TS_PID_UNSEEN		(-1)

enum ts_source {
	TS_SRC_AUTO,
	TS_SRC_MODULE,
	TS_SRC_NETLINK,
	TS_SRC_BPF,
};

enum ts_format {
	TS_FMT_TABLE,
	TS_FMT_JSON,
	TS_FMT_PROM,
};

struct ts_sample {
	enum ts_source source;		/* module, netlink or bpf, never auto */
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
	bool has_restarts;		/* scan_restarts/_incomplete: newer modules */
	unsigned long long scan_restarts;
	unsigned long long scan_incomplete;
	struct timespec wall;		/* when it was taken (CLOCK_REALTIME) */
	struct timespec mono;		/* the same, CLOCK_MONOTONIC, for rates */
};

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

/* What to print: the sample, the one before it (watch mode) and a filter. */
struct ts_view {
	const struct ts_sample *cur;
	const struct ts_sample *prev;	/* NULL: first sample, no deltas */
	const bool *show;		/* [TCPSTATES_NR_STATES] */
	unsigned int fams;		/* TS_BIT(family) of the families shown */
	bool watch;
	bool no_header;
	const struct ts_procs *procs;	/* --processes by state, or NULL */
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
	struct timespec wall;		/* when it was read */
};

/* How to print a table: which states, how to rank, how many rows. */
struct ts_table_view {
	const bool *show;		/* [TCPSTATES_NR_STATES] */
	bool filtered;			/* -s given: rank by the shown states */
	bool no_header;
	bool watch;			/* a timestamp line before the table */
	unsigned long top;		/* 0: all rows */
	const struct ts_procs *procs;	/* --processes by group, or NULL */
};

/* One socket of a sock_diag dump (--ports, --processes). */
struct ts_sock {
	unsigned int inode;		/* 0: no file holds it */
	unsigned int group;		/* state, or a --ports group */
	int owner;			/* --processes: last PID seen with it */
	unsigned short sport;
	unsigned short dport;
	unsigned char state;
	unsigned char fam;
};

struct ts_socks {
	struct ts_sock *v;
	size_t n;
	size_t cap;
	bool nomem;
};

/* --label KEY=VALUE, on every Prometheus sample. */
struct ts_label {
	const char *key;
	const char *val;
};

#define TS_MAX_SETS		8

/* The command line, as args.c parsed and checked it. */
struct ts_opts {
	enum ts_mode mode;
	enum ts_format fmt;
	enum ts_source source;
	bool no_header;
	bool watch;
	double interval;		/* seconds, at least TS_MIN_WATCH */
	unsigned long count;		/* samples to take, 0: forever */
	bool show[TCPSTATES_NR_STATES];
	bool filtered;			/* -s seen: later -s add states */
	unsigned int fams;		/* -4, -6: TS_BIT(family) */
	const char *netns;		/* -n, or -N's /proc/PID/ns/net */
	const char *netns_opt;		/* which of the two, for messages */
	const char *netns_arg;		/* and its argument */
	char netns_pid[32];
	const char *sets[TS_MAX_SETS];
	unsigned int nsets;
	bool check;			/* --check-tw: a monitoring plugin */
	double check_warn;		/* percent of the limit */
	double check_crit;		/* percent, or < 0 for none */
	unsigned long top;
	bool procs;			/* --processes */
	struct ts_label labels[TS_MAX_LABELS];
	unsigned int nlabels;
};

#define TS_MIN_WATCH		0.1
#define TS_MAX_WATCH		86400.0
#define TS_WATCH_MISSES		5	/* churn-failed samples in a row */

/* Monitoring Plugins exit codes, for --check-tw. */
enum {
	TS_CHECK_OK,
	TS_CHECK_WARNING,
	TS_CHECK_CRITICAL,
	TS_CHECK_UNKNOWN,
};

/* args.c */
void ts_parse_args(struct ts_opts *o, int argc, char **argv);

/* tcpstates.c */
void ts_err(const char *fmt, ...);
void ts_churn(const char *fmt, ...);
extern bool ts_err_quiet;
void ts_now(struct timespec *wall, struct timespec *mono);
int ts_finish(int rc);
extern bool ts_check_mode;

/* parse.c */
int ts_parse(char *buf, size_t len, const char *name, struct ts_sample *s);
int ts_read_module(const char *path, struct ts_sample *s);
int ts_read_file(const char *path, char **bufp, size_t *lenp);
unsigned int ts_state_mask(const char *name);
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
void ts_read_comm(const char *procfs, int pid, char *comm);

/* netlink.c */
int ts_read_netlink(struct ts_sample *s);
int ts_read_counters(struct ts_sample *s);
int ts_read_ports_netlink(struct ts_table *t, unsigned int fams);
int ts_dump_socks(unsigned int states, bool ports, struct ts_socks *ss);

/* bpf.c */
int ts_bpf_open(void);
int ts_read_bpf(struct ts_sample *s);

/* procs.c */
int ts_find_procs(struct ts_procs *p, const bool *show, unsigned int fams,
		  bool ports, const char *procfs);
const struct ts_proc *ts_procs_group(const struct ts_procs *p,
				     unsigned int group, size_t *n);
void ts_print_procs(enum ts_format fmt, const struct ts_procs *p,
		    unsigned int group);

/* output.c */
void ts_print(enum ts_format fmt, const struct ts_view *v);
const char *ts_source_name(enum ts_source src);
void ts_put_lower(const char *name);
void ts_put_time(const struct timespec *wall, bool utc);
void ts_set_labels(const struct ts_label *labels, unsigned int n);
void ts_prom_open(const char *name, unsigned long long netns);

/* views.c */
void ts_print_table(enum ts_format fmt, struct ts_table *t,
		    const struct ts_table_view *v);
unsigned int ts_row_group(const struct ts_row *r);

/* tunables.c */
int ts_set_tunable(const char *dir, const char *key, const char *val);

#endif /* TCPSTATES_H */
