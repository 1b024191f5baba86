// SPDX-License-Identifier: GPL-2.0
/*
 * popgen: build a quiescent population of TCP sockets in a fresh network
 * namespace, run a command inside that namespace, then tear the population
 * down without sending a packet.
 *
 *   popgen [-H] [-e EHASH] [-w WORKERS] -n SOCKETS CMD [ARG...]
 *
 * -e gives the namespace a private established table of EHASH buckets
 * (0: share the global one).  net.ipv4.tcp_child_ehash_entries is per
 * netns and read from the netns that makes the new one, so popgen sets it
 * in an intermediate netns of its own: the caller's value (a host's, for
 * the native lane) never changes.  -w spreads the fds over more workers,
 * for a hard RLIMIT_NOFILE that root cannot raise.  The population, in
 * this order of share:
 *
 *   ESTABLISHED  loopback pairs, client 127.16+W.x.y (many source
 *                addresses give each worker 60000 ports apiece) to a
 *                listener on 127.0.0.1
 *   ESTABLISHED  IPv6, about 5%, [::1] to a listener on [::1]
 *   CLOSE_WAIT   about 1%, and as many FIN_WAIT2 (the client did
 *                shutdown(SHUT_WR) and keeps its end)
 *   SYN_RECV     about 1% (at most 20000): raw SYNs to a listener on a
 *                dummy interface; the SYN-ACKs are lost and
 *                tcp_synack_retries=255 keeps the request socks for hours
 *   LISTEN       two per worker and one for the SYNs
 *
 * The ESTABLISHED pairs are made in TCP_REPAIR mode: both ends, with the
 * same addresses and ports as a real loopback connection, are hashed as
 * ESTABLISHED without a packet.  To a reader they are the same sockets;
 * building a million takes a fraction of the time, and no packet storm
 * runs through the emulated softirqs.  -H makes them with real handshakes
 * instead.  CLOSE_WAIT and FIN_WAIT2 always come from real connections.
 *
 * No TIME_WAIT: a timewait sock lives 60 s (TCP_TIMEWAIT_LEN, no sysctl),
 * and under emulation building and timing a large population takes
 * minutes, so a TIME_WAIT share would melt away while it is measured.
 *
 * Every state here is stable: no socket has a timer that changes its
 * state, so every reader must report the same counts.  Each worker process
 * holds its sockets (two fds per connection).  At the end every socket is
 * put in TCP_REPAIR mode: closing it then sends neither FIN nor RST, so a
 * million sockets go away without a million TIME_WAITs.
 *
 * Prints "popgen: ..." lines on stderr and exits with CMD's status.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tcputil.h"

#define PORTS_PER_ADDR	60000
#define FIRST_PORT	1024
#define LISTEN_PORT	65000	/* + worker: IPv4, + 100 + worker: IPv6 */
#define SYN_PORT	65300
/* The listeners' ports above: 100 workers each for IPv4 and IPv6. */
#define MAX_WORKERS	100
#define MAX_SYN_RECV	20000
#define SYN_DST		"10.99.0.1"
#define SYN_SRC		"10.99.0.2"

struct share {
	long v4;	/* ESTABLISHED pairs over IPv4 */
	long v6;	/* ESTABLISHED pairs over IPv6 */
	long cw;	/* CLOSE_WAIT + FIN_WAIT2 pairs */
};

struct worker {
	pid_t pid;
	int ready;	/* read end: the worker writes one byte when done */
	int l4, l6;	/* its listeners */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "popgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sysctl_set(const char *path, long long val)
{
	if (write_sysctl(path, val))
		die(path);
}

/*
 * Listeners sit on fixed ports above every client port, so that no
 * client's address and port can equal a listener's: on [::1] both ends of
 * every IPv6 pair share the one address.
 */
static int listener(int family, const char *addr, int port, int backlog)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr *sa = (struct sockaddr *)&sin;
	socklen_t len = sizeof(sin);
	void *a = &sin.sin_addr;

	sin.sin_port = htons(port);
	if (family == AF_INET6) {
		sin6.sin6_port = htons(port);
		sa = (struct sockaddr *)&sin6;
		len = sizeof(sin6);
		a = &sin6.sin6_addr;
	}
	if (fd < 0 || inet_pton(family, addr, a) != 1 || bind(fd, sa, len) ||
	    listen(fd, backlog))
		die(addr);
	return fd;
}

static int port_of(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	if (getsockname(fd, (struct sockaddr *)ss, &len))
		die("getsockname");
	if (ss->ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)ss)->sin_port);
}

/*
 * The client address of connection @j of worker @w: 127.(16 + w).x.y,
 * port from FIRST_PORT on.  An explicit address and port need no search
 * for a free port, which connect() would do with growing cost.
 */
static void addr4(int w, long j, struct sockaddr_in *src)
{
	long a = j / PORTS_PER_ADDR;

	memset(src, 0, sizeof(*src));
	src->sin_family = AF_INET;
	src->sin_addr.s_addr = htonl(127U << 24 | (16U + w) << 16 |
				     (unsigned int)(a / 250) << 8 |
				     (unsigned int)(1 + a % 250));
	src->sin_port = htons(FIRST_PORT + j % PORTS_PER_ADDR);
}

