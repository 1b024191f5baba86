#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What a kernel that enforces module signatures (Secure Boot's lockdown,
# or module.sig_enforce=1) does with the module: it loads the module
# signed with a key it trusts, and refuses it unsigned, or signed with a
# key it does not trust, which is DKMS's machine owner key (MOK) before
# `mokutil --import` and the reboot that enrolls it.
#
# Run last in the debug kernel's guest (check.sh): it turns enforcement
# on, and no one can turn it off again until the next boot.  That kernel
# is built with CONFIG_MODULE_SIG and a key of its own build
# (debug-kernel.config); scripts/sign-module.sh puts next to this test
# tcpstates-signed.ko (signed with that key) and tcpstates-mok.ko (signed
# with a key made as DKMS makes its MOK, which the kernel never saw).
source "$(dirname "$0")/lib.sh"
require_root

here=$(cd "$(dirname "$0")" && pwd)
enforce=/sys/module/module/parameters/sig_enforce
signed=$here/tcpstates-signed.ko
mok=$here/tcpstates-mok.ko

for f in "$TCPSTATES_KO" "$signed" "$mok"; do
	if [ ! -e "$f" ]; then
		echo "# SKIP: $f not found (scripts/sign-module.sh makes it)"
		exit $ksft_skip
	fi
done
if [ ! -e "$enforce" ]; then
	echo "# SKIP: $(uname -r) has no CONFIG_MODULE_SIG"
	exit $ksft_skip
fi

# try_load KO: insmod's message (one line) into $msg, and its status.
try_load() {
	msg=$(insmod "$1" 2>&1)
}

# refused KO REASON: the kernel refuses KO with "Key was rejected by
# service", as insmod and modprobe print it, says why in its log, and
# makes no file.
refused() {
	local before

	before=$(dmesg | wc -l)
	if try_load "$1"; then
		rmmod tcpstates
		echo "# loaded"
		return 1
	fi
	echo "# insmod: $msg"
	case $msg in
	*"Key was rejected by service"*) ;;
	*) return 1 ;;
	esac
	dmesg | tail -n +$((before + 1)) | grep "Loading of $2 is rejected" ||
		return 1
	[ ! -e /proc/tcpstates ]
}

# write FILE VALUE: a write to a parameter, its status.
write() {
	echo "$2" > "$1"
}

loads() {
	try_load "$signed" || { echo "# insmod: $msg"; return 1; }
	grep -q '^tcpstates ' /proc/tcpstates || return 1
	# No "E" (unsigned module loaded) in the module's taint flags.
	echo "# taint: '$(cat /sys/module/tcpstates/taint)'"
	! grep -q E /sys/module/tcpstates/taint || return 1
	rmmod tcpstates
}

# The kernel's own modules, signed by modules_install with its key, were
# loaded at boot (vm-run.sh's init): a hash the kernel cannot verify
# fails them all, enforced or not (SHA-512 did, with ENOENT).
own_signed() {
	local m

	for m in veth inet_diag; do
		[ -d "/sys/module/$m" ] || { echo "# $m not loaded"; return 1; }
		! grep -q E "/sys/module/$m/taint" || return 1
	done
}

own_signed
log_test $? "the kernel's own signed modules loaded at boot, untainted"
if [ -d /sys/module/tcpstates ]; then
	rmmod tcpstates || exit 1
fi
# Enforcement can only be turned on, as the parameter's type says.
write "$enforce" 1
log_test $? "module.sig_enforce turned on at run time"
[ "$(cat "$enforce")" = Y ]
log_test $? "signatures are enforced: $enforce is Y"

refused "$TCPSTATES_KO" "unsigned module"
log_test $? "unsigned: refused, \"Key was rejected by service\""
refused "$mok" "module with unavailable key"
log_test $? "signed with a MOK the kernel does not trust: refused"
loads
log_test $? "signed with the kernel's trusted key: loads, counts, no E taint"
write "$enforce" 0 2>/dev/null
[ "$(cat "$enforce")" = Y ]
log_test $? "enforcement cannot be turned off again"

ksft_exit
