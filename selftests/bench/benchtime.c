// SPDX-License-Identifier: GPL-2.0
/*
 * benchtime: time the ways to count TCP sockets by state, in the current
 * network namespace, and check that they agree.
 *
 *   benchtime run [-r RUNS] [-m MIN_RUNS] [-s SLOW_S] -f METHODS
 *	Run every method of METHODS (see that file) RUNS times, round robin,
 *	or MIN_RUNS times if its first run took over SLOW_S seconds.  Prints
 *	per method the median, min and max wall time and the median CPU time
 *	(user + sys of every stage), and checks every run's per-state counts
 *	against the first method's.
 *
 *   benchtime scan [-r RUNS]
 *	The median scan_ns of RUNS reads of /proc/tcpstates.
 *
 *   benchtime interfere [-t SECONDS] [-k ROUNDS] -f METHODS
 *	Connections per second of a connect/accept/close loop on CPU 1 while
 *	each method runs back to back on CPU 0; with no reader (first and
 *	last, to show drift), and with a busy loop on CPU 0 (the control).
 *	ROUNDS windows of SECONDS each, round robin; prints the medians.
 *
 * Output is one record per line for scripts/bench.sh: "method", "check",
 * "counts", "scan", "churn".  Times come from CLOCK_MONOTONIC in the guest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpstates_states.h"
#include "diag.h"

#define MAX_METHODS	16
#define MAX_STAGES	8
#define MAX_ARGS	32
#define MAX_RUNS	64
#define CHURN_PER_ADDR	20000

struct method {
	char name[32];
	char parser[16];
	char cmd[512];
	char *argv[MAX_STAGES][MAX_ARGS + 1];
	int nstages;
	/*
	 * Built in, no exec: "@read FILE..." reads the files,
	 * "@diag" counts a sock_diag dump (the reader's, less its exec).
	 */
	bool inproc;
	int runs, target;
	double wall[MAX_RUNS], cpu[MAX_RUNS], scan[MAX_RUNS];
	int nscan;
	long long buckets;
	int bad;		/* runs whose counts differ from the reference */
	char why[256];
	long long counts[TCPSTATES_NR_STATES];
};

static struct method methods[MAX_METHODS];
static int nmethods;

/*
 * A run's stdout and every stderr, in $TMPDIR (default /tmp): the native
 * lane gives its own, so that nothing stays behind on the host.
 */
static char out_file[4096], err_file[4096];

/* ss's state names, as misc/ss.c spells them. */
static const char * const ss_names[TCPSTATES_NR_STATES] = {
	[TCP_ESTABLISHED] = "ESTAB",	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECV] = "SYN-RECV",	[TCP_FIN_WAIT1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT2] = "FIN-WAIT-2",	[TCP_TIME_WAIT] = "TIME-WAIT",
	[TCP_CLOSE] = "UNCONN",		[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_LAST_ACK] = "LAST-ACK",	[TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",
};

static void die(const char *what)
{
	fprintf(stderr, "benchtime: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_sec(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_RUNS];

	if (!n)
		return 0;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The smallest (@sign -1) or largest (@sign 1) of @v. */
static double extreme(const double *v, int n, int sign)
{
	double x = v[0];
	int i;

	for (i = 1; i < n; i++)
		if (sign * (v[i] - x) > 0)
			x = v[i];
	return x;
}

static int state_index(const char * const *names, const char *name)
{
	int s;

	for (s = 1; s < TCPSTATES_NR_STATES; s++)
		if (names[s] && !strcmp(name, names[s]))
			return s;
	return -1;
}

/*
 * Split a command line into pipeline stages and words, in place.  Single
 * quotes make a literal; a lone "|" ends a stage.  That is all the
 * methods file needs.
 */
static int split_command(struct method *m, char *p)
{
	int argc = 0;
	char *w;

	m->nstages = 1;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p == '|') {
			if (!argc || m->nstages == MAX_STAGES)
				return -1;
			m->argv[m->nstages - 1][argc] = NULL;
			m->nstages++;
			argc = 0;
			p++;
			continue;
		}
		if (argc == MAX_ARGS)
			return -1;
		w = p;
		m->argv[m->nstages - 1][argc++] = w;
		while (*p && *p != ' ' && *p != '\t') {
			if (*p == '\'') {
				char *q = strchr(p + 1, '\'');

				if (!q)
					return -1;
				memmove(w, p + 1, q - p - 1);
				w += q - p - 1;
				p = q + 1;
			} else {
				*w++ = *p++;
			}
		}
		if (*p)
			p++;
		*w = '\0';
	}
	m->argv[m->nstages - 1][argc] = NULL;
	return argc ? 0 : -1;
}

