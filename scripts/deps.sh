#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything make check, make lint and make demo need on a fresh
# Debian 12 machine, idempotently: tools, the headers of every kernel of
# the matrix (resolved from apt metadata), and linux-source, from which
# the kselftest harness and checkpatch are unpacked into build/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build

PKGS="build-essential qemu-system-x86 busybox-static cpio dwarves iproute2
net-tools util-linux procps kmod xz-utils sparse python3 prometheus man-db
groff-base dkms
linux-source-6.1 linux-source-6.12 bc flex bison libelf-dev libssl-dev"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

missing() {
	local p

	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

apt_install() {
	local need

	need=$(missing "$@")
	[ -z "$need" ] && return 0
	echo "deps: installing" $need
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		--no-install-recommends $need >/dev/null
}

# Fresh package lists: kernel ABI names move as Debian updates.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -360 2>/dev/null)" ]; then
	$SUDO apt-get update -q >/dev/null
fi

# shellcheck disable=SC2086
apt_install $PKGS

kernels=$("$here/kernels.sh")
# The debug kernel is built here, with its own tree: no package.
hdrs=$(echo "$kernels" | awk '$1 != "debug" { print "linux-headers-" $2 }')
# shellcheck disable=SC2086
apt_install $hdrs

# The kselftest harness and checkpatch, from the newest linux-source.
src=$build/linux-source
if [ ! -f "$src/.unpacked" ]; then
	echo "deps: unpacking kselftest harness and checkpatch from linux-source-6.12"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$src" --strip-components=1 \
		linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.12/tools/testing/selftests/kselftest.h \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
	touch "$src/.unpacked"
fi
mkdir -p "$build/ksft"
cp "$src"/tools/testing/selftests/kselftest*.h "$build/ksft/"
