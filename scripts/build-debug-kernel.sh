#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-debug-kernel.sh [--cached] [--kcsan] CACHE: build a small 6.12
# kernel with lockdep, PROVE_RCU, KASAN, kmemleak and the lockup detectors
# from Debian's linux-source-6.12, for the debug lane of make check; with
# --kcsan, the same kernel with KCSAN instead of KASAN and kmemleak
# (kcsan-kernel.config over debug-kernel.config), for make check-kcsan.
# Cached by the hash of the config fragments and the source package
# version; prints the kernel release (the "ABI" vm-run.sh and
# build-module.sh take).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kernel-lib.sh
. "$here/kernel-lib.sh"
cached_only=0
flavour=debug
frags=$here/debug-kernel.config
while [ $# -gt 1 ]; do
	case $1 in
	# Print the release only if it is built already; build nothing.
	--cached) cached_only=1 ;;
	--kcsan) flavour=kcsan frags="$frags $here/kcsan-kernel.config" ;;
	*) break ;;
	esac
	shift
done
# Absolute: kbuild runs in the tree, and a relative INSTALL_MOD_PATH
# would install the modules inside it (make debug-kernel passes
# build/kernels), where fetch-kernel.sh and vm-run.sh never look.
cache=$(realpath -m "$1")
tarball=/usr/src/linux-source-6.12.tar.xz
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
# shellcheck disable=SC2086 # the fragments' paths have no spaces
key=$( (cat $frags; echo "$ver") | sha256sum | cut -c1-12)
dir=$cache/$flavour-$key
src=$dir/src

if [ ! -f "$dir/.built" ] && [ $cached_only -eq 1 ]; then
	exit 0
fi
if [ ! -f "$dir/.built" ]; then
	rm -rf "$dir"
	mkdir -p "$dir"
	echo "build-debug-kernel: unpacking linux-source-6.12 $ver" >&2
	tar -xJf "$tarball" -C "$dir"
	mv "$dir/linux-source-6.12" "$src"
	make -s -C "$src" allnoconfig >&2
	# shellcheck disable=SC2086
	"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" $frags >&2
	make -s -C "$src" olddefconfig >&2
	# Every option the fragments set (the last one's word for each) must
	# have survived olddefconfig.
	# shellcheck disable=SC2086
	sed -nE 's/^# (CONFIG_[A-Z0-9_]+) is not set$/\1=n/p; /^CONFIG_[A-Z0-9_]+=/p' $frags |
		awk -F= '{ v[$1] = $0; if (!($1 in seen)) { seen[$1] = 1; o[++n] = $1 } }
			 END { for (i = 1; i <= n; i++) print v[o[i]] }' |
		grep -E '=[ymn]$' | while read -r opt; do
		case $opt in
		*=n) ! grep -q "^${opt%=n}=" "$src/.config" ;;
		*) grep -qx "$opt" "$src/.config" ;;
		esac || {
			echo "build-debug-kernel: $opt did not stick" >&2
			exit 1
		}
	done
	echo "build-debug-kernel: building (about 10 minutes on 2 cores)" >&2
	start=$(date +%s)
	make -s -C "$src" -j"$(nproc)" bzImage modules >&2
	rel=$(make -s -C "$src" kernelrelease)
	# modsig.sh signs with the key kbuild made and built in.
	for f in certs/signing_key.pem certs/signing_key.x509 scripts/sign-file; do
		[ -e "$src/$f" ] || {
			echo "build-debug-kernel: no $f after the build (CONFIG_MODULE_SIG)" >&2
			exit 1
		}
	done
	mkdir -p "$dir/root/boot"
	cp "$src/arch/x86/boot/bzImage" "$dir/root/boot/vmlinuz-$rel"
	echo "$rel" > "$dir/release"
	echo "build-debug-kernel: built $rel in $(($(date +%s) - start)) s" >&2
	touch "$dir/.built"
fi
rel=$(cat "$dir/release")
# The modules the guests load: installed here, and again if a cache from
# before the fix above has none where vm-run.sh looks.
if ! kernel_module "$dir/root" "$rel" drivers/net/veth > /dev/null; then
	rm -rf "$dir/root/lib/modules"
	make -s -C "$src" INSTALL_MOD_PATH="$dir/root" modules_install >&2
	for m in net/ipv4/inet_diag net/ipv4/tcp_diag drivers/net/veth drivers/net/dummy; do
		kernel_module "$dir/root" "$rel" "$m" > /dev/null || {
			echo "build-debug-kernel: $m missing from $dir/root after modules_install" >&2
			exit 1
		}
	done
fi
# vm-run.sh and fetch-kernel.sh find kernels as CACHE/ABI/root.
ln -sfn "$(basename "$dir")" "$cache/$rel"
touch "$dir/.unpacked"
echo "$rel"
