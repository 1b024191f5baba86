#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-0700.sh: the host tests from a checkout no other user can enter,
# as a root user's clone under /root (mode 0700, Debian's default) is.
# Clones this checkout's HEAD (a local clone: commit first) into a fresh
# 0700 directory and runs "make -C userspace test" there: every test that
# drops privileges must run a copy of what it needs from a place that user
# can reach, not SKIP and not fail with 126.  Prints TAP; exits 1 if any
# check failed.  Needs root (else it skips); about 2 to 3 minutes.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tap-lib.sh
. "$root/scripts/tap-lib.sh"

echo "TAP version 13"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root: the tests that drop privileges run as root only"
	exit 0
fi
parent=$(mktemp -d)
trap 'rm -rf "$parent"' EXIT
chmod 0700 "$parent"
tree=$parent/tcpstates
start=$(date +%s)

if ! git clone -q --no-hardlinks "$root" "$tree" 2>"$parent/clone.err"; then
	result 1 "clone of HEAD under a 0700 directory"
	sed 's/^/# /' "$parent/clone.err"
	echo "1..$n"
	exit 1
fi
result 0 "clone of HEAD ($(git -C "$tree" rev-parse --short HEAD)) under a 0700 directory"
why=
setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$tree" \
	2>/dev/null && why="$parent is not 0700"
result_why "uid 65534 cannot enter the clone" "$why"

make -C "$tree/userspace" test >"$parent/test.out" 2>&1
rc=$?
passed=$(grep -c '^ok ' "$parent/test.out")
notok=$(grep '^not ok ' "$parent/test.out")
why=
[ $rc -eq 0 ] && [ -z "$notok" ] ||
	why="exit $rc: ${notok:-$(tail -20 "$parent/test.out")}"
result_why "make -C userspace test from there: $passed passed" "$why"
# The copies must make them run, not skip.
result_why "no test that drops privileges skipped" \
	"$(grep '# SKIP .*uid 65534' "$parent/test.out")"
echo "# check-0700: $(($(date +%s) - start)) s"
echo "1..$n"
[ "$failed" -eq 0 ]
