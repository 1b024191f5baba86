/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates reader, model layer: the one sample model.  One struct
 * ts_sample is filled by any source (the module's /proc/tcpstates, its
 * walk run as a BPF program, or sock_diag netlink) and printed by one
 * output layer, so every format sees the same data; struct ts_table holds
 * the module's per-namespace and per-port tables.  parse.c and tabular.c
 * parse the module's grammars into them.  May call: err.h, libc.
 */
#ifndef TS_SAMPLE_H
#define TS_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "tcpstates_ages.h"
#include "tcpstates_states.h"
#include "tcpstates_transitions.h"
#include "err.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define TS_COMM_LEN		16
#define TS_MAX_PORT		65535
/* --ports groups: "in PORT" is PORT, "out PORT" is TS_OUT + PORT. */
#define TS_OUT			(TS_MAX_PORT + 1)

#define TS_BIT(n)		(1U << (n))
/* Every state the module reports: bits 1 to TCP_CLOSING. */
#define TS_STATES_ALL		((TS_BIT(TCPSTATES_NR_STATES) - 1) & ~1U)
#define TS_FAMS_ALL		(TS_BIT(TCPSTATES_NR_FAMILIES) - 1)

enum ts_source {
	TS_SRC_AUTO,
	TS_SRC_MODULE,
	TS_SRC_NETLINK,
	TS_SRC_BPF,
	TS_SRC_PIN,			/* the pinned files, no program load */
};

