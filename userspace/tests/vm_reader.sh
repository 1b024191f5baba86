#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reader checks inside a VM guest with the tcpstates module loaded.
# Needs root, ip, ss and the static helper userspace/tests/sockhelper
# (built by "make -C userspace"; override with $SOCKHELPER).  The reader
# is $TCPSTATES (default: tcpstates in PATH).  No python: the JSON is
# picked apart with sed, relying on the reader's one-line output.
#
# Prints TAP; exits 0 if all passed, 1 if any failed, 4 (ksft_skip) when
# it cannot run.

ksft_skip=4
TCPSTATES=${TCPSTATES:-tcpstates}
SOCKHELPER=${SOCKHELPER:-$(dirname "$0")/sockhelper}
NS=tcpstates-reader-$$
TWFILE=/proc/sys/net/ipv4/tcp_max_tw_buckets
n=0
failed=0
old_limit=
helpers=

if [ "$(id -u)" != 0 ]; then
	echo "# SKIP: must run as root"
	exit $ksft_skip
fi
if [ ! -e "${TCPSTATES_PROC:-/proc/tcpstates}" ]; then
	echo "# SKIP: module not loaded (/proc/tcpstates missing)"
	exit $ksft_skip
fi
if [ ! -x "$SOCKHELPER" ]; then
	echo "# SKIP: $SOCKHELPER missing (make -C userspace)"
	exit $ksft_skip
fi

cleanup() {
	[ -n "$helpers" ] && kill $helpers 2>/dev/null
	# $! is ip's pid when ip netns exec forks: kill what runs in the netns.
	# shellcheck disable=SC2046
	kill $(ip netns pids "$NS" 2>/dev/null) 2>/dev/null
	[ -n "$old_limit" ] && echo "$old_limit" >"$TWFILE"
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS-tw" 2>/dev/null
	rm -f /tmp/"$NS".*
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	[ -n "$2" ] && echo "# $2"
}
check() { # DESC CMD...
	local desc=$1; shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}
# rc_grep RC WANT PATTERN FILE: exit status RC was WANT and FILE matches
rc_grep() { [ "$1" = "$2" ] && grep -q "$3" "$4"; }
# shellcheck source=verified.sh
. "$(dirname "$0")/verified.sh"

in_ns() { ip netns exec "$NS" "$@"; }

# preempt_mode: the kernel's preemption model (none, voluntary, full, lazy)
preempt_mode() {
	local f=/sys/kernel/debug/sched/preempt

	[ -e "$f" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	if [ -e "$f" ]; then
		sed -n 's/.*(\([a-z]*\)).*/\1/p' "$f"
	elif uname -v | grep -q PREEMPT_RT; then
		echo full
	else
		echo voluntary
	fi
}

# switches NS CMD...: the most involuntary context switches one of three
# runs of CMD took, on CPU 0 in NS, beside a sleeper there that wakes
# each millisecond (sockhelper nivcsw and latency); CMD's last output in
# $F.sw.  Where the kernel does not preempt, CMD can be switched out
# only at a scheduling point: a walk that gives its CPU up every chunk
# is, about once a millisecond of it; one that does not, a few times in
# its whole run (at exec and its syscalls' returns).  A count, not a
# time: a host that starves the guest (CI's niced guest beside the debug
# one) stretches the walk and the sleeper's waits, not the count.
# One ip netns exec, and a path: busybox's taskset would run its own ip.
switches() {
	local ns=$1 sleeper n max=0

	shift
	taskset -c 0 "$SOCKHELPER" latency 600000 >/dev/null &
	sleeper=$!
	sleep 0.3
	for _ in 1 2 3; do
		n=$(taskset -c 0 "$(type -P ip)" netns exec "$ns" \
			"$SOCKHELPER" nivcsw "$F.sw" "$@" |
			awk '$1 == "nivcsw" { print $2 }')
		[ "${n:-0}" -gt "$max" ] && max=$n
	done
	kill "$sleeper"
	wait "$sleeper" 2>/dev/null
	echo "$max"
}

# pin_sched PINS BUCKETS: the pinned walk takes a scheduling point every
# 8192 buckets, one per task of the reader's pid namespace, and its last
# call walks what the tasks left (pin.bpf.c).  A netns with a private
# ehash of BUCKETS (a walk of a few hundred ms under TCG at least), and
# 2100 sleeping threads for ticks: read from this pid namespace the
# file is whole, and beside a sleeper on its CPU the reader is switched
# out many times more than the same reader of an empty file is (the
# walk's chunks, at most one a millisecond).  Read from a pid namespace
# of one task, where the kernel does not preempt, the file is empty
# rather than the rest walked in one stretch; where it preempts, whole.
pin_sched() {
	local pins=$1 size=$2 big=$NS-big old walk_ms base sw mode ticks
	local t0=$SECONDS

	"$SOCKHELPER" threads 2100 >"$F.threads" &
	ticks=$!
	helpers="$helpers $ticks"
	for _ in $(seq 50); do
		grep -q ready "$F.threads" && break
		sleep 0.1
	done
	old=$(sysctl -n net.ipv4.tcp_child_ehash_entries)
	sysctl -qw net.ipv4.tcp_child_ehash_entries="$size"
	ip netns add "$big"
	sysctl -qw net.ipv4.tcp_child_ehash_entries="$old"
	echo "# pin_sched: threads and netns made at $((SECONDS - t0)) s"
	ip netns exec "$big" cat "$pins/tcpstates" >"$F.big"
	ip netns exec "$big" unshare -p -f cat "$pins/tcpstates" >"$F.big1"
	echo "# pin_sched: two reads at $((SECONDS - t0)) s"
	# shellcheck disable=SC2016 # awk's own fields
	check "pinned walk of a private ehash of $size buckets: every bucket" \
		awk -v n="$size" '$1 == "scan_buckets" && $2 >= n { f = 1 } END { exit !f }' "$F.big"
	walk_ms=$(awk '$1 == "scan_ns" { print int($2 / 1000000) }' "$F.big")
	base=$(switches "$big" cat /dev/null)
	sw=$(switches "$big" cat "$pins/tcpstates")
	echo "# pin_sched: switches counted at $((SECONDS - t0)) s"
	kill "$ticks"
	ip netns del "$big"
	echo "# pin_sched: netns deleted at $((SECONDS - t0)) s"
	echo "# walk ${walk_ms:-?} ms of $((size / 8192)) chunks; beside a sleeper its reader switched out $sw times at most, a reader of an empty file $base"
	# shellcheck disable=SC2016 # awk's own fields
	check "chunks of 8192 buckets: the reader switched out twice as often as an empty file's and 32 times more" \
		eval "[ $sw -ge $((2 * base + 32)) ] &&
		      awk -v n=$size '\$1 == \"scan_buckets\" && \$2 >= n { f = 1 } END { exit !f }' '$F.sw'"
	mode=$(preempt_mode)
	case $mode in
	none|voluntary)
		check "a pid namespace of one task ($mode preemption): an empty file, not the rest in one stretch" \
			test ! -s "$F.big1" ;;
	*)
		grep -v '^scan_' "$F.big" >"$F.big.c"
		grep -v '^scan_' "$F.big1" >"$F.big1.c"
		check "a pid namespace of one task ($mode preemption): the same file" \
			cmp -s "$F.big.c" "$F.big1.c" ;;
	esac
}

