#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-harness: prove that scripts/check.sh cannot pass a kernel
# that did not run.  Each case runs check.sh on one real kernel of the
# matrix (HARNESS_KERNEL, default 6.1: the quickest to build for and boot)
# with something broken on purpose, and expects check.sh to exit non-zero
# with a failure counted in its "N passed, N failed, N skipped" line and
# the reason named:
#
#   1. an unbootable kernel: a copy of the kernel whose vmlinuz is garbage
#      (the guest never starts; bounded by GUEST_TIMEOUT);
#   2. selftests that ran fewer results than their plan, printed no plan,
#      or were not there at all, beside one that is fine and one SKIP;
#   3. a guest that dies in the middle of a selftest.
#
# TAP on stdout; each run's output in build/harness/CASE.out and its logs
# in build/logs/harness-CASE/.  Exit 1 if check.sh passed any of them.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
work=$build/harness
# shellcheck source=tap-lib.sh
. "$root/scripts/tap-lib.sh"

# expect_failure CASE PATTERN: check.sh (already run, output in
# $work/CASE.out, status in $rc) failed, counted it, and said PATTERN.
expect_failure() {
	local out=$work/$1.out last

	last=$(tail -n 1 "$out")
	if [ "$rc" -ne 0 ] &&
	   echo "$last" | grep -qE '^[0-9]+ passed, [1-9][0-9]* failed, [0-9]+ skipped$' &&
	   grep -qE "$2" "$out"; then
		result 0 "$1: check.sh exits $rc, \"$last\""
	else
		sed 's/^/# /' "$out" | tail -n 40
		result 1 "$1: check.sh exits $rc, \"$last\", expected a failure matching /$2/"
	fi
}

rm -rf "$work"
mkdir -p "$work" "$build/logs"
read -r name abi tc < <(KERNELS=${HARNESS_KERNEL:-6.1} "$root/scripts/kernels.sh") || {
	result 1 "resolve ${HARNESS_KERNEL:-6.1}"
	echo "1..$n"
	exit 1
}
echo "# harness: $name $abi ($tc)"
"$root/scripts/fetch-kernel.sh" "$abi" "$build/kernels" || {
	result 1 "fetch $abi"
	echo "1..$n"
	exit 1
}
make -s -C "$root/selftests" && make -s -C "$root/userspace" || {
	result 1 "build the selftests and the reader"
	echo "1..$n"
	exit 1
}

# 1. The same kernel, unbootable: a kernel cache of its own with every
# file shared but the image, which is random bytes.
cache=$work/kernels
mkdir -p "$cache"
cp -al "$build/kernels/$abi" "$cache/$abi"
# shellcheck source=kernel-lib.sh
. "$root/scripts/kernel-lib.sh"
img=$(kernel_image "$cache/$abi/root" "$abi")
rm -f "$img"
head -c 4194304 /dev/urandom > "$img"
CACHE=$cache KERNELS=$name GUEST_TESTS=tcpstates_test GUEST_TIMEOUT=60 \
	CHECK_LOGS=$build/logs/harness-unbootable \
	"$root/scripts/check.sh" > "$work/unbootable.out" 2>&1
rc=$?
expect_failure unbootable "^not ok - $name: guest run incomplete or failed: the guest died, hung"

# 2. Selftests that do not run their plan, in a kernel that boots.
extra=$work/extra
mkdir -p "$extra"
cat > "$extra/good.sh" <<'T'
#!/bin/bash
echo "ok 1 - fine"
echo "ok 2 - not here # SKIP this kernel lacks it"
echo "1..2"
T
cat > "$extra/short.sh" <<'T'
#!/bin/bash
echo "1..4"
echo "ok 1 - one"
echo "ok 2 - two"
T
cat > "$extra/noplan.sh" <<'T'
#!/bin/bash
echo "ok 1 - a result without a plan"
T
chmod +x "$extra"/*.sh
KERNELS=$name GUEST_TESTS="good.sh short.sh noplan.sh missing.sh" \
	CHECK_PAYLOAD_EXTRA=$extra CHECK_LOGS=$build/logs/harness-plan \
	"$root/scripts/check.sh" > "$work/plan.out" 2>&1
rc=$?
expect_failure plan "^# $name: short.sh: ran 2 of 4 planned"
for why in "noplan.sh: printed no TAP plan" "missing.sh: printed no TAP plan" \
	   "planned 6 ran 5 skipped 1"; do
	grep -qF "$why" "$work/plan.out"
	result $? "plan: check.sh reports \"$why\""
done
tail -n 1 "$work/plan.out" | grep -qE ', [1-9][0-9]* skipped$'
result $? "plan: the SKIP is counted in the summary line"

# 3. A guest that stops in the middle of a selftest.
rm -f "$extra"/*.sh
cat > "$extra/dies.sh" <<'T'
#!/bin/bash
echo "1..3"
echo "ok 1 - one"
reboot -f
sleep 60
T
chmod +x "$extra/dies.sh"
KERNELS=$name GUEST_TESTS="dies.sh" CHECK_PAYLOAD_EXTRA=$extra \
	CHECK_LOGS=$build/logs/harness-dies \
	"$root/scripts/check.sh" > "$work/dies.out" 2>&1
rc=$?
expect_failure dies "^not ok - $name: guest run incomplete or failed: the guest died, hung"
grep -qF "dies.sh: ran 1 of 3 planned" "$work/dies.out"
result $? "dies: check.sh reports \"dies.sh: ran 1 of 3 planned\""

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
