// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: random sequences of operations on every file of the module, from
 * several processes in several network namespaces at once, for fuzz.sh
 * (issue 24).
 *
 *   fuzz [-s SEED] [-w WORKERS] [-n NETNS]... [-r ROOT] SECONDS
 *   fuzz -c FILE...
 *
 * Each worker opens the module's files (/proc/tcpstates, its siblings and
 * the files of /sys/kernel/tcpstates), reads them 1 byte to 64 KiB at a
 * time, seeks and preads at random offsets (negative, huge, SEEK_END,
 * SEEK_CUR...), keeps up to 64 of them open, writes random bytes and
 * near-valid numbers to the sysfs files, moves between network namespaces
 * (new ones, those of the NETNS files given, such as
 * /var/run/netns/NAME, and the initial one) and makes loopback
 * connections in them.  Worker 0 mostly makes connections.  The others
 * are, in turn, root, uid 65534 without capabilities (which nests user
 * and network namespaces of its own), and uid 0 without capabilities.
 *
 * Every whole read (from offset 0 to EOF on one descriptor, with nothing
 * else done to it in between) is checked against its file's grammar in
 * docs/interface.md.  Every errno is checked against those the docs allow
 * for that file and caller, and the result of every write against the
 * module's parser, modelled here.  A failure prints one "# FAIL" line with
 * the seed, the worker and the iteration, and the exit status is 1.
 * Files that vanish (fuzz.sh unloads the module) are not failures.
 *
 * The sysctls behind the writable files are saved at the start, in the
 * initial netns and each NETNS, and restored at the end.
 *
 * Worker W draws the choices of its iteration I from a stream of the seed,
 * W and I alone, so -s SEED (and the same -w) replays a run: the same
 * choices, as far as the kernel answers them the same way.
 *
 * -r ROOT (or FUZZ_ROOT) reads ROOT/proc/... and ROOT/sys/... instead, a
 * tree of fixtures readable by uid 65534: the module's own rules
 * (permissions, the opener's netns) are then not checked, and writes are
 * modelled, not made.  -c reads each FILE whole once and checks it; the
 * grammar is chosen by the file's name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpstates_transitions.h"
#include "tcputil.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_HELD	64		/* module files a worker keeps open */
#define MAX_SOCKS	32		/* sockets a worker keeps open */
#define MAX_READ	(64 << 10)
#define MAX_TEXT	(16 << 20)	/* a longer whole read is not kept */
#define MAX_WRITE	64
#define MAX_TOK		32
#define MAX_NETNS	16
#define MAX_SHOWN	10		/* failure lines a worker prints */
#define MAX_DEPTH	4		/* user namespaces a worker nests */
/* Namespaces a worker makes: their teardown is slow under KASAN. */
#define MAX_MADE	100
#define NR_ERRNO	256
#define NOBODY		65534
#define GRACE		60		/* seconds past the end: hung */
/* The per-state lines and columns: ESTABLISHED to CLOSING. */
#define NR_SHOWN	(TCPSTATES_NR_STATES - TCP_ESTABLISHED)
#define COL_CLOSE	(TCP_CLOSE - TCP_ESTABLISHED)

enum kind { K_STATES, K_ALL, K_PORTS, K_CW, K_AGES, K_TRANS, K_TRP, K_SYSFS };

struct mfile {
	const char *name;
	enum kind kind;
	long max;		/* writable: the largest valid value; else -1 */
};

static const struct mfile files[] = {
	{ "/proc/tcpstates",			K_STATES,	-1 },
	{ "/proc/tcpstates_all",		K_ALL,		-1 },
	{ "/proc/tcpstates_ports",		K_PORTS,	-1 },
	{ "/proc/tcpstates_close_wait",		K_CW,		-1 },
	{ "/proc/tcpstates_ages",		K_AGES,		-1 },
	{ "/proc/tcpstates_transitions",	K_TRANS,	-1 },
	{ "/proc/tcpstates_transitions_ports",	K_TRP,		-1 },
	{ "/sys/kernel/tcpstates/max_tw_buckets",	K_SYSFS, INT_MAX },
	{ "/sys/kernel/tcpstates/tw_reuse",		K_SYSFS, 2 },
	{ "/sys/kernel/tcpstates/tw_count",		K_SYSFS, -1 },
	{ "/sys/kernel/tcpstates/scans",		K_SYSFS, -1 },
	{ "/sys/kernel/tcpstates/scan_restarts",	K_SYSFS, -1 },
	{ "/sys/kernel/tcpstates/scan_incomplete",	K_SYSFS, -1 },
	{ "/sys/kernel/tcpstates/snapshot_bytes",	K_SYSFS, -1 },
};

#define NR_FILES	((int)ARRAY_SIZE(files))
#define NR_PROC		7	/* the first seven are /proc files */
#define NR_WRITABLE	2	/* files[NR_PROC] and the next */

/* Who a worker is, for the errors the module must give it. */
enum cred { C_ROOT, C_CAPLESS, C_USER };

static const char *const cred_names[] = {
	[C_ROOT]	= "root",
	[C_CAPLESS]	= "uid 0 without capabilities",
	[C_USER]	= "unprivileged",
};

enum op { OP_OPEN, OP_READ, OP_SEEK, OP_PREAD, OP_CLOSE, OP_WRITE, OP_NETNS,
	  OP_CHURN, NR_OPS };

static const char *const op_names[NR_OPS] = {
	"open", "read", "lseek", "pread", "close", "write", "netns", "churn",
};

static const unsigned char op_weights[2][NR_OPS] = {
	{ 30, 22, 8, 8, 8, 12, 3, 9 },	/* the file workers */
	{ 8, 4, 2, 2, 2, 2, 2, 78 },	/* worker 0: mostly connections */
};

/* One worker's counts, in memory shared with the parent. */
struct stats {
	long iter, opens, reads, bytes, seeks, preads, writes, writes_ok;
	long netns, conns, sock_errs, ns_errs, unkept, failures;
	long whole[ARRAY_SIZE(files)], malformed[ARRAY_SIZE(files)];
	long err[NR_ERRNO];
	int op, file;		/* what it is doing: for a hung worker */
};

struct rng {
	unsigned long long s;
};

/* An open descriptor of a module file, and its whole read so far. */
struct slot {
	int fd, file;
	unsigned long long ino;	/* the netns it was opened in */
	bool chain;		/* every read so far continued one from 0 */
	long long pos;		/* the file position, as the calls moved it */
	char *text;
	size_t len, cap;
};

struct worker {
	int idx;
	bool churner;
	enum cred cred;
	struct rng rng;
	long iter;
	unsigned long long ino;	/* its netns now */
	bool own_ns;		/* made by it: no one else writes there */
	int depth;		/* user namespaces nested */
	int lfd, lfamily;	/* its listener in this netns, or -1 */
	struct slot slot[MAX_HELD];
	int nheld;
	int socks[MAX_SOCKS];
	int nsocks;
	int shown;
	char *buf;		/* MAX_READ */
	struct stats *st;
};

/* The text being checked, a line at a time. */
struct ctx {
	int file;
	unsigned long long ino;	/* the netns it must name; 0: any */
	int line;
	char raw[96];
	char *tok[MAX_TOK];
	int ntok;
	unsigned long long sum[2];	/* /proc/tcpstates: the totals */
	unsigned long long last;	/* the last row's group or inode */
	int rows;
	bool other;			/* _transitions_ports: its last row */
	char *why;
	size_t whylen;
};

static unsigned long long seed;
static bool strict = true;	/* the module's files: its rules apply */
static bool is_root;
static char paths[ARRAY_SIZE(files)][PATH_MAX];
static int netns_fd[MAX_NETNS];	/* [0] the initial netns, then -n's */
static int nr_netns;
static unsigned long long init_ino;
static struct timespec end;
static char states_hdr[256];	/* "ESTABLISHED SYN_SENT ... CLOSING" */
static struct stats *stats;
static int nr_workers = 6;

static const char *const state_keys[] = {
	"tw_count", "max_tw_buckets", "tw_overflow", "listen_overflows",
	"listen_drops", "syncookies_sent", "scan_buckets", "scan_ns",
	"scan_restarts", "scan_incomplete",
};

/* splitmix64: spreads seed, worker and iteration over the whole state. */
static unsigned long long splitmix64(unsigned long long *x)
{
	unsigned long long z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* xorshift64*: one iteration's stream. */
static unsigned long long rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static unsigned long long below(struct rng *r, unsigned long long n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, int percent)
{
	return below(r, 100) < (unsigned long long)percent;
}

/*
 * Each iteration draws from a stream of its own: what worker W does at
 * iteration I does not depend on how many numbers earlier ones drew,
 * which depends on what the kernel answered them.
 */
static void rng_seed(struct rng *r, int worker, long iter)
{
	unsigned long long x = seed;

	x = splitmix64(&x) ^ (worker + 1ULL) * 0xd1342543de82ef95ULL;
	x = splitmix64(&x) ^ (unsigned long long)iter;
	r->s = splitmix64(&x) ?: 1;
}

static bool past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* One line to stdout in one write(2): workers print side by side. */
static void say(const char *fmt, ...)
{
	char line[768];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) < 0)
		return;
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "E?";
}

