#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Everything at once for DURATION seconds (default 60): connection churn
# over loopback and over a veth between two netns, a spoofed SYN flood
# with syncookies toggled, four readers in four netns checking every read
# (of /proc/tcpstates and /proc/tcpstates_ages),
# netns created and destroyed (some with a private ehash) and read while
# they go, rmmod/insmod under open files, and sysfs writes good and bad.
# Then the counts must settle to equality with ss.  Kernel splats are
# caught by the runner (panic_on_warn, log scan).
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=${DURATION:-60}
STATS=$(mktemp -d)
defer rm -rf "$STATS"
END=$(($(date +%s) + DURATION))

alive() {
	[ "$(date +%s)" -lt "$END" ]
}

# A read is good when it parses and no count is negative or absurd.
check_read() {
	awk -v max=10000000 '
		NR == 1 && $0 != "tcpstates 1" { bad = 1 }
		NF == 3 && $1 ~ /^[A-Z][A-Z_0-9]+$/ {
			states++
			if ($2 !~ /^[0-9]+$/ || $3 !~ /^[0-9]+$/ || $2 > max || $3 > max)
				bad = 1
		}
		END { exit bad || (NR > 0 && states != 11) }'
}

# The same for /proc/tcpstates_ages: 11 rows of 7 counts, LISTEN's "-".
check_ages_read() {
	awk -v max=10000000 '
		NR == 1 && $0 != "tcpstates_ages 1" { bad = 1 }
		NR > 3 {
			rows++
			if (NF != 8) bad = 1
			for (i = 2; i <= 8; i++)
				if ($1 == "LISTEN" ? $i != "-" : $i !~ /^[0-9]+$/ || $i > max)
					bad = 1
		}
		END { exit bad || (NR > 0 && rows != 11) }'
}

# One loop inside the netns: entering it for every read would be the cost.
reader() {
	local ns=$1

	ip netns exec "$ns" bash -c "$(declare -f alive check_read check_ages_read)
		END=$END n=0 bad=0
		while alive; do
			# Absent while the module reloads: not a bad read.
			out=\$(cat /proc/tcpstates 2>/dev/null) || continue
			printf '%s\n' \"\$out\" | check_read || bad=\$((bad + 1))
			n=\$((n + 1))
			out=\$(cat /proc/tcpstates_ages 2>/dev/null) || continue
			printf '%s\n' \"\$out\" | check_ages_read || bad=\$((bad + 1))
			n=\$((n + 1))
		done
		echo \$n \$bad" > "$STATS/reader.$ns"
}

CHILD_EHASH=/proc/sys/net/ipv4/tcp_child_ehash_entries

netns_churn() {
	local n=0 ns

	while alive; do
		ns=stress-tmp-$n
		# Every other one with a private ehash, where the kernel has them.
		[ -w $CHILD_EHASH ] && [ $((n % 2)) -eq 0 ] && echo 128 > $CHILD_EHASH
		ip netns add "$ns"
		[ -w $CHILD_EHASH ] && echo 0 > $CHILD_EHASH
		ip -n "$ns" link set lo up
		# The reader holds the file open across the netns's deletion.
		ip netns exec "$ns" bash -c "exec 3</proc/tcpstates 4</proc/tcpstates_ages
			$HERE/churn loop 1 >/dev/null
			cat <&3 >/dev/null; cat <&4 >/dev/null; sleep 0.2
			cat <&3 >/dev/null; cat <&4 >/dev/null" 2>/dev/null &
		sleep 0.3
		ip netns del "$ns"
		wait $! 2>/dev/null
		n=$((n + 1))
	done
	echo "$n" > "$STATS/netns"
}

reloader() {
	local n=0

	while alive; do
		sleep 2
		exec 4</proc/tcpstates
		rmmod tcpstates 2>/dev/null && insmod "$TCPSTATES_KO" && n=$((n + 1))
		cat <&4 >/dev/null 2>&1
		exec 4<&-
	done
	echo "$n" > "$STATS/reloads"
}

