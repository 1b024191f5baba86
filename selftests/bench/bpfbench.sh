#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bpfbench.sh [SOCKETS...]: the bpf source against sock_diag, ss|awk and
# the kernel's TCP iterator with a counting program (itertcp.bpf.c, pinned
# with bpftool and read with cat), natively on this machine's kernel (no
# VM, no module: the case the bpf source exists for).  Per size (default 100000): a fresh netns with a
# private ehash of about one bucket per socket and the population popgen
# makes (TCP_REPAIR pairs, CLOSE_WAIT, FIN_WAIT2, SYN_RECV, LISTEN); every
# method timed RUNS times round robin by benchtime, which also checks that
# they count the same; then the walk's own time (the reader's scan_ns)
# and one dependent cache miss per socket (chase) as the floor.
#
# Needs root.  Environment: RUNS (default 7), WORKERS (default: enough
# that each popgen worker stays under RLIMIT_NOFILE).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$here/../..
RUNS=${RUNS:-7}
sizes=${*:-100000}
tmp=$(mktemp -d)
pin=/sys/fs/bpf/tcpstates-bench-$$
trap 'rm -f "$pin"; rm -rf "$tmp"' EXIT

[ "$(id -u)" = 0 ] || { echo "bpfbench: needs root" >&2; exit 1; }
make -s -C "$top/userspace" tcpstates
make -s -C "$here" popgen benchtime chase
reader=$top/userspace/tcpstates
"$reader" --source bpf -H >/dev/null
clang -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 \
	-I"$top/userspace" -c -o "$tmp/itertcp.bpf.o" "$here/itertcp.bpf.c"
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
bpftool=$(command -v bpftool || echo /usr/sbin/bpftool)
"$bpftool" iter pin "$tmp/itertcp.bpf.o" "$pin"

# popgen's SYN_RECV share needs an interface that drops what it sends; a
# kernel without the dummy driver gets a bridge with no ports instead.
mkdir "$tmp/bin"
cat >"$tmp/bin/ip" <<'EOF'
#!/bin/sh
if [ "$*" = "link add d0 type dummy" ] &&
   ! /usr/sbin/ip link add d0 type dummy 2>/dev/null; then
	exec /usr/sbin/ip link add d0 type bridge
fi
exec /usr/sbin/ip "$@"
EOF
chmod +x "$tmp/bin/ip"

cat >"$tmp/methods" <<EOF
bpf	states	$reader --source bpf
sock_diag	states	$reader --source netlink
ss+awk	ss	ss -tan | awk '{print \$1}' | sort | uniq -c
iter/tcp	states	cat $pin
EOF

nofile=$(ulimit -n)
echo "bpfbench: native, kernel $(uname -r), $(nproc) CPUs, RLIMIT_NOFILE $nofile"
for n in $sizes; do
	workers=${WORKERS:-$(( n / (nofile - 2000) + 2 ))}
	[ "$workers" -gt 16 ] && { echo "bpfbench: $n sockets need more than 16 workers at RLIMIT_NOFILE $nofile" >&2; exit 1; }
	ehash=1
	while [ "$ehash" -lt "$n" ]; do ehash=$((ehash * 2)); done
	echo "== $n sockets, private ehash $ehash buckets, $workers workers"
	PATH=$tmp/bin:$PATH "$here/popgen" -w "$workers" -e "$ehash" -n "$n" \
		sh -c "'$here/benchtime' run -r $RUNS -f '$tmp/methods';
		       for i in 1 2 3 4 5; do '$reader' --source bpf -j; done" \
		>"$tmp/out" 2>"$tmp/err" || true
	# benchtime fails on a count mismatch: shown below, not fatal (a
	# request sock can expire between two methods)
	grep -q '^method' "$tmp/out" || { cat "$tmp/err" >&2; exit 1; }
	grep '^popgen: [0-9]' "$tmp/err" || true
	grep '^check' "$tmp/out"
	walk=$(grep '^{' "$tmp/out" | python3 -c '
import json, sys
ns = sorted(json.loads(l)["scan"]["ns"] for l in sys.stdin)
print("%.3f" % (ns[len(ns) // 2] / 1e6))')
	sock=$(grep '^{' "$tmp/out" | head -1 | python3 -c '
import json, sys
print(json.loads(sys.stdin.readline())["total"]["total"])')
	miss=$("$here/chase" "$sock" 2560 | awk '{print $NF}')
	awk -v walk="$walk" -v miss="$miss" -v sock="$sock" '
	$1 == "method" {
		name[++k] = $2; wall[k] = $6; cpu[k] = $12
	}
	END {
		printf "%-10s %10s %10s %12s %12s\n", "method", "wall_ms",
		       "cpu_ms", "wall/bpf", "cpu/bpf"
		for (i = 1; i <= k; i++)
			printf "%-10s %10.1f %10.1f %11.1fx %11.1fx\n", name[i],
			       wall[i], cpu[i], wall[i] / wall[1], cpu[i] / cpu[1]
		floor = miss * sock / 1e6
		printf "bpf walk alone (scan_ns, median of 5): %.1f ms, %.0f ns per socket\n",
		       walk, walk * 1e6 / sock
		printf "one dependent cache miss per socket (chase, 2560-byte stride): %.1f ms; walk/floor %.2fx\n",
		       floor, walk / floor
	}' "$tmp/out"
done
