// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates_transitions: for the opener's netns, how many times
 * connections took each edge of TCP's state diagram since the module
 * loaded (or the netns was made), per family.  Counted per CPU as the
 * kernel moves sockets, from four hooks:
 *   - the sock:inet_sock_set_state tracepoint: each move of a full socket;
 *   - a kprobe on the timewait hand-over (tcp_time_wait's hashdance): the
 *     connection enters TIME_WAIT, or stays FIN_WAIT2 as a timewait sock;
 *     either way the full socket's own move to CLOSE that follows is not
 *     a close of the connection, and is taken off at read time;
 *   - a kretprobe on tcp_timewait_state_process: a FIN_WAIT2 timewait
 *     sock took the peer's FIN (FIN_WAIT2 -> TIME_WAIT);
 *   - a kprobe on inet_twsk_kill: a timewait sock ends (timer, reuse, RST);
 *   - kretprobes on inet_csk_reqsk_queue_hash_add (a SYN hashed a request
 *     sock: LISTEN -> SYN_RECV) and on the request drop (a request ended
 *     unanswered: timeout, RST, ICMP, its listener gone: SYN_RECV -> CLOSE).
 * A pair whose hook the kernel lacks, or whose hook missed an event (a
 * kprobe hit inside another one), reads "-" rather than a wrong count.
 *
 * A read sums the per-CPU counters: O(CPUs), whatever the sockets.
 */
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/tracepoint.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "compat.h"
#include "tcpstates.h"
#include "tcpstates_transitions.h"

/* Hooks, as bits of tcpstates_tr_hooks when registered. */
enum {
	TCPSTATES_TR_TP		= 1 << 0,
	TCPSTATES_TR_HANDOVER	= 1 << 1,
	TCPSTATES_TR_TWFIN	= 1 << 2,
	TCPSTATES_TR_TWKILL	= 1 << 3,
	TCPSTATES_TR_REQADD	= 1 << 4,
	TCPSTATES_TR_REQDROP	= 1 << 5,
	TCPSTATES_TR_ALL	= (1 << 6) - 1,
};

/*
 * One netns's counters on one CPU.  pairs[0] takes moves that are not
 * an edge of the table (none is known): pair i is pairs[i + 1].
 */
struct tcpstates_tr_cpu {
	u64 pairs[TCPSTATES_NR_TRANSITIONS + 1][TCPSTATES_NR_FAMILIES];
	/* Full sockets handed over to a timewait sock, by their state. */
	u64 handovers[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
	/* Timewait socks ended, by substate. */
	u64 tw_ends[TCPSTATES_NR_STATES][TCPSTATES_NR_FAMILIES];
};

struct tcpstates_tr_net {
	struct tcpstates_tr_cpu __percpu *cpu;
};

static unsigned int tcpstates_tr_net_id;
static unsigned int tcpstates_tr_hooks;
/* [from][to]: the pair's index + 1, or 0. */
static u8 tcpstates_tr_index[TCPSTATES_NR_STATES][TCPSTATES_NR_STATES];

static int tcpstates_tr_family(unsigned short family)
{
	return family == AF_INET6 ? TCPSTATES_IPV6 : TCPSTATES_IPV4;
}

/*
 * This CPU's counters of @net, or NULL for a netns being dismantled: its
 * timewait socks are purged after our pernet exit has freed them.  A hook
 * that saw the netns alive runs with preemption off, and cleanup_net()
 * waits for it (synchronize_rcu) before any exit method runs.
 */
static struct tcpstates_tr_cpu __percpu *tcpstates_tr_of(const struct net *net)
{
	struct tcpstates_tr_net *tn;

	if (!check_net(net))
		return NULL;
	tn = net_generic(net, tcpstates_tr_net_id);
	return tn ? tn->cpu : NULL;
}

static void tcpstates_tr_count(const struct net *net, unsigned short family,
			       int from, int to)
{
	struct tcpstates_tr_cpu __percpu *c = tcpstates_tr_of(net);

	if (c)
		this_cpu_inc(c->pairs[tcpstates_tr_index[from][to]]
				     [tcpstates_tr_family(family)]);
}

static void tcpstates_tr_set_state(void *data, const struct sock *sk,
				   const int oldstate, const int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP || oldstate == newstate ||
	    (unsigned int)oldstate >= TCPSTATES_NR_STATES ||
	    (unsigned int)newstate >= TCPSTATES_NR_STATES)
		return;
	/*
	 * A listener's child, cloned when the handshake completes (or on a
	 * Fast Open SYN): the connection left LISTEN when its SYN made a
	 * request sock, which is the request socks' hook to count.
	 */
	if (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV)
		return;
	tcpstates_tr_count(sock_net(sk), sk->sk_family, oldstate, newstate);
	if (newstate == TCP_CLOSE_WAIT)
		tcpstates_trp_count(&sk->__sk_common, TCPSTATES_TRP_CLOSE_WAIT);
}

/* The hashdance(tw, sk, ...): sk's state is the connection's until now. */
static int tcpstates_tr_handover(struct kprobe *p, struct pt_regs *regs)
{
	const struct inet_timewait_sock *tw = tcpstates_kprobe_arg(regs, 0);
	const struct sock *sk = tcpstates_kprobe_arg(regs, 1);
	struct tcpstates_tr_cpu __percpu *c;
	int from = READ_ONCE(sk->sk_state);
	int f = tcpstates_tr_family(sk->sk_family);

	if (sk->sk_protocol != IPPROTO_TCP ||
	    (unsigned int)from >= TCPSTATES_NR_STATES)
		return 0;
	c = tcpstates_tr_of(sock_net(sk));
	if (!c)
		return 0;
	this_cpu_inc(c->handovers[from][f]);
	if (tcpstates_tw_substate(tw) != TCP_TIME_WAIT)
		return 0;
	this_cpu_inc(c->pairs[tcpstates_tr_index[from][TCP_TIME_WAIT]][f]);
	tcpstates_trp_count(&sk->__sk_common, TCPSTATES_TRP_TIME_WAIT);
	return 0;
}

/* tcp_timewait_state_process(tw, ...): only FIN_WAIT2 socks can move. */
static int tcpstates_tr_twfin_entry(struct kretprobe_instance *ri,
				    struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = tcpstates_kprobe_arg(regs, 0);

	if (tcpstates_tw_substate(tw) != TCP_FIN_WAIT2)
		return 1;
	/* The caller's lookup holds a reference until after we return. */
	*(struct inet_timewait_sock **)ri->data = tw;
	return 0;
}

static int tcpstates_tr_twfin_return(struct kretprobe_instance *ri,
				     struct pt_regs *regs)
{
	struct inet_timewait_sock *tw = *(struct inet_timewait_sock **)ri->data;

	if (tcpstates_tw_substate(tw) != TCP_TIME_WAIT)
		return 0;
	tcpstates_tr_count(twsk_net(tw), tw->tw_family, TCP_FIN_WAIT2,
			   TCP_TIME_WAIT);
	tcpstates_trp_count(&tw->__tw_common, TCPSTATES_TRP_TIME_WAIT);
	return 0;
}

static int tcpstates_tr_twkill(struct kprobe *p, struct pt_regs *regs)
{
	const struct inet_timewait_sock *tw = tcpstates_kprobe_arg(regs, 0);
	struct tcpstates_tr_cpu __percpu *c;
	int sub = tcpstates_tw_substate(tw);

	if (!tcpstates_twsk_is_tcp(tw) || (unsigned int)sub >= TCPSTATES_NR_STATES)
		return 0;
	c = tcpstates_tr_of(twsk_net(tw));
	if (c)
		this_cpu_inc(c->tw_ends[sub][tcpstates_tr_family(tw->tw_family)]);
	return 0;
}

/* A request hook's counters, taken at entry while the listener is held. */
struct tcpstates_tr_req {
	struct tcpstates_tr_cpu __percpu *c;
	const struct net *net;
	unsigned short port;
	int f;
};

/* (listener, req, ...): the request takes its listener's netns and family. */
static int tcpstates_tr_req_entry(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	const struct sock *sk = tcpstates_kprobe_arg(regs, 0);
	struct tcpstates_tr_req *d = (struct tcpstates_tr_req *)ri->data;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 1;
	d->c = tcpstates_tr_of(sock_net(sk));
	d->net = sock_net(sk);
	d->port = sk->sk_num;
	d->f = tcpstates_tr_family(sk->sk_family);
	return d->c ? 0 : 1;
}

static void tcpstates_tr_req_count(struct kretprobe_instance *ri, int from,
				   int to)
{
	struct tcpstates_tr_req *d = (struct tcpstates_tr_req *)ri->data;

	this_cpu_inc(d->c->pairs[tcpstates_tr_index[from][to]][d->f]);
}

static int tcpstates_tr_reqadd_return(struct kretprobe_instance *ri,
				      struct pt_regs *regs)
{
	struct tcpstates_tr_req *d = (struct tcpstates_tr_req *)ri->data;

	if (!tcpstates_reqsk_hashed(regs))
		return 0;
	tcpstates_tr_req_count(ri, TCP_LISTEN, TCP_SYN_RECV);
	tcpstates_trp_count_in(d->net, d->port, TCPSTATES_TRP_SYN_RECV);
	return 0;
}

static int tcpstates_tr_reqdrop_return(struct kretprobe_instance *ri,
				       struct pt_regs *regs)
{
	if (tcpstates_kretprobe_bool(regs))
		tcpstates_tr_req_count(ri, TCP_SYN_RECV, TCP_CLOSE);
	return 0;
}

static struct kretprobe tcpstates_tr_reqadd_rp = {
	.kp.symbol_name	= "inet_csk_reqsk_queue_hash_add",
	.entry_handler	= tcpstates_tr_req_entry,
	.handler	= tcpstates_tr_reqadd_return,
	.data_size	= sizeof(struct tcpstates_tr_req),
};

static struct kretprobe tcpstates_tr_reqdrop_rp = {
	.entry_handler	= tcpstates_tr_req_entry,
	.handler	= tcpstates_tr_reqdrop_return,
	.data_size	= sizeof(struct tcpstates_tr_req),
};

static struct kprobe tcpstates_tr_handover_kp = {
	.pre_handler = tcpstates_tr_handover,
};

static struct kprobe tcpstates_tr_twkill_kp = {
	.symbol_name = "inet_twsk_kill",
	.pre_handler = tcpstates_tr_twkill,
};

static struct kretprobe tcpstates_tr_twfin_rp = {
	.kp.symbol_name	= "tcp_timewait_state_process",
	.entry_handler	= tcpstates_tr_twfin_entry,
	.handler	= tcpstates_tr_twfin_return,
	.data_size	= sizeof(struct inet_timewait_sock *),
};

static struct tracepoint *tcpstates_tr_tp;

static void tcpstates_tr_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "inet_sock_set_state"))
		tcpstates_tr_tp = tp;
}

