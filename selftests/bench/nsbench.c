// SPDX-License-Identifier: GPL-2.0
/*
 * nsbench: the container tier of make bench.  Grows a set of network
 * namespaces, each holding about SOCKETS loopback sockets (one listener
 * and its connections, kept by one sleeping process per namespace), and
 * at each size of -N times the ways to get every namespace's per-state
 * counts:
 *
 *   all      one read of /proc/tcpstates_all (from the initial netns)
 *   own      each namespace's /proc/tcpstates (setns into each)
 *   diag     a sock_diag dump per namespace (a per-container exporter)
 *   ss       ss -tan per namespace (fork, setns, exec)
 *
 *   nsbench [-p EHASH] [-s SOCKETS] [-r RUNS] -N "10 100 1000"
 *
 * -p gives every namespace a private ehash of EHASH buckets.  Run it in
 * the netns whose sockets play the host's (make bench: popgen's, sharing
 * the global table).  One record per line: "ns N METHOD median_ms min_ms".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcpstates_states.h"
#include "diag.h"

#define MAX_NS		4096
#define MAX_RUNS	15

static int ns_fd[MAX_NS];
static int nr_ns;
static int init_fd;
static int home_fd;	/* where namespaces are made: its sysctls apply */
static char buf[1 << 20];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(fd, SIOCSIFFLAGS, &ifr);
}

/* In a fresh netns: a listener and (SOCKETS - 1) / 2 connected pairs. */
static int populate(int sockets)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l, c, i;

	if (lo_up())
		return -1;
	l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, len) || listen(l, 1024) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	for (i = 0; i < (sockets - 1) / 2; i++) {
		c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, len) ||
		    accept(l, NULL, NULL) < 0)
			return -1;
	}
	return 0;
}

/* One more namespace: a child that populates it and sleeps. */
static void add_ns(int sockets)
{
	int p[2];
	char path[64], ok;
	pid_t pid;

	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Leave the fd table to this namespace's sockets. */
		for (int i = 0; i < nr_ns; i++)
			close(ns_fd[i]);
		ok = !unshare(CLONE_NEWNET) && !populate(sockets);
		if (write(p[1], &ok, 1) != 1 || !ok)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &ok, 1) != 1 || !ok) {
		fprintf(stderr, "nsbench: namespace %d failed\n", nr_ns);
		exit(1);
	}
	close(p[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ns_fd[nr_ns] = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd[nr_ns++] < 0)
		die(path);
}

static long read_file(const char *path)
{
	long len = 0, n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die(path);
	/* seq_file hands out a page or so per read(): append. */
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

static void enter(int fd)
{
	if (setns(fd, CLONE_NEWNET))
		die("setns");
}

static void method_all(void)
{
	enter(init_fd);
	read_file("/proc/tcpstates_all");
	enter(home_fd);
}

static void method_own(void)
{
	for (int i = 0; i < nr_ns; i++) {
		enter(ns_fd[i]);
		read_file("/proc/tcpstates");
	}
	enter(home_fd);
}

static void method_diag(void)
{
	long long counts[TCPSTATES_NR_STATES][2];
	int fd;

	for (int i = 0; i < nr_ns; i++) {
		enter(ns_fd[i]);
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			    NETLINK_SOCK_DIAG);
		if (fd < 0)
			die("netlink");
		/* A per-container exporter's work: both families by state. */
		memset(counts, 0, sizeof(counts));
		if (diag_dump(fd, AF_INET, counts, 0) ||
		    diag_dump(fd, AF_INET6, counts, 1))
			die("sock_diag");
		close(fd);
	}
	enter(home_fd);
}

static void method_ss(void)
{
	int status, null;
	pid_t pid;

	for (int i = 0; i < nr_ns; i++) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			enter(ns_fd[i]);
			execlp("ss", "ss", "-tan", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0 || status)
			die("ss");
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void time_method(const char *name, void (*fn)(void), int runs)
{
	double t[MAX_RUNS], start;

	for (int r = 0; r < runs; r++) {
		start = now();
		fn();
		t[r] = now() - start;
	}
	qsort(t, runs, sizeof(t[0]), cmp);
	printf("ns %d %s %.3f %.3f\n", nr_ns, name, t[runs / 2] * 1e3,
	       t[0] * 1e3);
	fflush(stdout);
}

/* What one namespace's walk covered and cost (its scan_* lines). */
static void sample_scan(int i)
{
	char *p, *q;

	enter(ns_fd[i]);
	read_file("/proc/tcpstates");
	enter(home_fd);
	p = strstr(buf, "scan_buckets ");
	q = strstr(buf, "scan_ns ");
	if (p && q)
		printf("ns %d sample %d buckets %ld scan_ns %ld\n", nr_ns, i,
		       atol(p + 13), atol(q + 8));
}

/* Every namespace made shows in one read of /proc/tcpstates_all. */
static int check_all(void)
{
	long rows = 0;
	char *p;

	enter(init_fd);
	read_file("/proc/tcpstates_all");
	enter(home_fd);
	for (p = buf; (p = strstr(p, "\nnetns ")); p++)
		rows++;
	return rows >= nr_ns ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct rlimit nofile = { 1 << 16, 1 << 16 };
	int sockets = 100, runs = 5, target, opt;
	const char *sizes = NULL, *ehash = NULL;
	char *list, *tok;
	FILE *f;

	while ((opt = getopt(argc, argv, "p:s:r:N:")) != -1) {
		switch (opt) {
		case 'p':
			ehash = optarg;
			break;
		case 's':
			sockets = atoi(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'N':
			sizes = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!sizes || runs < 1 || runs > MAX_RUNS)
		return 2;
	setrlimit(RLIMIT_NOFILE, &nofile);
	home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	init_fd = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
	if (init_fd < 0)
		die("/proc/1/ns/net");
	f = fopen("/proc/sys/net/ipv4/tcp_child_ehash_entries", "w");
	if (f) {
		fprintf(f, "%s\n", ehash ? ehash : "0");
		fclose(f);
	} else if (ehash) {
		die("tcp_child_ehash_entries");
	}
	list = strdup(sizes);
	for (tok = strtok(list, " "); tok; tok = strtok(NULL, " ")) {
		double start = now();

		target = atoi(tok);
		if (target > MAX_NS)
			return 2;
		while (nr_ns < target)
			add_ns(sockets);
		printf("ns %d made_s %.1f\n", nr_ns, now() - start);
		sample_scan(0);
		sample_scan(nr_ns - 1);
		if (check_all()) {
			fprintf(stderr, "nsbench: /proc/tcpstates_all lacks namespaces\n");
			return 1;
		}
		/* The slow loops take minutes at 1,000: fewer runs there. */
		time_method("all", method_all, runs);
		time_method("own", method_own, runs);
		time_method("diag", method_diag, nr_ns >= 500 && runs > 3 ? 3 : runs);
		time_method("ss", method_ss, nr_ns >= 500 ? 1 : runs > 3 ? 3 : runs);
	}
	return 0;
}
