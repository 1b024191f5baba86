// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for /proc/tcpstates_transitions.  Unlike /proc/tcpstates its
 * grammar is fixed (parse_fixed.c): three header lines, then one line
 * per pair of tcpstates_transitions[], in that order, each with a count
 * per family or "- -" for a pair the kernel cannot count.
 * And for /proc/tcpstates_transitions_ports, by service port: the same
 * three header lines, then "in PORT" rows by port, "out PORT" rows by
 * port, at most TS_TRP_MAX_ROWS of them, and always "other -" last; a
 * column the kernel cannot count is "-" in every row.
 * Model layer.  May call: parse_fixed.c, parse.c, err.c, libc.
 */
#include <stdio.h>
#include <string.h>

#include "sample.h"

#define TS_TR_FIELDS	4	/* from to ipv4 ipv6 */

static const char *pair_name(unsigned int i, unsigned int field)
{
	const struct tcpstates_transition *t = &tcpstates_transitions[i];

	return tcpstates_state_names[field ? t->to : t->from];
}

/* Both families counted, or neither ("- -"): never one of the two. */
static int parse_counts(const struct ts_fline *l, unsigned int i, void *out)
{
	bool none4 = !strcmp(l->tok[2], "-"), none6 = !strcmp(l->tok[3], "-");
	struct ts_transitions *tr = out;
	int fam;

	if (none4 != none6)
		return ts_fixed_bad(l, "\"-\" for one family only");
	tr->counted[i] = !none4;
	for (fam = 0; tr->counted[i] && fam < TCPSTATES_NR_FAMILIES; fam++)
		if (ts_fixed_count(l, 2 + fam, &tr->moves[i][fam]))
			return -1;
	return 0;
}

static const char * const tr_cols[TS_TR_FIELDS] = {
	"from", "to", "ipv4", "ipv6",
};

static const struct ts_grammar tr_grammar = {
	.magic = "tcpstates_transitions",
	.version = TCPSTATES_TRANSITIONS_VERSION,
	.cols = tr_cols,
	.ncols = TS_TR_FIELDS,
	.name_fields = 2,
	.row_noun = "pair",
	.hint = "check that module and reader versions match",
	.nrows = TCPSTATES_NR_TRANSITIONS,
	.name = pair_name,
	.row = parse_counts,
};

/* Parse @len bytes of @buf (modified in place); @name is for messages. */
int ts_parse_transitions(char *buf, size_t len, const char *name,
			 struct ts_transitions *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->source = TS_SRC_MODULE;
	return ts_parse_fixed(buf, len, name, &tr_grammar, &tr->netns, tr);
}

/* ---- /proc/tcpstates_transitions_ports ---- */

const unsigned char ts_trp_states[TS_TRP_NR_COLS] = {
	TCP_SYN_RECV, TCP_CLOSE_WAIT, TCP_TIME_WAIT,
};

static const char * const trp_cols[2 + TS_TRP_NR_COLS] = {
	"direction", "port", "SYN_RECV", "CLOSE_WAIT", "TIME_WAIT",
};

/*
 * A column is counted in every row or in none: a hook the kernel lacks
 * misses every group's events, and the first row says which it is.
 */
static int parse_entered(const struct ts_fline *l, struct ts_tr_ports *p,
			 struct ts_tr_port *r, bool first)
{
	unsigned int c;
	bool dash;

	for (c = 0; c < TS_TRP_NR_COLS; c++) {
		dash = !strcmp(l->tok[2 + c], "-");
		if (first)
			p->counted[c] = !dash;
		else if (dash == p->counted[c])
			return ts_fixed_bad(l, "\"-\" in some rows of a column only");
		if (!dash && ts_fixed_count(l, 2 + c, &r->entered[c]))
			return -1;
	}
	return 0;
}

/* "in PORT" or "out PORT", after the row before it in the file's order. */
static int parse_group(const struct ts_fline *l, const struct ts_tr_ports *p,
		       struct ts_tr_port *r)
{
	const struct ts_tr_port *prev = NULL;
	unsigned long long port;
	char msg[160];

	if (p->nrows)
		prev = &p->rows[p->nrows - 1];

	r->out = !strcmp(l->tok[0], "out");
	if (!r->out && strcmp(l->tok[0], "in"))
		return ts_fixed_bad(l, "want direction \"in\", \"out\" or \"other\"");
	if (ts_parse_ull(l->tok[1], &port) || port > TS_MAX_PORT)
		return ts_fixed_bad(l, "not a port: want 0-65535");
	r->port = port;
	if (!prev || prev->out < r->out ||
	    (prev->out == r->out && prev->port < r->port))
		return 0;
	snprintf(msg, sizeof(msg),
		 "row \"%s %u\" after \"%s %u\": want the in rows, then the out rows, each by ascending port, once",
		 l->tok[0], r->port, prev->out ? "out" : "in", prev->port);
	return ts_fixed_bad(l, msg);
}

/* A port row, while the module keeps rows, or the other row, last. */
static int parse_port_row(const struct ts_fline *l, unsigned int i,
			  void *out)
{
	struct ts_tr_ports *p = out;
	char msg[80];

	if (p->has_other)
		return ts_fixed_bad(l, "a row after the \"other -\" row");
	if (!strcmp(l->tok[0], "other")) {
		if (strcmp(l->tok[1], "-"))
			return ts_fixed_bad(l, "want \"other -\"");
		p->has_other = true;
		return parse_entered(l, p, &p->other, !i);
	}
	if (p->nrows == TS_TRP_MAX_ROWS) {
		snprintf(msg, sizeof(msg),
			 "more than %d port rows before \"other -\"",
			 TS_TRP_MAX_ROWS);
		return ts_fixed_bad(l, msg);
	}
	if (parse_group(l, p, &p->rows[p->nrows]))
		return -1;
	return parse_entered(l, p, &p->rows[p->nrows++], !i);
}

/* The "other -" row ends every file, even one with no port row. */
static int check_other(const struct ts_fline *l, void *out)
{
	const struct ts_tr_ports *p = out;

	if (p->has_other)
		return 0;
	ts_err("%s: no \"other -\" row (the file ends at line %u); %s",
	       l->file, l->nr, l->hint);
	return -1;
}

static const struct ts_grammar trp_grammar = {
	.magic = "tcpstates_transitions_ports",
	.version = TS_TRP_VERSION,
	.cols = trp_cols,
	.ncols = ARRAY_SIZE(trp_cols),
	.row_noun = "row",
	.hint = "check that module and reader versions match",
	.nrows = TS_TRP_MAX_ROWS + 1,
	.row = parse_port_row,
	.end = check_other,
};

/* Parse @len bytes of @buf (modified in place); @name is for messages. */
int ts_parse_tr_ports(char *buf, size_t len, const char *name,
		      struct ts_tr_ports *p)
{
	memset(p, 0, sizeof(*p));
	p->source = TS_SRC_MODULE;
	return ts_parse_fixed(buf, len, name, &trp_grammar, &p->netns, p);
}
