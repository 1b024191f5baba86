// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf source: the module's walk run as a BPF program (tcpstates.bpf.c)
 * for hosts that cannot load the module.  The first read loads the
 * program and attaches it as a task iterator filtered to this thread;
 * each read then runs it over the listener table and ehash, in bounded
 * ranges of buckets.  Nothing is pinned: the program goes when the
 * reader exits.
 *
 * Each walk is a light skeleton (bpftool gen skeleton -L): a loader
 * program that the kernel runs once makes the maps, applies the CO-RE
 * relocations against the BTF the kernel already holds and loads the
 * walk.  No libbpf at run time, and no copy of the kernel's 5 MB of BTF
 * to read and parse in this process, which cost a one-shot read about
 * 10 of its 20 ms of load.
 *
 * The TIME_WAIT count and limit and the overflow counters come from /proc,
 * as for the netlink source.
 * Sources layer.  May call: netlink.c (the counters), the model layer,
 * libc and the kernel's bpf().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <linux/bpf.h>

#include "source.h"
#include "tcpstates_bpf.h"
#include "tcpstates_direct.lskel.h"
#include "tcpstates_probe.lskel.h"

/* The kernel's own "not supported", which reaches userspace as is. */
#define TS_ENOTSUPP		524

enum {
	TS_NO_BTF,
	TS_NO_PERM,
	TS_NO_PROG,
	TS_TOO_COMPLEX,
	TS_VERIFIER_NO,
};

static const char * const ts_reasons[] = {
	"the kernel has no BTF (/sys/kernel/btf/vmlinux)",
	"not permitted: needs root (CAP_BPF, CAP_PERFMON), and no lockdown confidentiality",
	"the kernel refused the program: needs bpf_loop (5.17) and a task iterator filtered to one thread (6.1)",
	"the kernel's verifier gave up on the program (too complex for it: a million instructions explored); please report this kernel's release",
	"the kernel's verifier refused the program (TCPSTATES_BPF_DEBUG=1 prints why); please report this kernel's release",
};

/*
 * Whether the kernel has all the programs need (6.1): then E2BIG is a
 * verifier that gave up, not a kernel older than the loader's bpf_attr
 * (5.10 does not know fd_array), and EINVAL or EACCES the verifier's no,
 * not a helper the kernel lacks.
 */
static bool ts_kernel_has_all(void)
{
	struct utsname u;
	unsigned int major, minor;

	return !uname(&u) && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
	       (major > 6 || (major == 6 && minor >= 1));
}

/*
 * Why the kernel refused: one line, for --source bpf, auto and pin;
 * @refused for a program the kernel cannot run, NULL for the walk's.
 */
const char *ts_bpf_reason(int ret, const char *refused)
{
	struct stat st;

	if (stat("/sys/kernel/btf/vmlinux", &st))
		return ts_reasons[TS_NO_BTF];
	switch (-ret) {
	case EPERM:
		return ts_reasons[TS_NO_PERM];
	case E2BIG:
		if (ts_kernel_has_all())
			return ts_reasons[TS_TOO_COMPLEX];
		return refused ?: ts_reasons[TS_NO_PROG];
	case EACCES:	/* the verifier's no */
	case EINVAL:
		if (ts_kernel_has_all())
			return ts_reasons[TS_VERIFIER_NO];
		return refused ?: ts_reasons[TS_NO_PROG];
	case TS_ENOTSUPP:
	case EOPNOTSUPP:
	case ESRCH:
	case ENOENT:
		return refused ?: ts_reasons[TS_NO_PROG];
	default:
		return strerror(-ret);
	}
}

static struct ts_direct *ts_direct;
static struct ts_probe *ts_probe;
static struct ts_bpf_io *ts_io;		/* the loaded walk's .bss */
static int ts_link = -1;
static char *ts_log;			/* the verifier's, on request */

/*
 * TCPSTATES_BPF_DEBUG=1: the loader's log, on failure.  It holds the BTF
 * check's listing of the program's types before the verifier's words, and
 * a log that overflows fails the load: hence its size.
 */
#define TS_LOG_SIZE		(16U << 20)
#define TS_LOG_TAIL		8192

void ts_bpf_log_setup(struct bpf_loader_ctx *ctx)
{
	if (!getenv("TCPSTATES_BPF_DEBUG"))
		return;
	if (!ts_log)
		ts_log = calloc(1, TS_LOG_SIZE);
	if (!ts_log)
		return;
	ts_log[0] = '\0';
	ctx->log_level = 1;
	ctx->log_size = TS_LOG_SIZE;
	ctx->log_buf = (__u64)(unsigned long)ts_log;
}

/* Its last lines: the verifier's verdict comes last. */
void ts_bpf_log_print(const char *walk, int ret)
{
	size_t len, from = 0;

	if (!ret || !ts_log)
		return;
	fprintf(stderr, "tcpstates: bpf: the %s walk did not load: %s\n",
		walk, strerror(-ret));
	len = strnlen(ts_log, TS_LOG_SIZE);
	if (len > TS_LOG_TAIL) {
		from = len - TS_LOG_TAIL;
		from += strcspn(ts_log + from, "\n") + 1;
	}
	if (from < len)
		fprintf(stderr, "%.*s", (int)(len - from), ts_log + from);
}

/*
 * load_direct() and load_probe(): load one walk's light skeleton (the two
 * are types alike but for their names), leaving its .bss in ts_io.
 * Returns 0 or the kernel's -errno.
 */