# pin_readers PINS: the pinned file as its readers meet it: 16 at once,
# uid 65534, another netns, and a pin made again while a reader loops.
# $F.modfile holds the module's file for the test netns, scan lines cut.
pin_readers() {
	local pins=$1 i bad=0 loop pids=

	for i in $(seq 16); do
		in_ns cat "$pins/tcpstates" >"$F.conc.$i" &
		pids="$pids $!"
	done
	# Not a bare wait: the population's helpers run until the end.
	# shellcheck disable=SC2086
	wait $pids
	for i in $(seq 16); do
		grep -v '^scan_' "$F.conc.$i" | cmp -s - "$F.modfile" ||
			bad=$((bad + 1))
	done
	check "16 readers at once: each the module's file but the scan figures" \
		[ "$bad" = 0 ]
	in_ns setpriv --reuid=65534 --regid=65534 --clear-groups \
		cat "$pins/tcpstates" | grep -v '^scan_' >"$F.nobody"
	check "uid 65534 reads the pin (0444): the module's file" \
		cmp -s "$F.nobody" "$F.modfile"
	ip netns add "$NS-other"
	ip netns exec "$NS-other" cat "$pins/tcpstates" >"$F.other"
	check "a reader in another netns: that netns, empty" \
		grep -qx "netns $(ip netns exec "$NS-other" stat -L -c %i /proc/self/ns/net)" "$F.other"
	check "a reader in another netns: no socket" grep -qx 'total 0 0' "$F.other"
	ip netns del "$NS-other"
	# One pin again (a load costs 100 s under TCG on 7.2), and a reader
	# that loops until it has ended, and 20 reads more: the file is
	# replaced under it.
	rm -f "$F.pinned"
	# shellcheck disable=SC2016
	in_ns bash -c 'n=0; more=20
		while [ $more -gt 0 ]; do
			[ -e "$3" ] && more=$((more - 1))
			n=$((n + 1))
			[ "$(wc -l <"$1/tcpstates")" = 25 ] || echo "read $n short"
		done >"$2" 2>&1; echo "$n" >"$3.n"' _ "$pins" "$F.loop" "$F.pinned" &
	loop=$!
	"$TCPSTATES" pin --mode 0444 "$pins" 2>>"$F.pinerr"
	check "pinning again while a reader loops: exit 0" [ $? = 0 ]
	touch "$F.pinned"
	wait "$loop"
	check "pinning again while a reader loops: $(cat "$F.pinned.n" 2>/dev/null) reads, every one whole" \
		test ! -s "$F.loop" -a -s "$F.pinned.n"
}

# json_cut FILE: the reader's JSON without its time and source
json_cut() {
	sed 's/"time":"[^"]*"//; s/"source":"[a-z]*"//' "$1"
}

# json_same A B: two reads of the reader's JSON alike but for time and
# source; else their difference, as TAP comments
json_same() {
	local rc

	# (No /dev/fd in the guests: no <(...).)
	json_cut "$1" | tr ',' '\n' >"$1.cut"
	json_cut "$2" | tr ',' '\n' >"$2.cut"
	diff "$1.cut" "$2.cut" | head -n 20 | sed 's/^/# /'
	rc=${PIPESTATUS[0]}
	return "$rc"
}

# big_reads NS PINS: in NS, /proc/tcpstates_ports into $F.bigmod, then
# the pinned file by cat ($F.bigpin), by reads of 61 bytes ($F.bigdd)
# and by 8 readers at once ($F.bigc.N), then the module's again
# ($F.bigmod2).
big_reads() {
	local i pids=

	ip netns exec "$1" cat /proc/tcpstates_ports >"$F.bigmod"
	ip netns exec "$1" cat "$2/tcpstates_ports" >"$F.bigpin"
	ip netns exec "$1" dd if="$2/tcpstates_ports" bs=61 2>/dev/null \
		>"$F.bigdd"
	for i in 1 2 3 4 5 6 7 8; do
		ip netns exec "$1" cat "$2/tcpstates_ports" >"$F.bigc.$i" &
		pids="$pids $!"
	done
	# Not a bare wait: the population's helpers run until the end.
	# shellcheck disable=SC2086
	wait $pids
	ip netns exec "$1" cat /proc/tcpstates_ports >"$F.bigmod2"
}

# lines_apart A B: the first lines that differ, in diff's normal format
# or busybox's unified one (the guests' diff), on one line
lines_apart() {
	diff "$1" "$2" | grep -v '^\(---\|+++\|@@\)' | grep '^[-+<>]' |
		head -n 6 | tr '\n' ' '
}

# same_file DESC FILE [TEST]: FILE is $F.bigmod, which the module's next
# read matched (more than 1300 lines), and TEST holds; else the first
# lines that differ.
same_file() {
	if [ "$(wc -l <"$F.bigmod")" -gt 1300 ] &&
	   cmp -s "$F.bigmod" "$F.bigmod2" && cmp -s "$F.bigmod" "$2" &&
	   eval "${3:-:}"; then
		ok "$1"
	else
		nok "$1" "$(lines_apart "$F.bigmod" "$2") ($(wc -l <"$2") lines; module twice: $(cmp -s "$F.bigmod" "$F.bigmod2" &&
			    echo same || echo moved))"
	fi
}

