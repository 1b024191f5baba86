// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates: count TCP sockets per state and address family, from the
 * tcpstates module's /proc/tcpstates, from the same files pinned in bpffs,
 * from the module's walk run as a BPF program or from sock_diag netlink,
 * and manage the module's TIME_WAIT tunables.  --all-netns and --ports
 * print the module's per-namespace and per-port tables, --transitions
 * its counts of moves between states (with --ports, of entries into
 * three states by service port), --ages its sockets by age,
 * --close-wait the ports holding CLOSE_WAIT sockets and the oldest's age.
 *
 * Exit status: 0 ok, 1 runtime error (a write error on stdout too),
 * 2 usage error.  --check-tw is a monitoring plugin instead: 0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN for any error.
 *
 * Command line layer, on top: main() picks the source, runs the watch
 * loop and hands each sample to the output layer.  May call: every layer
 * below (cli.h), args.c, libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void ts_now(struct timespec *wall, struct timespec *mono)
{
	clock_gettime(CLOCK_REALTIME, wall);
	clock_gettime(CLOCK_MONOTONIC, mono);
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

static const char *pin_dir(void)
{
	return env_path("TCPSTATES_BPF_DIR", TS_PIN_DIR_DEFAULT);
}

static int take_sample(const struct ts_opts *o, struct ts_sample *s)
{
	int ret;

	if (o->source == TS_SRC_MODULE)
		ret = ts_read_module(proc_path(), s);
	else if (o->source == TS_SRC_PIN)
		ret = ts_read_pin(pin_dir(), TS_VERSION, s);
	else if (o->source == TS_SRC_BPF)
		ret = ts_read_bpf(s);
	else
		ret = ts_read_netlink(s);
	ts_now(&s->wall, &s->mono);
	return ret;
}

/*
 * Auto's last two steps: the bpf source if @open loads it (tried quietly),
 * unless TCPSTATES_NO_BPF=1, else netlink.
 */
static enum ts_source bpf_or_netlink(int (*open)(void))
{
	const char *no_bpf = getenv("TCPSTATES_NO_BPF");
	int ret;

	if (no_bpf && *no_bpf && strcmp(no_bpf, "0"))
		return TS_SRC_NETLINK;
	ts_err_quiet = true;
	ret = open();
	ts_err_quiet = false;
	return ret ? TS_SRC_NETLINK : TS_SRC_BPF;
}

/*
 * The module when it is loaded, else the pinned file when this user may
 * read it (no load), else the bpf walk when this kernel loads it (tried
 * quietly; the program stays for the reads), else sock_diag.
 * TCPSTATES_NO_BPF=1 skips the load, not the pins.
 */
static enum ts_source auto_source(void)
{
	if (!access(proc_path(), F_OK))
		return TS_SRC_MODULE;
	if (ts_pin_has(pin_dir(), TS_MODE_SAMPLE))
		return TS_SRC_PIN;
	return bpf_or_netlink(ts_bpf_open);
}

static int find_procs(const struct ts_opts *o, struct ts_procs *p)
{
	return ts_find_procs(p, o->show, o->fams, ts_by_port(o->mode),
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
		if (ts_flush())
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

static const char *table_path(enum ts_mode mode)
{
	if (mode == TS_MODE_ALL)
		return env_path("TCPSTATES_PROC_ALL", TS_PROC_ALL_DEFAULT);
	if (mode == TS_MODE_CLOSE_WAIT)
		return env_path("TCPSTATES_PROC_CLOSE_WAIT",
				TS_PROC_CLOSE_WAIT_DEFAULT);
	return env_path("TCPSTATES_PROC_PORTS", TS_PROC_PORTS_DEFAULT);
}

/*
 * The module's file, else the pinned one, else the pinned walk loaded
 * once (tried quietly, as auto_source() does), else for --ports sock_diag
 * (the only one that tells the families apart), and for --all-netns the
 * module's, whose error says what is missing.  --close-wait: the module's
 * file, else sock_diag.
 */
static enum ts_source auto_table_source(const struct ts_opts *o)
{
	enum ts_source src;

	if (ts_by_port(o->mode) && o->fams != TS_FAMS_ALL)
		return TS_SRC_NETLINK;
	if (!access(table_path(o->mode), F_OK))
		return TS_SRC_MODULE;
	if (o->mode == TS_MODE_CLOSE_WAIT)
		return TS_SRC_NETLINK;
	if (ts_pin_has(pin_dir(), o->mode))
		return TS_SRC_PIN;
	src = bpf_or_netlink(ts_bpf_table_open);
	return o->mode == TS_MODE_ALL && src == TS_SRC_NETLINK ?
	       TS_SRC_MODULE : src;
}

static int read_table(const struct ts_opts *o, struct ts_table *t)
{
	int ret;

	if (o->source == TS_SRC_PIN)
		ret = ts_read_pin_table(o->mode, pin_dir(), TS_VERSION, t);
	else if (o->source == TS_SRC_BPF)
		ret = ts_read_bpf_table(o->mode, t);
	else if (o->source == TS_SRC_NETLINK)
		ret = ts_read_ports_netlink(o->mode, t, o->fams);
	else
		ret = ts_read_table(o->mode, table_path(o->mode), t);
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
	if (o->mode == TS_MODE_CLOSE_WAIT)
		ts_print_close_wait(o->fmt, &t, &v);
	else
		ts_print_table(o->fmt, &t, &v);
	free(procs.v);
	free(t.rows);
	return 0;
}

/* ---- --transitions ---- */

struct ts_tr_samples {
	struct ts_transitions tr[2];
	struct ts_tr_view v;
};

/*
 * The module's file; with --source pin, or auto without the module, the
 * pinned one (pin_tr.bpf.c: the tracepoint's pairs, "-" for the others).
 */
static int read_transitions(const struct ts_opts *o, struct ts_transitions *tr)
{
	const char *path = env_path("TCPSTATES_PROC_TRANSITIONS",
				    TS_PROC_TRANSITIONS_DEFAULT);

	if (o->source == TS_SRC_PIN ||
	    (o->source == TS_SRC_AUTO && access(path, F_OK) &&
	     ts_pin_has(pin_dir(), TS_MODE_TRANSITIONS)))
		return ts_read_pin_transitions(pin_dir(), TS_VERSION, tr);
	return ts_read_transitions(path, tr);
}

static int one_transitions(const struct ts_opts *o, unsigned long i,
			   void *ctx)
{
	struct ts_tr_samples *c = ctx;
	struct ts_transitions *tr = &c->tr[i % 2];	/* not the last shown */

	if (read_transitions(o, tr))
		return -1;
	ts_now(&tr->wall, &tr->mono);
	c->v.prev = i ? c->v.cur : NULL;
	c->v.cur = tr;
	if (i && o->fmt == TS_FMT_TABLE)
		printf("\n");
	ts_print_transitions(o->fmt, &c->v);
	return 0;
}

static int run_transitions(const struct ts_opts *o)
{
	struct ts_tr_samples c = {
		.v = {
			.show = o->show,
			.fams = o->fams,
			.watch = o->watch,
			.no_header = o->no_header,
		},
	};

	return run_watch(o, one_transitions, &c);
}

/* ---- --transitions --ports: the module's file, or the pinned one ---- */

struct ts_trp_samples {
	struct ts_tr_ports p[2];
	struct ts_trp_view v;
};

/* As read_transitions(): the pin makes it where the kernel takes fentry. */
static int read_tr_ports(const struct ts_opts *o, struct ts_tr_ports *p)
{
	const char *path = env_path("TCPSTATES_PROC_TRANSITIONS_PORTS",
				    TS_PROC_TR_PORTS_DEFAULT);

	if (o->source == TS_SRC_PIN ||
	    (o->source == TS_SRC_AUTO && access(path, F_OK) &&
	     ts_pin_has(pin_dir(), TS_MODE_TR_PORTS)))
		return ts_read_pin_tr_ports(pin_dir(), TS_VERSION, p);
	return ts_read_tr_ports(path, p);
}

static int one_tr_ports(const struct ts_opts *o, unsigned long i, void *ctx)
{
	struct ts_trp_samples *c = ctx;
	struct ts_tr_ports *p = &c->p[i % 2];	/* not the last shown */

	if (read_tr_ports(o, p))
		return -1;
	ts_now(&p->wall, &p->mono);
	c->v.prev = i ? c->v.cur : NULL;
	c->v.cur = p;
	if (i && o->fmt == TS_FMT_TABLE)
		printf("\n");
	ts_print_tr_ports(o->fmt, &c->v);
	return 0;
}

static int run_tr_ports(const struct ts_opts *o)
{
	struct ts_trp_samples *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		ts_err("out of memory");
		return 1;
	}
	c->v.show = o->show;
	c->v.watch = o->watch;
	c->v.no_header = o->no_header;
	c->v.top = o->top;
	ret = run_watch(o, one_tr_ports, c);
	free(c);
	return ret;
}

/* ---- --ages ---- */

static const char *ages_path(void)
{
	return env_path("TCPSTATES_PROC_AGES", TS_PROC_AGES_DEFAULT);
}

static int one_ages(const struct ts_opts *o, unsigned long i, void *ctx)
{
	struct ts_ages_view v = {
		.show = o->show,
		.watch = o->watch,
		.no_header = o->no_header,
	};
	struct ts_ages a;
	int ret;

	(void)ctx;
	if (o->source == TS_SRC_NETLINK)
		ret = ts_read_ages_netlink(&a);
	else if (o->source == TS_SRC_PIN)
		ret = ts_read_pin_ages(pin_dir(), TS_VERSION, &a);
	else
		ret = ts_read_ages(ages_path(), &a);
	if (ret)
		return -1;
	clock_gettime(CLOCK_REALTIME, &a.wall);
	v.cur = &a;
	if (i && o->fmt == TS_FMT_TABLE)
		printf("\n");
	ts_print_ages(o->fmt, &v);
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

static int run_check(const struct ts_opts *o)
{
	struct ts_sample s;

	if (take_sample(o, &s))
		return ts_check_unknown();
	return ts_check_tw(&s, o->check_warn, o->check_crit);
}

int main(int argc, char **argv)
{
	struct ts_opts o;
	int rc;

	rc = ts_pin_main(argc, argv);
	if (rc >= 0)
		return rc;
	ts_parse_args(&o, argc, argv);
	ts_set_labels(o.labels, o.nlabels);
	if (o.netns && enter_netns(&o)) {
		if (o.check)
			return ts_finish(ts_check_unknown());
		return ts_finish(1);
	}
	if (o.nsets)
		return ts_finish(run_sets(&o));
	if (o.mode == TS_MODE_TRANSITIONS)
		return ts_finish(run_transitions(&o));
	if (o.mode == TS_MODE_TR_PORTS)
		return ts_finish(run_tr_ports(&o));
	/*
	 * The module's ages, else the pinned ones, else a sock_diag dump's
	 * (no SYN_SENT and SYN_RECV ages): once, for a watch.
	 */
	if (o.mode == TS_MODE_AGES && o.source == TS_SRC_AUTO)
		o.source = !access(ages_path(), F_OK) ? TS_SRC_MODULE :
			   ts_pin_has(pin_dir(), TS_MODE_AGES) ? TS_SRC_PIN :
			   TS_SRC_NETLINK;
	if (o.mode == TS_MODE_AGES)
		return ts_finish(run_watch(&o, one_ages, NULL));
	/* Resolved once, so a watch never mixes sources. */
	if (o.source == TS_SRC_AUTO)
		o.source = o.mode == TS_MODE_SAMPLE ? auto_source() :
			   auto_table_source(&o);
	if (o.mode != TS_MODE_SAMPLE)
		return ts_finish(run_watch(&o, one_table, NULL));
	if (o.check)
		return ts_finish(run_check(&o));
	return ts_finish(run_samples(&o));
}
