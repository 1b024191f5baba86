// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates reader, output layer: one sample as a table, JSON or
 * Prometheus metrics, and the cells of --processes.  States and scalar
 * metrics are described once, in tables below, and each format (table,
 * JSON, Prometheus) walks the same tables, so a value added here shows up
 * consistently everywhere.
 * May call: the views layer (procs.c's groups), the model layer, libc.
 */
#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "output.h"

/* Which samples have a metric. */
enum ts_need {
	TS_ANY,
	TS_SCAN,	/* module only: the module's own scan cost */
	TS_RESTARTS,	/* newer modules only */
};

struct ts_metric {
	const char *group;	/* JSON object holding the key, or NULL */
	const char *key;	/* JSON key */
	const char *prom;	/* Prometheus metric name */
	const char *help;
	const char *rate;	/* counters: name of the per-second rate */
	enum ts_need need;
	bool ns;		/* nanoseconds, exported as seconds */
	size_t off;		/* offset of the value in struct ts_sample */
};

#define TS_OFF(f)	offsetof(struct ts_sample, f)

static const struct ts_metric ts_metrics[] = {
	{ "time_wait", "count", "tcpstates_time_wait_sockets",
	  "TIME_WAIT sockets charged against the limit (kernel tw_count).",
	  NULL, TS_ANY, false, TS_OFF(tw_count) },
	{ "time_wait", "limit", "tcpstates_time_wait_limit",
	  "Maximum TIME_WAIT sockets (net.ipv4.tcp_max_tw_buckets).",
	  NULL, TS_ANY, false, TS_OFF(max_tw_buckets) },
	{ "time_wait", "overflow", "tcpstates_time_wait_overflow_total",
	  "TIME_WAIT sockets not created because the limit was hit.",
	  "tw_overflow", TS_ANY, false, TS_OFF(tw_overflow) },
	{ NULL, "listen_overflows", "tcpstates_listen_overflows_total",
	  "Connections dropped because a listen queue was full.",
	  "listen_overflows", TS_ANY, false, TS_OFF(listen_overflows) },
	{ NULL, "listen_drops", "tcpstates_listen_drops_total",
	  "Connections dropped by listening sockets for any reason.",
	  "listen_drops", TS_ANY, false, TS_OFF(listen_drops) },
	{ NULL, "syncookies_sent", "tcpstates_syncookies_sent_total",
	  "SYN cookies sent because a SYN queue was full.",
	  "syncookies_sent", TS_ANY, false, TS_OFF(syncookies_sent) },
	{ "scan", "buckets", "tcpstates_scan_buckets",
	  "Hash buckets the module walked to produce this sample.",
	  NULL, TS_SCAN, false, TS_OFF(scan_buckets) },
	{ "scan", "ns", "tcpstates_scan_duration_seconds",
	  "Time the module spent walking the socket hash tables.",
	  NULL, TS_SCAN, true, TS_OFF(scan_ns) },
	{ "scan", "restarts", "tcpstates_scan_restarts",
	  "Hash chains the module walked again in this sample after straying.",
	  NULL, TS_RESTARTS, false, TS_OFF(scan_restarts) },
	{ "scan", "incomplete", "tcpstates_scan_incomplete",
	  "Hash buckets the module gave up on in this sample: counts may be off.",
	  NULL, TS_RESTARTS, false, TS_OFF(scan_incomplete) },
};

#define TS_NR_METRICS	ARRAY_SIZE(ts_metrics)

const char * const ts_family_names[TCPSTATES_NR_FAMILIES] = {
	[TCPSTATES_IPV4] = "ipv4",
	[TCPSTATES_IPV6] = "ipv6",
};

const char *ts_source_name(enum ts_source src)
{
	switch (src) {
	case TS_SRC_NETLINK:
		return "netlink";
	case TS_SRC_BPF:
		return "bpf";
	case TS_SRC_PIN:
		return "pin";
	default:
		return "module";
	}
}

static unsigned long long metric_val(const struct ts_sample *s,
				     const struct ts_metric *m)
{
	return *(const unsigned long long *)((const char *)s + m->off);
}

static bool metric_shown(const struct ts_view *v, const struct ts_metric *m)
{
	if (m->need == TS_SCAN)
		return v->cur->has_scan;
	return m->need == TS_ANY || v->cur->has_restarts;
}

static long long delta(const struct ts_view *v, int st, int fam)
{
	return (long long)(v->cur->sockets[st][fam] -
			   v->prev->sockets[st][fam]);
}

static bool fam_shown(const struct ts_view *v, int fam)
{
	return v->fams & TS_BIT(fam);
}

static unsigned long long fam_sum(const struct ts_view *v,
				  const unsigned long long *cnt)
{
	unsigned long long sum = 0;
	int fam;

	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
		if (fam_shown(v, fam))
			sum += cnt[fam];
	return sum;
}

double ts_seconds(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

/* Per second since the previous sample; a counter that went back reset. */
static double rate(const struct ts_view *v, const struct ts_metric *m)
{
	unsigned long long cur = metric_val(v->cur, m);
	unsigned long long prev = metric_val(v->prev, m);
	double secs = ts_seconds(&v->cur->mono) - ts_seconds(&v->prev->mono);

	if (secs <= 0)
		return 0;
	return (cur >= prev ? cur - prev : cur) / secs;
}

/* ISO 8601 with milliseconds: UTC as "Z", else local with its offset. */
void ts_put_time(const struct timespec *wall, bool utc)
{
	char buf[32], zone[8];
	struct tm tm;

	if (utc)
		gmtime_r(&wall->tv_sec, &tm);
	else
		localtime_r(&wall->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s.%03ld", buf, wall->tv_nsec / 1000000);
	if (utc || !strftime(zone, sizeof(zone), "%z", &tm))
		printf("Z");
	else
		printf("%.3s:%s", zone, zone + 3);
}

/* A watch's "Time: ..." line before each table: local time. */
void ts_put_time_line(const struct timespec *wall)
{
	printf("Time: ");
	ts_put_time(wall, false);
	printf("\n");
}

/* The start of a JSON object: {"time":...,"source":...,"netns":N */
void ts_put_json_head(const struct timespec *wall, enum ts_source src,
		      unsigned long long netns)
{
	printf("{\"time\":\"");
	ts_put_time(wall, true);
	printf("\",\"source\":\"%s\",\"netns\":%llu", ts_source_name(src),
	       netns);
}

/* ---- table ---- */

/* Row @st (0: the Total row) of the per-state table. */
static void table_row(const struct ts_view *v, const char *name, int st,
		      const unsigned long long *cur,
		      const unsigned long long *prev)
{
	int fam;

	printf("%-12s", name);
	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
		if (fam_shown(v, fam))
			printf(" %10llu", cur[fam]);
	if (v->fams == TS_FAMS_ALL)
		printf(" %10llu", fam_sum(v, cur));
	for (fam = 0; v->watch && fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (!fam_shown(v, fam))
			continue;
		if (prev)
			printf(" %+10lld", (long long)(cur[fam] - prev[fam]));
		else
			printf(" %10s", "-");
	}
	if (v->procs && st) {
		printf("  ");
		ts_print_procs(TS_FMT_TABLE, v->procs, st);
	}
	printf("\n");
}

/*
 * The count columns' headings of a table: the shown families, Total when
 * both are, and in watch mode @change[family] (deltas, rates) after them.
 */
void ts_put_family_headings(unsigned int fams, bool watch,
			    const char * const change[TCPSTATES_NR_FAMILIES])
{
	static const char * const names[] = { "IPv4", "IPv6" };
	int fam;

	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
		if (fams & TS_BIT(fam))
			printf(" %10s", names[fam]);
	if (fams == TS_FAMS_ALL)
		printf(" %10s", "Total");
	for (fam = 0; watch && fam < TCPSTATES_NR_FAMILIES; fam++)
		if (fams & TS_BIT(fam))
			printf(" %10s", change[fam]);
}

static void table_header(const struct ts_view *v)
{
	static const char * const dnames[] = { "dIPv4", "dIPv6" };

	printf("%-12s", "State");
	ts_put_family_headings(v->fams, v->watch, dnames);
	if (v->procs)
		printf("  Processes");
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
	if (s->has_restarts && s->scan_restarts)
		printf(", %llu chains walked again", s->scan_restarts);
	if (s->has_restarts && s->scan_incomplete)
		printf(", %llu buckets incomplete: counts may be off",
		       s->scan_incomplete);
	printf("\n");
}

/* "Overflows: tw_overflow 7, ..." and in watch mode each one's rate. */
static void table_counters(const struct ts_view *v)
{
	const char *sep = "Overflows: ";
	unsigned int i;

	for (i = 0; i < TS_NR_METRICS; i++) {
		const struct ts_metric *m = &ts_metrics[i];

		if (!m->rate)
			continue;
		printf("%s%s %llu", sep, m->rate, metric_val(v->cur, m));
		if (v->prev)
			printf(" (%.1f/s)", rate(v, m));
		sep = ", ";
	}
	printf("\n");
}

static void print_table(const struct ts_view *v)
{
	const struct ts_sample *s = v->cur;
	int st;

	if (v->watch)
		ts_put_time_line(&s->wall);
	if (!v->no_header)
		table_header(v);
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		if (v->show[st])
			table_row(v, tcpstates_state_names[st], st,
				  s->sockets[st],
				  v->prev ? v->prev->sockets[st] : NULL);
	table_row(v, "Total", 0, s->total, v->prev ? v->prev->total : NULL);
	table_tw(s);
	table_counters(v);
	table_footer(s);
}

/* ---- JSON ---- */

/* {"ipv4":N,"ipv6":N,"total":N}, with the shown families only */
static void json_family(const struct ts_view *v,
			const unsigned long long *cnt)
{
	int fam;

	printf("{");
	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++)
		if (fam_shown(v, fam))
			printf("\"%s\":%llu,", ts_family_names[fam], cnt[fam]);
	printf("\"total\":%llu}", fam_sum(v, cnt));
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
		json_family(v, v->cur->sockets[st]);
		sep = ",";
	}
	printf("},\"total\":");
	json_family(v, v->cur->total);
}

static void json_procs(const struct ts_view *v)
{
	const char *sep = "";
	int st;

	printf(",\"processes\":{");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		if (!v->show[st])
			continue;
		printf("%s\"%s\":", sep, tcpstates_state_names[st]);
		ts_print_procs(TS_FMT_JSON, v->procs, st);
		sep = ",";
	}
	printf("}");
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

/* {"ipv4":d,"ipv6":d}, with the shown families only */
static void json_deltas(const struct ts_view *v, const long long *d)
{
	const char *sep = "";
	int fam;

	printf("{");
	for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
		if (!fam_shown(v, fam))
			continue;
		printf("%s\"%s\":%lld", sep, ts_family_names[fam], d[fam]);
		sep = ",";
	}
	printf("}");
}

