// SPDX-License-Identifier: GPL-2.0
/*
 * readers: hostile and checking readers of the module's /proc files, for
 * hardening.sh.
 *   readers check FILE SECONDS LISTENERS [INUM]
 *       read FILE in a loop; on every read CLOSE must be 0 and LISTEN must
 *       be LISTENERS (in /proc/tcpstates_all: netns INUM's row), and
 *       /proc/tcpstates_ports must have no row without a socket.  Prints
 *       "reads N bad M"; exit 1 if any read was bad or none was made.
 *   readers flood FILE N SECONDS   N processes open, read, close in a loop
 *   readers hold FILE N            N processes open and read one byte,
 *                                  print "ready", hold until killed
 *   readers listen N PORT [6]      N listeners from PORT, "ready"; with
 *                                  6, IPv6 and two SO_REUSEPORT per port
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcputil.h"

#define MAX_FILE	(16 << 20)
#define MAX_TOK		64

static char buf[MAX_FILE + 1];

static ssize_t slurp(const char *path)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, MAX_FILE - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -1;
	buf[len] = '\0';
	return len;
}

static int split(char *line, char **tok)
{
	int n = 0;

	for (char *t = strtok(line, " "); t && n < MAX_TOK; t = strtok(NULL, " "))
		tok[n++] = t;
	return n;
}

static int col(char **tok, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(tok[i], name))
			return i;
	return -1;
}

/* One read of FILE: 0 when every invariant holds. */
static int check_once(const char *path, long listeners, const char *inum)
{
	bool plain = !strcmp(path, "/proc/tcpstates");
	bool ports = strstr(path, "_ports");
	int ntok, hdr_n = 0, c_close = -1, c_listen = -1, first = -1;
	long listen = 0, rows_listen = 0;
	char *line, *next, *tok[MAX_TOK];
	bool found = plain;
	int bad = 0;

	if (slurp(path) < 0) {
		fprintf(stderr, "readers: %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		if (!next)
			break;
		*next++ = '\0';
		ntok = split(line, tok);
		if (plain) {
			if (ntok == 3 && !strcmp(tok[0], "CLOSE"))
				bad |= atol(tok[1]) + atol(tok[2]) != 0;
			if (ntok == 3 && !strcmp(tok[0], "LISTEN"))
				listen = atol(tok[1]) + atol(tok[2]);
			continue;
		}
		if (c_close < 0) {
			c_close = col(tok, ntok, "CLOSE");
			c_listen = col(tok, ntok, "LISTEN");
			first = col(tok, ntok, "ESTABLISHED");
			hdr_n = ntok;
			continue;
		}
		if (ntok < hdr_n || first < 0)
			return 1;
		bad |= atol(tok[c_close]) != 0;
		if (ports) {
			long sum = 0;

			for (int i = first; i < first + 11; i++)
				sum += atol(tok[i]);
			bad |= sum == 0;
			rows_listen += atol(tok[c_listen]);
		} else if (!strcmp(tok[1], inum)) {
			found = true;
			listen = atol(tok[c_listen]);
		}
	}
	if (ports)
		listen = rows_listen;
	if (!ports && !found)
		return 1;
	if (bad || listen != listeners)
		fprintf(stderr, "readers: bad read of %s: LISTEN %ld\n%s",
			path, listen, bad ? "(CLOSE or empty row)\n" : "");
	return bad || listen != listeners;
}

static int check(const char *path, int seconds, long listeners,
		 const char *inum)
{
	time_t end = time(NULL) + seconds;
	long reads = 0, bad = 0;

	while (time(NULL) < end) {
		bad += check_once(path, listeners, inum);
		reads++;
	}
	printf("reads %ld bad %ld\n", reads, bad);
	return bad || !reads;
}

/* Fork @n children running @fn; wait for all. */
static int spawn(int n, void (*fn)(const char *, int), const char *path,
		 int arg)
{
	int status, ret = 0;

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (!pid) {
			fn(path, arg);
			_exit(0);
		}
	}
	while (wait(&status) > 0)
		ret |= !WIFEXITED(status) || WEXITSTATUS(status);
	return ret;
}

static void flood_one(const char *path, int seconds)
{
	time_t end = time(NULL) + seconds;
	char small[512];
	int fd;

	while (time(NULL) < end) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			_exit(1);
		while (read(fd, small, sizeof(small)) > 0)
			;
		close(fd);
	}
}

static void hold_one(const char *path, int unused)
{
	char c;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1)
		_exit(1);
	pause();
}

static int hold(const char *path, int n)
{
	pid_t kids[4096];
	char c;
	int fd;

	if (n > 4096)
		return 2;
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			return 1;
		if (!kids[i])
			hold_one(path, 0);
	}
	/* Our own open tells whether theirs could have worked. */
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1)
		return 1;
	close(fd);
	sleep(2);
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}

static int listeners(int n, int port, bool v6)
{
	for (int i = 0; i < n; i++) {
		/* Two v6 listeners share a port: SO_REUSEPORT's own table. */
		if (tcp_listen_port(v6 ? AF_INET6 : AF_INET, port + i,
				    v6 ? SO_REUSEPORT : 0) < 0 ||
		    (v6 && tcp_listen_port(AF_INET6, port + i,
					   SO_REUSEPORT) < 0)) {
			perror("readers: listen");
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, SIG_DFL);
	if (argc >= 5 && !strcmp(argv[1], "check"))
		return check(argv[2], atoi(argv[3]), atol(argv[4]),
			     argc > 5 ? argv[5] : "");
	if (argc == 5 && !strcmp(argv[1], "flood"))
		return spawn(atoi(argv[3]), flood_one, argv[2], atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(argv[2], atoi(argv[3]));
	if (argc >= 4 && !strcmp(argv[1], "listen"))
		return listeners(atoi(argv[2]), atoi(argv[3]),
				 argc > 4 && !strcmp(argv[4], "6"));
	fprintf(stderr, "usage: readers check|flood|hold|listen ...\n");
	return 2;
}
