#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-run.sh [options] ABI PAYLOAD_DIR [COMMAND...]
#
# Boot Debian's kernel ABI (fetched and unpacked into $CACHE on first use)
# under QEMU with an initramfs holding PAYLOAD_DIR at /opt/tcpstates, load
# PAYLOAD_DIR/tcpstates.ko, run COMMAND (a shell command line, default
# ./run-guest.sh) in /opt/tcpstates, and exit with its status.
#
# Any kernel splat in the guest's log (WARNING, BUG, Oops, lockdep, KASAN,
# RCU stall, soft lockup, kmemleak) fails the run, as does a guest that
# crashes, hangs past the timeout or cannot be fetched or booted.
#
# Exit status: COMMAND's (0 or 1 for run-guest.sh) when the guest ran it
# to the end without a splat; otherwise one of
#   122  the kernel could not be fetched or unpacked
#   123  the initramfs could not be built (a module the tests need is missing)
#   125  the guest died, hung or never reported COMMAND's status
#   126  a kernel splat
# so that only 0 and 1 mean "the command ran".
#
#   -t SECONDS   hard timeout for the whole guest (default 900)
#   -m MB        guest memory (default 1024)
#   -a ARGS      arguments for insmod tcpstates.ko
#   -n           do not load tcpstates.ko at boot
#   -l DIR       keep the guest's kernel log and output in DIR
# VM_CPUS: the guest's CPUs (default 2), one per socket.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$here/../build/kernels}
timeout=900
mem=1024
args=
load=1
logdir=
VM_CPUS=${VM_CPUS:-2}

while getopts "t:m:a:nl:" o; do
	case "$o" in
	t) timeout=$OPTARG ;;
	m) mem=$OPTARG ;;
	a) args=$OPTARG ;;
	n) load=0 ;;
	l) logdir=$OPTARG ;;
	*) echo "usage: vm-run.sh [-t s] [-m MB] [-a args] [-n] [-l dir] ABI PAYLOAD [CMD...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then
	echo "usage: vm-run.sh [-t s] [-m MB] [-a args] [-n] [-l dir] ABI PAYLOAD [CMD...]" >&2
	exit 2
fi
abi=$1
payload=$2
shift 2
cmd=${*:-./run-guest.sh}

# Report headers only: a debug kernel prints "RCU lockdep checking is
# enabled" at every boot, and that is no failure.
SPLATS='WARNING:|BUG:|Oops|Kernel panic|general protection fault|'
SPLATS+='possible circular locking|possible recursive locking|'
SPLATS+='suspicious RCU usage|inconsistent lock state|'
SPLATS+='KASAN:|UBSAN:|unreferenced object|'
SPLATS+='detected stalls? on CPUs|self-detected stall|rcu_.*stall|'
SPLATS+='soft lockup|hard LOCKUP|blocked for more than|'
SPLATS+='sleeping function called from invalid context|list_(add|del) corruption'

# shellcheck source=kernel-lib.sh
. "$here/kernel-lib.sh"
"$here/fetch-kernel.sh" "$abi" "$CACHE" || {
	echo "vm-run: cannot fetch kernel $abi" >&2
	exit 122
}
kroot=$CACHE/$abi/root
# /boot/vmlinuz-ABI, or /usr/lib/modules/ABI/vmlinuz (7.x packages).
image=$(kernel_image "$kroot" "$abi") || {
	echo "vm-run: no kernel image for $abi in $kroot" >&2
	exit 122
}

