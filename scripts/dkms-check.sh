#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-check.sh: the install paths for every packaged kernel of the matrix
# (KERNELS, see kernels.sh) against that kernel's headers, with that
# kernel's toolchain and its distribution's dkms: this machine's for the
# kernels of its own Debian release, a chroot's of that release
# (scripts/chroot.sh) for the others.  No module is loaded, so the host's own kernel does not
# matter.
#
#   - dkms add, build and remove the source tree make dkms-install puts in
#     /usr/src (scripts/install.sh dkms-source), with the built module's
#     vermagic checked.  DKMS runs on private trees under build/dkms-check
#     (--dkmstree, --sourcetree, --installtree, and a throwaway MOK signing
#     key), one per toolchain, so /var/lib/dkms, /usr/src and /lib/modules
#     (of this machine and of the chroots) stay untouched.
#   - make install and make uninstall into a staging DESTDIR, from a copy
#     of the sources (kbuild builds in the source tree).
#
# TAP on stdout, logs in build/logs/dkms-*.log; exit 1 if anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=kernel-lib.sh
. "$root/scripts/kernel-lib.sh"
work=$root/build/dkms-check
logs=$root/build/logs
# shellcheck source=tap-lib.sh
. "$root/scripts/tap-lib.sh"

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
if ! kernels=$("$root/scripts/kernels.sh"); then
	result 1 "resolve the kernel matrix (${KERNELS:-default})"
	echo "1..$n"
	exit 1
fi

kernels=$(echo "$kernels" | awk '$3 != "debug"')
if [ -z "$kernels" ]; then
	echo "# no packaged kernel in the matrix (${KERNELS:-default}): nothing for dkms"
	echo "1..0 # SKIP no packaged kernel"
	exit 0
fi

ver=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/dkms.conf")
rm -rf "$work"
mkdir -p "$work" "$logs"

# Each toolchain's kernels, with that toolchain's dkms: this machine's for
# its own release's kernels, the chroot's for the others (dkms, gcc and
# make of that distribution, as its users have them).  Every tree is under
# build/, which a chroot sees at the same path.
for tc in $(echo "$kernels" | awk '{ print $3 }' | awk '!seen[$0]++'); do
	tw=$work/$tc
	mkdir -p "$tw/src" "$tw/dkms" "$tw/modules"
	dkms_opts=(--dkmstree "$tw/dkms" --sourcetree "$tw/src" --installtree "$tw/modules")
	# dkms signs what it builds, generating its MOK key on first use;
	# without these it would create /var/lib/dkms/mok.key.
	keys=(env "mok_signing_key=$tw/mok.key" "mok_certificate=$tw/mok.pub")
	dkms_version=$(toolchain_run "$tc" dkms --version 2>/dev/null | head -n 1)

	"$root/scripts/install.sh" dkms-source "$tw/src/tcpstates-$ver" &&
		toolchain_run "$tc" "${keys[@]}" dkms add "tcpstates/$ver" "${dkms_opts[@]}" \
		> "$logs/dkms-add-$tc.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || show_log "$logs/dkms-add-$tc.log"
	result $rc "$tc: dkms add tcpstates/$ver ($dkms_version)"

	# The tree make install works in: sources only, as in a fresh
	# checkout, built with this toolchain.
	tree=$tw/tree
	mkdir -p "$tree/scripts" "$tree/userspace"
	"$root/scripts/install.sh" dkms-source "$tree"
	cp "$root/Makefile" "$tree/"
	cp "$root/scripts/install.sh" "$tree/scripts/"
	cp "$root"/userspace/{Makefile,*.c,*.h,tcpstates.8} "$tree/userspace/"

	while read -r name abi _; do
		[ -n "$name" ] || continue
		log=$logs/dkms-$abi.log
		# dkms 3.2 looks for the headers under --installtree: name them.
		# dkms 2.x must not be told: given a source dir it "prepares"
		# it, make mrproper included, and wipes the packaged headers.
		ksrc=()
		case "$dkms_version" in
		*[!0-9.]2.*|2.*) ;;
		*) ksrc=(--kernelsourcedir "$(kernel_kdir "$abi")") ;;
		esac

		toolchain_run "$tc" "${keys[@]}" dkms build "tcpstates/$ver" -k "$abi" \
			"${dkms_opts[@]}" "${ksrc[@]}" > "$log" 2>&1
		rc=$?
		if [ $rc -eq 0 ]; then
			ko=$(find "$tw/dkms/tcpstates/$ver/$abi" -name 'tcpstates.ko*' | head -n 1)
			magic=$(modinfo -F vermagic "$ko" 2>>"$log")
			echo "vermagic: $magic" >> "$log"
			[ "${magic%% *}" = "$abi" ] || rc=1
		fi
		if [ $rc -ne 0 ]; then
			show_log "$log"
			# dkms keeps the build log where the build failed.
			[ -f "$tw/dkms/tcpstates/$ver/build/make.log" ] &&
				show_log "$tw/dkms/tcpstates/$ver/build/make.log"
		fi
		result $rc "$name: dkms build for $abi ($tc dkms)"

		log=$logs/install-$abi.log
		stage=$tw/stage-$abi
		modlib=$stage/lib/modules/$abi
		{
			toolchain_run "$tc" make -C "$tree" install KVER="$abi" DESTDIR="$stage" &&
				ls "$modlib"/updates/tcpstates.ko* &&
				[ -x "$stage/usr/local/sbin/tcpstates" ] &&
				[ -f "$stage/usr/local/share/man/man8/tcpstates.8" ] &&
				toolchain_run "$tc" make -C "$tree" uninstall KVER="$abi" DESTDIR="$stage" &&
				[ -z "$(find "$stage" -type f)" ]
		} > "$log" 2>&1
		rc=$?
		[ $rc -eq 0 ] || show_log "$log"
		result $rc "$name: make install and uninstall, staged, for $abi ($tc toolchain)"
	done < <(echo "$kernels" | awk -v tc="$tc" '$3 == tc')

	toolchain_run "$tc" dkms remove "tcpstates/$ver" --all "${dkms_opts[@]}" \
		> "$logs/dkms-remove-$tc.log" 2>&1 &&
		! toolchain_run "$tc" dkms status "${dkms_opts[@]}" 2>/dev/null | grep -q tcpstates
	rc=$?
	[ $rc -eq 0 ] || show_log "$logs/dkms-remove-$tc.log"
	result $rc "$tc: dkms remove tcpstates/$ver --all"
done

echo "1..$n"
[ "$failed" -eq 0 ]
