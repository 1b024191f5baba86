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
 * by how many.  Ties keep the file order.
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
