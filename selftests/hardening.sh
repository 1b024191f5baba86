#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Hostile readers and churning tables:
#   - while sockets are connected, reset and freed at once, and listeners
#     come and go in another netns, every read of each /proc file shows
#     CLOSE 0 and exactly the listeners there are (never a phantom state);
#   - a flood of unprivileged readers (and of root readers of _all) costs
#     the kernel no more than a few MB beyond what the same flood of a
#     trivial /proc file costs;
#   - one large read of _ports, _all or tcpstates walks the tables once,
#     however small the reader's buffer;
#   - one unprivileged uid holding every _ports snapshot its share of the
#     budget allows locks out neither root nor another uid.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
SECONDS_CHURN=${HARDEN_SECONDS:-20}
SECONDS_BPF=${HARDEN_BPF_SECONDS:-10}
READERS=${HARDEN_READERS:-120}
# Bounds on the extra kernel memory a flood may cost, in kB.  MemAvailable
# is noisy under emulation; the bug this guards against cost 1.3 GB.
BOUND_VMALLOC=4096
BOUND_SLAB=4096
BOUND_AVAIL=65536

# meminfo KEY: the value in kB.
meminfo() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# peak_cost CMD...: run CMD, sampling /proc/meminfo; print the largest rise
# of VmallocUsed and Slab and the largest fall of MemAvailable, in kB.
peak_cost() {
	local v0 s0 a0 v s a dv=0 ds=0 da=0 pid

	sync
	echo 3 > /proc/sys/vm/drop_caches
	v0=$(meminfo VmallocUsed) s0=$(meminfo Slab) a0=$(meminfo MemAvailable)
	"$@" &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		v=$(meminfo VmallocUsed) s=$(meminfo Slab) a=$(meminfo MemAvailable)
		[ $((v - v0)) -gt $dv ] && dv=$((v - v0))
		[ $((s - s0)) -gt $ds ] && ds=$((s - s0))
		[ $((a0 - a)) -gt $da ] && da=$((a0 - a))
		sleep 0.2
	done
	wait $pid
	echo "$dv $ds $da $?"
}

# flood_cost FILE PREFIX...: the cost of READERS processes reading FILE in
# a loop (run through PREFIX: netns, uid) beyond the same flood of
# /proc/version, which is what the processes themselves cost.
flood_cost() {
	local file=$1 base cost ret=0

	shift
	base=($(peak_cost "$@" "$HERE/readers" flood /proc/version "$READERS" 5))
	cost=($(peak_cost "$@" "$HERE/readers" flood "$file" "$READERS" 5))
	echo "# $file, $READERS readers: VmallocUsed +${cost[0]} kB" \
		"(control +${base[0]}), Slab +${cost[1]} (+${base[1]})," \
		"MemAvailable -${cost[2]} (-${base[2]})"
	[ "${base[3]}" = 0 ] && [ "${cost[3]}" = 0 ] ||
		{ echo "# a reader failed (exit ${base[3]}, ${cost[3]})"; ret=1; }
	[ $((cost[0] - base[0])) -le $BOUND_VMALLOC ] || ret=1
	[ $((cost[1] - base[1])) -le $BOUND_SLAB ] || ret=1
	[ $((cost[2] - base[2])) -le $BOUND_AVAIL ] || ret=1
	return $ret
}

# hold_cost NS FILE: READERS unprivileged opens held after one byte.
hold_cost() {
	local ns=$1 file=$2 v0 a0 v a out pid

	v0=$(meminfo VmallocUsed) a0=$(meminfo MemAvailable)
	out=$(mktemp)
	ip netns exec "$ns" setpriv --reuid 65534 --regid 65534 --clear-groups -- \
		"$HERE/readers" hold "$file" "$READERS" > "$out" &
	pid=$!
	defer kill $pid
	for _ in $(seq 100); do
		grep -q ready "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.3
	done
	v=$(meminfo VmallocUsed) a=$(meminfo MemAvailable)
	kill $pid
	wait $pid 2>/dev/null
	echo "# $READERS held opens of $file: VmallocUsed +$((v - v0)) kB," \
		"MemAvailable -$((a0 - a)) kB"
	grep -q ready "$out" && [ $((v - v0)) -le $((BOUND_VMALLOC + READERS * 20)) ]
}

# start_bg VAR CMD...: run CMD in the background, its PID in VAR, killed
# at exit.
start_bg() {
	local var=$1

	shift
	"$@" > /dev/null 2>&1 &
	eval "$var=$!"
	defer kill $!
}