/* Which hooks @pair needs for its count to be whole. */
static unsigned int tcpstates_tr_needs(const struct tcpstates_transition *t)
{
	if (t->from == TCP_LISTEN && t->to == TCP_SYN_RECV)
		return TCPSTATES_TR_REQADD;
	/* A request dropped, or a full socket's reset before its handshake. */
	if (t->from == TCP_SYN_RECV && t->to == TCP_CLOSE)
		return TCPSTATES_TR_REQDROP | TCPSTATES_TR_TP;
	if (t->to == TCP_TIME_WAIT)
		return TCPSTATES_TR_HANDOVER |
		       (t->from == TCP_FIN_WAIT2 ? TCPSTATES_TR_TWFIN : 0);
	if (t->from == TCP_TIME_WAIT)
		return TCPSTATES_TR_TWKILL;
	if (t->to == TCP_CLOSE && t->from == TCP_FIN_WAIT2)
		return TCPSTATES_TR_TP | TCPSTATES_TR_HANDOVER |
		       TCPSTATES_TR_TWKILL;
	if (t->to == TCP_CLOSE &&
	    (t->from == TCP_FIN_WAIT1 || t->from == TCP_CLOSING))
		return TCPSTATES_TR_TP | TCPSTATES_TR_HANDOVER;
	return TCPSTATES_TR_TP;
}

