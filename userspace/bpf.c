// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf source: the module's walk run as a BPF program (tcpstates.bpf.c)
 * for hosts that cannot load the module.  The first read loads the
 * program and attaches it as a task iterator filtered to this thread;
 * each read then runs it over the listener table and ehash, in bounded
 * ranges of buckets.  Nothing is pinned: the program goes when the
 * reader exits.
 *
 * The TIME_WAIT count and limit and the overflow counters come from /proc,
 * as for the netlink source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tcpstates.h"
#include "tcpstates_bpf.h"
#include "tcpstates.skel.h"

/*
 * Buckets per program run, one RCU read-side section: a 16M-bucket
 * private ehash takes 2048 runs, none of them long.
 */
#define TS_BPF_BUCKETS		8192

/* The kernel's own "not supported", which reaches userspace as is. */
#define TS_ENOTSUPP		524

static int ts_libbpf_print(enum libbpf_print_level level, const char *fmt,
			   va_list ap)
{
	/* libbpf's own messages (the verifier log) on request only. */
	if (!getenv("TCPSTATES_BPF_DEBUG"))
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

enum {
	TS_NO_BTF,
	TS_NO_PERM,
	TS_NO_PROG,
};

static const char * const ts_reasons[] = {
	"the kernel has no BTF (/sys/kernel/btf/vmlinux)",
	"not permitted: needs root (CAP_BPF, CAP_PERFMON), and no lockdown confidentiality",
	"the kernel refused the program: needs bpf_loop (5.17) and a task iterator filtered to one thread (6.1)",
};

/* Why the kernel refused: one line, for --source bpf and for auto. */
static const char *load_reason(int ret)
{
	struct stat st;

	if (stat("/sys/kernel/btf/vmlinux", &st))
		return ts_reasons[TS_NO_BTF];
	switch (-ret) {
	case EPERM:
		return ts_reasons[TS_NO_PERM];
	case EACCES:	/* the verifier's no */
	case EINVAL:
	case TS_ENOTSUPP:
	case EOPNOTSUPP:
	case ESRCH:
	case ENOENT:
		return ts_reasons[TS_NO_PROG];
	default:
		return strerror(-ret);
	}
}

static struct tcpstates_bpf *ts_skel;
static struct bpf_link *ts_link;

/*
 * Open and load one of the object's two walks: the plain-load one
 * (bpf_rdonly_cast, 6.2 and later) or the probe-read one.  Returns 0, the
 * kernel's -errno, or 1 when the object did not even open (said here).
 */
static int load(bool direct, struct bpf_program **prog)
{
	int ret;

	ts_skel = tcpstates_bpf__open();
	if (!ts_skel) {
		ts_err("bpf: open: %s", strerror(errno));
		return 1;
	}
	bpf_program__set_autoload(ts_skel->progs.tcpstates_walk_direct, direct);
	bpf_program__set_autoload(ts_skel->progs.tcpstates_walk, !direct);
	*prog = direct ? ts_skel->progs.tcpstates_walk_direct :
			 ts_skel->progs.tcpstates_walk;
	ret = tcpstates_bpf__load(ts_skel);
	if (ret) {
		tcpstates_bpf__destroy(ts_skel);
		ts_skel = NULL;
	}
	return ret;
}

/* One program run over [start, start + TS_BPF_BUCKETS) of @table. */
static int run_once(unsigned int table, unsigned int first)
{
	char buf[64];
	ssize_t len;
	int fd;

	ts_skel->bss->table = table;
	ts_skel->bss->start = first;
	ts_skel->bss->limit = TS_BPF_BUCKETS;
	ts_skel->bss->ran = 0;
	fd = bpf_iter_create(bpf_link__fd(ts_link));
	if (fd < 0) {
		ts_err("bpf: iterator: %s", strerror(errno));
		return -1;
	}
	do
		len = read(fd, buf, sizeof(buf));
	while (len > 0 || (len < 0 && errno == EINTR));
	close(fd);
	if (len < 0) {
		ts_err("bpf: iterator read: %s", strerror(errno));
		return -1;
	}
	if (ts_skel->bss->ran != 1) {
		ts_err("bpf: the program ran %u times for this thread, not once",
		       ts_skel->bss->ran);
		return -1;
	}
	if (ts_skel->bss->err) {
		ts_err("bpf: the walk could not read %s",
		       ts_skel->bss->err == TS_BPF_ELAYOUT ?
		       "struct sock_common in one piece" :
		       "a table of the kernel");
		return -1;
	}
	return 0;
}

/* Every bucket of @table, a bounded range per run. */
static int walk_table(unsigned int table, unsigned long long *buckets)
{
	unsigned int first = 0;

	do {
		if (run_once(table, first))
			return -1;
		/* Not even one chain fit in bpf_loop's steps. */
		if (ts_skel->bss->next <= first &&
		    first < ts_skel->bss->nr_slots) {
			ts_err("bpf: a chain of bucket %u is longer than one program run can walk",
			       first);
			return -1;
		}
		first = ts_skel->bss->next;
	} while (first < ts_skel->bss->nr_slots);
	*buckets += ts_skel->bss->nr_slots;
	return 0;
}

static int walk(struct ts_sample *s)
{
	struct timespec t0, t1;
	unsigned int st, fam;

	memset(ts_skel->bss->counts, 0, sizeof(ts_skel->bss->counts));
	ts_skel->bss->restarts = 0;
	ts_skel->bss->incomplete = 0;
	ts_skel->bss->err = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (walk_table(TS_BPF_LISTEN, &s->scan_buckets) ||
	    walk_table(TS_BPF_EHASH, &s->scan_buckets))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* The module's scan time is its walk's; here the runs', syscalls too. */
	s->has_scan = true;
	s->scan_ns = (t1.tv_sec - t0.tv_sec) * 1000000000ULL +
		     t1.tv_nsec - t0.tv_nsec;
	if (ts_skel->bss->incomplete) {
		ts_churn("bpf: %llu chains kept changing under socket churn (%llu restarts); retry",
			 (unsigned long long)ts_skel->bss->incomplete,
			 (unsigned long long)ts_skel->bss->restarts);
		return -1;
	}
	s->has_restarts = true;
	s->scan_restarts = ts_skel->bss->restarts;
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
			s->sockets[st][fam] = ts_skel->bss->counts[st * 2 + fam];
			s->total[fam] += s->sockets[st][fam];
		}
	}
	return 0;
}