static int add_method(const char *name, const char *parser, const char *cmd)
{
	struct method *m = &methods[nmethods];
	static char buf[MAX_METHODS][512];

	if (nmethods == MAX_METHODS || strlen(cmd) >= sizeof(m->cmd))
		return -1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->parser, sizeof(m->parser), "%s", parser);
	snprintf(m->cmd, sizeof(m->cmd), "%s", cmd);
	snprintf(buf[nmethods], sizeof(buf[0]), "%s", cmd);
	if (split_command(m, buf[nmethods]))
		return -1;
	if (m->argv[0][0][0] == '@') {
		if (m->nstages > 1 || (strcmp(m->argv[0][0], "@read") &&
				       strcmp(m->argv[0][0], "@diag")))
			return -1;
		m->inproc = true;
	}
	nmethods++;
	return 0;
}

static void load_methods(const char *path)
{
	char line[1024], name[32], parser[16];
	FILE *f = fopen(path, "r");
	int n, lineno = 0;

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[strspn(line, " \t")])
			continue;
		if (sscanf(line, "%31s %15s %n", name, parser, &n) != 2 ||
		    add_method(name, parser, line + n)) {
			fprintf(stderr, "benchtime: %s:%d: bad method\n", path,
				lineno);
			exit(2);
		}
	}
	fclose(f);
	if (!nmethods) {
		fprintf(stderr, "benchtime: %s: no methods\n", path);
		exit(2);
	}
}

static int read_file(const char *path, int out)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (out >= 0 && write(out, buf, n) != n)
			break;
	close(fd);
	return n ? -1 : 0;
}

/* The reader's netlink source without its exec: "STATE v4 v6" lines. */
static int diag_count(int out)
{
	long long c[TCPSTATES_NR_STATES][2] = { 0 };
	int fd, s, ret;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	ret = diag_dump(fd, AF_INET, c, 0);
	if (!ret)
		ret = diag_dump(fd, AF_INET6, c, 1);
	close(fd);
	for (s = 1; !ret && s < TCPSTATES_NR_STATES; s++)
		if (dprintf(out, "%s %lld %lld\n", tcpstates_state_names[s],
			    c[s][0], c[s][1]) < 0)
			ret = -1;
	return ret;
}

/*
 * Run @m once with stdout to @out: every stage forked and exec'd as a
 * shell would.  Returns 0 if every stage exited 0 (pipefail); *wall and
 * *cpu get the elapsed time and the CPU time of all stages.
 */