/* A kretprobe misses an event with no instance free, or inside a kprobe. */
static bool tcpstates_tr_rp_missed(const struct kretprobe *rp)
{
	return rp->nmissed || rp->kp.nmissed;
}

/* The hooks registered that have not missed an event since. */
static unsigned int tcpstates_tr_whole(void)
{
	unsigned int hooks = tcpstates_tr_hooks;

	if (tcpstates_tr_handover_kp.nmissed)
		hooks &= ~TCPSTATES_TR_HANDOVER;
	if (tcpstates_tr_twkill_kp.nmissed)
		hooks &= ~TCPSTATES_TR_TWKILL;
	if (tcpstates_tr_rp_missed(&tcpstates_tr_twfin_rp))
		hooks &= ~TCPSTATES_TR_TWFIN;
	if (tcpstates_tr_rp_missed(&tcpstates_tr_reqadd_rp))
		hooks &= ~TCPSTATES_TR_REQADD;
	if (tcpstates_tr_rp_missed(&tcpstates_tr_reqdrop_rp))
		hooks &= ~TCPSTATES_TR_REQDROP;
	return hooks;
}

/* The by-port columns whose hooks are whole: SYN_RECV counts requests. */
unsigned int tcpstates_tr_ports_whole(void)
{
	static const unsigned int needs[TCPSTATES_TRP_NR] = {
		[TCPSTATES_TRP_SYN_RECV]	= TCPSTATES_TR_REQADD,
		[TCPSTATES_TRP_CLOSE_WAIT]	= TCPSTATES_TR_TP,
		[TCPSTATES_TRP_TIME_WAIT]	= TCPSTATES_TR_HANDOVER |
						  TCPSTATES_TR_TWFIN,
	};
	unsigned int whole = tcpstates_tr_whole(), cols = 0;
	int i;

	for (i = 0; i < TCPSTATES_TRP_NR; i++)
		if ((needs[i] & whole) == needs[i])
			cols |= BIT(i);
	return cols;
}

