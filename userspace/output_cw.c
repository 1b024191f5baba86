// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, output layer: --close-wait, the service ports that
 * hold CLOSE_WAIT sockets, how many and how old the oldest is (seconds
 * since the peer's last data), oldest first.  A port whose oldest keeps
 * growing is a leak: the process behind it never closes what its peer
 * closed.  As a table (the age also as 2h01m), one JSON object, or
 * Prometheus gauges by netns, direction and port.
 * May call: the views layer (view.h) and below, output.c, libc.
 */
#include <stdio.h>

#include "output.h"

#define TS_CW_SOCKETS	"tcpstates_close_wait_sockets"
#define TS_CW_OLDEST	"tcpstates_close_wait_oldest_seconds"

static const char *dir_name(const struct ts_row *r)
{
	return r->out ? "out" : "in";
}

/* @s seconds as 59s, 12m05s, 2h01m or 3d04h: two units at most. */
static void put_age(unsigned long long s)
{
	char buf[32];

	if (s < 60)
		snprintf(buf, sizeof(buf), "%llus", s);
	else if (s < 3600)
		snprintf(buf, sizeof(buf), "%llum%02llus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, sizeof(buf), "%lluh%02llum", s / 3600,
			 s % 3600 / 60);
	else
		snprintf(buf, sizeof(buf), "%llud%02lluh", s / 86400,
			 s % 86400 / 3600);
	printf(" %8s", buf);
}

/* ---- table ---- */

static void print_table(const struct ts_table *t,
			const struct ts_table_view *v, size_t nall)
{
	const struct ts_row *r;
	size_t i;

	if (v->watch)
		ts_put_time_line(&t->wall);
	if (!v->no_header)
		printf("%-3s %5s %8s %8s %10s%s\n", "DIR", "PORT", "SOCKETS",
		       "OLDEST", "OLDEST_S", v->procs ? "  PROCESSES" : "");
	for (i = 0; i < t->nrows; i++) {
		r = &t->rows[i];
		printf("%-3s %5llu %8llu", dir_name(r), r->key, r->total);
		put_age(r->oldest);
		printf(" %10llu", r->oldest);
		if (v->procs) {
			printf("  ");
			ts_print_procs(TS_FMT_TABLE, v->procs, ts_row_group(r));
		}
		printf("\n");
	}
	printf("Source: %s, netns %llu, %zu of %zu ports with CLOSE_WAIT\n",
	       ts_source_name(t->source), t->netns, t->nrows, nall);
}

/* ---- JSON ---- */

static void print_json(const struct ts_table *t,
		       const struct ts_table_view *v)
{
	const struct ts_row *r;
	size_t i;

	ts_put_json_head(&t->wall, t->source, t->netns);
	printf(",\"close_wait\":[");
	for (i = 0; i < t->nrows; i++) {
		r = &t->rows[i];
		printf("%s{\"direction\":\"%s\",\"port\":%llu", i ? "," : "",
		       dir_name(r), r->key);
		printf(",\"sockets\":%llu,\"oldest_seconds\":%llu", r->total,
		       r->oldest);
		if (v->procs) {
			printf(",\"processes\":");
			ts_print_procs(TS_FMT_JSON, v->procs, ts_row_group(r));
		}
		printf("}");
	}
	printf("]}\n");
}

/* ---- Prometheus ---- */

/*
 * Gauges, a series per port that holds CLOSE_WAIT now: a port that lets
 * them all go drops out of the file, and its series ends.
 */
static void prom_rows(const struct ts_table *t, bool oldest)
{
	static const char * const help[] = {
		"CLOSE_WAIT sockets by service port and direction, IPv4 and IPv6.",
		"Age of the oldest CLOSE_WAIT socket by service port and direction: seconds since the peer's last data.",
	};
	const char *name = oldest ? TS_CW_OLDEST : TS_CW_SOCKETS;
	const struct ts_row *r;
	size_t i;

	ts_prom_head(name, help[oldest], "gauge");
	for (i = 0; i < t->nrows; i++) {
		r = &t->rows[i];
		ts_prom_open(name, t->netns);
		printf(",direction=\"%s\",port=\"%llu\"} %llu\n", dir_name(r),
		       r->key, oldest ? r->oldest : r->total);
	}
}

void ts_print_close_wait(enum ts_format fmt, struct ts_table *t,
			 const struct ts_table_view *v)
{
	size_t nall = t->nrows;

	ts_rank_table(t, v->show, false, v->top);
	if (fmt == TS_FMT_JSON) {
		print_json(t, v);
	} else if (fmt == TS_FMT_PROM) {
		prom_rows(t, false);
		prom_rows(t, true);
	} else {
		print_table(t, v, nall);
	}
}
