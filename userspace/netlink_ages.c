// SPDX-License-Identifier: GPL-2.0
/*
 * --ages without the module: /proc/tcpstates_ages rebuilt from a
 * sock_diag dump, where the dump carries the stamp the module reads, by
 * the module's rule for the state (docs/interface.md), as ss shows it:
 *
 *   a full socket    since the peer's last data (tcp_info's
 *                    tcpi_last_data_recv, ss's lastrcv)
 *   TIME_WAIT        its timer's wait (60 s) less what is left of it
 *   FIN_WAIT2 (tw)   the netns's fin timeout less what is left of it
 *
 * SYN_SENT and SYN_RECV are not aged ("-"): the dump has no stamp of the
 * first SYN or SYN-ACK, only a retransmit timer whose timeouts depend on
 * the kernel (tcp_syn_linear_timeouts, 6.5+), the route and, for a
 * request a client acked (TCP_DEFER_ACCEPT), on timeouts that sent
 * nothing; a guess would not be the module's age.
 * Sources layer.  May call: netlink.c, module.c, the model layer, libc.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/inet_diag.h>

#include "source.h"

#define TS_TW_MS		60000ULL	/* TCP_TIMEWAIT_LEN */
#define TS_DIAG_TIMER_TW	3		/* idiag_timer of a timewait sock */

struct ts_age_dump {
	struct ts_ages *a;
	unsigned long long fin_ms;	/* a FIN_WAIT2 timewait sock's wait */
};

/* @wait ms armed, @left of them to go: the time since it was armed. */
static unsigned long long since(unsigned long long wait,
				unsigned long long left)
{
	return wait > left ? wait - left : 0;
}

static unsigned long long age_ms(const struct nlmsghdr *h, unsigned int state,
				 const struct ts_age_dump *d)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct tcp_info info;

	if (m->idiag_timer == TS_DIAG_TIMER_TW)
		return since(state == TCP_TIME_WAIT ? TS_TW_MS : d->fin_ms,
			     m->idiag_expires);
	ts_diag_info(h, &info);
	return info.tcpi_last_data_recv;
}

static unsigned int age_column(unsigned long long ms)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tcpstates_age_bounds); i++)
		if (ms < tcpstates_age_bounds[i] * 1000ULL)
			break;
	return i;
}

static void diag_age_count(const struct nlmsghdr *h, unsigned int fam,
			   void *ctx)
{
	struct ts_age_dump *d = ctx;
	unsigned int state = ts_diag_state(NLMSG_DATA(h));

	(void)fam;
	if (state && d->a->aged[state])
		d->a->sockets[state][age_column(age_ms(h, state, d))]++;
}

/*
 * The wait tcp_time_wait() gives a FIN_WAIT2 timewait sock: the fin
 * timeout, less TCP_TIMEWAIT_LEN beyond it (module/ages.c).
 */
static int read_fin_ms(unsigned long long *ms)
{
	const char *path = "/proc/sys/net/ipv4/tcp_fin_timeout";
	unsigned long long s;
	size_t len;
	char *buf;
	int ret;

	ret = ts_read_file(path, &buf, &len);
	if (ret) {
		ts_err("%s: %s: is /proc mounted?", path, strerror(-ret));
		return -1;
	}
	s = strtoull(buf, NULL, 10) * 1000;
	free(buf);
	*ms = s > TS_TW_MS ? s - TS_TW_MS : s;
	return 0;
}

int ts_read_ages_netlink(struct ts_ages *a)
{
	struct ts_age_dump d = { .a = a };
	unsigned int i, st;
	struct stat sb;
	int ret = TS_EINTR_DUMP;

	if (stat("/proc/self/ns/net", &sb)) {
		ts_err("/proc/self/ns/net: %s: is /proc mounted?",
		       strerror(errno));
		return -1;
	}
	if (read_fin_ms(&d.fin_ms))
		return -1;
	for (i = 0; i < TS_DUMP_RETRIES && ret == TS_EINTR_DUMP; i++) {
		memset(a, 0, sizeof(*a));
		for (st = 1; st < TCPSTATES_NR_STATES; st++)
			a->aged[st] = st != TCP_LISTEN && st != TCP_SYN_SENT &&
				      st != TCP_SYN_RECV;
		ret = ts_diag_all(~0U, 1 << (INET_DIAG_INFO - 1),
				  diag_age_count, &d);
	}
	if (ret == TS_EINTR_DUMP)
		ts_err("sock_diag dump kept being interrupted by socket churn; retry");
	if (ret)
		return -1;
	a->source = TS_SRC_NETLINK;
	a->netns = sb.st_ino;
	return 0;
}
