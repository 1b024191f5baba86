# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the scripts that print TAP of their own (check-harness.sh,
# dkms-check.sh, check-host.sh): numbered results, counted in n and
# failed.
n=0
failed=0

# result RC DESCRIPTION: one numbered TAP line, "not ok" unless RC is 0.
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# result_why DESCRIPTION WHY: a result that failed when WHY is not empty,
# with WHY below it as TAP comments.
result_why() {
	if [ -z "$2" ]; then
		result 0 "$1"
	else
		result 1 "$1"
		printf '%s\n' "$2" | sed 's/^/# /'
	fi
}
