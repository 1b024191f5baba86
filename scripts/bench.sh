#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: /proc/tcpstates against sock_diag, ss, netstat, /proc/net/tcp,
# the reader's bpf source and the kernel's TCP iterator at 1k to 1M
# sockets, in Debian's kernel under QEMU (TCG); then the native lane: the
# methods that need no module, on this host's own kernel with no VM
# (selftests/bench/bpfbench.sh).  Writes selftests/bench/RESULTS.md; the
# raw output (guest and native) and logs stay in build/bench/.  Not part of
# make check.
#
#   scripts/bench.sh          run the bench, then write the report
#   scripts/bench.sh report   only rewrite the report from the last run
#   scripts/bench.sh connrate the connection-rate lane alone (make
#                             bench-connrate): CONNRATE_ROUNDS [5] windows
#                             of CONNRATE_S [5] seconds, module off and on
#                             in the guest, then the pin's hook off and on
#                             natively
#
# Environment (defaults in brackets):
#   BENCH_KERNELS      kernels of kernels.sh to run in [6.12]
#   BENCH_SIZES        population sizes [1000 10000 100000 1000000]
#   BENCH_RUNS         runs per method [5]; BENCH_MIN_RUNS [3] for a method
#                      whose first run took over BENCH_SLOW_S seconds [10]
#   BENCH_EHASH        buckets of each population's private ehash [524288];
#                      0 for the guest's global table (sized by its memory)
#   BENCH_HANDSHAKE    1: build ESTABLISHED pairs with real handshakes
#                      rather than TCP_REPAIR [0] (see selftests/bench/popgen.c)
#   BENCH_INTERFERE    size at which to measure data-path interference
#                      [100000]; 0 for none.  BENCH_INTERFERE_ROUNDS [3]
#                      windows of BENCH_INTERFERE_S seconds [4] per reader
#   BENCH_NS           namespace counts of the container tier [10 100 1000];
#                      empty for none.  BENCH_NS_HOST: the host's sockets
#                      beside them [100000]
#   BENCH_MEM          guest memory in MB [6144]: 1M sockets take about 4 GB
#   BENCH_NATIVE_SIZES sizes of the native lane [100000 1000000]; empty for
#                      none.  It needs root and BPF: without them it says why
#                      in one line and in the report, and make bench goes on
#   BENCH_TIMEOUT      seconds before the guest is killed [3600]
#   BENCH_RESULTS      the report [selftests/bench/RESULTS.md]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# Our own build directory: make check may be using build/<ABI> right now.
out=$root/build/bench
raw=$out/guest.out
results=${BENCH_RESULTS:-$root/selftests/bench/RESULTS.md}

report() {
	awk -f "$root/selftests/bench/report.awk" \
		"$root/selftests/bench/methods" "$raw" > "$results.tmp"
	mv "$results.tmp" "$results"
	echo "# bench: wrote $results (raw output: $raw)"
}

# connrate: the connection-rate lane alone (selftests/bench/connrate.sh):
# the connect loop with and without the module's transitions hooks, in
# the guest (TCG: emulated figures).  Output in build/bench/connrate.out.
connrate() {
	local name abi pl

	make -s -C "$root/selftests/bench" benchtime
	mkdir -p "$out"
	: > "$out/connrate.out"
	while read -r name abi _; do
		"$root/scripts/build-module.sh" "$abi" "$out/$abi"
		pl=$out/connrate-$abi
		rm -rf "$pl"
		mkdir -p "$pl"
		cp "$out/$abi/tcpstates.ko" "$root"/selftests/bench/{benchtime,connrate.sh} "$pl/"
		echo "# bench: connrate in $name ($abi) under QEMU TCG"
		"$root/scripts/vm-run.sh" -t 1200 -m 1024 -l "$out/logs-connrate-$abi" \
			"$abi" "$pl" "CONNRATE_ROUNDS=${CONNRATE_ROUNDS:-5} \
CONNRATE_S=${CONNRATE_S:-5} ./connrate.sh" | tee -a "$out/connrate.out"
	done < <(KERNELS=${BENCH_KERNELS:-6.12} "$root/scripts/kernels.sh")
	connrate_native
	grep -q '^connrate median' "$out/connrate.out"
}

