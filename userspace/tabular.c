// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for the module's tabular files, /proc/tcpstates_all (a row per
 * network namespace), /proc/tcpstates_ports (a row per direction and
 * service port) and /proc/tcpstates_close_wait (the rows of _ports that
 * hold CLOSE_WAIT sockets: their count, "sockets", and the oldest's
 * age).  A column header line names the columns; a header token "<x>" is
 * a placeholder: the row repeats the word before it and puts a value in
 * its place ("netns <inode>" over "netns 4026531840").
 *
 * Columns are found by name, so a newer module may add columns (a new
 * state): they are checked to be numbers and ignored.  Every row must
 * have exactly as many fields as the header, and every value this reader
 * knows must be a number, or the whole file is an error.  Also the
 * table's rows: added, sorted, grouped.
 * Model layer.  May call: parse.c, err.c, libc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

#define TS_MAX_COLS	64
#define TS_TAB_HINT	"check that module and reader versions match"

/* Fields of struct ts_row a column can fill. */
enum {
	TS_F_KEY,
	TS_F_TW,
	TS_F_MAX,
	TS_F_OLDEST,
	TS_F_STATE0,	/* + state number: TS_F_STATE0 + 1 is ESTABLISHED */
	TS_NR_FIELDS = TS_F_STATE0 + TCPSTATES_NR_STATES,
};

enum ts_col_kind {
	TS_COL_NUM,	/* a number, stored in field (ignored if < 0) */
	TS_COL_WORD,	/* the row repeats the header's word */
	TS_COL_DIR,	/* "in" or "out" */
};

struct ts_col {
	enum ts_col_kind kind;
	const char *word;
	int field;
};

struct ts_cols {
	struct ts_col col[TS_MAX_COLS];
	unsigned int n;
};

struct ts_tline {
	const char *file;
	unsigned int nr;
	char *tok[TS_MAX_COLS];
	unsigned int ntok;
};

static const char * const ts_magic[] = {
	[TS_MODE_ALL] = "tcpstates_all",
	[TS_MODE_PORTS] = "tcpstates_ports",
	[TS_MODE_CLOSE_WAIT] = "tcpstates_close_wait",
};

/* _ports and _close_wait: a netns line, rows by direction and port. */
bool ts_by_port(enum ts_mode mode)
{
	return mode == TS_MODE_PORTS || mode == TS_MODE_CLOSE_WAIT;
}

static int bad(const struct ts_tline *l, const char *what)
{
	ts_err("%s:%u: %s; %s", l->file, l->nr, what, TS_TAB_HINT);
	return -1;
}

static unsigned long long *row_field(struct ts_row *r, int f)
{
	if (f == TS_F_KEY)
		return &r->key;
	if (f == TS_F_TW)
		return &r->tw_count;
	if (f == TS_F_MAX)
		return &r->max_tw_buckets;
	if (f == TS_F_OLDEST)
		return &r->oldest;
	return &r->sockets[f - TS_F_STATE0];
}

static int field_of(enum ts_mode mode, const char *name)
{
	int st;

	if (!strcmp(name, mode == TS_MODE_ALL ? "netns" : "port"))
		return TS_F_KEY;
	if (mode == TS_MODE_ALL && !strcmp(name, "tw_count"))
		return TS_F_TW;
	if (mode == TS_MODE_ALL && !strcmp(name, "max_tw_buckets"))
		return TS_F_MAX;
	if (mode == TS_MODE_CLOSE_WAIT)
		return !strcmp(name, "sockets") ? TS_F_STATE0 + TCP_CLOSE_WAIT :
		       !strcmp(name, "oldest_seconds") ? TS_F_OLDEST : -1;
	st = ts_find_state(name);
	return st > 0 ? TS_F_STATE0 + st : -1;
}

static const char *field_name(enum ts_mode mode, int f)
{
	if (f == TS_F_KEY)
		return mode == TS_MODE_ALL ? "netns" : "port";
	if (f == TS_F_TW)
		return "tw_count";
	if (f == TS_F_MAX)
		return "max_tw_buckets";
	if (f == TS_F_OLDEST)
		return "oldest_seconds";
	if (mode == TS_MODE_CLOSE_WAIT)
		return "sockets";
	return tcpstates_state_names[f - TS_F_STATE0];
}

