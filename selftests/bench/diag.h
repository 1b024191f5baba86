/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A sock_diag dump counted by state, as the reader's netlink source does:
 * what benchtime's @diag and nsbench's per-namespace loop time.
 */
#ifndef _BENCH_DIAG_H
#define _BENCH_DIAG_H

/*
 * Dump @family's TCP sockets on the NETLINK_SOCK_DIAG socket @fd, adding
 * one to c[state][col] per socket (request socks as SYN_RECV).  Returns
 * 0, or -1 with errno set.
 */
int diag_dump(int fd, int family, long long c[][2], int col);

#endif /* _BENCH_DIAG_H */
