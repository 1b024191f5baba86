// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, output layer: --ages, the module's counts of sockets
 * by state and age column, as a table, JSON or Prometheus gauges of the
 * sockets at least so old (min_age_seconds), so that "CLOSE_WAIT sockets
 * older than an hour" is one sample in PromQL.  A state without an age
 * (LISTEN) prints "-" (JSON null, no Prometheus sample), never 0: it is
 * not young.
 * May call: the views layer (view.h) and below, output.c, libc.
 */
#include <stdio.h>

#include "output.h"

#define TS_AGES_METRIC	"tcpstates_sockets_aged"
#define TS_AGE_WIDTH	7	/* 11 states' names and 8 columns: 76 wide */

/* Per column: its JSON key and its lower bound in seconds. */
static const struct {
	const char *key;
	const char *min;
} ts_age_cols[TS_NR_AGES] = {
	{ "lt_1s", "0" },
	{ "lt_10s", "1" },
	{ "lt_1m", "10" },
	{ "lt_10m", "60" },
	{ "lt_1h", "600" },
	{ "lt_1d", "3600" },
	{ "ge_1d", "86400" },
};

/* Every socket is in one column: the row's sum is the state's count. */
static unsigned long long state_total(const struct ts_ages *a, int st)
{
	unsigned long long sum = 0;
	unsigned int col;

	for (col = 0; col < TS_NR_AGES; col++)
		sum += a->sockets[st][col];
	return sum;
}

/* ---- table ---- */

static void table_header(void)
{
	unsigned int col;

	printf("%-12s", "State");
	for (col = 0; col < TS_NR_AGES; col++)
		printf(" %*s", TS_AGE_WIDTH, ts_age_names[col]);
	printf(" %*s\n", TS_AGE_WIDTH, "Total");
}

static void table_cell(bool aged, unsigned long long n)
{
	if (aged)
		printf(" %*llu", TS_AGE_WIDTH, n);
	else
		printf(" %*s", TS_AGE_WIDTH, "-");
}

static void table_row(const struct ts_ages *a, int st)
{
	unsigned int col;

	printf("%-12s", tcpstates_state_names[st]);
	for (col = 0; col < TS_NR_AGES; col++)
		table_cell(a->aged[st], a->sockets[st][col]);
	table_cell(a->aged[st], state_total(a, st));
	printf("\n");
}

static void print_table(const struct ts_ages_view *v)
{
	int st;

	if (v->watch)
		ts_put_time_line(&v->cur->wall);
	if (!v->no_header)
		table_header();
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		if (v->show[st])
			table_row(v->cur, st);
	printf("Source: %s, netns %llu\n", ts_source_name(v->cur->source),
	       v->cur->netns);
}

/* ---- JSON ---- */

/* {"lt_1s":N,...,"ge_1d":N,"total":N}, or null without an age */
static void json_state(const struct ts_ages *a, int st)
{
	unsigned int col;

	if (!a->aged[st]) {
		printf("null");
		return;
	}
	for (col = 0; col < TS_NR_AGES; col++)
		printf("%s\"%s\":%llu", col ? "," : "{", ts_age_cols[col].key,
		       a->sockets[st][col]);
	printf(",\"total\":%llu}", state_total(a, st));
}

static void print_json(const struct ts_ages_view *v)
{
	const char *sep = "";
	int st;

	ts_put_json_head(&v->cur->wall, v->cur->source, v->cur->netns);
	printf(",\"ages\":{");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		if (!v->show[st])
			continue;
		printf("%s\"%s\":", sep, tcpstates_state_names[st]);
		json_state(v->cur, st);
		sep = ",";
	}
	printf("}}\n");
}

/* ---- Prometheus ---- */

/*
 * State @st's sockets at least each column's lower bound old: summed
 * from the oldest column, so min_age_seconds="0" is all of the state.
 */
static void prom_state(const struct ts_ages *a, int st)
{
	unsigned long long older[TS_NR_AGES], sum = 0;
	int col;

	for (col = TS_NR_AGES - 1; col >= 0; col--) {
		sum += a->sockets[st][col];
		older[col] = sum;
	}
	for (col = 0; col < TS_NR_AGES; col++) {
		ts_prom_open(TS_AGES_METRIC, a->netns);
		printf(",state=\"");
		ts_put_lower(tcpstates_state_names[st]);
		printf("\",min_age_seconds=\"%s\"} %llu\n", ts_age_cols[col].min,
		       older[col]);
	}
}

/*
 * A gauge of sockets there now (they go down as well as up), not a
 * histogram: no "le", which promtool keeps for histograms, and the
 * question an alert asks ("any CLOSE_WAIT older than an hour?") is one
 * sample.  No tcpstates_info, as for --transitions: next to the
 * per-state file of the same namespace it would be a duplicate series.
 */
static void print_prom(const struct ts_ages_view *v)
{
	int st;

	ts_prom_head(TS_AGES_METRIC,
		     "TCP sockets by state in it for at least min_age_seconds (\"0\": all of the state); states without an age (LISTEN) are left out.",
		     "gauge");
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		if (v->show[st] && v->cur->aged[st])
			prom_state(v->cur, st);
}

void ts_print_ages(enum ts_format fmt, const struct ts_ages_view *v)
{
	if (fmt == TS_FMT_JSON)
		print_json(v);
	else if (fmt == TS_FMT_PROM)
		print_prom(v);
	else
		print_table(v);
}
