#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# /proc/tcpstates_transitions: scripted populations whose transitions are
# known exactly, in a netns of their own; the deltas between two reads
# must be the script's, pair by pair and family by family, every other
# pair unchanged.  Another netns sees none of them.  The same for
# /proc/tcpstates_transitions_ports, by service port.
#
# TR_PIN=1 (pin_transitions.sh): the same populations read from the files
# "tcpstates pin" leaves in bpffs, whose fentry and fexit hooks count
# without the module.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
TR=/proc/tcpstates_transitions
TRP=/proc/tcpstates_transitions_ports
if [ -n "${TR_PIN:-}" ]; then
	PINS=$(mktemp -d)
	defer rmdir "$PINS"
	defer umount "$PINS"
	if ! "$HERE/tcpstates" pin "$PINS" > "$PINS.err" 2>&1; then
		SKIP_REASON=$(grep -v 'instructions verified' "$PINS.err" | head -n 1)
		rm -f "$PINS.err"
		log_test $ksft_skip "tcpstates pin"
		ksft_exit
		exit
	fi
	defer "$HERE/tcpstates" unpin "$PINS"
	sed 's/^/# /' "$PINS.err"
	rm -f "$PINS.err"
	TR=$PINS/tcpstates_transitions
	TRP=$PINS/tcpstates_transitions_ports
fi
PAIRS="CLOSE:SYN_SENT SYN_SENT:ESTABLISHED SYN_SENT:SYN_RECV SYN_SENT:CLOSE
CLOSE:LISTEN LISTEN:SYN_RECV LISTEN:CLOSE SYN_RECV:ESTABLISHED
SYN_RECV:FIN_WAIT1 SYN_RECV:CLOSE ESTABLISHED:FIN_WAIT1 ESTABLISHED:CLOSE_WAIT
ESTABLISHED:CLOSE FIN_WAIT1:FIN_WAIT2 FIN_WAIT1:CLOSING FIN_WAIT1:TIME_WAIT
FIN_WAIT1:CLOSE FIN_WAIT2:TIME_WAIT FIN_WAIT2:CLOSE CLOSING:TIME_WAIT
CLOSING:CLOSE TIME_WAIT:CLOSE CLOSE_WAIT:LAST_ACK CLOSE_WAIT:CLOSE
LAST_ACK:CLOSE"

if [ ! -r "$TR" ]; then
	echo "# SKIP: no $TR (module not loaded)"
	exit $ksft_skip
fi

grammar() {
	ip netns exec "$1" awk -v ino="$2" -v pairs="$PAIRS" '
		BEGIN { n = split(pairs, p, /[ \n]+/) }
		NR == 1 { ok = $0 == "tcpstates_transitions 1"; next }
		NR == 2 { ok = ok && $0 == "netns " ino; next }
		NR == 3 { ok = ok && $0 == "from to ipv4 ipv6"; next }
		{
			k = $1 ":" $2
			ok = ok && NF == 4 && k == p[NR - 3]
			ok = ok && $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/
		}
		END { exit !(ok && NR == n + 3) }' "$TR"
}

# pgrammar NS INO: the by-port file's header, its rows in group order
# ("in" before "out", by port), every cell a count, "other -" last.
pgrammar() {
	ip netns exec "$1" awk -v ino="$2" '
		BEGIN { last = -1 }
		NR == 1 { ok = $0 == "tcpstates_transitions_ports 1"; next }
		NR == 2 { ok = ok && $0 == "netns " ino; next }
		NR == 3 { ok = ok && $0 == "direction port SYN_RECV CLOSE_WAIT TIME_WAIT"; next }
		{
			ok = ok && NF == 5 && !other
			ok = ok && $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/
			if ($1 == "other") { ok = ok && $2 == "-"; other = 1; next }
			k = ($1 == "out") * 65536 + $2
			ok = ok && $1 ~ /^(in|out)$/ && $2 ~ /^[0-9]+$/ && $2 < 65536
			ok = ok && k > last
			last = k
		}
		END { exit !(ok && other) }' "$TRP"
}