/* Whether field @f must have a column in @mode's header. */
static bool required(enum ts_mode mode, int f)
{
	if (f == TS_F_KEY)
		return true;
	if (mode == TS_MODE_CLOSE_WAIT)
		return f == TS_F_OLDEST || f == TS_F_STATE0 + TCP_CLOSE_WAIT;
	if (f == TS_F_TW || f == TS_F_MAX)
		return mode == TS_MODE_ALL;
	return f > TS_F_STATE0;
}

static int check_cols(const struct ts_tline *l, enum ts_mode mode,
		      const bool *seen, bool dir)
{
	char msg[80];
	int f;

	for (f = 0; f < TS_NR_FIELDS; f++) {
		if (seen[f] || !required(mode, f))
			continue;
		snprintf(msg, sizeof(msg), "no \"%s\" column in the header",
			 field_name(mode, f));
		return bad(l, msg);
	}
	if (ts_by_port(mode) && !dir)
		return bad(l, "no \"direction\" column in the header");
	return 0;
}

/* Describe column @i of the header line @l in @col. */
static void parse_col(const struct ts_tline *l, enum ts_mode mode,
		      unsigned int i, struct ts_col *col)
{
	const char *name = l->tok[i];

	col->word = name;
	col->field = -1;
	if (i + 1 < l->ntok && l->tok[i + 1][0] == '<')
		col->kind = TS_COL_WORD;
	else if (ts_by_port(mode) && !strcmp(name, "direction"))
		col->kind = TS_COL_DIR;
	else
		col->kind = TS_COL_NUM;
	if (name[0] == '<' && i)
		name = l->tok[i - 1];
	if (col->kind == TS_COL_NUM)
		col->field = field_of(mode, name);
}

static int parse_cols(const struct ts_tline *l, enum ts_mode mode,
		      struct ts_cols *c)
{
	bool seen[TS_NR_FIELDS] = { false }, dir = false;
	struct ts_col *col;
	unsigned int i;

	for (i = 0; i < l->ntok; i++) {
		col = &c->col[i];
		parse_col(l, mode, i, col);
		if (col->kind == TS_COL_DIR && dir)
			return bad(l, "duplicate column \"direction\"");
		dir |= col->kind == TS_COL_DIR;
		if (col->field < 0)
			continue;
		if (seen[col->field])
			return bad(l, "duplicate column in the header");
		seen[col->field] = true;
	}
	c->n = l->ntok;
	return check_cols(l, mode, seen, dir);
}

static int parse_cell(const struct ts_tline *l, const struct ts_col *col,
		      const char *tok, struct ts_row *r)
{
	unsigned long long v;

	switch (col->kind) {
	case TS_COL_WORD:
		if (strcmp(tok, col->word))
			return bad(l, "field does not match the column header");
		return 0;
	case TS_COL_DIR:
		r->out = !strcmp(tok, "out");
		if (!r->out && strcmp(tok, "in"))
			return bad(l, "direction is neither \"in\" nor \"out\"");
		return 0;
	default:
		if (ts_parse_ull(tok, &v))
			return bad(l, "non-numeric value");
		if (col->field >= 0)
			*row_field(r, col->field) = v;
		return 0;
	}
}

static int parse_row(const struct ts_tline *l, const struct ts_cols *c,
		     struct ts_table *t)
{
	struct ts_row *r;
	unsigned int i;
	int st;

	if (l->ntok != c->n)
		return bad(l, "wrong number of fields");
	r = ts_table_add(t);
	if (!r)
		return bad(l, "out of memory");
	for (i = 0; i < c->n; i++)
		if (parse_cell(l, &c->col[i], l->tok[i], r))
			return -1;
	if (ts_by_port(t->mode) && r->key > TS_MAX_PORT)
		return bad(l, "port out of range");
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		r->total += r->sockets[st];
	return 0;
}

static int parse_magic(const struct ts_tline *l, enum ts_mode mode)
{
	unsigned long long ver;

	if (l->ntok != 2 || strcmp(l->tok[0], ts_magic[mode]) ||
	    ts_parse_ull(l->tok[1], &ver) || ver < 1) {
		ts_err("%s: not a %s file (bad first line); %s", l->file,
		       ts_magic[mode], TS_TAB_HINT);
		return -1;
	}
	return 0;
}

