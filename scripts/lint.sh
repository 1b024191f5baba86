#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make lint: checkpatch --strict on every C file, and the module built with
# sparse (C=1) and W=1 against every kernel of the matrix.  Any complaint
# fails.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
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

while read -r name abi; do
	log=$build/logs/lint-$abi.log
	mkdir -p "$build/logs"
	if ! "$root/scripts/build-module.sh" "$abi" "$build/lint-$abi" C=1 W=1 \
		> "$log" 2>&1 || grep -qE 'warning:|error:' "$log"; then
		cat "$log"
		echo "lint: $name: sparse/W=1 build not clean"
		status=1
	fi
done < <("$root/scripts/kernels.sh")

[ $status -eq 0 ] && echo "lint: clean"
exit $status