static int run_once(struct method *m, int out, double *wall, double *cpu)
{
	pid_t pids[MAX_STAGES];
	int i, fd[2], in = -1, err, status, ret = 0;
	struct rusage ru, r0, r1;
	double t0 = now();

	if (m->inproc) {
		getrusage(RUSAGE_SELF, &r0);
		if (!strcmp(m->argv[0][0], "@diag"))
			ret = diag_count(out);
		for (i = 1; !ret && m->argv[0][i]; i++)
			ret = read_file(m->argv[0][i], out);
		*wall = now() - t0;
		getrusage(RUSAGE_SELF, &r1);
		*cpu = tv_sec(&r1.ru_utime) + tv_sec(&r1.ru_stime) -
		       tv_sec(&r0.ru_utime) - tv_sec(&r0.ru_stime);
		return ret;
	}
	err = open(err_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (err < 0)
		die(err_file);
	for (i = 0; i < m->nstages; i++) {
		fd[0] = -1;
		fd[1] = out;
		if (i < m->nstages - 1 && pipe2(fd, O_CLOEXEC))
			die("pipe");
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (!pids[i]) {
			if (in >= 0)
				dup2(in, 0);
			dup2(fd[1], 1);
			dup2(err, 2);
			execvp(m->argv[i][0], m->argv[i]);
			fprintf(stderr, "benchtime: %s: %s\n", m->argv[i][0],
				strerror(errno));
			_exit(127);
		}
		if (in >= 0)
			close(in);
		if (fd[1] != out)
			close(fd[1]);
		in = fd[0];
	}
	*cpu = 0;
	for (i = 0; i < m->nstages; i++) {
		if (wait4(pids[i], &status, 0, &ru) < 0)
			die("wait4");
		*cpu += tv_sec(&ru.ru_utime) + tv_sec(&ru.ru_stime);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			ret = -1;
	}
	*wall = now() - t0;
	close(err);
	return ret;
}

/* Per-state totals (both families) from one run's output. */
static int parse_counts(struct method *m, long long *c, double *scan,
			long long *buckets)
{
	char line[512], word[64];
	long long a, b;
	int s, seen = 0;
	FILE *f = fopen(out_file, "r");

	if (!f)
		return -1;
	memset(c, 0, sizeof(*c) * TCPSTATES_NR_STATES);
	*scan = -1;
	while (fgets(line, sizeof(line), f)) {
		s = -1;
		if (!strcmp(m->parser, "states")) {
			if (sscanf(line, "%63s %lld %lld", word, &a, &b) != 3) {
				if (sscanf(line, "scan_ns %lld", &a) == 1)
					*scan = a;
				else if (sscanf(line, "scan_buckets %lld", &a) == 1)
					*buckets = a;
				continue;
			}
			s = state_index(tcpstates_state_names, word);
			a += b;
		} else if (!strcmp(m->parser, "ss")) {
			if (sscanf(line, "%lld %63s", &a, word) != 2 ||
			    !strcmp(word, "State"))
				continue;
			s = state_index(ss_names, word);
			if (s < 0)
				goto bad;
		} else if (!strcmp(m->parser, "names")) {
			if (sscanf(line, "%63s %lld", word, &a) != 2)
				continue;
			s = state_index(tcpstates_state_names, word);
			if (s < 0)
				goto bad;
		} else if (!strcmp(m->parser, "procnet")) {
			/* "sl local rem st ...": the raw /proc/net/tcp. */
			if (sscanf(line, "%*s %*s %*s %x", (unsigned int *)&s) != 1)
				continue;
			if (s <= 0 || s >= TCPSTATES_NR_STATES)
				goto bad;
			a = 1;
		} else if (!strcmp(m->parser, "hex")) {
			if (sscanf(line, "%x %lld", (unsigned int *)&s, &a) != 2)
				continue;
			if (s <= 0 || s >= TCPSTATES_NR_STATES)
				goto bad;
		}
		if (s > 0) {
			c[s] += a;
			seen++;
		}
	}
	fclose(f);
	return seen ? 0 : -1;
bad:
	fclose(f);
	return -1;
}

/* Compare a run's counts with the reference's; note the first difference. */
static void check_counts(struct method *m, const long long *c,
			 const long long *ref)
{
	char *p = m->why;
	int s, bad = 0;

	for (s = 1; s < TCPSTATES_NR_STATES; s++) {
		if (c[s] == ref[s])
			continue;
		if (!m->bad && !bad)
			p += sprintf(p, "run %d:", m->runs);
		if (!m->bad && p < m->why + sizeof(m->why) - 64)
			p += sprintf(p, " %s %lld (reference %lld)",
				     tcpstates_state_names[s], c[s], ref[s]);
		bad = 1;
	}
	m->bad += bad;
}

static void time_one(struct method *m, const long long *ref)
{
	long long c[TCPSTATES_NR_STATES];
	double scan = -1;
	int out = open(out_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0644);

	if (out < 0)
		die(out_file);
	if (run_once(m, out, &m->wall[m->runs], &m->cpu[m->runs])) {
		fprintf(stderr, "benchtime: %s failed, see %s\n", m->name,
			err_file);
		read_file(err_file, 2);
		exit(1);
	}
	close(out);
	if (strcmp(m->parser, "none")) {
		if (parse_counts(m, c, &scan, &m->buckets)) {
			if (!m->bad)
				snprintf(m->why, sizeof(m->why),
					 "run %d: output not understood",
					 m->runs);
			m->bad++;
		} else {
			if (ref)
				check_counts(m, c, ref);
			memcpy(m->counts, c, sizeof(c));
		}
		if (scan >= 0)
			m->scan[m->nscan++] = scan;
	}
	m->runs++;
}

static void print_counts(const struct method *m)
{
	long long total = 0;
	int s;

	printf("counts %s", m->name);
	for (s = 1; s < TCPSTATES_NR_STATES; s++) {
		total += m->counts[s];
		if (m->counts[s])
			printf(" %s=%lld", tcpstates_state_names[s],
			       m->counts[s]);
	}
	printf(" total=%lld\n", total);
}

static int cmd_run(int runs, int min_runs, double slow)
{
	const long long *ref = NULL;
	struct method *m;
	bool more = true;
	int i, bad = 0;

	for (i = 0; i < nmethods; i++)
		methods[i].target = runs;
	/* Round robin, so that drift hits every method alike. */
	while (more) {
		more = false;
		for (i = 0; i < nmethods; i++) {
			m = &methods[i];
			if (m->runs >= m->target)
				continue;
			time_one(m, ref);
			if (!ref && !strcmp(m->parser, "states") && !m->bad)
				ref = m->counts;
			if (m->runs == 1 && m->wall[0] > slow)
				m->target = min_runs < runs ? min_runs : runs;
			more |= m->runs < m->target;
		}
		fflush(stdout);
	}
	for (i = 0; i < nmethods; i++) {
		m = &methods[i];
		printf("method %s runs %d wall_ms %.3f min %.3f max %.3f cpu_ms %.3f\n",
		       m->name, m->runs, 1e3 * median(m->wall, m->runs),
		       1e3 * extreme(m->wall, m->runs, -1),
		       1e3 * extreme(m->wall, m->runs, 1),
		       1e3 * median(m->cpu, m->runs));
		if (m->nscan)
			printf("scan %s ns %.0f buckets %lld\n", m->name,
			       median(m->scan, m->nscan), m->buckets);
		if (!strcmp(m->parser, "none"))
			continue;
		print_counts(m);
		if (m->bad)
			printf("check %s MISMATCH %d/%d runs: %s\n", m->name,
			       m->bad, m->runs, m->why);
		else
			printf("check %s ok %d runs\n", m->name, m->runs);
		bad |= !!m->bad;
	}
	if (!ref)
		printf("check reference MISMATCH: no usable reference counts\n");
	return bad || !ref;
}

static int cmd_scan(int runs)
{
	struct method *m = &methods[0];
	int i;

	if (add_method("read", "states", "@read /proc/tcpstates"))
		return 1;
	for (i = 0; i < runs; i++)
		time_one(m, NULL);
	if (m->bad || !m->nscan) {
		printf("scan read MISMATCH: /proc/tcpstates not understood\n");
		return 1;
	}
	printf("scan empty ns %.0f buckets %lld\n", median(m->scan, m->nscan),
	       m->buckets);
	return 0;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* Run @m back to back until killed, counting completed runs in *done. */
static void reader_loop(struct method *m, long *done)
{
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	double wall, cpu;

	if (out < 0)
		die("/dev/null");
	for (;;) {
		if (run_once(m, out, &wall, &cpu))
			_exit(1);
		__atomic_add_fetch(done, 1, __ATOMIC_RELAXED);
	}
}

/*
 * The control: vCPU 0 busy in userspace, touching no kernel code.  Both
 * vCPUs are threads of one QEMU on a shared host, so any busy vCPU slows
 * the other; a reader is only to blame for what it costs beyond this.
 */
static void busy_loop(long *done)
{
	double t = now();

	for (;;)
		if (now() - t >= 1) {
			__atomic_add_fetch(done, 1, __ATOMIC_RELAXED);
			t = now();
		}
}

/*
 * The data path: connect, accept, close both ends (the client first, so
 * it is the client that enters TIME_WAIT), for @secs seconds.  Sources
 * rotate over 127.9.x.y so that TIME_WAIT never exhausts the ports.
 */
static double churn(int lfd, double secs)
{
	struct sockaddr_in dst, src = { .sin_family = AF_INET };
	socklen_t len = sizeof(dst);
	double t0 = now(), t;
	long n = 0, a;
	int c, s, one = 1;

	if (getsockname(lfd, (struct sockaddr *)&dst, &len))
		die("getsockname");
	for (;;) {
		a = n / CHURN_PER_ADDR;
		src.sin_addr.s_addr = htonl(127U << 24 | 9U << 16 |
					    (unsigned int)(a / 250) << 8 |
					    (unsigned int)(1 + a % 250));
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c < 0 ||
		    setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			       sizeof(one)) ||
		    bind(c, (struct sockaddr *)&src, sizeof(src)) ||
		    connect(c, (struct sockaddr *)&dst, sizeof(dst)))
			die("connect loop: connect");
		s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			die("connect loop: accept");
		close(c);
		close(s);
		n++;
		if (n % 32)
			continue;
		t = now() - t0;
		if (t >= secs)
			return n / t;
	}
}

