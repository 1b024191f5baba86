// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/tcpstates: the per-state counts of the opener's network namespace,
 * with the TIME_WAIT limit and the overflow counters beside them; and the
 * registration of the three /proc files.
 *
 * The format is a stable interface (docs/interface.md): one "key values"
 * record a line; a new field is a new line, an existing line never changes
 * meaning.
 */
#include <linux/nsproxy.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>
#include <net/net_namespace.h>
#include <net/snmp.h>

#include "compat.h"
#include "snapshot.h"
#include "tcpstates.h"

static void tcpstates_show_states(struct seq_file *seq,
				  const struct tcpstates_counts *c)
{
	u64 total[TCPSTATES_NR_FAMILIES] = {};
	int s, f;

	seq_puts(seq, "state ipv4 ipv6\n");
	for (s = TCP_ESTABLISHED; s < TCPSTATES_NR_STATES; s++) {
		seq_printf(seq, "%s %llu %llu\n", tcpstates_state_names[s],
			   c->sockets[s][TCPSTATES_IPV4],
			   c->sockets[s][TCPSTATES_IPV6]);
		for (f = 0; f < TCPSTATES_NR_FAMILIES; f++)
			total[f] += c->sockets[s][f];
	}
	seq_printf(seq, "total %llu %llu\n", total[TCPSTATES_IPV4],
		   total[TCPSTATES_IPV6]);
}

static void tcpstates_show_limits(struct seq_file *seq, struct net *net)
{
	seq_printf(seq, "tw_count %d\n", tcpstates_tw_count(net));
	seq_printf(seq, "max_tw_buckets %d\n",
		   READ_ONCE(*tcpstates_max_tw_buckets(net)));
	seq_printf(seq, "tw_overflow %lu\n",
		   tcpstates_mib(net, LINUX_MIB_TCPTIMEWAITOVERFLOW));
	seq_printf(seq, "listen_overflows %lu\n",
		   tcpstates_mib(net, LINUX_MIB_LISTENOVERFLOWS));
	seq_printf(seq, "listen_drops %lu\n",
		   tcpstates_mib(net, LINUX_MIB_LISTENDROPS));
	seq_printf(seq, "syncookies_sent %lu\n",
		   tcpstates_mib(net, LINUX_MIB_SYNCOOKIESSENT));
}

static int tcpstates_proc_show(struct seq_file *seq, void *v)
{
	struct net *net = seq->private;
	struct tcpstates_counts c;
	u64 start, ns;

	start = ktime_get_ns();
	tcpstates_walk(net, &c);
	ns = ktime_get_ns() - start;

	seq_printf(seq, "tcpstates %d\n", TCPSTATES_FORMAT_VERSION);
	seq_printf(seq, "netns %u\n", net->ns.inum);
	tcpstates_show_states(seq, &c);
	tcpstates_show_limits(seq, net);
	seq_printf(seq, "scan_buckets %llu\n", c.buckets);
	seq_printf(seq, "scan_ns %llu\n", ns);
	seq_printf(seq, "scan_restarts %llu\n", c.restarts);
	seq_printf(seq, "scan_incomplete %llu\n", c.incomplete);
	return 0;
}

/*
 * The namespace is the opener's, pinned until release: the walk must not
 * outlive a private ehash, which is freed as soon as its netns goes.  The
 * whole file fits in seq_file's first page, so a read walks once.
 */
int tcpstates_net_open(struct file *file,
		       int (*show)(struct seq_file *seq, void *v))
{
	struct net *net = get_net(current->nsproxy->net_ns);
	int err;

	err = single_open(file, show, net);
	if (err)
		put_net(net);
	return err;
}

int tcpstates_net_release(struct inode *inode, struct file *file)
{
	struct seq_file *seq = file->private_data;

	put_net(seq->private);
	return single_release(inode, file);
}

static int tcpstates_proc_open(struct inode *inode, struct file *file)
{
	return tcpstates_net_open(file, tcpstates_proc_show);
}

static const struct proc_ops tcpstates_proc_ops = {
	.proc_open	= tcpstates_proc_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= tcpstates_net_release,
};

static const struct proc_ops tcpstates_ports_ops = {
	.proc_open	= tcpstates_ports_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= tcpstates_snap_release,
};

static const struct proc_ops tcpstates_close_wait_ops = {
	.proc_open	= tcpstates_close_wait_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= tcpstates_snap_release,
};

static const struct proc_ops tcpstates_all_ops = {
	.proc_open	= tcpstates_all_open,
	.proc_read	= seq_read,
	.proc_lseek	= seq_lseek,
	.proc_release	= tcpstates_snap_release,
};

static struct proc_dir_entry *tcpstates_proc_entry;
static struct proc_dir_entry *tcpstates_ports_entry;
static struct proc_dir_entry *tcpstates_close_wait_entry;
static struct proc_dir_entry *tcpstates_all_entry;

int tcpstates_proc_init(void)
{
	tcpstates_proc_entry = proc_create("tcpstates", 0444, NULL,
					   &tcpstates_proc_ops);
	if (!tcpstates_proc_entry)
		return -ENOMEM;
	tcpstates_ports_entry = proc_create("tcpstates_ports", 0444, NULL,
					    &tcpstates_ports_ops);
	if (!tcpstates_ports_entry)
		goto err_proc;
	tcpstates_close_wait_entry = proc_create("tcpstates_close_wait", 0444,
						 NULL, &tcpstates_close_wait_ops);
	if (!tcpstates_close_wait_entry)
		goto err_ports;
	tcpstates_all_entry = proc_create("tcpstates_all", 0400, NULL,
					  &tcpstates_all_ops);
	if (!tcpstates_all_entry)
		goto err_close_wait;
	return 0;

err_close_wait:
	proc_remove(tcpstates_close_wait_entry);
err_ports:
	proc_remove(tcpstates_ports_entry);
err_proc:
	proc_remove(tcpstates_proc_entry);
	return -ENOMEM;
}

/*
 * proc_remove() waits for reads in progress and releases files still open,
 * so no reader can run our code after the module is gone.
 */
void tcpstates_proc_exit(void)
{
	proc_remove(tcpstates_all_entry);
	proc_remove(tcpstates_close_wait_entry);
	proc_remove(tcpstates_ports_entry);
	proc_remove(tcpstates_proc_entry);
}
