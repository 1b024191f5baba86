// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, output layer: the --all-netns and --ports tables.
 * Ranked and cut by the views layer (views.c), then printed as a table,
 * one JSON object or Prometheus metrics.
 * May call: the views layer (view.h) and below, output.c, libc.
 */
#include <stdio.h>
#include <string.h>

#include "output.h"

static const char *dir_name(const struct ts_row *r)
{
	return r->out ? "out" : "in";
}

/* ---- table ---- */

static int state_width(int st)
{
	int len = strlen(tcpstates_state_names[st]);

	return len < 6 ? 6 : len;
}

static void table_header(const struct ts_table *t,
			 const struct ts_table_view *v)
{
	int st;

	if (t->mode == TS_MODE_ALL)
		printf("%-12s %7s %-15s", "NETNS", "PID", "COMMAND");
	else
		printf("%-3s %5s", "DIR", "PORT");
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		if (v->show[st])
			printf(" %*s", state_width(st),
			       tcpstates_state_names[st]);
	printf(" %8s%s%s\n", "TOTAL",
	       t->mode == TS_MODE_ALL ? " TW_COUNT/MAX" : "",
	       v->procs ? "  PROCESSES" : "");
}

static void table_row(const struct ts_table *t, const struct ts_row *r,
		      const struct ts_table_view *v)
{
	const bool *show = v->show;
	int st;

	if (t->mode == TS_MODE_PORTS)
		printf("%-3s %5llu", dir_name(r), r->key);
	else if (r->pid)
		printf("%-12llu %7d %-15s", r->key, r->pid, r->comm);
	else
		printf("%-12llu %7s %-15s", r->key, "-", "-");
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		if (show[st])
			printf(" %*llu", state_width(st), r->sockets[st]);
	printf(" %8llu", r->total);
	if (t->mode == TS_MODE_ALL)
		printf(" %llu/%llu", r->tw_count, r->max_tw_buckets);
	if (v->procs) {
		printf("  ");
		ts_print_procs(TS_FMT_TABLE, v->procs, ts_row_group(r));
	}
	printf("\n");
}

static void print_table(const struct ts_table *t,
			const struct ts_table_view *v, size_t nall)
{
	size_t i;

	if (v->watch)
		ts_put_time_line(&t->wall);
	if (!v->no_header)
		table_header(t, v);
	for (i = 0; i < t->nrows; i++)
		table_row(t, &t->rows[i], v);
	if (t->mode == TS_MODE_ALL)
		printf("Source: %s, %zu of %zu namespaces\n",
		       ts_source_name(t->source), t->nrows, nall);
	else
		printf("Source: %s, netns %llu, %zu of %zu groups\n",
		       ts_source_name(t->source), t->netns, t->nrows, nall);
}

/* ---- JSON ---- */

static void json_row(const struct ts_table *t, const struct ts_row *r,
		     const struct ts_table_view *v)
{
	const bool *show = v->show;
	const char *sep = "";
	int st;

	if (t->mode == TS_MODE_PORTS)
		printf("{\"direction\":\"%s\",\"port\":%llu", dir_name(r),
		       r->key);
	else if (r->pid)
		printf("{\"netns\":%llu,\"pid\":%d,\"command\":\"%s\"",
		       r->key, r->pid, r->comm);
	else
		printf("{\"netns\":%llu,\"pid\":null,\"command\":null", r->key);
	printf(",\"states\":{");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		if (!show[st])
			continue;
		printf("%s\"%s\":%llu", sep, tcpstates_state_names[st],
		       r->sockets[st]);
		sep = ",";
	}
	printf("},\"total\":%llu", r->total);
	if (t->mode == TS_MODE_ALL)
		printf(",\"time_wait\":{\"count\":%llu,\"limit\":%llu}",
		       r->tw_count, r->max_tw_buckets);
	if (v->procs) {
		printf(",\"processes\":");
		ts_print_procs(TS_FMT_JSON, v->procs, ts_row_group(r));
	}
	printf("}");
}

