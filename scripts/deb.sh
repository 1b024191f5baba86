#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh: make deb.  Build the Debian packages from this checkout with
# dpkg-buildpackage (debian/), then lintian them:
#
#   build/deb/tcpstates-dkms_VERSION_all.deb   the module's source, DKMS
#   build/deb/tcpstates_VERSION_amd64.deb      the reader, man page, units
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

# The copy: what a fresh clone would hold, plus uncommitted changes.
(cd "$root" && git ls-files -z -co --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | (mkdir -p "$src" && tar -C "$src" -xf -) ||
	die "copying the checkout into $src failed"

if [ -n "$as" ]; then
	if ! sed -i "1s/([^)]*)/($as)/" "$src/debian/changelog" ||
	   ! sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$as\"/" "$src/dkms.conf" ||
	   ! sed -i "s/^\(#define TS_VERSION[[:space:]]*\)\".*\"/\1\"$as\"/" "$src/userspace/cli.h"; then
		die "rewriting the copy's version to $as failed"
	fi
fi

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
