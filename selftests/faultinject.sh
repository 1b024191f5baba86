#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every allocation the module's operations make, failed in turn: with the
# task's fail-nth (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, and
# GFP_KERNEL allocations included), the 1st, 2nd, ... fault point of the
# module's load, an open and whole read of each /proc file, a sysfs
# write, and a netns made and dismantled while the module is loaded,
# until one run passes untouched.  Each run must end in a whole
# result or a clean errno, the next plain operation must be right, and
# kmemleak must find nothing at the end.  Kernels without fault injection
# (Debian's) SKIP with the reason; the debug kernel has it.
#
# FAULTINJECT_SWEEP=ops (the default: the reads, the write and the netns,
# about a minute under KASAN, in make check's debug lane) or load (the
# module's init and unwinding, over 100 fault points and minutes:
# faultinject_load.sh, in make check-faultinject).
source "$(dirname "$0")/lib.sh"
require_root

SWEEP=${FAULTINJECT_SWEEP:-ops}

HERE=$(cd "$(dirname "$0")" && pwd)
DBG=/sys/kernel/debug
# A bound for a loop that never reaches an untouched run.
MAX=${FAULTINJECT_MAX:-400}
FILES="/proc/tcpstates /proc/tcpstates_ports /proc/tcpstates_close_wait /proc/tcpstates_all /proc/tcpstates_ages /proc/tcpstates_transitions /proc/tcpstates_transitions_ports"
OUT=$(mktemp)
ERR=$(mktemp)
defer rm -f "$OUT" "$ERR"

# skip_all REASON: every result a SKIP, the first with REASON.
skip_all() {
	local c

	SKIP_REASON=$1
	for c in $RESULTS kmemleak; do
		log_test $ksft_skip "fault injection: $c"
		SKIP_REASON="no fault injection here"
	done
	ksft_exit
	exit
}

case $SWEEP in
ops)	RESULTS="read write netns" ;;
load)	RESULTS="load" ;;
*)	echo "# FAULTINJECT_SWEEP: ops or load, not $SWEEP"; exit 1 ;;
esac

grep -q " $DBG " /proc/mounts || mount -t debugfs debugfs $DBG 2>/dev/null
if [ ! -e /proc/thread-self/fail-nth ] || [ ! -d $DBG/failslab ] ||
   [ ! -d $DBG/fail_page_alloc ]; then
	skip_all "no fault injection here (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, debugfs)"
fi
for f in failslab fail_page_alloc; do
	echo 0 > $DBG/$f/ignore-gfp-wait
	echo 0 > $DBG/$f/verbose
done
echo 0 > $DBG/fail_page_alloc/ignore-gfp-highmem
# Not single pages: a kvmalloc'd buffer takes one fault point per page
# (the ports index, 512 kB: 128 of them), each failing the same way as
# its first slab allocation, which failslab fails anyway.
echo 1 > $DBG/fail_page_alloc/min-order

# Only fault points with module code on the stack count for fail-nth
# (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): every allocation the
# module makes or has made for it (seq_file's, proc's, percpu), not the
# VFS's path walk before it, nor KASAN's and kmemleak's bookkeeping
# around each (an open and read of /proc/tcpstates was over 150 fault
# points, 2 s each, without the filter).  On x86_64 modules are mapped
# above the kernel image (its _end) and below MODULES_END.
KEND=$(awk '$3 == "_end" { print $1; exit }' /proc/kallsyms)
if [ ! -e $DBG/failslab/require-start ] || [ -z "$KEND" ] ||
   [ "$((16#${KEND:0:8}))" -eq 0 ]; then
	skip_all "no stack filter for fault injection (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER) or no kernel addresses in /proc/kallsyms"
fi
for f in failslab fail_page_alloc; do
	echo "0x$KEND" > $DBG/$f/require-start
	echo 0xffffffffff000000 > $DBG/$f/require-end
done

# Seconds one failnth run may take: a hang is a failure with its fault
# point named, not a guest that times out saying nothing.
NTH_TIMEOUT=${FAULTINJECT_NTH_TIMEOUT:-120}

# nth N OP ARGS...: failnth's verdict ("injected Y ok", "injected Y
# ENOMEM", ...) in $ERR, what it read in $OUT.
nth() {
	timeout -k 10 "$NTH_TIMEOUT" "$HERE/failnth" "$@" > "$OUT" 2> "$ERR"
	[ $? -ne 124 ] || echo "hung: no verdict in $NTH_TIMEOUT s" >> "$ERR"
}

