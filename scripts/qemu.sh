#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu.sh: the QEMU every guest of the matrix boots in.
#
# QEMU before 8.1 (Debian 12's is 7.2) has a multi-threaded TCG race with
# code the guest patches while its other vCPU runs (text_poke_bp: the vCPU
# runs a stale translation holding the int3, and the kernel dies with
# "Oops: int3" in early boot).  It was fixed upstream in 8.1 ("accel/tcg:
# Always lock pages before translation"), and CI lost a 6.12 lane to it
# once in about fifty boots.  So the choice is made by version, the
# first line of `qemu-system-x86_64 --version`:
#   - the machine's own QEMU when it is 8.1 or newer (Debian 13 has 10.0);
#   - else bookworm-backports' QEMU, unpacked under build/qemu/ (the
#     machine's own QEMU is left alone);
#   - else, if that is missing, the machine's QEMU with single-threaded
#     TCG, which cannot race (and says so).
#
#   qemu.sh ensure    unpack the backport if the machine's QEMU is too old
#                     (scripts/deps.sh runs this)
#   qemu.sh depends   the Debian packages the unpacked binary links
#                     against (none when the machine's QEMU is used)
#   qemu.sh run ARGS  exec the chosen QEMU with -accel tcg and ARGS
#   qemu.sh version   the version line of what run would exec
#   qemu.sh which     one line: which QEMU run execs, and why
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$here/.." && pwd)/build
dir=$build/qemu
suite=bookworm-backports
pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios"

# host_version: the machine's QEMU version (10.0.13), or nothing.
host_version() {
	qemu-system-x86_64 --version 2>/dev/null | head -n 1 |
		grep -oE '[0-9]+\.[0-9][0-9.]*' | head -n 1
}

# host_new_enough: whether the machine's QEMU has the MTTCG fix (8.1+).
host_new_enough() {
	local v

	v=$(host_version)
	[ -n "$v" ] && printf '8.1\n%s\n' "$v" | sort -C -V
}

ensure() {
	local ver deb

	if host_new_enough; then
		echo "qemu.sh: $(which_one)"
		return 0
	fi
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
	host_new_enough && return 0
	dpkg-deb -f "$dir"/debs/qemu-system-x86_*.deb Depends |
		tr ',' '\n' | sed 's/^ *//; s/[ :(|].*//' |
		grep -Ev '^(qemu-system-|seabios|ipxe)' | grep .
}

which_one() {
	if host_new_enough; then
		echo "the machine's own QEMU ($(host_version), 8.1 or newer: no MTTCG race)"
	elif [ -f "$dir/.version" ]; then
		echo "$suite's QEMU $(cat "$dir/.version") in build/qemu (the machine's is older than 8.1)"
	else
		echo "the machine's QEMU, single-threaded (older than 8.1, and build/qemu is missing)"
	fi
}

run() {
	local bin=$dir/root/usr/bin/qemu-system-x86_64

	if host_new_enough; then
		exec qemu-system-x86_64 -accel tcg "$@"
	fi
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
which)
	which_one
	;;
*)
	echo "usage: qemu.sh ensure | depends | run ARGS... | version | which" >&2
	exit 2
	;;
esac