# snap NS FILE: a read of NS's file, and of its by-port file in FILE.p.
snap() {
	ip netns exec "$1" cat "$TR" > "$2"
	ip netns exec "$1" cat "$TRP" > "$2.p"
}

# pdeltas BEFORE AFTER: "DIRECTION PORT D_SYN_RECV D_CLOSE_WAIT D_TIME_WAIT"
# for each by-port row that changed.
pdeltas() {
	awk 'NR == FNR { if (FNR > 3) a[$1 " " $2] = $3 " " $4 " " $5; next }
	     FNR > 3 {
		split(a[$1 " " $2], b)
		if ($3 != b[1] || $4 != b[2] || $5 != b[3])
			print $1, $2, $3 - b[1], $4 - b[2], $5 - b[3] }' "$1.p" "$2.p" | sort
}

# deltas BEFORE AFTER: "FROM:TO D4 D6" for each pair that changed, but
# the pairs $IGNORE names.
deltas() {
	awk -v skip=" ${IGNORE:-} " '
	     NR == FNR { if (FNR > 3) { a[$1 ":" $2] = $3; b[$1 ":" $2] = $4 }; next }
	     FNR > 3 && $3 != "-" && !index(skip, " " $1 ":" $2 " ") &&
	     ($3 != a[$1 ":" $2] || $4 != b[$1 ":" $2]) {
		print $1 ":" $2, $3 - a[$1 ":" $2], $4 - b[$1 ":" $2] }' "$1" "$2" | sort
}

# expect BEFORE AFTER "FROM:TO D4 D6"...: the changes, no more, no fewer.
expect() {
	local before=$1 after=$2 want got

	shift 2
	want=$(printf '%s\n' "$@" | sed '/^$/d' | sort)
	got=$(${DELTAS:-deltas} "$before" "$after")
	[ "$got" = "$want" ] && return 0
	echo "# want: ${want//$'\n'/, }"
	echo "# got:  ${got//$'\n'/, }"
	return 1
}

W=$(mktemp -d)
defer rm -rf "$W"
setup_ns A B || exit 1
ino=$(ip netns exec "$A" readlink /proc/self/ns/net | tr -cd 0-9)
grammar "$A" "$ino"
log_test $? "grammar: header, the 25 pairs in order, every one hooked (a count, never -)"
pgrammar "$A" "$ino"
log_test $? "by port: header, rows in group order, every column hooked, other last"

snap "$B" "$W/b0"
snap "$A" "$W/0"
awk 'NR > 3 && !/ 0 0$/ && !/ - -$/ { bad = 1 } END { exit bad || NR < 4 }' "$W/0" &&
	[ "$(tail -n +4 "$W/0.p")" = "other - 0 0 0" ]
log_test $? "a new netns starts at 0, and with no row by port"

# Active closes: the client's close() orphans it in FIN_WAIT2, a timewait
# sock that then takes the server's FIN (FIN_WAIT2 -> TIME_WAIT); the
# full socket's hand-over CLOSE is not a close.
ip netns exec "$A" "$HERE/tcpgen" -p 7101 tw 5
snap "$A" "$W/1"
expect "$W/0" "$W/1" "CLOSE:SYN_SENT 5 0" "SYN_SENT:ESTABLISHED 5 0" \
	"LISTEN:SYN_RECV 5 0" "SYN_RECV:ESTABLISHED 5 0" "ESTABLISHED:FIN_WAIT1 5 0" \
	"FIN_WAIT1:FIN_WAIT2 5 0" "FIN_WAIT2:TIME_WAIT 5 0" \
	"ESTABLISHED:CLOSE_WAIT 5 0" "CLOSE_WAIT:LAST_ACK 5 0" \
	"LAST_ACK:CLOSE 5 0" "CLOSE:LISTEN 1 0" "LISTEN:CLOSE 1 0"
log_test $? "5 active closes, v4: connect, accept, FIN_WAIT2 -> TIME_WAIT, LAST_ACK -> CLOSE"
DELTAS=pdeltas expect "$W/0" "$W/1" "in 7101 5 5 0" "out 7101 0 0 5"
log_test $? "by port: the server's SYN_RECV and CLOSE_WAIT in 7101, the client's TIME_WAIT out 7101"