/* @len bytes of @in, escaped to stay on one printable line. */
static void escape(const char *in, size_t len, char *out, size_t size)
{
	unsigned char ch;
	size_t i, n = 0;

	for (i = 0; i < len && n + 5 < size; i++) {
		ch = in[i];
		if (ch >= ' ' && ch < 127 && ch != '\\' && ch != '"')
			out[n++] = ch;
		else
			n += snprintf(out + n, size - n, "\\x%02x", ch);
	}
	out[n] = '\0';
}

/* One "# FAIL" line: where to replay it from, then what went wrong. */
static void vreport(int idx, const char *who, long iter, int f,
		    const char *fmt, va_list ap)
{
	char what[512];

	vsnprintf(what, sizeof(what), fmt, ap);
	say("# FAIL seed %llu worker %d (%s) iteration %ld %s: %s", seed, idx,
	    who, iter, f >= 0 ? files[f].name : "-", what);
}

static void report(int idx, long iter, int f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(idx, "-", iter, f, fmt, ap);
	va_end(ap);
}

static void fail(struct worker *w, int f, const char *fmt, ...)
{
	va_list ap;

	w->st->failures++;
	if (w->shown++ >= MAX_SHOWN)
		return;
	va_start(ap, fmt);
	vreport(w->idx, cred_names[w->cred], w->iter, f, fmt, ap);
	va_end(ap);
}

/* ---- The grammars of docs/interface.md ---- */

static int bad(struct ctx *c, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->why, c->whylen, "line %d \"%s\": %s", c->line + 1,
		 c->raw, what);
	return -1;
}

/* A count as the module prints it: decimal, no sign, no leading zero. */
static int num(struct ctx *c, int i, unsigned long long max,
	       unsigned long long *val)
{
	const char *s = c->tok[i];
	unsigned long long v = 0, d;

	if (!*s || (s[0] == '0' && s[1]))
		return bad(c, "field %d is not a count", i + 1);
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return bad(c, "field %d is not a count", i + 1);
		d = *s - '0';
		if (d > max || v > (max - d) / 10)
			return bad(c, "field %d is over %llu", i + 1, max);
		v = v * 10 + d;
	}
	if (val)
		*val = v;
	return 0;
}

static int nfields(struct ctx *c, int n)
{
	if (c->ntok != n)
		return bad(c, "%d fields, expected %d", c->ntok, n);
	return 0;
}

static int word(struct ctx *c, int i, const char *want)
{
	if (strcmp(c->tok[i], want))
		return bad(c, "field %d is not \"%s\"", i + 1, want);
	return 0;
}

/* Fields from @i on are the words of @want: the index after, or -1. */
static int words(struct ctx *c, int i, const char *want)
{
	size_t n;

	while (*want) {
		n = strcspn(want, " ");
		if (i >= c->ntok || strlen(c->tok[i]) != n ||
		    strncmp(c->tok[i], want, n))
			return bad(c, "expected \"%s\" from field %d", want,
				   i + 1);
		i++;
		want += n + (want[n] == ' ');
	}
	return i;
}

static int exact(struct ctx *c, const char *want)
{
	int i = words(c, 0, want);

	return i < 0 ? -1 : nfields(c, i);
}

/* A header line: the words of @a, then the state names, then @b. */
static int header(struct ctx *c, const char *a, const char *b)
{
	int i = words(c, 0, a);

	if (i >= 0)
		i = words(c, i, states_hdr);
	if (i >= 0)
		i = words(c, i, b);
	return i < 0 ? -1 : nfields(c, i);
}

static int version(struct ctx *c)
{
	const char *name = strrchr(files[c->file].name, '/') + 1;

	if (c->ntok != 2 || strcmp(c->tok[0], name) || strcmp(c->tok[1], "1"))
		return bad(c, "the first line is not \"%s 1\"", name);
	return 0;
}

/* "netns N", N the namespace the file was opened in. */
static int netns_line(struct ctx *c)
{
	unsigned long long v;

	if (nfields(c, 2) || word(c, 0, "netns") || num(c, 1, UINT32_MAX, &v))
		return -1;
	if (c->ino && v != c->ino)
		return bad(c, "opened in netns %llu", c->ino);
	return 0;
}

/* Counts of the states from field @i on; CLOSE is never counted. */
static int cells(struct ctx *c, int i, unsigned long long *sum)
{
	unsigned long long v;
	int s;

	*sum = 0;
	for (s = 0; s < NR_SHOWN; s++) {
		if (num(c, i + s, s == COL_CLOSE ? 0 : UINT32_MAX, &v))
			return -1;
		*sum += v;
	}
	return 0;
}

