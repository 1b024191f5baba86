// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates_ages: the opener's netns's sockets by state and by age,
 * from the kernel's own per-socket timestamps, read during the walk
 * (walk.c).  docs/interface.md gives each state's rule and its precision.
 *
 * A read walks the established table once into 7 x 12 counters on the
 * stack: it allocates nothing, whoever reads and however often.
 */
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/inet_connection_sock.h>
#include <net/inet_timewait_sock.h>
#include <net/request_sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "tcpstates.h"

/* @j jiffies in milliseconds; a stamp after the clock we read is new. */
static u64 tcpstates_jiffies_ms(long j)
{
	return j > 0 ? div_u64((u64)j * MSEC_PER_SEC, HZ) : 0;
}

/*
 * A timewait sock has no creation stamp, but its timer says when it was
 * armed: TCP_TIMEWAIT_LEN before expiry in TIME_WAIT (tcp_time_wait(),
 * and again each time a segment of the peer re-arms it), and the
 * netns's fin timeout (less TCP_TIMEWAIT_LEN past it) in FIN_WAIT2.
 */
static u64 tcpstates_tw_ms(const struct tcpstates_ages *a,
			   const struct sock *sk, unsigned int state)
{
	unsigned long armed = READ_ONCE(inet_twsk(sk)->tw_timer.expires);

	armed -= state == TCP_TIME_WAIT ? TCP_TIMEWAIT_LEN : a->fin_timeo;
	return tcpstates_jiffies_ms((long)(READ_ONCE(jiffies) - armed));
}

/*
 * A request sock: since its first SYN-ACK (tcp_clock_us()), sent as the
 * SYN arrived.  0 is a request hashed before its SYN-ACK went out.
 */
static u64 tcpstates_req_ms(const struct sock *sk)
{
	u64 sent = READ_ONCE(tcp_rsk(inet_reqsk(sk))->snt_synack);
	s64 us;

	if (!sent)
		return 0;
	us = tcp_clock_us() - sent;
	return us > 0 ? div_u64(us, USEC_PER_MSEC) : 0;
}

/*
 * A full socket: since the last data segment of the peer, or since the
 * connection was established when none came, as ss -ti shows lastrcv
 * (a u32 of jiffies, wrapping as ss's does).
 */
static u64 tcpstates_full_ms(const struct sock *sk)
{
	u32 last = READ_ONCE(inet_csk(sk)->icsk_ack.lrcvtime);

	return div_u64((u64)(u32)(tcp_jiffies32 - last) * MSEC_PER_SEC, HZ);
}

/* A CLOSE_WAIT socket's age in whole seconds, by the rule above. */
u32 tcpstates_close_wait_age(const struct sock *sk)
{
	return (u32)div_u64(tcpstates_full_ms(sk), MSEC_PER_SEC);
}

/*
 * Which kind of socket @sk is follows from its state field, which a
 * recycled socket cannot change: SLAB_TYPESAFE_BY_RCU reuses it as a
 * socket of the same kind.  @state is the walk's (tcpstates_state()).
 */
static u64 tcpstates_age_ms(const struct tcpstates_ages *a,
			    const struct sock *sk, unsigned int state)
{
	switch (READ_ONCE(sk->sk_state)) {
	case TCP_TIME_WAIT:
		return tcpstates_tw_ms(a, sk, state);
	case TCP_NEW_SYN_RECV:
		return tcpstates_req_ms(sk);
	case TCP_SYN_SENT:
		return tcpstates_syn_sent_ms(sk);
	default:
		return tcpstates_full_ms(sk);
	}
}

unsigned int tcpstates_age_column(const struct tcpstates_ages *a,
				  const struct sock *sk, unsigned int state)
{
	u64 ms = tcpstates_age_ms(a, sk, state);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tcpstates_age_bounds); i++)
		if (ms < tcpstates_age_bounds[i] * (u64)MSEC_PER_SEC)
			break;
	return i;
}

/*
 * The timeout tcp_time_wait() gave a FIN_WAIT2 timewait sock: the fin
 * timeout when it is at most TCP_TIMEWAIT_LEN; beyond, the socket waited
 * that much longer as a full socket first (tcp_keepalive_timer()).
 */
static unsigned long tcpstates_fin_timeo(const struct net *net)
{
	long fin = READ_ONCE(net->ipv4.sysctl_tcp_fin_timeout);

	return fin > TCP_TIMEWAIT_LEN ? fin - TCP_TIMEWAIT_LEN : fin;
}

static void tcpstates_ages_row(struct seq_file *seq,
			       const struct tcpstates_ages *a, int state)
{
	int i;

	seq_puts(seq, tcpstates_state_names[state]);
	for (i = 0; i < TCPSTATES_NR_AGES; i++) {
		if (state == TCP_LISTEN)
			seq_puts(seq, " -");
		else
			seq_printf(seq, " %u", a->cells[i][state]);
	}
	seq_putc(seq, '\n');
}

static int tcpstates_ages_show(struct seq_file *seq, void *v)
{
	struct tcpstates_ages a = { .net = seq->private };
	struct tcpstates_counts c;
	int i;

	a.fin_timeo = tcpstates_fin_timeo(a.net);
	tcpstates_walk_ages(&a, &c);

	seq_printf(seq, "tcpstates_ages %d\n", TCPSTATES_AGES_VERSION);
	seq_printf(seq, "netns %u\n", a.net->ns.inum);
	seq_puts(seq, "state");
	for (i = 0; i < TCPSTATES_NR_AGES; i++)
		seq_printf(seq, " %s", tcpstates_age_names[i]);
	seq_putc(seq, '\n');
	for (i = TCP_ESTABLISHED; i < TCPSTATES_NR_STATES; i++)
		tcpstates_ages_row(seq, &a, i);
	return 0;
}

static int tcpstates_ages_open(struct inode *inode, struct file *file)
{
	return tcpstates_net_open(file, tcpstates_ages_show);
}

static const struct proc_ops tcpstates_ages_ops = {
	.proc_open	= tcpstates_ages_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= tcpstates_net_release,
};

static struct proc_dir_entry *tcpstates_ages_entry;

int tcpstates_ages_init(void)
{
	tcpstates_ages_entry = proc_create("tcpstates_ages", 0444, NULL,
					   &tcpstates_ages_ops);
	return tcpstates_ages_entry ? 0 : -ENOMEM;
}

/* proc_remove() waits for reads in progress and releases open files. */
void tcpstates_ages_exit(void)
{
	proc_remove(tcpstates_ages_entry);
}
