#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /sys/kernel/tcpstates/ tunables: one value with two doors (the file and
# the sysctl), per network namespace, with the sysctl's permission rule;
# bad input fails the write and changes nothing; module parameters.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
MAXTW=/proc/sys/net/ipv4/tcp_max_tw_buckets
REUSE=/proc/sys/net/ipv4/tcp_tw_reuse

hex() {
	printf '%s' "$1" | od -An -tx1 | tr -d ' \n'
}

# in_ns NS CMD...: run CMD in netns NS.
in_ns() {
	local ns=$1

	shift
	ip netns exec "$ns" "$@"
}

check_mirror() {
	local ns=$1 init_tw init_reuse ret=0

	init_tw=$(cat $MAXTW)
	init_reuse=$(cat $REUSE)
	in_ns "$ns" sh -c "echo 1234 > $SYSFS/max_tw_buckets" || ret=1
	[ "$(in_ns "$ns" cat $MAXTW)" = 1234 ] || ret=1
	in_ns "$ns" sysctl -qw net.ipv4.tcp_max_tw_buckets=4321 || ret=1
	[ "$(in_ns "$ns" cat $SYSFS/max_tw_buckets)" = 4321 ] || ret=1
	[ "$(tcpstates_field "$ns" max_tw_buckets)" = 4321 ] || ret=1
	in_ns "$ns" sh -c "echo 2 > $SYSFS/tw_reuse" || ret=1
	[ "$(in_ns "$ns" cat $REUSE)" = 2 ] || ret=1
	in_ns "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=0 || ret=1
	[ "$(in_ns "$ns" cat $SYSFS/tw_reuse)" = 0 ] || ret=1
	# The initial namespace kept its own values.
	[ "$(cat $MAXTW)" = "$init_tw" ] || ret=1
	[ "$(cat $REUSE)" = "$init_reuse" ] || ret=1
	[ "$(cat $SYSFS/max_tw_buckets)" = "$init_tw" ] || ret=1
	return $ret
}

check_tw_count() {
	local ns=$1 tw

	in_ns "$ns" "$HERE/tcpgen" tw 25 || return 1
	in_ns "$ns" "$HERE/tcpgen" -6 tw 5 || return 1
	tw=$(in_ns "$ns" awk '/^TCP:/ { print $7 }' /proc/net/sockstat)
	[ "$tw" = 30 ] &&
	[ "$(in_ns "$ns" cat $SYSFS/tw_count)" = 30 ] &&
	[ "$(tcpstates_field "$ns" tw_count)" = 30 ]
}

check_limit() {
	local ns=$1 before after

	in_ns "$ns" sh -c "echo 10 > $SYSFS/max_tw_buckets" || return 1
	before=$(tcpstates_field "$ns" tw_overflow)
	in_ns "$ns" "$HERE/tcpgen" tw 100 || return 1
	after=$(tcpstates_field "$ns" tw_overflow)
	echo "# tw_count $(in_ns "$ns" cat $SYSFS/tw_count), overflow $before -> $after"
	[ "$(in_ns "$ns" cat $SYSFS/tw_count)" -le 10 ] &&
	[ $((after - before)) -ge 90 ]
}

# Each must fail with EINVAL and leave the value as it was.
BAD_INPUTS=(
	$'\n' "abc" "12abc" "-1" "-0" "--5" "+-5" " 5" "5 " $'5\n\n' $'\t5'
	$'5\t' "0x10" "1e3" "1.5" "5,000" "5_000" "2147483648" "4294967295"
	"4294967296" "99999999999999999999" "NaN" "inf" "5-" "0b101" "five"
	$'5\r\n' "00000000000000001" "1 2" "+" "-" "." "+5" "+0" $'+5\n'
	"++5" "+2147483647"
)

check_bad_inputs() {
	local ns=$1 file=$2 sysctl=$3 v before out ret=0 n=0

	before=$(in_ns "$ns" cat "$sysctl")
	for v in "${BAD_INPUTS[@]}"; do
		out=$(in_ns "$ns" "$HERE/write_once" "$file" "$(hex "$v")")
		if [ "$out" != EINVAL ]; then
			echo "# $file <- '$(printf '%q' "$v")': $out, expected EINVAL"
			ret=1
		fi
		n=$((n + 1))
	done
	# An embedded NUL: kstrtouint alone would take "1" and stop.
	out=$(in_ns "$ns" "$HERE/write_once" "$file" 310032)
	[ "$out" = EINVAL ] || { echo "# embedded NUL: $out"; ret=1; }
	# Over-long: sysfs hands store() only the first page of it.
	out=$(in_ns "$ns" "$HERE/write_once" "$file" "$(printf '30%.0s' $(seq 5000))31")
	[ "$out" = EINVAL ] || { echo "# 5001 bytes: $out"; ret=1; }
	[ "$(in_ns "$ns" cat "$sysctl")" = "$before" ] || ret=1
	echo "# $((n + 2)) malformed writes to $file"
	return $ret
}