/* Pair @i's count for family @f, the hand-overs taken off its CLOSE. */
static u64 tcpstates_tr_sum(struct tcpstates_tr_cpu __percpu *pc,
			    unsigned int i, int f)
{
	const struct tcpstates_transition *t = &tcpstates_transitions[i];
	s64 n = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct tcpstates_tr_cpu *c = per_cpu_ptr(pc, cpu);

		if (t->from == TCP_TIME_WAIT)
			n += c->tw_ends[TCP_TIME_WAIT][f];
		else
			n += c->pairs[i + 1][f];
		if (t->to != TCP_CLOSE || t->from == TCP_TIME_WAIT)
			continue;
		n -= c->handovers[t->from][f];
		if (t->from == TCP_FIN_WAIT2)
			n += c->tw_ends[TCP_FIN_WAIT2][f];
	}
	/* A hand-over counted before its socket's CLOSE, on another CPU. */
	return n > 0 ? n : 0;
}

static int tcpstates_tr_show(struct seq_file *seq, void *v)
{
	struct net *net = seq->private;
	struct tcpstates_tr_cpu __percpu *pc;
	unsigned int whole = tcpstates_tr_whole();
	unsigned int i;

	pc = ((struct tcpstates_tr_net *)net_generic(net, tcpstates_tr_net_id))->cpu;
	seq_printf(seq, "tcpstates_transitions %d\n",
		   TCPSTATES_TRANSITIONS_VERSION);
	seq_printf(seq, "netns %u\n", net->ns.inum);
	seq_puts(seq, "from to ipv4 ipv6\n");
	for (i = 0; i < TCPSTATES_NR_TRANSITIONS; i++) {
		const struct tcpstates_transition *t = &tcpstates_transitions[i];

		seq_printf(seq, "%s %s", tcpstates_state_names[t->from],
			   tcpstates_state_names[t->to]);
		if ((tcpstates_tr_needs(t) & whole) != tcpstates_tr_needs(t))
			seq_puts(seq, " - -\n");
		else
			seq_printf(seq, " %llu %llu\n",
				   tcpstates_tr_sum(pc, i, TCPSTATES_IPV4),
				   tcpstates_tr_sum(pc, i, TCPSTATES_IPV6));
	}
	return 0;
}

static int tcpstates_tr_open(struct inode *inode, struct file *file)
{
	return tcpstates_net_open(file, tcpstates_tr_show);
}

static const struct proc_ops tcpstates_tr_ops = {
	.proc_open	= tcpstates_tr_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= tcpstates_net_release,
};

/* Charged to whoever makes the netns: about 800 bytes a CPU. */
static int __net_init tcpstates_tr_net_init(struct net *net)
{
	struct tcpstates_tr_net *tn = net_generic(net, tcpstates_tr_net_id);

	tn->cpu = alloc_percpu_gfp(struct tcpstates_tr_cpu, GFP_KERNEL_ACCOUNT);
	return tn->cpu ? 0 : -ENOMEM;
}

static void __net_exit tcpstates_tr_net_exit(struct net *net)
{
	struct tcpstates_tr_net *tn = net_generic(net, tcpstates_tr_net_id);

	free_percpu(tn->cpu);
}

static struct pernet_operations tcpstates_tr_net_ops = {
	.init	= tcpstates_tr_net_init,
	.exit	= tcpstates_tr_net_exit,
	.id	= &tcpstates_tr_net_id,
	.size	= sizeof(struct tcpstates_tr_net),
};

/*
 * @kp (or @rp, whose kprobe it is) placed on the first of @syms that the
 * kernel has and lets be probed; a failed try leaves @kp as it found it.
 */
static bool tcpstates_tr_place(struct kprobe *kp, struct kretprobe *rp,
			       const char * const *syms)
{
	for (; *syms; syms++) {
		kp->symbol_name = *syms;
		if (!(rp ? register_kretprobe(rp) : register_kprobe(kp)))
			return true;
		kp->addr = NULL;
		kp->flags = 0;
	}
	return false;
}

/*
 * Requests come and go in softirq, on every CPU at once in a SYN flood:
 * an instance short is an event missed, and the pairs read "-" after.
 */
