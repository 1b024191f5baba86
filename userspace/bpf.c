// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf source: the module's walk run as a BPF program (tcpstates.bpf.c)
 * for hosts that cannot load the module.  Each read loads the program,
 * attaches it as a task iterator filtered to this thread, runs it over
 * the listener table and then ehash in bounded ranges of buckets, and
 * unloads it: nothing is pinned, nothing stays behind.
 *
 * The TIME_WAIT count and limit and the overflow counters come from /proc,
 * as for the netlink source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	case EACCES:
		return ts_reasons[TS_NO_PERM];
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

/* One program run over [start, start + TS_BPF_BUCKETS) of @table. */
static int run_once(struct tcpstates_bpf *skel, struct bpf_link *link,
		    unsigned int table, unsigned int first)
{
	char buf[64];
	ssize_t len;
	int fd;

	skel->bss->table = table;
	skel->bss->start = first;
	skel->bss->limit = TS_BPF_BUCKETS;
	skel->bss->ran = 0;
	fd = bpf_iter_create(bpf_link__fd(link));
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
	if (skel->bss->ran != 1) {
		ts_err("bpf: the program ran %u times for this thread, not once",
		       skel->bss->ran);
		return -1;
	}
	if (skel->bss->err) {
		ts_err("bpf: the walk could not read a table of the kernel");
		return -1;
	}
	return 0;
}

/* Every bucket of @table, a bounded range per run. */
static int walk_table(struct tcpstates_bpf *skel, struct bpf_link *link,
		      unsigned int table, unsigned long long *buckets)
{
	unsigned int first = 0;

	do {
		if (run_once(skel, link, table, first))
			return -1;
		/* Not even one chain fit in bpf_loop's steps. */
		if (skel->bss->next <= first &&
		    first < skel->bss->nr_slots) {
			ts_err("bpf: a chain of bucket %u is longer than one program run can walk",
			       first);
			return -1;
		}
		first = skel->bss->next;
	} while (first < skel->bss->nr_slots);
	*buckets += skel->bss->nr_slots;
	return 0;
}

static int walk(struct tcpstates_bpf *skel, struct ts_sample *s)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = { 0 };
	struct bpf_link *link;
	unsigned int st, fam;
	int ret;

	info.task.tid = gettid();
	opts.link_info = &info;
	opts.link_info_len = sizeof(info);
	link = bpf_program__attach_iter(skel->progs.tcpstates_walk, &opts);
	if (!link) {
		ret = -errno;
		ts_err("bpf: attach: %s", load_reason(ret));
		return -1;
	}
	ret = walk_table(skel, link, TS_BPF_LISTEN, &s->scan_buckets);
	if (!ret)
		ret = walk_table(skel, link, TS_BPF_EHASH, &s->scan_buckets);
	bpf_link__destroy(link);
	if (ret)
		return -1;
	if (skel->bss->incomplete) {
		ts_err("bpf: %llu chains kept changing under socket churn (%llu restarts); retry",
		       (unsigned long long)skel->bss->incomplete,
		       (unsigned long long)skel->bss->restarts);
		return -1;
	}
	s->has_restarts = true;
	s->scan_restarts = skel->bss->restarts;
	for (st = 1; st < TCPSTATES_NR_STATES; st++) {
		for (fam = 0; fam < TCPSTATES_NR_FAMILIES; fam++) {
			s->sockets[st][fam] = skel->bss->counts[st * 2 + fam];
			s->total[fam] += s->sockets[st][fam];
		}
	}
	return 0;
}

int ts_read_bpf(struct ts_sample *s)
{
	struct tcpstates_bpf *skel;
	int ret;

	memset(s, 0, sizeof(*s));
	s->source = TS_SRC_BPF;
	libbpf_set_print(ts_libbpf_print);
	skel = tcpstates_bpf__open();
	if (!skel) {
		ts_err("bpf: open: %s", strerror(errno));
		return -1;
	}
	ret = tcpstates_bpf__load(skel);
	if (ret) {
		ts_err("bpf: load: %s", load_reason(ret));
		tcpstates_bpf__destroy(skel);
		return -1;
	}
	skel->bss->target_tid = gettid();
	ret = walk(skel, s);
	tcpstates_bpf__destroy(skel);
	if (ret)
		return -1;
	return ts_read_counters(s);
}
