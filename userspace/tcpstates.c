// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates: count TCP sockets per state and address family, from the
 * tcpstates module's /proc/tcpstates or from sock_diag netlink, and
 * manage the module's TIME_WAIT tunables.  --all-netns and --ports print
 * the module's per-namespace and per-port tables.
 *
 * Exit status: 0 ok, 1 runtime error or --check-tw over the threshold,
 * 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpstates.h"

#define TS_MAX_SETS	8
#define TS_MAX_WATCH	86400.0

enum {
	OPT_SET = 256,
	OPT_SOURCE,
	OPT_CHECK_TW,
	OPT_ALL_NETNS,
	OPT_PORTS,
	OPT_TOP,
};

struct ts_opts {
	enum ts_mode mode;
	enum ts_format fmt;
	enum ts_source source;
	bool no_header;
	bool watch;
	double interval;
	unsigned long count;		/* samples to take, 0: forever */
	bool show[TCPSTATES_NR_STATES];
	bool filtered;			/* -s seen: later -s add states */
	const char *netns;
	const char *sets[TS_MAX_SETS];
	unsigned int nsets;
	bool check;
	double check_pct;
	unsigned long top;
};

static const struct option long_opts[] = {
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "no-header",	no_argument,		NULL, 'H' },
	{ "json",	no_argument,		NULL, 'j' },
	{ "prometheus",	no_argument,		NULL, 'p' },
	{ "watch",	required_argument,	NULL, 'w' },
	{ "count",	required_argument,	NULL, 'c' },
	{ "state",	required_argument,	NULL, 's' },
	{ "netns",	required_argument,	NULL, 'n' },
	{ "set",	required_argument,	NULL, OPT_SET },
	{ "source",	required_argument,	NULL, OPT_SOURCE },
	{ "check-tw",	required_argument,	NULL, OPT_CHECK_TW },
	{ "all-netns",	no_argument,		NULL, OPT_ALL_NETNS },
	{ "ports",	no_argument,		NULL, OPT_PORTS },
	{ "top",	required_argument,	NULL, OPT_TOP },
	{ NULL,		0,			NULL, 0 },
};

void ts_err(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpstates: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void print_help(void)
{
	printf("Usage: tcpstates [OPTIONS]\n"
	       "       tcpstates --all-netns|--ports [-s NAME] [--top N] [OPTIONS]\n"
	       "Count TCP sockets by state and address family.\n"
	       "\n"
	       "      --all-netns          every network namespace (module, root)\n"
	       "      --ports              by service port: in PORT, out PORT\n"
	       "      --top N              the N rows with most sockets (in -s states)\n"
	       "  -H, --no-header          omit the table header\n"
	       "  -j, --json               print one JSON object per sample\n"
	       "  -p, --prometheus         print Prometheus text exposition\n"
	       "  -w, --watch SECONDS      repeat every SECONDS, show deltas\n"
	       "  -c, --count COUNT        stop after COUNT samples\n"
	       "  -s, --state NAME[,NAME]  only these states (netstat or ss names)\n"
	       "  -n, --netns PATH|NAME    enter this network namespace first\n"
	       "      --source SRC         auto (default), module or netlink\n"
	       "      --check-tw PCT       exit 1 if TIME_WAIT is above PCT%% of the limit\n"
	       "      --set KEY=VALUE      set max_tw_buckets or tw_reuse\n"
	       "  -V, --version            print the version\n"
	       "  -h, --help               print this help\n"
	       "\n"
	       "Environment: TCPSTATES_PROC (default %s),\n"
	       "TCPSTATES_PROC_ALL (%s), TCPSTATES_PROC_PORTS (%s),\n"
	       "TCPSTATES_SYSFS (default %s).\n"
	       "Exit status: 0 ok, 1 error or TIME_WAIT over threshold, 2 usage error.\n",
	       TS_PROC_DEFAULT, TS_PROC_ALL_DEFAULT, TS_PROC_PORTS_DEFAULT,
	       TS_SYSFS_DEFAULT);
}

/* Report a usage error and exit 2; never returns. */
static void usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpstates: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see tcpstates --help\n", stderr);
	exit(2);
}

static double parse_num(const char *opt, const char *arg, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < 0 || v > max)
		usage_err("%s: bad value \"%s\" (want a number 0-%g)", opt,
			  arg, max);
	return v;
}

