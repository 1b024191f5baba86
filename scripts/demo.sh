#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot a Debian kernel (DEMO_KERNEL, default the 6.12 of the
# host's own release: trixie's on Debian 13, bookworm's elsewhere, see
# scripts/kernels.sh) under QEMU with tcpstates.ko loaded, open some
# connections, and show what an operator sees: /proc/tcpstates, the
# reader's table, and a sysfs write the sysctl agrees with.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
read -r name abi _ < <(KERNELS=demo "$root/scripts/kernels.sh")

echo "# building tcpstates.ko for $abi and the reader"
"$root/scripts/build-module.sh" "$abi" "$build/$abi"
make -s -C "$root/selftests" tcpgen
make -s -C "$root/userspace" tcpstates

pl=$build/demo-payload
rm -rf "$pl"
mkdir -p "$pl"
cp "$build/$abi/tcpstates.ko" "$root/selftests/tcpgen" "$root/userspace/tcpstates" "$pl/"
cat > "$pl/demo.sh" <<'GUEST'
set -e
cd /opt/tcpstates
./tcpgen estab 40 > /dev/null &
./tcpgen -6 estab 8 > /dev/null &
./tcpgen tw 25
./tcpgen -6 tw 5
sleep 1
echo "\$ uname -r"; uname -r
echo "\$ cat /proc/tcpstates"; cat /proc/tcpstates
echo "\$ tcpstates"; ./tcpstates
echo "\$ echo 50000 > /sys/kernel/tcpstates/max_tw_buckets"
echo 50000 > /sys/kernel/tcpstates/max_tw_buckets
echo "\$ sysctl net.ipv4.tcp_max_tw_buckets"; sysctl net.ipv4.tcp_max_tw_buckets
echo "\$ echo abc > /sys/kernel/tcpstates/max_tw_buckets"
echo abc > /sys/kernel/tcpstates/max_tw_buckets || true
echo "\$ ss -s"; ss -s | head -n 3
GUEST
echo "# booting $name ($abi) under QEMU: $("$root/scripts/qemu.sh" which)"
"$root/scripts/vm-run.sh" -t 300 "$abi" "$pl" "bash /opt/tcpstates/demo.sh"