/*
 * Load the program and attach it for this thread, once: --source auto
 * tries this (quietly) to choose the source, a watch reuses it.
 */
int ts_bpf_open(void)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = { 0 };
	struct bpf_program *prog;
	const char *probe, *stray;
	bool direct;
	int ret;

	if (ts_link)
		return 0;
	libbpf_set_print(ts_libbpf_print);
	/* The older walk on demand: the tests compare both on one kernel. */
	probe = getenv("TCPSTATES_BPF_PROBE_READ");
	direct = !probe || !strcmp(probe, "0");
	ret = load(direct, &prog);
	/* Not permitted is not a missing kfunc: the other walk fares no better. */
	if (direct && ret < 0 && ret != -EPERM) {
		direct = false;
		ret = load(direct, &prog);
	}
	if (ret > 0)
		return -1;
	if (ret) {
		ts_err("bpf: load: %s", load_reason(ret));
		return -1;
	}
	if (getenv("TCPSTATES_BPF_DEBUG"))
		fprintf(stderr, "tcpstates: bpf: the walk reads with %s\n",
			direct ? "plain loads (bpf_rdonly_cast)" :
				 "bpf_probe_read_kernel");
	ts_skel->bss->target_tid = gettid();
	stray = getenv("TCPSTATES_BPF_STRAY");
	if (stray)
		ts_skel->bss->stray_tries = strtoul(stray, NULL, 10);
	info.task.tid = gettid();
	opts.link_info = &info;
	opts.link_info_len = sizeof(info);
	ts_link = bpf_program__attach_iter(prog, &opts);
	if (!ts_link) {
		ts_err("bpf: attach: %s", load_reason(-errno));
		goto fail;
	}
	return 0;
fail:
	tcpstates_bpf__destroy(ts_skel);
	ts_skel = NULL;
	return -1;
}

int ts_read_bpf(struct ts_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->source = TS_SRC_BPF;
	if (ts_bpf_open() || walk(s))
		return -1;
	return ts_read_counters(s);
}