sysfs_writer() {
	local ns=$1 v

	while alive; do
		for v in 5000 abc -1 2147483648 "" 7000; do
			ip netns exec "$ns" sh -c \
				"echo '$v' > $SYSFS/max_tw_buckets" 2>/dev/null
		done
		for v in 0 1 2 3; do
			ip netns exec "$ns" sh -c \
				"echo $v > $SYSFS/tw_reuse" 2>/dev/null
		done
	done
}

syncookie_toggle() {
	local ns=$1 v=0

	while alive; do
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_syncookies=$v
		v=$((2 - v))
		sleep 1
	done
}

setup() {
	setup_ns A B R1 R2 || return 1
	ip link add va netns "$A" type veth peer name vb netns "$B" || return 1
	ip -n "$A" addr add 10.7.0.1/24 dev va
	ip -n "$A" addr add fd00:7::1/64 dev va nodad
	ip -n "$B" addr add 10.7.0.2/24 dev vb
	ip -n "$B" addr add fd00:7::2/64 dev vb nodad
	ip -n "$A" link set va up
	ip -n "$B" link set vb up
	# Small listen queues overflow, so syncookies have work to do.
	ip netns exec "$A" sysctl -qw net.ipv4.tcp_max_syn_backlog=128
	sleep 1
}

# The load's figures, for the note: connections and reads.
report() {
	local f r n=0 bad=0

	for f in "$STATS"/reader.*; do
		read -r r b < "$f"
		n=$((n + r))
		bad=$((bad + b))
	done
	echo "# connections: $(cat "$STATS"/conn.* | awk '{ s += $2 } END { print s }')"
	echo "# reads: $n, bad reads: $bad"
	echo "# module reloads: $(cat "$STATS/reloads"), netns torn down: $(cat "$STATS/netns")"
	[ "$bad" -eq 0 ]
}


setup
log_test $? "set up two netns joined by a veth, and two reader netns"

JOBS=()

# start NAME CMD...: a load job in the background, named for the report.
start() {
	local name=$1

	shift
	"$@" &
	JOBS+=("$name:$!")
}

# Every job stops by itself at END; one still running a minute later hung.
stop_all() {
	local job name pid i ret=0

	sleep $((END - $(date +%s) > 0 ? END - $(date +%s) : 0))
	for job in "${JOBS[@]}"; do
		name=${job%%:*}
		pid=${job##*:}
		for i in $(seq 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "# $name did not stop: killed"
			pkill -P "$pid"
			kill "$pid"
			ret=1
		fi
		wait "$pid" 2>/dev/null
	done
	return $ret
}

churn() {
	local ns=$1 out=$2

	shift 2
	ip netns exec "$ns" "$HERE/churn" "$@" > "$out"
}

start serve churn "$A" "$STATS/conn.serve" serve 8080 "$DURATION"
start connect4 churn "$B" "$STATS/conn.v4" connect 10.7.0.1 8080 "$DURATION"
start connect6 churn "$B" "$STATS/conn.v6" connect fd00:7::1 8080 "$DURATION"
start loop4 churn "$A" "$STATS/conn.lo4" loop "$DURATION"
start loop6 churn "$A" "$STATS/conn.lo6" loop -6 "$DURATION"
start flood churn "$B" /dev/null flood 10.7.0.100 10.7.0.1 8080 "$DURATION"
start syncookies syncookie_toggle "$A"
for ns in "$A" "$B" "$R1" "$R2"; do
	start "reader-$ns" reader "$ns"
done
start netns netns_churn
start reloader reloader
start sysfs1 sysfs_writer "$R1"
start sysfs2 sysfs_writer "$R2"
stop_all
log_test $? "every load job stopped on time"

report
log_test $? "every read parsed, no count negative or absurd"
ok=1
for i in $(seq 20); do
	if ip netns exec "$A" "$HERE/compare_ss.sh"; then
		ok=0
		break
	fi
	sleep 0.5
done
log_test $ok "after the load stops, /proc/tcpstates equals ss -tan again"
ksft_exit
