// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, views layer: which rows of the --all-netns and
 * --ports tables to show, and in what order.  Rank the rows, keep the
 * top N.
 *
 * Ranking: --ports rows by their count in the shown states (-s) or by
 * their total, largest first, rows with none of the shown states left
 * out; --all-netns rows by namespace inode, or ranked like ports when
 * --top is given; --close-wait rows by their oldest socket's age, then
 * by how many; --transitions --ports rows, with --top, by the connections
 * that entered the shown states.  Ties keep the file order.
 * May call: the model layer (sample.h), libc.
 */
#include <stdlib.h>

#include "view.h"

static int rank_cmp(const void *a, const void *b)
{
	const struct ts_row *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->out != y->out)
		return x->out ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* How far up @r goes: 0 leaves a --ports row out. */
static unsigned long long rank_of(const struct ts_table *t,
				  const struct ts_row *r, const bool *show,
				  bool filtered)
{
	unsigned long long rank = filtered ? 0 : r->total;
	int st;

	if (t->mode == TS_MODE_CLOSE_WAIT)
		return r->oldest;
	for (st = 1; filtered && st < TCPSTATES_NR_STATES; st++)
		if (show[st])
			rank += r->sockets[st];
	return rank;
}

static void rank_rows(struct ts_table *t, const bool *show, bool filtered)
{
	size_t i, kept = 0;

	for (i = 0; i < t->nrows; i++) {
		struct ts_row *r = &t->rows[i];

		r->rank = rank_of(t, r, show, filtered);
		if (r->rank || t->mode != TS_MODE_PORTS)
			t->rows[kept++] = *r;
	}
	t->nrows = kept;
	if (t->nrows)
		qsort(t->rows, t->nrows, sizeof(*t->rows), rank_cmp);
}

/*
 * Rank @t's rows by the states in @show (@filtered: -s given) when it is
 * --ports or @top is given, and keep the first @top (0: all).
 */
void ts_rank_table(struct ts_table *t, const bool *show, bool filtered,
		   unsigned long top)
{
	if (ts_by_port(t->mode) || top)
		rank_rows(t, show, filtered);
	if (top && t->nrows > top)
		t->nrows = top;
}

/* The connections that entered @r's shown, counted columns. */
static unsigned long long tr_port_total(const struct ts_tr_ports *p,
					const struct ts_tr_port *r,
					const bool *show)
{
	unsigned long long sum = 0;
	unsigned int c;

	for (c = 0; c < TS_TRP_NR_COLS; c++)
		if (p->counted[c] && show[ts_trp_states[c]])
			sum += r->entered[c];
	return sum;
}

/*
 * --transitions --ports: which of @p's rows to print, in what order, as
 * indexes into p->rows in @idx: every row in the file's order, or with
 * @top the @top rows with the largest total, ties in the file's order
 * (an insertion sort: stable, and 127 rows at most).  The rows stay as
 * they are: the next sample's rates look them up.  Returns how many.
 */
size_t ts_rank_tr_ports(const struct ts_tr_ports *p, const bool *show,
			unsigned long top, unsigned int *idx)
{
	unsigned long long total[TS_TRP_MAX_ROWS];
	unsigned int i, j, k;

	for (i = 0; i < p->nrows; i++) {
		total[i] = tr_port_total(p, &p->rows[i], show);
		k = i;
		for (j = i; top && j > 0 && total[idx[j - 1]] < total[k]; j--)
			idx[j] = idx[j - 1];
		idx[j] = k;
	}
	return top && top < p->nrows ? top : p->nrows;
}
