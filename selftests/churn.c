// SPDX-License-Identifier: GPL-2.0
/*
 * churn: open and close TCP connections as fast as possible for a while,
 * for the stress test.  Prints "connections N" at the end.
 *   churn loop [-6] SECONDS            both ends here, over loopback
 *   churn serve PORT SECONDS           accept and close (IPv4 and IPv6)
 *   churn connect ADDR PORT SECONDS    connect and close, leaving TIME_WAIT
 *   churn flood SRC DST PORT SECONDS   spoofed raw SYNs (ADDR family)
 *   churn rst SECONDS                  as loop, but both ends reset
 *                                      (SO_LINGER 0): sockets freed at once
 *   churn listen SECONDS               listen() and close() on fresh ports
 *   churn syn SRC DST PORT N SECONDS NETNS
 *                                      a listener on PORT (DST's family,
 *                                      any address) takes N spoofed raw
 *                                      SYNs from SRC on, sent from netns
 *                                      NETNS (ip netns's name); it stays
 *                                      until their request socks have
 *                                      ended, SECONDS at most, and prints
 *                                      "requests N", those left
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tcputil.h"

static time_t deadline;

static int running(void)
{
	return time(NULL) < deadline;
}

/* Accept within a second, or give up on that connection. */
static int accept_soon(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, 1000) == 1 ? accept(lfd, NULL, NULL) : -1;
}

/*
 * A connect that fails (a loaded guest, ports still held) is skipped:
 * the listener must stay up for the whole run, the tests count it.
 */
static int connect_or_wait(int lfd, int family)
{
	int c = tcp_connect(lfd, family);

	if (c < 0)
		usleep(1000);
	return c;
}

static long churn_loop(int family)
{
	int lfd = tcp_listener(family, false, 4096), c, s;
	long n = 0;

	while (lfd >= 0 && running()) {
		c = connect_or_wait(lfd, family);
		if (c < 0)
			continue;
		s = accept_soon(lfd);
		close(c);
		if (s >= 0) {
			close(s);
			n++;
		}
	}
	return lfd < 0 ? -1 : n;
}

static void reset_close(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Full sockets freed as fast as they come, for the slab to reuse. */
static long churn_rst(void)
{
	int lfd = tcp_listener(AF_INET, false, 4096), c, s;
	long n = 0;

	while (lfd >= 0 && running()) {
		c = connect_or_wait(lfd, AF_INET);
		if (c < 0)
			continue;
		s = accept_soon(lfd);
		reset_close(c);
		if (s >= 0) {
			reset_close(s);
			n++;
		}
	}
	return lfd < 0 ? -1 : n;
}

/* Listeners come and go: the shared listener table churns. */
static long churn_listen(void)
{
	long n = 0;
	int fd;

	while (running()) {
		fd = tcp_listener(AF_INET, false, 16);
		if (fd < 0)
			return -1;
		close(fd);
		n++;
	}
	return n;
}

static int sockaddr_of(const char *addr, int port, struct sockaddr_in6 *sa)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET6, addr, &sa->sin6_addr) == 1) {
		sa->sin6_family = AF_INET6;
		sa->sin6_port = htons(port);
		return AF_INET6;
	}
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return AF_INET;
}

static long churn_serve(int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	int lfd = socket(AF_INET6, SOCK_STREAM, 0), fd, on = 1;
	long n = 0;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4096) ||
	    nonblock(lfd))
		return -1;
	while (running()) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			usleep(1000);
			continue;
		}
		close(fd);
		n++;
	}
	return n;
}

static long churn_connect(const char *addr, int port)
{
	struct timeval tmo = { .tv_sec = 1 };
	struct sockaddr_in6 sa;
	int family = sockaddr_of(addr, port, &sa), fd;
	long n = 0;

	if (family < 0)
		return -1;
	while (running()) {
		fd = socket(family, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		/*
		 * A SYN lost to the flood would block connect() for two
		 * minutes of retries: give up after one second instead.
		 */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			n++;
		else
			usleep(1000);
		close(fd);
	}
	return n;
}

static long churn_flood(const char *src, const char *dst, int port)
{
	int family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	long n = 0;

	while (running()) {
		if (send_raw_syns(family, src, dst, port, 32))
			return -1;
		n += 32;
		usleep(20000);
	}
	return n;
}

/* The request socks (SYN_RECV) on local port @port, from /proc/net. */
static int requests_on(int port)
{
	static const char * const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned int lport, st;
	char line[512];
	int i, n = 0;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x",
				   &lport, &st) == 2 &&
			    lport == (unsigned int)port && st == TCP_SYN_RECV)
				n++;
		fclose(f);
	}
	return n;
}

/* send_raw_syns() from netns @name, then back in our own. */
static int syns_from(const char *name, int family, const char *src,
		     const char *dst, int port, int n)
{
	char path[256];
	int here = open("/proc/self/ns/net", O_RDONLY), there, err = -1;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	there = open(path, O_RDONLY);
	if (here >= 0 && there >= 0 && !setns(there, CLONE_NEWNET)) {
		err = send_raw_syns(family, src, dst, port, n);
		if (setns(here, CLONE_NEWNET))
			err = -1;
	}
	close(there);
	close(here);
	return err;
}

static long churn_syn(const char *src, const char *dst, int port, int n,
		      const char *netns)
{
	int family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int lfd = socket(family, SOCK_STREAM, 0), on = 1, left, err;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (family == AF_INET6) {
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		err = bind(lfd, (struct sockaddr *)&a6, sizeof(a6));
	} else {
		err = bind(lfd, (struct sockaddr *)&a4, sizeof(a4));
	}
	if (err || listen(lfd, 4096) ||
	    syns_from(netns, family, src, dst, port, n))
		return -1;
	do {
		usleep(100000);
		left = requests_on(port);
	} while (left && running());
	printf("requests %d\n", left);
	close(lfd);
	return left ? -1 : n;
}

int main(int argc, char **argv)
{
	long n = -1;

	if (argc >= 3 && !strcmp(argv[1], "loop")) {
		int v6 = argc == 4 && !strcmp(argv[2], "-6");

		deadline = time(NULL) + atoi(argv[argc - 1]);
		n = churn_loop(v6 ? AF_INET6 : AF_INET);
	} else if (argc == 4 && !strcmp(argv[1], "serve")) {
		deadline = time(NULL) + atoi(argv[3]);
		n = churn_serve(atoi(argv[2]));
	} else if (argc == 5 && !strcmp(argv[1], "connect")) {
		deadline = time(NULL) + atoi(argv[4]);
		n = churn_connect(argv[2], atoi(argv[3]));
	} else if (argc == 3 && !strcmp(argv[1], "rst")) {
		deadline = time(NULL) + atoi(argv[2]);
		n = churn_rst();
	} else if (argc == 3 && !strcmp(argv[1], "listen")) {
		deadline = time(NULL) + atoi(argv[2]);
		n = churn_listen();
	} else if (argc == 6 && !strcmp(argv[1], "flood")) {
		deadline = time(NULL) + atoi(argv[5]);
		n = churn_flood(argv[2], argv[3], atoi(argv[4]));
	} else if (argc == 8 && !strcmp(argv[1], "syn")) {
		deadline = time(NULL) + atoi(argv[6]);
		n = churn_syn(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
			      argv[7]);
	} else {
		fprintf(stderr, "churn: see the comment at the top of churn.c\n");
		return 2;
	}
	printf("connections %ld\n", n);
	return n < 0;
}
