// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for the module's files of fixed grammar, /proc/tcpstates_
 * transitions, /proc/tcpstates_ages and /proc/tcpstates_transitions_ports:
 * "MAGIC VERSION", "netns INODE", a column header, then exactly one row
 * per pair or state, in one order (or rows the grammar checks itself).
 * A count read under the wrong row or column would be a silent lie, so
 * anything else is an error naming the file and the line; the grammar
 * (struct ts_grammar) says what each row holds.
 * Model layer.  May call: parse.c, err.c, libc.
 */
#include <stdio.h>
#include <string.h>

#include "sample.h"

#define TS_FIXED_HEADER	3	/* lines before the first row */

int ts_fixed_bad(const struct ts_fline *l, const char *what)
{
	ts_err("%s:%u: %s; %s", l->file, l->nr, what, l->hint);
	return -1;
}

/* Field @field of @l is a count, or an error naming it. */
int ts_fixed_count(const struct ts_fline *l, unsigned int field,
		   unsigned long long *val)
{
	char msg[80];

	if (!ts_parse_ull(l->tok[field], val))
		return 0;
	snprintf(msg, sizeof(msg), "not a count: \"%.40s\"", l->tok[field]);
	return ts_fixed_bad(l, msg);
}

/* Up to @max fields; one more is counted, not kept: too many. */
static void tokenize(char *line, struct ts_fline *l, unsigned int max)
{
	char *save = NULL, *tok;

	l->ntok = 0;
	for (tok = strtok_r(line, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (l->ntok == max) {
			l->ntok++;
			return;
		}
		l->tok[l->ntok++] = tok;
	}
}

/* Words joined by spaces, each cut at 30 characters, into @buf. */
static void join(char *buf, size_t len, const char * const *words,
		 unsigned int n)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%.30s",
				 i ? " " : "", words[i]);
}

/* Row @i's name, as its first name_fields fields should read. */
static void row_name(const struct ts_grammar *g, unsigned int i, char *buf,
		     size_t len)
{
	const char *names[TS_FIXED_MAX_FIELDS];
	unsigned int f;

	for (f = 0; f < g->name_fields; f++)
		names[f] = g->name(i, f);
	join(buf, len, names, g->name_fields);
}

/*
 * Only this version: the rows, their order and the columns are the
 * version's, so a later one may well put other counts on these lines.
 */
static int parse_magic(const struct ts_fline *l, const struct ts_grammar *g)
{
	unsigned long long ver;
	char msg[80];

	if (l->ntok != 2 || strcmp(l->tok[0], g->magic) ||
	    ts_parse_ull(l->tok[1], &ver)) {
		ts_err("%s: not a %s file (bad first line); %s", l->file,
		       g->magic, g->hint);
		return -1;
	}
	if (ver == g->version)
		return 0;
	snprintf(msg, sizeof(msg), "format version %llu, this reader reads %llu",
		 ver, g->version);
	return ts_fixed_bad(l, msg);
}

static int parse_netns(const struct ts_fline *l, unsigned long long *netns)
{
	if (l->ntok != 2 || strcmp(l->tok[0], "netns") ||
	    ts_parse_ull(l->tok[1], netns))
		return ts_fixed_bad(l, "want \"netns <inode>\"");
	return 0;
}

static int parse_cols(const struct ts_fline *l, const struct ts_grammar *g)
{
	char cols[160], msg[200];
	unsigned int i;

	for (i = 0; i < g->ncols && l->ntok == g->ncols; i++)
		if (strcmp(l->tok[i], g->cols[i]))
			break;
	if (i == g->ncols)
		return 0;
	join(cols, sizeof(cols), g->cols, g->ncols);
	snprintf(msg, sizeof(msg), "want the column header \"%s\"", cols);
	return ts_fixed_bad(l, msg);
}

/* Row @i, and nothing else, on line @l. */
static int parse_row(const struct ts_fline *l, const struct ts_grammar *g,
		     unsigned int i, void *out)
{
	char want[80], got[80], cols[160], msg[320];
	unsigned int f;

	join(cols, sizeof(cols), g->cols, g->ncols);
	if (l->ntok != g->ncols) {
		snprintf(msg, sizeof(msg),
			 "wrong number of fields: want %u, as in \"%s\"",
			 g->ncols, cols);
		return ts_fixed_bad(l, msg);
	}
	for (f = 0; g->name && f < g->name_fields; f++)
		if (strcmp(l->tok[f], g->name(i, f)))
			break;
	if (!g->name || f == g->name_fields)
		return g->row(l, i, out);
	row_name(g, i, want, sizeof(want));
	join(got, sizeof(got), (const char * const *)l->tok, g->name_fields);
	snprintf(msg, sizeof(msg), "want %s \"%s\" here, not \"%s\"",
		 g->row_noun, want, got);
	return ts_fixed_bad(l, msg);
}

static int parse_fline(const struct ts_fline *l, const struct ts_grammar *g,
		       unsigned long long *netns, void *out)
{
	char msg[80];

	if (!l->ntok)
		return ts_fixed_bad(l, "empty line");
	if (l->nr == 1)
		return parse_magic(l, g);
	if (l->nr == 2)
		return parse_netns(l, netns);
	if (l->nr == TS_FIXED_HEADER)
		return parse_cols(l, g);
	if (l->nr <= TS_FIXED_HEADER + g->nrows)
		return parse_row(l, g, l->nr - TS_FIXED_HEADER - 1, out);
	snprintf(msg, sizeof(msg), "a line after the last %s", g->row_noun);
	return ts_fixed_bad(l, msg);
}

/* The row the file stopped short of, if it did, or what end() says. */
static int check_complete(const struct ts_fline *l,
			  const struct ts_grammar *g, void *out)
{
	char want[80];

	if (l->nr < TS_FIXED_HEADER) {
		ts_err("%s: no column header line; %s", l->file, g->hint);
		return -1;
	}
	if (g->end)
		return g->end(l, out);
	if (l->nr >= TS_FIXED_HEADER + g->nrows)
		return 0;
	row_name(g, l->nr - TS_FIXED_HEADER, want, sizeof(want));
	ts_err("%s: missing %s \"%s\" (the file ends at line %u); %s",
	       l->file, g->row_noun, want, l->nr, g->hint);
	return -1;
}

/*
 * Parse @len bytes of @buf (modified in place) as @g says, the netns
 * into @netns and each row through g->row() into @out; @name is for
 * messages.  g->ncols is at most TS_FIXED_MAX_FIELDS.
 */
int ts_parse_fixed(char *buf, size_t len, const char *name,
		   const struct ts_grammar *g, unsigned long long *netns,
		   void *out)
{
	struct ts_fline l = { .file = name, .hint = g->hint };
	char *line, *nl;

	if (!len || buf[len - 1] != '\n' || memchr(buf, '\0', len)) {
		ts_err("%s: truncated or empty file; %s", name, g->hint);
		return -1;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = memchr(line, '\n', buf + len - line);
		*nl = '\0';
		l.nr++;
		tokenize(line, &l, g->ncols);
		if (parse_fline(&l, g, netns, out))
			return -1;
	}
	return check_complete(&l, g, out);
}