work=$(mktemp -d)
cleanup() {
	[ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null
	[ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null
	if [ -n "$logdir" ]; then
		mkdir -p "$logdir"
		cp "$work/kernel.log" "$work/out.log" "$logdir/" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/payload"
cp -a "$payload/." "$work/payload/"
printf '%s\n' "$cmd" > "$work/payload/cmd"
printf '%s\n' "$args" > "$work/payload/insmod-args"
"$here/mkinitramfs.sh" "$work/initrd" "$kroot" "$abi" "$work/payload" || {
	echo "vm-run: cannot build the initramfs for $abi" >&2
	exit 123
}

: > "$work/kernel.log"
: > "$work/out.log"
# A warning panics the guest, but in a KCSAN kernel, where each data race
# report is one (check_panic_on_warn) and most are the rest of the
# kernel's: there the scan below tells.
warn=panic_on_warn=1
case $abi in
*-tcpstates-kcsan) warn= ;;
esac
# la57=off: 4-level paging, as nearly every host runs; QEMU 10's "max"
# offers 5-level, and the debug kernel once took a KASAN wild access in
# an interrupt during early boot (swapper, identify_cpu) at a 5-level
# direct-map address.
# sockets=2: the debug and KCSAN kernels have no ACPI and find their CPUs
# in SeaBIOS's MP table, which lists one CPU per socket: with QEMU's
# default of cores in one socket they booted with one CPU, and no test in
# them ran two CPUs against each other.  run-guest.sh says how many came
# up, and check.sh fails a guest with fewer than VM_CPUS.
# no_timer_check: a guest whose host is busy (TCG beside another guest)
# can miss the IO-APIC timer check at boot and panic in setup_IO_APIC();
# seen with three busy loops on this two-core host.
timeout --foreground -k 5 "$timeout" \
	"$here/qemu.sh" run -M pc -cpu max,la57=off -smp "$VM_CPUS,sockets=$VM_CPUS" -m "$mem" \
	-nodefaults -display none -no-reboot \
	-kernel "$image" -initrd "$work/initrd" \
	-append "console=ttyS0,115200 $warn panic=-1 oops=panic mitigations=off no_timer_check tcpstates_vm.load=$load" \
	-serial "file:$work/kernel.log" -serial "file:$work/out.log" &
qpid=$!
tail -n +1 -f "$work/out.log" --pid=$qpid | grep --line-buffered -v '^VMRUN_EXIT=' &
tpid=$!
wait $qpid
qstatus=$?
qpid=
wait $tpid 2>/dev/null
tpid=

status=$(sed -n 's/^VMRUN_EXIT=\([0-9]*\).*/\1/p' "$work/out.log" | tail -n 1)
# A KCSAN kernel (make check-kcsan) reports data races all over the
# kernel: those whose report names none of the module's code (a
# tcpstates_ function, or [tcpstates] beside a frame) are the rest of
# the kernel's, counted and left out of the scan below; the others stay
# in it, a splat like any other.  Not any "tcpstates": the kernel's own
# release, 6.12.N-tcpstates-kcsan, is in every report's CPU line.  The
# serial console ends its lines with CRLF.
awk -v others="$work/kcsan-others" '
	{ sub(/\r$/, "") }
	/BUG: KCSAN:/ { inrep = 1; rep = $0 "\n"; ours = /tcpstates_/; next }
	inrep && /^\[ *[0-9.]+\] =+$|^=+$/ {
		if (ours) printf "%s", rep
		else { n++; print rep > others }
		inrep = 0; next
	}
	inrep { rep = rep $0 "\n"; if (/tcpstates_|\[tcpstates\]/) ours = 1; next }
	{ print }
	END { if (inrep) printf "%s", rep }' "$work/kernel.log" > "$work/kernel.scan"
if [ -s "$work/kcsan-others" ]; then
	echo "vm-run: $abi: $(grep -c 'BUG: KCSAN:' "$work/kcsan-others") KCSAN report(s) outside the module:" >&2
	grep -a 'BUG: KCSAN:' "$work/kcsan-others" | sort | uniq -c | sed 's/^/#   /' >&2
fi
splats=$(grep -aEc "$SPLATS" "$work/kernel.scan")
if [ "$splats" -gt 0 ]; then
	echo "vm-run: $abi: $splats kernel splat line(s):" >&2
	grep -aE -A 30 "$SPLATS" "$work/kernel.scan" | head -n 80 >&2
	exit 126
fi
if [ -z "$status" ]; then
	if [ "$qstatus" = 124 ]; then
		echo "vm-run: $abi: guest timed out after ${timeout}s" >&2
	else
		echo "vm-run: $abi: guest died without an exit status (qemu $qstatus)" >&2
	fi
	tail -n 40 "$work/kernel.log" >&2
	exit 125
fi
exit "$status"