ip netns exec "$A" "$HERE/tcpgen" -6 -p 7102 tw 3
snap "$A" "$W/2"
expect "$W/1" "$W/2" "CLOSE:SYN_SENT 0 3" "SYN_SENT:ESTABLISHED 0 3" \
	"LISTEN:SYN_RECV 0 3" "SYN_RECV:ESTABLISHED 0 3" "ESTABLISHED:FIN_WAIT1 0 3" \
	"FIN_WAIT1:FIN_WAIT2 0 3" "FIN_WAIT2:TIME_WAIT 0 3" \
	"ESTABLISHED:CLOSE_WAIT 0 3" "CLOSE_WAIT:LAST_ACK 0 3" \
	"LAST_ACK:CLOSE 0 3" "CLOSE:LISTEN 0 1" "LISTEN:CLOSE 0 1"
log_test $? "3 active closes, v6: the same in the ipv6 column"
DELTAS=pdeltas expect "$W/1" "$W/2" "in 7102 3 3 0" "out 7102 0 0 3"
log_test $? "by port, v6: in 7102 and out 7102"

# From here on the 8 TIME_WAIT above may end (60 s) between two reads
# of a slow guest: TIME_WAIT -> CLOSE is checked in a netns of its own.
IGNORE=TIME_WAIT:CLOSE

# Refused: a SYN to a port nobody listens on gets a RST.
ip netns exec "$A" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2>/dev/null
ip netns exec "$A" bash -c 'exec 3<>/dev/tcp/::1/9' 2>/dev/null
snap "$A" "$W/3"
expect "$W/2" "$W/3" "CLOSE:SYN_SENT 1 1" "SYN_SENT:CLOSE 1 1"
log_test $? "a refused connect per family: CLOSE -> SYN_SENT -> CLOSE"

# A leak: the server closes, the client never does.  With a 2 s
# tcp_fin_timeout the server's orphan ends as a FIN_WAIT2 timewait sock
# whose timer fires (FIN_WAIT2 -> CLOSE); the client's late close then
# meets a RST (LAST_ACK -> CLOSE).
ip netns exec "$A" sysctl -qw net.ipv4.tcp_fin_timeout=2
# A guest slower than the 2 s may see some end before the first read:
# their ends are checked from before the leak.
LEAK=("CLOSE:SYN_SENT 4 0" "SYN_SENT:ESTABLISHED 4 0" "LISTEN:SYN_RECV 4 0"
      "SYN_RECV:ESTABLISHED 4 0" "ESTABLISHED:FIN_WAIT1 4 0"
      "FIN_WAIT1:FIN_WAIT2 4 0" "ESTABLISHED:CLOSE_WAIT 4 0" "CLOSE:LISTEN 1 0")
hold "$A" -p 7103 leak 4
snap "$A" "$W/4"
IGNORE="TIME_WAIT:CLOSE FIN_WAIT2:CLOSE CLOSE_WAIT:CLOSE" expect "$W/3" "$W/4" "${LEAK[@]}"
log_test $? "4 leaked connections: the server in FIN_WAIT2, the client in CLOSE_WAIT"
for _ in $(seq 100); do
	ip netns exec "$A" ss -tanH state fin-wait-2 | grep -q . || break
	sleep 0.1
done
snap "$A" "$W/5"
# An orphan whose FIN was acked while close() still held it is left a
# full socket on the keepalive timer, which resets it instead (with a
# fin_timeout under 60 s): FIN_WAIT2 -> CLOSE all the same, and its
# client CLOSE_WAIT -> CLOSE.
k=$(deltas "$W/3" "$W/5" | awk '$1 == "CLOSE_WAIT:CLOSE" { print $2 }')
k=${k:-0}
expect "$W/3" "$W/5" "${LEAK[@]}" "FIN_WAIT2:CLOSE 4 0" \
	"$([ "$k" = 0 ] || echo "CLOSE_WAIT:CLOSE $k 0")"
log_test $? "their FIN_WAIT2 timewait socks time out: FIN_WAIT2 -> CLOSE, not TIME_WAIT ($k reset)"
DELTAS=pdeltas expect "$W/3" "$W/5" "in 7103 4 0 0" "out 7103 0 4 0"
log_test $? "by port: the leak's CLOSE_WAIT is the clients', out 7103"

