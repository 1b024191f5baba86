#!/usr/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of a test guest.  The kernel log goes to ttyS0; the command's
# output and, last, "VMRUN_EXIT=<status>" go to ttyS1, which the host reads.
# The guest then reboots: QEMU runs with -no-reboot, so that ends it.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
hostname tcpstates-vm
ip link set lo up

exec > /dev/ttyS1 2>&1

while read -r m; do
	insmod "/lib/modules/extra/$m.ko" || echo "init: insmod $m failed"
done < /lib/modules/extra/order

cd /opt/tcpstates || exit 1
status=1
if [ "$(sed -n 's/.*tcpstates_vm.load=\([01]\).*/\1/p' /proc/cmdline)" = 0 ] ||
   insmod /opt/tcpstates/tcpstates.ko $(cat /opt/tcpstates/insmod-args 2>/dev/null); then
	/bin/sh /opt/tcpstates/cmd
	status=$?
else
	echo "init: insmod tcpstates.ko failed"
fi

echo "VMRUN_EXIT=$status"
sync
reboot -f
