#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The connection-rate lane of make bench (scripts/bench.sh connrate), in
# the guest: benchtime's connect/accept/close loop on loopback with the
# module unloaded and loaded, in turns (ROUNDS of each, SECS seconds a
# window), so that drift hits both alike.  With the module loaded every
# connection fires the transitions' hooks: the set_state tracepoint about
# ten times, the hand-over kprobe once, and later the timewait sock's end.
# With CONNRATE_PIN=READER (natively, no module: scripts/bench.sh
# connrate's last lane) the hooks are the pin's tracepoint program
# instead: "READER pin" and "unpin" in a bpffs of its own, its counts
# from DIR/tcpstates_transitions (the 16 pairs the tracepoint counts).
# One line a window, then the medians:
#   connrate off CONN_S | connrate on CONN_S TRANSITIONS
#   connrate median off CONN_S on CONN_S ratio R per_conn_ns N per_event_ns E
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${CONNRATE_ROUNDS:-5}
SECS=${CONNRATE_S:-5}

work=$(mktemp -d /tmp/connrate.XXXXXX)
if [ -n "${CONNRATE_PIN:-}" ]; then
	pins=$work/pins
	trfile=$pins/tcpstates_transitions
	trap '"$CONNRATE_PIN" unpin "$pins"; umount "$pins" 2>/dev/null; rm -rf "$work"' EXIT
	hooks_off() { "$CONNRATE_PIN" unpin "$pins"; }
	hooks_on() { "$CONNRATE_PIN" pin "$pins"; }
	what="pin's tracepoint program, natively"
else
	trfile=/proc/tcpstates_transitions
	hooks_off() { rmmod tcpstates 2>/dev/null || true; }
	hooks_on() { insmod ./tcpstates.ko; }
	what=module
	trap 'rm -rf "$work"' EXIT
fi

# transitions: the sum of every count of the file, "-" left out.
transitions() {
	awk 'NR > 3 && $3 != "-" { n += $3 + $4 } END { print n + 0 }' \
		"$trfile"
}

rate() {
	./benchtime churn -t "$SECS" | awk '{ print $2 }'
}

# median: of the numbers on stdin (busybox's sort has no -g).
median() {
	awk '{ v[NR] = $1 + 0 }
	END {
		for (i = 2; i <= NR; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

echo "connrate kernel $(uname -r) cpus $(nproc) rounds $ROUNDS secs $SECS hooks $what"
for _ in $(seq "$ROUNDS"); do
	hooks_off
	r=$(rate)
	echo "connrate off $r"
	echo "$r" >> "$work/off"
	hooks_on
	t0=$(transitions)
	r=$(rate)
	t1=$(transitions)
	# Transitions counted a connection (one window's own; the timewait
	# socks it leaves end 60 s later, in some later window).
	ev=$(awk -v d=$((t1 - t0)) -v r="$r" -v s="$SECS" 'BEGIN { printf "%.2f", d / (r * s) }')
	echo "connrate on $r $ev"
	echo "$r" >> "$work/on"
	echo "$ev" >> "$work/ev"
done
off=$(median < "$work/off")
on=$(median < "$work/on")
ev=$(median < "$work/ev")
awk -v off="$off" -v on="$on" -v ev="$ev" 'BEGIN {
	d = 1e9 / on - 1e9 / off
	printf "connrate median off %.1f on %.1f ratio %.4f per_conn_ns %.0f transitions_per_conn %.2f per_event_ns %.0f\n",
		off, on, on / off, d, ev, (ev > 0 ? d / ev : 0) }'
