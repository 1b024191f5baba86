// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: put a known number of loopback TCP sockets in known states,
 * print "ready" and wait to be killed.  Built static so vm_reader.sh can
 * use it in a guest without a libc.
 *
 * sockhelper ADDR PORT LISTEN ESTAB TIME_WAIT CLOSE_WAIT
 *   LISTEN     listeners on PORT, PORT+1, ...
 *   ESTAB      connected pairs (2 ESTABLISHED sockets each)
 *   TIME_WAIT  pairs closed client first (1 TIME_WAIT socket each)
 *   CLOSE_WAIT pairs half closed by the client (1 FIN_WAIT2 + 1 CLOSE_WAIT)
 *
 * sockhelper leak ADDR PORT N
 *   The CLOSE_WAIT leak: a server on PORT closes every connection it
 *   accepts, and a child process named "leaky" opens N connections to it
 *   and never closes them.  That leaves N CLOSE_WAIT sockets held by
 *   "leaky" (out PORT) and N orphaned FIN_WAIT2 (in PORT).  Prints
 *   "ready PID", PID being leaky's: kill it too.
 *
 * sockhelper latency MS
 *   For MS milliseconds, sleep 1 ms at a time and print "max_us N": the
 *   longest a wakeup came late, in microseconds.  Beside a reader on the
 *   same CPU, it is the longest stretch the reader ran without a
 *   scheduling point (vm_reader.sh, on a kernel that does not preempt).
 *
 * sockhelper threads N
 *   Start N threads that sleep, print "ready" and wait to be killed: a
 *   pid namespace of many tasks, for the pinned walk's ticks.
 *
 * sockhelper nivcsw OUT CMD [ARG...]
 *   Run CMD, its output into OUT, and print "nivcsw N": how many times
 *   it and what it waited for were switched out while runnable.  Beside
 *   a sleeper on the same CPU, a count of the scheduling points CMD
 *   passed that the host's load cannot make smaller (vm_reader.sh).
 *   Exits as CMD did.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_storage addr;
static socklen_t addrlen;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void set_addr(const char *ip, int port)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;

	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		addrlen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		addrlen = sizeof(*a6);
	} else {
		fprintf(stderr, "sockhelper: bad address %s\n", ip);
		exit(2);
	}
}

static int listener(const char *ip, int port)
{
	int fd = socket(addr.ss_family, SOCK_STREAM, 0);

	set_addr(ip, port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, addrlen) ||
	    listen(fd, 128))
		die("listen");
	return fd;
}

/* One connected pair through listener @lfd: cli and srv fds. */
static void pair(const char *ip, int port, int lfd, int *cli, int *srv)
{
	set_addr(ip, port);
	*cli = socket(addr.ss_family, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&addr, addrlen))
		die("connect");
	*srv = accept(lfd, NULL, NULL);
	if (*srv < 0)
		die("accept");
}

/* The client: connect @n times, wait for each server's FIN, keep them. */
/*
 * Until the peer's FIN has reached fd (CLOSE_WAIT), 5 s at most: closing
 * before it is a simultaneous close, TIME_WAIT at both ends.
 */
static void wait_close_wait(int fd)
{
	struct tcp_info ti;
	socklen_t len;
	int i;

	for (i = 0; i < 5000; i++) {
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
		    ti.tcpi_state == TCP_CLOSE_WAIT)
			return;
		usleep(1000);
	}
}

static void leaky(const char *ip, int port, int n, int done)
{
	char b;
	int i, c;

	prctl(PR_SET_NAME, "leaky", 0, 0, 0);
	for (i = 0; i < n; i++) {
		set_addr(ip, port);
		c = socket(addr.ss_family, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&addr, addrlen))
			die("connect");
		if (read(c, &b, 1) != 0)	/* EOF: we are in CLOSE_WAIT */
			die("read");
	}
	if (write(done, "x", 1) != 1)
		die("write");
	for (;;)
		pause();
}

static void leak(const char *ip, int port, int n)
{
	int lfd, pfd[2], i, s;
	pid_t pid;
	char b;

	set_addr(ip, port);
	lfd = listener(ip, port);
	if (pipe(pfd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(lfd);
		leaky(ip, port, n, pfd[1]);
	}
	for (i = 0; i < n; i++) {
		s = accept(lfd, NULL, NULL);
		if (s < 0)
			die("accept");
		close(s);
	}
	if (read(pfd[0], &b, 1) != 1)
		die("leaky");
	printf("ready %d\n", (int)pid);
	fflush(stdout);
	for (;;)
		pause();
}

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static int latency(int ms)
{
	struct timespec one = { .tv_nsec = 1000000 };
	long long end = now_us() + ms * 1000LL, t, late, max = 0;

	while ((t = now_us()) < end) {
		nanosleep(&one, NULL);
		late = now_us() - t - 1000;
		if (late > max)
			max = late;
	}
	printf("max_us %lld\n", max);
	return 0;
}

static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

static int threads(int n)
{
	pthread_attr_t a;
	pthread_t t;
	int i;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 65536);
	for (i = 0; i < n; i++)
		if (pthread_create(&t, &a, sleeper, NULL))
			return 1;
	printf("ready\n");
	fflush(stdout);
	sleeper(NULL);
	return 0;
}

static int count_switches(const char *out, char **cmd)
{
	struct rusage ru;
	int status, fd;
	pid_t pid;

	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(out);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		dup2(fd, 1);
		execvp(cmd[0], cmd);
		die(cmd[0]);
	}
	close(fd);
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4");
	printf("nivcsw %ld\n", ru.ru_nivcsw);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(int argc, char **argv)
{
	int port, nl, ne, ntw, ncw, i, lfd = -1, c, s;
	int *tw;

	if (argc == 5 && !strcmp(argv[1], "leak"))
		leak(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "latency"))
		return latency(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "threads"))
		return threads(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "nivcsw"))
		return count_switches(argv[2], argv + 3);

	if (argc != 7) {
		fprintf(stderr, "usage: sockhelper ADDR PORT LISTEN ESTAB TIME_WAIT CLOSE_WAIT\n"
				"       sockhelper leak ADDR PORT N\n"
				"       sockhelper latency MS\n"
				"       sockhelper threads N\n"
				"       sockhelper nivcsw OUT CMD [ARG...]\n");
		return 2;
	}
	port = atoi(argv[2]);
	nl = atoi(argv[3]);
	ne = atoi(argv[4]);
	ntw = atoi(argv[5]);
	ncw = atoi(argv[6]);
	set_addr(argv[1], port);
	if (nl < 1)
		nl = 1;	/* pairs need one; callers count it */
	for (i = 0; i < nl; i++) {
		c = listener(argv[1], port + i);
		if (!i)
			lfd = c;
	}
	for (i = 0; i < ne; i++)
		pair(argv[1], port, lfd, &c, &s);
	for (i = 0; i < ncw; i++) {
		pair(argv[1], port, lfd, &c, &s);
		shutdown(c, SHUT_WR);
	}
	tw = calloc(ntw + 1, sizeof(*tw));
	for (i = 0; i < ntw; i++) {
		pair(argv[1], port, lfd, &c, &tw[i]);
		close(c);	/* active close: this side gets TIME_WAIT */
	}
	for (i = 0; i < ntw; i++) {
		wait_close_wait(tw[i]);
		close(tw[i]);
	}
	usleep(200000);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