static void json_delta(const struct ts_view *v)
{
	long long d[TCPSTATES_NR_FAMILIES], t[TCPSTATES_NR_FAMILIES] = { 0 };
	int st, fam;

	printf(",\"delta\":{");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
			d[fam] = delta(v, st, fam);
			t[fam] += d[fam];
		}
		if (!v->show[st])
			continue;
		printf("\"%s\":", tcpstates_state_names[st]);
		json_deltas(v, d);
		printf(",");
	}
	printf("\"total\":");
	json_deltas(v, t);
	printf("}");
}

static void json_rates(const struct ts_view *v)
{
	const char *sep = "";
	unsigned int i;

	printf(",\"interval\":%.3f,\"rates\":{",
	       ts_seconds(&v->cur->mono) - ts_seconds(&v->prev->mono));
	for (i = 0; i < TS_NR_METRICS; i++) {
		if (!ts_metrics[i].rate)
			continue;
		printf("%s\"%s\":%.3f", sep, ts_metrics[i].rate,
		       rate(v, &ts_metrics[i]));
		sep = ",";
	}
	printf("}");
}

static void print_json(const struct ts_view *v)
{
	ts_put_json_head(&v->cur->wall, v->cur->source, v->cur->netns);
	json_states(v);
	json_metrics(v);
	if (v->procs)
		json_procs(v);
	if (v->prev) {
		json_delta(v);
		json_rates(v);
	}
	printf("}\n");
}

