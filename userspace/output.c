// SPDX-License-Identifier: GPL-2.0
/*
 * The print layer.  States and scalar metrics are described once, in
 * tables below, and each format (table, JSON, Prometheus) walks the same
 * tables, so a value added here shows up consistently everywhere.
 */
#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "tcpstates.h"

struct ts_metric {
	const char *group;	/* JSON object holding the key, or NULL */
	const char *key;	/* JSON key */
	const char *prom;	/* Prometheus metric name */
	const char *help;
	bool counter;		/* monotonic: Prometheus counter */
	bool scan;		/* module only: the module's own scan cost */
	bool ns;		/* nanoseconds, exported as seconds */
	size_t off;		/* offset of the value in struct ts_sample */
};

#define TS_OFF(f)	offsetof(struct ts_sample, f)

static const struct ts_metric ts_metrics[] = {
	{ "time_wait", "count", "tcpstates_time_wait_sockets",
	  "TIME_WAIT sockets charged against the limit (kernel tw_count).",
	  false, false, false, TS_OFF(tw_count) },
	{ "time_wait", "limit", "tcpstates_time_wait_limit",
	  "Maximum TIME_WAIT sockets (net.ipv4.tcp_max_tw_buckets).",
	  false, false, false, TS_OFF(max_tw_buckets) },
	{ "time_wait", "overflow", "tcpstates_time_wait_overflow_total",
	  "TIME_WAIT sockets not created because the limit was hit.",
	  true, false, false, TS_OFF(tw_overflow) },
	{ NULL, "listen_overflows", "tcpstates_listen_overflows_total",
	  "Connections dropped because a listen queue was full.",
	  true, false, false, TS_OFF(listen_overflows) },
	{ NULL, "listen_drops", "tcpstates_listen_drops_total",
	  "Connections dropped by listening sockets for any reason.",
	  true, false, false, TS_OFF(listen_drops) },
	{ NULL, "syncookies_sent", "tcpstates_syncookies_sent_total",
	  "SYN cookies sent because a SYN queue was full.",
	  true, false, false, TS_OFF(syncookies_sent) },
	{ "scan", "buckets", "tcpstates_scan_buckets",
	  "Hash buckets the module walked to produce this sample.",
	  false, true, false, TS_OFF(scan_buckets) },
	{ "scan", "ns", "tcpstates_scan_duration_seconds",
	  "Time the module spent walking the socket hash tables.",
	  false, true, true, TS_OFF(scan_ns) },
};

#define TS_NR_METRICS	ARRAY_SIZE(ts_metrics)

static const char * const ts_family_names[TCPSTATES_NR_FAMILIES] = {
	[TCPSTATES_IPV4] = "ipv4",
	[TCPSTATES_IPV6] = "ipv6",
};

const char *ts_source_name(enum ts_source src)
{
	return src == TS_SRC_NETLINK ? "netlink" : "module";
}

static unsigned long long metric_val(const struct ts_sample *s,
				     const struct ts_metric *m)
{
	return *(const unsigned long long *)((const char *)s + m->off);
}

static bool metric_shown(const struct ts_view *v, const struct ts_metric *m)
{
	return !m->scan || v->cur->has_scan;
}

static long long delta(const struct ts_view *v, int st, int fam)
{
	return (long long)(v->cur->sockets[st][fam] -
			   v->prev->sockets[st][fam]);
}

/* ---- table ---- */

static void table_row(const struct ts_view *v, const char *name,
		      const unsigned long long *cur,
		      const unsigned long long *prev)
{
	int fam;

	printf("%-12s %10llu %10llu %10llu", name, cur[TCPSTATES_IPV4],
	       cur[TCPSTATES_IPV6], cur[TCPSTATES_IPV4] + cur[TCPSTATES_IPV6]);
	for (fam = 0; v->watch && fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (prev)
			printf(" %+10lld", (long long)(cur[fam] - prev[fam]));
		else
			printf(" %10s", "-");
	}
	printf("\n");
}

static void table_tw(const struct ts_sample *s)
{
	printf("TIME_WAIT: %llu / %llu", s->tw_count, s->max_tw_buckets);
	if (s->max_tw_buckets)
		printf(" (%.1f%%)\n",
		       100.0 * s->tw_count / s->max_tw_buckets);
	else
		printf(" (limit 0: no TIME_WAIT sockets allowed)\n");
}

static void table_footer(const struct ts_sample *s)
{
	printf("Source: %s, netns %llu", ts_source_name(s->source), s->netns);
	if (s->has_scan)
		printf(", scan %llu buckets in %llu ns", s->scan_buckets,
		       s->scan_ns);
	printf("\n");
}

