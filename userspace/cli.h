/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcpstates reader, command line layer, on top: the options (args.c) and
 * what runs them (tcpstates.c).  May call: every layer below, output
 * (output.h), views, sources and the model.
 */
#ifndef TS_CLI_H
#define TS_CLI_H

#include "output.h"

#define TS_VERSION		"1.0"
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

/* args.c */
void ts_parse_args(struct ts_opts *o, int argc, char **argv);

/* pincmd.c */
int ts_pin_main(int argc, char **argv);

#endif /* TS_CLI_H */
