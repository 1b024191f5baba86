#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh ABI CACHE: download Debian's linux-image-ABI with
# apt-get download and unpack it (no install, no bootloader) into
# CACHE/ABI/root.  Reused when already there.
set -euo pipefail

abi=$1
dir=$2/$abi

# A kbuild "make clean" with M= above this cache deletes every *.ko in
# it: check for a module, not only the marker.
if [ -f "$dir/.unpacked" ] &&
   [ -n "$(find "$dir/root/lib/modules" -name 'veth.ko*' -print -quit)" ]; then
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
(cd "$dir" && apt-get download -q "linux-image-$abi" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
deb=$(ls "$dir"/linux-image-"$abi"_*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ]; then
	echo "fetch-kernel.sh: could not download linux-image-$abi" >&2
	exit 1
fi
dpkg-deb -x "$deb" "$dir/root"
rm -f "$deb"
test -f "$dir/root/boot/vmlinuz-$abi"
touch "$dir/.unpacked"
