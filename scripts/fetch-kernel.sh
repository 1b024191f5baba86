#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh ABI CACHE: download Debian's linux-image-ABI with
# apt-get download and unpack it (no install, no bootloader) into
# CACHE/ABI/root.  Reused when already there.
#
# Both of Debian's layouts:
#   - up to 6.x, linux-image-ABI holds /boot/vmlinuz-ABI and
#     /lib/modules/ABI;
#   - from 7.x, linux-image-ABI is a metapackage: the kernel is in
#     linux-binary-ABI (/usr/lib/modules/ABI/vmlinuz), the modules in
#     linux-modules-ABI, modules.builtin and the config in linux-base-ABI.
#     Every dependency of the metapackage named *-ABI is fetched too.
# The host's own release's kernels come through this machine's apt, the
# others through the project's (scripts/apt.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
abi=$1
CACHE=$(realpath -m "$2")
dir=$CACHE/$abi
# shellcheck source=kernel-lib.sh
. "$here/kernel-lib.sh"

# The module the guests need most; a kbuild "make clean" with M= above
# this cache would delete every *.ko in it: check for a module, not only
# the marker.
complete() {
	[ -f "$dir/.unpacked" ] &&
		kernel_image "$dir/root" "$abi" > /dev/null &&
		kernel_module "$dir/root" "$abi" drivers/net/veth > /dev/null
}

complete && exit 0
if [ -L "$dir" ]; then
	# The debug kernel is a link to its build: never re-fetched.
	echo "fetch-kernel.sh: $dir (a locally built kernel) is incomplete: rebuild it" >&2
	exit 1
fi

# download PKG...: into the current directory, with whichever apt knows
# the packages.
download() {
	local log

	log=$(mktemp)
	if apt-get download -q "$@" > "$log" 2>&1 ||
	   "$here/apt.sh" get download -q "$@" > "$log" 2>&1; then
		rm -f "$log"
		return 0
	fi
	cat "$log" >&2
	rm -f "$log"
	return 1
}

tmp=$dir.new
rm -rf "$dir" "$tmp"
# Nothing half-unpacked stays behind (moved to $dir when complete).
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debs"
cd "$tmp/debs"
if ! download "linux-image-$abi"; then
	echo "fetch-kernel.sh: could not download linux-image-$abi" >&2
	exit 1
fi
deb=$(ls linux-image-"$abi"_*.deb)
# The 7.x metapackage: its parts are the dependencies named for the ABI.
parts=$(dpkg-deb -f "$deb" Depends | tr ',|' '\n\n' |
	sed -n "s/^ *\([a-z0-9.+-]*-$(printf '%s' "$abi" | sed 's/[.]/\\&/g')\)\( .*\)\{0,1\}$/\1/p" |
	sort -u)
if [ -n "$parts" ]; then
	# shellcheck disable=SC2086
	download $parts || {
		echo "fetch-kernel.sh: could not download" $parts >&2
		exit 1
	}
fi
for d in *.deb; do
	dpkg-deb -x "$d" "$tmp/root"
done
cd /
rm -rf "$tmp/debs"
if ! kernel_image "$tmp/root" "$abi" > /dev/null; then
	echo "fetch-kernel.sh: no kernel image for $abi in" "linux-image-$abi" $parts >&2
	exit 1
fi
if ! kernel_moddir "$tmp/root" "$abi" > /dev/null; then
	echo "fetch-kernel.sh: no module tree for $abi in" "linux-image-$abi" $parts >&2
	exit 1
fi
touch "$tmp/.unpacked"
mv "$tmp" "$dir"
