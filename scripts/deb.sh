#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh: make deb.  Build the Debian packages from this checkout with
# dpkg-buildpackage (debian/), then lintian them:
#
#   build/deb/tcpstates-dkms_VERSION_all.deb   the module's source, DKMS
#   build/deb/tcpstates_VERSION_amd64.deb      the reader, man page, units
#   build/deb/bullseye/tcpstates_VERSION_amd64.deb
#                                              the same reader, built in
#                                              the bullseye chroot
#
# A reader built here links against this machine's glibc (2.34 or later
# on Debian 12 and 13: __libc_start_main's symbol version), which
# bullseye's 2.31 cannot run; bullseye's apt would refuse the package.
# Its build is the same source, same version, dpkg-buildpackage -B in
# bullseye's own chroot (scripts/chroot.sh), without the bpf walk: the
# light skeleton's loader needs BPF_PROG_TYPE_SYSCALL (5.14), bullseye's
# 5.10 has none.  The dkms package is architecture-independent and is
# the same for every release.
#
# The build runs in a copy of the checkout's files (tracked and untracked,
# not ignored: no objects, no build/) under build/deb, so the checkout
# stays as it is.  VERSION is debian/changelog's, which debian/rules
# checks against dkms.conf and userspace/cli.h.
#
# Environment:
#   DEB_OUT=DIR            where the packages go (default build/deb)
#   DEB_VERSION_AS=V       build as version V: the copy's changelog,
#                          dkms.conf and cli.h say V (scripts/deb-check.sh
#                          makes an older package to upgrade from)
#   DEB_BUILD_PROFILES     dpkg's: nobpf builds the reader without bpf
#   LINTIAN=0              skip lintian
#   DEB_BULLSEYE=0         skip the bullseye reader
#
# Each step that fails says which, and the end of its log.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT:-$root/build/deb}
as=${DEB_VERSION_AS:-}

die() {
	echo "deb: $*" >&2
	exit 1
}

# fail STEP LOG: the step that failed, and the end of its log.
fail() {
	tail -n 40 "$2" | sed 's/^/  /' >&2
	die "$1 failed (whole log: $2)"
}

for t in dpkg-buildpackage dh dh_dkms; do
	command -v "$t" > /dev/null ||
		die "$t not found: DEPS=deb scripts/deps.sh installs what make deb needs"
done
command -v git > /dev/null || die "git not found: the build copies the checkout's files with git ls-files"

ver=$(cd "$root" && dpkg-parsechangelog -SVersion) || die "cannot read debian/changelog"
[ -n "$as" ] && ver=$as
src=$out/tcpstates-$ver
mkdir -p "$out"
rm -rf "$src" "$out"/tcpstates*_"$ver"_*.deb "$out"/tcpstates_"$ver"_*.{changes,buildinfo}

# copy_tree DIR: what a fresh clone would hold, plus uncommitted changes,
# into DIR, at version $as if one was asked for.
copy_tree() {
	rm -rf "$1"
	(cd "$root" && git ls-files -z -co --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | (mkdir -p "$1" && tar -C "$1" -xf -) ||
		die "copying the checkout into $1 failed"
	[ -n "$as" ] || return 0
	if ! sed -i "1s/([^)]*)/($as)/" "$1/debian/changelog" ||
	   ! sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$as\"/" "$1/dkms.conf" ||
	   ! sed -i "s/^\(#define TS_VERSION[[:space:]]*\)\".*\"/\1\"$as\"/" "$1/userspace/cli.h"; then
		die "rewriting the copy's version to $as failed"
	fi
}

# bullseye_reader: tcpstates_VERSION_amd64.deb built in bullseye's chroot
# (its debhelper added to it), into $out/bullseye.  -d: its dkms 2.8
# carries the dh sequence that bookworm's dh-dkms provides as
# dh-sequence-dkms, so the build dependency is met under another name;
# -B builds no tcpstates-dkms for it to act on anyway.
bullseye_reader() {
	local dir=$out/bullseye bsrc=$out/bullseye/tcpstates-$ver blog=$out/build-$ver-bullseye.log

	mkdir -p "$dir"
	rm -f "$dir"/tcpstates_"$ver"_*
	echo "deb: the bullseye reader: dpkg-buildpackage -B in build/chroot/bullseye (log: $blog)"
	"$root/scripts/chroot.sh" ensure bullseye debhelper > "$blog" 2>&1 ||
		fail "the bullseye chroot with debhelper (scripts/chroot.sh ensure bullseye debhelper)" "$blog"
	copy_tree "$bsrc"
	# shellcheck disable=SC2016 # expanded by the chroot's shell
	"$root/scripts/chroot.sh" run bullseye /bin/sh -ec \
		'cd "$1" && DEB_BUILD_PROFILES=nobpf dpkg-buildpackage -us -uc -B -d' \
		sh "$bsrc" >> "$blog" 2>&1 ||
		fail "dpkg-buildpackage in the bullseye chroot (the bullseye reader $ver)" "$blog"
	rm -rf "$bsrc"
	[ -f "$dir/tcpstates_${ver}_amd64.deb" ] ||
		die "the bullseye build made no bullseye/tcpstates_${ver}_amd64.deb (log: $blog)"
	debs+=("$dir/tcpstates_${ver}_amd64.deb")
	echo "deb: ${dir#"$root"/}/tcpstates_${ver}_amd64.deb"
}

copy_tree "$src"

log=$out/build-$ver.log
echo "deb: dpkg-buildpackage -us -uc -b in $src (log: $log)"
(cd "$src" && dpkg-buildpackage -us -uc -b) > "$log" 2>&1 ||
	fail "dpkg-buildpackage (build of tcpstates $ver)" "$log"
rm -rf "$src"

debs=("$out/tcpstates-dkms_${ver}_all.deb" "$out/tcpstates_${ver}_amd64.deb")
for d in "${debs[@]}"; do
	[ -f "$d" ] || die "dpkg-buildpackage made no ${d##*/} (log: $log)"
	echo "deb: ${d#"$root"/}"
done
[ "${DEB_BULLSEYE:-1}" = 0 ] || bullseye_reader

[ "${LINTIAN:-1}" = 0 ] && exit 0
command -v lintian > /dev/null ||
	die "lintian not found: DEPS=deb scripts/deps.sh installs it (LINTIAN=0 skips it)"
log=$out/lintian-$ver.log
# Every tag of warning or worse fails; overrides are in
# debian/*.lintian-overrides, each with its reason.
if ! lintian --fail-on error,warning --display-info "${debs[@]}" > "$log" 2>&1; then
	cat "$log" >&2
	die "lintian found errors or warnings in the packages (log: $log)"
fi
sed 's/^/deb: lintian: /' "$log"
echo "deb: lintian: no error, no warning"