# shellcheck disable=SC2046
kill $(ip netns pids "$A") 2>/dev/null
# The TIME_WAIT sockets of the first populations stay their 60 s.
for _ in $(seq 100); do
	ip netns exec "$A" ss -tanH state all exclude time-wait | grep -q . || break
	sleep 0.1
done
snap "$A" "$W/6"
k=$((4 - k))
expect "$W/5" "$W/6" "LISTEN:CLOSE 1 0" \
	"$([ $k = 0 ] || echo "CLOSE_WAIT:LAST_ACK $k 0")" "$([ $k = 0 ] || echo "LAST_ACK:CLOSE $k 0")"
log_test $? "the clients close at last: CLOSE_WAIT -> LAST_ACK, a RST, LAST_ACK -> CLOSE"

# into SUM: the by-port file's totals of moves into SYN_RECV, CLOSE_WAIT
# and TIME_WAIT; from the pairs' file with "main".
into() {
	if [ "$1" = main ]; then
		awk 'NR > 3 && $1 $2 == "LISTENSYN_RECV" { s += $3 + $4 }
		     NR > 3 && $2 == "CLOSE_WAIT" { c += $3 + $4 }
		     NR > 3 && $2 == "TIME_WAIT" { t += $3 + $4 }
		     END { print s + 0, c + 0, t + 0 }' "$2"
	else
		awk 'NR > 3 { s += $3; c += $4; t += $5 }
		     END { print s + 0, c + 0, t + 0 }' "$2.p"
	fi
}
[ "$(into main "$W/6")" = "$(into ports "$W/6")" ]
log_test $? "by port: the rows add up to the pairs into SYN_RECV, CLOSE_WAIT, TIME_WAIT ($(into ports "$W/6"))"

# A timewait sock ended by reuse: with one local port to choose from, a
# second connect to the same service takes the port over from the first
# one's TIME_WAIT (tcp_tw_reuse, loopback, a second later).
IGNORE=
setup_ns C || exit 1
ip netns exec "$C" sysctl -qw net.ipv4.ip_local_port_range="40000 40000"
ip netns exec "$C" "$HERE/tcpgen" -p 5555 tw 1
snap "$C" "$W/c0"
sleep 2
ip netns exec "$C" "$HERE/tcpgen" -p 5555 tw 1
snap "$C" "$W/c1"
expect "$W/c0" "$W/c1" "CLOSE:SYN_SENT 1 0" "SYN_SENT:ESTABLISHED 1 0" \
	"LISTEN:SYN_RECV 1 0" "SYN_RECV:ESTABLISHED 1 0" "ESTABLISHED:FIN_WAIT1 1 0" \
	"FIN_WAIT1:FIN_WAIT2 1 0" "FIN_WAIT2:TIME_WAIT 1 0" \
	"ESTABLISHED:CLOSE_WAIT 1 0" "CLOSE_WAIT:LAST_ACK 1 0" \
	"LAST_ACK:CLOSE 1 0" "CLOSE:LISTEN 1 0" "LISTEN:CLOSE 1 0" \
	"TIME_WAIT:CLOSE 1 0"
log_test $? "a TIME_WAIT taken over by a new connection on its port: TIME_WAIT -> CLOSE"

# Request socks that end unanswered (SYN_RECV -> CLOSE), one way each:
# spoofed SYNs from netns E whose SYN-ACKs E answers with a RST (their
# sources are local there, with no socket), drops (routed to E, which
# does not forward: the timer gives up, tcp_synack_retries=1), or never
# gets (on-link, ARP fails: the ICMP host unreachable drops them, v4
# only; v6 keeps its requests).
setup_ns D E || exit 1
D_() { ip netns exec "$D" "$@"; }
E_() { ip netns exec "$E" "$@"; }
D_ ip link add v0 address 02:00:00:00:09:01 type veth \
	peer name v1 address 02:00:00:00:09:02 netns "$E"
