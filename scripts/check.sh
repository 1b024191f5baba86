#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: the reader's host-side tests, then every selftest inside each
# kernel of the matrix (KERNELS, see kernels.sh) booted under QEMU.  TAP
# per kernel; the last line is "N passed, N failed, N skipped".  A kernel
# that cannot be resolved, fetched, built for or booted counts as a
# failure, and so does a guest that did not run its whole plan: every
# selftest it was to run must have printed a TAP plan and as many numbered
# results as planned (selftests/run-guest.sh), counted here from the TAP.
#
# CHECK_EXTRA_TAP="FILE..." adds those TAP files (checks run beside this
# one) to the count.  CHECK_PAYLOAD_EXTRA=DIR copies DIR's files into
# every guest's payload, and GUEST_TIMEOUT (seconds, default 1800 + DURATION,
# 2400 + DURATION for the debug and KCSAN kernels) bounds each guest:
# scripts/check-harness.sh uses both to prove the counting.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
logs=${CHECK_LOGS:-$build/logs}
passed=0
failed=0
skipped=0

mkdir -p "$logs"

# tally FILE: add the TAP results in FILE to the totals.
tally() {
	local p f s

	p=$(grep -cE '^ok ' "$1")
	s=$(grep -cE '^ok .*# *SKIP' "$1")
	f=$(grep -cE '^not ok ' "$1")
	passed=$((passed + p - s))
	skipped=$((skipped + s))
	failed=$((failed + f))
}

# result OK DESCRIPTION: one harness-level TAP line, counted.
result() {
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"
		passed=$((passed + 1))
	else
		echo "not ok - $2"
		failed=$((failed + 1))
	fi
}

# make stress reuses this with GUEST_TESTS=stress.sh and no host tests.
GUEST_TESTS=${GUEST_TESTS:-}
# stress.sh's seconds in each kernel: half a minute in make check (six
# kernels, under an hour of CI); make stress soaks for ten.
DURATION=${DURATION:-30}

make -s -C "$root/selftests" && make -s -C "$root/userspace"
result $? "host: build selftests and reader"

# host_tests: the reader's host tests.  As root, from a copy of this tree
# (build/ and .git left out) under a directory no other user can enter, as
# a root user's clone under /root (0700, Debian's default) is: every test
# that drops privileges must run a copy of what it needs from where that
# user can reach it.
host_tests() {
	local parent rc

	if [ "$(id -u)" != 0 ]; then
		make -s -C "$root/userspace" test
		return
	fi
	parent=$(mktemp -d)
	chmod 0700 "$parent"
	mkdir "$parent/tcpstates"
	tar -C "$root" --exclude=./build --exclude=./.git -cf - . |
		tar -C "$parent/tcpstates" -xf -
	make -s -C "$parent/tcpstates/userspace" test
	rc=$?
	rm -rf "$parent"
	return $rc
}

if [ -z "$GUEST_TESTS" ]; then
	echo "# host: reader unit tests"
	host_tests > "$logs/host.tap" 2>&1
	rc=$?
	cat "$logs/host.tap"
	tally "$logs/host.tap"
	[ $rc -eq 0 ] || [ "$(grep -c '^not ok' "$logs/host.tap")" -gt 0 ] ||
		result 1 "host: userspace tests exited $rc"
	if [ "$(id -u)" = 0 ]; then
		! grep '# SKIP .*uid 65534' "$logs/host.tap"
		result $? "host: from a 0700 directory, no test that drops privileges skipped"
	fi
fi

# CHECK_EXTRA_TAP="FILE...": TAP of checks run beside this one (.ci/run's
# check-host.sh), printed and counted here; one that did
# not print its plan did not finish, a failure.
for extra in ${CHECK_EXTRA_TAP:-}; do
	echo "# host: $extra"
	cat "$extra"
	tally "$extra"
	grep -qE '^1\.\.[0-9]' "$extra" ||
		result 1 "host: $extra has no plan: its check did not finish"
done

if [ -z "$GUEST_TESTS" ]; then
	echo "# host: dkms build and staged make install for every kernel"
	"$root/scripts/dkms-check.sh" > "$logs/dkms.tap" 2>&1
	rc=$?
	cat "$logs/dkms.tap"
	tally "$logs/dkms.tap"
	[ $rc -eq 0 ] || [ "$(grep -c '^not ok' "$logs/dkms.tap")" -gt 0 ] ||
		result 1 "host: dkms-check.sh exited $rc"
fi

