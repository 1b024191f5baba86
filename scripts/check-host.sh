#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-host.sh [SUITE]: the README's first command on another Debian
# release, as a newcomer runs it.  A clean SUITE system (default trixie,
# Debian 13) is made with debootstrap, plus what a newcomer installs to
# get the checkout (git, make); a fresh clone of this checkout's HEAD goes
# under its /root (mode 0700, Debian's default), and `make demo` runs
# there as root, from its own `make deps` to the reader's table.
#
# The debootstrapped system is cached under build/chroot/host-SUITE (like
# the build chroots, until make distclean); every run works on a fresh
# copy of it, so make deps always starts from nothing.  TAP on stdout, the
# whole transcript in build/logs/host-SUITE.log; exit 1 on failure.
set -uo pipefail

suite=${1:-trixie}
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
cache=$build/chroot/host-$suite
work=$build/host-$suite
log=$build/logs/host-$suite.log
# shellcheck source=tap-lib.sh
. "$root/scripts/tap-lib.sh"

finish() {
	echo "1..$n"
	[ "$failed" -eq 0 ]; exit
}

if [ "$(id -u)" -ne 0 ]; then
	echo "check-host.sh: needs root (debootstrap and chroot)" >&2
	exit 1
fi
command -v debootstrap > /dev/null || {
	echo "check-host.sh: needs debootstrap (make deps installs it)" >&2
	exit 1
}
mkdir -p "$build/chroot" "$build/logs"
: > "$log"

# The clean system, once: minbase and a newcomer's git and make.
make_cache() {
	local mirror tmp=$cache.new

	mirror=$("$root/scripts/apt.sh" mirror)
	rm -rf "$tmp"
	debootstrap --variant=minbase --include=git,make,ca-certificates \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$suite" "$tmp" "$mirror" >> "$log" 2>&1 || return 1
	rm -rf "$tmp/var/cache/apt/archives/"*.deb
	touch "$tmp/.complete"
	mv "$tmp" "$cache"
}

exec 9> "$build/chroot/.host-$suite.lock"
flock 9
start=$(date +%s)
if [ ! -f "$cache/.complete" ]; then
	rm -rf "$cache"
	make_cache
	rc=$?
	[ $rc -eq 0 ] || tail -n 20 "$log" | sed 's/^/# /'
	result $rc "host $suite: debootstrap a clean $suite system ($(($(date +%s) - start)) s)"
	[ $rc -eq 0 ] || finish
fi

rm -rf "$work"
cp -a "$cache" "$work"
cp -L /etc/resolv.conf "$work/etc/resolv.conf"
git clone -q "$root" "$work/root/tcpstates" >> "$log" 2>&1
result $? "host $suite: a fresh clone of HEAD ($(git -C "$root" rev-parse --short HEAD)) under /root, mode $(stat -c %a "$work/root")"

# make demo inside, as root, with /dev, /proc and /sys of its own mount
# namespace; a generous bound, for a slow mirror.
start=$(date +%s)
timeout 1800 unshare -m --propagation private /bin/sh -ec '
	r=$1
	# A mount point, as a real root is: make deps'"'"'s own build
	# chroots set its propagation.
	mount --bind "$r" "$r"
	mount --bind /dev "$r/dev"
	mount -t devpts devpts "$r/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null || true
	mount -t proc proc "$r/proc"
	mount -t sysfs sysfs "$r/sys"
	mount -t tmpfs tmpfs "$r/run"
	exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 TERM=dumb \
		/bin/sh -c "cd /root/tcpstates && make demo"' sh "$work" \
	> "$work.out" 2>&1
rc=$?
cat "$work.out" >> "$log"
secs=$(($(date +%s) - start))
if [ $rc -ne 0 ]; then
	tail -n 30 "$work.out" | sed 's/^/# /'
fi
result $rc "host $suite: make demo exited $rc (${secs} s, make deps included)"

# Its table: the module's file and the reader's, from the guest.
grep -q '^tcpstates 1' "$work.out" && grep -q '^\$ tcpstates' "$work.out" &&
	grep -qE '^ESTABLISHED +[0-9]+' "$work.out"
result $? "host $suite: make demo printed /proc/tcpstates and the reader's table"
grep -E "^(# booting|qemu.sh:|deps: kernel)" "$work.out" | sed 's/^/# /'

# The copy is several GB once make deps has run in it.
rm -rf "$work" "$work.out"
finish