static int connect4(const struct sockaddr_in *src,
		    const struct sockaddr_in *dst)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) ||
	    connect(fd, (const struct sockaddr *)dst, sizeof(*dst))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect6(const struct sockaddr_in6 *dst)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A socket in TCP_REPAIR mode bound to @src and connected to @dst: it is
 * ESTABLISHED and hashed at once, with no packet sent (repair mode also
 * lets it share the listener's address and port).
 */
static int repaired(const struct sockaddr *src, const struct sockaddr *dst,
		    socklen_t len)
{
	int fd = socket(src->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) ||
	    bind(fd, src, len) || connect(fd, dst, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Both ends of the loopback connection @a <-> @b, with no handshake. */
static int repaired_pair(const void *a, const void *b, socklen_t len)
{
	if (repaired(a, b, len) < 0 || repaired(b, a, len) < 0)
		return -1;
	return 0;
}

/* A connection through @l: connect @c (-1 on error), accept. */
static int handshake(int c, int l)
{
	if (c < 0 || accept4(l, NULL, NULL, SOCK_CLOEXEC) < 0)
		return -1;
	return 0;
}

/* Put every socket in repair mode: their close then sends nothing. */
static void quiet_close_all(void)
{
	struct rlimit rl;
	int one = 1;
	long fd;

	getrlimit(RLIMIT_NOFILE, &rl);
	for (fd = 3; fd < (long)rl.rlim_cur; fd++)
		setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one));
}

static int build(int w, const struct worker *wk, const struct share *sh,
		 bool hs)
{
	struct sockaddr_storage a4, a6;
	struct sockaddr_in6 c6;
	struct sockaddr_in c4;
	long i;
	int c;

	port_of(wk->l4, &a4);
	/*
	 * IPv6 first: with real handshakes it uses ephemeral ports, and
	 * connect() skips every port an explicit bind() holds, as the IPv4
	 * clients below hold them all.
	 */
	port_of(wk->l6, &a6);
	c6 = *(struct sockaddr_in6 *)&a6;
	for (i = 0; i < sh->v6; i++) {
		c6.sin6_port = htons(FIRST_PORT + i);
		if (hs ? handshake(connect6((struct sockaddr_in6 *)&a6), wk->l6) :
		    repaired_pair(&c6, &a6, sizeof(c6)))
			return -1;
	}
	for (i = 0; i < sh->v4; i++) {
		addr4(w, i, &c4);
		if (hs ? handshake(connect4(&c4, (struct sockaddr_in *)&a4),
				   wk->l4) :
		    repaired_pair(&c4, &a4, sizeof(c4)))
			return -1;
	}
	/* Always real: the client's FIN makes the states. */
	for (i = 0; i < sh->cw; i++) {
		addr4(w, sh->v4 + i, &c4);
		c = connect4(&c4, (struct sockaddr_in *)&a4);
		if (handshake(c, wk->l4) || shutdown(c, SHUT_WR))
			return -1;
	}
	return 0;
}

/*
 * In the child: build, report, hold the sockets until SIGTERM.  Besides
 * its own, a worker holds the fds it inherited: the listeners of all @nw
 * workers and the pipes of those forked before it.
 */
static void worker_main(int w, int nw, struct worker *wk, int wfd,
			const struct share *sh, bool hs)
{
	long fds = 2 * (sh->v4 + sh->v6 + sh->cw) + 3 * nw + 64;
	sigset_t set;
	char ok = 1;
	int sig;

	if (raise_nofile(fds)) {
		fprintf(stderr, "popgen: RLIMIT_NOFILE %ld: %s (fs.nr_open?)\n",
			fds, strerror(errno));
		_exit(1);
	}
	if (build(w, wk, sh, hs)) {
		fprintf(stderr, "popgen: worker %d: %s\n", w, strerror(errno));
		_exit(1);
	}
	if (write(wfd, &ok, 1) != 1)
		_exit(1);
	close(wfd);
	/* SIGTERM is blocked since fork: wait for it here. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	quiet_close_all();
	_exit(0);
}

static void setup_netns(long long ehash, long n)
{
	FILE *f;

	if (ehash >= 0) {
		if (unshare(CLONE_NEWNET))
			die("intermediate netns");
		sysctl_set("/proc/sys/net/ipv4/tcp_child_ehash_entries", ehash);
	}
	if (new_netns())
		die("new netns");
	sysctl_set("/proc/sys/net/core/somaxconn", 1 << 20);
	sysctl_set("/proc/sys/net/ipv4/tcp_max_syn_backlog", 1 << 20);
	sysctl_set("/proc/sys/net/ipv4/tcp_syncookies", 0);
	sysctl_set("/proc/sys/net/ipv4/tcp_synack_retries", 255);
	sysctl_set("/proc/sys/net/ipv4/tcp_max_tw_buckets", 2 * n + 65536);
	/* Room for the IPv6 clients and benchtime's connect loop. */
	f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "w");
	if (!f || fprintf(f, "1024 65535\n") < 0 || fclose(f))
		die("ip_local_port_range");
	/* The SYN-ACKs to the spoofed sources leave through d0, and die. */
	if (system("ip link add d0 type dummy") ||
	    system("ip addr add " SYN_DST "/16 dev d0") ||
	    system("ip link set d0 up"))
		die("dummy interface");
}