/* "STATE ipv4 ipv6" of /proc/tcpstates, and its "total" line. */
static int state_pair(struct ctx *c, int s)
{
	const char *name = s < TCPSTATES_NR_STATES ?
			   tcpstates_state_names[s] : "total";
	unsigned long long v[2], max = s == TCP_CLOSE ? 0 : UINT64_MAX;

	if (nfields(c, 3) || word(c, 0, name) || num(c, 1, max, &v[0]) ||
	    num(c, 2, max, &v[1]))
		return -1;
	if (s < TCPSTATES_NR_STATES) {
		c->sum[0] += v[0];
		c->sum[1] += v[1];
	} else if (v[0] != c->sum[0] || v[1] != c->sum[1]) {
		return bad(c, "not the sums of the states, %llu %llu",
			   c->sum[0], c->sum[1]);
	}
	return 0;
}

static int line_states(struct ctx *c)
{
	int s = TCP_ESTABLISHED + c->line - 3;
	int k = c->line - 4 - NR_SHOWN;

	if (c->line == 0)
		return version(c);
	if (c->line == 1)
		return netns_line(c);
	if (c->line == 2)
		return exact(c, "state ipv4 ipv6");
	if (s <= TCPSTATES_NR_STATES)
		return state_pair(c, s);
	if (k >= (int)ARRAY_SIZE(state_keys))
		return bad(c, "a line past scan_incomplete");
	/* tw_count and max_tw_buckets are ints. */
	if (nfields(c, 2) || word(c, 0, state_keys[k]))
		return -1;
	return num(c, 1, k < 2 ? INT_MAX : UINT64_MAX, NULL);
}

static int line_ages(struct ctx *c)
{
	int s = TCP_ESTABLISHED + c->line - 3, i;

	if (c->line == 0)
		return version(c);
	if (c->line == 1)
		return netns_line(c);
	if (c->line == 2)
		return exact(c, "state <1s <10s <1m <10m <1h <1d >=1d");
	if (s >= TCPSTATES_NR_STATES)
		return bad(c, "a line past CLOSING");
	if (nfields(c, 8) || word(c, 0, tcpstates_state_names[s]))
		return -1;
	/* A listener has no age; CLOSE is never counted. */
	for (i = 1; i < 8; i++)
		if (s == TCP_LISTEN ? word(c, i, "-") :
		    num(c, i, s == TCP_CLOSE ? 0 : UINT32_MAX, NULL))
			return -1;
	return 0;
}

static int line_trans(struct ctx *c)
{
	int t = c->line - 3;
	const struct tcpstates_transition *tr = &tcpstates_transitions[t];

	if (c->line == 0)
		return version(c);
	if (c->line == 1)
		return netns_line(c);
	if (c->line == 2)
		return exact(c, "from to ipv4 ipv6");
	if (t >= TCPSTATES_NR_TRANSITIONS)
		return bad(c, "a line past the last pair");
	if (nfields(c, 4) || word(c, 0, tcpstates_state_names[tr->from]) ||
	    word(c, 1, tcpstates_state_names[tr->to]))
		return -1;
	/* A pair without its hook reads "- -", never one "-". */
	if (!strcmp(c->tok[2], "-") || !strcmp(c->tok[3], "-"))
		return word(c, 2, "-") || word(c, 3, "-") ? -1 : 0;
	return num(c, 2, UINT64_MAX, NULL) || num(c, 3, UINT64_MAX, NULL) ?
	       -1 : 0;
}

/*
 * A row of @n fields that starts "in PORT" or "out PORT": "in" rows, then
 * "out" rows, each by ascending port, once each.
 */
static int port_row(struct ctx *c, int n)
{
	unsigned long long port;
	bool out;

	if (nfields(c, n))
		return -1;
	out = !strcmp(c->tok[0], "out");
	if ((!out && word(c, 0, "in")) || num(c, 1, 65535, &port))
		return -1;
	port += out ? 65536 : 0;
	if (c->rows++ && port <= c->last)
		return bad(c, "rows out of order");
	c->last = port;
	return 0;
}

/* Moves by port: a count each, or "-" (a column without its hooks). */
static int trp_cells(struct ctx *c)
{
	int i;

	for (i = 2; i < 5; i++)
		if (strcmp(c->tok[i], "-") && num(c, i, UINT64_MAX, NULL))
			return -1;
	return 0;
}

/* The rows of groups in order, at most 127, then always "other -". */
static int line_trports(struct ctx *c)
{
	if (c->line == 0)
		return version(c);
	if (c->line == 1)
		return netns_line(c);
	if (c->line == 2)
		return exact(c, "direction port SYN_RECV CLOSE_WAIT TIME_WAIT");
	if (c->other)
		return bad(c, "a row after \"other\"");
	if (!strcmp(c->tok[0], "other")) {
		c->other = true;
		if (nfields(c, 5) || word(c, 1, "-"))
			return -1;
	} else if (port_row(c, 5)) {
		return -1;
	} else if (c->rows > 127) {
		return bad(c, "more than 127 rows");
	}
	return trp_cells(c);
}

static int line_ports(struct ctx *c)
{
	unsigned long long sum;

	if (c->line == 0)
		return version(c);
	if (c->line == 1)
		return netns_line(c);
	if (c->line == 2)
		return header(c, "direction port", "");
	if (port_row(c, 2 + NR_SHOWN) || cells(c, 2, &sum))
		return -1;
	return sum ? 0 : bad(c, "a row with no socket");
}

/* _ports's rows that hold CLOSE_WAIT sockets: the count, the oldest's age. */
static int line_close_wait(struct ctx *c)
{
	unsigned long long n;

	if (c->line == 0)
		return version(c);
	if (c->line == 1)
		return netns_line(c);
	if (c->line == 2)
		return exact(c, "direction port sockets oldest_seconds");
	if (port_row(c, 4) || num(c, 2, UINT32_MAX, &n) ||
	    num(c, 3, UINT32_MAX, NULL))
		return -1;
	return n ? 0 : bad(c, "a row with no CLOSE_WAIT socket");
}

/* One row per netns, by ascending inode. */
static int line_all(struct ctx *c)
{
	unsigned long long ino, sum;
	int i = 2 + NR_SHOWN;

	if (c->line == 0)
		return version(c);
	if (c->line == 1)
		return header(c, "netns <inode>",
			      "tw_count <n> max_tw_buckets <n>");
	if (nfields(c, i + 4) || word(c, 0, "netns") ||
	    num(c, 1, UINT32_MAX, &ino) || cells(c, 2, &sum) ||
	    word(c, i, "tw_count") || num(c, i + 1, INT_MAX, NULL) ||
	    word(c, i + 2, "max_tw_buckets") || num(c, i + 3, INT_MAX, NULL))
		return -1;
	if (c->rows++ && ino <= c->last)
		return bad(c, "rows out of order");
	c->last = ino;
	return 0;
}

static int line_sysfs(struct ctx *c)
{
	long max = files[c->file].max;

	if (c->line)
		return bad(c, "more than one line");
	return nfields(c, 1) || num(c, 0, max < 0 ? INT64_MAX : max, NULL) ?
	       -1 : 0;
}