static void print_table(const struct ts_view *v)
{
	const struct ts_sample *s = v->cur;
	int st;

	if (!v->no_header) {
		printf("%-12s %10s %10s %10s", "State", "IPv4", "IPv6",
		       "Total");
		if (v->watch)
			printf(" %10s %10s", "dIPv4", "dIPv6");
		printf("\n");
	}
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		if (v->show[st])
			table_row(v, tcpstates_state_names[st],
				  s->sockets[st],
				  v->prev ? v->prev->sockets[st] : NULL);
	table_row(v, "Total", s->total, v->prev ? v->prev->total : NULL);
	table_tw(s);
	printf("Overflows: tw_overflow %llu, listen_overflows %llu, ",
	       s->tw_overflow, s->listen_overflows);
	printf("listen_drops %llu, syncookies_sent %llu\n",
	       s->listen_drops, s->syncookies_sent);
	table_footer(s);
}

/* ---- JSON ---- */

static void json_family(const unsigned long long *fam)
{
	printf("{\"ipv4\":%llu,\"ipv6\":%llu,\"total\":%llu}",
	       fam[TCPSTATES_IPV4], fam[TCPSTATES_IPV6],
	       fam[TCPSTATES_IPV4] + fam[TCPSTATES_IPV6]);
}

static void json_states(const struct ts_view *v)
{
	const char *sep = "";
	int st;

	printf(",\"states\":{");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		if (!v->show[st])
			continue;
		printf("%s\"%s\":", sep, tcpstates_state_names[st]);
		json_family(v->cur->sockets[st]);
		sep = ",";
	}
	printf("},\"total\":");
	json_family(v->cur->total);
}

/* Scalars, grouped into objects by consecutive equal ts_metric.group. */
static void json_metrics(const struct ts_view *v)
{
	const char *group = NULL;
	unsigned int i;

	for (i = 0; i < TS_NR_METRICS; i++) {
		const struct ts_metric *m = &ts_metrics[i];

		if (!metric_shown(v, m))
			continue;
		if (group && (!m->group || strcmp(group, m->group)))
			printf("}");
		if (m->group && (!group || strcmp(group, m->group)))
			printf(",\"%s\":{\"%s\":%llu", m->group, m->key,
			       metric_val(v->cur, m));
		else
			printf(",\"%s\":%llu", m->key, metric_val(v->cur, m));
		group = m->group;
	}
	if (group)
		printf("}");
}

static void json_delta(const struct ts_view *v)
{
	long long t4 = 0, t6 = 0, d4, d6;
	int st;

	printf(",\"delta\":{");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		d4 = delta(v, st, TCPSTATES_IPV4);
		d6 = delta(v, st, TCPSTATES_IPV6);
		t4 += d4;
		t6 += d6;
		if (v->show[st])
			printf("\"%s\":{\"ipv4\":%lld,\"ipv6\":%lld},",
			       tcpstates_state_names[st], d4, d6);
	}
	printf("\"total\":{\"ipv4\":%lld,\"ipv6\":%lld}}", t4, t6);
}

static void print_json(const struct ts_view *v)
{
	printf("{\"source\":\"%s\",\"netns\":%llu",
	       ts_source_name(v->cur->source), v->cur->netns);
	json_states(v);
	json_metrics(v);
	if (v->prev)
		json_delta(v);
	printf("}\n");
}

/* ---- Prometheus text exposition ---- */

static void prom_head(const char *name, const char *help, const char *type)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are lower case: state="time_wait". */
void ts_put_lower(const char *name)
{
	for (; *name; name++)
		putchar(tolower((unsigned char)*name));
}

static void prom_sockets(const struct ts_view *v)
{
	int st, fam;

	prom_head("tcpstates_sockets",
		  "TCP sockets by state and address family.", "gauge");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		if (!v->show[st])
			continue;
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
			printf("tcpstates_sockets{state=\"");
			ts_put_lower(tcpstates_state_names[st]);
			printf("\",family=\"%s\"} %llu\n",
			       ts_family_names[fam], v->cur->sockets[st][fam]);
		}
	}
}

static void prom_metric(const struct ts_sample *s, const struct ts_metric *m)
{
	prom_head(m->prom, m->help, m->counter ? "counter" : "gauge");
	if (m->ns)
		printf("%s %.9f\n", m->prom, metric_val(s, m) / 1e9);
	else
		printf("%s %llu\n", m->prom, metric_val(s, m));
}

static void print_prom(const struct ts_view *v)
{
	unsigned int i;

	prom_head("tcpstates_info",
		  "Where the numbers come from; the value is always 1.",
		  "gauge");
	printf("tcpstates_info{source=\"%s\",netns=\"%llu\"} 1\n",
	       ts_source_name(v->cur->source), v->cur->netns);
	prom_sockets(v);
	for (i = 0; i < TS_NR_METRICS; i++)
		if (metric_shown(v, &ts_metrics[i]))
			prom_metric(v->cur, &ts_metrics[i]);
}

void ts_print(enum ts_format fmt, const struct ts_view *v)
{
	switch (fmt) {
	case TS_FMT_JSON:
		print_json(v);
		break;
	case TS_FMT_PROM:
		print_prom(v);
		break;
	default:
		print_table(v);
		break;
	}
}