static void print_usage(void)
{
	fprintf(stderr,
		"usage: popgen [-H] [-e EHASH] [-w WORKERS] -n SOCKETS CMD [ARG...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct worker wk[MAX_WORKERS];
	long long ehash = -1;
	long n = 0, syn, pairs, est;
	struct share total, sh;
	int nw = 2, w, p[2], status, opt;
	sigset_t term;
	bool hs = false;
	double t0;
	char ok;
	pid_t cmd;

	while ((opt = getopt(argc, argv, "+He:w:n:")) != -1) {
		switch (opt) {
		case 'H':
			hs = true;
			break;
		case 'e':
			ehash = atoll(optarg);
			break;
		case 'w':
			nw = atoi(optarg);
			break;
		case 'n':
			n = atol(optarg);
			break;
		default:
			print_usage();
		}
	}
	if (n < 100 || nw < 1 || nw > MAX_WORKERS || optind >= argc)
		print_usage();
	if ((n / 40 + nw - 1) / nw > PORTS_PER_ADDR) {
		fprintf(stderr, "popgen: too many IPv6 pairs per worker: use -w\n");
		return 2;
	}

	/* The shares; ESTABLISHED v4 takes what is left, SYN_RECV the odd one. */
	syn = n / 100 < MAX_SYN_RECV ? n / 100 : MAX_SYN_RECV;
	total.cw = n / 200;
	total.v6 = n / 40;
	pairs = (n - 2 * nw - 1 - syn) / 2;
	total.v4 = pairs - total.cw - total.v6;
	syn = n - 2 * nw - 1 - 2 * pairs;
	est = 2 * (total.v4 + total.v6);

	setup_netns(ehash, n);
	/* Open until we exit: it holds the request socks. */
	listener(AF_INET, SYN_DST, SYN_PORT, 1 << 20);
	for (w = 0; w < nw; w++) {
		wk[w].l4 = listener(AF_INET, "127.0.0.1", LISTEN_PORT + w, 4096);
		wk[w].l6 = listener(AF_INET6, "::1", LISTEN_PORT + 100 + w,
				    4096);
	}

	/* Workers inherit the mask: a SIGTERM waits for their sigwait(). */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	t0 = now();
	for (w = 0; w < nw; w++) {
		sh.v4 = total.v4 / nw + (w < total.v4 % nw);
		sh.v6 = total.v6 / nw + (w < total.v6 % nw);
		sh.cw = total.cw / nw + (w < total.cw % nw);
		if (pipe(p))
			die("pipe");
		wk[w].pid = fork();
		if (wk[w].pid < 0)
			die("fork");
		if (!wk[w].pid) {
			close(p[0]);
			worker_main(w, nw, &wk[w], p[1], &sh, hs);
		}
		close(p[1]);
		wk[w].ready = p[0];
	}
	for (w = 0; w < nw; w++)
		if (read(wk[w].ready, &ok, 1) != 1) {
			fprintf(stderr, "popgen: worker %d failed\n", w);
			for (w = 0; w < nw; w++)
				kill(wk[w].pid, SIGKILL);
			return 1;
		}
	if (syn && send_raw_syns(AF_INET, SYN_SRC, SYN_DST, SYN_PORT, syn))
		die("raw SYNs");
	fprintf(stderr,
		"popgen: %ld sockets in %.1f s: ESTABLISHED %ld (IPv6 %ld), CLOSE_WAIT %ld, FIN_WAIT2 %ld, SYN_RECV %ld, LISTEN %d\n",
		n, now() - t0, est, 2 * total.v6, total.cw, total.cw, syn,
		2 * nw + 1);
	fprintf(stderr, "popgen: ESTABLISHED pairs by %s\n",
		hs ? "handshake" : "TCP_REPAIR");
	/* Let delayed ACKs of the FINs land: then nothing moves. */
	sleep(2);

	sigprocmask(SIG_UNBLOCK, &term, NULL);
	cmd = fork();
	if (cmd < 0)
		die("fork");
	if (!cmd) {
		execvp(argv[optind], argv + optind);
		die(argv[optind]);
	}
	if (waitpid(cmd, &status, 0) < 0)
		die("waitpid");

	t0 = now();
	for (w = 0; w < nw; w++)
		kill(wk[w].pid, SIGTERM);
	for (w = 0; w < nw; w++)
		waitpid(wk[w].pid, NULL, 0);
	fprintf(stderr, "popgen: torn down in %.1f s\n", now() - t0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
