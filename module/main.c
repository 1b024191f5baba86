// SPDX-License-Identifier: GPL-2.0
/*
 * tcpstates: per-state TCP socket counts for each network namespace in
 * /proc/tcpstates (by age in /proc/tcpstates_ages, how they move in
 * /proc/tcpstates_transitions), and the TIME_WAIT tunables in
 * /sys/kernel/tcpstates/.
 *
 * This file does not include compat.h: it pulls in inet_timewait_sock.h,
 * whose tw_reuse macro would rename the tw_reuse parameter.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "tcpstates.h"

/* -1: leave the initial namespace's sysctl as it is. */
static int tcpstates_param_max_tw_buckets = -1;
static int tcpstates_param_tw_reuse = -1;

static int tcpstates_param_set(const char *val, const struct kernel_param *kp,
			       int max)
{
	int err;

	err = tcpstates_parse_int(val, strlen(val), max, kp->arg);
	if (err)
		pr_err("%s=%s: expected an integer from 0 to %d\n",
		       kp->name, val, max);
	return err;
}

static int tcpstates_set_max_tw_buckets(const char *val,
					const struct kernel_param *kp)
{
	return tcpstates_param_set(val, kp, INT_MAX);
}

static int tcpstates_set_tw_reuse(const char *val,
				  const struct kernel_param *kp)
{
	return tcpstates_param_set(val, kp, 2);
}

static const struct kernel_param_ops tcpstates_max_tw_buckets_ops = {
	.set = tcpstates_set_max_tw_buckets,
	.get = param_get_int,
};

static const struct kernel_param_ops tcpstates_tw_reuse_ops = {
	.set = tcpstates_set_tw_reuse,
	.get = param_get_int,
};

module_param_cb(max_tw_buckets, &tcpstates_max_tw_buckets_ops,
		&tcpstates_param_max_tw_buckets, 0444);
MODULE_PARM_DESC(max_tw_buckets,
		 "net.ipv4.tcp_max_tw_buckets of the initial netns, set at load");
module_param_cb(tw_reuse, &tcpstates_tw_reuse_ops,
		&tcpstates_param_tw_reuse, 0444);
MODULE_PARM_DESC(tw_reuse,
		 "net.ipv4.tcp_tw_reuse (0, 1, 2) of the initial netns, set at load");

static int __init tcpstates_init(void)
{
	int err;

	err = tcpstates_ports_init();
	if (err)
		return err;
	err = tcpstates_proc_init();
	if (err)
		goto err_ports;
	err = tcpstates_ages_init();
	if (err)
		goto err_proc;
	err = tcpstates_transitions_init();
	if (err)
		goto err_ages;
	err = tcpstates_sysfs_init();
	if (err)
		goto err_transitions;
	/* Last: a load that fails must change nothing. */
	tcpstates_sysfs_apply(tcpstates_param_max_tw_buckets,
			      tcpstates_param_tw_reuse);
	return 0;

err_transitions:
	tcpstates_transitions_exit();
err_ages:
	tcpstates_ages_exit();
err_proc:
	tcpstates_proc_exit();
err_ports:
	tcpstates_ports_exit();
	return err;
}

static void __exit tcpstates_exit(void)
{
	tcpstates_sysfs_exit();
	tcpstates_transitions_exit();
	tcpstates_ages_exit();
	tcpstates_proc_exit();
	tcpstates_ports_exit();
}

module_init(tcpstates_init);
module_exit(tcpstates_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Per-state TCP socket counts per network namespace");
MODULE_AUTHOR("The tcpstates authors");