#define NONE_BEFORE	-2
#define BUSY		-1

static const char *config_name(int i)
{
	if (i == NONE_BEFORE)
		return "none-before";
	if (i == BUSY)
		return "busy-loop";
	if (i == nmethods)
		return "none-after";
	return methods[i].name;
}

/* One window: the connect loop's rate with config @i on CPU 0. */
static double window(int i, int lfd, double secs, long *done, double *reads)
{
	pid_t pid = 0;
	double rate;
	long r0;

	__atomic_store_n(done, 0, __ATOMIC_RELAXED);
	if (i != NONE_BEFORE && i != nmethods) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			/* Its own group: one kill ends every stage. */
			setpgid(0, 0);
			pin(0);
			if (i == BUSY)
				busy_loop(done);
			reader_loop(&methods[i], done);
		}
		setpgid(pid, pid);
		/* Let the reader get going before the clock starts. */
		sleep(1);
	}
	r0 = __atomic_load_n(done, __ATOMIC_RELAXED);
	rate = churn(lfd, secs);
	*reads = (__atomic_load_n(done, __ATOMIC_RELAXED) - r0) / secs;
	if (pid) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return rate;
}

static int cmd_interfere(double secs, int rounds)
{
	double rate[MAX_METHODS + 3][MAX_RUNS], reads[MAX_METHODS + 3][MAX_RUNS];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int i, r, lfd;
	long *done;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fprintf(stderr, "benchtime: interfere needs two CPUs\n");
		return 1;
	}
	done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (done == MAP_FAILED)
		die("mmap");
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 4096))
		die("connect loop: listen");
	pin(1);
	/*
	 * Round robin over the configurations, so that the host's other
	 * load hits each alike: no reader, the busy loop, every method, and
	 * no reader again (a drift shows as a gap between the two).
	 */
	for (r = 0; r < rounds; r++)
		for (i = NONE_BEFORE; i <= nmethods; i++)
			rate[i + 2][r] = window(i, lfd, secs, done,
						&reads[i + 2][r]);
	for (i = NONE_BEFORE; i <= nmethods; i++)
		printf("churn %s conn_s %.1f min %.1f max %.1f reads_s %.2f\n",
		       config_name(i), median(rate[i + 2], rounds),
		       extreme(rate[i + 2], rounds, -1),
		       extreme(rate[i + 2], rounds, 1),
		       median(reads[i + 2], rounds));
	close(lfd);
	return 0;
}

