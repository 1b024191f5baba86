/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The transitions /proc/tcpstates_transitions counts, one line each in
 * this order: the edges of TCP's state diagram (RFC 9293) as Linux takes
 * them, named as in tcpstates_states.h.  Shared by the module and the
 * reader.  docs/interface.md says what each counts and when.
 */
#ifndef _TCPSTATES_TRANSITIONS_H
#define _TCPSTATES_TRANSITIONS_H

#include "tcpstates_states.h"

#define TCPSTATES_TRANSITIONS_VERSION	1
/* The lines of the file: the table below has exactly as many. */
#define TCPSTATES_NR_TRANSITIONS	25

struct tcpstates_transition {
	unsigned char from, to;
};

static const struct tcpstates_transition
tcpstates_transitions[TCPSTATES_NR_TRANSITIONS] __maybe_unused = {
	{ TCP_CLOSE,		TCP_SYN_SENT },
	{ TCP_SYN_SENT,		TCP_ESTABLISHED },
	{ TCP_SYN_SENT,		TCP_SYN_RECV },
	{ TCP_SYN_SENT,		TCP_CLOSE },
	{ TCP_CLOSE,		TCP_LISTEN },
	{ TCP_LISTEN,		TCP_SYN_RECV },
	{ TCP_LISTEN,		TCP_CLOSE },
	{ TCP_SYN_RECV,		TCP_ESTABLISHED },
	{ TCP_SYN_RECV,		TCP_FIN_WAIT1 },
	{ TCP_SYN_RECV,		TCP_CLOSE },
	{ TCP_ESTABLISHED,	TCP_FIN_WAIT1 },
	{ TCP_ESTABLISHED,	TCP_CLOSE_WAIT },
	{ TCP_ESTABLISHED,	TCP_CLOSE },
	{ TCP_FIN_WAIT1,	TCP_FIN_WAIT2 },
	{ TCP_FIN_WAIT1,	TCP_CLOSING },
	{ TCP_FIN_WAIT1,	TCP_TIME_WAIT },
	{ TCP_FIN_WAIT1,	TCP_CLOSE },
	{ TCP_FIN_WAIT2,	TCP_TIME_WAIT },
	{ TCP_FIN_WAIT2,	TCP_CLOSE },
	{ TCP_CLOSING,		TCP_TIME_WAIT },
	{ TCP_CLOSING,		TCP_CLOSE },
	{ TCP_TIME_WAIT,	TCP_CLOSE },
	{ TCP_CLOSE_WAIT,	TCP_LAST_ACK },
	{ TCP_CLOSE_WAIT,	TCP_CLOSE },
	{ TCP_LAST_ACK,		TCP_CLOSE },
};

#endif /* _TCPSTATES_TRANSITIONS_H */
