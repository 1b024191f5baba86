// SPDX-License-Identifier: GPL-2.0
/* A sock_diag dump counted by state: see diag.h. */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tcpstates_states.h"
#include "diag.h"

/* The kernel's TCP_NEW_SYN_RECV, which inet_diag reports as is. */
#define TCP_NEW_SYN_RECV_STATE	12

int diag_dump(int fd, int family, long long c[][2], int col)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = ~0U,	/* timewait and request socks too */
		},
	};
	static char buf[65536];
	struct nlmsghdr *h;
	struct inet_diag_msg *d;
	unsigned int state;
	ssize_t n;

	if (send(fd, &msg, sizeof(msg), 0) < 0)
		return -1;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -1;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR ||
			    h->nlmsg_flags & NLM_F_DUMP_INTR) {
				errno = EIO;
				return -1;
			}
			d = NLMSG_DATA(h);
			state = d->idiag_state;
			if (state == TCP_NEW_SYN_RECV_STATE)
				state = TCP_SYN_RECV;
			if (state && state < TCPSTATES_NR_STATES)
				c[state][col]++;
		}
	}
}