# guest_problems TAPFILE: what the guest's TAP says it did not run, one
# line each; then "planned P ran R skipped S" as the last line.  Counted
# from the selftests' own output, not from run-guest.sh's summaries.  A
# guest with fewer CPUs than vm-run.sh gave it (VM_CPUS) is a problem too:
# every race the tests provoke needs two.
guest_problems() {
	awk '
	{ sub(/\r$/, "") }	# the guest writes through a tty: CRLF
	/^# guest: tests/ { started = 1; for (i = 4; i <= NF; i++) list[++n] = $i; next }
	/^# selftest: / { cur = $3; seen[cur] = 1; next }
	/^# guest: cpus / { cpus = $4 + 0; next }
	/^# guest: planned / { finished = 1; cur = ""; next }
	cur != "" && /^1\.\.[0-9]+/ { sub(/^1\.\./, "", $1); plan[cur] = $1 + 0; has[cur] = 1; next }
	cur != "" && /^(not )?ok [0-9]+/ { ran[cur]++; if (/^ok .*# *SKIP/) skip++ }
	END {
		if (!started) print "the guest never started the selftests"
		else if (!finished) print "the guest did not finish the selftests"
		if (started && cpus < want) print "the guest came up with " cpus + 0 " CPU(s) of " want ": nothing ran on two CPUs at once"
		for (i = 1; i <= n; i++) {
			t = list[i]
			if (!seen[t]) print t ": never started"
			else if (!has[t]) print t ": printed no TAP plan"
			else if (ran[t] + 0 == 0) print t ": ran no test"
			else if (ran[t] != plan[t]) print t ": ran " ran[t] + 0 " of " plan[t] " planned"
			P += plan[t]; R += ran[t]
		}
		if (started && n == 0) print "the guest had no selftest to run"
		printf "planned %d ran %d skipped %d\n", P, R, skip
	}' want="${VM_CPUS:-2}" "$1"
}

# vm_status RC: what vm-run.sh's exit status says, if not "the command ran".
vm_status() {
	case $1 in
	0|1) ;;
	122) echo "the kernel could not be fetched" ;;
	123) echo "the initramfs could not be built" ;;
	125) echo "the guest died, hung or never reported a status" ;;
	126) echo "kernel splat" ;;
	*) echo "vm-run.sh exited $1" ;;
	esac
}

if ! kernels=$("$root/scripts/kernels.sh"); then
	result 1 "resolve the kernel matrix (${KERNELS:-default})"
	kernels=
elif [ -z "$kernels" ]; then
	result 1 "the kernel matrix (${KERNELS:-default}) is empty"
fi

# lane_tests NAME: the selftests a lane runs: GUEST_TESTS if set, else
# every one (run-guest.sh's list), but for lanes that would repeat
# another's or need more.  The debug kernel runs what reaches the
# module's code, not the reader's own tests (vm_reader.sh: the reader
# against the module's files and its BPF programs, which KASAN does not
# instrument; 6 minutes there), plus the fuzzer's minute (fuzz.sh) and,
# last, modsig.sh, which turns signature checks on for good; the KCSAN
# kernel (make check-kcsan) the same but modsig.sh.  The debug lane's
# faultinject.sh fails each allocation of the files' reads, a write and a
# netns in turn (about a minute); the load's sweep (faultinject_load.sh)
# takes minutes and is make check-faultinject's.  Bookworm's 6.12 is
# trixie's kernel series built with gcc-12: it proves that toolchain's
# module loads, counts, hooks and unloads, and leaves the long selftests
# to the trixie lane.
lane_tests() {
	if [ -n "$GUEST_TESTS" ]; then
		echo "$GUEST_TESTS"
		return
	fi
	case $1 in
	debug)	echo "tcpstates_test tunables.sh allns.sh ages.sh transitions.sh" \
		     "listeners.sh hardening.sh modprobe.sh rmmod.sh stress.sh" \
		     "fuzz.sh faultinject.sh modsig.sh" ;;
	kcsan)	echo "tcpstates_test tunables.sh allns.sh ages.sh transitions.sh" \
		     "listeners.sh hardening.sh modprobe.sh rmmod.sh stress.sh" \
		     "fuzz.sh" ;;
	6.12)	echo "tcpstates_test listeners.sh ages.sh transitions.sh" \
		     "modprobe.sh rmmod.sh" ;;
	esac
}