D_ ip link set v0 up
E_ ip link set v1 up
D_ ip addr add 10.9.0.1/24 dev v0
D_ ip addr add fd00:9::1/64 dev v0 nodad
E_ ip addr add 10.9.0.2/24 dev v1
E_ ip addr add fd00:9::2/64 dev v1 nodad
D_ ip neigh add 10.9.0.2 lladdr 02:00:00:00:09:02 dev v0 nud permanent
D_ ip neigh add fd00:9::2 lladdr 02:00:00:00:09:02 dev v0 nud permanent
E_ ip neigh add 10.9.0.1 lladdr 02:00:00:00:09:01 dev v1 nud permanent
E_ ip neigh add fd00:9::1 lladdr 02:00:00:00:09:01 dev v1 nud permanent
D_ ip route add 10.9.0.96/27 via 10.9.0.2
D_ ip route add 10.9.1.0/24 via 10.9.0.2
D_ ip route add fd00:9::100/120 via fd00:9::2
D_ ip route add fd00:9:1::/64 via fd00:9::2
E_ ip route add local 10.9.1.0/24 dev lo
E_ ip -6 route add local fd00:9:1::/64 dev lo
# syn_drop WHAT SRC DST PORT N D4 D6: N requests on a listener of PORT in
# D, ended as WHAT says before the listener closes; by port, "in PORT".
syn_drop() {
	local what=$1 d4=$6 d6=$7 ret=0

	snap "$D" "$W/d0"
	D_ "$HERE/churn" syn "$2" "$3" "$4" "$5" 60 "$E" > "$W/d.out" || ret=1
	snap "$D" "$W/d1"
	[ $ret = 0 ] || echo "# $what: $(head -n 1 "$W/d.out")"
	expect "$W/d0" "$W/d1" "CLOSE:LISTEN $((d4 > 0)) $((d6 > 0))" \
		"LISTEN:CLOSE $((d4 > 0)) $((d6 > 0))" \
		"LISTEN:SYN_RECV $d4 $d6" "SYN_RECV:CLOSE $d4 $d6" &&
		DELTAS=pdeltas expect "$W/d0" "$W/d1" "in $4 $((d4 + d6)) 0 0" &&
		[ $ret = 0 ]
}
syn_drop ICMP 10.9.0.50 10.9.0.1 7000 3 3 0
log_test $? "3 requests whose SYN-ACKs fail ARP, v4: LISTEN -> SYN_RECV -> CLOSE"
syn_drop RST 10.9.1.100 10.9.0.1 7001 3 3 0 &&
	syn_drop RST fd00:9:1::100 fd00:9::1 7002 2 0 2
log_test $? "requests reset by the peer (3 v4, 2 v6): LISTEN -> SYN_RECV -> CLOSE"
D_ sysctl -qw net.ipv4.tcp_synack_retries=1
syn_drop timeout 10.9.0.100 10.9.0.1 7003 3 3 0 &&
	syn_drop timeout fd00:9::100 fd00:9::1 7004 2 0 2
log_test $? "requests timed out (synack_retries=1; 3 v4, 2 v6): LISTEN -> SYN_RECV -> CLOSE"

# More groups than rows: 131 services, each a connection, 262 groups;
# the first 127 keep a row, the rest go to "other", nothing is lost.
setup_ns F || exit 1
ip netns exec "$F" "$HERE/tcpgen" -p 7200 -m 131 tw 1
ip netns exec "$F" cat "$TRP" > "$W/f.p"
awk 'NR > 3 && $1 != "other" { rows++ }
     NR > 3 { s += $3; c += $4; t += $5; if ($1 == "other") o = $3 + $4 + $5 }
     END { print rows, s, c, t, o }' "$W/f.p" > "$W/f.sum"
read -r rows s c t o < "$W/f.sum"
[ "$rows $s $c $t" = "127 131 131 131" ] && [ "$o" -gt 0 ]
log_test $? "by port, 262 groups: 127 rows, the rest in other ($o), every move counted ($s $c $t)"

snap "$B" "$W/b1"
expect "$W/b0" "$W/b1" && DELTAS=pdeltas expect "$W/b0" "$W/b1"
log_test $? "another netns sees none of them"
ksft_exit
