#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every allocation the module's operations make, failed in turn: with the
# task's fail-nth (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, and
# GFP_KERNEL allocations included), the 1st, 2nd, ... fault point of an
# open and whole read of each /proc file, a sysfs write, and a netns made
# and dismantled while the module is loaded, until one run passes
# untouched.  Each run must end in a whole
# result or a clean errno, the next plain operation must be right, and
# kmemleak must find nothing at the end.  Kernels without fault injection
# (Debian's) SKIP with the reason; the debug kernel has it.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
DBG=/sys/kernel/debug
# A bound for a loop that never reaches an untouched run.
MAX=${FAULTINJECT_MAX:-400}
FILES="/proc/tcpstates /proc/tcpstates_ports /proc/tcpstates_all /proc/tcpstates_ages /proc/tcpstates_transitions"
OUT=$(mktemp)
ERR=$(mktemp)
defer rm -f "$OUT" "$ERR"

grep -q " $DBG " /proc/mounts || mount -t debugfs debugfs $DBG 2>/dev/null
if [ ! -e /proc/thread-self/fail-nth ] || [ ! -d $DBG/failslab ] ||
   [ ! -d $DBG/fail_page_alloc ]; then
	SKIP_REASON="no fault injection here (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC, debugfs)"
	for c in read write netns kmemleak; do
		log_test $ksft_skip "fault injection: $c"
		SKIP_REASON="no fault injection here"
	done
	ksft_exit
	exit
fi
for f in failslab fail_page_alloc; do
	echo 0 > $DBG/$f/ignore-gfp-wait
	echo 0 > $DBG/$f/verbose
done
echo 0 > $DBG/fail_page_alloc/ignore-gfp-highmem
# Single pages are the loader's (the module's image, vmalloc'd a page at
# a time: over 400 fault points under KASAN before our init runs): the
# sweeps fail every slab allocation and every larger page allocation.
echo 1 > $DBG/fail_page_alloc/min-order

# nth N OP ARGS...: failnth's verdict ("injected Y ok", "injected Y
# ENOMEM", ...) in $ERR, what it read in $OUT.
nth() {
	"$HERE/failnth" "$@" > "$OUT" 2> "$ERR"
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
	[[ "$first" =~ ^tcpstates(_[a-z]+)?\ 1$ ]] &&
		[ "$(tail -c 1 "$OUT" | od -An -c | tr -d ' ')" = '\n' ]
}

# sweep DESC CHECK OP ARGS...: nth 1, 2, ... until OP runs untouched;
# CHECK (a function) judges each run.  Says how many fault points it took.
sweep() {
	local desc=$1 check=$2 n

	shift 2
	for ((n = 1; n <= MAX; n++)); do
		nth "$n" "$@"
		if ! $check; then
			echo "# $desc: fault point $n: $(cat "$ERR")"
			return 1
		fi
		grep -q '^injected N' "$ERR" && break
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

# The module's load is not swept: under KASAN and kmemleak the loader
# alone has over 400 fault points before the module's init runs (its
# sections, their sysfs attributes, kmemleak's own objects), too many to
# fail one by one in this lane (failnth's "load" does one).
grep -q '^tcpstates 1$' /proc/tcpstates || insmod "$TCPSTATES_KO" 2>/dev/null
grep -q '^tcpstates 1$' /proc/tcpstates || { echo "# the module does not load"; ksft_exit; exit; }

# A few sockets of each kind, so the walks have rows to allocate for.
setup_ns A || exit 1
ip netns exec "$A" "$HERE/tcpgen" tw 5
hold "$A" leak 3
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
