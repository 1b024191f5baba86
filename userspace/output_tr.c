// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, output layer: --transitions, the module's counts of
 * each move of TCP's state diagram, as a table, JSON or Prometheus
 * counters, and in watch mode each pair's moves per second; with --ports,
 * the connections that entered SYN_RECV, CLOSE_WAIT and TIME_WAIT by
 * service port, the same ways.  A pair or column the kernel cannot count
 * prints "-" (JSON null, no Prometheus sample), never 0: a rate alert on
 * a pair nobody counts must not look calm.
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

/* A count that went back started again from 0 (the module reloaded). */
static double per_second(unsigned long long cur, unsigned long long prev,
			 double secs)
{
	return secs > 0 ? (cur >= prev ? cur - prev : cur) / secs : 0;
}

/*
 * Moves per second since the previous sample, false when there is no
 * rate to give: the first sample, or a pair not counted in either.
 */
static bool pair_rate(const struct ts_tr_view *v, unsigned int i, int fam,
		      double *rate)
{
	if (!v->prev || !v->cur->counted[i] || !v->prev->counted[i])
		return false;
	*rate = per_second(v->cur->moves[i][fam], v->prev->moves[i][fam],
			   interval(v));
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

/* ---- --transitions --ports ---- */

#define TS_TRP_METRIC	"tcpstates_port_transitions_total"

static const char *col_name(unsigned int c)
{
	return tcpstates_state_names[ts_trp_states[c]];
}

/* -s keeps the columns of the shown states. */
static bool col_shown(const struct ts_trp_view *v, unsigned int c)
{
	return v->show[ts_trp_states[c]];
}

static bool is_other(const struct ts_trp_view *v, const struct ts_tr_port *r)
{
	return r == &v->cur->other;
}

static const char *trp_dir(const struct ts_trp_view *v,
			   const struct ts_tr_port *r)
{
	return is_other(v, r) ? "other" : r->out ? "out" : "in";
}

/* @r's group in the previous sample: none if its row is new since. */
static const struct ts_tr_port *prev_row(const struct ts_trp_view *v,
					 const struct ts_tr_port *r)
{
	const struct ts_tr_port *p;
	size_t i;

	if (is_other(v, r))
		return &v->prev->other;
	for (i = 0; i < v->prev->nrows; i++) {
		p = &v->prev->rows[i];
		if (p->out == r->out && p->port == r->port)
			return p;
	}
	return NULL;
}

static double trp_interval(const struct ts_trp_view *v)
{
	return ts_seconds(&v->cur->mono) - ts_seconds(&v->prev->mono);
}

/*
 * Entries per second since the previous sample, false on the first or
 * for a column not counted in either.  A row the previous sample lacked
 * had no entry then: the module makes a group's row at its first one.
 */
static bool entry_rate(const struct ts_trp_view *v,
		       const struct ts_tr_port *r, unsigned int c,
		       double *rate)
{
	const struct ts_tr_port *p;

	if (!v->prev || !v->cur->counted[c] || !v->prev->counted[c])
		return false;
	p = prev_row(v, r);
	*rate = per_second(r->entered[c], p ? p->entered[c] : 0,
			   trp_interval(v));
	return true;
}

static void trp_header(const struct ts_trp_view *v)
{
	char rate[24];
	unsigned int c;

	printf("%-5s %5s", "DIR", "PORT");
	for (c = 0; c < TS_TRP_NR_COLS; c++)
		if (col_shown(v, c))
			printf(" %10s", col_name(c));
	for (c = 0; v->watch && c < TS_TRP_NR_COLS; c++) {
		if (!col_shown(v, c))
			continue;
		snprintf(rate, sizeof(rate), "%s/s", col_name(c));
		printf(" %12s", rate);
	}
	printf("\n");
}

static void trp_row(const struct ts_trp_view *v, const struct ts_tr_port *r)
{
	unsigned int c;
	double rate;

	if (is_other(v, r))
		printf("%-5s %5s", "other", "-");
	else
		printf("%-5s %5u", trp_dir(v, r), r->port);
	for (c = 0; c < TS_TRP_NR_COLS; c++)
		if (col_shown(v, c))
			table_count(v->cur->counted[c], r->entered[c]);
	for (c = 0; v->watch && c < TS_TRP_NR_COLS; c++) {
		if (!col_shown(v, c))
			continue;
		if (entry_rate(v, r, c, &rate))
			printf(" %12.1f", rate);
		else
			printf(" %12s", "-");
	}
	printf("\n");
}

static void trp_table(const struct ts_trp_view *v, const unsigned int *idx,
		      size_t n)
{
	size_t i;

	if (v->watch)
		ts_put_time_line(&v->cur->wall);
	if (!v->no_header)
		trp_header(v);
	for (i = 0; i < n; i++)
		trp_row(v, &v->cur->rows[idx[i]]);
	trp_row(v, &v->cur->other);
	printf("Source: %s, netns %llu, %zu of %zu groups\n",
	       ts_source_name(v->cur->source), v->cur->netns, n,
	       v->cur->nrows);
}

/* "SYN_RECV":N,... of the shown columns, null where not counted */
static void json_entered(const struct ts_trp_view *v,
			 const struct ts_tr_port *r)
{
	unsigned int c;

	for (c = 0; c < TS_TRP_NR_COLS; c++) {
		if (!col_shown(v, c))
			continue;
		printf(",\"%s\":", col_name(c));
		if (v->cur->counted[c])
			printf("%llu", r->entered[c]);
		else
			printf("null");
	}
}

/* ,"rates":{"SYN_RECV":R,...}, null where there is no rate */
static void json_entry_rates(const struct ts_trp_view *v,
			     const struct ts_tr_port *r)
{
	const char *sep = "";
	unsigned int c;
	double rate;

	printf(",\"rates\":{");
	for (c = 0; c < TS_TRP_NR_COLS; c++) {
		if (!col_shown(v, c))
			continue;
		printf("%s\"%s\":", sep, col_name(c));
		if (entry_rate(v, r, c, &rate))
			printf("%.3f", rate);
		else
			printf("null");
		sep = ",";
	}
	printf("}");
}

static void trp_json_row(const struct ts_trp_view *v,
			 const struct ts_tr_port *r)
{
	printf("{\"direction\":\"%s\",\"port\":", trp_dir(v, r));
	if (is_other(v, r))
		printf("null");
	else
		printf("%u", r->port);
	json_entered(v, r);
	if (v->prev)
		json_entry_rates(v, r);
	printf("}");
}

static void trp_json(const struct ts_trp_view *v, const unsigned int *idx,
		     size_t n)
{
	size_t i;

	ts_put_json_head(&v->cur->wall, v->cur->source, v->cur->netns);
	if (v->prev)
		printf(",\"interval\":%.3f", trp_interval(v));
	printf(",\"ports\":[");
	for (i = 0; i < n; i++) {
		trp_json_row(v, &v->cur->rows[idx[i]]);
		printf(",");
	}
	trp_json_row(v, &v->cur->other);
	printf("]}\n");
}

/* @r's samples, one per shown, counted column; port="" for other. */
static void trp_prom_row(const struct ts_trp_view *v,
			 const struct ts_tr_port *r)
{
	unsigned int c;

	for (c = 0; c < TS_TRP_NR_COLS; c++) {
		if (!col_shown(v, c) || !v->cur->counted[c])
			continue;
		ts_prom_open(TS_TRP_METRIC, v->cur->netns);
		printf(",direction=\"%s\",port=\"", trp_dir(v, r));
		if (!is_other(v, r))
			printf("%u", r->port);
		printf("\",to=\"");
		ts_put_lower(col_name(c));
		printf("\"} %llu\n", r->entered[c]);
	}
}

/* No tcpstates_info either: see print_prom(). */
static void trp_prom(const struct ts_trp_view *v, const unsigned int *idx,
		     size_t n)
{
	size_t i;

	ts_prom_head(TS_TRP_METRIC,
		     "TCP connections that entered a state since the module loaded, by service port; states that cannot be counted are left out.",
		     "counter");
	for (i = 0; i < n; i++)
		trp_prom_row(v, &v->cur->rows[idx[i]]);
	trp_prom_row(v, &v->cur->other);
}

void ts_print_tr_ports(enum ts_format fmt, const struct ts_trp_view *v)
{
	unsigned int idx[TS_TRP_MAX_ROWS];
	size_t n = ts_rank_tr_ports(v->cur, v->show, v->top, idx);

	if (fmt == TS_FMT_JSON)
		trp_json(v, idx, n);
	else if (fmt == TS_FMT_PROM)
		trp_prom(v, idx, n);
	else
		trp_table(v, idx, n);
}
