#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The listener table, wherever the kernel keeps it: 6.1+ walks lhash2,
# 5.10 its nulls-terminated listening_hash (5.10's lhash2 is a plain
# hlist: walking it as a nulls list Oopses on the first read).  Enough
# listeners to fill every bucket of either, IPv4 and IPv6, SO_REUSEPORT
# groups (added at a chain's tail on 5.10), in two namespaces that share
# the table: each sees exactly its own, as ss does.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)

# ready NS ARGS...: start "readers listen ARGS" in NS, wait for "ready".
ready() {
	local ns=$1 out

	shift
	out=$(mktemp)
	ip netns exec "$ns" "$HERE/readers" listen "$@" > "$out" &
	defer kill $!
	for _ in $(seq 100); do
		grep -q ready "$out" && return 0
		sleep 0.2
	done
	return 1
}

# listen_matches NS V4 V6: the LISTEN line and ss -tln agree on both.
listen_matches() {
	local ns=$1 v4 v6 ss4 ss6

	v4=$(tcpstates_field "$ns" LISTEN 2)
	v6=$(tcpstates_field "$ns" LISTEN 3)
	ss4=$(ip netns exec "$ns" ss -Htln -f inet | wc -l)
	ss6=$(ip netns exec "$ns" ss -Htln -f inet6 | wc -l)
	echo "# $ns: LISTEN $v4 $v6, ss $ss4 $ss6, expected $2 $3"
	[ "$v4" = "$2" ] && [ "$v6" = "$3" ] && [ "$ss4" = "$2" ] && [ "$ss6" = "$3" ]
}

setup_ns A B || exit 1
ready "$A" 300 21000 || exit 1
ready "$A" 100 22000 6 || exit 1
ready "$B" 50 21000 || exit 1

listen_matches "$A" 300 200
log_test $? "300 IPv4 and 200 IPv6 (SO_REUSEPORT) listeners counted exactly"
listen_matches "$B" 50 0
log_test $? "a second netns on the same ports sees only its own 50"
# The ports view agrees: one "in" row per listening port.
rows=$(ip netns exec "$A" awk '$1 == "in"' /proc/tcpstates_ports | wc -l)
echo "# $A: $rows in rows"
[ "$rows" = 400 ]
log_test $? "/proc/tcpstates_ports has an in row for each of the 400 ports"
ksft_exit
