#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading the module while readers hold /proc/tcpstates open must not
# oops: the reader gets EOF or an error, and a reload works again.  Nor
# while the transitions' hooks fire: connections churn and namespaces,
# with their timewait socks, die under the reloads.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)

check_reload_with_open_file() {
	local ret=0

	exec 3</proc/tcpstates || return 1
	head -n 1 <&3 >/dev/null || ret=1
	rmmod tcpstates || ret=1
	# The read must fail or return nothing; it must not crash.
	if [ -n "$(cat <&3 2>/dev/null)" ]; then
		ret=1
	fi
	exec 3<&-
	[ ! -e /proc/tcpstates ] || ret=1
	insmod "$TCPSTATES_KO" || ret=1
	grep -q '^tcpstates 1$' /proc/tcpstates || ret=1
	return $ret
}

check_reload_loop() {
	local i pids=()

	for i in 1 2 3 4; do
		(while :; do
			cat /proc/tcpstates /proc/tcpstates_ports \
			    /proc/tcpstates_close_wait \
			    /proc/tcpstates_all /proc/tcpstates_ages \
			    /proc/tcpstates_transitions \
			    /proc/tcpstates_transitions_ports \
			    >/dev/null 2>&1
		done) &
		pids+=($!)
	done
	for i in $(seq 20); do
		rmmod tcpstates || break
		insmod "$TCPSTATES_KO" || break
	done
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null
	[ "$i" -eq 20 ] && grep -q '^tcpstates 1$' /proc/tcpstates
}

# Namespaces made, filled with TIME_WAIT and FIN_WAIT2 timewait socks,
# and deleted, in a loop; the hooks fire as the module comes and goes.
check_reload_under_churn() {
	local i pid ns=rmmod-churn-$$ reloads=0

	(for i in $(seq 200); do
		ip netns add "$ns$i" && ip -n "$ns$i" link set lo up &&
			ip netns exec "$ns$i" "$HERE/tcpgen" tw 10 &&
			ip netns exec "$ns$i" "$HERE/tcpgen" -6 tw 10
		ip netns del "$ns$i"
	done) &
	pid=$!
	for _ in $(seq 10); do
		cat /proc/tcpstates_transitions >/dev/null 2>&1
		rmmod tcpstates || break
		insmod "$TCPSTATES_KO" || break
		reloads=$((reloads + 1))
	done
	kill "$pid"
	wait "$pid" 2>/dev/null
	# The one the loop was in when killed: 200 execs of ip take a minute
	# in the debug guest.
	for i in $(ip netns list | awk -v p="$ns" 'index($1, p) == 1 { print $1 }'); do
		ip netns del "$i"
	done
	[ "$reloads" -eq 10 ] && grep -q '^tcpstates_transitions 1$' /proc/tcpstates_transitions
}

check_reload_with_open_file
log_test $? "rmmod while a reader holds /proc/tcpstates open"
check_reload_loop
log_test $? "rmmod/insmod 20 times under 4 concurrent readers"
check_reload_under_churn
log_test $? "rmmod/insmod 10 times while connections close and namespaces die"
ksft_exit
