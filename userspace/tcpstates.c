// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates: count TCP sockets per state and address family, from the
 * tcpstates module's /proc/tcpstates, from the module's walk run as a BPF
 * program or from sock_diag netlink, and manage the module's TIME_WAIT
 * tunables.  --all-netns and --ports print the module's per-namespace
 * and per-port tables.
 *
 * Exit status: 0 ok, 1 runtime error (a write error on stdout too),
 * 2 usage error.  --check-tw is a monitoring plugin instead: 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN for any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpstates.h"

bool ts_check_mode;
bool ts_err_quiet;		/* auto trying a source: keep the error */
static char ts_last_err[512];	/* for --check-tw's UNKNOWN line */
static bool ts_churned;		/* the last error came from churn */

static void ts_verr(const char *fmt, va_list ap)
{
	vsnprintf(ts_last_err, sizeof(ts_last_err), fmt, ap);
	if (!ts_err_quiet)
		fprintf(stderr, "tcpstates: %s\n", ts_last_err);
}

void ts_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_verr(fmt, ap);
	va_end(ap);
}

/* A read that failed only because the tables changed under it. */
void ts_churn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_verr(fmt, ap);
	va_end(ap);
	ts_churned = true;
}

void ts_now(struct timespec *wall, struct timespec *mono)
{
	clock_gettime(CLOCK_REALTIME, wall);
	clock_gettime(CLOCK_MONOTONIC, mono);
}

/*
 * Push out what was printed: a full disk or a closed pipe is an error,
 * reported once.  errno is kept from the failed write when the flush
 * itself has nothing left to write.
 */
static int flush_out(void)
{
	static bool reported;

	errno = 0;
	if (!fflush(stdout) && !ferror(stdout))
		return 0;
	if (!reported)
		ts_err("write error on standard output: %s",
		       errno ? strerror(errno) : "I/O error");
	reported = true;
	return -1;
}

/* The exit status for @rc, once stdout is known to be written. */
int ts_finish(int rc)
{
	int bad = rc ? rc : ts_check_mode ? TS_CHECK_UNKNOWN : 1;

	if (flush_out())
		return bad;
	if (fclose(stdout)) {
		ts_err("write error on standard output: %s", strerror(errno));
		return bad;
	}
	return rc;
}