static void tcpstates_tr_reqs_on(void)
{
	tcpstates_tr_reqadd_rp.maxactive = 4 * num_possible_cpus();
	if (!register_kretprobe(&tcpstates_tr_reqadd_rp))
		tcpstates_tr_hooks |= TCPSTATES_TR_REQADD;
	tcpstates_tr_reqdrop_rp.maxactive = 4 * num_possible_cpus();
	if (tcpstates_tr_place(&tcpstates_tr_reqdrop_rp.kp,
			       &tcpstates_tr_reqdrop_rp, tcpstates_reqdrop_syms))
		tcpstates_tr_hooks |= TCPSTATES_TR_REQDROP;
}

/* A hook that cannot be placed is not an error: its pairs read "-". */
static void tcpstates_tr_hooks_on(void)
{
	for_each_kernel_tracepoint(tcpstates_tr_find_tp, NULL);
	if (tcpstates_tr_tp &&
	    !tracepoint_probe_register(tcpstates_tr_tp,
				       tcpstates_tr_set_state, NULL))
		tcpstates_tr_hooks |= TCPSTATES_TR_TP;
	if (tcpstates_tr_place(&tcpstates_tr_handover_kp, NULL,
			       tcpstates_hashdance_syms))
		tcpstates_tr_hooks |= TCPSTATES_TR_HANDOVER;
	/* One instance a CPU would do: the caller runs in softirq. */
	tcpstates_tr_twfin_rp.maxactive = 2 * num_possible_cpus();
	if (!register_kretprobe(&tcpstates_tr_twfin_rp))
		tcpstates_tr_hooks |= TCPSTATES_TR_TWFIN;
	if (!register_kprobe(&tcpstates_tr_twkill_kp))
		tcpstates_tr_hooks |= TCPSTATES_TR_TWKILL;
	tcpstates_tr_reqs_on();
	if (tcpstates_tr_hooks != TCPSTATES_TR_ALL)
		pr_info("transitions: hooks %#x of %#x placed; the others' pairs read -\n",
			tcpstates_tr_hooks, TCPSTATES_TR_ALL);
}

/* Unregistering waits for the handlers in flight, the tracepoint's too. */
static void tcpstates_tr_hooks_off(void)
{
	if (tcpstates_tr_hooks & TCPSTATES_TR_REQDROP)
		unregister_kretprobe(&tcpstates_tr_reqdrop_rp);
	if (tcpstates_tr_hooks & TCPSTATES_TR_REQADD)
		unregister_kretprobe(&tcpstates_tr_reqadd_rp);
	if (tcpstates_tr_hooks & TCPSTATES_TR_TWKILL)
		unregister_kprobe(&tcpstates_tr_twkill_kp);
	if (tcpstates_tr_hooks & TCPSTATES_TR_TWFIN)
		unregister_kretprobe(&tcpstates_tr_twfin_rp);
	if (tcpstates_tr_hooks & TCPSTATES_TR_HANDOVER)
		unregister_kprobe(&tcpstates_tr_handover_kp);
	if (tcpstates_tr_hooks & TCPSTATES_TR_TP) {
		tracepoint_probe_unregister(tcpstates_tr_tp,
					    tcpstates_tr_set_state, NULL);
		tracepoint_synchronize_unregister();
	}
	tcpstates_tr_hooks = 0;
}

static struct proc_dir_entry *tcpstates_tr_entry;

int tcpstates_transitions_init(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < TCPSTATES_NR_TRANSITIONS; i++)
		tcpstates_tr_index[tcpstates_transitions[i].from]
				  [tcpstates_transitions[i].to] = i + 1;
	/* Counters for every netns before the first event can come. */
	err = register_pernet_subsys(&tcpstates_tr_net_ops);
	if (err)
		return err;
	err = tcpstates_trp_init();
	if (err)
		goto err_pernet;
	tcpstates_tr_hooks_on();
	tcpstates_tr_entry = proc_create("tcpstates_transitions", 0444, NULL,
					 &tcpstates_tr_ops);
	if (!tcpstates_tr_entry) {
		err = -ENOMEM;
		goto err_hooks;
	}
	return 0;

err_hooks:
	tcpstates_tr_hooks_off();
	tcpstates_trp_exit();
err_pernet:
	unregister_pernet_subsys(&tcpstates_tr_net_ops);
	return err;
}

void tcpstates_transitions_exit(void)
{
	proc_remove(tcpstates_tr_entry);
	tcpstates_tr_hooks_off();
	tcpstates_trp_exit();
	unregister_pernet_subsys(&tcpstates_tr_net_ops);
}
