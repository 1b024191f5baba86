#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything make check, make lint and make demo need on a fresh
# Debian 12 machine, idempotently: tools, the guests' QEMU (unpacked under
# build/qemu by scripts/qemu.sh), the headers of every kernel of
# the matrix (KERNELS, resolved from apt metadata by scripts/kernels.sh),
# and linux-source, from which the kselftest harness and checkpatch are
# unpacked into build/.
#
# Headers go where each kernel's toolchain is (scripts/kernel-lib.sh):
# bookworm's onto this machine with apt-get, bullseye's (5.10) and sid's
# and experimental's (7.x) into cached debootstrap chroots under
# build/chroot (scripts/chroot.sh), created here on first use.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build

PKGS="build-essential qemu-system-x86 busybox-static cpio dwarves iproute2
net-tools util-linux procps kmod xz-utils zstd sparse python3 prometheus
prometheus-node-exporter curl
man-db groff-base dkms debootstrap debian-archive-keyring
linux-source-6.1 linux-source-6.12 bc flex bison libelf-dev libssl-dev
clang llvm libbpf-dev bpftool zlib1g-dev"

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
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -360 2>/dev/null)" ]; then
	$SUDO apt-get update -q >/dev/null
fi

# shellcheck disable=SC2086
apt_install $PKGS

# The guests' QEMU, from bookworm-backports (scripts/qemu.sh says why),
# and the host libraries it links against.
"$here/qemu.sh" ensure
# shellcheck disable=SC2046
apt_install $("$here/qemu.sh" depends)

kernels=$("$here/kernels.sh")
echo "$kernels" | sed 's/^/deps: kernel /'
# headers TOOLCHAIN: the linux-headers packages of that toolchain's kernels.
headers() {
	echo "$kernels" | awk -v tc="$1" '$3 == tc { print "linux-headers-" $2 }'
}
# shellcheck disable=SC2046
apt_install $(headers bookworm)

# The chroots: both at once when both are new (each is mostly waiting
# for the network and dpkg).  The debug kernel has its own tree.
pids=
for suite in bullseye sid; do
	[ -n "$(headers "$suite")" ] || continue
	# shellcheck disable=SC2046
	"$here/chroot.sh" ensure "$suite" $(headers "$suite") &
	pids+=" $!"
done
status=0
for p in $pids; do
	wait "$p" || status=1
done
[ $status -eq 0 ] || { echo "deps: a build chroot could not be made" >&2; exit 1; }

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
