#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install.sh ACTION: install tcpstates the way out-of-tree modules are
# installed.  make install, uninstall, dkms-install and dkms-remove call it.
#
#   install           build tcpstates.ko against KDIR, modules_install it into
#                     /lib/modules/KVER/updates/ and run depmod; install the
#                     reader into PREFIX/sbin and its man page
#   uninstall         undo install (a loaded module stays loaded)
#   install-module    the module part of install only
#   uninstall-module  the module part of uninstall only
#   dkms-install      copy the module's sources to /usr/src/tcpstates-VERSION,
#                     dkms add, build and install them for KVER (DKMS then
#                     rebuilds them for every new kernel), and the reader.
#                     Other versions under DKMS are removed first: this is
#                     also the upgrade.
#   dkms-remove       every version under DKMS, its sources, and the reader
#   dkms-source DIR   write the DKMS source tree (dkms.conf, Kbuild, module/,
#                     include/) into DIR; scripts/dkms-check.sh uses it
#
# Environment:
#   KVER              kernel release (default: KDIR's, else uname -r)
#   KDIR              its headers (default: /lib/modules/KVER/build)
#   DESTDIR           staging root, for packaging
#   INSTALL_MOD_PATH  root of the module tree (kbuild's name; default DESTDIR)
#   PREFIX            the reader's prefix (default: /usr/local)
#   TCPSTATES_KO      a tcpstates.ko already built for KVER: install it as
#                     modules_install would, without building (needs neither
#                     headers nor make; the VM test uses it)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prog=install.sh

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "usage: install.sh install|uninstall|install-module|uninstall-module|dkms-install|dkms-remove|dkms-source DIR" >&2
	exit 2
}

[ $# -ge 1 ] || usage
action=$1

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
INSTALL_MOD_PATH=${INSTALL_MOD_PATH:-$DESTDIR}
KDIR=${KDIR:-}
KVER=${KVER:-}
TCPSTATES_KO=${TCPSTATES_KO:-}

# An explicit KDIR decides KVER, so that make install KDIR=... puts the
# module where that kernel looks for it.  The release is UTS_RELEASE, which
# the module's vermagic carries too: Debian's 6.1 headers have "6.1.192" in
# include/config/kernel.release, but the kernel is 6.1.0-56-amd64.
if [ -z "$KVER" ]; then
	if [ -n "$KDIR" ] && [ -r "$KDIR/include/generated/utsrelease.h" ]; then
		KVER=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
			"$KDIR/include/generated/utsrelease.h")
		[ -n "$KVER" ] || die "no UTS_RELEASE in $KDIR/include/generated/utsrelease.h"
	else
		KVER=$(uname -r)
	fi
fi
KDIR=${KDIR:-/lib/modules/$KVER/build}
modlib=$INSTALL_MOD_PATH/lib/modules/$KVER

# Every suffix modules_install may give the module (CONFIG_MODULE_COMPRESS_*).
KO_SUFFIXES=".ko .ko.xz .ko.gz .ko.zst"

# pkg_version: PACKAGE_VERSION from dkms.conf, the one place it is written.
pkg_version() {
	local v

	v=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/dkms.conf")
	[ -n "$v" ] || die "no PACKAGE_VERSION in $root/dkms.conf"
	echo "$v"
}

# installed_in DIR: the tcpstates module files in DIR, if any.
installed_in() {
	local s

	for s in $KO_SUFFIXES; do
		[ -e "$1/tcpstates$s" ] && echo "$1/tcpstates$s"
	done
	return 0
}

# run_depmod: refresh modules.dep for KVER.  Not in a bare staging root:
# there the tree holds only this module, and a modules.dep written there
# would replace the system's when the package is unpacked; a package runs
# depmod from its postinst instead.  A staging root that holds a kernel's
# whole tree (modules.builtin is there) does get depmod -b.
run_depmod() {
	if [ -z "$INSTALL_MOD_PATH" ]; then
		echo "$prog: depmod -a $KVER"
		depmod -a "$KVER"
	elif [ -e "$modlib/modules.builtin" ]; then
		echo "$prog: depmod -a -b $INSTALL_MOD_PATH $KVER"
		depmod -a -b "$INSTALL_MOD_PATH" "$KVER"
	else
		echo "$prog: staged in $INSTALL_MOD_PATH: run depmod -a $KVER on the target"
	fi
}

