#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module as an operator installs it: scripts/install.sh puts it into
# /lib/modules/$(uname -r)/updates/ and runs depmod, /etc/modprobe.d gives
# its options, and modprobe loads and unloads it by name.
#
# Run in the test guest, whose root is a tmpfs with no module tree for the
# running kernel: the test creates one and removes it again.  It needs, next
# to itself, install.sh (scripts/install.sh), tcpstates.ko, and kmod: the
# modprobe operators have reads /etc/modprobe.d, which busybox's need not.
# It leaves the module loaded from tcpstates.ko if it found it loaded.
source "$(dirname "$0")/lib.sh"
require_root

here=$(cd "$(dirname "$0")" && pwd)
kver=$(uname -r)
moddir=/lib/modules/$kver
conf=/etc/modprobe.d/tcpstates.conf
install_sh=$here/install.sh
[ -x "$install_sh" ] || install_sh=$here/../scripts/install.sh
MAX_TW=7777

for f in "$install_sh" "$TCPSTATES_KO" "$here/kmod"; do
	if [ ! -e "$f" ]; then
		echo "# SKIP: $f not found"
		exit $ksft_skip
	fi
done

# kmod is one binary that acts as the tool it is called by.
bin=$(mktemp -d)
defer rm -rf "$bin"
for t in depmod modprobe modinfo insmod rmmod lsmod; do
	ln -s "$here/kmod" "$bin/$t"
done
export PATH=$bin:$PATH

# Put back what the test changes: the sysctls the options set, and the
# module loaded as the guest's init loaded it.
old_max_tw=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)
old_tw_reuse=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)
defer sysctl -qw net.ipv4.tcp_max_tw_buckets="$old_max_tw" \
	net.ipv4.tcp_tw_reuse="$old_tw_reuse"
if [ -d /sys/module/tcpstates ]; then
	defer insmod "$TCPSTATES_KO"
	rmmod tcpstates || exit 1
fi
# Debian's kernel package ships these; depmod and modprobe look for them.
if [ ! -d "$moddir" ]; then
	mkdir -p "$moddir"
	defer rm -rf "$moddir"
	: > "$moddir/modules.order"
	: > "$moddir/modules.builtin"
	: > "$moddir/modules.builtin.modinfo"
fi
defer modprobe -qr tcpstates

check_install() {
	TCPSTATES_KO=$TCPSTATES_KO "$install_sh" install-module || return 1
	[ -f "$moddir/updates/tcpstates.ko" ] || return 1
	grep -q '^updates/tcpstates.ko:' "$moddir/modules.dep" || return 1
	[ "$(modinfo -n tcpstates)" = "$moddir/updates/tcpstates.ko" ]
}

check_modprobe_options() {
	local cmd ret=0

	mkdir -p /etc/modprobe.d
	defer rm -f "$conf"
	echo "options tcpstates max_tw_buckets=$MAX_TW tw_reuse=1" > "$conf"

	# -v prints the insmod that modprobe does: the installed file and the
	# options from modprobe.d.  kmod adds tcpstates.* options from the
	# kernel command line too, and vm-run.sh puts tcpstates.load= there.
	cmd=$(modprobe -v tcpstates) || return 1
	echo "# $cmd"
	case "$cmd " in
	"insmod $moddir/updates/tcpstates.ko max_tw_buckets=$MAX_TW tw_reuse=1 "*) ;;
	*) ret=1 ;;
	esac
	[ "$(cat /sys/module/tcpstates/parameters/max_tw_buckets)" = $MAX_TW ] || ret=1
	[ "$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)" = $MAX_TW ] || ret=1
	[ "$(cat /proc/sys/net/ipv4/tcp_tw_reuse)" = 1 ] || ret=1
	return $ret
}

check_proc() {
	[ "$(head -n 1 /proc/tcpstates)" = "tcpstates 1" ] &&
		[ "$(awk '$1 == "max_tw_buckets" { print $2 }' /proc/tcpstates)" = $MAX_TW ] &&
		[ "$(cat /sys/kernel/tcpstates/max_tw_buckets)" = $MAX_TW ]
}

check_modprobe_remove() {
	modprobe -r tcpstates || return 1
	[ ! -d /sys/module/tcpstates ] && [ ! -e /proc/tcpstates ]
}

check_uninstall() {
	KVER=$kver "$install_sh" uninstall-module || return 1
	[ ! -e "$moddir/updates/tcpstates.ko" ] || return 1
	[ -f "$moddir/modules.dep" ] || return 1
	! grep -q tcpstates "$moddir/modules.dep" || return 1
	! modprobe -q tcpstates 2>/dev/null
}

check_install
log_test $? "install.sh install-module: updates/tcpstates.ko, depmod finds it"
check_modprobe_options
log_test $? "modprobe tcpstates loads it with the options of /etc/modprobe.d"
check_proc
log_test $? "/proc/tcpstates and sysfs show max_tw_buckets=$MAX_TW"
check_modprobe_remove
log_test $? "modprobe -r tcpstates unloads it"
check_uninstall
log_test $? "install.sh uninstall-module: gone from modules.dep, modprobe fails"
ksft_exit
