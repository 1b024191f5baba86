/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates reader, output layer: one sample as a table, JSON or
 * Prometheus metrics (output.c), the --all-netns and --ports tables in
 * the same three (tables.c), --transitions (--ports too), --ages and
 * --close-wait in the same three (output_tr.c, output_ages.c,
 * output_cw.c), and the
 * --check-tw status line (check.c).
 * May call: the views layer (view.h) and the layers below it, libc.
 */
#ifndef TS_OUTPUT_H
#define TS_OUTPUT_H

#include "view.h"

#define TS_MAX_LABELS		16

enum ts_format {
	TS_FMT_TABLE,
	TS_FMT_JSON,
	TS_FMT_PROM,
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

/* How to print a table: which states, how to rank, how many rows. */
struct ts_table_view {
	const bool *show;		/* [TCPSTATES_NR_STATES] */
	bool filtered;			/* -s given: rank by the shown states */
	bool no_header;
	bool watch;			/* a timestamp line before the table */
	unsigned long top;		/* 0: all rows */
	const struct ts_procs *procs;	/* --processes by group, or NULL */
};

/* --transitions: the counts, the ones before them (watch mode), a filter. */
struct ts_tr_view {
	const struct ts_transitions *cur;
	const struct ts_transitions *prev;	/* NULL: first sample, no rates */
	const bool *show;		/* a pair shows if either state does */
	unsigned int fams;		/* TS_BIT(family) of the families shown */
	bool watch;
	bool no_header;
};

/* --transitions --ports: the rows, the ones before them (watch), a filter. */
struct ts_trp_view {
	const struct ts_tr_ports *cur;
	const struct ts_tr_ports *prev;	/* NULL: first sample, no rates */
	const bool *show;		/* a column shows if its state does */
	bool watch;
	bool no_header;
	unsigned long top;		/* 0: every row */
};

/* --ages: the sockets by age of the states shown. */
struct ts_ages_view {
	const struct ts_ages *cur;
	const bool *show;		/* [TCPSTATES_NR_STATES] */
	bool watch;			/* a timestamp line before the table */
	bool no_header;
};

/* --label KEY=VALUE, on every Prometheus sample. */
struct ts_label {
	const char *key;
	const char *val;
};

/* output.c */
extern const char * const ts_family_names[TCPSTATES_NR_FAMILIES];
double ts_seconds(const struct timespec *ts);
void ts_put_family_headings(unsigned int fams, bool watch,
			    const char * const change[TCPSTATES_NR_FAMILIES]);
void ts_print(enum ts_format fmt, const struct ts_view *v);
const char *ts_source_name(enum ts_source src);
void ts_put_lower(const char *name);
void ts_put_time(const struct timespec *wall, bool utc);
void ts_put_time_line(const struct timespec *wall);
void ts_put_json_head(const struct timespec *wall, enum ts_source src,
		      unsigned long long netns);
void ts_prom_head(const char *name, const char *help, const char *type);
void ts_set_labels(const struct ts_label *labels, unsigned int n);
void ts_prom_open(const char *name, unsigned long long netns);
void ts_print_procs(enum ts_format fmt, const struct ts_procs *p,
		    unsigned int group);

/* tables.c */
void ts_print_table(enum ts_format fmt, struct ts_table *t,
		    const struct ts_table_view *v);

/* output_tr.c */
void ts_print_transitions(enum ts_format fmt, const struct ts_tr_view *v);
void ts_print_tr_ports(enum ts_format fmt, const struct ts_trp_view *v);

/* output_ages.c */
void ts_print_ages(enum ts_format fmt, const struct ts_ages_view *v);

/* output_cw.c */
void ts_print_close_wait(enum ts_format fmt, struct ts_table *t,
			 const struct ts_table_view *v);

/* check.c */
int ts_check_tw(const struct ts_sample *s, double warn, double crit);
int ts_check_unknown(void);

#endif /* TS_OUTPUT_H */
