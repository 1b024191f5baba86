// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates_transitions_ports: for the opener's netns, how many
 * connections entered SYN_RECV, CLOSE_WAIT and TIME_WAIT, by service port
 * as /proc/tcpstates_ports groups them ("in PORT" when the local port has
 * a listener, else "out" and the remote port).  transitions.c's hooks
 * call in here with the socket that moves; the direction is decided then,
 * by a lookup in the listener table, the kernel's own for a SYN.
 *
 * Memory is fixed per netns (4 KB, charged to whoever makes it): the
 * first TCPSTATES_TRP_ROWS groups to see an event keep their row for the
 * netns's life, and the rest are summed in the "other" row.  Counters are
 * shared atomics: rows cannot be per CPU at this size.
 */
#include <linux/atomic.h>
#include <linux/proc_fs.h>
#include <linux/rculist_nulls.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/sock.h>

#include "compat.h"
#include "tcpstates.h"

#define TCPSTATES_TRP_ROWS	127
/* A chain that ends in another's nulls is walked again, this often. */
#define TCPSTATES_TRP_TRIES	4

struct tcpstates_trp_row {
	u32 key;		/* group + 1, 0 while free; set once */
	atomic64_t n[TCPSTATES_TRP_NR];
};

struct tcpstates_trp_net {
	/* The last row is "other": the groups that found no row free. */
	struct tcpstates_trp_row rows[TCPSTATES_TRP_ROWS + 1];
};

static unsigned int tcpstates_trp_net_id;

/* @net's rows, or NULL while it is dismantled (see transitions.c). */
static struct tcpstates_trp_net *tcpstates_trp_of(const struct net *net)
{
	if (!check_net(net))
		return NULL;
	return *(struct tcpstates_trp_net **)net_generic(net,
							 tcpstates_trp_net_id);
}

/* @group's row, claimed for it if need be: open addressing, no locks. */
static struct tcpstates_trp_row *tcpstates_trp_row(struct tcpstates_trp_net *tn,
						   u32 group)
{
	unsigned int i = group % TCPSTATES_TRP_ROWS, probes;
	u32 key = group + 1, old;

	for (probes = 0; probes < TCPSTATES_TRP_ROWS; probes++) {
		old = READ_ONCE(tn->rows[i].key);
		if (!old)
			old = cmpxchg(&tn->rows[i].key, 0, key);
		if (!old || old == key)
			return &tn->rows[i];
		i = (i + 1) % TCPSTATES_TRP_ROWS;
	}
	return &tn->rows[TCPSTATES_TRP_ROWS];
}

/* 1 when a chain holds a listener of @net on @port, -EAGAIN to retry. */
static int tcpstates_trp_chain(struct inet_hashinfo *h, unsigned int slot,
			       const struct net *net, unsigned short port)
{
	const struct hlist_nulls_node *node;
	const struct sock *sk;

	sk_nulls_for_each_rcu(sk, node, tcpstates_listen_chain(h, slot))
		if (sk->sk_num == port && net_eq(sock_net(sk), net) &&
		    READ_ONCE(sk->sk_state) == TCP_LISTEN)
			return 1;
	/* A listener freed and reused under us led to another chain. */
	return get_nulls_value(node) == tcpstates_listen_nulls(slot) ? 0 : -EAGAIN;
}

/* Does a listener of @skc's netns hold @skc's local port? */
static bool tcpstates_trp_listened(const struct sock_common *skc)
{
	const struct net *net = read_pnet(&skc->skc_net);
	struct inet_hashinfo *h = tcpstates_hashinfo(net);
	unsigned int slots[2], n, i, tries;
	int ret = 0;

	n = tcpstates_port_slots(skc, h, slots);
	rcu_read_lock();
	for (i = 0; i < n && ret != 1; i++) {
		tries = 0;
		do
			ret = tcpstates_trp_chain(h, slots[i], net, skc->skc_num);
		while (ret == -EAGAIN && ++tries < TCPSTATES_TRP_TRIES);
	}
	rcu_read_unlock();
	return ret == 1;
}

/* The netns's rows first: a dismantled one's moves need no lookup. */
void tcpstates_trp_count(const struct sock_common *skc, int col)
{
	struct tcpstates_trp_net *tn = tcpstates_trp_of(read_pnet(&skc->skc_net));
	u32 group = skc->skc_num;

	if (!tn)
		return;
	if (!tcpstates_trp_listened(skc))
		group = TCPSTATES_NR_PORTS + ntohs(skc->skc_dport);
	atomic64_inc(&tcpstates_trp_row(tn, group)->n[col]);
}

