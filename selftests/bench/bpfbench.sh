#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bpfbench.sh [-o RAW] [SOCKETS...]: make bench's native lane, on this
# machine's own kernel: no VM and no module, the case the bpf source exists
# for.  First the fixed cost of a run, in an empty netns (the bpf source
# loads its program every time).  Then per size (default 100000): a fresh
# netns with a private ehash of at least one bucket per socket and popgen's
# population (TCP_REPAIR pairs, CLOSE_WAIT, FIN_WAIT2, SYN_RECV, LISTEN);
# every method timed RUNS times round robin by benchtime, which also checks
# that they count the same; the walk's own time (the reader's JSON scan
# ns, median of 5) and one dependent cache miss per socket (chase) as the
# walk's floor.
#
# The methods are the lines of ./methods of the same names, so the
# commands are the guest's: tcpstates --source bpf (the reference: there
# is no module here), --source netlink, ss, netstat and /proc/net/tcp with
# awk, and the kernel's TCP iterator with a counting program
# (itertcp.bpf.c), pinned once with bpftool and read with cat, and the
# same walk as the bpf source pinned once with "tcpstates pin" (the pin
# method, docs/pins.md), read with cat.
#
# -o RAW appends every record to RAW, each line prefixed "native", for the
# report of scripts/bench.sh (report.awk); stdout gets a summary.  Exit
# status: 0; 1 when something failed (a method that cannot run, counts
# that differ, a size that could not be built), after the rest has run; 2
# on a usage error; 3 when the lane cannot run here at all (not root, no
# BPF): one "bpfbench: not run: ..." line says why, and RAW gets a "native
# skip" record.
#
# Environment: RUNS (default 7), WORKERS (default: enough popgen workers
# that each one's fds stay under the hard RLIMIT_NOFILE, which root may be
# unable to raise).  It leaves nothing behind: the pin, popgen's processes
# and with them its netns, and a bpffs it mounted go at exit; the host's
# sysctls are never written (popgen sets tcp_child_ehash_entries in a
# netns of its own).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
RUNS=${RUNS:-7}
raw=/dev/null
while getopts o: opt; do
	case $opt in
	o) raw=$OPTARG ;;
	*) echo "usage: bpfbench.sh [-o RAW] [SOCKETS...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
sizes=${*:-100000}
start=$(date +%s)

rec() {
	printf 'native %s\n' "$*" >>"$raw"
}

skip() {
	echo "bpfbench: not run: $*"
	rec "skip $*"
	exit 3
}

failed=0
# fail WHAT REASON: WHAT is not measured; the lane fails after the rest.
fail() {
	echo "bpfbench: $1 not measured: $2" >&2
	rec "fail $1 $2"
	failed=1
}

[ "$(id -u)" = 0 ] ||
	skip "needs root (uid $(id -u)): a netns, TCP_REPAIR and BPF"

