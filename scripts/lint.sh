#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: checkpatch --strict on every C file, and the module built with
# sparse (C=1) and W=1 against every kernel of the matrix, each with its
# own toolchain (scripts/kernel-lib.sh: sparse and gcc of the kernel's
# Debian release, in its chroot when this machine runs another).  Any complaint fails.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=kernel-lib.sh
. "$root/scripts/kernel-lib.sh"
build=$root/build
status=0

cd "$root" || exit 1
checkpatch() {
	perl "$build/linux-source/scripts/checkpatch.pl" --no-tree --strict \
		--quiet --show-types "$@"
}

# Our sources only, not what kbuild generated beside them.
files=$(git ls-files '*.c' '*.h' | grep -v '^module/compat.h$')
# shellcheck disable=SC2086
checkpatch -f $files || status=1
# The one place allowed to test kernel versions.
checkpatch --ignore LINUX_VERSION_CODE -f module/compat.h || status=1
[ $status -eq 0 ] || echo "lint: checkpatch found problems"

kernels=$("$root/scripts/kernels.sh") || {
	echo "lint: cannot resolve the kernel matrix (${KERNELS:-default})"
	exit 1
}
# Sparse on every file, for certain: KBUILD_CHECKSRC=1 overrides kbuild's
# own probe, scripts/checker-valid.sh, which Debian's 7.x headers do not
# ship (kbuild then says "C=1 specified, but sparse is not available or
# not up to date" and checks nothing).  A sparse that is really too old
# for a kernel fails on its headers instead.  Not silent (-s), so that the
# CHECK lines show sparse ran.
NOPROBE='C=1 specified, but sparse is not available or not up to date'
# "make -s lint" would silence kbuild's CHECK lines, which count sparse's
# work below: the kernel builds get a make of their own.
unset MAKEFLAGS MFLAGS

# sparse_skip TOOLCHAIN ABI: why that toolchain's sparse cannot check that
# kernel (printed, and status 0), or status 1 when it can.  trixie's sparse
# 0.6.4 dies on 7.x headers (a segfault after "Expected ) in expression"
# in context_tracking_state.h); the sid lane checks the same 7.x code
# paths with sid's sparse 0.6.5.
sparse_skip() {
	case "$1:$2" in
	trixie:[7-9].*|trixie:[1-9][0-9].*)
		echo "trixie's sparse 0.6.4 cannot parse $2's headers (sid's lane runs sparse 0.6.5 on 7.x)"
		return 0 ;;
	esac
	return 1
}
while read -r name abi tc; do
	log=$build/logs/lint-$abi.log
	out=$build/lint-$abi
	mkdir -p "$build/logs"
	rm -rf "$out"
	mkdir -p "$out"
	cp -a "$root/module" "$root/include" "$out/"
	if why=$(sparse_skip "$tc" "$abi"); then
		kernel_make "$abi" "$out/module" W=1 modules > "$log" 2>&1
		rc=$?
		if [ $rc -ne 0 ] || grep -qE 'warning:|error:' "$log"; then
			cat "$log"
			echo "lint: $name ($abi, $tc toolchain): W=1 build not clean (make exited $rc)"
			status=1
		else
			echo "lint: $name ($abi, $tc toolchain): W=1 clean; sparse skipped: $why"
		fi
		continue
	fi
	kernel_make "$abi" "$out/module" C=1 KBUILD_CHECKSRC=1 W=1 modules > "$log" 2>&1
	rc=$?
	checked=$(grep -c '^  CHECK ' "$log")
	if [ $rc -ne 0 ] || grep -v "$NOPROBE" "$log" | grep -qE 'warning:|error:' ||
	   [ "$checked" -eq 0 ]; then
		cat "$log"
		echo "lint: $name ($abi, $tc toolchain): sparse/W=1 build not clean" \
			"(make exited $rc, sparse checked $checked files)"
		status=1
	else
		echo "lint: $name ($abi, $tc toolchain): sparse ($checked files) and W=1 clean"
	fi
done <<< "$kernels"

[ $status -eq 0 ] && echo "lint: clean"
exit $status