# lane NAME ABI: build the module for one kernel of the matrix, boot it
# and run the selftests in it; TAP on stdout.  Run in a subshell of its
# own: its counts go to $logs/ABI.counts as "PASSED FAILED SKIPPED".
lane() {
	local name=$1 abi=$2 start out pl rc problems counts why tmo test_tmo prio

	passed=0 failed=0 skipped=0
	start=$(date +%s)
	out=$build/$abi
	echo "# kernel $name: $abi ($3 toolchain)"
	"$root/scripts/build-module.sh" "$abi" "$out" W=1 > "$logs/$abi.build" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q 'warning:' "$logs/$abi.build" && rc=1
	cat "$logs/$abi.build"
	result $rc "$name: build tcpstates.ko warning-free against $abi headers"
	[ $rc -eq 0 ] || return

	pl=$out/payload
	rm -rf "$pl"
	mkdir -p "$pl"
	cp "$out/tcpstates.ko" "$pl/"
	cp "$root"/selftests/{run-guest.sh,lib.sh,rmmod.sh,tunables.sh,allns.sh,ages.sh,transitions.sh,faultinject.sh,faultinject_load.sh} "$pl/"
	cp "$root"/selftests/{stress.sh,compare_ss.sh,modprobe.sh,hardening.sh,listeners.sh,modsig.sh,fuzz.sh,pin_transitions.sh} "$pl/"
	cp "$root/scripts/install.sh" "$(command -v kmod)" "$pl/"
	cp "$root"/selftests/{tcpstates_test,tcpgen,write_once,churn,readers,failnth,fuzz} "$pl/"
	cp "$root/userspace/tcpstates" "$root"/userspace/tests/{vm_reader.sh,verified.sh} \
	   "$root/userspace/tests/sockhelper" "$pl/"
	[ -z "${CHECK_PAYLOAD_EXTRA:-}" ] || cp -a "$CHECK_PAYLOAD_EXTRA/." "$pl/"
	# modsig.sh's signed copies: the debug kernel is built to check
	# signatures (debug-kernel.config).
	if [[ " $(lane_tests "$name") " == *" modsig.sh "* ]]; then
		"$root/scripts/sign-module.sh" "$abi" "$out/tcpstates.ko" "$pl"
		result $? "$name: tcpstates.ko signed with the kernel's key and with a MOK"
	fi

	# The debug kernel (KASAN, lockdep, kmemleak under TCG) runs the same
	# tests about three times slower than Debian's, and is the longest
	# lane: it gets the CPUs first (the others run niced beside it), and
	# longer bounds, per guest and per selftest.  A niced guest beside it
	# crawls while it computes (sid's hardening.sh took 457 s there, 146 s
	# beside another niced guest, and the guest ran past 930 s twice):
	# the bounds are for hangs, and the debug lane's length is the CI's
	# anyway.
	tmo=$((1800 + DURATION)) test_tmo=900 prio=10
	case $name in
	debug|kcsan) tmo=$((2400 + DURATION)) test_tmo=1200 prio=0 ;;
	esac
	nice -n $prio "$root/scripts/vm-run.sh" -m 2048 -t "${GUEST_TIMEOUT:-$tmo}" -l "$logs/$abi" \
		"$abi" "$pl" "TESTS='$(lane_tests "$name")' DURATION=$DURATION TEST_TIMEOUT=$test_tmo ./run-guest.sh" \
		> "$logs/$abi.tap" 2> "$logs/$abi.err"
	rc=$?
	cat "$logs/$abi.tap" "$logs/$abi.err"
	tally "$logs/$abi.tap"

	# Did the guest run everything it was to run?  A kernel that did not
	# boot, or a selftest that stopped early, is a failure, whatever the
	# results that did come out say.
	problems=$(guest_problems "$logs/$abi.tap")
	counts=$(echo "$problems" | tail -n 1)
	problems=$(echo "$problems" | sed '$d')
	why=$(vm_status $rc)
	if [ $rc -eq 1 ] && ! grep -q '^not ok' "$logs/$abi.tap"; then
		why="the guest exited 1 without a failing result"
	fi
	[ -z "$why" ] || problems=$(printf '%s\n%s' "$why" "$problems")
	problems=$(echo "$problems" | sed '/^$/d')
	if [ -z "$problems" ]; then
		result 0 "$name: guest booted, $counts (every selftest's full plan), no kernel splat"
	else
		echo "$problems" | sed "s/^/# $name: /"
		result 1 "$name: guest run incomplete or failed: $(echo "$problems" | head -n 1) ($counts)"
	fi
	echo "# kernel $name: $(($(date +%s) - start)) s"
}

# run_lane NAME ABI TC: lane, its TAP into $logs/ABI.lane and its counts
# into $logs/ABI.counts, which only a lane that ran to its end writes.
run_lane() {
	rm -f "$logs/$2.counts"
	lane "$@" > "$logs/$2.lane" 2>&1
	echo "$passed $failed $skipped" > "$logs/$2.counts"
}

# add_lane NAME ABI: print a finished lane and add its counts; a lane
# with no counts died in the harness, a failure.
add_lane() {
	local p f s

	cat "$logs/$2.lane"
	if read -r p f s < "$logs/$2.counts"; then
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	else
		result 1 "$1: the harness's lane did not finish"
	fi
}

# CHECK_JOBS guests at a time (default 2).  Each guest's two vCPUs are
# mostly waiting (the tests sleep for timers, TIME_WAIT, churn), so two
# lanes side by side take little more than the longer of them.  The
# longest lanes start first: the debug kernel, then sid's verifier.
# (Starting sid last put 6.1 beside the debug lane instead, where its
# pinned 1300-port file came out short: see docs/pins.md, "Not yet".)
jobs=${CHECK_JOBS:-2}
order=$(awk '{ print ($1 == "debug" ? 0 : $1 == "sid" ? 1 : 2), NR, $0 }' <<< "$kernels" |
	sort -n -k1,1 -k2,2 | cut -d' ' -f3-)
declare -A lane_pid=()
running=0
while read -r name abi tc; do
	[ -n "$name" ] || continue
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_lane "$name" "$abi" "$tc" &
	lane_pid[$abi]=$!
	running=$((running + 1))
done <<< "$order"
# Printed in the matrix's order, each lane whole.
while read -r name abi tc; do
	[ -n "$name" ] || continue
	wait "${lane_pid[$abi]}"
	add_lane "$name" "$abi"
done <<< "$kernels"

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
