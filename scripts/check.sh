#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: the reader's host-side tests, then every selftest inside each
# kernel of the matrix (KERNELS, see kernels.sh) booted under QEMU.  TAP
# per kernel; the last line is "N passed, N failed".  A kernel that cannot
# be resolved, fetched, built for or booted counts as a failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
logs=$build/logs
passed=0
failed=0
skipped=0

mkdir -p "$logs"

# tally FILE: add the TAP results in FILE to the totals.
tally() {
	local p f s

	p=$(grep -cE '^ok ' "$1")
	s=$(grep -cE '^ok .*# SKIP' "$1")
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
DURATION=${DURATION:-60}

make -s -C "$root/selftests" && make -s -C "$root/userspace"
result $? "host: build selftests and reader"

if [ -z "$GUEST_TESTS" ]; then
	echo "# host: reader unit tests"
	make -s -C "$root/userspace" test > "$logs/host.tap" 2>&1
	rc=$?
	cat "$logs/host.tap"
	tally "$logs/host.tap"
	[ $rc -eq 0 ] || [ "$(grep -c '^not ok' "$logs/host.tap")" -gt 0 ] ||
		result 1 "host: userspace tests exited $rc"
fi

if [ -z "$GUEST_TESTS" ]; then
	echo "# host: dkms build and staged make install for every kernel"
	"$root/scripts/dkms-check.sh" > "$logs/dkms.tap" 2>&1
	rc=$?
	cat "$logs/dkms.tap"
	tally "$logs/dkms.tap"
	[ $rc -eq 0 ] || [ "$(grep -c '^not ok' "$logs/dkms.tap")" -gt 0 ] ||
		result 1 "host: dkms-check.sh exited $rc"
fi

if ! kernels=$("$root/scripts/kernels.sh"); then
	result 1 "resolve the kernel matrix (${KERNELS:-6.1 6.12})"
	kernels=
fi

while read -r name abi; do
	[ -n "$name" ] || continue
	start=$(date +%s)
	out=$build/$abi
	echo "# kernel $name: $abi"
	"$root/scripts/build-module.sh" "$abi" "$out" W=1 > "$logs/$abi.build" 2>&1
	rc=$?
	[ $rc -eq 0 ] && grep -q 'warning:' "$logs/$abi.build" && rc=1
	cat "$logs/$abi.build"
	result $rc "$name: build tcpstates.ko warning-free against $abi headers"
	[ $rc -eq 0 ] || continue

	pl=$out/payload
	rm -rf "$pl"
	mkdir -p "$pl"
	cp "$out/tcpstates.ko" "$pl/"
	cp "$root"/selftests/{run-guest.sh,lib.sh,rmmod.sh,tunables.sh,allns.sh} "$pl/"
	cp "$root"/selftests/{stress.sh,compare_ss.sh,modprobe.sh} "$pl/"
	cp "$root/scripts/install.sh" "$(command -v kmod)" "$pl/"
	cp "$root"/selftests/{tcpstates_test,tcpgen,write_once,churn} "$pl/"
	cp "$root/userspace/tcpstates" "$root/userspace/tests/vm_reader.sh" \
	   "$root/userspace/tests/sockhelper" "$pl/"

	"$root/scripts/vm-run.sh" -m 2048 -t $((900 + DURATION)) -l "$logs/$abi" \
		"$abi" "$pl" "TESTS='$GUEST_TESTS' DURATION=$DURATION ./run-guest.sh" \
		> "$logs/$abi.tap" 2> "$logs/$abi.err"
	rc=$?
	cat "$logs/$abi.tap" "$logs/$abi.err"
	tally "$logs/$abi.tap"
	# 0 or 1: the guest ran every test and shut down without a splat.
	[ $rc -le 1 ]
	result $? "$name: guest booted, ran the selftests, no kernel splat"
	echo "# kernel $name: $(($(date +%s) - start)) s"
done <<< "$kernels"

if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