/* ---- Prometheus text exposition ---- */

void ts_prom_head(const char *name, const char *help, const char *type)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values are lower case: state="time_wait". */
void ts_put_lower(const char *name)
{
	for (; *name; name++)
		putchar(tolower((unsigned char)*name));
}

static const struct ts_label *ts_labels;
static unsigned int ts_nlabels;

/* --label: printed on every Prometheus sample, after netns. */
void ts_set_labels(const struct ts_label *labels, unsigned int n)
{
	ts_labels = labels;
	ts_nlabels = n;
}

/* A label value, escaped as the text exposition format wants. */
static void put_label_value(const char *val)
{
	for (; *val; val++) {
		if (*val == '\\' || *val == '"')
			printf("\\%c", *val);
		else if (*val == '\n')
			printf("\\n");
		else
			putchar(*val);
	}
}

/*
 * Start a sample of metric @name: name{netns="N",--labels...  so that
 * files from several namespaces never share a series.  The caller adds
 * its own labels and closes the brace.
 */
void ts_prom_open(const char *name, unsigned long long netns)
{
	unsigned int i;

	printf("%s{netns=\"%llu\"", name, netns);
	for (i = 0; i < ts_nlabels; i++) {
		printf(",%s=\"", ts_labels[i].key);
		put_label_value(ts_labels[i].val);
		printf("\"");
	}
}

