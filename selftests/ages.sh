#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /proc/tcpstates_ages: sockets made seconds apart land in their age
# columns, and where ss shows them (lastrcv, the TIME_WAIT timer); each
# row sums to /proc/tcpstates's count of its state; CLOSE_WAIT ages grow;
# another netns sees none of them.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
AGES=/proc/tcpstates_ages
# The columns, as the file's header names them.
COLS="<1s <10s <1m <10m <1h <1d >=1d"

# syn_sent NS: two connects (v4, v6) into a veth whose peer has no
# address, so nobody answers: SYN_SENT for the SYN retry period.
syn_sent() {
	local ns=$1 i

	ip -n "$ns" link add va type veth peer name vb &&
		ip -n "$ns" link set va up &&
		ip -n "$ns" link set vb up &&
		ip -n "$ns" addr add 10.9.0.1/24 dev va &&
		ip -n "$ns" addr add fd00:9::1/64 dev va nodad &&
		ip -n "$ns" neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev va nud permanent &&
		ip -n "$ns" neigh add fd00:9::2 lladdr 02:00:00:00:00:02 dev va nud permanent ||
		return 1
	for i in 10.9.0.2 fd00:9::2; do
		ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$i/80" 2>/dev/null &
		defer kill $!
	done
	for i in $(seq 50); do
		[ "$(tcpstates_field "$ns" SYN_SENT 2)$(tcpstates_field "$ns" SYN_SENT 3)" = 11 ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# row NS STATE: STATE's seven columns in NS's file.
row() {
	ip netns exec "$1" awk -v s="$2" '$1 == s { $1 = ""; print substr($0, 2) }' $AGES
}

# expect NS STATE WANT: STATE's row is WANT, else say both.
expect() {
	local got

	got=$(row "$1" "$2")
	[ "$got" = "$3" ] && return 0
	echo "# $2: want '$3', got '$got'"
	return 1
}

check_grammar() {
	local ns=$1

	ip netns exec "$ns" awk -v cols="$COLS" -v ino="$2" '
		BEGIN {
			split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING", nm)
		}
		NR == 1 { ok = $0 == "tcpstates_ages 1"; next }
		NR == 2 { ok = ok && $0 == "netns " ino; next }
		NR == 3 { ok = ok && $0 == "state " cols; next }
		{
			ok = ok && NF == 8 && $1 == nm[NR - 3]
			for (i = 2; i <= 8; i++)
				ok = ok && ($1 == "LISTEN" ? $i == "-" : $i ~ /^[0-9]+$/)
		}
		END { exit !(ok && NR == 14) }' $AGES
}

# sums NS: per state, the row's total beside /proc/tcpstates's v4 + v6,
# LISTEN left out (a listener has no age).
sums() {
	local ns=$1 ages states

	ages=$(ip netns exec "$ns" awk 'NR > 3 && $1 != "LISTEN" {
		t = 0; for (i = 2; i <= 8; i++) t += $i; print $1, t }' $AGES)
	states=$(ip netns exec "$ns" awk 'NF == 3 && $2 ~ /^[0-9]+$/ &&
		$1 ~ /^[A-Z_0-9]+$/ && $1 != "LISTEN" { print $1, $2 + $3 }' /proc/tcpstates)
	[ "$ages" = "$states" ] && return 0
	echo "# ages:      ${ages//$'\n'/, }"
	echo "# tcpstates: ${states//$'\n'/, }"
	return 1
}

# A race with the walk (a TIME_WAIT expiring) can differ once: retry.
check_sums() {
	local i

	for i in 1 2 3; do
		sums "$1" && return 0
		sleep 1
	done
	return 1
}

# ss_columns NS STATE: ss's view of STATE's sockets, as "N M": N under
# 10 s, M from 10 s to a minute (lastrcv for full sockets, 60 s less the
# timer left for TIME_WAIT).
ss_columns() {
	ip netns exec "$1" ss -tinoOH state "$2" | awk -v st="$2" '
		# ss prints a timer as [Nmin][N.]NNNms or [Nmin]Nsec.
		function secs(t,  s) {
			s = 0
			if (match(t, /[0-9]+min/)) s += 60 * substr(t, RSTART, RLENGTH - 3)
			if (match(t, /[0-9]+sec/)) s += substr(t, RSTART, RLENGTH - 3)
			if (match(t, /[0-9]+\.[0-9]+ms/)) s += substr(t, RSTART, RLENGTH - 2)
			else if (match(t, /[0-9]+ms/)) s += substr(t, RSTART, RLENGTH - 2) / 1000
			return s
		}
		{
			# No lastrcv: ss leaves out a 0.
			ms = 0
			if (st == "time-wait") {
				if (!match($0, /timewait,[^,]*/)) next
				ms = (60 - secs(substr($0, RSTART + 9, RLENGTH - 9))) * 1000
			} else if (match($0, /lastrcv:[0-9]+/)) {
				ms = substr($0, RSTART + 8, RLENGTH - 8) + 0
			}
			if (ms < 10000) a++
			else if (ms < 60000) b++
		}
		END { print a + 0, b + 0 }'
}

# ages_columns NS STATE: the module's "under 10 s" and "10 s to 1 m".
ages_columns() {
	row "$1" "$2" | awk '{ print $1 + $2, $3 }'
}

agree_with_ss() {
	local ns=$1 ret=0 pair ss mod

	for pair in ESTABLISHED:established CLOSE_WAIT:close-wait TIME_WAIT:time-wait; do
		ss=$(ss_columns "$ns" "${pair#*:}")
		mod=$(ages_columns "$ns" "${pair%:*}")
		if [ "$ss" != "$mod" ]; then
			echo "# ${pair%:*}: ss '$ss', module '$mod' (under 10 s, 10 s to 1 m)"
			ret=1
		fi
	done
	return $ret
}

# close_wait_vs_ss NS INO: /proc/tcpstates_close_wait in NS (netns INO)
# against ss: its grammar, and a row a port with the count of ss's
# CLOSE_WAIT sockets and the oldest's age as ss's largest lastrcv, to a
# second either way (the two read moments apart).  Every CLOSE_WAIT socket
# here is a leaking client, so its row is "out" the server's port.
close_wait_vs_ss() {
	local ns=$1 ino=$2 mod ss

	mod=$(ip netns exec "$ns" cat /proc/tcpstates_close_wait) || return 1
	ss=$(ip netns exec "$ns" ss -tinoOH state close-wait | awk '{
		port = $4; sub(/.*:/, "", port)
		n[port]++
		ms = 0
		if (match($0, /lastrcv:[0-9]+/))
			ms = substr($0, RSTART + 8, RLENGTH - 8) + 0
		if (ms > old[port]) old[port] = ms
	} END { for (p in n) print "out", p, n[p], int(old[p] / 1000) }' | sort)
	echo "$mod" | sed 's/^/# /'
	echo "$mod" | awk -v ino="$ino" -v ss="$ss" '
		NR == 1 { ok = $0 == "tcpstates_close_wait 1" }
		NR == 2 { ok = ok && $0 == "netns " ino }
		NR == 3 { ok = ok && $0 == "direction port sockets oldest_seconds" }
		NR > 3 { rows[$1 " " $2] = $3 " " $4; nr++ }
		END {
			n = split(ss, want, "\n")
			if (ss == "") n = 0
			if (nr != n) ok = 0
			for (i = 1; i <= n; i++) {
				split(want[i], w, " ")
				split(rows[w[1] " " w[2]], got, " ")
				d = got[2] - w[4]
				if (got[1] != w[3] || d < -1 || d > 1) ok = 0
			}
			if (!ok) print "# ss says: " ss
			exit !ok
		}'
}

setup_ns A B || exit 1
ino=$(ip netns exec "$A" readlink /proc/self/ns/net | tr -cd 0-9)
check_grammar "$A" "$ino"
log_test $? "grammar: header, one row per state, LISTEN as -, the opener's netns"

# Phase one: 3 v4 ESTABLISHED pairs; 2 v6 leaked connections (CLOSE_WAIT
# on the client, the server's FIN_WAIT2 a timewait sock); 2 v4 request
# socks (SYN_RECV) whose clients are ESTABLISHED; 4 TIME_WAIT; 2 SYN_SENT.
t0=$(date +%s)
hold "$A" estab 3 &&
	hold "$A" -6 leak 2 &&
	hold "$A" synrecv 2 &&
	ip netns exec "$A" "$HERE/tcpgen" tw 4 &&
	syn_sent "$A"
log_test $? "phase one: 8 ESTABLISHED, 2 CLOSE_WAIT, 2 FIN_WAIT2, 2 SYN_RECV, 4 TIME_WAIT, 2 SYN_SENT"

# young FILE STATE COLS: STATE's sockets in the first COLS columns of
# FILE (a read of the file), and older ones.
young() {
	awk -v s="$2" -v n="$3" '$1 == s {
		for (i = 2; i <= 8; i++) if (i <= n + 1) a += $i; else b += $i
		print a + 0, b + 0 }' "$1"
}

# A slow guest (the debug kernel under TCG) can take over 10 s to make
# them: none may be older than the time since the first was made.
snap=$(mktemp)
defer rm -f "$snap"
ip netns exec "$A" cat $AGES >"$snap"
el=$(($(date +%s) - t0 + 1))
cols=2 bound="10 s"
[ $el -lt 10 ] || cols=3 bound="a minute"
ret=0
for want in ESTABLISHED:8 CLOSE_WAIT:2 FIN_WAIT2:2 SYN_RECV:2 TIME_WAIT:4 SYN_SENT:2; do
	got=$(young "$snap" "${want%:*}" $cols)
	[ "$got" = "${want#*:} 0" ] && continue
	echo "# ${want%:*}: want ${want#*:} under $bound and none older, got '$got'"
	ret=1
done
[ $ret -eq 0 ] || sed 's/^/# /' "$snap"
log_test $ret "new sockets are under $bound old (made in $el s), in every state"
check_sums "$A"
log_test $? "each row sums to /proc/tcpstates's count (v4 + v6), phase one"

sleep 11
hold "$A" -6 estab 2
ret=0
got=$(row "$A" ESTABLISHED | awk '{ print $1 + $2, $3, $4 + $5 + $6 + $7 }')
[ "$got" = "4 8 0" ] || { echo "# ESTABLISHED: want '4 8 0' (<10s, <1m, older), got '$got'"; ret=1; }
ip netns exec "$A" cat $AGES | sed 's/^/# /'
log_test $ret "11 s later: 8 ESTABLISHED in <1m, the 4 new ones under 10 s"

ret=0
expect "$A" CLOSE_WAIT "0 0 2 0 0 0 0" || ret=1
expect "$A" FIN_WAIT2 "0 0 2 0 0 0 0" || ret=1
expect "$A" TIME_WAIT "0 0 4 0 0 0 0" || ret=1
log_test $ret "CLOSE_WAIT aged from <10s to <1m; FIN_WAIT2 and TIME_WAIT timewait socks too"

ret=0
expect "$A" SYN_RECV "0 0 2 0 0 0 0" || ret=1
expect "$A" SYN_SENT "0 0 2 0 0 0 0" || ret=1
log_test $ret "SYN_RECV request socks (since the SYN) and SYN_SENT (since the first SYN) aged to <1m"

check_sums "$A"
log_test $? "each row sums to /proc/tcpstates's count (v4 + v6), phase two"

agree_with_ss "$A"
log_test $? "ESTABLISHED, CLOSE_WAIT, TIME_WAIT columns agree with ss -tio (lastrcv, timewait timer)"

ret=0
close_wait_vs_ss "$A" "$ino" || ret=1
old=$(ip netns exec "$A" awk 'NR == 4 { print $4 }' /proc/tcpstates_close_wait)
[ "${old:-0}" -ge 11 ] || { echo "# the oldest CLOSE_WAIT is ${old:-none} s old, made over 11 s ago"; ret=1; }
log_test $ret "tcpstates_close_wait: the leaking clients' row, their count and the oldest's age as ss -tio's lastrcv"

inob=$(ip netns exec "$B" readlink /proc/self/ns/net | tr -cd 0-9)
close_wait_vs_ss "$B" "$inob"
log_test $? "tcpstates_close_wait: another netns has no rows"

ret=0
for s in ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK CLOSING; do
	expect "$B" $s "0 0 0 0 0 0 0" || ret=1
done
expect "$B" LISTEN "- - - - - - -" || ret=1
log_test $ret "another netns sees none of them"
ksft_exit