# wait_listen NS N: until the netns shows N listeners (10 s).
wait_listen() {
	for _ in $(seq 50); do
		[ "$(tcpstates_field "$1" LISTEN 2)" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

check_churn() {
	local inum ret=0 out pid pids=()

	# The churn outlasts the readers however slow the guest is (killed
	# below): a debug guest beside another took over 10 s to get the
	# readers going, and the first churn ended, with its listener, under
	# them (LISTEN 1 of 2).
	start_bg p1 ip netns exec "$A" "$HERE/churn" rst $((SECONDS_CHURN + 300))
	start_bg p2 ip netns exec "$A" "$HERE/churn" loop $((SECONDS_CHURN + 300))
	start_bg p3 ip netns exec "$C" "$HERE/churn" listen $((SECONDS_CHURN + 300))
	wait_listen "$A" 2 || { echo "# churn listeners did not come up"; return 1; }
	inum=$(ip netns exec "$A" readlink /proc/self/ns/net | tr -dc 0-9)
	out=$(mktemp -d)
	ip netns exec "$A" "$HERE/readers" check /proc/tcpstates "$SECONDS_CHURN" 2 \
		> "$out/plain" 2>&1 &
	pids+=($!)
	ip netns exec "$A" "$HERE/readers" check /proc/tcpstates_ports "$SECONDS_CHURN" 2 \
		> "$out/ports" 2>&1 &
	pids+=($!)
	"$HERE/readers" check /proc/tcpstates_all "$SECONDS_CHURN" 2 "$inum" \
		> "$out/all" 2>&1 &
	pids+=($!)
	# By PID: job numbers shift with the jobs before them, and "wait %4"
	# once waited out a churner's whole 320 s.
	for pid in "${pids[@]}"; do
		wait "$pid" || ret=1
	done
	for f in plain ports all; do
		echo "# $f: $(tail -n 1 "$out/$f")"
		grep -m 3 'bad read' "$out/$f" | sed 's/^/# /'
	done
	kill $p1 $p2 $p3 2>/dev/null
	wait $p1 $p2 $p3 2>/dev/null
	rm -rf "$out"
	return $ret
}

# bpf_samples FILE: "SAMPLES RESTARTS BAD" of the reader's JSON lines; a
# bad sample shows a CLOSE socket or other than the 2 listeners.
bpf_samples() {
	awk '{
		n++
		if (match($0, /"restarts":[0-9]+/))
			r += substr($0, RSTART + 11, RLENGTH - 11)
		if (index($0, "\"CLOSE\":{\"ipv4\":0,\"ipv6\":0,\"total\":0}") == 0 ||
		    !match($0, /"LISTEN":[^}]*"total":2[}]/))
			bad++
	} END { print n + 0, r + 0, bad + 0 }' "$1"
}