/* A request sock: its listener's port is a service's. */
void tcpstates_trp_count_in(const struct net *net, unsigned short port,
			    int col)
{
	struct tcpstates_trp_net *tn = tcpstates_trp_of(net);

	if (tn)
		atomic64_inc(&tcpstates_trp_row(tn, port)->n[col]);
}

static int tcpstates_trp_cmp(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static void tcpstates_trp_show_row(struct seq_file *seq,
				   const struct tcpstates_trp_row *r,
				   unsigned int whole)
{
	int col;

	for (col = 0; col < TCPSTATES_TRP_NR; col++) {
		if (whole & BIT(col))
			seq_printf(seq, " %lld", atomic64_read(&r->n[col]));
		else
			seq_puts(seq, " -");
	}
	seq_putc(seq, '\n');
}

/*
 * The rows in group order: "in" before "out", by port.  Each sort key is
 * (group + 1) << 7 | row, which u32 holds (groups < 2^17, rows < 2^7).
 */
static int tcpstates_trp_show(struct seq_file *seq, void *v)
{
	struct net *net = seq->private;
	struct tcpstates_trp_net *tn;
	u32 keys[TCPSTATES_TRP_ROWS], key;
	unsigned int i, nr = 0, whole = tcpstates_tr_ports_whole();

	tn = *(struct tcpstates_trp_net **)net_generic(net, tcpstates_trp_net_id);
	for (i = 0; i < TCPSTATES_TRP_ROWS; i++) {
		key = READ_ONCE(tn->rows[i].key);
		if (key)
			keys[nr++] = key << 7 | i;
	}
	sort(keys, nr, sizeof(keys[0]), tcpstates_trp_cmp, NULL);
	seq_printf(seq, "tcpstates_transitions_ports %d\n",
		   TCPSTATES_FORMAT_VERSION);
	seq_printf(seq, "netns %u\n", net->ns.inum);
	seq_puts(seq, "direction port SYN_RECV CLOSE_WAIT TIME_WAIT\n");
	for (i = 0; i < nr; i++) {
		tcpstates_show_group(seq, (keys[i] >> 7) - 1);
		tcpstates_trp_show_row(seq, &tn->rows[keys[i] & 127], whole);
	}
	seq_puts(seq, "other -");
	tcpstates_trp_show_row(seq, &tn->rows[TCPSTATES_TRP_ROWS], whole);
	return 0;
}

static int tcpstates_trp_open(struct inode *inode, struct file *file)
{
	return tcpstates_net_open(file, tcpstates_trp_show);
}

static const struct proc_ops tcpstates_trp_ops = {
	.proc_open	= tcpstates_trp_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= tcpstates_net_release,
};

static int __net_init tcpstates_trp_net_init(struct net *net)
{
	struct tcpstates_trp_net **tn = net_generic(net, tcpstates_trp_net_id);

	*tn = kzalloc(sizeof(**tn), GFP_KERNEL_ACCOUNT);
	return *tn ? 0 : -ENOMEM;
}

static void __net_exit tcpstates_trp_net_exit(struct net *net)
{
	kfree(*(struct tcpstates_trp_net **)net_generic(net,
							tcpstates_trp_net_id));
}

static struct pernet_operations tcpstates_trp_net_ops = {
	.init	= tcpstates_trp_net_init,
	.exit	= tcpstates_trp_net_exit,
	.id	= &tcpstates_trp_net_id,
	.size	= sizeof(struct tcpstates_trp_net *),
};

static struct proc_dir_entry *tcpstates_trp_entry;

/* Before the hooks that count into the rows. */
int tcpstates_trp_init(void)
{
	int err;

	err = register_pernet_subsys(&tcpstates_trp_net_ops);
	if (err)
		return err;
	tcpstates_trp_entry = proc_create("tcpstates_transitions_ports", 0444,
					  NULL, &tcpstates_trp_ops);
	if (!tcpstates_trp_entry) {
		err = -ENOMEM;
		goto err_pernet;
	}
	return 0;

err_pernet:
	unregister_pernet_subsys(&tcpstates_trp_net_ops);
	return err;
}

/* After the hooks are off. */
void tcpstates_trp_exit(void)
{
	proc_remove(tcpstates_trp_entry);
	unregister_pernet_subsys(&tcpstates_trp_net_ops);
}
