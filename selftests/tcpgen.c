// SPDX-License-Identifier: GPL-2.0
/*
 * tcpgen [-6] MODE N: make N loopback connections for the shell tests.
 *   tw     close each actively (client first), leaving TIME_WAIT; exit
 *   estab  keep them ESTABLISHED; print "ready", then wait until killed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcputil.h"

int main(int argc, char **argv)
{
	int family = AF_INET, lfd, c, s, i, n;

	if (argc > 1 && !strcmp(argv[1], "-6")) {
		family = AF_INET6;
		argv++;
		argc--;
	}
	if (argc != 3 || (strcmp(argv[1], "tw") && strcmp(argv[1], "estab"))) {
		fprintf(stderr, "usage: tcpgen [-6] tw|estab N\n");
		return 2;
	}
	n = atoi(argv[2]);
	if (raise_nofile(2 * n + 64))
		perror("tcpgen: setrlimit");
	lfd = tcp_listener(family, false, 4096);
	if (lfd < 0) {
		perror("tcpgen: listen");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (tcp_pair(lfd, family, &c, &s)) {
			perror("tcpgen: connect");
			return 1;
		}
		if (!strcmp(argv[1], "tw")) {
			close(c);
			usleep(1000);
			close(s);
		}
	}
	if (!strcmp(argv[1], "tw")) {
		usleep(100000);
		return 0;
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}