# The bpf source under the same churn: watches (one load, a walk every
# 0.1 s, the shortest interval) in A.  A chain that keeps changing past the retries fails a read
# with that reason; no sample ever shows a state that cannot be there.
check_churn_bpf() {
	local reader=$HERE/tcpstates out rc end s r b k
	local samples=0 restarts=0 bad=0 gaveup=0 skipped=0

	[ -x "$reader" ] || { SKIP_REASON="no reader in this payload"; return $ksft_skip; }
	out=$(mktemp)
	defer rm -f "$out" "$out.err"
	if ! ip netns exec "$A" "$reader" --source bpf -j > /dev/null 2> "$out.err"; then
		SKIP_REASON=$(head -n 1 "$out.err")
		return $ksft_skip
	fi
	start_bg p1 ip netns exec "$A" "$HERE/churn" rst $((SECONDS_BPF + 300))
	start_bg p2 ip netns exec "$A" "$HERE/churn" loop $((SECONDS_BPF + 300))
	start_bg p3 ip netns exec "$C" "$HERE/churn" listen $((SECONDS_BPF + 300))
	wait_listen "$A" 2 || { echo "# churn listeners did not come up"; return 1; }
	end=$((SECONDS + SECONDS_BPF))
	while [ $SECONDS -lt $end ]; do
		ip netns exec "$A" "$reader" --source bpf -j -w 0.1 -c 40 \
			> "$out" 2> "$out.err"
		rc=$?
		# A sample that failed under churn is skipped with one line;
		# only 5 in a row end the watch.
		k=$(grep -c "kept changing under socket churn" "$out.err")
		[ "$(wc -l < "$out.err")" = "$k" ] ||
			{ echo "# reader: $(grep -v "kept changing" "$out.err" | head -n 1)"; bad=$((bad + 1)); }
		[ $rc = 0 ] || gaveup=$((gaveup + 1))
		# No process substitution: the guest has no /dev/fd.
		b=$(bpf_samples "$out")
		s=${b%% *} b=${b#* } r=${b%% *} b=${b#* }
		# Every tick is a sample or a skipped one, until a give-up.
		if [ $rc = 0 ] && [ $((s + k)) != 40 ]; then
			echo "# watch: $s samples and $k skipped of 40"
			bad=$((bad + 1))
		fi
		samples=$((samples + s)) restarts=$((restarts + r)) bad=$((bad + b))
		skipped=$((skipped + k))
	done
	kill $p1 $p2 $p3 2>/dev/null
	wait $p1 $p2 $p3 2>/dev/null
	echo "# bpf: $samples samples, $skipped skipped under churn," \
		"$restarts chains walked again, $gaveup watches gave up, $bad bad"
	[ $samples -gt 0 ] && [ $bad = 0 ]
}

# A private ehash of one bucket: every socket in one chain, longer than
# what the walk counts straight into its totals.
check_long_chains() {
	local ns pid ret=0

	if [ ! -w $CHILD_EHASH ]; then
		SKIP_REASON="no tcp_child_ehash_entries (private ehash came with 6.1)"
		return $ksft_skip
	fi
	echo 1 > $CHILD_EHASH
	setup_ns L || return 1
	echo 0 > $CHILD_EHASH
	ip netns exec "$L" "$HERE/tcpgen" estab 60 > /dev/null &
	pid=$!
	defer kill $pid
	ip netns exec "$L" "$HERE/tcpgen" tw 40 || ret=1
	for _ in $(seq 100); do
		[ "$(tcpstates_field "$L" ESTABLISHED 2)" = 120 ] && break
		sleep 0.2
	done
	echo "# $(ip netns exec "$L" cat /proc/sys/net/ipv4/tcp_ehash_entries) bucket(s):" \
		"$(tcpstates_field "$L" total 2) sockets"
	ip netns exec "$L" "$HERE/compare_ss.sh" || ret=1
	[ "$(tcpstates_field "$L" ESTABLISHED 2)" = 120 ] || ret=1
	kill $pid
	return $ret
}

# scans_per_read CMD...: how many table walks CMD made.
scans_per_read() {
	local before

	before=$(cat $SYSFS/scans)
	"$@" > /dev/null || return 1
	echo $(($(cat $SYSFS/scans) - before))
}

check_walks() {
	local n lines ret=0

	lines=$(ip netns exec "$F" cat /proc/tcpstates_ports | wc -l)
	echo "# /proc/tcpstates_ports of the test netns: $lines lines"
	[ "$lines" -ge 600 ] || ret=1
	# A small buffer: seq_file would once have walked again per refill.
	n=$(scans_per_read ip netns exec "$F" dd if=/proc/tcpstates_ports bs=64 status=none)
	echo "# ports, read 64 bytes at a time: $n walk(s)"
	[ "$n" = 1 ] || ret=1
	n=$(scans_per_read dd if=/proc/tcpstates_all bs=64 status=none)
	echo "# all, read 64 bytes at a time: $n walk(s)"
	[ "$n" = 1 ] || ret=1
	n=$(scans_per_read ip netns exec "$F" dd if=/proc/tcpstates bs=16 status=none)
	echo "# tcpstates, read 16 bytes at a time: $n walk(s)"
	[ "$n" = 1 ] || ret=1
	return $ret
}

# The holder: as many opens of _ports as the module allows, every one kept;
# "held N" when refused, then the descriptors stay open until killed.
BUDGET_HOLDER='
n=0
while exec {fd}</proc/tcpstates_ports; do
	n=$((n + 1))
done
echo "held $n"
exec sleep 3600'

# ports_whole FILE: a whole _ports read of F: its three header lines and
# the 600 listeners, one "in" row each.
ports_whole() {
	[ "$(head -n 1 "$1")" = "tcpstates_ports 1" ] &&
		[ "$(sed -n 2p "$1")" = "netns $F_INUM" ] &&
		[ "$(wc -l < "$1")" = 603 ] &&
		[ "$(grep -c '^in ' "$1")" = 600 ]
}

# budget_read WHO FILE CMD...: read _ports in F as CMD says into FILE; it
# must be whole and equal to the read made before the hold.
budget_read() {
	local who=$1 file=$2

	shift 2
	if ! ip netns exec "$F" "$@" cat /proc/tcpstates_ports > "$file" 2> "$file.err"; then
		echo "# $who: $(head -n 1 "$file.err")"
		return 1
	fi
	echo "# $who: $(wc -l < "$file") lines"
	ports_whole "$file" && cmp -s "$BUDGET_DIR/base" "$file"
}

# budget_hold: start the holder as uid 65534 in F; true once it was
# refused with EBUSY (not EMFILE, nor a crash), holding the share of one
# uid (8 MB: docs/design.md) less at most one more snapshot of F.
budget_hold() {
	local out=$BUDGET_DIR/holder share=$((8 << 20)) held

	(ulimit -n 65536
	 exec ip netns exec "$F" $NOBODY bash -c "$BUDGET_HOLDER") > "$out" 2>&1 &
	BUDGET_PID=$!
	defer kill $BUDGET_PID
	for _ in $(seq 600); do
		grep -q '^held' "$out" && break
		kill -0 $BUDGET_PID 2>/dev/null || break
		sleep 0.5
	done
	echo "# holder (uid 65534): $(grep '^held' "$out") opens, then:" \
		"$(grep -v '^held' "$out" | head -n 1)"
	held=$(cat $SYSFS/snapshot_bytes 2>/dev/null)
	echo "# snapshot_bytes while held: ${held:-none} (one uid's share: $share)"
	grep -q '^held [1-9]' "$out" && grep -q 'Device or resource busy' "$out" &&
		[ -n "$held" ] && [ "$held" -le $share ] &&
		[ "$held" -gt $((share - 65536)) ]
}

# budget_release: the holder exits; the budget's use returns to 0 and
# the holder's uid reads again.
budget_release() {
	local bytes

	kill $BUDGET_PID
	wait $BUDGET_PID 2>/dev/null
	for _ in $(seq 25); do
		bytes=$(cat $SYSFS/snapshot_bytes 2>/dev/null) ||
			{ echo "# no $SYSFS/snapshot_bytes"; return 1; }
		[ "$bytes" = 0 ] && break
		sleep 0.2
	done
	echo "# snapshot_bytes after the holder closed: $bytes"
	[ "$bytes" = 0 ] &&
		budget_read "uid 65534 again" "$BUDGET_DIR/again" $NOBODY
}

# A small private ehash (6.1+) puts a walker on sockets most of the time,
# where a freed and reused socket can mislead it; 5.10 uses the shared one.
CHILD_EHASH=/proc/sys/net/ipv4/tcp_child_ehash_entries
if [ -w $CHILD_EHASH ]; then
	echo 256 > $CHILD_EHASH
	setup_ns A || exit 1
	echo 0 > $CHILD_EHASH
else
	echo "# no tcp_child_ehash_entries: churn in the shared ehash"
	setup_ns A || exit 1
fi
setup_ns C F || exit 1
check_long_chains
log_test $? "chains of 100+ sockets (a 1-bucket private ehash) count exactly"
check_churn
log_test $? "under connect/accept/RST and listen/close churn, every read: CLOSE 0, LISTEN exact"
check_churn_bpf
log_test $? "the bpf source under the same churn: every sample CLOSE 0, LISTEN exact"

start_bg pl ip netns exec "$F" "$HERE/readers" listen 600 20000
wait_listen "$F" 600 || echo "# the 600 listeners did not come up"
check_walks
log_test $? "one read of any size walks the tables once (ports, all, tcpstates)"
NOBODY="setpriv --reuid 65534 --regid 65534 --clear-groups --"
OTHER="setpriv --reuid 65533 --regid 65533 --clear-groups --"
F_INUM=$(ip netns exec "$F" readlink /proc/self/ns/net | tr -dc 0-9)
BUDGET_DIR=$(mktemp -d)
defer rm -rf "$BUDGET_DIR"
ip netns exec "$F" cat /proc/tcpstates_ports > "$BUDGET_DIR/base"
ports_whole "$BUDGET_DIR/base" || echo "# _ports of F before the hold is not whole"
budget_hold
log_test $? "uid 65534 holds _ports snapshots until EBUSY, at its 8 MB share of the budget"
budget_read "root" "$BUDGET_DIR/root"
log_test $? "while it holds them, a root reader reads _ports whole"
budget_read "uid 65533" "$BUDGET_DIR/other" $OTHER
log_test $? "while it holds them, another unprivileged uid reads _ports whole"
budget_release
log_test $? "once the holder closes them, the snapshot budget's use returns to 0"
flood_cost /proc/tcpstates_ports ip netns exec "$F" $NOBODY
log_test $? "$READERS unprivileged readers of /proc/tcpstates_ports: kernel memory bounded"
hold_cost "$F" /proc/tcpstates_ports
log_test $? "$READERS unprivileged opens of /proc/tcpstates_ports held: memory bounded"
flood_cost /proc/tcpstates ip netns exec "$F" $NOBODY
log_test $? "$READERS unprivileged readers of /proc/tcpstates: kernel memory bounded"
flood_cost /proc/tcpstates_all env
log_test $? "$READERS root readers of /proc/tcpstates_all: kernel memory bounded"
ksft_exit