# connrate_native: the same loop natively, on this host's kernel, with
# and without the pin's tracepoint program (tcpstates pin): native
# figures.  Needs root and BPF; without them it says why in one line.
connrate_native() {
	local reader=$root/userspace/tcpstates

	make -s -C "$root/userspace"
	if [ "$(id -u)" != 0 ] || [ ! -e /sys/kernel/btf/vmlinux ]; then
		echo "# bench: connrate natively: skipped, needs root and BTF" |
			tee -a "$out/connrate.out"
		return 0
	fi
	echo "# bench: connrate natively ($(uname -r)), the pin's tracepoint program"
	(cd "$root/selftests/bench" &&
		CONNRATE_PIN=$reader CONNRATE_ROUNDS=${CONNRATE_ROUNDS:-5} \
		CONNRATE_S=${CONNRATE_S:-5} ./connrate.sh) |
		tee -a "$out/connrate.out"
}

if [ "${1:-}" = report ]; then
	report
	exit 0
fi
if [ "${1:-}" = connrate ]; then
	connrate
	exit
fi

start=$(date +%s)
mem=${BENCH_MEM:-6144}
export BENCH_SIZES=${BENCH_SIZES:-1000 10000 100000 1000000}
export BENCH_RUNS=${BENCH_RUNS:-5}
export BENCH_MIN_RUNS=${BENCH_MIN_RUNS:-3}
export BENCH_SLOW_S=${BENCH_SLOW_S:-10}
export BENCH_EHASH=${BENCH_EHASH:-524288}
export BENCH_HANDSHAKE=${BENCH_HANDSHAKE:-0}
export BENCH_INTERFERE=${BENCH_INTERFERE:-100000}
export BENCH_INTERFERE_S=${BENCH_INTERFERE_S:-4}
export BENCH_INTERFERE_ROUNDS=${BENCH_INTERFERE_ROUNDS:-3}
export BENCH_NS=${BENCH_NS-10 100 1000}
export BENCH_NS_HOST=${BENCH_NS_HOST:-100000}
native=${BENCH_NATIVE_SIZES-100000 1000000}

# The report quotes the command: only settings that differ from the
# defaults make it.
settings=
for v in BENCH_KERNELS BENCH_SIZES BENCH_RUNS BENCH_MIN_RUNS BENCH_SLOW_S \
	 BENCH_EHASH BENCH_HANDSHAKE BENCH_INTERFERE BENCH_INTERFERE_S \
	 BENCH_INTERFERE_ROUNDS BENCH_NS BENCH_NS_HOST BENCH_MEM; do
	case "$v=${!v:-}" in
	BENCH_KERNELS=|BENCH_KERNELS=6.12|BENCH_MEM=|BENCH_MEM=6144) ;;
	"BENCH_SIZES=1000 10000 100000 1000000"|BENCH_RUNS=5) ;;
	BENCH_MIN_RUNS=3|BENCH_SLOW_S=10|BENCH_EHASH=524288) ;;
	BENCH_HANDSHAKE=0|BENCH_INTERFERE=100000|BENCH_INTERFERE_S=4) ;;
	BENCH_INTERFERE_ROUNDS=3|"BENCH_NS=10 100 1000"|BENCH_NS_HOST=100000) ;;
	*) settings+="$v='${!v}' " ;;
	esac
done
# Empty is not unset here: it turns the native lane off.
[ "$native" = "100000 1000000" ] || settings+="BENCH_NATIVE_SIZES='$native' "

# The guest gets the same awk, sort and uniq as a Debian host's shell, and
# bpftool for the iter/tcp counter, which clang builds.
bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
for t in mawk sort uniq clang "$bpftool"; do
	command -v "$t" > /dev/null || {
		echo "bench.sh: $t not found on the host (make deps)" >&2
		exit 1
	}
done