# pin_ports PINS: DIR/tcpstates_ports is /proc/tcpstates_ports, in the
# test netns and in one of 1300 listening ports (three passes of 512
# rows, two calls' worth of rows), to cat, to small reads, to 8 readers
# at once and to the reader; from a pid namespace of one task it ends
# "error incomplete", which the reader names.
pin_ports() {
	local pins=$1 big=$NS-ports i bad=0 ticks rc try t0=$SECONDS

	"$SOCKHELPER" threads 200 >"$F.pthreads" &
	ticks=$!
	helpers="$helpers $ticks"
	in_ns cat /proc/tcpstates_ports >"$F.modports"
	in_ns cat "$pins/tcpstates_ports" >"$F.pinports"
	check "pinned tcpstates_ports is the module's (test netns)" \
		cmp -s "$F.modports" "$F.pinports"
	in_ns "$TCPSTATES" --ports --source module -j >"$F.pmod"
	json_cut "$F.pmod" >"$F.pm.cut"
	in_ns env TCPSTATES_BPF_DIR="$pins" "$TCPSTATES" --ports --source pin \
		-j >"$F.ppin"
	json_cut "$F.ppin" >"$F.ppin.cut"
	# (--ports --source bpf loads this object unpinned, as pin_all's
	# --all-netns --source bpf does: a load costs 100 s under TCG on 7.2,
	# so the guests check one of the two; the host tests check both.)
	check "--ports --source pin: the module's rows, source pin" \
		eval "grep -q '\"source\":\"pin\"' '$F.ppin' &&
		      cmp -s '$F.pm.cut' '$F.ppin.cut'"
	ip netns add "$big"
	ip -n "$big" link set lo up
	(ulimit -n 4096
	 exec ip netns exec "$big" "$SOCKHELPER" 127.0.0.1 20000 1300 6 2 3) \
		>"$F.pbig" &
	helpers="$helpers $!"
	for _ in $(seq 300); do
		grep -q ready "$F.pbig" && break
		sleep 0.1
	done
	echo "# pin_ports: 1300 ports made at $((SECONDS - t0)) s"
	# Counts are the module's at quiescence: a try whose two module
	# reads around the pin's differ (a guest starved by the host can
	# leave the population's last FINs to ksoftirqd) is made again.
	for try in 1 2 3; do
		big_reads "$big" "$pins"
		cmp -s "$F.bigmod" "$F.bigmod2" && break
		echo "# pin_ports: the netns moved between two reads (try $try):" \
		     "$(lines_apart "$F.bigmod" "$F.bigmod2")"
		sleep 1
	done
	echo "# pin_ports: 1300 ports read 3 ways at $((SECONDS - t0)) s"
	same_file "1300 listening ports: $(wc -l <"$F.bigmod") lines, the pinned file the module's" \
		"$F.bigpin"
	same_file "1300 listening ports in reads of 61 bytes: the module's file" \
		"$F.bigdd"
	for i in 1 2 3 4 5 6 7 8; do
		cmp -s "$F.bigmod" "$F.bigc.$i" || bad=$((bad + 1))
	done
	same_file "8 readers at once of 1300 ports: every file the module's ($bad differ)" \
		"$F.bigc.1" "[ $bad = 0 ]"
	ip netns exec "$big" unshare -p -f cat "$pins/tcpstates_ports" \
		>"$F.big1"
	ip netns exec "$big" unshare -p -f env TCPSTATES_BPF_DIR="$pins" \
		"$TCPSTATES" --ports --source pin >/dev/null 2>"$F.big1err"
	rc=$?
	check "one task, 1300 rows: the file ends \"error incomplete\"" \
		[ "$(tail -n 1 "$F.big1")" = "error incomplete" ]
	check "one task, 1300 rows: the reader exits 1, one line" \
		eval "rc_grep $rc 1 'incomplete: the pinned walk ran out' '$F.big1err' &&
		      [ \$(wc -l <'$F.big1err') = 1 ]"
	kill "$ticks" 2>/dev/null
	# shellcheck disable=SC2046
	kill $(ip netns pids "$big") 2>/dev/null
	ip netns del "$big"
	echo "# pin_ports: $((SECONDS - t0)) s"
}

# pin_tr PINS: DIR/tcpstates_transitions moves as the module's file does:
# in a netns of its own, around a population made and torn down
# (sockhelper, IPv4 and IPv6: listeners, connected pairs, TIME_WAIT and
# CLOSE_WAIT, all closed as it exits), each pair the pin counts grew as
# the module's did, the module read again after the pin unchanged on
# those pairs (else read again, five tries a second apart), and the pin
# counts every pair (its fentry and fexit hooks loaded: every guest's
# kernel allows them), the moves into TIME_WAIT and LISTEN -> SYN_RECV
# among them.
pin_tr() {
	local pins=$1 ns=$NS-tr pop try

	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" cat /proc/tcpstates_transitions >"$F.trm0"
	ip netns exec "$ns" cat "$pins/tcpstates_transitions" >"$F.trp0"
	ip netns exec "$ns" "$SOCKHELPER" 127.0.0.1 31000 3 4 3 2 >"$F.trpop" &
	pop=$!
	ip netns exec "$ns" "$SOCKHELPER" ::1 32000 2 2 1 1 >"$F.trpop6" &
	pop="$pop $!"
	for _ in $(seq 100); do
		grep -q ready "$F.trpop" && grep -q ready "$F.trpop6" && break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill $pop
	# shellcheck disable=SC2086
	wait $pop 2>/dev/null
	sleep 1
	for try in 1 2 3 4 5; do
		ip netns exec "$ns" cat /proc/tcpstates_transitions >"$F.trm1"
		ip netns exec "$ns" cat "$pins/tcpstates_transitions" >"$F.trp1"
		ip netns exec "$ns" cat /proc/tcpstates_transitions >"$F.trm2"
		tr_same >"$F.trwhy" && break
		sleep 1
	done
	ip netns del "$ns"
	echo "# pin_tr: $try tries; $(head -c 300 "$F.trwhy")"
	check "tcpstates_transitions pinned: each pair it counts moved as the module's, per family" \
		grep -q '^same moved [1-9]' "$F.trwhy"
	check "tcpstates_transitions pinned: every pair counted, the request and timewait hooks in (no \"- -\")" \
		grep -q ' dashes$' "$F.trwhy"
	check "tcpstates_transitions pinned: into TIME_WAIT and out of LISTEN as the module's, not 0" \
		grep -q 'hooked [1-9][0-9]* [1-9]' "$F.trwhy"
}

# tr_same: $F.trp1 - $F.trp0 equals $F.trm1 - $F.trm0 on every pair the
# pin counts, and $F.trm2 equals $F.trm1 there: "same", the pin's moves
# into TIME_WAIT and LISTEN -> SYN_RECV, and its "- -" pairs; else what
# differs.
tr_same() {
	# shellcheck disable=SC2016 # awk's own fields
	paste -d' ' "$F.trm0" "$F.trp0" "$F.trm1" "$F.trp1" "$F.trm2" | awk '
		FNR <= 3 { next }
		{ pair = $1 ">" $2 }
		$15 == "-" { dashes = dashes " " pair; next }
		$11 - $3 != $15 - $7 || $12 - $4 != $16 - $8 ||
		$19 != $11 || $20 != $12 {
			bad = bad " " pair ":" $3 "," $4 "," $7 "," $8 "," $11 "," $12 "," $15 "," $16 "," $19 "," $20
		}
		{ moved += $11 - $3 + $12 - $4 }
		$2 == "TIME_WAIT" { tw += $15 - $7 + $16 - $8 }
		pair == "LISTEN>SYN_RECV" { req += $15 - $7 + $16 - $8 }
		END {
			printf "%s moved %d hooked %d %d dashes%s\n", bad == "" ? "same" : "differ" bad, moved, tw, req, dashes
			exit bad != ""
		}'
}

