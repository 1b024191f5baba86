/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the selftests: make TCP sockets in a chosen state over
 * loopback, and read the three views of them that must agree: the
 * module's /proc/tcpstates, ss -tan, and /proc/net/sockstat.
 */
#ifndef _TCPUTIL_H
#define _TCPUTIL_H

#include <stdbool.h>
#include "tcpstates_states.h"

struct tcp_counts {
	long long n[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
	long long tw_count;
	long long max_tw_buckets;
	long long tw_overflow;
	long long scan_buckets;
	unsigned long long netns;
};

/* Column of a socket of @family in the counts. */
int fam_col(int family);

int read_tcpstates_fd(int fd, struct tcp_counts *c);
int read_tcpstates(struct tcp_counts *c);
int read_ss(struct tcp_counts *c);
long long read_sockstat_tw(void);
int read_sysctl(const char *path, long long *val);
int write_sysctl(const char *path, long long val);

/* unshare(CLONE_NEWNET) and bring lo up. */
int new_netns(void);
int raise_nofile(unsigned int n);

/*
 * A listener on the loopback address of @family (AF_INET6 with
 * @dual: on :: accepting v4-mapped clients too), backlog @backlog.
 */
int tcp_listener(int family, bool dual, int backlog);
/*
 * A listener on loopback port @port of @family, with the SOL_SOCKET
 * option @sockopt (SO_REUSEADDR, SO_REUSEPORT; 0 for none) turned on.
 */
int tcp_listen_port(int family, int port, int sockopt);
int tcp_connect(int lfd, int family);
int tcp_accept(int lfd);
/* A connected pair: *cfd client of @family, *sfd the accepted socket. */
int tcp_pair(int lfd, int family, int *cfd, int *sfd);
/* Poll TCP_INFO until @fd is in @state; -1 after two seconds. */
int tcp_wait_state(int fd, int state);
/* Fill the peer's receive window: write until EAGAIN. */
int tcp_fill(int fd);
int nonblock(int fd);

/* Raw SYNs from @n unowned sources from @src on, to @dst:@port. */
int send_raw_syns(int family, const char *src, const char *dst, int port,
		  int n);

#endif /* _TCPUTIL_H */