mkdir -p "$out"
make -s -C "$root/selftests/bench"
make -s -C "$root/userspace" tcpstates
# After the reader: it makes the vmlinux.h the counter is built against.
make -s -C "$root/selftests/bench" itertcp.bpf.o
kernels=$(KERNELS=${BENCH_KERNELS:-6.12} "$root/scripts/kernels.sh")

# Everything the report says comes from this file, so that "report" can
# rewrite it.  The host's load goes in too: other jobs on these CPUs slow
# the emulator and add noise to every time.
{
	echo "meta cmd ${settings}make bench"
	echo "meta date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "meta qemu $("$root/scripts/qemu.sh" version)"
	echo "meta host $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
	echo "meta mem $mem"
	echo "meta interfere_s $BENCH_INTERFERE_S"
	echo "meta interfere_rounds $BENCH_INTERFERE_ROUNDS"
	echo "meta load_start $(cut -d' ' -f1 /proc/loadavg)"
} > "$raw"

status=0
while read -r name abi _; do
	echo "# bench: building tcpstates.ko for $abi"
	"$root/scripts/build-module.sh" "$abi" "$out/$abi"

	pl=$out/payload-$abi
	rm -rf "$pl"
	mkdir -p "$pl/bin"
	cp "$out/$abi/tcpstates.ko" "$root/userspace/tcpstates" "$pl/"
	cp "$root"/selftests/bench/{popgen,benchtime,chase,nsbench,methods,guest.sh,itertcp.bpf.o} "$pl/"
	cp "$(command -v mawk)" "$pl/bin/awk"
	cp "$(command -v sort)" "$(command -v uniq)" "$pl/bin/"
	cp "$bpftool" "$pl/bin/bpftool"

	echo "# bench: $name ($abi) under QEMU TCG, sizes $BENCH_SIZES"
	echo "kernel $name $abi" >> "$raw"
	# The guest sees only its command line: the settings go on it.
	"$root/scripts/vm-run.sh" -t "${BENCH_TIMEOUT:-3600}" -m "$mem" \
		-l "$out/logs-$abi" "$abi" "$pl" \
		"BENCH_SIZES='$BENCH_SIZES' BENCH_RUNS=$BENCH_RUNS \
BENCH_MIN_RUNS=$BENCH_MIN_RUNS BENCH_SLOW_S=$BENCH_SLOW_S \
BENCH_EHASH=$BENCH_EHASH BENCH_HANDSHAKE=$BENCH_HANDSHAKE \
BENCH_INTERFERE=$BENCH_INTERFERE BENCH_INTERFERE_S=$BENCH_INTERFERE_S \
BENCH_INTERFERE_ROUNDS=$BENCH_INTERFERE_ROUNDS BENCH_NS='$BENCH_NS' \
BENCH_NS_HOST=$BENCH_NS_HOST bash ./guest.sh" | tee -a "$raw" || status=1
done <<< "$kernels"

# The native lane, after the guest: the two would share these CPUs.
if [ -z "$native" ]; then
	echo "native skip BENCH_NATIVE_SIZES is empty" >> "$raw"
	echo "# bench: native lane not run: BENCH_NATIVE_SIZES is empty"
else
	echo "# bench: native lane on this host's kernel $(uname -r), sizes $native"
	rc=0
	# shellcheck disable=SC2086 # a list of sizes
	"$root/selftests/bench/bpfbench.sh" -o "$raw" $native || rc=$?
	case $rc in
	0) ;;
	# Not root, or no BPF: it said why, and so will the report.
	3) ;;
	*)
		echo "native fail lane bpfbench.sh exited $rc" >> "$raw"
		status=1
		;;
	esac
fi

{
	echo "meta load_end $(cut -d' ' -f1 /proc/loadavg)"
	echo "meta bench_seconds $(($(date +%s) - start))"
} >> "$raw"
report
echo "# bench: $(($(date +%s) - start)) s"
# A guest that failed (a kernel splat, a count mismatch) fails make bench,
# after the report has said what it got.
exit $status