static void parse_states(struct ts_opts *o, const char *arg)
{
	char *list = strdup(arg), *save = NULL, *name;
	bool any = false;
	int st;

	if (!list)
		usage_err("--state: out of memory");
	if (!o->filtered)
		memset(o->show, 0, sizeof(o->show));
	o->filtered = true;
	for (name = strtok_r(list, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		st = ts_state_lookup(name);
		if (st < 0)
			usage_err("--state: unknown state \"%s\"", name);
		o->show[st] = true;
		any = true;
	}
	free(list);
	if (!any)
		usage_err("--state: no state given");
}

static enum ts_source parse_source(const char *arg)
{
	if (!strcmp(arg, "auto"))
		return TS_SRC_AUTO;
	if (!strcmp(arg, "module"))
		return TS_SRC_MODULE;
	if (!strcmp(arg, "netlink"))
		return TS_SRC_NETLINK;
	usage_err("--source: unknown source \"%s\" (auto, module, netlink)",
		  arg);
	return TS_SRC_AUTO;
}

/* Checked here so a typo is a usage error, not a half-done write. */
static void check_set(const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : 0;

	if (!eq || !((klen == 14 && !strncmp(arg, "max_tw_buckets", 14)) ||
		     (klen == 8 && !strncmp(arg, "tw_reuse", 8))))
		usage_err("--set: want max_tw_buckets=N or tw_reuse=N, not \"%s\"",
			  arg);
	if (!eq[1] || strspn(eq + 1, "0123456789") != strlen(eq + 1))
		usage_err("--set: value of \"%s\" is not a non-negative integer",
			  arg);
}

static void set_mode(struct ts_opts *o, enum ts_mode mode)
{
	if (o->mode != TS_MODE_SAMPLE && o->mode != mode)
		usage_err("--all-netns and --ports exclude each other");
	o->mode = mode;
}

static void bad_opt(int c, char **argv)
{
	if (c == ':')
		usage_err("option \"%s\" needs an argument", argv[optind - 1]);
	usage_err("unknown option \"%s\"", argv[optind - 1]);
}

static void parse_opt(struct ts_opts *o, int c, char **argv)
{
	double count;

	switch (c) {
	case OPT_ALL_NETNS:
		set_mode(o, TS_MODE_ALL);
		break;
	case OPT_PORTS:
		set_mode(o, TS_MODE_PORTS);
		break;
	case OPT_TOP:
		count = parse_num("--top", optarg, 1e9);
		o->top = (unsigned long)count;
		if (!o->top || o->top != count)
			usage_err("--top: want a whole number above 0");
		break;
	case 'h':
		print_help();
		exit(0);
	case 'V':
		printf("tcpstates %s (format %d)\n", TS_VERSION,
		       TCPSTATES_FORMAT_VERSION);
		exit(0);
	case 'H':
		o->no_header = true;
		break;
	case 'j':
	case 'p':
		if (o->fmt != TS_FMT_TABLE)
			usage_err("--json and --prometheus exclude each other");
		o->fmt = c == 'j' ? TS_FMT_JSON : TS_FMT_PROM;
		break;
	case 'w':
		o->watch = true;
		o->interval = parse_num("--watch", optarg, TS_MAX_WATCH);
		if (o->interval <= 0)
			usage_err("--watch: interval must be above 0");
		break;
	case 'c':
		o->watch = true;
		count = parse_num("--count", optarg, 1e9);
		o->count = (unsigned long)count;
		if (!o->count || o->count != count)
			usage_err("--count: want a whole number above 0");
		break;
	case 's':
		parse_states(o, optarg);
		break;
	case 'n':
		o->netns = optarg;
		break;
	case OPT_SET:
		check_set(optarg);
		if (o->nsets == TS_MAX_SETS)
			usage_err("--set: at most %d", TS_MAX_SETS);
		o->sets[o->nsets++] = optarg;
		break;
	case OPT_SOURCE:
		o->source = parse_source(optarg);
		break;
	case OPT_CHECK_TW:
		o->check = true;
		o->check_pct = parse_num("--check-tw", optarg, 100);
		break;
	default:
		bad_opt(c, argv);
	}
}

/* The states a table shows by default: the ones that tell a story. */
static void main_states(bool *show)
{
	static const int states[] = {
		TCP_ESTABLISHED, TCP_SYN_RECV, TCP_FIN_WAIT2, TCP_TIME_WAIT,
		TCP_CLOSE_WAIT, TCP_LISTEN,
	};
	unsigned int i;

	memset(show, 0, TCPSTATES_NR_STATES * sizeof(*show));
	for (i = 0; i < ARRAY_SIZE(states); i++)
		show[states[i]] = true;
}

static void check_mode(struct ts_opts *o)
{
	if (o->mode == TS_MODE_SAMPLE) {
		if (o->top)
			usage_err("--top needs --ports or --all-netns");
		return;
	}
	if (o->watch || o->check || o->nsets)
		usage_err("--all-netns and --ports take one sample; drop --watch/--count, --check-tw and --set");
	if (o->mode == TS_MODE_ALL && o->netns)
		usage_err("--all-netns reads every netns from the initial one; drop --netns");
	if (o->mode == TS_MODE_ALL && o->source == TS_SRC_NETLINK)
		usage_err("--all-netns needs the module (/proc/tcpstates_all); drop --source netlink");
	if (o->fmt == TS_FMT_TABLE && !o->filtered)
		main_states(o->show);
}

static void parse_args(struct ts_opts *o, int argc, char **argv)
{
	int c;

	opterr = 0;	/* our own one-line messages instead */
	while ((c = getopt_long(argc, argv, ":hVHjpw:c:s:n:", long_opts,
				NULL)) != -1)
		parse_opt(o, c, argv);
	if (optind < argc)
		usage_err("unexpected argument \"%s\"", argv[optind]);
	if (o->watch + o->check + !!o->nsets > 1)
		usage_err("--watch/--count, --check-tw and --set exclude each other");
	if (o->watch && o->fmt == TS_FMT_PROM)
		usage_err("--prometheus prints one sample; drop --watch");
	if (o->watch && !o->interval)
		o->interval = 1;
	check_mode(o);
}

/* Before anything is opened, so every file and socket is the netns's. */
static int enter_netns(const char *name)
{
	char path[4096];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ts_err("--netns %s: %s", path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		ts_err("--netns %s: setns: %s (need CAP_SYS_ADMIN and a netns file)",
		       path, strerror(errno));
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
	if (o->source == TS_SRC_MODULE)
		return ts_read_module(proc_path(), s);
	return ts_read_netlink(s);
}

/* limit 0 means the kernel keeps no TIME_WAIT socket: any is too many. */
static int check_tw(const struct ts_sample *s, double pct)
{
	unsigned long long cnt = s->tw_count, lim = s->max_tw_buckets;
	bool over = lim ? cnt * 100.0 > pct * lim : cnt > 0;

	printf("TIME_WAIT %s: %llu of limit %llu", over ? "CRITICAL" : "OK",
	       cnt, lim);
	if (lim)
		printf(" (%.1f%%)", 100.0 * cnt / lim);
	printf(" is %sabove %g%%\n", over ? "" : "not ", pct);
	return over;
}

static void sleep_interval(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int run_samples(const struct ts_opts *o)
{
	struct ts_sample samples[2];
	struct ts_view v = {
		.show = o->show,
		.watch = o->watch,
		.no_header = o->no_header,
		.interval = o->interval,
	};
	unsigned long i;

	for (i = 0; !o->count || i < o->count; i++) {
		if (i)
			sleep_interval(o->interval);
		v.cur = &samples[i % 2];
		if (take_sample(o, (struct ts_sample *)v.cur))
			return 1;
		if (i && o->fmt == TS_FMT_TABLE)
			printf("\n");
		ts_print(o->fmt, &v);
		fflush(stdout);
		v.prev = v.cur;
		if (!o->watch)
			break;
	}
	return 0;
}

static int run_table(const struct ts_opts *o)
{
	struct ts_table_view v = {
		.show = o->show,
		.filtered = o->filtered,
		.no_header = o->no_header,
		.top = o->top,
	};
	const char *ports = env_path("TCPSTATES_PROC_PORTS",
				     TS_PROC_PORTS_DEFAULT);
	struct ts_table t;
	int ret;

	if (o->mode == TS_MODE_ALL)
		ret = ts_read_table(TS_MODE_ALL,
				    env_path("TCPSTATES_PROC_ALL",
					     TS_PROC_ALL_DEFAULT), &t);
	else if (o->source == TS_SRC_NETLINK ||
		 (o->source == TS_SRC_AUTO && access(ports, F_OK)))
		ret = ts_read_ports_netlink(&t);
	else
		ret = ts_read_table(TS_MODE_PORTS, ports, &t);
	if (ret)
		return 1;
	if (o->mode == TS_MODE_ALL)
		ts_find_owners(&t, env_path("TCPSTATES_PROCFS",
					    TS_PROCFS_DEFAULT));
	ts_print_table(o->fmt, &t, &v);
	free(t.rows);
	return 0;
}

static int run_sets(const struct ts_opts *o)
{
	const char *dir = getenv("TCPSTATES_SYSFS");
	char key[32];
	unsigned int i;
	size_t klen;

	if (!dir || !*dir)
		dir = TS_SYSFS_DEFAULT;
	for (i = 0; i < o->nsets; i++) {
		klen = strcspn(o->sets[i], "=");
		snprintf(key, sizeof(key), "%.*s", (int)klen, o->sets[i]);
		if (ts_set_tunable(dir, key, o->sets[i] + klen + 1))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct ts_opts o = { .fmt = TS_FMT_TABLE, .source = TS_SRC_AUTO };
	struct ts_sample s;
	int st;

	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		o.show[st] = true;
	parse_args(&o, argc, argv);
	if (o.netns && enter_netns(o.netns))
		return 1;
	if (o.nsets)
		return run_sets(&o);
	if (o.mode != TS_MODE_SAMPLE)
		return run_table(&o);
	/* Resolved once, so a watch never mixes sources. */
	if (o.source == TS_SRC_AUTO)
		o.source = access(proc_path(), F_OK) ? TS_SRC_NETLINK :
						       TS_SRC_MODULE;
	if (!o.check)
		return run_samples(&o);
	if (take_sample(&o, &s))
		return 1;
	return check_tw(&s, o.check_pct);
}