struct ts_sample {
	enum ts_source source;		/* any but auto */
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

/* What the tool prints: one netns's sample, every netns, or by port. */
enum ts_mode {
	TS_MODE_SAMPLE,
	TS_MODE_ALL,
	TS_MODE_PORTS,
	TS_MODE_TRANSITIONS,
	TS_MODE_AGES,
	TS_MODE_CLOSE_WAIT,		/* --ports' rows with CLOSE_WAIT, aged */
	TS_MODE_TR_PORTS,		/* --transitions --ports */
};

/*
 * One row of /proc/tcpstates_all, /proc/tcpstates_ports or
 * /proc/tcpstates_close_wait (whose "sockets" are sockets[TCP_CLOSE_WAIT]).
 */
struct ts_row {
	unsigned long long key;		/* netns inode, or port */
	bool out;			/* ports: direction "out" */
	unsigned long long sockets[TCPSTATES_NR_STATES]; /* IPv4 + IPv6 */
	unsigned long long total;
	unsigned long long tw_count;	/* --all-netns only */
	unsigned long long max_tw_buckets;
	unsigned long long oldest;	/* --close-wait: seconds */
	unsigned long long rank;	/* sort key, set by the views layer */
	int pid;			/* --all-netns: owner, 0 if none */
	char comm[TS_COMM_LEN];
};

struct ts_table {
	enum ts_mode mode;
	enum ts_source source;
	unsigned long long netns;	/* by port: the netns counted */
	struct ts_row *rows;		/* sorted by (out, key), no duplicates */
	size_t nrows;
	size_t cap;
	struct timespec wall;		/* when it was read */
};

/*
 * /proc/tcpstates_transitions: per pair of tcpstates_transitions[], per
 * family, the moves since the module loaded.  A pair the kernel cannot
 * count ("- -") is not counted, which is not a count of 0.
 */
struct ts_transitions {
	enum ts_source source;		/* the module, for now */
	unsigned long long netns;
	bool counted[TCPSTATES_NR_TRANSITIONS];
	unsigned long long moves[TCPSTATES_NR_TRANSITIONS][TCPSTATES_NR_FAMILIES];
	struct timespec wall;
	struct timespec mono;		/* for rates */
};

/*
 * /proc/tcpstates_transitions_ports: per service port group, the
 * connections that entered SYN_RECV, CLOSE_WAIT and TIME_WAIT since the
 * module loaded, IPv4 and IPv6 together.  The module keeps a row for the
 * first TS_TRP_MAX_ROWS groups and sums the others' in one last row.  A
 * column the kernel could not count ("-" in every row) is not counted,
 * which is not a count of 0.
 */
#define TS_TRP_VERSION		1
#define TS_TRP_NR_COLS		3
#define TS_TRP_MAX_ROWS		127

/* The column's state: SYN_RECV, CLOSE_WAIT, TIME_WAIT. */
extern const unsigned char ts_trp_states[TS_TRP_NR_COLS];

struct ts_tr_port {
	bool out;			/* "out PORT": by the remote port */
	unsigned int port;
	unsigned long long entered[TS_TRP_NR_COLS];
};

struct ts_tr_ports {
	enum ts_source source;		/* the module: no other has it */
	unsigned long long netns;
	bool counted[TS_TRP_NR_COLS];
	struct ts_tr_port rows[TS_TRP_MAX_ROWS];	/* the file's order */
	size_t nrows;
	struct ts_tr_port other;	/* "other -": groups with no row */
	bool has_other;
	struct timespec wall;
	struct timespec mono;		/* for rates */
};

/*
 * /proc/tcpstates_ages: per state, the sockets in each age column (IPv4
 * and IPv6 together), youngest first: under 1 s, 10 s, 1 min, 10 min,
 * 1 h, 1 d, then a day or more.  A state without an age ("-": LISTEN)
 * is not aged, which is not a count of 0.
 */
#define TS_NR_AGES		TCPSTATES_NR_AGES
/* The version on the file's first line that this reader reads. */
#define TS_AGES_VERSION		TCPSTATES_AGES_VERSION

struct ts_ages {
	enum ts_source source;		/* the module, the pin or sock_diag */
	unsigned long long netns;
	bool aged[TCPSTATES_NR_STATES];
	unsigned long long sockets[TCPSTATES_NR_STATES][TS_NR_AGES];
	struct timespec wall;
};

/*
 * A line of a module file of fixed grammar (parse_fixed.c), split at
 * spaces: the longest is a state and its TS_NR_AGES columns.
 */
#define TS_FIXED_MAX_FIELDS	(1 + TS_NR_AGES)

struct ts_fline {
	const char *file;
	const char *hint;		/* what to check, after every message */
	unsigned int nr;
	char *tok[TS_FIXED_MAX_FIELDS];
	unsigned int ntok;		/* max + 1: too many */
};

/*
 * The grammar: "MAGIC VERSION", "netns INODE", the column header, then
 * exactly nrows rows in one order, each of ncols fields, the first
 * name_fields of row i spelled as name(i, field) spells them ("SYN_RECV
 * ESTABLISHED", "LISTEN").  row() parses the rest of a row that has them.
 * Without name(), at most nrows rows whose names row() checks itself, and
 * end() says whether the file may end where it did.
 */
struct ts_grammar {
	const char *magic;
	unsigned long long version;
	const char * const *cols;	/* the column header, every word */
	unsigned int ncols;
	unsigned int name_fields;
	const char *row_noun;		/* "pair", "state": for messages */
	const char *hint;
	unsigned int nrows;
	const char *(*name)(unsigned int i, unsigned int field);
	int (*row)(const struct ts_fline *l, unsigned int i, void *out);
	int (*end)(const struct ts_fline *l, void *out);
};

/* parse.c */
int ts_parse(char *buf, size_t len, const char *name, struct ts_sample *s);
unsigned int ts_state_mask(const char *name);
int ts_find_state(const char *key);
int ts_parse_ull(const char *tok, unsigned long long *val);

/* tabular.c */
int ts_parse_table(char *buf, size_t len, const char *name,
		   struct ts_table *t);
struct ts_row *ts_table_add(struct ts_table *t);
int ts_table_finish(struct ts_table *t, const char *name);
unsigned int ts_row_group(const struct ts_row *r);
bool ts_by_port(enum ts_mode mode);

/* parse_fixed.c */
int ts_fixed_bad(const struct ts_fline *l, const char *what);
int ts_fixed_count(const struct ts_fline *l, unsigned int field,
		   unsigned long long *val);
int ts_parse_fixed(char *buf, size_t len, const char *name,
		   const struct ts_grammar *g, unsigned long long *netns,
		   void *out);

/* parse_tr.c */
int ts_parse_transitions(char *buf, size_t len, const char *name,
			 struct ts_transitions *tr);
int ts_parse_tr_ports(char *buf, size_t len, const char *name,
		      struct ts_tr_ports *p);

/* parse_ages.c */
extern const char * const *const ts_age_names;	/* [TS_NR_AGES] */
int ts_parse_ages(char *buf, size_t len, const char *name, struct ts_ages *a);

#endif /* TS_SAMPLE_H */