# clean_errno: the verdict names a result a caller can handle.
clean_errno() {
	grep -qE ' (ok|ENOMEM|EAGAIN|EBUSY|EINTR)$' "$ERR"
}

# whole FILE: the read is the file's whole grammar: its version line
# first, and every line complete.
whole() {
	local first

	first=$(head -n 1 "$OUT")
	[[ "$first" =~ ^tcpstates(_[a-z_]+)?\ 1$ ]] &&
		[ "$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')" = '\n' ]
}

# sweep DESC CHECK OP ARGS...: nth 1, 2, ... until OP runs untouched;
# CHECK (a function) judges each run.  Says how many fault points it took.
sweep() {
	local desc=$1 check=$2 n untouched

	shift 2
	for ((n = 1; n <= MAX; n++)); do
		# Progress: a sweep of a few hundred runs takes minutes.
		[ $((n % 25)) -ne 0 ] || echo "# $desc: fault point $n, $SECONDS s"
		nth "$n" "$@"
		# Taken before CHECK, whose plain run rewrites $ERR.
		untouched=0
		grep -q '^injected N' "$ERR" && untouched=1
		if ! $check; then
			echo "# $desc: fault point $n: $(cat "$ERR")"
			return 1
		fi
		[ $untouched -eq 0 ] || break
	done
	echo "# $desc: $((n - 1)) fault points, each failed once"
	[ $n -le $MAX ]
}

check_read() {
	clean_errno || return 1
	if grep -q ' ok$' "$ERR"; then
		whole || return 1
	fi
	# The next plain read is whole.
	nth 0 read "$FILE" && whole
}

check_write() {
	clean_errno || return 1
	[ "$(cat /sys/kernel/tcpstates/max_tw_buckets)" = "$LIMIT" ]
}

check_netns() {
	clean_errno
}

# A load whose init failed leaves nothing (no file, no module), and the
# next plain load works and reads whole.
check_load() {
	clean_errno || return 1
	if grep -q ' ok$' "$ERR"; then
		grep -q '^tcpstates 1$' /proc/tcpstates || return 1
		rmmod tcpstates || return 1
	elif [ -e /proc/tcpstates ] || grep -q '^tcpstates ' /proc/modules; then
		return 1
	fi
	insmod "$TCPSTATES_KO" || return 1
	nth 0 read /proc/tcpstates && whole || return 1
	rmmod tcpstates
}

grep -q '^tcpstates 1$' /proc/tcpstates 2>/dev/null || insmod "$TCPSTATES_KO" 2>/dev/null
grep -q '^tcpstates 1$' /proc/tcpstates || { echo "# the module does not load"; ksft_exit; exit; }

# A few sockets of each kind, so the walks have rows to allocate for.
setup_ns A || exit 1
ip netns exec "$A" "$HERE/tcpgen" tw 5
hold "$A" leak 3
if [ "$SWEEP" = ops ]; then
	ret=0
	for FILE in $FILES; do
		sweep "read $FILE" check_read read "$FILE" || ret=1
	done
	log_test $ret "fault injection: each allocation of an open and read of every /proc file failed once: a whole file or a clean errno"

	LIMIT=$(cat /sys/kernel/tcpstates/max_tw_buckets)
	sweep "write max_tw_buckets" check_write write /sys/kernel/tcpstates/max_tw_buckets "$LIMIT"
	log_test $? "fault injection: each allocation of a sysfs write failed once: the value unchanged"

	sweep "netns" check_netns netns
	log_test $? "fault injection: each allocation of a netns made and dismantled failed once"
else
	# The module's init and its unwinding (over 100 fault points under
	# KASAN, 2.5 s each).  The loader's own allocations (sections,
	# sysfs) have no module code on the stack.
	rmmod tcpstates
	sweep "load" check_load load "$TCPSTATES_KO"
	log_test $? "fault injection: each allocation of the module's init failed once: a clean errno, nothing left, the next load whole"
	grep -q '^tcpstates ' /proc/modules || insmod "$TCPSTATES_KO"
fi

ret=0
if [ -w $DBG/kmemleak ]; then
	echo scan > $DBG/kmemleak
	sleep 1
	echo scan > $DBG/kmemleak
	if grep -q tcpstates $DBG/kmemleak; then
		grep -B2 -A20 tcpstates $DBG/kmemleak | head -n 40 | sed 's/^/# /'
		ret=1
	fi
else
	SKIP_REASON="no kmemleak in this kernel"
	ret=$ksft_skip
fi
log_test $ret "kmemleak finds nothing of the module's after the sweeps"
ksft_exit
