// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for /proc/tcpstates.  The format is line based, "key value...",
 * so newer modules can add keys: unknown keys are skipped, but every key
 * this reader knows must be present and well formed, because printing
 * zeros for a file we failed to understand would be a silent lie.
 * Model layer.  May call: err.c, libc.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sample.h"

#define TS_MAX_TOKENS		4
#define TS_HINT	"check that module and reader versions match, or use --source netlink"

struct ts_scalar {
	const char *key;
	size_t off;
	bool optional;
};

#define TS_SCALAR(k) { #k, offsetof(struct ts_sample, k), false }
#define TS_SCALAR_OPT(k) { #k, offsetof(struct ts_sample, k), true }

/*
 * Single-value keys of format version 1.  The optional ones came later
 * (scan_restarts, scan_incomplete): a module has both or neither.
 */
static const struct ts_scalar ts_scalars[] = {
	TS_SCALAR(netns),
	TS_SCALAR(tw_count),
	TS_SCALAR(max_tw_buckets),
	TS_SCALAR(tw_overflow),
	TS_SCALAR(listen_overflows),
	TS_SCALAR(listen_drops),
	TS_SCALAR(syncookies_sent),
	TS_SCALAR(scan_buckets),
	TS_SCALAR(scan_ns),
	TS_SCALAR_OPT(scan_restarts),
	TS_SCALAR_OPT(scan_incomplete),
};

#define TS_NR_SCALARS	ARRAY_SIZE(ts_scalars)

/* Which lines were seen, to reject duplicates and detect missing ones. */
struct ts_seen {
	unsigned long long version;
	bool state_hdr;
	bool total;
	bool state[TCPSTATES_NR_STATES];
	bool scalar[TS_NR_SCALARS];
};

struct ts_line {
	const char *file;
	unsigned int nr;
	char *tok[TS_MAX_TOKENS];
	unsigned int ntok;
};

