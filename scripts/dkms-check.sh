#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh: the install paths, on the host, for every kernel of the
# matrix (KERNELS, see kernels.sh) against that kernel's installed headers.
# No module is loaded, so the host's own kernel does not matter.
#
#   - dkms add, build and remove the source tree make dkms-install puts in
#     /usr/src (scripts/install.sh dkms-source), with the built module's
#     vermagic checked.  DKMS runs on private trees under build/dkms-check
#     (--dkmstree, --sourcetree, --installtree, and a throwaway MOK signing
#     key), so /var/lib/dkms, /usr/src and /lib/modules stay untouched.
#   - make install and make uninstall into a staging DESTDIR, from a copy
#     of the sources (kbuild builds in the source tree).
#
# TAP on stdout, logs in build/logs/dkms-*.log; exit 1 if anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/build/dkms-check
logs=$root/build/logs
n=0
failed=0

# result RC DESCRIPTION: one TAP line.
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

# show_log FILE: the end of a failed step's log, as TAP comments.
show_log() {
	tail -n 30 "$1" | sed 's/^/# /'
}

if ! command -v dkms >/dev/null; then
	result 1 "dkms is installed (make deps)"
	echo "1..$n"
	exit 1
fi
# Packaged kernels only: dkms builds against /lib/modules/KVER/build.
if ! kernels=$("$root/scripts/kernels.sh" | grep -v '^debug '); then
	result 1 "resolve the kernel matrix (${KERNELS:-6.1 6.12})"
	echo "1..$n"
	exit 1
fi

ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/dkms.conf")
rm -rf "$work"
mkdir -p "$work/src" "$work/dkms" "$work/modules" "$logs"
dkms_opts=(--dkmstree "$work/dkms" --sourcetree "$work/src"
	   --installtree "$work/modules")
# dkms signs what it builds, generating its MOK key on first use; without
# these it would create /var/lib/dkms/mok.key on this host.
export mok_signing_key=$work/mok.key mok_certificate=$work/mok.pub

"$root/scripts/install.sh" dkms-source "$work/src/tcpstates-$ver" &&
	dkms add "tcpstates/$ver" "${dkms_opts[@]}" > "$logs/dkms-add.log" 2>&1
rc=$?
[ $rc -eq 0 ] || show_log "$logs/dkms-add.log"
result $rc "dkms add tcpstates/$ver"

# The tree make install works in: sources only, as in a fresh checkout.
tree=$work/tree
mkdir -p "$tree/scripts" "$tree/userspace"
"$root/scripts/install.sh" dkms-source "$tree"
cp "$root/Makefile" "$tree/"
cp "$root/scripts/install.sh" "$tree/scripts/"
cp "$root"/userspace/{Makefile,*.c,*.h,tcpstates.8} "$tree/userspace/"

while read -r name abi; do
	[ -n "$name" ] || continue
	log=$logs/dkms-$abi.log

	dkms build "tcpstates/$ver" -k "$abi" "${dkms_opts[@]}" > "$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ko=$(find "$work/dkms/tcpstates/$ver/$abi" -name 'tcpstates.ko*' | head -n 1)
		magic=$(modinfo -F vermagic "$ko" 2>>"$log")
		echo "vermagic: $magic" >> "$log"
		[ "${magic%% *}" = "$abi" ] || rc=1
	fi
	if [ $rc -ne 0 ]; then
		show_log "$log"
		# dkms keeps the build log where the build failed.
		[ -f "$work/dkms/tcpstates/$ver/build/make.log" ] &&
			show_log "$work/dkms/tcpstates/$ver/build/make.log"
	fi
	result $rc "$name: dkms build for $abi"

	log=$logs/install-$abi.log
	stage=$work/stage-$abi
	modlib=$stage/lib/modules/$abi
	{
		make -C "$tree" install KVER="$abi" DESTDIR="$stage" &&
			ls "$modlib"/updates/tcpstates.ko* &&
			[ -x "$stage/usr/local/sbin/tcpstates" ] &&
			[ -f "$stage/usr/local/share/man/man8/tcpstates.8" ] &&
			make -C "$tree" uninstall KVER="$abi" DESTDIR="$stage" &&
			[ -z "$(find "$stage" -type f)" ]
	} > "$log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || show_log "$log"
	result $rc "$name: make install and uninstall, staged, for $abi"
done <<< "$kernels"

dkms remove "tcpstates/$ver" --all "${dkms_opts[@]}" > "$logs/dkms-remove.log" 2>&1 &&
	! dkms status "${dkms_opts[@]}" 2>/dev/null | grep -q tcpstates
rc=$?
[ $rc -eq 0 ] || show_log "$logs/dkms-remove.log"
result $rc "dkms remove tcpstates/$ver --all"

echo "1..$n"
exit $failed
