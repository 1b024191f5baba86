#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# chroot.sh: the build toolchains of the Debian releases whose kernels
# this machine cannot build for with its own gcc (every release but the
# one it runs): a cached `debootstrap --variant=minbase` chroot per suite
# under build/chroot/.
#
#   chroot.sh ensure SUITE [PKG...]   create build/chroot/SUITE if it is
#                                     not there (about 75 s), then install
#                                     the PKGs it lacks
#   chroot.sh run SUITE CMD [ARG...]  run CMD inside it
#   chroot.sh path SUITE              print its directory
#
# SUITE is sid (whose sources also carry experimental: 7.x kernels need
# sid's gcc and pahole), trixie (with trixie-security and
# trixie-backports: gcc-14), bookworm (with bookworm-security: gcc-12) or
# bullseye (with bullseye-security: 5.10, with bullseye's own gcc-10).
# CMD runs in a private mount namespace with
# /proc, /dev and this checkout's build/ bind-mounted at the same paths as
# on the host, so a path under build/ means the same file inside and out.
# The chroot is reused until `make distclean`; it is never committed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$here/.." && pwd)/build
# CHROOT_DIR: another cache of them (scripts/deb-check.sh makes the
# releases build/chroot lacks there).
top=${CHROOT_DIR:-$build/chroot}
# Lists in the chroot older than this many hours are refreshed.
max_age=${APT_MAX_AGE:-6}
# What every chroot has beyond minbase: the module's build, lint and DKMS.
BASE_PKGS="make gcc libc6-dev sparse dwarves kmod dkms bc xz-utils zstd"

usage() {
	echo "usage: chroot.sh ensure SUITE [PKG...] | run SUITE CMD... | path SUITE" >&2
	exit 2
}

# sources SUITE MIRROR SECURITY: the chroot's sources.list.
sources() {
	case "$1" in
	sid)
		echo "deb $2 sid main"
		# Only what exists nowhere else comes from experimental
		# (its Release is NotAutomatic).
		echo "deb $2 experimental main"
		;;
	trixie)
		echo "deb $2 trixie main"
		echo "deb $2 trixie-updates main"
		echo "deb $3 trixie-security main"
		# NotAutomatic: only what exists nowhere else (7.x).
		echo "deb $2 trixie-backports main"
		;;
	bookworm|bullseye)
		echo "deb $2 $1 main"
		echo "deb $3 $1-security main"
		;;
	*)
		echo "chroot.sh: unknown suite '$1' (sid, trixie, bookworm or bullseye)" >&2
		return 1
		;;
	esac
}

# in_chroot DIR CMD...: CMD inside DIR, with /proc, /dev and build/.
in_chroot() {
	local dir=$1

	shift
	mkdir -p "$dir$build"
	unshare -m --propagation private /bin/sh -ec '
		dir=$1 build=$2
		shift 2
		mount --bind /dev "$dir/dev"
		mount -t proc proc "$dir/proc"
		mount --bind "$build" "$dir$build"
		exec chroot "$dir" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive \
			"$@"' sh "$dir" "$build" "$@"
}

create() {
	local suite=$1 dir=$2 mirror sec tmp start

	command -v debootstrap >/dev/null || {
		echo "chroot.sh: debootstrap is not installed (make deps)" >&2
		exit 1
	}
	mirror=$("$here/apt.sh" mirror)
	sec=$("$here/apt.sh" mirror security)
	tmp=$dir.new
	rm -rf "$tmp"
	mkdir -p "$top"
	start=$(date +%s)
	echo "chroot.sh: debootstrap --variant=minbase $suite into $dir (about 75 s)" >&2
	if ! debootstrap --variant=minbase \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$suite" "$tmp" "$mirror" > "$top/debootstrap-$suite.log" 2>&1; then
		tail -n 30 "$top/debootstrap-$suite.log" >&2
		[ -f "$tmp/debootstrap/debootstrap.log" ] &&
			tail -n 30 "$tmp/debootstrap/debootstrap.log" >&2
		echo "chroot.sh: debootstrap $suite failed" >&2
		exit 1
	fi
	sources "$suite" "$mirror" "$sec" > "$tmp/etc/apt/sources.list"
	cat > "$tmp/etc/apt/apt.conf.d/90tcpstates" <<-EOF
	// Written by scripts/chroot.sh.  A frozen mirror's Release files
	// can be past their Valid-Until.
	Acquire::Check-Valid-Until "false";
	Acquire::Check-Date "false";
	Acquire::Languages "none";
	Acquire::Retries "3";
	APT::Install-Recommends "false";
	APT::Sandbox::User "root";
	EOF
	# No daemons from package scripts.
	printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
	chmod 0755 "$tmp/usr/sbin/policy-rc.d"
	mv "$tmp" "$dir"
	apt_update "$dir"
	# shellcheck disable=SC2086
	install_pkgs "$dir" $BASE_PKGS
	touch "$dir/.complete"
	echo "chroot.sh: $suite chroot ready in $(($(date +%s) - start)) s" >&2
}

