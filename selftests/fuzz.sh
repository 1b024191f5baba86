#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fuzzer (fuzz.c, issue 24) on every file of the module for
# FUZZ_SECONDS (60): FUZZ_WORKERS (6) processes as root, uid 65534 and
# uid 0 without capabilities, in the initial netns, two made here and
# their own, open, read, seek, pread, write the tunables and churn
# connections, while the module is unloaded and loaded again up to
# FUZZ_RELOADS times (5, 0 for none) in the middle half of the run.
# Then: the fuzzer found nothing, every /proc file was read whole and
# well-formed, a plain read of each is still whole and right (against
# ss in a netns of known sockets), the tunables are back, and kmemleak
# finds nothing of the module's.  The fuzzer prints "# seed N";
# FUZZ_SEED=N replays that run.  The module is loaded by the guest, as
# for the other selftests.
source "$(dirname "$0")/lib.sh"
require_root

HERE=$(cd "$(dirname "$0")" && pwd)
DBG=/sys/kernel/debug
MAXTW=/proc/sys/net/ipv4/tcp_max_tw_buckets
REUSE=/proc/sys/net/ipv4/tcp_tw_reuse
PROC_FILES="/proc/tcpstates /proc/tcpstates_all /proc/tcpstates_ports /proc/tcpstates_close_wait /proc/tcpstates_ages /proc/tcpstates_transitions /proc/tcpstates_transitions_ports"
SYS_FILES="max_tw_buckets tw_reuse tw_count scans scan_restarts scan_incomplete snapshot_bytes"
DESC=("the fuzzer exits 0: no errno the docs do not allow, no hang, no crash"
      "every whole read of every file is well-formed, each /proc file read whole"
      "rmmod/insmod under the fuzzer"
      "after the run, a plain read of each file is whole and right (against ss)"
      "the tunables of every netns the fuzzer wrote in are back"
      "kmemleak finds nothing of the module's after the run")

# make fuzz hands the seconds and the seed over in fuzz.env (the guest's
# command line carries only TESTS, DURATION and TEST_TIMEOUT); the
# environment wins.  Read, not sourced: numbers only.
load_env() {
	local k v

	[ -r "$HERE/fuzz.env" ] || return 0
	while IFS='=' read -r k v; do
		[[ "$v" =~ ^[0-9]+$ ]] || continue
		case $k in
		FUZZ_SECONDS) FUZZ_SECONDS=${FUZZ_SECONDS:-$v} ;;
		FUZZ_SEED) FUZZ_SEED=${FUZZ_SEED:-$v} ;;
		esac
	done < "$HERE/fuzz.env"
}

# skip_all REASON: every result a SKIP with REASON.
skip_all() {
	local d

	for d in "${DESC[@]}"; do
		SKIP_REASON=$1
		log_test $ksft_skip "fuzz: $d"
	done
	ksft_exit
	exit
}

