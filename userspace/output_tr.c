// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, output layer: --transitions, the module's counts of
 * each move of TCP's state diagram, as a table, JSON or Prometheus
 * counters, and in watch mode each pair's moves per second.  A pair the
 * kernel cannot count prints "-" (JSON null, no Prometheus sample),
 * never 0: a rate alert on a pair nobody counts must not look calm.
 * May call: the views layer (view.h) and below, output.c, libc.
 */
#include <stdio.h>

#include "output.h"

#define TS_TR_METRIC	"tcpstates_transitions_total"

static const char *from_name(unsigned int i)
{
	return tcpstates_state_names[tcpstates_transitions[i].from];
}

static const char *to_name(unsigned int i)
{
	return tcpstates_state_names[tcpstates_transitions[i].to];
}

/* -s keeps the pairs that leave or reach a shown state. */
static bool pair_shown(const struct ts_tr_view *v, unsigned int i)
{
	const struct tcpstates_transition *t = &tcpstates_transitions[i];

	return v->show[t->from] || v->show[t->to];
}

static bool fam_shown(const struct ts_tr_view *v, int fam)
{
	return v->fams & TS_BIT(fam);
}

static double interval(const struct ts_tr_view *v)
{
	return ts_seconds(&v->cur->mono) - ts_seconds(&v->prev->mono);
}

/*
 * Moves per second since the previous sample, false when there is no
 * rate to give: the first sample, or a pair not counted in either.  A
 * count that went back started again from 0 (the module reloaded).
 */
static bool pair_rate(const struct ts_tr_view *v, unsigned int i, int fam,
		      double *rate)
{
	unsigned long long cur, prev;
	double secs;

	if (!v->prev || !v->cur->counted[i] || !v->prev->counted[i])
		return false;
	cur = v->cur->moves[i][fam];
	prev = v->prev->moves[i][fam];
	secs = interval(v);
	*rate = secs > 0 ? (cur >= prev ? cur - prev : cur) / secs : 0;
	return true;
}

/* ---- table ---- */

static void table_header(const struct ts_tr_view *v)
{
	static const char * const rnames[] = { "IPv4/s", "IPv6/s" };

	printf("%-12s %-12s", "From", "To");
	ts_put_family_headings(v->fams, v->watch, rnames);
	printf("\n");
}

static void table_count(bool counted, unsigned long long n)
{
	if (counted)
		printf(" %10llu", n);
	else
		printf(" %10s", "-");
}

static void table_row(const struct ts_tr_view *v, unsigned int i)
{
	const unsigned long long *n = v->cur->moves[i];
	bool counted = v->cur->counted[i];
	double rate;
	int fam;

	printf("%-12s %-12s", from_name(i), to_name(i));
	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
		if (fam_shown(v, fam))
			table_count(counted, n[fam]);
	if (v->fams == TS_FAMS_ALL)
		table_count(counted, n[TCPSTATES_IPV4] + n[TCPSTATES_IPV6]);
	for (fam = 0; v->watch && fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (!fam_shown(v, fam))
			continue;
		if (pair_rate(v, i, fam, &rate))
			printf(" %10.1f", rate);
		else
			printf(" %10s", "-");
	}
	printf("\n");
}

static void print_table(const struct ts_tr_view *v)
{
	unsigned int i;

	if (v->watch)
		ts_put_time_line(&v->cur->wall);
	if (!v->no_header)
		table_header(v);
	for (i = 0; i < TCPSTATES_NR_TRANSITIONS; i++)
		if (pair_shown(v, i))
			table_row(v, i);
	printf("Source: %s, netns %llu\n", ts_source_name(v->cur->source),
	       v->cur->netns);
}

/* ---- JSON ---- */

/* "ipv4":N,"ipv6":N of the shown families, null where not counted */
static void json_counts(const struct ts_tr_view *v, unsigned int i)
{
	int fam;

	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (!fam_shown(v, fam))
			continue;
		printf(",\"%s\":", ts_family_names[fam]);
		if (v->cur->counted[i])
			printf("%llu", v->cur->moves[i][fam]);
		else
			printf("null");
	}
}

/* ,"rates":{"ipv4":R,"ipv6":R}, null where there is no rate */
static void json_rates(const struct ts_tr_view *v, unsigned int i)
{
	const char *sep = "";
	double rate;
	int fam;

	printf(",\"rates\":{");
	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (!fam_shown(v, fam))
			continue;
		printf("%s\"%s\":", sep, ts_family_names[fam]);
		if (pair_rate(v, i, fam, &rate))
			printf("%.3f", rate);
		else
			printf("null");
		sep = ",";
	}
	printf("}");
}

static void print_json(const struct ts_tr_view *v)
{
	const char *sep = "";
	unsigned int i;

	ts_put_json_head(&v->cur->wall, v->cur->source, v->cur->netns);
	if (v->prev)
		printf(",\"interval\":%.3f", interval(v));
	printf(",\"transitions\":[");
	for (i = 0; i < TCPSTATES_NR_TRANSITIONS; i++) {
		if (!pair_shown(v, i))
			continue;
		printf("%s{\"from\":\"%s\",\"to\":\"%s\"", sep, from_name(i),
		       to_name(i));
		json_counts(v, i);
		if (v->prev)
			json_rates(v, i);
		printf("}");
		sep = ",";
	}
	printf("]}\n");
}

/* ---- Prometheus ---- */

/* Pair @i's samples, one per shown family. */
static void prom_pair(const struct ts_tr_view *v, unsigned int i)
{
	int fam;

	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (!fam_shown(v, fam))
			continue;
		ts_prom_open(TS_TR_METRIC, v->cur->netns);
		printf(",from=\"");
		ts_put_lower(from_name(i));
		printf("\",to=\"");
		ts_put_lower(to_name(i));
		printf("\",family=\"%s\"} %llu\n", ts_family_names[fam],
		       v->cur->moves[i][fam]);
	}
}

/*
 * No tcpstates_info here: next to the per-state file of the same
 * namespace, in one textfile directory, it would be a duplicate series.
 */
static void print_prom(const struct ts_tr_view *v)
{
	unsigned int i;

	ts_prom_head(TS_TR_METRIC,
		     "TCP connections' moves from state to state since the module loaded or the pin was made; pairs that cannot be counted are left out.",
		     "counter");
	for (i = 0; i < TCPSTATES_NR_TRANSITIONS; i++)
		if (pair_shown(v, i) && v->cur->counted[i])
			prom_pair(v, i);
}

void ts_print_transitions(enum ts_format fmt, const struct ts_tr_view *v)
{
	if (fmt == TS_FMT_JSON)
		print_json(v);
	else if (fmt == TS_FMT_PROM)
		print_prom(v);
	else
		print_table(v);
}
