// SPDX-License-Identifier: GPL-2.0
/*
 * The command line: getopt_long over long_opts[], then the checks that
 * need every option seen.  Any mistake is a usage error: one line on
 * stderr and exit 2, or with --check-tw, a Monitoring Plugins UNKNOWN
 * (a status line on stdout too, and exit 3).
 * Command line layer.  May call: the model layer (parse.c, err.c), libc.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_SET = 256,
	OPT_SOURCE,
	OPT_CHECK_TW,
	OPT_ALL_NETNS,
	OPT_PORTS,
	OPT_TOP,
	OPT_PROCESSES,
	OPT_LABEL,
	OPT_TRANSITIONS,
	OPT_AGES,
	OPT_CLOSE_WAIT,
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
	{ "ipv4",	no_argument,		NULL, '4' },
	{ "ipv6",	no_argument,		NULL, '6' },
	{ "netns",	required_argument,	NULL, 'n' },
	{ "netns-pid",	required_argument,	NULL, 'N' },
	{ "set",	required_argument,	NULL, OPT_SET },
	{ "source",	required_argument,	NULL, OPT_SOURCE },
	{ "check-tw",	required_argument,	NULL, OPT_CHECK_TW },
	{ "all-netns",	no_argument,		NULL, OPT_ALL_NETNS },
	{ "ports",	no_argument,		NULL, OPT_PORTS },
	{ "top",	required_argument,	NULL, OPT_TOP },
	{ "processes",	no_argument,		NULL, OPT_PROCESSES },
	{ "label",	required_argument,	NULL, OPT_LABEL },
	{ "transitions", no_argument,		NULL, OPT_TRANSITIONS },
	{ "ages",	no_argument,		NULL, OPT_AGES },
	{ "close-wait",	no_argument,		NULL, OPT_CLOSE_WAIT },
	{ NULL,		0,			NULL, 0 },
};

/* Labels tcpstates sets itself: --label may not take them. */
static const char * const ts_own_labels[] = {
	"netns", "source", "state", "family", "direction", "port", "pid",
	"command", "from", "to", "min_age_seconds",
};

static void print_help(void)
{
	printf("Usage: tcpstates [OPTIONS]\n"
	       "       tcpstates --ports|--all-netns [-s NAME] [--top N] [OPTIONS]\n"
	       "       tcpstates --transitions [-s NAME] [OPTIONS]\n"
	       "       tcpstates --transitions --ports [-s NAME] [--top N] [OPTIONS]\n"
	       "       tcpstates --ages [-s NAME] [OPTIONS]\n"
	       "       tcpstates --close-wait [--top N] [OPTIONS]\n"
	       "       tcpstates --check-tw WARN[,CRIT] [-n NETNS] [--source SRC]\n"
	       "       tcpstates --set KEY=VALUE ...\n"
	       "Count TCP sockets by state and address family.\n"
	       "\n"
	       "      --ports              by service port: in PORT, out PORT\n"
	       "      --all-netns          every network namespace (module or pins, root)\n"
	       "      --top N              the N rows with most sockets (in -s states)\n"
	       "      --processes          name the processes holding the sockets\n"
	       "      --transitions        moves between states since the module loaded or the pin\n"
	       "                           (with --ports: entries into SYN_RECV, CLOSE_WAIT,\n"
	       "                           TIME_WAIT by service port)\n"
	       "      --ages               sockets by state and age: <1s ... >=1d\n"
	       "      --close-wait         ports holding CLOSE_WAIT sockets, the oldest's age\n"
	       "  -s, --state NAME[,NAME]  only these states (netstat or ss names)\n"
	       "  -4, --ipv4               IPv4 sockets only\n"
	       "  -6, --ipv6               IPv6 sockets only\n"
	       "  -H, --no-header          omit the table header\n"
	       "  -j, --json               print one JSON object per sample\n"
	       "  -p, --prometheus         print Prometheus text exposition\n"
	       "      --label KEY=VALUE    add a label to every Prometheus sample\n"
	       "  -w, --watch SECONDS      repeat every SECONDS (at least %g)\n"
	       "  -c, --count COUNT        stop after COUNT samples\n"
	       "  -n, --netns PATH|NAME    enter this network namespace first\n"
	       "  -N, --netns-pid PID      enter the network namespace of PID\n"
	       "      --source SRC         auto (default), module, pin, bpf or netlink\n"
	       "      --check-tw W[,C]     Nagios-style check of TIME_WAIT against\n"
	       "                           W and C percent of the limit\n"
	       "      --set KEY=VALUE      set max_tw_buckets or tw_reuse\n"
	       "  -V, --version            print the version\n"
	       "  -h, --help               print this help\n"
	       "\n"
	       "Environment: TCPSTATES_PROC (default %s),\n"
	       "TCPSTATES_PROC_ALL (%s), TCPSTATES_PROC_PORTS (%s),\n"
	       "TCPSTATES_PROC_TRANSITIONS (%s),\n"
	       "TCPSTATES_PROC_TRANSITIONS_PORTS (%s),\n"
	       "TCPSTATES_PROC_AGES (%s),\n"
	       "TCPSTATES_PROC_CLOSE_WAIT (%s),\n"
	       "TCPSTATES_SYSFS (%s), TCPSTATES_PROCFS (%s),\n"
	       "TCPSTATES_BPF_DIR (%s).\n"
	       "Exit status: 0 ok, 1 error, 2 usage error; with --check-tw\n"
	       "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (any error).\n",
	       TS_MIN_WATCH, TS_PROC_DEFAULT, TS_PROC_ALL_DEFAULT,
	       TS_PROC_PORTS_DEFAULT, TS_PROC_TRANSITIONS_DEFAULT,
	       TS_PROC_TR_PORTS_DEFAULT, TS_PROC_AGES_DEFAULT, TS_PROC_CLOSE_WAIT_DEFAULT,
	       TS_SYSFS_DEFAULT, TS_PROCFS_DEFAULT,
	       TS_PIN_DIR_DEFAULT);
}

