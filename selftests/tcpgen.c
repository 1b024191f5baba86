// SPDX-License-Identifier: GPL-2.0
/*
 * tcpgen [-6] [-p PORT [-m PORTS]] MODE N: make N loopback connections for
 * the shell tests, to a listener on PORT (default: any); with -m, tw only,
 * N to each of PORTS listeners on PORT, PORT + 1, ... in turn.
 *   tw     close each actively (client first), leaving TIME_WAIT; exit
 *   estab  keep them ESTABLISHED
 *   leak   the server closes, the client never does: CLOSE_WAIT on the
 *          client, FIN_WAIT2 on the server (a leaking connection pool)
 *   synrecv  the listener defers accept (TCP_DEFER_ACCEPT, 60 s) and the
 *          clients send nothing: each client ESTABLISHED, its request
 *          sock SYN_RECV, the handshake's last ACK dropped
 * estab, leak and synrecv print "ready", then hold the sockets until
 * killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcputil.h"

/* Until the peer's FIN: read(2) returns 0 (or fails: a reset). */
static void wait_eof(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int bad_args(void)
{
	fprintf(stderr, "usage: tcpgen [-6] [-p PORT [-m PORTS]] tw|estab|leak|synrecv N\n");
	return 2;
}

/*
 * The client's FIN read before the server closes: a server FIN sent
 * before it arrives (1 ms was not always enough under TCG on 7.2) is a
 * simultaneous close, TIME_WAIT at both ends.
 */
static void close_active(int c, int s)
{
	close(c);
	wait_eof(s);
	close(s);
}

/* tw on @nports listeners, one after the other, each closed after. */
static int tw_ports(int family, int port, int nports, int n)
{
	int lfd, c, s, i;

	for (; nports > 0; nports--, port++) {
		lfd = tcp_listen_port(family, port, SO_REUSEADDR);
		if (lfd < 0) {
			perror("tcpgen: listen");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (tcp_pair(lfd, family, &c, &s)) {
				perror("tcpgen: connect");
				return 1;
			}
			close_active(c, s);
		}
		close(lfd);
	}
	usleep(100000);
	return 0;
}

int main(int argc, char **argv)
{
	int family = AF_INET, port = 0, defer = 60, lfd, c, s, i, n, opt;
	int nports = 0;
	const char *mode;

	while ((opt = getopt(argc, argv, "6p:m:")) != -1) {
		if (opt == '6')
			family = AF_INET6;
		else if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'm')
			nports = atoi(optarg);
		else
			return bad_args();
	}
	if (argc - optind != 2)
		return bad_args();
	mode = argv[optind];
	n = atoi(argv[optind + 1]);
	if (strcmp(mode, "tw") && strcmp(mode, "estab") && strcmp(mode, "leak") &&
	    strcmp(mode, "synrecv"))
		return bad_args();
	if (nports)
		return port && !strcmp(mode, "tw") ?
		       tw_ports(family, port, nports, n) : bad_args();
	if (raise_nofile(2 * n + 64))
		perror("tcpgen: setrlimit");
	lfd = port ? tcp_listen_port(family, port, SO_REUSEADDR) :
		     tcp_listener(family, false, 4096);
	if (lfd < 0) {
		perror("tcpgen: listen");
		return 1;
	}
	if (!strcmp(mode, "synrecv")) {
		if (setsockopt(lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
			       sizeof(defer))) {
			perror("tcpgen: TCP_DEFER_ACCEPT");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (tcp_connect(lfd, family) < 0) {
				perror("tcpgen: connect");
				return 1;
			}
		}
		n = 0;
	}
	for (i = 0; i < n; i++) {
		if (tcp_pair(lfd, family, &c, &s)) {
			perror("tcpgen: connect");
			return 1;
		}
		if (!strcmp(mode, "tw"))
			close_active(c, s);
		else if (!strcmp(mode, "leak"))
			close(s);
	}
	if (!strcmp(mode, "tw")) {
		usleep(100000);
		return 0;
	}
	printf("ready\n");
	fflush(stdout);
	pause();
	return 0;
}
