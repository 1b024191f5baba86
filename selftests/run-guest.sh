#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run inside a test guest (scripts/vm-run.sh) from /opt/tcpstates: every
# selftest in turn, TAP on stdout.  Exit status 1 if any failed.
# TESTS (space-separated names) selects a subset; TEST_TIMEOUT (600)
# bounds each selftest, in seconds, DURATION more.
#
# What the host's scripts/check.sh relies on to tell a guest that ran
# everything from one that did not:
#   # guest: tests NAME...          first, the selftests this run will start
#   # selftest: NAME                before each selftest's own TAP output
#   # selftest NAME: plan P, ran R: N passed, N failed, N skipped, T s
#                                   after it: its TAP plan (1..P, "none" if
#                                   it printed none) and its numbered results
#   # guest: planned P ran R        last: the sums over every selftest
# A selftest that printed no plan, or ran fewer or more results than its
# plan, or none, is a failure here (a "not ok - NAME: ..." line) and in
# check.sh, which counts again from the TAP itself.  A SKIP result
# ("ok N - ... # SKIP reason") counts as ran, and as skipped.  A whole
# selftest exiting 4 (kselftest's skip) fails: everything a selftest
# needs is in this guest, and a case that cannot run on a kernel reports
# its own SKIP with the reason.
cd "$(dirname "$0")" || exit 1
export PATH=$PWD:$PATH

TESTS=${TESTS:-tcpstates_test tunables.sh allns.sh ages.sh transitions.sh pin_transitions.sh listeners.sh hardening.sh vm_reader.sh modprobe.sh rmmod.sh stress.sh}
failed=0
planned=0
ran=0

echo "# kernel $(uname -r)"
# check.sh compares it with the CPUs the guest was given.
echo "# guest: cpus $(nproc)"
# shellcheck disable=SC2086
echo "# guest: tests" $TESTS
for t in $TESTS; do
	echo "# selftest: $t"
	if [ ! -x "./$t" ]; then
		echo "# selftest $t: plan none, ran 0: 0 passed, 0 failed, 0 skipped"
		echo "not ok - $t: not built"
		failed=1
		continue
	fi
	t0=$SECONDS
	TCPSTATES=$PWD/tcpstates SOCKHELPER=$PWD/sockhelper \
		timeout $((${TEST_TIMEOUT:-600} + ${DURATION:-0})) "./$t" |
		tee "/tmp/$t.out"
	rc=${PIPESTATUS[0]}

	# Only the selftest's own numbered results count, at the start of a
	# line (nested TAP is indented or "# "-prefixed).
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "/tmp/$t.out" | tail -n 1)
	n_ok=$(grep -cE '^ok [0-9]+' "/tmp/$t.out")
	n_skip=$(grep -cE '^ok [0-9]+.*# *SKIP' "/tmp/$t.out")
	n_fail=$(grep -cE '^not ok [0-9]+' "/tmp/$t.out")
	n=$((n_ok + n_fail))
	echo "# selftest $t: plan ${plan:-none}, ran $n: $((n_ok - n_skip)) passed, $n_fail failed, $n_skip skipped, $((SECONDS - t0)) s"
	planned=$((planned + ${plan:-0}))
	ran=$((ran + n))

	case $rc in
	0) ;;
	4) echo "not ok - $t: skipped as a whole (exit 4) in the test guest"; failed=1 ;;
	*)	# A test that died before reporting its failure still fails.
		[ "$n_fail" -gt 0 ] ||
			echo "not ok - $t: exited with status $rc"
		failed=1 ;;
	esac
	if [ -z "$plan" ]; then
		echo "not ok - $t: printed no TAP plan"
		failed=1
	elif [ "$n" -ne "$plan" ] || [ "$n" -eq 0 ]; then
		echo "not ok - $t: ran $n of $plan planned"
		failed=1
	fi
done
echo "# guest: planned $planned ran $ran"
exit $failed
