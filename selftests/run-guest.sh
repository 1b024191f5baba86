#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run inside a test guest (scripts/vm-run.sh) from /opt/tcpstates: every
# selftest in turn, TAP on stdout.  Exit status 1 if any failed.
# TESTS (space-separated names) selects a subset.
cd "$(dirname "$0")" || exit 1
export PATH=$PWD:$PATH

TESTS=${TESTS:-tcpstates_test tunables.sh allns.sh vm_reader.sh modprobe.sh rmmod.sh stress.sh}
failed=0

echo "# kernel $(uname -r)"
for t in $TESTS; do
	if [ ! -x "./$t" ]; then
		echo "not ok - $t: not built"
		failed=1
		continue
	fi
	echo "# selftest: $t"
	TCPSTATES=$PWD/tcpstates SOCKHELPER=$PWD/sockhelper \
		timeout $((600 + ${DURATION:-0})) "./$t" |
		tee "/tmp/$t.out"
	rc=${PIPESTATUS[0]}
	case $rc in
	0) ;;
	# Everything a test needs is in this guest: a skip is a broken harness.
	4) echo "not ok - $t skipped in the test guest"; failed=1 ;;
	*)	# A test that died before reporting its failure still fails.
		grep -q '^not ok' "/tmp/$t.out" ||
			echo "not ok - $t exited with status $rc"
		failed=1 ;;
	esac
done
exit $failed