static int check_line(struct ctx *c)
{
	switch (files[c->file].kind) {
	case K_STATES:
		return line_states(c);
	case K_ALL:
		return line_all(c);
	case K_PORTS:
		return line_ports(c);
	case K_CW:
		return line_close_wait(c);
	case K_AGES:
		return line_ages(c);
	case K_TRANS:
		return line_trans(c);
	case K_TRP:
		return line_trports(c);
	default:
		return line_sysfs(c);
	}
}

/* Fields separated by one space, none empty; @line is cut up in place. */
static int split(struct ctx *c, char *line)
{
	size_t i;

	for (i = 0; line[i] && i < sizeof(c->raw) - 1; i++)
		c->raw[i] = line[i] >= ' ' && line[i] < 127 ? line[i] : '?';
	c->raw[i] = '\0';
	c->ntok = 0;
	if (!*line)
		return bad(c, "an empty line");
	for (;;) {
		if (!*line || *line == ' ' || c->ntok == MAX_TOK)
			return bad(c, "an empty field or too many fields");
		c->tok[c->ntok++] = line;
		line = strchr(line, ' ');
		if (!line)
			return 0;
		*line++ = '\0';
	}
}

static int check_lines(struct ctx *c)
{
	static const int want[] = {
		[K_STATES]	= 3 + NR_SHOWN + 1 + ARRAY_SIZE(state_keys),
		[K_ALL]		= -2,		/* at least 2 */
		[K_PORTS]	= -3,
		[K_CW]		= -3,
		[K_AGES]	= 3 + NR_SHOWN,
		[K_TRANS]	= 3 + TCPSTATES_NR_TRANSITIONS,
		[K_TRP]		= -4,
		[K_SYSFS]	= 1,
	};
	int n = want[files[c->file].kind];

	if (files[c->file].kind == K_TRP && !c->other) {
		snprintf(c->why, c->whylen, "no \"other\" row");
		return -1;
	}
	if (n > 0 ? c->line == n : c->line >= -n)
		return 0;
	snprintf(c->why, c->whylen, "%d lines, expected %s%d", c->line,
		 n < 0 ? "at least " : "", n < 0 ? -n : n);
	return -1;
}

/*
 * Check @len bytes of file @f, read whole, opened in netns @ino (0: any);
 * @text is cut up.  0, or -1 with the reason in @why.
 */
static int check_text(int f, char *text, size_t len, unsigned long long ino,
		      char *why, size_t whylen)
{
	struct ctx c = { .file = f, .ino = ino, .why = why, .whylen = whylen };
	char *line, *next;
	const char *nul;

	if (!len) {
		snprintf(why, whylen, "empty");
		return -1;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		snprintf(why, whylen, "a NUL byte at offset %zu", nul - text);
		return -1;
	}
	if (text[len - 1] != '\n') {
		snprintf(why, whylen, "no newline at the end (%zu bytes)", len);
		return -1;
	}
	text[len - 1] = '\0';
	for (line = text; line; line = next, c.line++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (split(&c, line) || check_line(&c))
			return -1;
	}
	return check_lines(&c);
}

/* ---- What the module must answer whom ---- */

/* The module went away under us (fuzz.sh's rmmod), or memory ran out. */
static bool always_ok(int err)
{
	return err == ENOENT || err == ENODEV || err == EIO || err == ENOMEM;
}

static void count_err(struct worker *w, int err)
{
	w->st->err[err > 0 && err < NR_ERRNO ? err : 0]++;
}

/* _all: CAP_NET_ADMIN in the initial netns only. */
static bool may_open(const struct worker *w, int f)
{
	if (!strict || files[f].kind != K_ALL)
		return true;
	return w->cred == C_ROOT && w->ino == init_ino;
}

static bool open_err_ok(const struct worker *w, int f, int err)
{
	if (always_ok(err))
		return true;
	if (files[f].kind == K_PORTS || files[f].kind == K_CW)
		return err == EBUSY || err == EAGAIN;
	if (files[f].kind != K_ALL)
		return false;
	if (may_open(w, f))
		return err == EBUSY || err == EAGAIN;
	/* The file's mode (0400) stops other uids before the module. */
	return err == (w->cred == C_USER ? EACCES : EPERM);
}

/*
 * The module's parser (tcpstates_parse_int): a decimal in 0..@max with
 * at most one trailing newline, 1 to 16 bytes, no NUL.
 */
static bool valid_write(const char *buf, size_t len, long max, long *val)
{
	unsigned long long v = 0;
	size_t i;

	if (!len || len > 16 || memchr(buf, '\0', len))
		return false;
	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + buf[i] - '0';
	if (!i)
		return false;
	if (i < len && buf[i] == '\n')
		i++;
	if (i != len || v > (unsigned long long)max)
		return false;
	*val = v;
	return true;
}

/* ---- The worker's operations ---- */

static unsigned long long netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : st.st_ino;
}

static size_t rand_size(struct rng *r)
{
	static const size_t sizes[] = { 1, 2, 7, 4095, 4096, 4097, MAX_READ };

	switch (below(r, 4)) {
	case 0:
		return 1 + below(r, 16);
	case 1:
		return 1 + below(r, 4096);
	case 2:
		return 1 + below(r, MAX_READ);
	default:
		return sizes[below(r, ARRAY_SIZE(sizes))];
	}
}

static off_t rand_offset(struct rng *r)
{
	static const off_t offs[] = {
		0, 1, -1, 4095, 4096, 4097, 65536, INT_MAX, (off_t)INT_MAX + 1,
		UINT_MAX, (off_t)1 << 32, (off_t)1 << 62, LLONG_MAX,
		LLONG_MAX - 1, LLONG_MIN, LLONG_MIN + 1,
	};

	switch (below(r, 4)) {
	case 0:
		return offs[below(r, ARRAY_SIZE(offs))];
	case 1:
		return below(r, 8192);
	case 2:
		return -(off_t)below(r, 8192) - 1;
	default:
		return (off_t)rnd(r);
	}
}

static void drop_text(struct slot *s)
{
	free(s->text);
	s->text = NULL;
	s->len = 0;
	s->cap = 0;
}

static void chain_end(struct slot *s)
{
	s->chain = false;
	drop_text(s);
}

static void keep_bytes(struct worker *w, struct slot *s, size_t n)
{
	char *p;

	if (s->len + n > MAX_TEXT) {
		w->st->unkept++;
		chain_end(s);
		return;
	}
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		p = realloc(s->text, s->cap);
		if (!p) {
			w->st->unkept++;
			chain_end(s);
			return;
		}
		s->text = p;
	}
	memcpy(s->text + s->len, w->buf, n);
	s->len += n;
}

/* A whole read ended at EOF: check it against its grammar. */
static void check_whole(struct worker *w, struct slot *s)
{
	char why[384];

	w->st->whole[s->file]++;
	if (check_text(s->file, s->text, s->len, strict ? s->ino : 0, why,
		       sizeof(why))) {
		w->st->malformed[s->file]++;
		fail(w, s->file, "malformed whole read of %zu bytes: %s",
		     s->len, why);
	}
	chain_end(s);
}

