#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bench inside the guest (scripts/bench.sh boots it): for each size of
# BENCH_SIZES, a population in a fresh netns (popgen), every method of
# ./methods timed and checked against /proc/tcpstates (benchtime run), and
# a pointer chase over as much memory as those sockets' slab objects.  At
# BENCH_INTERFERE sockets, also the connect/accept/close rate beside each
# reader.  ./methods includes the bpf source and the iter/tcp counter
# (./itertcp.bpf.o, pinned with ./bin/bpftool).  One record per line on
# stdout; scripts/bench.sh makes the report.
set -euo pipefail
cd "$(dirname "$0")"
# bin/ holds mawk, GNU sort and uniq: what an operator's one-liner gets on
# a Debian host, rather than busybox's applets.
export PATH=$PWD/bin:$PWD:$PATH

SIZES=${BENCH_SIZES:-1000 10000 100000 1000000}
RUNS=${BENCH_RUNS:-5}
MIN_RUNS=${BENCH_MIN_RUNS:-3}
SLOW_S=${BENCH_SLOW_S:-10}
EHASH=${BENCH_EHASH:-524288}
INTERFERE=${BENCH_INTERFERE:-100000}
INTERFERE_S=${BENCH_INTERFERE_S:-4}
INTERFERE_ROUNDS=${BENCH_INTERFERE_ROUNDS:-3}
# popgen -H: real handshakes for the ESTABLISHED pairs, not TCP_REPAIR.
HANDSHAKE=
[ "${BENCH_HANDSHAKE:-0}" = 1 ] && HANDSHAKE=-H

failed=0
max=0
for n in $SIZES; do
	[ "$n" -gt "$max" ] && max=$n
done

echo "guest kernel $(uname -r)"
echo "guest cpus $(nproc) mem_kb $(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
echo "guest cpu $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "guest ehash $EHASH"

# Each worker of popgen holds up to half the sockets as fds.
sysctl -qw fs.nr_open=$((max + 65536)) fs.file-max=$((2 * max + 1048576))
# A netns made from now on gets a private ehash of EHASH buckets, the size
# the kernel gives a host with 64 GB or more (0: share the global table).
sysctl -qw net.ipv4.tcp_child_ehash_entries="$EHASH"

# The bytes of slab a full TCP socket takes: the chase's stride.
stride=$(awk '$1 == "TCP" {print $4}' /proc/slabinfo)
stride=$(((${stride:-2048} + 7) / 8 * 8))

# What the walk costs with no socket at all: the empty buckets.
unshare -n ./benchtime scan -r "$RUNS"

# The peers that need no module (issue 15): the reader's bpf source, and
# the kernel's TCP iterator with a counting program, pinned once here so
# that a run is one cat.  An iterator walks the netns of the process that
# opens the pin: popgen's, for the cat in there.  A peer that cannot run
# leaves the methods with a "fail" record and fails the bench: a row that
# vanished would read as a row nobody asked for.
cp methods /tmp/methods
drop() {
	echo "fail $1 $2"
	awk -v m="$1" '$1 != m' /tmp/methods > /tmp/methods.new
	mv /tmp/methods.new /tmp/methods
	failed=1
}
# The guest's init mounts no bpffs (nor has busybox a mountpoint).
grep -q '^[^ ]* /sys/fs/bpf bpf ' /proc/mounts ||
	mount -t bpf bpf /sys/fs/bpf || true
if ! err=$(bpftool iter pin itertcp.bpf.o /sys/fs/bpf/tcpstates-itertcp 2>&1); then
	drop iter/tcp "bpftool iter pin: $(printf '%s\n' "$err" | tail -n 3 | tr '\n' ' ')"
fi
if ! err=$(tcpstates pin /sys/fs/bpf/tcpstates-pin --mode 0444 2>&1); then
	drop pin "tcpstates pin: $(printf '%s\n' "$err" | tr '\n' ' ')"
fi
if ! err=$(tcpstates --source bpf 2>&1 > /dev/null); then
	drop bpf "tcpstates --source bpf: $(printf '%s\n' "$err" | tr '\n' ' ')"
fi

for n in $SIZES; do
	echo "tier $n"
	cmd="./benchtime run -r $RUNS -m $MIN_RUNS -s $SLOW_S -f /tmp/methods"
	if [ "$n" = "$INTERFERE" ]; then
		cmd+=" && ./benchtime interfere -t $INTERFERE_S"
		cmd+=" -k $INTERFERE_ROUNDS -f /tmp/methods"
	fi
	start=$(date +%s)
	# A failed size (counts that differ) fails the bench, after the rest.
	# shellcheck disable=SC2086 # HANDSHAKE is an option or nothing
	./popgen $HANDSHAKE -e "$EHASH" -n "$n" sh -c "$cmd" || failed=1
	echo "tier_seconds $n $(($(date +%s) - start))"
	./chase "$n" "$stride"
done
# The container tier: a host population in the shared table, and a
# growing number of namespaces of about 100 sockets each, shared and private.
NS_SIZES=${BENCH_NS-10 100 1000}
NS_HOST=${BENCH_NS_HOST:-100000}
if [ -n "$NS_SIZES" ]; then
	for kind in shared private; do
		echo "nstier $kind"
		opt=
		[ $kind = private ] && opt="-p 256"
		# shellcheck disable=SC2086
		./popgen -e 0 -n "$NS_HOST" ./nsbench $opt -r "$RUNS" -N "$NS_SIZES" ||
			failed=1
	done
fi
echo "guest done"
exit $failed