# pin_all PINS: DIR/tcpstates_all is /proc/tcpstates_all, read from the
# initial netns, with a netns of a private ehash beside the test netns
# (6.1 on), to cat, to reads of 61 bytes and to the reader, pinned or
# loaded; from the test netns it says "error netns".
pin_all() {
	local pins=$1 priv=$NS-priv old ticks try

	"$SOCKHELPER" threads 200 >"$F.athreads" &
	ticks=$!
	helpers="$helpers $ticks"
	old=$(sysctl -n net.ipv4.tcp_child_ehash_entries 2>/dev/null)
	[ -n "$old" ] && sysctl -qw net.ipv4.tcp_child_ehash_entries=256
	ip netns add "$priv"
	[ -n "$old" ] && sysctl -qw net.ipv4.tcp_child_ehash_entries="$old"
	ip -n "$priv" link set lo up
	ip netns exec "$priv" "$SOCKHELPER" 127.0.0.1 7100 2 5 1 2 \
		>"$F.apriv" &
	helpers="$helpers $!"
	for _ in $(seq 100); do
		grep -q ready "$F.apriv" && break
		sleep 0.1
	done
	# Read side by side, again if a TIME_WAIT ended between the two.
	for try in 1 2 3; do
		cat /proc/tcpstates_all >"$F.allmod"
		cat "$pins/tcpstates_all" >"$F.allpin"
		cmp -s "$F.allmod" "$F.allpin" && break
	done
	check "pinned tcpstates_all is the module's ($(grep -c '^netns [0-9]' "$F.allmod") rows, try $try)" \
		cmp "$F.allmod" "$F.allpin"
	[ -n "$old" ] && check "tcpstates_all: the private ehash netns has its row" \
		grep -q "^netns $(ip netns exec "$priv" stat -L -c %i /proc/self/ns/net) .* max_tw_buckets 128\$" \
		"$F.allpin"
	for try in 1 2 3; do
		cat /proc/tcpstates_all >"$F.allmod"
		dd if="$pins/tcpstates_all" bs=61 2>/dev/null >"$F.alldd"
		cmp -s "$F.allmod" "$F.alldd" && break
	done
	check "tcpstates_all in reads of 61 bytes: the module's file" \
		cmp "$F.allmod" "$F.alldd"
	for try in 1 2 3; do
		"$TCPSTATES" --all-netns --source module -j >"$F.amod"
		env TCPSTATES_BPF_DIR="$pins" "$TCPSTATES" --all-netns \
			--source pin -j >"$F.apin"
		json_same "$F.amod" "$F.apin" >/dev/null && break
	done
	check "--all-netns --source pin: the module's rows, source pin" \
		eval "grep -q '\"source\":\"pin\"' '$F.apin' &&
		      json_same '$F.amod' '$F.apin'"
	# One load (20 s under TCG on 7.2), then a watch's samples: the last
	# one beside a module read.
	for try in 1 2 3; do
		"$TCPSTATES" --all-netns --source bpf -w 0.1 -c 2 -j |
			tail -n 1 >"$F.abpf"
		"$TCPSTATES" --all-netns --source module -j >"$F.amod"
		json_same "$F.amod" "$F.abpf" >/dev/null && break
	done
	check "--all-netns --source bpf (loaded, unpinned): the module's rows" \
		eval "grep -q '\"source\":\"bpf\"' '$F.abpf' &&
		      json_same '$F.amod' '$F.abpf'"
	in_ns cat "$pins/tcpstates_all" >"$F.allns"
	check "tcpstates_all from the test netns: \"error netns\"" \
		[ "$(cat "$F.allns")" = "error netns" ]
	kill "$ticks" 2>/dev/null
	# shellcheck disable=SC2046
	kill $(ip netns pids "$priv") 2>/dev/null
	ip netns del "$priv"
}

# pin_refused RC: a pin that failed as $bpf_says says, in one line, and
# left nothing at /tmp/$NS.pins
pin_refused() {
	rc_grep "$1" 1 "^tcpstates: pin: load: .*$bpf_says" "$F.pinerr" &&
		[ "$(wc -l <"$F.pinerr")" = 1 ] && [ ! -e "/tmp/$NS.pins" ]
}

STATES="ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE
CLOSE_WAIT LAST_ACK LISTEN CLOSING"

# state_counts JSON: "STATE ipv4 ipv6" lines from the reader's "states"
state_counts() {
	local st

	for st in $STATES; do
		sed -n "s/.*\"$st\":{\"ipv4\":\([0-9]*\),\"ipv6\":\([0-9]*\).*/$st \\1 \\2/p" "$1"
	done
}

# json_num JSON GROUP KEY: a number inside "GROUP":{...}
json_num() {
	sed -n "s/.*\"$2\":{[^}]*\"$3\":\([0-9]*\).*/\1/p" <"$1"
}

echo "TAP version 13"
echo "# reader: $TCPSTATES, helper: $SOCKHELPER"

ip netns add "$NS" || { echo "# SKIP: ip netns add failed"; exit $ksft_skip; }
in_ns ip link set lo up

# 3 listeners, 4 established pairs, 2 TIME_WAIT, 1 CLOSE_WAIT pair (v4);
# 2, 1, 3, 2 for IPv6 (skipped without IPv6).
F=/tmp/$NS
in_ns "$SOCKHELPER" 127.0.0.1 5000 3 4 2 1 >"$F.h4" &
helpers="$!"
has_v6=0
if in_ns sh -c '[ -e /proc/sys/net/ipv6 ]'; then
	in_ns "$SOCKHELPER" ::1 6000 2 1 3 2 >"$F.h6" &
	helpers="$helpers $!"
	has_v6=1
fi
for _ in $(seq 50); do
	[ -s "$F.h4" ] && { [ $has_v6 = 0 ] || [ -s "$F.h6" ]; } && break
	sleep 0.1
done
sleep 0.5	# quiescence: FIN/ACK exchanges on lo are done by now
tw_t0=$SECONDS	# the helper's TIME_WAIT end 60 s after

in_ns "$TCPSTATES" --source module -j >"$F.mod"
rc_mod=$?
in_ns "$TCPSTATES" --source netlink -j >"$F.nl"
rc_nl=$?
check "module and netlink sources run" test $rc_mod = 0 -a $rc_nl = 0
state_counts "$F.mod" >"$F.mod.states"
state_counts "$F.nl" >"$F.nl.states"
check "JSON has 11 states" [ "$(wc -l <"$F.mod.states")" = 11 ]
if diff "$F.mod.states" "$F.nl.states" >"$F.diff"; then
	ok "module and netlink agree state by state"
else
	nok "module and netlink agree state by state" \
	    "$(tr '\n' ' ' <"$F.diff")"
fi
check "module sees the helper's 3 IPv4 listeners" \
	grep -qx "LISTEN 3 $((has_v6 * 2))" "$F.mod.states"