/*
 * EINVAL from a read at a position a seek took near the largest offset:
 * the VFS refuses a read whose end would pass it (rw_verify_area), before
 * the module is asked.  The position is the one the slot kept, not
 * lseek(SEEK_CUR)'s: once an rmmod has orphaned the descriptor, lseek
 * fails with EIO while read still fails the range check first.
 */
static bool past_max(const struct slot *s, size_t size, int err)
{
	return err == EINVAL && s->pos >= 0 &&
	       (unsigned long long)s->pos + size > LLONG_MAX;
}

/* One read(2) of a random size; false once it hit EOF or an error. */
static bool read_once(struct worker *w, struct slot *s)
{
	size_t size = rand_size(&w->rng);
	ssize_t n;

	w->st->op = OP_READ;
	w->st->file = s->file;
	n = read(s->fd, w->buf, size);
	w->st->reads++;
	if (n < 0) {
		if (!always_ok(errno) && !past_max(s, size, errno))
			fail(w, s->file, "read of %zu: %s", size,
			     errname(errno));
		count_err(w, errno);
		chain_end(s);
		return false;
	}
	w->st->bytes += n;
	s->pos += n;
	if (memchr(w->buf, '\0', n))
		fail(w, s->file, "a NUL byte in a read of %zu", size);
	if (!s->chain)
		return n > 0;
	if (!n)
		check_whole(w, s);
	else
		keep_bytes(w, s, n);
	return n > 0;
}

/* A few reads, or (half the time) reads to EOF. */
static void read_some(struct worker *w, struct slot *s)
{
	bool to_eof = chance(&w->rng, 50);
	int n = to_eof ? 100000 : 1 + below(&w->rng, 8);

	while (n-- && read_once(w, s) && !past(&end))
		;
}

static void close_slot(struct worker *w, int i)
{
	struct slot *s = &w->slot[i];

	close(s->fd);
	drop_text(s);
	*s = w->slot[--w->nheld];
}

static int pick_file(struct worker *w)
{
	/* Mostly /proc files: they are what the walks are behind. */
	if (chance(&w->rng, 75))
		return below(&w->rng, NR_PROC);
	return below(&w->rng, NR_FILES);
}

static void op_open(struct worker *w)
{
	int f = pick_file(w), fd, flags = O_RDONLY;
	struct slot *s;

	if (chance(&w->rng, 30))
		flags |= O_NONBLOCK;
	if (chance(&w->rng, 50))
		flags |= O_CLOEXEC;
	if (w->nheld == MAX_HELD)
		close_slot(w, below(&w->rng, w->nheld));
	w->st->op = OP_OPEN;
	w->st->file = f;
	w->st->opens++;
	fd = open(paths[f], flags);
	if (fd < 0) {
		if (!open_err_ok(w, f, errno))
			fail(w, f, "open: %s", errname(errno));
		count_err(w, errno);
		return;
	}
	if (!may_open(w, f))
		fail(w, f, "opened from netns %llu, not the initial",
		     w->ino);
	s = &w->slot[w->nheld++];
	*s = (struct slot){ .fd = fd, .file = f, .ino = w->ino, .chain = true };
	read_some(w, s);
	if (chance(&w->rng, 60))
		close_slot(w, w->nheld - 1);
}

static struct slot *pick_slot(struct worker *w)
{
	return w->nheld ? &w->slot[below(&w->rng, w->nheld)] : NULL;
}

static void op_read(struct worker *w)
{
	struct slot *s = pick_slot(w);

	if (s)
		read_some(w, s);
	else
		op_open(w);
}

/*
 * Only an lseek to 0 starts a whole read again: after any other seek or
 * a pread, the next read(2) regenerates a single_open() file from its
 * offset, and its bytes would be of another walk than those before.
 */
static void op_seek(struct worker *w)
{
	static const int whences[] = {
		SEEK_SET, SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE,
		7, -1,
	};
	struct slot *s = pick_slot(w);
	int whence = whences[below(&w->rng, ARRAY_SIZE(whences))];
	off_t off = chance(&w->rng, 25) ? 0 : rand_offset(&w->rng), ret;

	if (!s)
		return;
	w->st->op = OP_SEEK;
	w->st->file = s->file;
	w->st->seeks++;
	ret = lseek(s->fd, off, whence);
	chain_end(s);
	if (ret < 0) {
		if (!always_ok(errno) && errno != EINVAL && errno != ENXIO &&
		    errno != EOVERFLOW)
			fail(w, s->file, "lseek %lld whence %d: %s",
			     (long long)off, whence, errname(errno));
		count_err(w, errno);
		return;
	}
	s->pos = ret;
	if (whence == SEEK_SET && off == 0)
		s->chain = true;
	if (chance(&w->rng, 50))
		read_some(w, s);
}

static void op_pread(struct worker *w)
{
	struct slot *s = pick_slot(w);
	size_t size = rand_size(&w->rng);
	off_t off = rand_offset(&w->rng);
	ssize_t n;

	if (!s)
		return;
	w->st->op = OP_PREAD;
	w->st->file = s->file;
	w->st->preads++;
	n = pread(s->fd, w->buf, size, off);
	chain_end(s);
	if (n < 0) {
		if (!always_ok(errno) && errno != EINVAL && errno != EOVERFLOW)
			fail(w, s->file, "pread %zu at %lld: %s", size,
			     (long long)off, errname(errno));
		count_err(w, errno);
		return;
	}
	w->st->bytes += n;
	if (memchr(w->buf, '\0', n))
		fail(w, s->file, "a NUL byte in a pread of %zu at %lld", size,
		     (long long)off);
}

static void op_close(struct worker *w)
{
	if (w->nheld)
		close_slot(w, below(&w->rng, w->nheld));
	else if (w->nsocks)
		close(w->socks[--w->nsocks]);
}

/* A decimal, maybe dressed: sign, spaces, zeros, newlines, NUL. */
static size_t near_number(struct rng *r, char *buf, long max)
{
	static const char *const pre[] = {
		"", "", "", "+", "-", " ", "\t", "0", "00", "\n", "0x",
	};
	static const char *const post[] = {
		"", "\n", "\n", "\n\n", " ", "\t", "\t\n", "x", "\r\n", "1",
	};
	static const char *const huge[] = {
		"2147483647", "2147483648", "4294967295", "4294967296",
		"18446744073709551615", "18446744073709551616", "3", "2", "1",
		"0", "99999999999999999999999999999999", "1e3", "1.5",
	};
	char num[32];
	size_t len;

	if (chance(r, 40))
		snprintf(num, sizeof(num), "%lu",
			 (unsigned long)below(r, max > 0 ? max + 1 : 65536));
	else
		snprintf(num, sizeof(num), "%s",
			 huge[below(r, ARRAY_SIZE(huge))]);
	len = snprintf(buf, MAX_WRITE + 1, "%s%s%s",
		       chance(r, 60) ? "" : pre[below(r, ARRAY_SIZE(pre))], num,
		       chance(r, 30) ? "" : post[below(r, ARRAY_SIZE(post))]);
	len = len > MAX_WRITE ? MAX_WRITE : len;
	if (len && chance(r, 15))
		buf[below(r, len)] = '\0';
	if (chance(r, 10))
		len = below(r, len + 1);
	return len;
}