/* Decimal digits only: strtoull() alone would accept "-1" and " 7". */
int ts_parse_ull(const char *tok, unsigned long long *val)
{
	const char *p;
	char *end;

	if (!*tok)
		return -1;
	for (p = tok; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	*val = strtoull(tok, &end, 10);
	return errno ? -1 : 0;
}

static int bad_line(const struct ts_line *l, const char *what)
{
	ts_err("%s:%u: %s \"%s\"; %s", l->file, l->nr, what, l->tok[0],
	       TS_HINT);
	return -1;
}

/* Parse the first @n values of @l into @vals. */
static int line_values(const struct ts_line *l, unsigned int n,
		       unsigned long long *vals)
{
	unsigned int i;

	if (l->ntok < n + 1)
		return bad_line(l, "too few values for");
	for (i = 0; i < n; i++)
		if (ts_parse_ull(l->tok[i + 1], &vals[i]))
			return bad_line(l, "non-numeric value for");
	return 0;
}

static int parse_header(const struct ts_line *l, struct ts_seen *seen)
{
	unsigned long long *ver = &seen->version;

	if (l->ntok != 2 || strcmp(l->tok[0], "tcpstates") ||
	    ts_parse_ull(l->tok[1], ver) || *ver < 1) {
		ts_err("%s: not a tcpstates file (bad first line); %s",
		       l->file, TS_HINT);
		return -1;
	}
	return 0;
}

/* The column header must start with the two families this reader knows. */
static int parse_state_hdr(const struct ts_line *l, struct ts_seen *seen)
{
	if (seen->state_hdr)
		return bad_line(l, "duplicate line");
	if (l->ntok < 3 || strcmp(l->tok[1], "ipv4") ||
	    strcmp(l->tok[2], "ipv6"))
		return bad_line(l, "unexpected columns in");
	seen->state_hdr = true;
	return 0;
}

static int parse_pair(const struct ts_line *l, bool *seen,
		      unsigned long long *vals)
{
	if (*seen)
		return bad_line(l, "duplicate line");
	*seen = true;
	return line_values(l, TCPSTATES_NR_FAMILIES, vals);
}

int ts_find_state(const char *key)
{
	int i;

	for (i = 0; i < TCPSTATES_NR_STATES; i++)
		if (tcpstates_state_names[i] &&
		    !strcmp(key, tcpstates_state_names[i]))
			return i;
	return -1;
}

static int parse_scalar(const struct ts_line *l, struct ts_seen *seen,
			struct ts_sample *s, unsigned int i)
{
	unsigned long long *val;

	if (seen->scalar[i])
		return bad_line(l, "duplicate line");
	seen->scalar[i] = true;
	val = (unsigned long long *)((char *)s + ts_scalars[i].off);
	return line_values(l, 1, val);
}

static int parse_line(const struct ts_line *l, struct ts_seen *seen,
		      struct ts_sample *s)
{
	const char *key = l->tok[0];
	unsigned int i;
	int st;

	if (!strcmp(key, "state"))
		return parse_state_hdr(l, seen);
	if (!strcmp(key, "total"))
		return parse_pair(l, &seen->total, s->total);
	st = ts_find_state(key);
	if (st >= 0)
		return parse_pair(l, &seen->state[st], s->sockets[st]);
	for (i = 0; i < TS_NR_SCALARS; i++)
		if (!strcmp(key, ts_scalars[i].key))
			return parse_scalar(l, seen, s, i);
	return 0;	/* a key from a newer module: skip it */
}

static int no_line(const char *file, const char *key)
{
	ts_err("%s: missing \"%s\" line; %s", file, key, TS_HINT);
	return -1;
}

/*
 * The total must be the sum of the state lines: exactly in version 1, at
 * least in later versions, which may count a state this reader skips.
 */
static int check_total(const char *file, const struct ts_seen *seen,
		       const struct ts_sample *s)
{
	unsigned long long sum[TCPSTATES_NR_FAMILIES] = { 0 };
	bool bad = false;
	int st, fam;

	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
			sum[fam] += s->sockets[st][fam];
	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
		bad |= seen->version == 1 ? s->total[fam] != sum[fam] :
					    s->total[fam] < sum[fam];
	if (!bad)
		return 0;
	ts_err("%s: \"total %llu %llu\" contradicts the state lines (sum %llu %llu); %s",
	       file, s->total[TCPSTATES_IPV4], s->total[TCPSTATES_IPV6],
	       sum[TCPSTATES_IPV4], sum[TCPSTATES_IPV6], TS_HINT);
	return -1;
}

static int check_complete(const char *file, const struct ts_seen *seen,
			  struct ts_sample *s)
{
	unsigned int i, opt = 0;

	if (!seen->state_hdr)
		return no_line(file, "state");
	for (i = 1; i < TCPSTATES_NR_STATES; i++)
		if (!seen->state[i])
			return no_line(file, tcpstates_state_names[i]);
	if (!seen->total)
		return no_line(file, "total");
	for (i = 0; i < TS_NR_SCALARS; i++) {
		opt += ts_scalars[i].optional && seen->scalar[i];
		if (!seen->scalar[i] && !ts_scalars[i].optional)
			return no_line(file, ts_scalars[i].key);
	}
	for (i = 0; opt && i < TS_NR_SCALARS; i++)
		if (!seen->scalar[i])
			return no_line(file, ts_scalars[i].key);
	s->has_restarts = opt;
	return check_total(file, seen, s);
}

static void tokenize(char *line, struct ts_line *l)
{
	char *save = NULL, *tok;

	l->ntok = 0;
	for (tok = strtok_r(line, " ", &save);
	     tok && l->ntok < TS_MAX_TOKENS;
	     tok = strtok_r(NULL, " ", &save))
		l->tok[l->ntok++] = tok;
}

/* Parse @len bytes of @buf (modified in place); @name is for messages. */
int ts_parse(char *buf, size_t len, const char *name, struct ts_sample *s)
{
	struct ts_seen seen = { 0 };
	struct ts_line l = { .file = name };
	char *line, *nl;

	memset(s, 0, sizeof(*s));
	s->source = TS_SRC_MODULE;
	s->has_scan = true;
	if (!len || buf[len - 1] != '\n' || memchr(buf, '\0', len)) {
		ts_err("%s: truncated or empty file; %s", name, TS_HINT);
		return -1;
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		nl = memchr(line, '\n', buf + len - line);
		*nl = '\0';
		l.nr++;
		tokenize(line, &l);
		if (!l.ntok) {
			ts_err("%s:%u: empty line; %s", name, l.nr, TS_HINT);
			return -1;
		}
		if (l.nr == 1 ? parse_header(&l, &seen) :
				parse_line(&l, &seen, s))
			return -1;
	}
	return check_complete(name, &seen, s);
}

/* Compare ignoring case, '-' and '_': FIN_WAIT1 == fin-wait-1. */
static bool state_name_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-' || *a == '_')
			a++;
		while (*b == '-' || *b == '_')
			b++;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

/*
 * ss's names for sets of states, as misc/ss.c scan_state() defines them,
 * and its spellings of single states that differ from netstat's.
 */
static const struct {
	const char *name;
	unsigned int mask;
} ts_state_sets[] = {
	{ "all", TS_STATES_ALL },
	{ "connected", TS_STATES_ALL & ~(TS_BIT(TCP_CLOSE) | TS_BIT(TCP_LISTEN)) },
	{ "synchronized", TS_STATES_ALL & ~(TS_BIT(TCP_CLOSE) |
		TS_BIT(TCP_LISTEN) | TS_BIT(TCP_SYN_SENT)) },
	{ "bucket", TS_BIT(TCP_SYN_RECV) | TS_BIT(TCP_TIME_WAIT) },
	{ "big", TS_STATES_ALL & ~(TS_BIT(TCP_SYN_RECV) |
		TS_BIT(TCP_TIME_WAIT)) },
	{ "estab", TS_BIT(TCP_ESTABLISHED) },
	{ "syn-rcv", TS_BIT(TCP_SYN_RECV) },
	{ "closed", TS_BIT(TCP_CLOSE) },
	{ "unconn", TS_BIT(TCP_CLOSE) },
	{ "unconnected", TS_BIT(TCP_CLOSE) },
	{ "listening", TS_BIT(TCP_LISTEN) },
};

/* The states @name stands for, as TS_BIT(state) bits; 0 if unknown. */
unsigned int ts_state_mask(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ts_state_sets); i++)
		if (state_name_eq(name, ts_state_sets[i].name))
			return ts_state_sets[i].mask;
	for (i = 1; i < TCPSTATES_NR_STATES; i++)
		if (state_name_eq(name, tcpstates_state_names[i]))
			return TS_BIT(i);
	return 0;
}