static int parse_netns(const struct ts_tline *l, struct ts_table *t)
{
	if (l->ntok != 2 || strcmp(l->tok[0], "netns") ||
	    ts_parse_ull(l->tok[1], &t->netns))
		return bad(l, "want \"netns <inode>\"");
	return 0;
}

static int tokenize(char *line, struct ts_tline *l)
{
	char *save = NULL, *tok;

	l->ntok = 0;
	for (tok = strtok_r(line, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (l->ntok == TS_MAX_COLS)
			return bad(l, "too many fields");
		l->tok[l->ntok++] = tok;
	}
	return l->ntok ? 0 : bad(l, "empty line");
}

/* Line @l->nr: magic, ports' netns line, column header, then rows. */
static int parse_tline(const struct ts_tline *l, struct ts_cols *c,
		       struct ts_table *t)
{
	unsigned int hdr = ts_by_port(t->mode) ? 3 : 2;

	if (l->nr == 1)
		return parse_magic(l, t->mode);
	if (l->nr < hdr)
		return parse_netns(l, t);
	if (l->nr == hdr)
		return parse_cols(l, t->mode, c);
	return parse_row(l, c, t);
}

static int row_cmp(const void *a, const void *b)
{
	const struct ts_row *x = a, *y = b;

	if (x->out != y->out)
		return x->out ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

struct ts_row *ts_table_add(struct ts_table *t)
{
	struct ts_row *rows;

	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		rows = realloc(t->rows, t->cap * sizeof(*rows));
		if (!rows)
			return NULL;
		t->rows = rows;
	}
	memset(&t->rows[t->nrows], 0, sizeof(*t->rows));
	return &t->rows[t->nrows++];
}

/* Sort rows by (direction, key) and reject duplicates. */
int ts_table_finish(struct ts_table *t, const char *name)
{
	size_t i;

	if (t->nrows)
		qsort(t->rows, t->nrows, sizeof(*t->rows), row_cmp);
	for (i = 1; i < t->nrows; i++) {
		if (row_cmp(&t->rows[i - 1], &t->rows[i]))
			continue;
		ts_err("%s: duplicate row for %s %llu; %s", name,
		       t->mode == TS_MODE_ALL ? "netns" :
		       t->rows[i].out ? "out" : "in",
		       t->rows[i].key, TS_TAB_HINT);
		return -1;
	}
	return 0;
}

static int parse_lines(char *buf, size_t len, const char *name,
		       struct ts_table *t)
{
	struct ts_tline l = { .file = name };
	struct ts_cols *c;
	char *line, *nl;
	int ret = 0;

	c = malloc(sizeof(*c));
	if (!c) {
		ts_err("%s: out of memory", name);
		return -1;
	}
	for (line = buf; line < buf + len && !ret; line = nl + 1) {
		nl = memchr(line, '\n', buf + len - line);
		*nl = '\0';
		l.nr++;
		ret = tokenize(line, &l);
		if (!ret)
			ret = parse_tline(&l, c, t);
	}
	free(c);
	if (!ret && l.nr < (ts_by_port(t->mode) ? 3U : 2U)) {
		ts_err("%s: no column header line; %s", name, TS_TAB_HINT);
		ret = -1;
	}
	return ret;
}

/* Parse @buf (modified in place) into @t; t->mode says which file. */
int ts_parse_table(char *buf, size_t len, const char *name,
		   struct ts_table *t)
{
	t->source = TS_SRC_MODULE;
	t->rows = NULL;
	t->nrows = 0;
	t->cap = 0;
	t->netns = 0;
	if (!len || buf[len - 1] != '\n' || memchr(buf, '\0', len)) {
		ts_err("%s: truncated or empty file; %s", name, TS_TAB_HINT);
		return -1;
	}
	if (parse_lines(buf, len, name, t) || ts_table_finish(t, name)) {
		free(t->rows);
		t->rows = NULL;
		return -1;
	}
	return 0;
}

/* The --ports group of @r, as struct ts_sock and struct ts_proc have it. */
unsigned int ts_row_group(const struct ts_row *r)
{
	return (r->out ? TS_OUT : 0) + (unsigned int)r->key;
}