static void prom_sockets(const struct ts_view *v)
{
	int st, fam;

	ts_prom_head("tcpstates_sockets",
		     "TCP sockets by state and address family.", "gauge");
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		if (!v->show[st])
			continue;
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
			if (!fam_shown(v, fam))
				continue;
			ts_prom_open("tcpstates_sockets", v->cur->netns);
			printf(",state=\"");
			ts_put_lower(tcpstates_state_names[st]);
			printf("\",family=\"%s\"} %llu\n",
			       ts_family_names[fam], v->cur->sockets[st][fam]);
		}
	}
}

static void prom_metric(const struct ts_sample *s, const struct ts_metric *m)
{
	ts_prom_head(m->prom, m->help, m->rate ? "counter" : "gauge");
	ts_prom_open(m->prom, s->netns);
	if (m->ns)
		printf("} %.9f\n", metric_val(s, m) / 1e9);
	else
		printf("} %llu\n", metric_val(s, m));
}

static void print_prom(const struct ts_view *v)
{
	unsigned int i;

	ts_prom_head("tcpstates_info",
		     "Where the numbers come from; the value is always 1.",
		     "gauge");
	ts_prom_open("tcpstates_info", v->cur->netns);
	printf(",source=\"%s\"} 1\n", ts_source_name(v->cur->source));
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

/* ---- --processes ---- */

/* Table cell: this many processes, then the rest as "others". */
#define TS_PROCS_SHOWN	3

/* "leaky[4242]:3 nginx[812]:1 others:2 no-process:4 not-found:1" */
static void table_cell(const struct ts_proc *e, size_t n)
{
	unsigned long long others = 0;
	const char *sep = "";
	size_t i;

	if (!n)
		printf("-");
	for (i = 0; i < n && e[i].pid > 0; i++) {
		if (i < TS_PROCS_SHOWN) {
			printf("%s%s[%d]:%llu", sep, e[i].comm, e[i].pid,
			       e[i].sockets);
			sep = " ";
		} else {
			others += e[i].sockets;
		}
	}
	if (others)
		printf(" others:%llu", others);
	for (; i < n; i++, sep = " ")
		printf("%s%s:%llu", sep, e[i].pid == TS_PID_NONE ?
		       "no-process" : "not-found", e[i].sockets);
}

static void json_group(const struct ts_proc *e, size_t n)
{
	unsigned long long none = 0, unseen = 0;
	const char *sep = "";
	size_t i;

	printf("{\"owners\":[");
	for (i = 0; i < n; i++) {
		if (e[i].pid == TS_PID_NONE) {
			none = e[i].sockets;
		} else if (e[i].pid == TS_PID_UNSEEN) {
			unseen = e[i].sockets;
		} else {
			printf("%s{\"pid\":%d,\"command\":\"%s\",\"sockets\":%llu}",
			       sep, e[i].pid, e[i].comm, e[i].sockets);
			sep = ",";
		}
	}
	printf("],\"no_process\":%llu,\"not_found\":%llu}", none, unseen);
}

/* @group's processes: a table cell or a JSON object. */
void ts_print_procs(enum ts_format fmt, const struct ts_procs *p,
		    unsigned int group)
{
	const struct ts_proc *e;
	size_t n;

	e = ts_procs_group(p, group, &n);
	if (fmt == TS_FMT_JSON)
		json_group(e, n);
	else
		table_cell(e, n);
}
