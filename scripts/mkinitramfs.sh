#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh OUT KROOT ABI PAYLOAD: build an initramfs (uncompressed
# cpio) for a test guest: busybox, the host's bash, iproute2, net-tools and
# util-linux tools with their libraries, the kernel modules the tests need
# from the unpacked Debian kernel KROOT, and PAYLOAD (copied to
# /opt/tcpstates; every ELF in it gets its libraries too).
set -euo pipefail

out=$1
kroot=$2
abi=$3
payload=$4
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kernel-lib.sh
. "$here/kernel-lib.sh"

# Host tools the selftests use, beside busybox's applets.
TOOLS="bash ip ss netstat setpriv unshare nsenter sysctl timeout"
# In load order: ss needs inet_diag/tcp_diag, the tests veth and dummy.
KMODS="net/ipv4/inet_diag net/ipv4/tcp_diag drivers/net/veth drivers/net/dummy"

root=$(mktemp -d)
# mktemp makes it 0700: the guest's / must be searchable by every uid.
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,proc,sys,dev,run,tmp,etc,var,lib/modules/extra,opt}
ln -s ../run "$root/var/run"
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"

# copy_elf FILE DEST: the file and every shared library it needs.
copy_elf() {
	local lib dst

	cp -L "$1" "$2"
	ldd "$1" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
		dst=$root/usr${lib#/usr}
		[ -e "$dst" ] && continue
		mkdir -p "$(dirname "$dst")"
		cp -L "$lib" "$dst"
	done
}

for t in $TOOLS; do
	p=$(command -v "$t") || { echo "mkinitramfs.sh: $t not found on the host" >&2; exit 1; }
	case "$p" in
	*/sbin/*) copy_elf "$p" "$root/usr/sbin/$t" ;;
	*) copy_elf "$p" "$root/usr/bin/$t" ;;
	esac
done

cp /bin/busybox "$root/usr/bin/busybox"
for a in $("$root/usr/bin/busybox" --list); do
	[ -e "$root/usr/bin/$a" ] || [ -e "$root/usr/sbin/$a" ] ||
		ln -s busybox "$root/usr/bin/$a"
done
# Debian's busybox sh runs its own applets before PATH (so "ip" would be
# busybox's); the tests' shell, system() included, must be bash.
ln -sf bash "$root/usr/bin/sh"

# The modules and what they depend on, dependencies first, decompressed
# (the guest's busybox insmod takes plain .ko).  A module the kernel has
# built in needs nothing.  Either layout: /lib/modules or /usr/lib/modules.
moddir=$(kernel_moddir "$kroot" "$abi") || {
	echo "mkinitramfs.sh: no module tree for $abi in $kroot" >&2
	exit 1
}
: > "$root/lib/modules/extra/order"
# add_module PATH: PATH is relative to kernel/, without suffix.
add_module() {
	local f name dep

	f=$(kernel_module "$kroot" "$abi" "$1") || {
		echo "mkinitramfs.sh: $1 is neither a module nor built in for $abi ($moddir)" >&2
		return 1
	}
	[ "$f" != builtin ] || return 0
	name=$(basename "$1")
	[ ! -e "$root/lib/modules/extra/$name.ko" ] || return 0
	for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
		add_module "$(find "$moddir/kernel" -name "$dep.ko*" -printf '%P\n' |
			head -n 1 | sed 's/\.ko.*$//')" || return 1
	done
	case "$f" in
	*.ko) cp "$f" "$root/lib/modules/extra/$name.ko" ;;
	*.ko.xz) xz -dc "$f" > "$root/lib/modules/extra/$name.ko" ;;
	*.ko.zst) zstd -qdc "$f" > "$root/lib/modules/extra/$name.ko" ;;
	*.ko.gz) gzip -dc "$f" > "$root/lib/modules/extra/$name.ko" ;;
	esac
	echo "$name" >> "$root/lib/modules/extra/order"
}
for m in $KMODS; do
	add_module "$m" || exit 1
done

cp -a "$payload" "$root/opt/tcpstates"
find "$root/opt/tcpstates" -type f -perm -u+x | while read -r f; do
	if head -c 4 "$f" | grep -q 'ELF'; then
		copy_elf "$f" "$f.tmp" && mv "$f.tmp" "$f"
	fi
done

install -m 0755 "$here/guest-init.sh" "$root/init"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/false" >> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
touch "$root/etc/fstab"

(cd "$root" && find . | cpio -o -H newc --quiet) > "$out"