check "module sees the helper's TIME_WAIT sockets" \
	grep -qx "TIME_WAIT 2 $((has_v6 * 3))" "$F.mod.states"
check "module and netlink agree on tw_count" \
	[ "$(json_num "$F.mod" time_wait count)" = \
	  "$(json_num "$F.nl" time_wait count)" ]
check "module netns is the test netns" \
	[ "net:[$(sed -n 's/.*"netns":\([0-9]*\).*/\1/p' "$F.mod")]" = \
	  "$(in_ns readlink /proc/self/ns/net)" ]
"$TCPSTATES" --netns "$NS" --source module -j >"$F.byname"
check "--netns NAME sees the same sockets" \
	[ "$(state_counts "$F.byname")" = "$(cat "$F.mod.states")" ]
"$TCPSTATES" --source module -p >"$F.prom"
check "prometheus output from the module" \
	grep -q '^tcpstates_sockets{netns="[0-9]*",state="listen",family="ipv4"} ' "$F.prom"
in_ns "$TCPSTATES" --source module -p --label ns=test >"$F.prom"
nsino=$(in_ns readlink /proc/self/ns/net | tr -dc 0-9)
check "prometheus: the netns and --label on every sample" \
	[ "$(grep -v '^#' "$F.prom" | grep -vc "^[a-z_]*{netns=\"$nsino\",ns=\"test\"[,}]")" = 0 ]
"$TCPSTATES" --source module -p >/dev/full 2>"$F.err"
check "prometheus to /dev/full: exit 1, a write error" \
	rc_grep $? 1 "^tcpstates: write error" "$F.err"

# -4 and ss's state sets: module and netlink agree
in_ns "$TCPSTATES" --source module -4 -j >"$F.m4"
check "-4 with the module: IPv4 only" \
	grep -q '"LISTEN":{"ipv4":3,"total":3}' "$F.m4"
for set in connected synchronized bucket big listening; do
	in_ns "$TCPSTATES" --source module -s $set -j >"$F.jm"
	in_ns "$TCPSTATES" --source netlink -s $set -j >"$F.jn"
	state_counts "$F.jm" >"$F.sm"
	state_counts "$F.jn" >"$F.sn"
	check "-s $set: module and netlink agree" cmp -s "$F.sm" "$F.sn"
done
check "-s listening: LISTEN only" [ "$(cut -d' ' -f1 "$F.sm")" = LISTEN ]

# watch mode: a time on each sample, rates from the second
in_ns "$TCPSTATES" --source module -w 0.1 -c 2 -j >"$F.watch"
check "watch with the module: two samples with a time" \
	[ "$(grep -c '^{"time":"' "$F.watch")" = 2 ]
check "watch with the module: rates in the second sample" \
	[ "$(grep -c '"rates":{"tw_overflow":' "$F.watch")" = 1 ]

# --all-netns from the initial netns: the test netns's row and its owner
ino=$(in_ns readlink /proc/self/ns/net | tr -dc 0-9)
if [ -e "${TCPSTATES_PROC_ALL:-/proc/tcpstates_all}" ]; then
	"$TCPSTATES" --all-netns -j >"$F.all"
	check "--all-netns -j runs" [ $? = 0 ]
	row=$(grep -o "{\"netns\":$ino,\"pid\":[0-9]*,\"command\":\"[^\"]*\",\"states\":{[^}]*}" "$F.all")
	# the owner as lsns finds it: the lowest PID in the netns
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/net")" = "net:[$ino]" ] && echo "${p#/proc/}"
	done | sort -n | head -1 >"$F.owner"
	owner=$(cat "$F.owner")
	check "--all-netns has the test netns and its lowest PID $owner" \
		grep -q "\"pid\":$owner,\"command\":\"$(cat "/proc/$owner/comm")\"" \
		<<<"$row"
	check "--all-netns row: the helper's listeners, IPv4 + IPv6" \
		[ "$(echo "$row" | sed -n 's/.*"LISTEN":\([0-9]*\).*/\1/p')" = \
		  $((3 + has_v6 * 2)) ]
	in_ns "$TCPSTATES" --all-netns >/dev/null 2>"$F.err"
	check "--all-netns from a child netns: permission denied" \
		grep -q "^tcpstates: .*permission denied" "$F.err"
else
	nok "--all-netns: no /proc/tcpstates_all"
fi

# --ports in the test netns: module and netlink agree row by row
if [ -e "${TCPSTATES_PROC_PORTS:-/proc/tcpstates_ports}" ]; then
	in_ns "$TCPSTATES" --ports --source module -j >"$F.pm"
	in_ns "$TCPSTATES" --ports --source netlink -j >"$F.pn"
	check "--ports: in 5000 holds the listener and accepted sockets" \
		grep -q '"direction":"in","port":5000,"states":{"ESTABLISHED":4,"SYN_SENT":0,"SYN_RECV":0,"FIN_WAIT1":0,"FIN_WAIT2":0,"TIME_WAIT":0,"CLOSE":0,"CLOSE_WAIT":1,"LAST_ACK":0,"LISTEN":1,' "$F.pm"
	# A slow guest may be past the helper's TIME_WAIT: the sources
	# still agree exactly (below).
	tw=2
	[ $((SECONDS - tw_t0)) -lt 50 ] || tw='[0-2]'
	check "--ports: out 5000 holds the client sockets" \
		grep -q '"direction":"out","port":5000,"states":{"ESTABLISHED":4,"SYN_SENT":0,"SYN_RECV":0,"FIN_WAIT1":0,"FIN_WAIT2":1,"TIME_WAIT":'"$tw"',' "$F.pm"
	check "--ports: module and netlink sources agree" \
		[ "$(sed 's/"time":"[^"]*"//; s/"source":"[a-z]*"//' "$F.pm")" = \
		  "$(sed 's/"time":"[^"]*"//; s/"source":"[a-z]*"//' "$F.pn")" ]
	in_ns "$TCPSTATES" --ports --source module -w 0.1 -c 2 -H >"$F.pw"
	check "--ports in watch mode with the module" \
		[ "$(grep -c '^Time: ' "$F.pw")" = 2 ]
else
	nok "--ports: no /proc/tcpstates_ports"
fi

# --set round trip through sysfs, checked against the sysctl
old_limit=$(cat "$TWFILE")
new=$((old_limit - 1))
out=$("$TCPSTATES" --set max_tw_buckets=$new)
check "--set max_tw_buckets prints old -> new" \
	[ "$out" = "max_tw_buckets: $old_limit -> $new" ]
check "--set max_tw_buckets reaches tcp_max_tw_buckets" \
	[ "$(cat "$TWFILE")" = $new ]
"$TCPSTATES" --set max_tw_buckets="$old_limit" >/dev/null
check "--set max_tw_buckets restores" [ "$(cat "$TWFILE")" = "$old_limit" ]
old_limit=
"$TCPSTATES" --set tw_reuse=7 >/dev/null 2>"$F.err"
check "--set tw_reuse=7 is rejected as invalid value" \
	grep -q "^tcpstates: .*invalid value" "$F.err"

# --processes with the module: its counts, a sock_diag dump's owners.
# "leaky" holds 3 CLOSE_WAIT connections to 3306 (out 3306).
in_ns "$SOCKHELPER" leak 127.0.0.1 3306 3 >"$F.leak" &
helpers="$helpers $!"
for _ in $(seq 50); do
	[ -s "$F.leak" ] && break
	sleep 0.1
done
leaky=$(sed -n 's/^ready //p' "$F.leak")
if [ -n "$leaky" ] && [ -e "${TCPSTATES_PROC_PORTS:-/proc/tcpstates_ports}" ]; then
	sleep 0.3
	in_ns "$TCPSTATES" --ports --source module --processes -s close-wait -j \
		>"$F.procs"
	check "--processes --ports with the module: leaky holds out 3306" \
		grep -q "\"direction\":\"out\",\"port\":3306,\"states\":{\"CLOSE_WAIT\":3},\"total\":3,\"processes\":{\"owners\":\[{\"pid\":$leaky,\"command\":\"leaky\",\"sockets\":3}\],\"no_process\":0,\"not_found\":0}" \
		"$F.procs"
	in_ns "$TCPSTATES" --source module --processes -s close-wait,fin-wait-2 \
		>"$F.procs"
	check "--processes on the per-state table with the module" \
		grep -q "^CLOSE_WAIT .* leaky\[$leaky\]:3" "$F.procs"
	check "--processes: the orphaned FIN_WAIT2 have no process" \
		grep -q "^FIN_WAIT2 .*no-process:3" "$F.procs"
else
	nok "--processes: the leak helper did not start or no tcpstates_ports"
fi

# --close-wait: the leak (out 3306), the helpers' CLOSE_WAIT pairs (in
# 5000, in 6000), the same from the module's file and from sock_diag.
# cw_rows FILE: "DIR PORT SOCKETS OLDEST" a line each, sorted
cw_rows() {
	grep -o '"direction":"[a-z]*","port":[0-9]*,"sockets":[0-9]*,"oldest_seconds":[0-9]*' "$1" |
		sed 's/"[a-z_]*"://g; s/"//g; s/,/ /g' | sort
}
# cw_agree A B: the same rows and counts, ages to a second either way
cw_agree() {
	awk 'NR == FNR { age[$1 " " $2 " " $3] = $4; n++; next }
	     { k = $1 " " $2 " " $3; d = age[k] - $4; m++
	       if (!(k in age) || d < -1 || d > 1) bad = 1 }
	     END { exit bad || !n || n != m }' "$1" "$2"
}
if [ -n "$leaky" ] && [ -e /proc/tcpstates_close_wait ]; then
	sleep 1
	in_ns "$TCPSTATES" --close-wait --source module -j >"$F.cwm"
	in_ns "$TCPSTATES" --close-wait --source netlink -j >"$F.cwn"
	cw_rows "$F.cwm" >"$F.cwm.rows"
	cw_rows "$F.cwn" >"$F.cwn.rows"
	sed 's/^/# module: /' "$F.cwm.rows"
	check "--close-wait with the module: out 3306 3, in 5000 1$([ $has_v6 = 1 ] && echo ", in 6000 2")" \
		[ "$(cut -d' ' -f1-3 "$F.cwm.rows" | tr '\n' ' ')" = \
		  "in 5000 1 $([ $has_v6 = 1 ] && echo "in 6000 2 ")out 3306 3 " ]
	check "--close-wait: the module and sock_diag agree, ages to a second" \
		cw_agree "$F.cwm.rows" "$F.cwn.rows"
	check "--close-wait: every age at least a second (made before the sleep)" \
		awk '$4 < 1 { exit 1 }' "$F.cwm.rows"
	in_ns "$TCPSTATES" --close-wait --processes -j >"$F.cwp"
	check "--close-wait --processes: leaky holds out 3306's 3" \
		grep -q "\"direction\":\"out\",\"port\":3306,\"sockets\":3,\"oldest_seconds\":[0-9]*,\"processes\":{\"owners\":\[{\"pid\":$leaky,\"command\":\"leaky\",\"sockets\":3}\]" \
		"$F.cwp"
else
	nok "--close-wait: the leak helper did not start or no tcpstates_close_wait"
fi

# --ages from sock_diag against the module's: a module read, a netlink
# read, a module read.  Ages only grow, so per state and column the
# netlink read's sockets at least that old lie between the two module
# reads' (a state whose count changed between them is left out: the
# helpers' TIME_WAIT may end under TCG).  netlink ages no SYN_SENT or
# SYN_RECV (no stamp in the dump).
# age_rows FILE: "STATE N1 .. N7" per aged state, null states left out
age_rows() {
	grep -o '"[A-Z_0-9]*":{"lt_1s":[0-9]*,"lt_10s":[0-9]*,"lt_1m":[0-9]*,"lt_10m":[0-9]*,"lt_1h":[0-9]*,"lt_1d":[0-9]*,"ge_1d":[0-9]*' "$1" |
		sed 's/"[a-z_0-9]*"://g; s/[{"]//g; s/:/ /; s/,/ /g'
}
# age_between M1 N M2: N's older-than counts between M1's and M2's (an
# empty read fails: awk would take the next file for it)
age_between() {
	if [ ! -s "$1" ] || [ ! -s "$2" ] || [ ! -s "$3" ]; then
		echo "# age_between: an empty read"
		return 1
	fi
	awk 'FNR == 1 { f++ }
	     { t = 0; for (i = 8; i >= 2; i--) { t += $i; o[f, $1, i] = t }
	       tot[f, $1] = t; if (f == 2) st[$1] = 1 }
	     END { for (s in st) {
			if (tot[1, s] != tot[2, s] || tot[2, s] != tot[3, s]) continue
			n++
			for (i = 2; i <= 8; i++)
				if (o[1, s, i] > o[2, s, i] || o[2, s, i] > o[3, s, i]) {
					print "# " s ": column " i - 1 ": " o[1, s, i] " " o[2, s, i] " " o[3, s, i]
					bad = 1
				}
		}
		exit bad || n < 5 }' "$1" "$2" "$3"
}
in_ns "$TCPSTATES" --ages --source module -j >"$F.am1"
in_ns "$TCPSTATES" --ages --source netlink -j >"$F.an"
in_ns "$TCPSTATES" --ages --source module -j >"$F.am2"
for f in am1 an am2; do age_rows "$F.$f" >"$F.$f.rows"; done
sed 's/^/# netlink: /' "$F.an.rows"
check "--ages --source netlink: SYN_SENT and SYN_RECV not aged, the rest are" \
	[ "$(grep -c '"SYN_SENT":null,"SYN_RECV":null' "$F.an")" = 1 -a \
	  "$(wc -l <"$F.an.rows")" = 8 ]
check "--ages: netlink's ages between two of the module's, state by state" \
	age_between "$F.am1.rows" "$F.an.rows" "$F.am2.rows"

# pin_ages PINS: DIR/tcpstates_ages against the module's file, as
# netlink's ages are checked above: a module read, a pin read, a module
# read; per state and column, the pin's between the two (ages only
# grow); every state but LISTEN aged, SYN_SENT and SYN_RECV too, with
# two connects 1.5 s old to an address routed to lo (nothing answers).
pin_ages() {
	in_ns ip route add 192.0.2.0/24 dev lo
	for _ in 1 2; do
		in_ns timeout 30 bash -c 'exec 3<>/dev/tcp/192.0.2.2/80' \
			2>/dev/null &
	done
	sleep 1.5
	in_ns "$TCPSTATES" --ages --source module -j >"$F.pam1"
	in_ns env TCPSTATES_BPF_DIR="$1" "$TCPSTATES" --ages --source pin -j \
		>"$F.pap" 2>"$F.paerr"
	in_ns "$TCPSTATES" --ages --source module -j >"$F.pam2"
	for f in pam1 pap pam2; do age_rows "$F.$f" >"$F.$f.rows"; done
	sed 's/^/# pin: /' "$F.pap.rows" "$F.paerr"
	check "pinned tcpstates_ages: source pin, every state but LISTEN aged" \
		rc_grep "$(wc -l <"$F.pap.rows")" 10 '"source":"pin"' "$F.pap"
	check "pinned tcpstates_ages: 2 SYN_SENT in <10s, between two of the module's, state by state" \
		eval "grep -q '^SYN_SENT 0 2 0 0 0 0 0\$' '$F.pap.rows' &&
		      age_between '$F.pam1.rows' '$F.pap.rows' '$F.pam2.rows'"
	pkill -f 'dev/tcp/192.0.2.2/80'
	in_ns ip route del 192.0.2.0/24 dev lo
	in_ns env TCPSTATES_PROC_AGES=/nonexistent TCPSTATES_BPF_DIR="$1" \
		"$TCPSTATES" --ages -j >"$F.paa"
	check "--ages without the module's file: the pin" \
		grep -q '"source":"pin"' "$F.paa"
}

# --check-tw: in a netns of its own holding 20 TIME_WAIT sockets made
# just before (they last 60 s; the helper's, made earlier in the test
# netns, may end between two reads under TCG), the limit just above.
TWNS=$NS-tw
in_tw() { ip netns exec "$TWNS" "$@"; }
ip netns add "$TWNS" && in_tw ip link set lo up &&
	in_tw "$(dirname "$0")/tcpgen" tw 20
in_tw "$TCPSTATES" --source module -j >"$F.mod"
tw=$(json_num "$F.mod" time_wait count)
check "--check-tw: 20 TIME_WAIT in a netns of its own" [ "$tw" = 20 ]
in_tw sh -c "echo 21 >$TWFILE"
in_tw "$TCPSTATES" --source module --check-tw 50 >"$F.check"
check "--check-tw 50 with 20 of 21: WARNING, exit 1" \
	rc_grep $? 1 "^TIME_WAIT WARNING - 20 of limit 21 " "$F.check"
in_tw "$TCPSTATES" --source module --check-tw 50,60 >"$F.check"
check "--check-tw 50,60 with 20 of 21: CRITICAL, exit 2" \
	rc_grep $? 2 "'time_wait'=20;" "$F.check"
in_tw "$TCPSTATES" --source module --check-tw 100 >/dev/null
check "--check-tw 100 with 20 of 21 exits 0" [ $? = 0 ]
in_tw sh -c "echo 0 >$TWFILE"
in_tw "$TCPSTATES" --source module --check-tw 50,90 >/dev/null
check "--check-tw with limit 0 and TIME_WAIT sockets: CRITICAL, exit 2" \
	[ $? = 2 ]
in_tw env TCPSTATES_PROC=/nonexistent "$TCPSTATES" --source module \
	--check-tw 50 >"$F.check" 2>/dev/null
check "--check-tw without the module's file: UNKNOWN, exit 3" \
	rc_grep $? 3 "^TIME_WAIT UNKNOWN - module not loaded" "$F.check"
# --transitions against the module's file, in the same netns: the 20
# connections made above, pair by pair (the file is quiet by now).
in_tw cat /proc/tcpstates_transitions >"$F.trfile" 2>/dev/null
in_tw "$TCPSTATES" --transitions -j >"$F.tr" 2>"$F.trerr"
if [ -s "$F.trfile" ]; then
	check "--transitions -j: every pair of the module's file, its counts" \
		awk 'NR == FNR { if (FNR > 3) want[++n] = $1 " " $2 " " ($3 == "-" ? "null" : $3) " " ($4 == "-" ? "null" : $4); next }
		     { while (match($0, /"from":"[A-Z_0-9]+","to":"[A-Z_0-9]+","ipv4":[0-9a-z]+,"ipv6":[0-9a-z]+/)) {
			   r = substr($0, RSTART, RLENGTH); $0 = substr($0, RSTART + RLENGTH)
			   gsub(/"(from|to|ipv4|ipv6)":|"/, "", r); gsub(/,/, " ", r); got[++m] = r } }
		     END { if (n != 25 || m != n) exit 1; for (i = 1; i <= n; i++) if (want[i] != got[i]) exit 1 }' \
		"$F.trfile" "$F.tr"
	in_tw "$TCPSTATES" --transitions >"$F.trtab" 2>&1
	check "--transitions: FIN_WAIT2 -> TIME_WAIT 20 in the table" \
		grep -qE "^FIN_WAIT2 +TIME_WAIT +20 +0 +20$" "$F.trtab"
	# By port: the listener's in (SYN_RECV, the server's CLOSE_WAIT),
	# the clients' out (TIME_WAIT), the reader's grammar on the module's.
	in_tw "$TCPSTATES" --transitions --ports >"$F.trptab" 2>&1
	check "--transitions --ports: in PORT 20 20 0, out PORT 0 0 20, other 0" \
		awk '/^in +[0-9]+ +20 +20 +0$/ { i++; p = $2 }
		     /^out +[0-9]+ +0 +0 +20$/ { o++; q = $2 }
		     /^other +- +0 +0 +0$/ { x++ }
		     END { exit !(i == 1 && o == 1 && x == 1 && p == q) }' "$F.trptab"
else
	nok "--transitions: the module has no /proc/tcpstates_transitions"
fi
ip netns del "$TWNS"

# --source bpf: the module's walk as a BPF program, against the module.
# It needs BTF, bpf_loop (5.17) and a task iterator filtered to one thread
# (6.1): 5.10 has neither, and is skipped with that reason.
kver=$(uname -r | sed 's/^\([0-9]*\)\.\([0-9]*\).*/\1 \2/')
# shellcheck disable=SC2086
bpf_why=$(printf '%s %s\n' $kver | awk '$1 < 6 || ($1 == 6 && $2 < 1) {
	print "kernel " $1 "." $2 ": no bpf_loop, no task iterator filtered to one thread" }')
bpf_says="the kernel refused the program"
[ -z "$bpf_why" ] && [ ! -e /sys/kernel/btf/vmlinux ] &&
	bpf_why="no kernel BTF (/sys/kernel/btf/vmlinux)" bpf_says="has no BTF"
if [ -n "$bpf_why" ]; then
	n=$((n + 1)); echo "ok $n - --source bpf equals the module # SKIP $bpf_why"
	in_ns "$TCPSTATES" --source bpf -j >/dev/null 2>"$F.bpferr"
	check "--source bpf where it cannot load: exit 1, one line: \"$bpf_says\"" \
		rc_grep $? 1 "^tcpstates: bpf: load: .*$bpf_says" "$F.bpferr"
	"$TCPSTATES" pin "/tmp/$NS.pins" >/dev/null 2>"$F.pinerr"
	check "tcpstates pin where it cannot load: exit 1, one line: \"$bpf_says\", nothing left" \
		pin_refused $?
	in_ns env TCPSTATES_PROC=/nonexistent "$TCPSTATES" -j >"$F.auto" 2>&1
	check "auto without the module and bpf: netlink" \
		grep -q '"source":"netlink"' "$F.auto"
else
	in_ns "$TCPSTATES" --source module -j >"$F.mod"
	in_ns "$TCPSTATES" --source bpf -j >"$F.bpf" 2>"$F.bpferr"
	check "--source bpf runs (BTF, $(uname -r))" \
		test $? = 0 -a ! -s "$F.bpferr"
	state_counts "$F.mod" >"$F.mod.states"
	state_counts "$F.bpf" >"$F.bpf.states"
	if [ -s "$F.bpf.states" ] &&
	   diff "$F.mod.states" "$F.bpf.states" >"$F.diff"; then
		ok "bpf and module agree state by state"
	else
		nok "bpf and module agree state by state" \
		    "$(tr '\n' ' ' <"$F.diff" 2>/dev/null) $(cat "$F.bpferr")"
	fi
	# 6.1 has no bpf_rdonly_cast: there the reader falls back to the
	# probe-read walk by itself; elsewhere both walks must agree.
	in_ns env TCPSTATES_BPF_PROBE_READ=1 TCPSTATES_BPF_DEBUG=1 \
		"$TCPSTATES" --source bpf -j >"$F.bpfp" 2>"$F.bpferr"
	state_counts "$F.bpfp" >"$F.bpfp.states"
	check "bpf's probe-read walk agrees with the module" \
		cmp -s "$F.mod.states" "$F.bpfp.states"
	in_ns env TCPSTATES_BPF_STRAY=3 "$TCPSTATES" --source bpf -j \
		>"$F.bpfs" 2>"$F.bpferr"
	check "bpf: chains walked again 3 times (TCPSTATES_BPF_STRAY) still agree" \
		test "$(state_counts "$F.bpfs")" = "$(cat "$F.mod.states")"
	walk="plain loads"
	# shellcheck disable=SC2086
	[ "$(printf '%s %s\n' $kver | awk '{print $1 * 1000 + $2}')" -lt 6002 ] &&
		walk=bpf_probe_read_kernel
	in_ns env TCPSTATES_BPF_DEBUG=1 "$TCPSTATES" --source bpf \
		>/dev/null 2>"$F.bpferr"
	check "bpf on $(uname -r) walks with $walk" \
		grep -q "reads with $walk" "$F.bpferr"
	"$TCPSTATES" --netns "$NS" --source bpf -j >"$F.bpfns"
	check "bpf: --netns NAME walks that netns" \
		[ "$(state_counts "$F.bpfns")" = "$(cat "$F.mod.states")" ]
	in_ns env TCPSTATES_PROC=/nonexistent "$TCPSTATES" -j >"$F.auto"
	check "auto without the module's file: bpf" \
		grep -q '"source":"bpf"' "$F.auto"
	in_ns "$TCPSTATES" -j >"$F.auto"
	check "auto with the module: the module" \
		grep -q '"source":"module"' "$F.auto"
	ip netns add "$NS-empty" &&
		ip netns exec "$NS-empty" "$TCPSTATES" --source bpf -j >"$F.empty"
	ip netns del "$NS-empty" 2>/dev/null
	check "bpf in an empty netns: no sockets" \
		grep -q '"total":{"ipv4":0,"ipv6":0,"total":0}' "$F.empty"

	# tcpstates pin (docs/pins.md): the pinned file is the module's
	# /proc/tcpstates line for line but the scan figures, in the netns
	# that reads it.
	pins=/tmp/$NS.pins
	# pin reads the preemption model from debugfs, as pin_sched does:
	# mounted first (systemd mounts it on a host), both see the same.
	preempt_mode >/dev/null
	if TCPSTATES_BPF_DEBUG=1 "$TCPSTATES" pin --mode 0444 "$pins" \
		2>"$F.pinerr"; then
		ok "tcpstates pin ($(uname -r))"
		check "each pinned program verified in under half the verifier's limit" \
			verified_headroom "$F.pinerr"
		in_ns cat /proc/tcpstates | grep -v '^scan_' >"$F.modfile"
		in_ns cat "$pins/tcpstates" | grep -v '^scan_' >"$F.pinfile"
		if [ -s "$F.pinfile" ] &&
		   diff "$F.modfile" "$F.pinfile" >"$F.diff"; then
			ok "the pinned file is /proc/tcpstates but the scan figures"
		else
			nok "the pinned file is /proc/tcpstates but the scan figures" \
			    "$(tr '\n' ' ' <"$F.diff")"
		fi
		pin_readers "$pins"
		pin_ports "$pins"
		pin_all "$pins"
		pin_tr "$pins"
		pin_ages "$pins"
		# The probe-read walk (6.1) takes a step a bucket: 8M buckets
		# of it take twice as long as 16M of plain loads (2M took 133
		# ms under TCG, too close to its last stretch, about 20 ms).
		if [ "$walk" = "plain loads" ]; then
			pin_sched "$pins" 16777216
		else
			pin_sched "$pins" 8388608
		fi
		"$TCPSTATES" unpin "$pins"
		check "tcpstates unpin" test ! -e "$pins/tcpstates"
	else
		nok "tcpstates pin ($(uname -r))" "$(cat "$F.pinerr")"
	fi
	umount "$pins" 2>/dev/null
	rmdir "$pins" 2>/dev/null
fi

echo "1..$n"
[ $failed = 0 ]