#define TS_DEFINE_LOAD(walk, prog)					\
static int load_##walk(int *prog_fd)					\
{									\
	int ret;							\
									\
	ts_##walk = ts_##walk##__open();				\
	if (!ts_##walk)							\
		return -ENOMEM;						\
	ts_bpf_log_setup(&ts_##walk->ctx);					\
	ret = ts_##walk##__load(ts_##walk);				\
	ts_bpf_log_print(#walk, ret);						\
	if (ret) {							\
		ts_##walk##__destroy(ts_##walk);			\
		ts_##walk = NULL;					\
		return ret;						\
	}								\
	ts_io = &ts_##walk->bss->io;					\
	*prog_fd = ts_##walk->progs.prog.prog_fd;			\
	return 0;							\
}

TS_DEFINE_LOAD(direct, tcpstates_walk_direct)
TS_DEFINE_LOAD(probe, tcpstates_walk)

static void unload(void)
{
	if (ts_direct)
		ts_direct__destroy(ts_direct);
	if (ts_probe)
		ts_probe__destroy(ts_probe);
	ts_direct = NULL;
	ts_probe = NULL;
	ts_io = NULL;
}

/* An iterator link of @prog_fd, @info its target's own settings. */
int ts_bpf_iter_link(int prog_fd, const union bpf_iter_link_info *info)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = prog_fd;
	attr.link_create.attach_type = BPF_TRACE_ITER;
	attr.link_create.iter_info = (__u64)(unsigned long)info;
	attr.link_create.iter_info_len = sizeof(*info);
	return skel_sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
}

/* The walk as a task iterator that runs for this thread only (6.1). */
static int attach(int prog_fd)
{
	union bpf_iter_link_info info = { .task.tid = gettid() };

	return ts_bpf_iter_link(prog_fd, &info);
}

static int iter_create(void)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.iter_create.link_fd = ts_link;
	return skel_sys_bpf(BPF_ITER_CREATE, &attr, sizeof(attr));
}

/* One program run over [start, start + TS_BPF_BUCKETS) of @table. */
static int run_once(unsigned int table, unsigned int first)
{
	char buf[64];
	ssize_t len;
	int fd;

	ts_io->table = table;
	ts_io->start = first;
	ts_io->limit = TS_BPF_BUCKETS;
	ts_io->ran = 0;
	fd = iter_create();
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
	if (ts_io->ran != 1) {
		ts_err("bpf: the program ran %u times for this thread, not once",
		       ts_io->ran);
		return -1;
	}
	if (ts_io->err) {
		ts_err("bpf: the walk could not read %s",
		       ts_io->err == TS_BPF_ELAYOUT ?
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
		if (ts_io->next <= first &&
		    first < ts_io->nr_slots) {
			ts_err("bpf: a chain of bucket %u is longer than one program run can walk",
			       first);
			return -1;
		}
		first = ts_io->next;
	} while (first < ts_io->nr_slots);
	*buckets += ts_io->nr_slots;
	return 0;
}

static int walk(struct ts_sample *s)
{
	struct timespec t0, t1;
	unsigned int st, fam;

	memset(ts_io->counts, 0, sizeof(ts_io->counts));
	ts_io->restarts = 0;
	ts_io->incomplete = 0;
	ts_io->err = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (walk_table(TS_BPF_LISTEN, &s->scan_buckets) ||
	    walk_table(TS_BPF_EHASH, &s->scan_buckets))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* The module's scan time is its walk's; here the runs', syscalls too. */
	s->has_scan = true;
	s->scan_ns = (t1.tv_sec - t0.tv_sec) * 1000000000ULL +
		     t1.tv_nsec - t0.tv_nsec;
	if (ts_io->incomplete) {
		ts_churn("bpf: %llu chains kept changing under socket churn (%llu restarts); retry",
			 (unsigned long long)ts_io->incomplete,
			 (unsigned long long)ts_io->restarts);
		return -1;
	}
	s->has_restarts = true;
	s->scan_restarts = ts_io->restarts;
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
			s->sockets[st][fam] = ts_io->counts[st * 2 + fam];
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
	const char *probe, *stray;
	int ret, prog_fd;
	bool direct;

	if (ts_link >= 0)
		return 0;
	/*
	 * Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK (the loader's
	 * own map is 80 KB) and say EPERM past it; libbpf lifts it the same
	 * way.  Those kernels cannot run the walk, but then say why.
	 */
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY });
	/* The older walk on demand: the tests compare both on one kernel. */
	probe = getenv("TCPSTATES_BPF_PROBE_READ");
	direct = !probe || !strcmp(probe, "0");
	ret = direct ? load_direct(&prog_fd) : load_probe(&prog_fd);
	/* Not permitted is not a missing kfunc: the other walk fares no better. */
	if (direct && ret < 0 && ret != -EPERM) {
		direct = false;
		ret = load_probe(&prog_fd);
	}
	if (ret) {
		ts_err("bpf: load: %s", ts_bpf_reason(ret, NULL));
		return -1;
	}
	if (getenv("TCPSTATES_BPF_DEBUG"))
		fprintf(stderr, "tcpstates: bpf: the walk reads with %s\n",
			direct ? "plain loads (bpf_rdonly_cast)" :
				 "bpf_probe_read_kernel");
	ts_io->target_tid = gettid();
	stray = getenv("TCPSTATES_BPF_STRAY");
	if (stray)
		ts_io->stray_tries = strtoul(stray, NULL, 10);
	ts_link = attach(prog_fd);
	if (ts_link < 0) {
		ts_err("bpf: attach: %s", ts_bpf_reason(-errno, NULL));
		unload();
		return -1;
	}
	return 0;
}

int ts_read_bpf(struct ts_sample *s)
{
	memset(s, 0, sizeof(*s));
	s->source = TS_SRC_BPF;
	if (ts_bpf_open() || walk(s))
		return -1;
	return ts_read_counters(s);
}