/* Before anything is opened, so every file and socket is the netns's. */
static int enter_netns(const struct ts_opts *o)
{
	char path[4096];
	int fd;

	if (strchr(o->netns, '/'))
		snprintf(path, sizeof(path), "%s", o->netns);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", o->netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ts_err("%s %s: %s: %s%s", o->netns_opt, o->netns_arg, path,
		       strerror(errno), errno == EACCES ?
		       " (a more privileged process's netns needs CAP_SYS_PTRACE)" :
		       "");
		return -1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		ts_err("%s %s: setns: %s (need CAP_SYS_ADMIN and a netns file)",
		       o->netns_opt, o->netns_arg, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static const char *env_path(const char *var, const char *def)
{
	const char *path = getenv(var);

	return path && *path ? path : def;
}

static const char *proc_path(void)
{
	return env_path("TCPSTATES_PROC", TS_PROC_DEFAULT);
}

static int take_sample(const struct ts_opts *o, struct ts_sample *s)
{
	int ret;

	if (o->source == TS_SRC_MODULE)
		ret = ts_read_module(proc_path(), s);
	else if (o->source == TS_SRC_BPF)
		ret = ts_read_bpf(s);
	else
		ret = ts_read_netlink(s);
	ts_now(&s->wall, &s->mono);
	return ret;
}

/*
 * The module when it is loaded, else the bpf walk when this kernel loads
 * it (tried quietly; the program stays for the reads), else sock_diag.
 * TCPSTATES_NO_BPF=1 skips bpf.
 */
static enum ts_source auto_source(void)
{
	const char *no_bpf = getenv("TCPSTATES_NO_BPF");
	int ret;

	if (!access(proc_path(), F_OK))
		return TS_SRC_MODULE;
	if (no_bpf && *no_bpf && strcmp(no_bpf, "0"))
		return TS_SRC_NETLINK;
	ts_err_quiet = true;
	ret = ts_bpf_open();
	ts_err_quiet = false;
	return ret ? TS_SRC_NETLINK : TS_SRC_BPF;
}

static int find_procs(const struct ts_opts *o, struct ts_procs *p)
{
	return ts_find_procs(p, o->show, o->fams, o->mode == TS_MODE_PORTS,
			     env_path("TCPSTATES_PROCFS", TS_PROCFS_DEFAULT));
}

/* ---- watch mode: samples at a fixed rate ---- */

typedef int (*ts_sample_fn)(const struct ts_opts *o, unsigned long i,
			    void *ctx);

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(long long ns)
{
	struct timespec ts = {
		.tv_sec = ns / 1000000000LL,
		.tv_nsec = ns % 1000000000LL,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/*
 * Sample i is due at start + i * interval, whatever the previous samples
 * cost, so the rate does not drift.  A sample that overran its interval
 * makes the next one wait for the next tick rather than come at once.
 *
 * A watch skips a sample that failed only under churn (its error line
 * printed): the moment an operator watches, a SYN flood or a container
 * storm, is when reads restart most, and the next tick is the answer.
 * TS_WATCH_MISSES such samples in a row still end it.  fn gets the number
 * of samples printed before, so a skipped one leaves no trace in rates.
 */
static int run_watch(const struct ts_opts *o, ts_sample_fn fn, void *ctx)
{
	long long step = llround(o->interval * 1e9), start = mono_ns(), now;
	unsigned long long tick = 0;
	unsigned long i, shown = 0, misses = 0;

	for (i = 0; !o->count || i < o->count; i++) {
		if (i) {
			tick++;
			now = mono_ns();
			if (start + (long long)tick * step < now)
				tick = (now - start) / step + 1;
			sleep_until(start + (long long)tick * step);
		}
		ts_churned = false;
		if (fn(o, shown, ctx)) {
			if (o->watch && ts_churned &&
			    ++misses < TS_WATCH_MISSES)
				continue;
			return 1;
		}
		if (flush_out())
			return 1;
		shown++;
		misses = 0;
		if (!o->watch)
			break;
	}
	return 0;
}

/* ---- the per-state table ---- */

struct ts_samples {
	struct ts_sample s[2];
	struct ts_view v;
};

static int one_sample(const struct ts_opts *o, unsigned long i, void *ctx)
{
	struct ts_samples *c = ctx;
	struct ts_sample *s = &c->s[i % 2];	/* not the last one shown */
	struct ts_procs procs = { 0 };

	if (take_sample(o, s))
		return -1;
	if (o->procs && find_procs(o, &procs))
		return -1;
	c->v.prev = i ? c->v.cur : NULL;
	c->v.cur = s;
	c->v.procs = o->procs ? &procs : NULL;
	if (i && o->fmt == TS_FMT_TABLE)
		printf("\n");
	ts_print(o->fmt, &c->v);
	free(procs.v);
	return 0;
}

static int run_samples(const struct ts_opts *o)
{
	struct ts_samples c = {
		.v = {
			.show = o->show,
			.fams = o->fams,
			.watch = o->watch,
			.no_header = o->no_header,
		},
	};

	return run_watch(o, one_sample, &c);
}

/* ---- --all-netns and --ports ---- */

static int read_table(const struct ts_opts *o, struct ts_table *t)
{
	const char *ports = env_path("TCPSTATES_PROC_PORTS",
				     TS_PROC_PORTS_DEFAULT);
	int ret;

	if (o->mode == TS_MODE_ALL)
		ret = ts_read_table(TS_MODE_ALL,
				    env_path("TCPSTATES_PROC_ALL",
					     TS_PROC_ALL_DEFAULT), t);
	else if (o->source == TS_SRC_NETLINK ||
		 (o->source == TS_SRC_AUTO &&
		  (o->fams != TS_FAMS_ALL || access(ports, F_OK))))
		ret = ts_read_ports_netlink(t, o->fams);
	else
		ret = ts_read_table(TS_MODE_PORTS, ports, t);
	if (!ret && o->mode == TS_MODE_ALL)
		ts_find_owners(t, env_path("TCPSTATES_PROCFS",
					   TS_PROCFS_DEFAULT));
	clock_gettime(CLOCK_REALTIME, &t->wall);
	return ret;
}

static int one_table(const struct ts_opts *o, unsigned long i, void *ctx)
{
	struct ts_table_view v = {
		.show = o->show,
		.filtered = o->filtered,
		.no_header = o->no_header,
		.watch = o->watch,
		.top = o->top,
	};
	struct ts_procs procs = { 0 };
	struct ts_table t;

	(void)ctx;
	if (read_table(o, &t))
		return -1;
	if (o->procs && find_procs(o, &procs)) {
		free(t.rows);
		return -1;
	}
	v.procs = o->procs ? &procs : NULL;
	if (i && o->fmt == TS_FMT_TABLE)
		printf("\n");
	ts_print_table(o->fmt, &t, &v);
	free(procs.v);
	free(t.rows);
	return 0;
}

/* ---- --set and --check-tw ---- */

static int run_sets(const struct ts_opts *o)
{
	const char *dir = env_path("TCPSTATES_SYSFS", TS_SYSFS_DEFAULT);
	char key[32];
	unsigned int i;
	size_t klen;

	for (i = 0; i < o->nsets; i++) {
		klen = strcspn(o->sets[i], "=");
		snprintf(key, sizeof(key), "%.*s", (int)klen, o->sets[i]);
		if (ts_set_tunable(dir, key, o->sets[i] + klen + 1))
			return 1;
	}
	return 0;
}

/* Above @pct percent of the limit; with limit 0 any TIME_WAIT is. */
static bool tw_above(const struct ts_sample *s, double pct)
{
	if (!s->max_tw_buckets)
		return s->tw_count > 0;
	return s->tw_count * 100.0 > pct * s->max_tw_buckets;
}

/* A threshold in sockets, for perfdata: above it is above @pct. */
static unsigned long long tw_threshold(const struct ts_sample *s, double pct)
{
	return (unsigned long long)floor(pct * s->max_tw_buckets / 100.0);
}

/*
 * One Monitoring Plugins status line, perfdata after the "|":
 * TIME_WAIT WARNING - 900 of limit 1000 (90.0%); warning above 80%,
 * critical above 95% | 'time_wait'=900;800;950;0;1000 'tw_overflow'=7c
 */
static int check_tw(const struct ts_opts *o, const struct ts_sample *s)
{
	static const char * const names[] = { "OK", "WARNING", "CRITICAL" };
	int status = TS_CHECK_OK;

	if (o->check_crit >= 0 && tw_above(s, o->check_crit))
		status = TS_CHECK_CRITICAL;
	else if (tw_above(s, o->check_warn))
		status = TS_CHECK_WARNING;
	printf("TIME_WAIT %s - %llu of limit %llu", names[status],
	       s->tw_count, s->max_tw_buckets);
	if (s->max_tw_buckets)
		printf(" (%.1f%%)", 100.0 * s->tw_count / s->max_tw_buckets);
	else
		printf(" (limit 0: no TIME_WAIT sockets allowed)");
	printf("; warning above %g%%", o->check_warn);
	if (o->check_crit >= 0)
		printf(", critical above %g%%", o->check_crit);
	printf(" | 'time_wait'=%llu;%llu;", s->tw_count,
	       tw_threshold(s, o->check_warn));
	if (o->check_crit >= 0)
		printf("%llu", tw_threshold(s, o->check_crit));
	printf(";0;%llu 'tw_overflow'=%lluc\n", s->max_tw_buckets,
	       s->tw_overflow);
	return status;
}

static int run_check(const struct ts_opts *o)
{
	struct ts_sample s;

	if (take_sample(o, &s)) {
		printf("TIME_WAIT UNKNOWN - %s\n", ts_last_err);
		return TS_CHECK_UNKNOWN;
	}
	return check_tw(o, &s);
}

int main(int argc, char **argv)
{
	struct ts_opts o;

	ts_parse_args(&o, argc, argv);
	ts_set_labels(o.labels, o.nlabels);
	if (o.netns && enter_netns(&o)) {
		if (o.check)
			printf("TIME_WAIT UNKNOWN - %s\n", ts_last_err);
		return ts_finish(o.check ? TS_CHECK_UNKNOWN : 1);
	}
	if (o.nsets)
		return ts_finish(run_sets(&o));
	if (o.mode != TS_MODE_SAMPLE)
		return ts_finish(run_watch(&o, one_table, NULL));
	/* Resolved once, so a watch never mixes sources. */
	if (o.source == TS_SRC_AUTO)
		o.source = auto_source();
	if (o.check)
		return ts_finish(run_check(&o));
	return ts_finish(run_samples(&o));
}
