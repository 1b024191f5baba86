#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /proc/tcpstates_all: every netns in one pass, each row equal to what
# that netns's own /proc/tcpstates says; the host administrator's only.
# /proc/tcpstates_ports: a leaking client's CLOSE_WAITs by server port.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
CHILD_EHASH=/proc/sys/net/ipv4/tcp_child_ehash_entries
# Private ehash tables came with 6.1; before, every netns shares one.
PRIVATE=
[ -w $CHILD_EHASH ] && PRIVATE=1
NR_NS=20
NSES=()

# Populations differ per netns: i listeners' worth of connections.
populate() {
	local i ns

	for i in $(seq 1 $NR_NS); do
		# Every fifth netns gets a private ehash (6.1+).
		if [ $((i % 5)) -eq 0 ] && [ -n "$PRIVATE" ]; then
			echo 256 > $CHILD_EHASH
		fi
		setup_ns "NS$i" || return 1
		[ -z "$PRIVATE" ] || echo 0 > $CHILD_EHASH
		eval "ns=\$NS$i"
		NSES+=("$ns")
		hold "$ns" estab "$i" || return 1
		ip netns exec "$ns" "$HERE/tcpgen" -6 tw $((2 * i)) || return 1
		if [ $((i % 3)) -eq 0 ]; then
			hold "$ns" leak 3 || return 1
		fi
	done
}

# The row /proc/tcpstates_all should have for NS, from its own file.
expected_row() {
	ip netns exec "$1" awk '
		$1 == "netns" { ino = $2 }
		NF == 3 && $2 ~ /^[0-9]+$/ && $1 ~ /^[A-Z_0-9]+$/ {
			row = row " " ($2 + $3)
		}
		$1 == "tw_count" { tw = $2 }
		$1 == "max_tw_buckets" { max = $2 }
		END { printf "netns %s%s tw_count %s max_tw_buckets %s\n", ino, row, tw, max }
	' /proc/tcpstates
}

check_rows_once() {
	local ns want got ino ret=0

	[ ${#NSES[@]} -eq $NR_NS ] || return 1
	[ "$(grep -c '^netns [0-9]' /proc/tcpstates_all)" -ge $NR_NS ] || ret=1
	for ns in "${NSES[@]}"; do
		want=$(expected_row "$ns")
		ino=$(echo "$want" | cut -d' ' -f2)
		got=$(grep "^netns $ino " /proc/tcpstates_all)
		if [ "$want" != "$got" ]; then
			echo "# $ns: want '$want'"
			echo "# $ns: got  '$got'"
			ret=1
		fi
	done
	# The private tables are there, and walked: the fifth netns has 5
	# established pairs in a table of its own.
	[ -z "$PRIVATE" ] ||
		[ "$(ip netns exec "${NSES[4]}" cat /proc/sys/net/ipv4/tcp_ehash_entries)" = 256 ] ||
		ret=1
	return $ret
}

# TIME_WAITs expire 60 s after they were made, possibly between the two
# reads of a comparison on a slow (debug, emulated) kernel: try again.
check_rows() {
	local i

	for i in 1 2 3; do
		check_rows_once && return 0
		sleep 1
	done
	return 1
}

check_perm() {
	local ret=0

	setpriv --bounding-set=-net_admin -- cat /proc/tcpstates_all \
		>/dev/null 2>&1 && { echo "# opened without CAP_NET_ADMIN"; ret=1; }
	ip netns exec "${NSES[0]}" cat /proc/tcpstates_all >/dev/null 2>&1 &&
		{ echo "# opened from a child netns"; ret=1; }
	unshare -U -r -- cat /proc/tcpstates_all >/dev/null 2>&1 &&
		{ echo "# opened from a child user namespace"; ret=1; }
	cat /proc/tcpstates_all >/dev/null || ret=1
	return $ret
}

check_ports() {
	local ns want got

	setup_ns P || return 1
	ns=$P
	hold "$ns" -p 3306 leak 5 || return 1
	hold "$ns" -p 8080 estab 2 || return 1
	sleep 0.2
	got=$(ip netns exec "$ns" sed -n '4,$p' /proc/tcpstates_ports)
	want=$(printf '%s\n' \
		"in 3306 0 0 0 0 5 0 0 0 0 1 0" \
		"in 8080 2 0 0 0 0 0 0 0 0 1 0" \
		"out 3306 0 0 0 0 0 0 0 5 0 0 0" \
		"out 8080 2 0 0 0 0 0 0 0 0 0 0")
	[ "$got" = "$want" ] && return 0
	echo "# want:"; echo "$want" | sed 's/^/#   /'
	echo "# got:"; echo "$got" | sed 's/^/#   /'
	return 1
}

populate
log_test $? "populate $NR_NS netns${PRIVATE:+, every fifth with a private ehash}"
if [ -z "$PRIVATE" ]; then
	SKIP_REASON="no tcp_child_ehash_entries (private ehash came with 6.1)"
	log_test $ksft_skip "namespaces with a private ehash are walked once each"
fi
sleep 0.5
check_rows
log_test $? "every /proc/tcpstates_all row equals that netns's /proc/tcpstates"
check_perm
log_test $? "/proc/tcpstates_all: EPERM without CAP_NET_ADMIN or from a child netns"
check_ports
log_test $? "/proc/tcpstates_ports: leaked CLOSE_WAITs as out 3306, FIN_WAIT2 as in 3306"
ksft_exit