# ns_path NS: the file ip netns made for NS, for the fuzzer's setns().
ns_path() {
	local d

	for d in /var/run/netns /run/netns; do
		[ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
	done
	return 1
}

# tunables: "MAX REUSE" of the initial netns, then of A and B, one line.
tunables() {
	local ns t

	t=$({
		cat $MAXTW $REUSE
		for ns in "$A" "$B"; do
			ip netns exec "$ns" cat $MAXTW $REUSE
		done
	} | tr '\n' ' ')
	echo "${t% }"
}

# put_tunables "MAX REUSE ...": as tunables printed them (cleanup).
put_tunables() {
	local v ns i=0

	read -r -a v <<< "$1"

	for ns in "" "$A" "$B"; do
		if [ -z "$ns" ]; then
			echo "${v[i]}" > $MAXTW
			echo "${v[i + 1]}" > $REUSE
		else
			ip netns exec "$ns" sh -c \
				"echo ${v[i]} > $MAXTW; echo ${v[i + 1]} > $REUSE"
		fi
		i=$((i + 2))
	done
}

loaded() {
	grep -q '^tcpstates 1$' /proc/tcpstates 2>/dev/null
}

# reloads: rmmod and insmod up to RELOADS times in the middle half of the
# run, 2 s apart; "ROUNDS [what failed]" into $OUT.reloads.
reloads() {
	local n=0 end=$((SECONDS + SECS * 3 / 4)) why=

	sleep $((SECS / 4))
	while [ $n -lt "$RELOADS" ] && [ $SECONDS -lt $end ]; do
		rmmod tcpstates || { why="rmmod failed"; break; }
		insmod "$TCPSTATES_KO" || { why="insmod failed"; break; }
		n=$((n + 1))
		sleep 2
	done
	echo "$n $why" > "$OUT.reloads"
}

# run_fuzz: the fuzzer, and the reloads beside it; its status.
run_fuzz() {
	local args=(-w "$WORKERS" -n "$PATH_A" -n "$PATH_B") rc pid

	[ -z "$FUZZ_SEED" ] || args+=(-s "$FUZZ_SEED")
	echo "# fuzz ${args[*]} $SECS"
	"$HERE/fuzz" "${args[@]}" "$SECS" > "$OUT" 2>&1 &
	pid=$!
	defer kill $pid
	if [ "$RELOADS" -gt 0 ] && [ -r "$TCPSTATES_KO" ]; then
		reloads &
		wait $!
	fi
	wait $pid
	rc=$?
	sed 's/^# //; s/^/# /' "$OUT"
	# A reload stopped halfway leaves the module out: load it back.
	loaded || insmod "$TCPSTATES_KO"
	return $rc
}

check_whole() {
	local f line ret=0

	grep -q '^# summary: malformed 0,' "$OUT" || ret=1
	for f in $PROC_FILES; do
		line=$(grep "^# whole $f: " "$OUT")
		if ! [[ "$line" =~ :\ [1-9][0-9]*\ checked,\ 0\ malformed$ ]]; then
			echo "# $f: ${line:-no count}"
			ret=1
		fi
	done
	return $ret
}

check_reloads() {
	local n why

	if [ "$RELOADS" -eq 0 ]; then
		SKIP_REASON="FUZZ_RELOADS=0"
		return $ksft_skip
	fi
	if [ ! -r "$TCPSTATES_KO" ]; then
		SKIP_REASON="no $TCPSTATES_KO to load again"
		return $ksft_skip
	fi
	read -r n why < "$OUT.reloads"
	echo "# $n rmmod/insmod rounds under the fuzzer${why:+, then $why}"
	[ "$n" -gt 0 ] && [ -z "$why" ] && loaded
}

# A netns with known sockets: 3 v4 connections held open, 4 closed into
# TIME_WAIT, 2 v6 leaked (CLOSE_WAIT and FIN_WAIT2).
known_sockets() {
	setup_ns K || return 1
	hold "$K" estab 3
	ip netns exec "$K" "$HERE/tcpgen" tw 4 || return 1
	hold "$K" -6 leak 2
}

# tcpstates_is NS STATE V4 V6
tcpstates_is() {
	[ "$(tcpstates_field "$1" "$2" 2)" = "$3" ] &&
		[ "$(tcpstates_field "$1" "$2" 3)" = "$4" ]
}

# settled NS: /proc/tcpstates equals ss -tan in NS within 10 s.
settled() {
	for _ in $(seq 20); do
		ip netns exec "$1" "$HERE/compare_ss.sh" > "$OUT.ss" 2>&1 &&
			return 0
		sleep 0.5
	done
	cat "$OUT.ss"
	return 1
}

check_plain() {
	local f ret=0

	for f in $PROC_FILES; do
		"$HERE/fuzz" -c "$f" || ret=1
	done
	for f in $SYS_FILES; do
		"$HERE/fuzz" -c "$SYSFS/$f" || ret=1
	done
	known_sockets || { echo "# the known sockets were not made"; return 1; }
	for f in $PROC_FILES; do
		[ "$f" = /proc/tcpstates_all ] && continue
		ip netns exec "$K" "$HERE/fuzz" -c "$f" || ret=1
	done
	settled "$K" || ret=1
	if ! tcpstates_is "$K" ESTABLISHED 6 0 ||
	   ! tcpstates_is "$K" TIME_WAIT 4 0 ||
	   ! tcpstates_is "$K" CLOSE_WAIT 0 2 || ! tcpstates_is "$K" LISTEN 1 1; then
		echo "# the known sockets are not counted as made"
		ret=1
	fi
	return $ret
}

check_tunables() {
	local after

	after=$(tunables)
	echo "# tunables (max_tw_buckets tw_reuse: initial, A, B): before $BEFORE, after $after"
	[ "$after" = "$BEFORE" ]
}

check_kmemleak() {
	grep -q " $DBG " /proc/mounts || mount -t debugfs debugfs $DBG 2>/dev/null
	if [ ! -w $DBG/kmemleak ]; then
		SKIP_REASON="no kmemleak in this kernel"
		return $ksft_skip
	fi
	echo scan > $DBG/kmemleak
	sleep 1
	echo scan > $DBG/kmemleak
	if grep -q tcpstates $DBG/kmemleak; then
		grep -B2 -A20 tcpstates $DBG/kmemleak | head -n 40 | sed 's/^/# /'
		return 1
	fi
	return 0
}

load_env
SECS=${FUZZ_SECONDS:-60}
WORKERS=${FUZZ_WORKERS:-6}
RELOADS=${FUZZ_RELOADS:-5}
FUZZ_SEED=${FUZZ_SEED:-}
[ -x "$HERE/fuzz" ] || skip_all "no fuzz binary here (make -C selftests)"
loaded || insmod "$TCPSTATES_KO" 2>/dev/null
loaded || skip_all "the module is not loaded, and $TCPSTATES_KO does not load"
OUT=$(mktemp)
defer rm -f "$OUT" "$OUT.reloads" "$OUT.ss"
setup_ns A B || exit 1
if ! PATH_A=$(ns_path "$A") || ! PATH_B=$(ns_path "$B"); then
	skip_all "no /var/run/netns/$A from ip netns"
fi
BEFORE=$(tunables)
# Whatever becomes of the fuzzer, the machine gets its values back.
defer put_tunables "'$BEFORE'"

run_fuzz
log_test $? "fuzz: ${DESC[0]}"
check_whole
log_test $? "fuzz: ${DESC[1]}"
check_reloads
log_test $? "fuzz: ${DESC[2]}"
check_plain
log_test $? "fuzz: ${DESC[3]}"
check_tunables
log_test $? "fuzz: ${DESC[4]}"
check_kmemleak
log_test $? "fuzz: ${DESC[5]}"
ksft_exit
