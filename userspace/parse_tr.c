// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for /proc/tcpstates_transitions.  Unlike /proc/tcpstates its
 * grammar is fixed: three header lines, then one line per pair of
 * tcpstates_transitions[], in that order.  A count read under the wrong
 * pair would be a silent lie about how connections move, so anything
 * else is an error naming the file and the line.
 * Model layer.  May call: parse.c, err.c, libc.
 */
#include <stdio.h>
#include <string.h>

#include "sample.h"

#define TS_TR_HINT	"check that module and reader versions match"
#define TS_TR_FIELDS	4	/* from to ipv4 ipv6 */
#define TS_TR_HEADER	3	/* lines before the first pair */
#define TS_TR_LINES	(TS_TR_HEADER + TCPSTATES_NR_TRANSITIONS)

struct ts_trline {
	const char *file;
	unsigned int nr;
	char *tok[TS_TR_FIELDS];
	unsigned int ntok;		/* TS_TR_FIELDS + 1: too many */
};

static int bad(const struct ts_trline *l, const char *what)
{
	ts_err("%s:%u: %s; %s", l->file, l->nr, what, TS_TR_HINT);
	return -1;
}

static void tokenize(char *line, struct ts_trline *l)
{
	char *save = NULL, *tok;

	l->ntok = 0;
	for (tok = strtok_r(line, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (l->ntok == TS_TR_FIELDS) {
			l->ntok++;
			return;
		}
		l->tok[l->ntok++] = tok;
	}
}

/*
 * Only version 1: the pairs and their order are the version's, so a
 * later one may well put other counts on these lines.
 */
static int parse_magic(const struct ts_trline *l)
{
	unsigned long long ver;
	char msg[80];

	if (l->ntok != 2 || strcmp(l->tok[0], "tcpstates_transitions") ||
	    ts_parse_ull(l->tok[1], &ver)) {
		ts_err("%s: not a tcpstates_transitions file (bad first line); %s",
		       l->file, TS_TR_HINT);
		return -1;
	}
	if (ver == TCPSTATES_TRANSITIONS_VERSION)
		return 0;
	snprintf(msg, sizeof(msg), "format version %llu, this reader reads %d",
		 ver, TCPSTATES_TRANSITIONS_VERSION);
	return bad(l, msg);
}

static int parse_netns(const struct ts_trline *l, struct ts_transitions *tr)
{
	if (l->ntok != 2 || strcmp(l->tok[0], "netns") ||
	    ts_parse_ull(l->tok[1], &tr->netns))
		return bad(l, "want \"netns <inode>\"");
	return 0;
}

static int parse_cols(const struct ts_trline *l)
{
	static const char * const cols[TS_TR_FIELDS] = {
		"from", "to", "ipv4", "ipv6",
	};
	unsigned int i;

	for (i = 0; i < TS_TR_FIELDS && l->ntok == TS_TR_FIELDS; i++)
		if (strcmp(l->tok[i], cols[i]))
			break;
	if (i < TS_TR_FIELDS)
		return bad(l, "want the column header \"from to ipv4 ipv6\"");
	return 0;
}

/* Both families counted, or neither ("- -"): never one of the two. */
static int parse_counts(const struct ts_trline *l, unsigned int i,
			struct ts_transitions *tr)
{
	bool none4 = !strcmp(l->tok[2], "-"), none6 = !strcmp(l->tok[3], "-");
	char msg[80];
	int fam;

	if (none4 != none6)
		return bad(l, "\"-\" for one family only");
	tr->counted[i] = !none4;
	for (fam = 0; tr->counted[i] && fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (!ts_parse_ull(l->tok[2 + fam], &tr->moves[i][fam]))
			continue;
		snprintf(msg, sizeof(msg), "not a count: \"%.40s\"",
			 l->tok[2 + fam]);
		return bad(l, msg);
	}
	return 0;
}

/* Pair @i of tcpstates_transitions[], and nothing else, on line @l. */
static int parse_pair(const struct ts_trline *l, unsigned int i,
		      struct ts_transitions *tr)
{
	const char *from = tcpstates_state_names[tcpstates_transitions[i].from];
	const char *to = tcpstates_state_names[tcpstates_transitions[i].to];
	char msg[160];

	if (l->ntok != TS_TR_FIELDS)
		return bad(l, "want \"FROM TO IPV4 IPV6\": wrong number of fields");
	if (!strcmp(l->tok[0], from) && !strcmp(l->tok[1], to))
		return parse_counts(l, i, tr);
	snprintf(msg, sizeof(msg), "want pair \"%s %s\" here, not \"%.30s %.30s\"",
		 from, to, l->tok[0], l->tok[1]);
	return bad(l, msg);
}

static int parse_trline(const struct ts_trline *l, struct ts_transitions *tr)
{
	if (!l->ntok)
		return bad(l, "empty line");
	if (l->nr == 1)
		return parse_magic(l);
	if (l->nr == 2)
		return parse_netns(l, tr);
	if (l->nr == TS_TR_HEADER)
		return parse_cols(l);
	if (l->nr > TS_TR_LINES)
		return bad(l, "a line after the last pair");
	return parse_pair(l, l->nr - TS_TR_HEADER - 1, tr);
}

/* The pair the file stopped short of, if it did. */
static int check_complete(const struct ts_trline *l)
{
	const struct tcpstates_transition *t;

	if (l->nr >= TS_TR_LINES)
		return 0;
	if (l->nr < TS_TR_HEADER) {
		ts_err("%s: no column header line; %s", l->file, TS_TR_HINT);
		return -1;
	}
	t = &tcpstates_transitions[l->nr - TS_TR_HEADER];
	ts_err("%s: missing pair \"%s %s\" (the file ends at line %u); %s",
	       l->file, tcpstates_state_names[t->from],
	       tcpstates_state_names[t->to], l->nr, TS_TR_HINT);
	return -1;
}

/* Parse @len bytes of @buf (modified in place); @name is for messages. */
int ts_parse_transitions(char *buf, size_t len, const char *name,
			 struct ts_transitions *tr)
{
	struct ts_trline l = { .file = name };
	char *line, *nl;

	memset(tr, 0, sizeof(*tr));
	tr->source = TS_SRC_MODULE;
	if (!len || buf[len - 1] != '\n' || memchr(buf, '\0', len)) {
		ts_err("%s: truncated or empty file; %s", name, TS_TR_HINT);
		return -1;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = memchr(line, '\n', buf + len - line);
		*nl = '\0';
		l.nr++;
		tokenize(line, &l);
		if (parse_trline(&l, tr))
			return -1;
	}
	return check_complete(&l);
}
