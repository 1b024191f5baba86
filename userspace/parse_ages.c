// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for /proc/tcpstates_ages, a grammar as fixed as _transitions'
 * (parse_fixed.c): three header lines, then one line per state in
 * /proc/tcpstates's order, each with a count per age column, or "-" in
 * every column for a state that has no age (LISTEN).
 * Model layer.  May call: parse_fixed.c, err.c, libc.
 */
#include <string.h>

#include "sample.h"

/*
 * The column header, as the module prints it: "state", then the ages of
 * tcpstates_ages.h, copied in at the first parse.
 */
static const char *ages_cols[1 + TS_NR_AGES] = { "state" };

/* The age columns' names, for the table's heading. */
const char * const *const ts_age_names = tcpstates_age_names;

/* Row @i is state @i + 1: the file starts at ESTABLISHED. */
static const char *state_name(unsigned int i, unsigned int field)
{
	(void)field;
	return tcpstates_state_names[i + 1];
}

static unsigned int count_dashes(const struct ts_fline *l)
{
	unsigned int f, n = 0;

	for (f = 1; f < l->ntok; f++)
		n += !strcmp(l->tok[f], "-");
	return n;
}

/* Every column counted, or none ("-"): never some of them. */
static int parse_ages_row(const struct ts_fline *l, unsigned int i, void *out)
{
	unsigned int dashes = count_dashes(l), st = i + 1, col;
	struct ts_ages *a = out;

	if (dashes && dashes != TS_NR_AGES)
		return ts_fixed_bad(l, "\"-\" in some columns only");
	a->aged[st] = !dashes;
	for (col = 0; a->aged[st] && col < TS_NR_AGES; col++)
		if (ts_fixed_count(l, 1 + col, &a->sockets[st][col]))
			return -1;
	return 0;
}

static const struct ts_grammar ages_grammar = {
	.magic = "tcpstates_ages",
	.version = TS_AGES_VERSION,
	.cols = ages_cols,
	.ncols = ARRAY_SIZE(ages_cols),
	.name_fields = 1,
	.row_noun = "state",
	.hint = "check that module and reader versions match",
	.nrows = TCPSTATES_NR_STATES - 1,
	.name = state_name,
	.row = parse_ages_row,
};

/* Parse @len bytes of @buf (modified in place); @name is for messages. */
int ts_parse_ages(char *buf, size_t len, const char *name, struct ts_ages *a)
{
	memset(a, 0, sizeof(*a));
	a->source = TS_SRC_MODULE;
	if (!ages_cols[1])
		memcpy(ages_cols + 1, tcpstates_age_names,
		       sizeof(tcpstates_age_names));
	return ts_parse_fixed(buf, len, name, &ages_grammar, &a->netns, a);
}
