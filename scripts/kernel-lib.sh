# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by the scripts that build for, fetch or boot a kernel of the
# matrix: where a kernel's headers are, which toolchain builds against
# them, and where an unpacked kernel keeps its image and modules.
#
# Toolchains (the third column of scripts/kernels.sh) are Debian
# releases: each kernel is built with the gcc its release builds modules
# with, on this machine when it runs that release (KL_HOST, headers
# installed by apt in /usr/src/linux-headers-ABI), else in a cached chroot
# of the release (scripts/chroot.sh) with the headers installed there:
#   bullseye  gcc-10: 5.10
#   bookworm  gcc-12: Debian 12's 6.1 and 6.12
#   trixie    gcc-14: Debian 13's 6.12, and trixie-backports' 7.x
#   sid       gcc-16, pahole 1.32: sid's and experimental's 7.x
#   debug     this machine's gcc against the debug kernel's own tree
#             (build/kernels/ABI/src, see build-debug-kernel.sh)

KL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KL_BUILD=$KL_ROOT/build
CACHE=${CACHE:-$KL_BUILD/kernels}
# The Debian release this machine runs (bookworm, trixie), or empty.
KL_HOST=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
# The releases a toolchain can be.
KL_SUITES="bullseye bookworm trixie sid"

# kernel_toolchain ABI: which toolchain has headers for ABI; fails (with a
# message) if none has.
kernel_toolchain() {
	local abi=$1 suite

	if [ -f "$CACHE/$abi/src/Makefile" ]; then
		echo debug
		return 0
	fi
	if [ -n "$KL_HOST" ] && [ -f "/usr/src/linux-headers-$abi/Makefile" ]; then
		echo "$KL_HOST"
		return 0
	fi
	for suite in $KL_SUITES; do
		if [ -f "$KL_BUILD/chroot/$suite/usr/src/linux-headers-$abi/Makefile" ]; then
			echo "$suite"
			return 0
		fi
	done
	echo "kernel-lib: no headers for $abi on this machine or in build/chroot/* (make deps)" >&2
	return 1
}

# kernel_kdir ABI: its headers, as its toolchain sees them.
kernel_kdir() {
	case "$(kernel_toolchain "$1")" in
	debug)	echo "$CACHE/$1/src" ;;
	"")	return 1 ;;
	*)	echo "/usr/src/linux-headers-$1" ;;
	esac
}

# toolchain_on_host TOOLCHAIN: whether that toolchain is this machine's.
toolchain_on_host() {
	[ "$1" = debug ] || [ "$1" = "$KL_HOST" ]
}

# toolchain_run TOOLCHAIN CMD...: CMD where that toolchain is.  In a
# chroot, paths under build/ are the same as outside.
toolchain_run() {
	local tc=$1

	shift
	if toolchain_on_host "$tc"; then
		"$@"
	elif [[ " $KL_SUITES " == *" $tc "* ]]; then
		"$KL_ROOT/scripts/chroot.sh" run "$tc" "$@"
	else
		echo "kernel-lib: unknown toolchain '$tc'" >&2
		return 1
	fi
}

# kernel_make ABI DIR MAKEARGS...: kbuild for the external module in DIR
# against ABI's headers, with ABI's toolchain.  DIR must be under build/
# for a chroot toolchain.
kernel_make() {
	local abi=$1 dir=$2 tc kdir

	shift 2
	tc=$(kernel_toolchain "$abi") || return 1
	kdir=$(kernel_kdir "$abi") || return 1
	dir=$(realpath -m "$dir")
	if ! toolchain_on_host "$tc" && [[ "$dir" != "$KL_BUILD"/* ]]; then
		echo "kernel-lib: $dir: a $tc build must be under $KL_BUILD" >&2
		return 1
	fi
	toolchain_run "$tc" make -C "$kdir" M="$dir" "$@"
}

# kernel_moddir KROOT ABI: the module tree of an unpacked kernel, in
# either layout: /lib/modules/ABI (up to 6.x) or /usr/lib/modules/ABI
# (Debian's 7.x packages).
kernel_moddir() {
	local d

	for d in "$1/lib/modules/$2" "$1/usr/lib/modules/$2"; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	return 1
}

# kernel_image KROOT ABI: the bootable image of an unpacked kernel:
# /boot/vmlinuz-ABI (linux-image-ABI up to 6.x, and the debug kernel) or
# /usr/lib/modules/ABI/vmlinuz (linux-binary-ABI of 7.x).
kernel_image() {
	local f

	for f in "$1/boot/vmlinuz-$2" "$1/usr/lib/modules/$2/vmlinuz" \
		 "$1/lib/modules/$2/vmlinuz"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# kernel_module KROOT ABI PATH: how the unpacked kernel has module PATH
# (relative to kernel/, no suffix: net/ipv4/inet_diag).  Prints the file
# (.ko, .ko.xz, .ko.zst or .ko.gz) or "builtin"; fails if it has neither.
kernel_module() {
	local moddir s

	moddir=$(kernel_moddir "$1" "$2") || return 1
	for s in .ko .ko.xz .ko.zst .ko.gz; do
		[ -f "$moddir/kernel/$3$s" ] && { echo "$moddir/kernel/$3$s"; return 0; }
	done
	if [ -f "$moddir/modules.builtin" ] &&
	   grep -qx "kernel/$3.ko" "$moddir/modules.builtin"; then
		echo builtin
		return 0
	fi
	return 1
}
