// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for /proc/tcpstates_transitions.  Unlike /proc/tcpstates its
 * grammar is fixed (parse_fixed.c): three header lines, then one line
 * per pair of tcpstates_transitions[], in that order, each with a count
 * per family or "- -" for a pair the kernel cannot count.
 * Model layer.  May call: parse_fixed.c, err.c, libc.
 */
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