install_module() {
	local other magic

	# Two copies of the module under updates/ would leave which one
	# modprobe loads to depmod's search order.
	other=$(installed_in "$modlib/updates/dkms")
	[ -z "$other" ] ||
		die "$other is installed by DKMS: make dkms-remove first"

	if [ -n "$TCPSTATES_KO" ]; then
		[ -f "$TCPSTATES_KO" ] || die "TCPSTATES_KO=$TCPSTATES_KO: no such file"
		# A module for another kernel would only fail at modprobe time.
		magic=$(modinfo -F vermagic "$TCPSTATES_KO" 2>/dev/null) || magic=
		[ "${magic%% *}" = "$KVER" ] ||
			die "$TCPSTATES_KO is built for '${magic%% *}', not $KVER"
		# The place and mode modules_install gives it.  No install(1):
		# the test guest's busybox has none.
		echo "$prog: $TCPSTATES_KO -> $modlib/updates/tcpstates.ko"
		mkdir -p "$modlib/updates"
		cp "$TCPSTATES_KO" "$modlib/updates/tcpstates.ko"
		chmod 0644 "$modlib/updates/tcpstates.ko"
	else
		[ -f "$KDIR/Makefile" ] ||
			die "no kernel headers in $KDIR (apt install linux-headers-$KVER, or set KDIR)"
		make -C "$KDIR" M="$root/module" modules
		# kbuild's modules_install skips its own depmod when the headers
		# have no System.map (Debian's have none): run_depmod does it.
		make -C "$KDIR" M="$root/module" INSTALL_MOD_DIR=updates \
			${INSTALL_MOD_PATH:+INSTALL_MOD_PATH="$INSTALL_MOD_PATH"} \
			modules_install
	fi
	[ -n "$(installed_in "$modlib/updates")" ] ||
		die "tcpstates.ko did not land in $modlib/updates"
	run_depmod
}

uninstall_module() {
	local f files

	files=$(installed_in "$modlib/updates")
	if [ -z "$files" ]; then
		echo "$prog: no tcpstates module in $modlib/updates"
	else
		for f in $files; do
			echo "$prog: rm $f"
			rm -f "$f"
		done
		run_depmod
	fi
	if [ -z "$INSTALL_MOD_PATH" ] && [ -d /sys/module/tcpstates ]; then
		echo "$prog: tcpstates is still loaded: modprobe -r tcpstates"
	fi
}

install_reader() {
	make -C "$root/userspace" install PREFIX="$PREFIX" DESTDIR="$DESTDIR"
}

uninstall_reader() {
	rm -fv "$DESTDIR$PREFIX/sbin/tcpstates" \
		"$DESTDIR$PREFIX/share/man/man8/tcpstates.8"
}

# dkms_source DIR: only what kbuild needs.  dkms add copies a whole
# directory, and a checkout also holds objects built for another kernel,
# the reader, and build/ with unpacked kernels.
dkms_source() {
	local dir=$1

	mkdir -p "$dir/module" "$dir/include"
	install -m 0644 "$root/dkms.conf" "$root/Kbuild" "$dir/"
	install -m 0644 "$root"/module/Kbuild "$root"/module/*.[ch] "$dir/module/"
	install -m 0644 "$root"/include/*.h "$dir/include/"
}

need_dkms() {
	command -v dkms >/dev/null || die "dkms not found (apt install dkms)"
}

# dkms_versions: every version of tcpstates DKMS knows ("tcpstates/1.0, ...").
dkms_versions() {
	dkms status tcpstates 2>/dev/null |
		sed -n 's|^tcpstates/\([^,:]*\)[,:].*|\1|p' | sort -u
}

# dkms_kernels: the kernels some version of tcpstates is installed for.
dkms_kernels() {
	dkms status tcpstates 2>/dev/null |
		sed -n 's|^tcpstates/[^,]*, \([^,]*\), [^:]*: installed.*|\1|p' | sort -u
}

dkms_remove_all() {
	local v

	for v in $(dkms_versions); do
		echo "$prog: dkms remove tcpstates/$v --all"
		dkms remove "tcpstates/$v" --all
		rm -rf "/usr/src/tcpstates-$v"
	done
}

dkms_install() {
	local ver src plain k kernels

	need_dkms
	[ -z "$DESTDIR$INSTALL_MOD_PATH" ] ||
		die "dkms-install installs into this system: DESTDIR is for make install"
	plain=$(installed_in "/lib/modules/$KVER/updates")
	[ -z "$plain" ] || die "$plain is installed by make install: make uninstall first"

	ver=$(pkg_version)
	# Replace whatever version is there: the sources may have changed
	# under the same version, and two versions would fight over the
	# kernels they are built for.  The kernels the old one was installed
	# for (say, the previous kernel kept for a fallback boot) get the new
	# one too.
	kernels=$(dkms_kernels)
	dkms_remove_all
	src=/usr/src/tcpstates-$ver
	rm -rf "$src"
	dkms_source "$src"
	dkms add "tcpstates/$ver"
	dkms install "tcpstates/$ver" -k "$KVER"
	for k in $kernels; do
		[ "$k" != "$KVER" ] || continue
		if [ -f "/lib/modules/$k/build/Makefile" ]; then
			dkms install "tcpstates/$ver" -k "$k" ||
				echo "$prog: dkms install for $k failed; $KVER is done" >&2
		else
			echo "$prog: no headers for $k: tcpstates is no longer installed there" >&2
		fi
	done
	install_reader
}

case "$action" in
install)
	install_module
	install_reader
	;;
uninstall)
	uninstall_module
	uninstall_reader
	;;
install-module)
	install_module
	;;
uninstall-module)
	uninstall_module
	;;
dkms-install)
	dkms_install
	;;
dkms-remove)
	need_dkms
	dkms_remove_all
	uninstall_reader
	;;
dkms-source)
	[ $# -eq 2 ] || usage
	dkms_source "$2"
	;;
*)
	usage
	;;
esac