tmp=$(mktemp -d)
reader=$top/userspace/tcpstates
pin=/sys/fs/bpf/tcpstates-bench-$$
pins=/sys/fs/bpf/tcpstates-bench-pins-$$
mounted=
pg=
# popgen runs in a session of its own: one signal to the group reaches its
# workers, which hold the sockets until SIGTERM.  When its last process
# is gone, so is its netns.
# shellcheck disable=SC2317 # the EXIT trap calls it
cleanup() {
	if [ -n "$pg" ]; then
		kill -TERM -- "-$pg" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 -- "-$pg" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL -- "-$pg" 2>/dev/null || true
		wait "$pg" 2>/dev/null || true
	fi
	rm -f "$pin"
	[ ! -e "$pins" ] || "$reader" unpin "$pins" || true
	[ -z "$mounted" ] || umount /sys/fs/bpf || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# benchtime's scratch files, sort's too
export TMPDIR=$tmp

make -s -C "$top/userspace" tcpstates
make -s -C "$here" popgen benchtime chase itertcp.bpf.o
why=$("$reader" --source bpf -H 2>&1 >/dev/null) ||
	skip "tcpstates --source bpf: ${why:-failed}"

# The methods find tcpstates and awk (mawk, as in the guest) here.
# popgen's SYN_RECV share needs an interface that drops what it sends; a
# kernel without the dummy driver gets a bridge with no ports instead.
mkdir "$tmp/bin"
ln -s "$reader" "$tmp/bin/tcpstates"
if command -v mawk >/dev/null; then
	ln -s "$(command -v mawk)" "$tmp/bin/awk"
fi
ipcmd=$(command -v ip)
cat >"$tmp/bin/ip" <<EOF
#!/bin/sh
if [ "\$*" = "link add d0 type dummy" ] &&
   ! $ipcmd link add d0 type dummy 2>/dev/null; then
	# No ARP, as a dummy: a SYN-ACK whose neighbour never resolves would
	# fail to go out, and its request sock would be dropped.
	$ipcmd link add d0 type bridge && exec $ipcmd link set d0 arp off
fi
exec $ipcmd "\$@"
EOF
chmod +x "$tmp/bin/ip"
export PATH=$tmp/bin:$PATH

# The reference first: the checks compare every run with its counts.
for m in bpf pin pin_ports sock_diag ss+awk netstat+awk proc+awk iter/tcp; do
	line=$(awk -v m="$m" '$1 == m' "$here/methods")
	[ -n "$line" ] || { echo "bpfbench: no method $m in methods" >&2; exit 1; }
	printf '%s\n' "$line"
done | sed -e "s|/sys/fs/bpf/tcpstates-itertcp|$pin|" \
	-e "s|/sys/fs/bpf/tcpstates-pin|$pins|" >"$tmp/methods"

bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
if ! mountpoint -q /sys/fs/bpf; then
	mount -t bpf bpf /sys/fs/bpf && mounted=1
fi
# Pinned once: its runs hold no program load.  The iterator walks the netns
# of the process that opens the pin: popgen's, for the cat in there.
if ! "$bpftool" iter pin "$here/itertcp.bpf.o" "$pin" >"$tmp/err" 2>&1; then
	fail iter/tcp "bpftool iter pin: $(tail -n 3 "$tmp/err" | tr '\n' ' ')"
	awk '$1 != "iter/tcp"' "$tmp/methods" >"$tmp/m" && mv "$tmp/m" "$tmp/methods"
fi
if ! "$reader" pin "$pins" --mode 0444 >"$tmp/err" 2>&1; then
	fail pin "tcpstates pin: $(tr '\n' ' ' <"$tmp/err")"
	awk '$1 != "pin" && $1 != "pin_ports"' "$tmp/methods" >"$tmp/m" &&
		mv "$tmp/m" "$tmp/methods"
fi
while read -r name _ cmd; do
	rec "cmd $name $cmd"
done <"$tmp/methods"

# The fd limit popgen's workers can have: the hard one, as root may not
# raise it.
nofile=$(ulimit -Hn)
nr_open=$(cat /proc/sys/fs/nr_open)
[ "$nofile" != unlimited ] && [ "$nofile" -le "$nr_open" ] || nofile=$nr_open
rec "kernel $(uname -r)"
rec "host $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
rec "nofile $nofile"
rec "runs $RUNS"
rec "awk $(readlink -f "$(command -v awk)")"
rec "load_start $(cut -d' ' -f1 /proc/loadavg)"
echo "bpfbench: native, kernel $(uname -r), $(nproc) CPUs, hard RLIMIT_NOFILE $nofile"

# walk FILE: the median scan ns of the reader's JSON lines in FILE.
walk() {
	sed -n 's/.*"scan":{"buckets":\([0-9]*\),"ns":\([0-9]*\).*/\2 \1/p' "$1" |
		sort -n | awk '{ ns[NR] = $1; b = $2 }
		END { if (NR) print "ns", ns[int((NR + 1) / 2)], "buckets", b, "runs", NR }'
}

# summary FILE: the methods' medians and ratios to the first, for stdout.
summary() {
	awk '$1 == "method" { name[++k] = $2; wall[k] = $6; cpu[k] = $12 }
	$1 == "check" { print }
	END {
		printf "%-12s %10s %10s %10s %10s\n", "method", "wall_ms",
		       "cpu_ms", "wall/bpf", "cpu/bpf"
		for (i = 1; i <= k; i++)
			printf "%-12s %10.1f %10.1f %9.1fx %9.1fx\n", name[i],
			       wall[i], cpu[i], wall[i] / wall[1],
			       (cpu[1] > 0 ? cpu[i] / cpu[1] : 0)
	}' "$1"
}

# The fixed cost of a run: no socket, a one-bucket private ehash (set in
# an intermediate netns, as popgen does).  The other methods print nothing
# to count in an empty netns: only those with a per-state table run here.
awk '$2 == "states"' "$tmp/methods" >"$tmp/methods.empty"
cat >"$tmp/empty" <<'EOF'
#!/bin/sh
echo 1 >/proc/sys/net/ipv4/tcp_child_ehash_entries || exit 1
exec unshare -n sh -c '"$0" run -r "$1" -f "$2" || exit 1
	for i in 1 2 3 4 5; do tcpstates --source bpf -j || exit 1; done' "$@"
EOF
chmod +x "$tmp/empty"
echo "== an empty netns (one-bucket private ehash): the fixed cost of a run"
rc=0
unshare -n "$tmp/empty" "$here/benchtime" "$RUNS" "$tmp/methods.empty" \
	>"$tmp/out" 2>"$tmp/err" || rc=$?
while read -r l; do
	rec "empty $l"
done < <(grep -E '^(method|counts|check) ' "$tmp/out")
rec "empty walk $(walk "$tmp/out")"
summary "$tmp/out"
# Nothing comes and goes in there: any difference is a failure.
[ $rc = 0 ] || fail empty "exited $rc: $(grep -h -e MISMATCH -e benchtime -e tcpstates "$tmp/out" "$tmp/err" | head -n 3 | tr '\n' ' ')"

stride=$(awk '$1 == "TCP" { print $4 }' /proc/slabinfo 2>/dev/null || true)
stride=$(((${stride:-2560} + 7) / 8 * 8))
for n in $sizes; do
	# Each worker holds a share of the sockets as fds, under the limit.
	workers=${WORKERS:-$((n / (nofile - 2000) + 2))}
	ehash=1
	while [ "$ehash" -lt "$n" ]; do
		ehash=$((ehash * 2))
	done
	echo "== $n sockets, private ehash $ehash buckets, $workers workers"
	rec "tier $n ehash $ehash workers $workers"
	t0=$(date +%s)
	rc=0
	avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	# shellcheck disable=SC2016 # sh -c's own arguments
	setsid "$here/popgen" -w "$workers" -e "$ehash" -n "$n" sh -c '
		grep "^MemAvailable:" /proc/meminfo
		"$0" run -r "$1" -f "$2"
		s=$?
		for i in 1 2 3 4 5; do tcpstates --source bpf -j || exit 1; done
		exit $s' "$here/benchtime" "$RUNS" "$tmp/methods" \
		>"$tmp/out" 2>"$tmp/err" &
	pg=$!
	wait "$pg" || rc=$?
	pg=
	grep '^popgen: [0-9]' "$tmp/err" || true
	while read -r l; do
		rec "$l"
	done < <(grep '^popgen: ' "$tmp/err")
	if ! grep -q '^method ' "$tmp/out"; then
		cat "$tmp/err" >&2
		fail "tier $n" "popgen or benchtime exited $rc: $(grep -v '^popgen: [0-9E]' "$tmp/err" | tail -n 2 | tr '\n' ' ')"
		continue
	fi
	while read -r l; do
		rec "$l"
	done < <(grep -E '^(method|counts|check) ' "$tmp/out")
	# What the population holds: slab, fds, the private ehash.
	held=$(awk '$1 == "MemAvailable:" { print $2 }' "$tmp/out")
	rec "mem $n kb $((avail - ${held:-$avail}))"
	# The population is quiescent (no timer moves a state; the SYN-ACKs
	# leave through an interface without ARP, so no request sock is
	# dropped): any difference is a failure.
	grep -q '^check .* MISMATCH' "$tmp/out" && failed=1
	sock=$(awk '$1 == "counts" && $2 == "bpf" { sub(/.*total=/, ""); print }' "$tmp/out")
	sock=${sock:-$n}
	w=$(walk "$tmp/out")
	[ -n "$w" ] || fail "walk $n" "no JSON scan from tcpstates --source bpf -j"
	rec "walk $n $w"
	# As much memory as the sockets' slab objects, one load per socket.
	chase=$("$here/chase" "$sock" "$stride")
	rec "$chase"
	rec "tier_seconds $n $(($(date +%s) - t0))"
	summary "$tmp/out"
	echo "$w $chase" | awk -v n="$sock" '$1 == "ns" {
		floor = $NF * n / 1e6
		printf "bpf walk alone (scan ns, median of %d): %.1f ms, %.0f ns per socket\n", $6, $2 / 1e6, $2 / n
		printf "one dependent cache miss per socket (chase, %d-byte stride): %.1f ms; walk/floor %.2fx\n", $11, floor, $2 / 1e6 / floor
	}'
done
rec "load_end $(cut -d' ' -f1 /proc/loadavg)"
rec "seconds $(($(date +%s) - start))"
exit $failed