apt_update() {
	if ! in_chroot "$1" apt-get -q update > "$1.apt.log" 2>&1 ||
	   grep -E '^(W|E): ' "$1.apt.log" | grep -v unsandboxed >&2; then
		cat "$1.apt.log" >&2
		echo "chroot.sh: apt-get update in $1 failed" >&2
		exit 1
	fi
	touch "$1/.apt-updated"
}

# missing DIR PKG...: the PKGs not installed in the chroot DIR.
missing() {
	local dir=$1 p

	shift
	for p in "$@"; do
		in_chroot "$dir" dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

# extra_suite DIR: the NotAutomatic suite the chroot DIR also carries.
extra_suite() {
	case "$(basename "$1")" in
	sid) echo experimental ;;
	trixie) echo trixie-backports ;;
	*) basename "$1" ;;
	esac
}

install_pkgs() {
	local dir=$1 need

	shift
	need=$(missing "$dir" "$@")
	[ -n "$need" ] || return 0
	echo "chroot.sh: installing in $(basename "$dir"):" $need >&2
	# shellcheck disable=SC2086
	if ! in_chroot "$dir" apt-get install -y -q $need > "$dir.apt.log" 2>&1; then
		# A package only experimental (or trixie-backports) has, or a
		# dependency newer than the suite's: let that win for these.
		# shellcheck disable=SC2086
		if ! in_chroot "$dir" apt-get install -y -q -t "$(extra_suite "$dir")" $need \
			>> "$dir.apt.log" 2>&1; then
			tail -n 30 "$dir.apt.log" >&2
			echo "chroot.sh: apt-get install" $need "failed" >&2
			exit 1
		fi
	fi
	# The downloaded .debs are not needed again.
	in_chroot "$dir" apt-get clean
}

ensure() {
	local suite=$1 dir=$top/$1

	shift
	sources "$suite" x x > /dev/null
	mkdir -p "$top"
	# One writer at a time: make lint and make check may overlap.
	exec 9> "$top/.$suite.lock"
	flock 9
	if [ ! -f "$dir/.complete" ]; then
		rm -rf "$dir"
		create "$suite" "$dir"
	fi
	[ $# -gt 0 ] || return 0
	# New kernel ABIs appear in the lists first.
	if [ -n "$(missing "$dir" "$@")" ] &&
	   { [ ! -f "$dir/.apt-updated" ] ||
	     [ -n "$(find "$dir/.apt-updated" -mmin +$((max_age * 60)))" ] ||
	     ! in_chroot "$dir" apt-cache show "$@" > /dev/null 2>&1; }; then
		apt_update "$dir"
	fi
	install_pkgs "$dir" "$@"
}

[ $# -ge 2 ] || usage
action=$1
suite=$2
shift 2
case "$action" in
ensure)
	ensure "$suite" "$@"
	;;
run)
	[ $# -ge 1 ] || usage
	if [ ! -f "$top/$suite/.complete" ]; then
		echo "chroot.sh: no $suite chroot in $top (make deps)" >&2
		exit 1
	fi
	in_chroot "$top/$suite" "$@"
	;;
path)
	echo "$top/$suite"
	;;
*)
	usage
	;;
esac