static size_t gen_write(struct rng *r, char *buf, long max)
{
	size_t len, i;

	if (!chance(r, 20))
		return near_number(r, buf, max);
	len = below(r, MAX_WRITE + 1);
	for (i = 0; i < len; i++)
		buf[i] = rnd(r);
	return len;
}

/* Only one process writes in its own netns: the sysctl must agree. */
static void check_mirror(struct worker *w, int f, long val)
{
	char path[96];
	long long v;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/tcp_%s",
		 strrchr(files[f].name, '/') + 1);
	if (!read_sysctl(path, &v) && v != val)
		fail(w, f, "wrote %ld in its own netns, %s reads %lld", val,
		     path, v);
}

/* What a write of @buf must return: bytes written, or -errno. */
static ssize_t write_want(const struct worker *w, int f, const char *buf,
			  size_t len, long *val)
{
	if (!len)
		return 0;	/* never reaches the module */
	if (w->cred == C_CAPLESS)
		return -EPERM;	/* checked before the value */
	return valid_write(buf, len, files[f].max, val) ? (ssize_t)len :
	       -EINVAL;
}

static void judge_write(struct worker *w, int f, const char *buf,
			size_t len, ssize_t n, int err)
{
	long val = -1;
	ssize_t want = write_want(w, f, buf, len, &val);
	char shown[MAX_WRITE * 4 + 8];

	if (n < 0)
		count_err(w, err);
	if (n < 0 && always_ok(err))
		return;
	if (files[f].kind != K_SYSFS) {
		if (n > 0)
			fail(w, f, "a write of %zu bytes returned %zd", len, n);
		return;
	}
	if (n > 0)
		w->st->writes_ok++;
	if (n < 0)
		n = -err;
	if (n != want) {
		escape(buf, len, shown, sizeof(shown));
		fail(w, f, "write \"%s\": %zd (%s), expected %zd (%s)",
		     shown, n, n < 0 ? errname(-n) : "bytes", want,
		     want < 0 ? errname(-want) : "bytes");
		return;
	}
	if (n > 0 && w->own_ns)
		check_mirror(w, f, val);
}

/* The -errno an open for writing must fail with; 0 if it may open. */
static int write_open_err(const struct worker *w, int f)
{
	if (files[f].kind != K_SYSFS)
		return w->cred == C_ROOT ? 0 : -EACCES;
	/* kernfs refuses a read-only attribute even to root. */
	if (files[f].max < 0)
		return -EACCES;
	return w->cred == C_USER ? -EACCES : 0;
}

static bool write_open_ok(struct worker *w, int f, int fd)
{
	int want = write_open_err(w, f);

	if (fd >= 0 && (want || !may_open(w, f))) {
		fail(w, f, "opened for writing, expected %s",
		     errname(want ? -want : EPERM));
		close(fd);
		return false;
	}
	if (fd >= 0)
		return true;
	count_err(w, errno);
	/* A /proc file's open runs the module's, whatever the mode. */
	if (-errno != want && !always_ok(errno) &&
	    !(files[f].kind != K_SYSFS && !want && open_err_ok(w, f, errno)))
		fail(w, f, "open for writing: %s, expected %s", errname(errno),
		     want ? errname(-want) : "success");
	return false;
}

static int pick_write_file(struct worker *w)
{
	/* Mostly the writable files, whose parser is the point. */
	if (chance(&w->rng, 70))
		return NR_PROC + below(&w->rng, NR_WRITABLE);
	return below(&w->rng, NR_FILES);
}

static void op_write(struct worker *w)
{
	int f = pick_write_file(w), fd;
	char buf[MAX_WRITE + 1];
	size_t len = gen_write(&w->rng, buf, files[f].max);
	int flags = chance(&w->rng, 50) ? O_WRONLY : O_RDWR;
	ssize_t n;
	long val;

	w->st->writes++;
	if (!strict) {
		/* A fixture takes any bytes: only the model runs. */
		w->st->writes_ok += write_want(w, f, buf, len, &val) > 0;
		return;
	}
	w->st->op = OP_WRITE;
	w->st->file = f;
	fd = open(paths[f], flags);
	if (!write_open_ok(w, f, fd))
		return;
	n = write(fd, buf, len);
	judge_write(w, f, buf, len, n, errno);
	close(fd);
}

/* Root: a new netns, or one of the given (the initial one included). */
static int move_root(struct worker *w)
{
	int k = below(&w->rng, nr_netns + 1);

	if (k == nr_netns && w->st->netns < MAX_MADE) {
		if (new_netns())
			return -1;
		w->st->netns++;
		w->own_ns = true;
		return 0;
	}
	if (setns(netns_fd[k % nr_netns], CLONE_NEWNET))
		return -1;
	w->own_ns = false;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return ret;
}

/*
 * uid 65534: a user namespace of its own whose root is its uid, as a
 * container's root is, and a netns in it.  Mapped, so that it may nest
 * another (a creator's uid must be mapped in the parent).
 */
static int move_user(struct worker *w)
{
	unsigned int uid = getuid(), gid = getgid();	/* as the parent sees */
	char map[32];

	if (w->depth >= MAX_DEPTH)
		return 0;
	if (unshare(CLONE_NEWUSER))
		return -1;
	w->depth++;
	snprintf(map, sizeof(map), "0 %u 1\n", uid);
	if (write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/uid_map", map))
		return -1;
	snprintf(map, sizeof(map), "0 %u 1\n", gid);
	if (write_file("/proc/self/gid_map", map) || new_netns())
		return -1;
	w->st->netns++;
	w->own_ns = true;
	return 0;
}

static void op_netns(struct worker *w)
{
	int ret;

	if (!is_root || w->cred == C_CAPLESS)
		return;
	w->st->op = OP_NETNS;
	w->st->file = -1;
	ret = w->cred == C_ROOT ? move_root(w) : move_user(w);
	if (ret) {
		/* Limits and missing user namespaces are not ours to test. */
		w->st->ns_errs++;
		return;
	}
	w->ino = netns_ino();
	if (w->lfd >= 0)
		close(w->lfd);
	w->lfd = -1;
}

static void keep_sock(struct worker *w, int fd)
{
	if (w->nsocks == MAX_SOCKS) {
		int i = below(&w->rng, MAX_SOCKS);

		close(w->socks[i]);
		w->socks[i] = w->socks[--w->nsocks];
	}
	w->socks[w->nsocks++] = fd;
}

static void reset_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* A connect that gives up after a second, as churn.c's. */
static int connect_soon(int lfd, int family)
{
	struct timeval tmo = { .tv_sec = 1 };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len))
		return -1;
	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int accept_soon(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, 1000) == 1 ? accept(lfd, NULL, NULL) : -1;
}