check_reuse_range() {
	local ns=$1 v ret=0

	for v in 3 256 -1; do
		[ "$(in_ns "$ns" "$HERE/write_once" $SYSFS/tw_reuse "$(hex "$v")")" = EINVAL ] || ret=1
	done
	for v in 0 1 2; do
		in_ns "$ns" sh -c "echo $v > $SYSFS/tw_reuse" || ret=1
		[ "$(in_ns "$ns" cat $REUSE)" = "$v" ] || ret=1
	done
	return $ret
}

check_eperm() {
	local before ret=0 out

	before=$(cat $MAXTW)
	out=$(setpriv --bounding-set=-net_admin -- "$HERE/write_once" \
		$SYSFS/max_tw_buckets "$(hex 77)")
	[ "$out" = EPERM ] || { echo "# without CAP_NET_ADMIN: $out"; ret=1; }
	out=$(unshare -U -r -- "$HERE/write_once" $SYSFS/max_tw_buckets "$(hex 77)")
	[ "$out" = EPERM ] || { echo "# user namespace over init netns: $out"; ret=1; }
	[ "$(cat $MAXTW)" = "$before" ] || ret=1
	# Root of a container (own userns and netns) changes its own netns only.
	out=$(unshare -U -r -n -- sh -c \
		"echo 77 > $SYSFS/max_tw_buckets && cat $MAXTW")
	[ "$out" = 77 ] || { echo "# container root: $out"; ret=1; }
	[ "$(cat $MAXTW)" = "$before" ] || ret=1
	return $ret
}

# Root of a user namespace that maps an unprivileged uid: the files belong
# to global root, so the VFS refuses the write before the module sees it.
# Inside a user namespace the sysctl is the interface; it works, and the
# host's value stays.
check_container_root() {
	local before out

	before=$(cat $MAXTW)
	if ! setpriv --reuid 1000 --regid 1000 --clear-groups -- \
		unshare -U -r -n -- true 2>/dev/null; then
		SKIP_REASON="uid 1000 cannot create a user namespace here"
		return $ksft_skip
	fi
	out=$(setpriv --reuid 1000 --regid 1000 --clear-groups -- \
		unshare -U -r -n -- sh -c "$HERE/write_once $SYSFS/max_tw_buckets $(hex 77);
			echo 78 > $MAXTW && cat $MAXTW")
	echo "# uid 1000 as container root: sysfs and sysctl give:" $out
	[ "$out" = "EACCES
78" ] && [ "$(cat $MAXTW)" = "$before" ]
}

check_params() {
	local before reuse ret=0

	before=$(cat $MAXTW)
	reuse=$(cat $REUSE)
	rmmod tcpstates || return 1
	insmod "$TCPSTATES_KO" max_tw_buckets=5000 tw_reuse=1 || ret=1
	[ "$(cat $MAXTW)" = 5000 ] && [ "$(cat $REUSE)" = 1 ] || ret=1
	rmmod tcpstates || ret=1
	# Values persist after rmmod, like any sysctl write.
	[ "$(cat $MAXTW)" = 5000 ] || ret=1
	if insmod "$TCPSTATES_KO" max_tw_buckets=-5 2>/dev/null; then
		ret=1
		rmmod tcpstates
	fi
	dmesg | tail -n 5 | grep -q 'tcpstates: max_tw_buckets=-5: expected an integer' || ret=1
	[ ! -e /proc/tcpstates ] || ret=1
	if insmod "$TCPSTATES_KO" max_tw_buckets=+5 2>/dev/null; then
		ret=1
		rmmod tcpstates
	fi
	if insmod "$TCPSTATES_KO" tw_reuse=3 2>/dev/null; then
		ret=1
		rmmod tcpstates
	fi
	[ "$(cat $REUSE)" = 1 ] || ret=1
	echo "$before" > $MAXTW
	echo "$reuse" > $REUSE
	insmod "$TCPSTATES_KO" || ret=1
	return $ret
}

setup_ns A B || exit 1
check_mirror "$A"
log_test $? "max_tw_buckets and tw_reuse mirror the sysctls both ways, per netns"
check_tw_count "$B"
log_test $? "tw_count equals sockstat tw and /proc/tcpstates"
check_limit "$A"
log_test $? "max_tw_buckets=10 holds TIME_WAIT at 10, overflow counted"
check_bad_inputs "$B" $SYSFS/max_tw_buckets $MAXTW
log_test $? "malformed max_tw_buckets writes fail with EINVAL, change nothing"
check_bad_inputs "$B" $SYSFS/tw_reuse $REUSE
log_test $? "malformed tw_reuse writes fail with EINVAL, change nothing"
check_reuse_range "$B"
log_test $? "tw_reuse takes 0, 1, 2 only"
check_eperm
log_test $? "writes without CAP_NET_ADMIN over the netns fail with EPERM"
check_container_root
log_test $? "uid-mapped container root: sysfs EACCES, its sysctl works, host unchanged"
check_params
log_test $? "module parameters set the initial netns; bad ones fail the load"
ksft_exit