static void print_json(const struct ts_table *t,
		       const struct ts_table_view *v)
{
	size_t i;

	printf("{\"time\":\"");
	ts_put_time(&t->wall, true);
	printf("\",\"source\":\"%s\"", ts_source_name(t->source));
	if (t->mode == TS_MODE_PORTS)
		printf(",\"netns\":%llu", t->netns);
	printf(",\"%s\":[", t->mode == TS_MODE_ALL ? "namespaces" : "ports");
	for (i = 0; i < t->nrows; i++) {
		if (i)
			printf(",");
		json_row(t, &t->rows[i], v);
	}
	printf("]}\n");
}

/* ---- Prometheus ---- */

/* Every metric here is a gauge. */
static void prom_head(const char *name, const char *help)
{
	ts_prom_head(name, help, "gauge");
}

/* Start a sample of @name for row @r: name{netns="N",...,port="P" */
static void prom_open(const char *name, const struct ts_table *t,
		      const struct ts_row *r)
{
	if (t->mode == TS_MODE_ALL) {
		ts_prom_open(name, r->key);
		return;
	}
	ts_prom_open(name, t->netns);
	printf(",direction=\"%s\",port=\"%llu\"", dir_name(r), r->key);
}

static void prom_sockets(const struct ts_table *t, const bool *show)
{
	const char *name = t->mode == TS_MODE_ALL ?
		"tcpstates_netns_sockets" : "tcpstates_port_sockets";
	size_t i;
	int st;

	prom_head(name, t->mode == TS_MODE_ALL ?
		  "TCP sockets by network namespace and state, IPv4 and IPv6." :
		  "TCP sockets by service port, direction and state, IPv4 and IPv6.");
	for (i = 0; i < t->nrows; i++) {
		for (st = 1; st < TCPSTATES_NR_STATES; st++) {
			if (!show[st])
				continue;
			prom_open(name, t, &t->rows[i]);
			printf(",state=\"");
			ts_put_lower(tcpstates_state_names[st]);
			printf("\"} %llu\n", t->rows[i].sockets[st]);
		}
	}
}

static void prom_owners(const struct ts_table *t)
{
	const struct ts_row *r;
	size_t i;

	prom_head("tcpstates_netns_info",
		  "Lowest PID in each network namespace, as lsns shows it; always 1.");
	for (i = 0; i < t->nrows; i++) {
		r = &t->rows[i];
		if (!r->pid)
			continue;
		ts_prom_open("tcpstates_netns_info", r->key);
		printf(",pid=\"%d\",command=\"%s\"} 1\n", r->pid, r->comm);
	}
}

static void prom_tw(const struct ts_table *t, bool limit)
{
	const char *name = limit ? "tcpstates_netns_time_wait_limit" :
				   "tcpstates_netns_time_wait_sockets";
	size_t i;

	prom_head(name, limit ?
		  "Maximum TIME_WAIT sockets (net.ipv4.tcp_max_tw_buckets) by network namespace." :
		  "TIME_WAIT sockets charged against the limit, by network namespace.");
	for (i = 0; i < t->nrows; i++) {
		ts_prom_open(name, t->rows[i].key);
		printf("} %llu\n", limit ? t->rows[i].max_tw_buckets :
			t->rows[i].tw_count);
	}
}

static void print_prom(const struct ts_table *t, const bool *show)
{
	if (t->mode == TS_MODE_ALL)
		prom_owners(t);
	prom_sockets(t, show);
	if (t->mode == TS_MODE_ALL) {
		prom_tw(t, false);
		prom_tw(t, true);
	}
}

void ts_print_table(enum ts_format fmt, struct ts_table *t,
		    const struct ts_table_view *v)
{
	size_t nall = t->nrows;

	ts_rank_table(t, v->show, v->filtered, v->top);
	if (fmt == TS_FMT_JSON)
		print_json(t, v);
	else if (fmt == TS_FMT_PROM)
		print_prom(t, v->show);
	else
		print_table(t, v, nall);
}
