#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything make check, make lint and make demo need on a fresh
# Debian 12 or 13 machine, idempotently: tools, the guests' QEMU (the
# machine's own, or one unpacked under build/qemu when it is too old:
# scripts/qemu.sh), the headers of every kernel of the matrix (KERNELS,
# resolved from apt metadata by scripts/kernels.sh), and linux-source,
# from which the kselftest harness and checkpatch are unpacked into build/.
#
# Headers go where each kernel's toolchain is (scripts/kernel-lib.sh):
# those of this machine's own release onto this machine with apt-get, the
# others' (5.10, 7.x, and bookworm's or trixie's, whichever this machine
# does not run) into cached debootstrap chroots under build/chroot
# (scripts/chroot.sh), created here on first use.
#
# DEPS=demo installs only what make demo needs (no linting, bpf, dkms or
# Prometheus tools), for make demo's kernel alone; DEPS=host only this
# machine's packages and QEMU, no kernel headers or chroots; DEPS=deb only
# what make deb needs (debian/control's Build-Depends, and lintian).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build

# What make demo needs: build the module and reader, boot a guest.
DEMO_PKGS="build-essential qemu-system-x86 busybox-static cpio dwarves
iproute2 net-tools util-linux procps kmod xz-utils zstd debootstrap
debian-archive-keyring bc flex bison libelf-dev libssl-dev"
# openssl: the debug kernel's build makes its module signing key with it,
# and sign-module.sh a MOK key.
PKGS="$DEMO_PKGS sparse python3 prometheus prometheus-node-exporter curl
man-db groff-base dkms linux-source-6.12 clang llvm libbpf-dev bpftool
zlib1g-dev openssl"
# What make deb needs: debian/control's Build-Depends, and lintian.
DEB_PKGS="build-essential dpkg-dev fakeroot debhelper dh-dkms lintian
clang llvm libbpf-dev bpftool"
[ "${DEPS:-}" = demo ] && PKGS=$DEMO_PKGS
[ "${DEPS:-}" = deb ] && PKGS=$DEB_PKGS

# shellcheck source=kernel-lib.sh
. "$here/kernel-lib.sh"

# What a host lacks is said in one line, before anything is tried.
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo > /dev/null || {
		echo "deps: needs root, or sudo, to install packages with apt-get" >&2
		exit 1
	}
	SUDO=sudo
fi
case "$KL_HOST" in
bookworm|trixie) ;;
*)	echo "deps: this machine runs '${KL_HOST:-not Debian}', not Debian 12 (bookworm) or 13 (trixie): trying anyway" >&2 ;;
esac

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
	# Another make target's install may hold dpkg's lock (CI runs
	# make check-deb beside make check-harness): wait for it.
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q \
		-o DPkg::Lock::Timeout=600 --no-install-recommends $need >/dev/null
}

mkdir -p "$build"
# One of us at a time: CI runs make check-deb beside make check-harness,
# and each starts here; apt-get update fails outright on another's lock.
exec 9> "$build/.deps.lock"
flock 9
# Fresh package lists: kernel ABI names move as Debian updates.  Our own
# stamp too: an update that found nothing new leaves the lists' times.
if [ -z "$(find /var/lib/apt/lists "$build/.apt-updated" -maxdepth 1 \
	   \( -name '*_Packages*' -o -name .apt-updated \) -mmin -360 2>/dev/null)" ]; then
	if ! $SUDO apt-get update -q > "$build/apt-update.log" 2>&1 ||
	   grep -q '^[WE]: Failed to fetch' "$build/apt-update.log"; then
		echo "deps: cannot reach Debian's archive ($("$here/apt.sh" mirror)): apt-get update failed, see build/apt-update.log" >&2
		exit 1
	fi
	touch "$build/.apt-updated"
fi

# shellcheck disable=SC2086
apt_install $PKGS
[ "${DEPS:-}" = deb ] && exit 0

# The guests' QEMU: the machine's own if it is 8.1 or newer, else
# bookworm-backports' (scripts/qemu.sh says why), and the host libraries
# that one links against.
"$here/qemu.sh" ensure
# shellcheck disable=SC2046
apt_install $("$here/qemu.sh" depends)

if [ "${DEPS:-}" != demo ]; then
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
fi
# DEPS=host: this machine's packages alone (CI starts the debug kernel's
# build on them while make lint makes the chroots).
[ "${DEPS:-}" = host ] && exit 0

[ "${DEPS:-}" = demo ] && KERNELS=demo
kernels=$(KERNELS=${KERNELS:-} "$here/kernels.sh")
echo "$kernels" | sed 's/^/deps: kernel /'
# headers TOOLCHAIN: the linux-headers packages of that toolchain's kernels.
headers() {
	echo "$kernels" | awk -v tc="$1" '$3 == tc { print "linux-headers-" $2 }'
}
# shellcheck disable=SC2046
[ -z "$KL_HOST" ] || apt_install $(headers "$KL_HOST")

# The chroots: all at once when new (each is mostly waiting for the
# network and dpkg).  The debug kernel has its own tree.
pids=
for suite in $KL_SUITES; do
	[ "$suite" != "$KL_HOST" ] || continue
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