/* The connect loop alone, on CPU 1, for connrate.sh: "conn_s RATE". */
static int cmd_churn(double secs)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int lfd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 4096))
		die("connect loop: listen");
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		pin(1);
	printf("conn_s %.1f\n", churn(lfd, secs));
	close(lfd);
	return 0;
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: benchtime run [-r RUNS] [-m MIN_RUNS] [-s SLOW_S] -f METHODS\n"
		"       benchtime scan [-r RUNS]\n"
		"       benchtime interfere [-t SECONDS] [-k ROUNDS] -f METHODS\n"
		"       benchtime churn [-t SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int runs = 5, min_runs = 3, rounds = 3, opt;
	double slow = 10, secs = 10;
	const char *file = NULL, *tmp;

	if (argc < 2)
		print_usage();
	tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(out_file, sizeof(out_file), "%s/benchtime.out", tmp);
	snprintf(err_file, sizeof(err_file), "%s/benchtime.err", tmp);
	optind = 2;
	while ((opt = getopt(argc, argv, "r:m:s:t:k:f:")) != -1) {
		switch (opt) {
		case 'r':
			runs = atoi(optarg);
			break;
		case 'm':
			min_runs = atoi(optarg);
			break;
		case 's':
			slow = atof(optarg);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'k':
			rounds = atoi(optarg);
			break;
		case 'f':
			file = optarg;
			break;
		default:
			print_usage();
		}
	}
	if (runs < 1 || runs > MAX_RUNS || min_runs < 1 || secs <= 0 ||
	    rounds < 1 || rounds > MAX_RUNS)
		print_usage();
	if (!strcmp(argv[1], "scan"))
		return cmd_scan(runs);
	if (!strcmp(argv[1], "churn"))
		return cmd_churn(secs);
	if (!file)
		print_usage();
	load_methods(file);
	if (!strcmp(argv[1], "run"))
		return cmd_run(runs, min_runs, slow);
	if (!strcmp(argv[1], "interfere"))
		return cmd_interfere(secs, rounds);
	print_usage();
	return 2;
}