/* Report a usage error and exit 2 (3 with --check-tw); never returns. */
static void usage_err(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "tcpstates: %s; see tcpstates --help\n", msg);
	if (ts_check_mode) {
		printf("TIME_WAIT UNKNOWN - %s\n", msg);
		exit(ts_finish(TS_CHECK_UNKNOWN));
	}
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

static unsigned long parse_whole(const char *opt, const char *arg)
{
	double v = parse_num(opt, arg, 1e9);

	if (v < 1 || v != (unsigned long)v)
		usage_err("%s: want a whole number above 0, not \"%s\"", opt,
			  arg);
	return (unsigned long)v;
}

static void parse_states(struct ts_opts *o, const char *arg)
{
	char *list = strdup(arg), *save = NULL, *name;
	unsigned int mask;
	bool any = false;
	int st;

	if (!list)
		usage_err("--state: out of memory");
	if (!o->filtered)
		memset(o->show, 0, sizeof(o->show));
	o->filtered = true;
	for (name = strtok_r(list, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		mask = ts_state_mask(name);
		if (!mask)
			usage_err("--state: unknown state \"%s\"", name);
		for (st = 1; st < TCPSTATES_NR_STATES; st++)
			o->show[st] |= !!(mask & TS_BIT(st));
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
	if (!strcmp(arg, "bpf"))
		return TS_SRC_BPF;
	if (!strcmp(arg, "pin"))
		return TS_SRC_PIN;
	usage_err("--source: unknown source \"%s\" (auto, module, pin, bpf, netlink)",
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

/* One threshold of --check-tw: a percentage, "%" allowed. */
static double parse_pct(const char *arg, size_t len)
{
	char buf[32];

	if (len && arg[len - 1] == '%')
		len--;
	if (!len || len >= sizeof(buf))
		usage_err("--check-tw: want WARN[,CRIT] in percent, not \"%s\"",
			  arg);
	memcpy(buf, arg, len);
	buf[len] = '\0';
	return parse_num("--check-tw", buf, 100);
}

static void parse_check(struct ts_opts *o, const char *arg)
{
	const char *comma = strchr(arg, ',');

	o->check = true;
	o->check_warn = parse_pct(arg, comma ? (size_t)(comma - arg) :
				  strlen(arg));
	o->check_crit = comma ? parse_pct(comma + 1, strlen(comma + 1)) : -1;
	if (comma && o->check_crit < o->check_warn)
		usage_err("--check-tw: CRIT %g%% is below WARN %g%%",
			  o->check_crit, o->check_warn);
}

/* [a-zA-Z_][a-zA-Z0-9_]*, and no leading "__" (reserved) */
static bool label_name_ok(const char *name, size_t len)
{
	size_t i;

	if (!len || isdigit((unsigned char)name[0]) ||
	    !strncmp(name, "__", 2))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	return true;
}

/* KEY=VALUE: a Prometheus label name that is not one of ours. */
static void parse_label(struct ts_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');
	unsigned int i;

	if (!eq || !label_name_ok(arg, eq - arg))
		usage_err("--label: want KEY=VALUE, KEY a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, no leading __), not \"%s\"",
			  arg);
	*eq = '\0';
	for (i = 0; i < ARRAY_SIZE(ts_own_labels); i++)
		if (!strcmp(arg, ts_own_labels[i]))
			usage_err("--label: \"%s\" is a label tcpstates sets itself",
				  arg);
	for (i = 0; i < o->nlabels; i++)
		if (!strcmp(arg, o->labels[i].key))
			usage_err("--label: \"%s\" given twice", arg);
	if (o->nlabels == TS_MAX_LABELS)
		usage_err("--label: at most %d", TS_MAX_LABELS);
	o->labels[o->nlabels].key = arg;
	o->labels[o->nlabels++].val = eq + 1;
}

static void set_netns(struct ts_opts *o, int c, const char *arg)
{
	if (o->netns)
		usage_err("--netns and --netns-pid: give one namespace");
	o->netns_opt = c == 'n' ? "--netns" : "--netns-pid";
	o->netns_arg = arg;
	o->netns = arg;
	if (c == 'n')
		return;
	if (!arg[0] || strspn(arg, "0123456789") != strlen(arg) ||
	    arg[0] == '0' || strlen(arg) > 10)
		usage_err("--netns-pid: want a process ID, not \"%s\"", arg);
	snprintf(o->netns_pid, sizeof(o->netns_pid), "/proc/%s/ns/net", arg);
	o->netns = o->netns_pid;
}

/* --transitions and --ports, in either order: one mode of their own. */
static bool tr_ports_pair(enum ts_mode had, enum ts_mode mode)
{
	return (mode == TS_MODE_PORTS || mode == TS_MODE_TRANSITIONS) &&
	       (had == TS_MODE_PORTS || had == TS_MODE_TRANSITIONS ||
		had == TS_MODE_TR_PORTS) && had != mode;
}

static void set_mode(struct ts_opts *o, enum ts_mode mode)
{
	if (tr_ports_pair(o->mode, mode))
		mode = TS_MODE_TR_PORTS;
	else if (o->mode != TS_MODE_SAMPLE && o->mode != mode)
		usage_err("--all-netns, --ports, --transitions, --ages and --close-wait exclude each other, but for --transitions --ports");
	o->mode = mode;
}

static void bad_opt(int c, char **argv)
{
	if (c == ':')
		usage_err("option \"%s\" needs an argument", argv[optind - 1]);
	usage_err("unknown option \"%s\"", argv[optind - 1]);
}

/* Options that only choose what to print. */
static bool parse_view_opt(struct ts_opts *o, int c)
{
	switch (c) {
	case 'H':
		o->no_header = true;
		return true;
	case 'j':
	case 'p':
		if (o->fmt != TS_FMT_TABLE)
			usage_err("--json and --prometheus exclude each other");
		o->fmt = c == 'j' ? TS_FMT_JSON : TS_FMT_PROM;
		return true;
	case 's':
		parse_states(o, optarg);
		return true;
	case '4':
	case '6':
		o->fams |= TS_BIT(c == '4' ? TCPSTATES_IPV4 : TCPSTATES_IPV6);
		return true;
	case OPT_TOP:
		o->top = parse_whole("--top", optarg);
		return true;
	case OPT_PROCESSES:
		o->procs = true;
		return true;
	case OPT_LABEL:
		parse_label(o, optarg);
		return true;
	}
	return false;
}

static void parse_opt(struct ts_opts *o, int c, char **argv)
{
	if (parse_view_opt(o, c))
		return;
	switch (c) {
	case OPT_ALL_NETNS:
		set_mode(o, TS_MODE_ALL);
		break;
	case OPT_PORTS:
		set_mode(o, TS_MODE_PORTS);
		break;
	case OPT_TRANSITIONS:
		set_mode(o, TS_MODE_TRANSITIONS);
		break;
	case OPT_AGES:
		set_mode(o, TS_MODE_AGES);
		break;
	case OPT_CLOSE_WAIT:
		set_mode(o, TS_MODE_CLOSE_WAIT);
		break;
	case 'h':
		print_help();
		exit(ts_finish(0));
	case 'V':
		printf("tcpstates %s (format %d)\n", TS_VERSION,
		       TCPSTATES_FORMAT_VERSION);
		exit(ts_finish(0));
	case 'w':
		o->watch = true;
		o->interval = parse_num("--watch", optarg, TS_MAX_WATCH);
		if (o->interval < TS_MIN_WATCH)
			usage_err("--watch: the interval must be at least %g s",
				  TS_MIN_WATCH);
		break;
	case 'c':
		o->watch = true;
		o->count = parse_whole("--count", optarg);
		break;
	case 'n':
	case 'N':
		set_netns(o, c, optarg);
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
		parse_check(o, optarg);
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

/* --check-tw and --set print one line each: nothing else applies. */
static void check_action(const struct ts_opts *o)
{
	if (o->watch + o->check + !!o->nsets > 1)
		usage_err("--watch/--count, --check-tw and --set exclude each other");
	if (!o->check && !o->nsets)
		return;
	if (o->mode != TS_MODE_SAMPLE)
		usage_err("--all-netns, --ports, --transitions, --ages and --close-wait do not go with --check-tw or --set");
	if (o->fmt != TS_FMT_TABLE || o->procs || o->nlabels)
		usage_err("--check-tw and --set print one line; drop --json, --prometheus, --label and --processes");
	if (o->check && o->fams != TS_FAMS_ALL)
		usage_err("--check-tw checks tw_count, both families; drop -4/-6");
}

/*
 * Transitions come from the module or the pins; ages from the module,
 * the pins or a sock_diag dump.
 */
static void check_module_only(const struct ts_opts *o)
{
	bool ages = o->mode == TS_MODE_AGES;
	const char *opt = ages ? "--ages" : "--transitions";

	if (!ages && o->mode != TS_MODE_TRANSITIONS)
		return;
	if (ages && o->source == TS_SRC_BPF)
		usage_err("--ages reads the module's %s, the pinned one (tcpstates pin) or sock_diag; use --source module, pin or netlink",
			  TS_PROC_AGES_DEFAULT);
	if (!ages && o->source != TS_SRC_AUTO && o->source != TS_SRC_MODULE &&
	    o->source != TS_SRC_PIN)
		usage_err("--transitions reads the module's %s or the pinned one (tcpstates pin); use --source module or pin",
			  TS_PROC_TRANSITIONS_DEFAULT);
	if (o->procs)
		usage_err("--processes works with the per-state table and --ports, not %s",
			  opt);
	if (o->top)
		usage_err("--top needs --ports, --all-netns or --close-wait");
	if (ages && o->fams != TS_FAMS_ALL)
		usage_err("--ages counts IPv4 and IPv6 together; drop -4/-6");
}

/*
 * --transitions --ports: the module's file or the pinned one, both families together,
 * columns SYN_RECV, CLOSE_WAIT and TIME_WAIT, which -s may narrow.
 */
static void check_tr_ports(const struct ts_opts *o)
{
	const bool *show = o->show;

	if (o->mode != TS_MODE_TR_PORTS)
		return;
	if (o->source != TS_SRC_AUTO && o->source != TS_SRC_MODULE &&
	    o->source != TS_SRC_PIN)
		usage_err("--transitions --ports reads the module's %s or the pinned one; no sock_diag equivalent: use --source module or pin",
			  TS_PROC_TR_PORTS_DEFAULT);
	if (o->procs)
		usage_err("--processes works with the per-state table and --ports, not --transitions --ports");
	if (o->fams != TS_FAMS_ALL)
		usage_err("--transitions --ports counts IPv4 and IPv6 together; drop -4/-6");
	if (!show[TCP_SYN_RECV] && !show[TCP_CLOSE_WAIT] && !show[TCP_TIME_WAIT])
		usage_err("--transitions --ports counts entries into SYN_RECV, CLOSE_WAIT and TIME_WAIT; -s names none of them");
}

/*
 * --close-wait: the module's file, or a sock_diag dump (-4/-6 there);
 * CLOSE_WAIT only, which --processes then looks for.
 */
static void check_close_wait(struct ts_opts *o)
{
	int st;

	if (o->mode != TS_MODE_CLOSE_WAIT)
		return;
	if (o->filtered)
		usage_err("--close-wait shows CLOSE_WAIT only; drop -s");
	if (o->source == TS_SRC_PIN || o->source == TS_SRC_BPF)
		usage_err("--close-wait reads the module's %s or sock_diag; use --source module or netlink",
			  TS_PROC_CLOSE_WAIT_DEFAULT);
	if (o->fams != TS_FAMS_ALL && o->source == TS_SRC_MODULE)
		usage_err("the module's --close-wait rows count IPv4 and IPv6 together; use --source netlink with -4/-6");
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		o->show[st] = st == TCP_CLOSE_WAIT;
}

static void check_mode(struct ts_opts *o)
{
	check_module_only(o);
	check_tr_ports(o);
	check_close_wait(o);
	if (o->mode == TS_MODE_SAMPLE && o->top)
		usage_err("--top needs --ports, --all-netns or --close-wait");
	if (o->mode == TS_MODE_ALL && o->netns)
		usage_err("--all-netns reads every netns from the initial one; drop --netns");
	if (o->mode == TS_MODE_ALL && o->source == TS_SRC_NETLINK)
		usage_err("--all-netns needs the module (/proc/tcpstates_all), the pins or the bpf source; drop --source netlink");
	if (o->mode == TS_MODE_ALL && o->fams != TS_FAMS_ALL)
		usage_err("--all-netns counts IPv4 and IPv6 together; drop -4/-6");
	if (o->mode == TS_MODE_ALL && o->procs)
		usage_err("--processes works with the per-state table and --ports, not --all-netns");
	if (o->mode == TS_MODE_PORTS && o->fams != TS_FAMS_ALL &&
	    (o->source == TS_SRC_MODULE || o->source == TS_SRC_PIN ||
	     o->source == TS_SRC_BPF))
		usage_err("the module's --ports rows count IPv4 and IPv6 together; use --source netlink with -4/-6");
	if ((o->mode == TS_MODE_ALL || o->mode == TS_MODE_PORTS) &&
	    o->fmt == TS_FMT_TABLE && !o->filtered)
		main_states(o->show);
}

static void check_output(struct ts_opts *o)
{
	if (o->watch && o->fmt == TS_FMT_PROM)
		usage_err("--prometheus prints one sample; drop --watch");
	if (o->procs && o->fmt == TS_FMT_PROM)
		usage_err("--processes prints a table or JSON; PIDs would make a series each");
	if (o->nlabels && o->fmt != TS_FMT_PROM)
		usage_err("--label applies to --prometheus output");
	if (o->watch && !o->interval)
		o->interval = 1;
}

/* --check-tw, even abbreviated: usage errors become UNKNOWN (exit 3). */
static bool wants_check(int argc, char **argv)
{
	const char *opt = "--check-tw";
	size_t len;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		len = strcspn(argv[i], "=");
		if (len >= 4 && len <= strlen(opt) &&
		    !strncmp(argv[i], opt, len))
			return true;
	}
	return false;
}

void ts_parse_args(struct ts_opts *o, int argc, char **argv)
{
	int c, st;

	memset(o, 0, sizeof(*o));
	o->fmt = TS_FMT_TABLE;
	o->source = TS_SRC_AUTO;
	for (st = 1; st < TCPSTATES_NR_STATES; st++)
		o->show[st] = true;
	ts_check_mode = wants_check(argc, argv);
	opterr = 0;	/* our own one-line messages instead */
	while ((c = getopt_long(argc, argv, ":hVHjpw:c:s:n:N:46", long_opts,
				NULL)) != -1)
		parse_opt(o, c, argv);
	if (optind < argc)
		usage_err("unexpected argument \"%s\"", argv[optind]);
	if (!o->fams)
		o->fams = TS_FAMS_ALL;
	check_action(o);
	check_mode(o);
	check_output(o);
}
