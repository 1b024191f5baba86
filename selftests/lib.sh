#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared by the shell selftests, after tools/testing/selftests/net/lib.sh:
# namespaces with random suffixes, cleanup run at exit in reverse order,
# one TAP line per case, and a clean skip when not root.

ksft_skip=4
TESTS_RUN=0
TESTS_FAILED=0
CLEANUP=()

TCPSTATES_KO=${TCPSTATES_KO:-/opt/tcpstates/tcpstates.ko}
SYSFS=/sys/kernel/tcpstates

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "# SKIP: $0 needs root"
		exit $ksft_skip
	fi
}

# defer CMD...: run CMD at exit, the last deferred first.
defer() {
	CLEANUP+=("$*")
}

# hold NS ARGS...: a tcpgen that keeps its sockets, killed at exit.
hold() {
	local ns=$1 fifo

	shift
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	ip netns exec "$ns" "$HERE/tcpgen" "$@" > "$fifo" &
	defer kill $!
	read -r -t 30 _ < "$fifo"
	rm -f "$fifo"
}

run_cleanup() {
	local i

	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[i]}" >/dev/null 2>&1
	done
}
trap run_cleanup EXIT

# setup_ns VAR...: create a netns per name with lo up; VAR holds its name.
setup_ns() {
	local var name

	for var in "$@"; do
		name="$var-$(mktemp -u XXXXXX)"
		ip netns add "$name" || return 1
		ip -n "$name" link set lo up
		defer ip netns del "$name"
		eval "$var=$name"
	done
}

# log_test RC DESCRIPTION: one TAP line; RC 0 passes, RC $ksft_skip is a
# kselftest SKIP giving $SKIP_REASON (set by the case that skipped).
log_test() {
	TESTS_RUN=$((TESTS_RUN + 1))
	# Each case's seconds, for keeping the lanes within CI's hour.
	echo "# $((SECONDS - ${LOG_TEST_T:-0})) s"
	LOG_TEST_T=$SECONDS
	if [ "$1" -eq 0 ]; then
		echo "ok $TESTS_RUN - $2"
	elif [ "$1" -eq "$ksft_skip" ]; then
		echo "ok $TESTS_RUN - $2 # SKIP ${SKIP_REASON:-no reason given}"
		SKIP_REASON=
	else
		TESTS_FAILED=$((TESTS_FAILED + 1))
		echo "not ok $TESTS_RUN - $2"
	fi
}

# tcpstates_field NETNS KEY [COLUMN]: a value of /proc/tcpstates in NETNS.
tcpstates_field() {
	ip netns exec "$1" awk -v k="$2" -v c="${3:-2}" \
		'$1 == k { print $c; found = 1 } END { exit !found }' /proc/tcpstates
}

ksft_exit() {
	echo "1..$TESTS_RUN"
	[ "$TESTS_FAILED" -eq 0 ]
}