/* Leave the pair in one of the states the walks count, or none. */
static void dispose(struct worker *w, int c, int s)
{
	switch (below(&w->rng, 5)) {
	case 0:			/* TIME_WAIT at the client */
		close(c);
		close(s);
		break;
	case 1:			/* TIME_WAIT at the server */
		close(s);
		close(c);
		break;
	case 2:			/* freed at once */
		reset_close(c);
		reset_close(s);
		break;
	case 3:			/* CLOSE_WAIT held, an orphan's FIN_WAIT2 */
		close(s);
		keep_sock(w, c);
		break;
	default:		/* ESTABLISHED both ends */
		keep_sock(w, c);
		keep_sock(w, s);
		break;
	}
}

static void op_churn(struct worker *w)
{
	int n = 1 + below(&w->rng, 8), c, s;

	w->st->op = OP_CHURN;
	w->st->file = -1;
	if (w->lfd >= 0 && chance(&w->rng, 10)) {
		close(w->lfd);	/* listeners come and go too */
		w->lfd = -1;
	}
	if (w->lfd < 0) {
		w->lfamily = chance(&w->rng, 30) ? AF_INET6 : AF_INET;
		w->lfd = tcp_listener(w->lfamily, false, 128);
		if (w->lfd < 0) {
			w->st->sock_errs++;
			return;
		}
	}
	while (n-- && !past(&end)) {
		c = connect_soon(w->lfd, w->lfamily);
		s = c < 0 ? -1 : accept_soon(w->lfd);
		if (s < 0) {
			w->st->sock_errs++;
			if (c >= 0)
				close(c);
			continue;
		}
		w->st->conns++;
		dispose(w, c, s);
	}
}

static enum op pick_op(struct worker *w)
{
	const unsigned char *wt = op_weights[w->churner];
	unsigned int sum = 0, x;
	int op;

	for (op = 0; op < NR_OPS; op++)
		sum += wt[op];
	x = below(&w->rng, sum);
	for (op = 0; x >= wt[op]; op++)
		x -= wt[op];
	return op;
}

static void one_op(struct worker *w)
{
	switch (pick_op(w)) {
	case OP_OPEN:
		op_open(w);
		break;
	case OP_READ:
		op_read(w);
		break;
	case OP_SEEK:
		op_seek(w);
		break;
	case OP_PREAD:
		op_pread(w);
		break;
	case OP_CLOSE:
		op_close(w);
		break;
	case OP_WRITE:
		op_write(w);
		break;
	case OP_NETNS:
		op_netns(w);
		break;
	default:
		op_churn(w);
		break;
	}
}

static int drop_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = { };

	return syscall(SYS_capset, &h, d);
}

/*
 * A new uid clears the parent-death signal and dumpability: set again,
 * so that the worker dies with the parent and /proc/self stays its own.
 */
static int drop_uid(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return prctl(PR_SET_PDEATHSIG, SIGKILL) || prctl(PR_SET_DUMPABLE, 1);
}

/*
 * Worker 0 churns as root; the others are root, uid 65534 and uid 0
 * without capabilities in turn.  Each starts in a netns of its choice
 * (iteration 0's draw), picked while it may still choose.
 */
static int worker_setup(struct worker *w)
{
	static const enum cred turn[] = { C_ROOT, C_USER, C_CAPLESS };

	w->churner = w->idx == 0;
	w->cred = !is_root ? C_USER :
		  w->churner ? C_ROOT : turn[(w->idx - 1) % 3];
	w->lfd = -1;
	w->buf = malloc(MAX_READ);
	if (!w->buf)
		return -1;
	rng_seed(&w->rng, w->idx, 0);
	if (is_root && move_root(w))
		return -1;
	if (is_root && w->cred == C_USER && drop_uid())
		return -1;
	if (w->cred == C_CAPLESS && drop_caps())
		return -1;
	w->ino = netns_ino();
	return 0;
}

static int worker_main(int idx)
{
	struct worker w = { .idx = idx, .st = &stats[idx] };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (worker_setup(&w)) {
		fail(&w, -1, "setup (netns, uid, capabilities): %s",
		     strerror(errno));
		return 1;
	}
	while (!past(&end)) {
		w.st->iter = ++w.iter;
		rng_seed(&w.rng, idx, w.iter);
		one_op(&w);
	}
	return 0;
}

/* ---- The parent ---- */

struct saved {
	long long tw, reuse;
	bool ok;
};

static const char *const sysctl_tw = "/proc/sys/net/ipv4/tcp_max_tw_buckets";
static const char *const sysctl_reuse = "/proc/sys/net/ipv4/tcp_tw_reuse";

/*
 * Through the sysctls, the same values as the sysfs files: fuzz.sh may
 * have the module unloaded at either end.
 */
static void save_tunables(struct saved *sv, bool restore)
{
	int i, n = 0;

	for (i = 0; i < nr_netns; i++) {
		if (setns(netns_fd[i], CLONE_NEWNET))
			continue;
		if (!restore)
			sv[i].ok = !read_sysctl(sysctl_tw, &sv[i].tw) &&
				   !read_sysctl(sysctl_reuse, &sv[i].reuse);
		else if (sv[i].ok && !write_sysctl(sysctl_tw, sv[i].tw) &&
			 !write_sysctl(sysctl_reuse, sv[i].reuse))
			n++;
	}
	setns(netns_fd[0], CLONE_NEWNET);
	if (restore)
		say("# restored the tunables in %d of %d namespaces", n,
		    nr_netns);
}

static void report_hung(pid_t *pids)
{
	struct stats *st;
	int i;

	for (i = 0; i < nr_workers; i++) {
		if (!pids[i])
			continue;
		st = &stats[i];
		st->failures++;
		report(i, st->iter, st->file, "hung in %s %d s after the end",
		       op_names[st->op], GRACE);
		kill(pids[i], SIGKILL);
		pids[i] = 0;	/* reported: not again as killed */
	}
}

static void reaped(pid_t *pids, pid_t pid, int status)
{
	struct stats *st;
	int i;

	for (i = 0; i < nr_workers && pids[i] != pid; i++)
		;
	if (i == nr_workers)
		return;
	pids[i] = 0;
	st = &stats[i];
	if (WIFSIGNALED(status)) {
		st->failures++;
		report(i, st->iter, st->file, "killed by signal %d in %s",
		       WTERMSIG(status), op_names[st->op]);
	} else if (WEXITSTATUS(status) && !st->failures) {
		st->failures++;
		report(i, st->iter, -1, "exit status %d", WEXITSTATUS(status));
	}
}

/*
 * Wait for the workers.  One still running GRACE s past the end is hung
 * (a read that never returns, a lock never released): reported and
 * killed.  One that SIGKILL cannot end is stuck in the kernel: given up.
 */
