#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu.sh: the QEMU every guest of the matrix boots in.
#
# Debian 12's own QEMU (7.2) has a multi-threaded TCG race with code the
# guest patches while its other vCPU runs (text_poke_bp: the vCPU runs a
# stale translation holding the int3, and the kernel dies with "Oops:
# int3" in early boot).  It was fixed upstream in 8.1 ("accel/tcg: Always
# lock pages before translation"), and CI lost a 6.12 lane to it once in
# about fifty boots.  So the guests run bookworm-backports' QEMU,
# unpacked under build/qemu/ (the machine's own QEMU is left alone).
#
#   qemu.sh ensure    download and unpack it (scripts/deps.sh runs this)
#   qemu.sh depends   the Debian packages its binary links against
#   qemu.sh run ARGS  exec it with -accel tcg and ARGS; without the
#                     unpacked copy, the machine's QEMU with single-
#                     threaded TCG, which cannot race (and says so)
#   qemu.sh version   the version line of what run would exec
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$here/.." && pwd)/build
dir=$build/qemu
suite=bookworm-backports
pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios"

ensure() {
	local ver deb

	ver=$("$here/apt.sh" cache show "qemu-system-x86/$suite" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1)
	if [ -z "$ver" ]; then
		echo "qemu.sh: no qemu-system-x86 in $suite" >&2
		exit 1
	fi
	[ "$(cat "$dir/.version" 2>/dev/null)" = "$ver" ] && return 0
	echo "qemu.sh: unpacking QEMU $ver from $suite into build/qemu"
	rm -rf "$dir"
	mkdir -p "$dir/debs" "$dir/root"
	# shellcheck disable=SC2046
	(cd "$dir/debs" && "$here/apt.sh" get -q download \
		$(for p in $pkgs; do echo "$p/$suite"; done) >/dev/null)
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$dir/root"
	done
	"$dir/root/usr/bin/qemu-system-x86_64" --version >/dev/null
	echo "$ver" > "$dir/.version"
}

depends() {
	dpkg-deb -f "$dir"/debs/qemu-system-x86_*.deb Depends |
		tr ',' '\n' | sed 's/^ *//; s/[ :(|].*//' |
		grep -Ev '^(qemu-system-|seabios|ipxe)' | grep .
}

run() {
	local bin=$dir/root/usr/bin/qemu-system-x86_64

	if [ -f "$dir/.version" ] && [ -x "$bin" ]; then
		exec "$bin" -L "$dir/root/usr/share/qemu" \
			-L "$dir/root/usr/share/seabios" -accel tcg "$@"
	fi
	echo "qemu.sh: build/qemu missing (scripts/deps.sh makes it): the machine's QEMU, single-threaded TCG" >&2
	exec qemu-system-x86_64 -accel tcg,thread=single "$@"
}

case "${1:-}" in
ensure)
	ensure
	;;
depends)
	depends
	;;
run)
	shift
	run "$@"
	;;
version)
	run --version 2>/dev/null | head -n 1
	;;
*)
	echo "usage: qemu.sh ensure | depends | run ARGS... | version" >&2
	exit 2
	;;
esac
