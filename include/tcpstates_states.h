/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TCP states /proc/tcpstates reports, shared by the module and the
 * reader so that both spell every state the same way (as netstat does).
 *
 * Indexes are the kernel's own state numbers (include/net/tcp_states.h,
 * mirrored by glibc's <netinet/tcp.h>); slot 0 is unused.  The file lists
 * the states in this order, one line each.
 */
#ifndef _TCPSTATES_STATES_H
#define _TCPSTATES_STATES_H

#ifdef __KERNEL__
#include <net/tcp_states.h>
#else
#include <netinet/tcp.h>
/* Only the kernel's W=1 warns about an unused const table in a header. */
#define __maybe_unused
#endif

#define TCPSTATES_FORMAT_VERSION	1

/* One past the last state reported: TCP_CLOSING is 11 on every kernel. */
#define TCPSTATES_NR_STATES		(TCP_CLOSING + 1)

/* Column order of the per-state lines. */
enum tcpstates_family {
	TCPSTATES_IPV4,
	TCPSTATES_IPV6,
	TCPSTATES_NR_FAMILIES,
};

static const char * const tcpstates_state_names[TCPSTATES_NR_STATES]
__maybe_unused = {
	[TCP_ESTABLISHED]	= "ESTABLISHED",
	[TCP_SYN_SENT]		= "SYN_SENT",
	[TCP_SYN_RECV]		= "SYN_RECV",
	[TCP_FIN_WAIT1]		= "FIN_WAIT1",
	[TCP_FIN_WAIT2]		= "FIN_WAIT2",
	[TCP_TIME_WAIT]		= "TIME_WAIT",
	[TCP_CLOSE]		= "CLOSE",
	[TCP_CLOSE_WAIT]	= "CLOSE_WAIT",
	[TCP_LAST_ACK]		= "LAST_ACK",
	[TCP_LISTEN]		= "LISTEN",
	[TCP_CLOSING]		= "CLOSING",
};

#endif /* _TCPSTATES_STATES_H */
