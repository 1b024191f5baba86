// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/tcpstates/: the TIME_WAIT sysctls of the caller's network
 * namespace, read and written in place.  The module keeps no copy, so
 * sysctl and these files always agree.  Beside them, read-only, what the
 * walks and the snapshots cost.
 *
 * sysfs itself is global; every read and write acts on the namespace of
 * the process doing it, with the permission check the sysctl has.
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/kobject.h>
#include <linux/kernel.h>
#include <linux/nsproxy.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "snapshot.h"
#include "tcpstates.h"

/* Longer than any valid value with a newline; rejects padded numbers. */
#define TCPSTATES_MAX_INPUT	16

/*
 * Parse a decimal in 0..@max with an optional trailing newline.  Anything
 * else is -EINVAL, including a value kstrtouint would have cut at an
 * embedded NUL, the leading '+' it would have skipped, and one too large
 * for an int.
 */
int tcpstates_parse_int(const char *buf, size_t count, int max, int *val)
{
	unsigned int v;

	if (count == 0 || count > TCPSTATES_MAX_INPUT ||
	    strnlen(buf, count) != count || !isdigit(buf[0]))
		return -EINVAL;
	if (kstrtouint(buf, 10, &v) || v > max)
		return -EINVAL;
	*val = v;
	return 0;
}

static struct net *tcpstates_net(void)
{
	return current->nsproxy->net_ns;
}

/* The sysctl's own rule: CAP_NET_ADMIN over the namespace's owner. */
static int tcpstates_may_write(struct net *net)
{
	return ns_capable(net->user_ns, CAP_NET_ADMIN) ? 0 : -EPERM;
}

static ssize_t max_tw_buckets_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  READ_ONCE(*tcpstates_max_tw_buckets(tcpstates_net())));
}

/*
 * A write acts on the writer's netns: check the permission there first,
 * then the value, and hand back the netns and value only if both pass.
 */
static int tcpstates_store_prepare(const char *buf, size_t count, int max,
				   struct net **net, int *val)
{
	int err;

	*net = tcpstates_net();
	err = tcpstates_may_write(*net);
	if (err)
		return err;
	return tcpstates_parse_int(buf, count, max, val);
}

static ssize_t max_tw_buckets_store(struct kobject *kobj,
				    struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	struct net *net;
	int err, val;

	err = tcpstates_store_prepare(buf, count, INT_MAX, &net, &val);
	if (err)
		return err;
	WRITE_ONCE(*tcpstates_max_tw_buckets(net), val);
	return count;
}

static ssize_t tw_reuse_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", tcpstates_tw_reuse_get(tcpstates_net()));
}

static ssize_t tw_reuse_store(struct kobject *kobj, struct kobj_attribute *attr,
			      const char *buf, size_t count)
{
	struct net *net;
	int err, val;

	err = tcpstates_store_prepare(buf, count, 2, &net, &val);
	if (err)
		return err;
	tcpstates_tw_reuse_set(net, val);
	return count;
}

static ssize_t tw_count_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%d\n", tcpstates_tw_count(tcpstates_net()));
}

/*
 * Totals since load over every walk of every netns: how often the tables
 * were walked, chains walked again, and buckets given up on.
 */
static ssize_t scans_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%lld\n", atomic64_read(&tcpstates_stats.scans));
}

static ssize_t scan_restarts_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&tcpstates_stats.restarts));
}

static ssize_t scan_incomplete_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&tcpstates_stats.incomplete));
}

/* Bytes every open snapshot of _ports and _all holds of their budget. */
static ssize_t snapshot_bytes_show(struct kobject *kobj,
				   struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%zu\n", tcpstates_snap_held());
}

static struct kobj_attribute tcpstates_attr_scans = __ATTR_RO(scans);
static struct kobj_attribute tcpstates_attr_scan_restarts =
	__ATTR_RO(scan_restarts);
static struct kobj_attribute tcpstates_attr_scan_incomplete =
	__ATTR_RO(scan_incomplete);
static struct kobj_attribute tcpstates_attr_snapshot_bytes =
	__ATTR_RO(snapshot_bytes);

/*
 * Named by string: tw_reuse and tw_count would expand as the macros of
 * include/net/inet_timewait_sock.h inside __ATTR().
 */
static struct kobj_attribute tcpstates_attr_max_tw_buckets =
	__ATTR_RW(max_tw_buckets);

static struct kobj_attribute tcpstates_attr_tw_reuse = {
	.attr	= { .name = "tw_reuse", .mode = 0644 },
	.show	= tw_reuse_show,
	.store	= tw_reuse_store,
};

static struct kobj_attribute tcpstates_attr_tw_count = {
	.attr	= { .name = "tw_count", .mode = 0444 },
	.show	= tw_count_show,
};

static struct attribute *tcpstates_attrs[] = {
	&tcpstates_attr_max_tw_buckets.attr,
	&tcpstates_attr_tw_reuse.attr,
	&tcpstates_attr_tw_count.attr,
	&tcpstates_attr_scans.attr,
	&tcpstates_attr_scan_restarts.attr,
	&tcpstates_attr_scan_incomplete.attr,
	&tcpstates_attr_snapshot_bytes.attr,
	NULL,
};

static const struct attribute_group tcpstates_attr_group = {
	.attrs = tcpstates_attrs,
};

static struct kobject *tcpstates_kobj;

/* The module parameters, for the initial namespace; negative: unset. */
void tcpstates_sysfs_apply(int max_tw, int reuse)
{
	if (max_tw >= 0)
		WRITE_ONCE(*tcpstates_max_tw_buckets(&init_net), max_tw);
	if (reuse >= 0)
		tcpstates_tw_reuse_set(&init_net, reuse);
}

int tcpstates_sysfs_init(void)
{
	int err;

	tcpstates_kobj = kobject_create_and_add("tcpstates", kernel_kobj);
	if (!tcpstates_kobj)
		return -ENOMEM;
	err = sysfs_create_group(tcpstates_kobj, &tcpstates_attr_group);
	if (err)
		goto err_kobj;
	return 0;

err_kobj:
	kobject_put(tcpstates_kobj);
	return err;
}

void tcpstates_sysfs_exit(void)
{
	sysfs_remove_group(tcpstates_kobj, &tcpstates_attr_group);
	kobject_put(tcpstates_kobj);
}