static void reap(pid_t *pids)
{
	struct timespec hung = end;
	int status, left = nr_workers;
	bool killed = false;
	pid_t pid;

	hung.tv_sec += GRACE;
	while (left) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			reaped(pids, pid, status);
			left--;
			continue;
		}
		if (pid < 0 || (killed && past(&hung)))
			return;
		if (past(&hung)) {
			report_hung(pids);
			hung.tv_sec += 5;
			killed = true;
		}
		usleep(100000);
	}
}

static void print_errs(const struct stats *sum)
{
	char line[1024];
	int e, n;

	n = snprintf(line, sizeof(line), "# errors (allowed):");
	for (e = 0; e < NR_ERRNO && n < (int)sizeof(line) - 32; e++)
		if (sum->err[e])
			n += snprintf(line + n, sizeof(line) - n, " %s %ld",
				      e ? errname(e) : "other", sum->err[e]);
	say("%s", line);
}

/* Every field of struct stats before op is a long: summed as such. */
static long print_summary(void)
{
	struct stats sum = { };
	long *a = (long *)&sum, *b;
	size_t i, nlong = offsetof(struct stats, op) / sizeof(long);
	long whole = 0, malformed = 0;
	int w, f;

	for (w = 0; w < nr_workers; w++)
		for (b = (long *)&stats[w], i = 0; i < nlong; i++)
			a[i] += b[i];
	for (f = 0; f < NR_FILES; f++) {
		whole += sum.whole[f];
		malformed += sum.malformed[f];
		say("# whole %s: %ld checked, %ld malformed", files[f].name,
		    sum.whole[f], sum.malformed[f]);
	}
	print_errs(&sum);
	say("# ops: %ld iterations, %ld opens, %ld reads, %ld bytes", sum.iter,
	    sum.opens, sum.reads, sum.bytes);
	say("# ops: %ld seeks, %ld preads, %ld writes (%ld %s)", sum.seeks,
	    sum.preads, sum.writes, sum.writes_ok,
	    strict ? "succeeded" : "valid, modelled only");
	say("# ops: %ld netns made (%ld refused), %ld connections (%ld failed)",
	    sum.netns, sum.ns_errs, sum.conns, sum.sock_errs);
	say("# summary: seed %llu, %d workers, %ld whole reads checked", seed,
	    nr_workers, whole);
	say("# summary: malformed %ld, too long to keep %ld, failures %ld",
	    malformed, sum.unkept, sum.failures);
	return sum.failures;
}

static int run(int seconds)
{
	struct saved sv[MAX_NETNS] = { };
	pid_t pids[256] = { };
	int i;

	stats = mmap(NULL, nr_workers * sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED)
		return 2;
	if (strict && is_root)
		save_tunables(sv, false);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += seconds;
	fflush(stdout);
	for (i = 0; i < nr_workers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fuzz: fork");
			return 2;
		}
		if (!pids[i])
			_exit(worker_main(i));
	}
	reap(pids);
	if (strict && is_root)
		save_tunables(sv, true);
	return print_summary() ? 1 : 0;
}

/* -c: the grammar by the file's name, e.g. .../proc/tcpstates_ages. */
static int file_by_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int f;

	for (f = 0; f < NR_FILES; f++)
		if (!strcmp(strrchr(files[f].name, '/') + 1, base))
			return f;
	return -1;
}

static int check_file(const char *path)
{
	static char text[MAX_TEXT + 1];
	int f = file_by_name(path), fd;
	size_t len = 0;
	char why[384];
	ssize_t n;

	if (f < 0) {
		say("# FAIL %s: not a file of the module", path);
		return 1;
	}
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		say("# FAIL %s: %s", path, strerror(errno));
		return 1;
	}
	while ((n = read(fd, text + len, MAX_TEXT - len)) > 0)
		len += n;
	close(fd);
	if (n < 0) {
		say("# FAIL %s: read: %s", path, strerror(errno));
		return 1;
	}
	/* The real files name the reader's netns. */
	if (check_text(f, text, len, strncmp(path, "/proc/", 6) ? 0 :
		       netns_ino(), why, sizeof(why))) {
		say("# FAIL %s: %s", path, why);
		return 1;
	}
	say("# ok %s: %zu bytes, whole", path, len);
	return 0;
}

static int bad_args(void)
{
	fprintf(stderr, "fuzz [-s SEED] [-w N] [-n NETNS]... [-r ROOT] SECS\n");
	fprintf(stderr, "fuzz -c FILE...\n");
	return 2;
}

static int add_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || nr_netns == MAX_NETNS) {
		fprintf(stderr, "fuzz: %s: %s\n", path,
			fd < 0 ? strerror(errno) : "too many");
		return -1;
	}
	netns_fd[nr_netns++] = fd;
	return 0;
}

static void init_names(const char *root)
{
	int f, s, n = 0;

	for (f = 0; f < NR_FILES; f++)
		snprintf(paths[f], sizeof(paths[f]), "%s%s", root ?: "",
			 files[f].name);
	for (s = TCP_ESTABLISHED; s < TCPSTATES_NR_STATES; s++)
		n += snprintf(states_hdr + n, sizeof(states_hdr) - n, "%s%s",
			      n ? " " : "", tcpstates_state_names[s]);
}

/* The module counts _all's opener in init_net: pid 1's netns. */
static unsigned long long initial_ino(void)
{
	struct stat st;

	return stat("/proc/1/ns/net", &st) ? netns_ino() : st.st_ino;
}

static int options(int argc, char **argv, const char **root, bool *check,
		   bool *seeded)
{
	int opt;

	while ((opt = getopt(argc, argv, "cs:w:n:r:")) != -1) {
		switch (opt) {
		case 'c':
			*check = true;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			*seeded = true;
			break;
		case 'w':
			nr_workers = atoi(optarg);
			break;
		case 'n':
			if (add_netns(optarg))
				return -1;
			break;
		case 'r':
			*root = optarg;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *root = getenv("FUZZ_ROOT");
	bool check = false, seeded = false;
	int i, ret = 0;

	if (add_netns("/proc/self/ns/net") ||
	    options(argc, argv, &root, &check, &seeded))
		return bad_args();
	if (root && !*root)
		root = NULL;
	init_names(root);
	if (check) {
		for (i = optind; i < argc; i++)
			ret |= check_file(argv[i]);
		return optind < argc ? ret : bad_args();
	}
	if (argc - optind != 1 || nr_workers < 1 || nr_workers > 256)
		return bad_args();
	if (!seeded)
		seed = (unsigned long long)time(NULL) * 1000003 ^ getpid();
	strict = !root;
	is_root = !geteuid();
	init_ino = initial_ino();
	say("# seed %llu", seed);
	say("# fuzz: %d workers, %s s, %d namespaces given, %s%s", nr_workers,
	    argv[optind], nr_netns - 1, root ?: "the module's files",
	    is_root ? "" : "; not root: no uid or netns changes");
	return run(atoi(argv[optind]));
}
