#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run inside a test guest (scripts/vm-run.sh) from /opt/tcpstates: every
# selftest in turn, TAP on stdout.  Exit status 1 if any failed.
# TESTS (space-separated names) selects a subset.
cd "$(dirname "$0")" || exit 1
export PATH=$PWD:$PATH

TESTS=${TESTS:-tcpstates_test tunables.sh vm_reader.sh rmmod.sh}
failed=0

echo "# kernel $(uname -r)"
for t in $TESTS; do
	if [ ! -x "./$t" ]; then
		echo "not ok - $t: not built"
		failed=1
		continue
	fi
	echo "# selftest: $t"
	timeout 600 "./$t"
	rc=$?
	case $rc in
	0) ;;
	4) echo "# $t: skipped" ;;
	*) echo "# $t: exit $rc"; failed=1 ;;
	esac
done
exit $failed
