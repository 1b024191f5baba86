#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb-check.sh: make check-deb.  The packages of make deb (build/deb),
# installed as an operator installs them, in a throwaway system of each
# Debian release (DEB_SUITES, default: bullseye bookworm trixie sid):
#
#   - apt-get install ./tcpstates-dkms_*.deb ./tcpstates_*.deb with the
#     release's kernel headers (linux-headers-amd64's, from apt metadata)
#     makes DKMS build and install the module for those headers, signed
#     with DKMS's MOK key where that DKMS makes one;
#   - installing another kernel's headers (the newest other ABI the
#     release's apt offers: bookworm's 6.12, trixie-backports' 7.x,
#     experimental's -rc) makes DKMS build it for that kernel too;
#   - tcpstates --version runs and says the package's version, the man
#     page and units are there, no unit is enabled (bullseye's reader is
#     the one make deb built in bullseye's chroot: build/deb/bullseye);
#   - apt-get purge leaves no module, no DKMS tree and no file of ours;
#   - an upgrade from an older version's packages (made here from a copy
#     of the checkout, as version DEB_CHECK_OLD, default 0.9) replaces the
#     module under DKMS.
#
# Each release's system is an overlay over its build chroot
# (build/chroot/SUITE, scripts/chroot.sh), whose changes are thrown away:
# the cached chroot is never written.  A release without a build chroot
# (this machine's own, which make deps makes none of) gets one of its own
# under build/deb-base (debootstrap, 2 to 5 minutes once, then reused),
# as are the packages apt downloads into the systems.
# No module is loaded: the host's kernel does not matter.
#
# TAP on stdout, logs in build/logs/deb-check-SUITE.log; exit 1 if
# anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tap-lib.sh
. "$root/scripts/tap-lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "deb-check: needs root (mount, chroot, apt-get in the chroots)" >&2
	exit 1
fi
# Every mount below is private to this run and gone when it ends.
if [ -z "${DEB_CHECK_NS:-}" ]; then
	DEB_CHECK_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

work=$root/build/deb-check
cache=$root/build/deb-base/archives
logs=$root/build/logs
debs=$root/build/deb
suites=${DEB_SUITES:-bullseye bookworm trixie sid}
old=${DEB_CHECK_OLD:-0.9}
start_all=$(date +%s)

# show_log FILE: the end of a failed step's log, as TAP comments.
show_log() {
	tail -n 30 "$1" | sed 's/^/# /'
}

ver=$(cd "$root" && dpkg-parsechangelog -SVersion 2>/dev/null)
new_debs=("$debs/tcpstates-dkms_${ver}_all.deb" "$debs/tcpstates_${ver}_amd64.deb")
why=
for d in "${new_debs[@]}"; do
	[ -f "$d" ] || why+="no ${d#"$root"/} (make deb)"$'\n'
done
result_why "the packages of version $ver are built" "$why"
if [ -n "$why" ]; then
	echo "1..$n"
	exit 1
fi

rm -rf "$work"
mkdir -p "$work" "$logs"
log=$logs/deb-check-old.log
dpkg --compare-versions "$old" lt "$ver" &&
	DEB_OUT=$work/old DEB_VERSION_AS=$old LINTIAN=0 "$root/scripts/deb.sh" > "$log" 2>&1
rc=$?
[ $rc -eq 0 ] || show_log "$log"
result $rc "the packages of an older version, $old, to upgrade from"
old_debs=("$work/old/tcpstates-dkms_${old}_all.deb" "$work/old/tcpstates_${old}_amd64.deb")

# Every file the packages hold (not their directories), for the purge.
our_files=$(for d in "${new_debs[@]}" "${old_debs[@]}"; do
	dpkg-deb -c "$d" 2>/dev/null
done | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort -u)

# base SUITE: the chroot the overlay of SUITE lies on, made if missing.
base() {
	if [ -f "$root/build/chroot/$1/.complete" ]; then
		echo "$root/build/chroot/$1"
		return 0
	fi
	CHROOT_DIR=$root/build/deb-base "$root/scripts/chroot.sh" ensure "$1" >&2 ||
		return 1
	echo "$root/build/deb-base/$1"
}

# suite_deb DIR VERSION: the reader package for the current suite: the
# one scripts/deb.sh built in its chroot (DIR/SUITE/) where there is one
# (bullseye's), else the one built on this machine.
suite_deb() {
	if [ -f "$1/$suite/tcpstates_$2_amd64.deb" ]; then
		echo "$1/$suite/tcpstates_$2_amd64.deb"
	else
		echo "$1/tcpstates_$2_amd64.deb"
	fi
}

# in_sys CMD...: CMD in the current suite's throwaway system.
in_sys() {
	chroot "$sys" /usr/bin/env -i \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# apt_in PKG...: apt-get install in the system, from the release's
# NotAutomatic suite too (experimental, trixie-backports) for what only
# that one has.
apt_in() {
	in_sys apt-get install -y -q "$@" && return 0
	case "$suite" in
	sid) in_sys apt-get install -y -q -t experimental "$@" ;;
	trixie) in_sys apt-get install -y -q -t trixie-backports "$@" ;;
	*) return 1 ;;
	esac
}

# dkms_has VERSION ABI: whether DKMS says tcpstates VERSION is installed
# for ABI (dkms 2.x prints "tcpstates, 1.0, ABI, ...", 3.x
# "tcpstates/1.0, ABI, ...").
dkms_has() {
	in_sys dkms status tcpstates 2>/dev/null | sed 's|^tcpstates, |tcpstates/|' |
		grep -q "^tcpstates/$1, $2, [^:]*: installed"
}

# module_ko ABI: the module DKMS installed for ABI.
module_ko() {
	in_sys find /lib/modules/"$1" -name 'tcpstates.ko*' 2>/dev/null | head -n 1
}

# module_signer ABI: who signed it, if anyone.
module_signer() {
	local ko

	ko=$(module_ko "$1")
	[ -z "$ko" ] || in_sys modinfo -F signer "$ko" 2>/dev/null
}

# module_why ABI: why the module DKMS installed for ABI is not as it
# should be (there, built for ABI, signed by DKMS's key), or nothing.
module_why() {
	local ko magic subject signer

	ko=$(module_ko "$1")
	if [ -z "$ko" ]; then
		echo "no tcpstates.ko* under /lib/modules/$1"
		return 0
	fi
	magic=$(in_sys modinfo -F vermagic "$ko")
	[ "${magic%% *}" = "$1" ] || echo "$ko: vermagic '$magic', not $1"
	signer=$(in_sys modinfo -F signer "$ko")
	if [ -z "$signer" ]; then
		# dkms 2.x signs nothing by itself: said, not failed.
		case "$dkms_version" in
		*[!0-9.]2.*|2.*) ;;
		*) echo "$ko is not signed (dkms $dkms_version)" ;;
		esac
	elif in_sys test -f /var/lib/dkms/mok.pub; then
		subject=$(in_sys openssl x509 -inform DER -in /var/lib/dkms/mok.pub \
			-noout -subject 2>/dev/null)
		[ -z "$subject" ] || [[ "$subject" == *"$signer"* ]] ||
			echo "$ko is signed by '$signer', not by /var/lib/dkms/mok.pub ($subject)"
	else
		echo "$ko is signed by '$signer', but there is no /var/lib/dkms/mok.pub"
	fi
}

# leftovers: what of ours is in the system beyond what was there before
# the packages (before.txt): tcpstates files, DKMS trees, modules, the
# packages' own files.
leftovers() {
	local f

	# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
	in_sys dpkg-query -W -f='${Package} ${Status}\n' tcpstates-dkms tcpstates 2>/dev/null |
		grep -v ' not-installed$'
	in_sys find / -xdev -path /tmp -prune -o -name '*tcpstates*' -print 2>/dev/null |
		sort | comm -13 "$work/$suite/before.txt" -
	for f in $our_files; do
		[ -e "$sys$f" ] || [ -L "$sys$f" ] && echo "$f"
	done
}

# purge_why: purge both packages; what failed or was left behind.
purge_why() {
	in_sys apt-get purge -y -q tcpstates-dkms tcpstates >> "$log" 2>&1 ||
		echo "apt-get purge failed"
	leftovers
}

check_suite() {
	local b headers first second libc need reader reader_ok t0 why pkgs signer

	t0=$(date +%s)
	log=$logs/deb-check-$suite.log
	: > "$log"
	if ! b=$(base "$suite" 2>>"$log"); then
		show_log "$log"
		result 1 "$suite: a chroot to lay the throwaway system on"
		return
	fi
	sys=$work/$suite/root
	mkdir -p "$work/$suite"/{upper,work,root} "$cache/$suite/partial"
	# The downloaded packages (headers, dkms's compiler) are kept for
	# the next run, in a cache of this script's own.
	if ! mount -t overlay overlay -o \
		"lowerdir=$b,upperdir=$work/$suite/upper,workdir=$work/$suite/work" "$sys" \
		>> "$log" 2>&1 || ! mount --bind /dev "$sys/dev" ||
	   ! mount -t proc proc "$sys/proc" ||
	   ! mount --bind "$cache/$suite" "$sys/var/cache/apt/archives"; then
		show_log "$log"
		result 1 "$suite: an overlay over $b"
		return
	fi
	mkdir -p "$sys/tmp/debs"
	reader=$(suite_deb "$debs" "$ver")
	cp "${new_debs[0]}" "$reader" "${old_debs[0]}" "$(suite_deb "$work/old" "$old")" \
		"$sys/tmp/debs/"
	in_sys find / -xdev -path /tmp -prune -o -name '*tcpstates*' -print 2>/dev/null |
		sort > "$work/$suite/before.txt"

	# Headers that pull a kernel image (bookworm's 6.12) would have
	# initramfs-tools build an initrd for it: minutes, and nothing
	# this test looks at.
	if ! in_sys dpkg-divert --local --rename --divert /usr/sbin/update-initramfs.deb-check \
		--add /usr/sbin/update-initramfs >> "$log" 2>&1 ||
	   ! printf '#!/bin/sh\nexit 0\n' > "$sys/usr/sbin/update-initramfs" ||
	   ! chmod 0755 "$sys/usr/sbin/update-initramfs"; then
		show_log "$log"
		result 1 "$suite: update-initramfs diverted"
		return
	fi

	# Fresh lists (the chroot's may be hours old: ABIs move).
	if ! in_sys apt-get -q update >> "$log" 2>&1; then
		show_log "$log"
		result 1 "$suite: apt-get update"
		return
	fi
	# "dkms:2.8.4", "dkms-3.0.10", "dkms 3.2.2"
	dkms_version=$(in_sys dkms --version 2>/dev/null | head -n 1 | sed 's/^dkms[-: ]*//')
	first=$(in_sys apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-headers-[0-9][^ ]*-amd64\)$/\1/p' | head -n 1)
	headers=$(in_sys apt-cache search --names-only '^linux-headers-[0-9].*-amd64$' |
		awk '{ print $1 }' | grep -Ev -- '-(rt|cloud)-amd64$' | sort -V)
	second=$(echo "$headers" | grep -vxF "$first" | tail -n 1)
	echo "# $suite: dkms $dkms_version, headers $first; then ${second:-none}"

	# A reader built on a newer libc than the release's cannot be
	# installed there: a failure, named (make deb builds bullseye's in
	# its own chroot), and the rest is checked without it.
	need=$(dpkg-deb -f "$reader" Depends | sed -n 's/.*libc6 (>= \([^)]*\)).*/\1/p')
	# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
	libc=$(in_sys dpkg-query -W -f='${Version}' libc6)
	reader_ok=1
	pkgs=(/tmp/debs/tcpstates-dkms_"${ver}"_all.deb /tmp/debs/tcpstates_"${ver}"_amd64.deb)
	if [ -n "$need" ] && ! dpkg --compare-versions "$libc" ge "$need"; then
		reader_ok=0
		pkgs=(/tmp/debs/tcpstates-dkms_"${ver}"_all.deb)
	fi

	# 1. Install with the headers: DKMS builds for them.
	why=
	apt_in "${pkgs[@]}" "$first" >> "$log" 2>&1 || why="apt-get install failed"
	dkms_has "$ver" "${first#linux-headers-}" ||
		why+=$'\n'"dkms status: tcpstates/$ver not installed for ${first#linux-headers-}"
	[ -z "$why" ] || show_log "$log"
	result_why "$suite: apt-get install ${pkgs[*]#/tmp/debs/} $first: DKMS builds and installs it" "$why"
	why=$(module_why "${first#linux-headers-}")
	signer=$(module_signer "${first#linux-headers-}")
	result_why "$suite: the module for ${first#linux-headers-} is built for it and signed${signer:+ (signer: $signer)}$([ -z "$signer" ] && [ -z "$why" ] && echo " # SKIP dkms $dkms_version signs nothing")" "$why"

	# 2. Another kernel's headers: DKMS builds for it too.
	if [ -z "$second" ]; then
		result 0 "$suite: another kernel's headers # SKIP $suite's apt has one kernel ($first)"
	elif ! apt_in --download-only "$second" >> "$log" 2>&1 &&
	     grep -q "Failed to fetch .* 404 " "$log"; then
		# Not the packages' fault: said, and skipped.
		result 0 "$suite: apt-get install $second # SKIP the mirror lists it but does not serve it (404)"
		second=
	else
		why=
		apt_in "$second" >> "$log" 2>&1 || why="apt-get install $second failed"
		dkms_has "$ver" "${second#linux-headers-}" ||
			why+=$'\n'"dkms status: tcpstates/$ver not installed for ${second#linux-headers-}"
		[ -z "$why" ] && why=$(module_why "${second#linux-headers-}")
		[ -z "$why" ] || show_log "$log"
		result_why "$suite: apt-get install $second: DKMS builds it for that kernel too" "$why"
	fi

	# 3. The reader.
	if [ $reader_ok = 0 ]; then
		result_why "$suite: tcpstates --version" \
			"${reader#"$root"/} needs libc6 >= $need, $suite has $libc (make deb builds bullseye's in its chroot unless DEB_BULLSEYE=0)"
	else
		why=
		out=$(in_sys tcpstates --version 2>&1) || why="tcpstates --version failed: $out"
		[[ "$out" == "tcpstates $ver "* ]] || why+=$'\n'"tcpstates --version says '$out', not $ver"
		in_sys test -f /usr/share/man/man8/tcpstates.8.gz || why+=$'\n'"no man page"
		in_sys test -f /lib/systemd/system/tcpstates-textfile.timer ||
			why+=$'\n'"no tcpstates-textfile.timer"
		[ -z "$(in_sys find /etc/systemd -name 'tcpstates*' 2>/dev/null)" ] ||
			why+=$'\n'"a unit is enabled: $(in_sys find /etc/systemd -name 'tcpstates*')"
		result_why "$suite: tcpstates --version ($out), man page, units installed and not enabled" "${why#$'\n'}"
	fi

	# 4. Purge: nothing left.
	why=$(purge_why)
	[ -z "$why" ] || show_log "$log"
	result_why "$suite: apt-get purge leaves no module, DKMS tree or file of ours" "$why"

	# 5. Upgrade from the older version, with one kernel's headers.
	[ -z "$second" ] || in_sys apt-get purge -y -q "$second" >> "$log" 2>&1
	why=
	if ! apt_in "${pkgs[@]//_${ver}_/_${old}_}" >> "$log" 2>&1 ||
	   ! dkms_has "$old" "${first#linux-headers-}"; then
		why="the $old packages do not install, or DKMS did not build $old"
	elif ! apt_in "${pkgs[@]}" >> "$log" 2>&1; then
		why="apt-get install of the $ver packages over $old failed"
	else
		dkms_has "$ver" "${first#linux-headers-}" ||
			why="dkms status: tcpstates/$ver not installed for ${first#linux-headers-}"
		in_sys dkms status tcpstates 2>/dev/null | sed 's|^tcpstates, |tcpstates/|' |
			grep -q "^tcpstates/$old" && why+=$'\n'"DKMS still has $old"
		in_sys test -e "/usr/src/tcpstates-$old" && why+=$'\n'"/usr/src/tcpstates-$old is left"
		[ "$(in_sys find /lib/modules -name 'tcpstates.ko*' | wc -l)" -eq 1 ] ||
			why+=$'\n'"modules: $(in_sys find /lib/modules -name 'tcpstates.ko*')"
		if [ $reader_ok = 1 ]; then
			out=$(in_sys tcpstates --version 2>&1)
			[[ "$out" == "tcpstates $ver "* ]] || why+=$'\n'"tcpstates --version says '$out'"
		fi
		why=$(printf '%s' "${why#$'\n'}")
		[ -n "$why" ] || why=$(purge_why)
	fi
	[ -z "$why" ] || show_log "$log"
	result_why "$suite: upgrade from $old to $ver, then purge" "$why"
	# The cache keeps only what the archive still has.
	in_sys apt-get -q autoclean >> "$log" 2>&1
	echo "# $suite: $(($(date +%s) - t0)) s"
}

for suite in $suites; do
	check_suite
	# The throwaway system: unmounted and deleted.
	if [ -d "$work/$suite/root" ]; then
		umount -R "$work/$suite/root" 2>/dev/null ||
			umount -R -l "$work/$suite/root"
		# Never through a mounted overlay.
		mountpoint -q "$work/$suite/root" || rm -rf "${work:?}/$suite"
	fi
done
grep -qF " $work/" /proc/self/mounts || rm -rf "$work"

echo "# deb-check: $(($(date +%s) - start_all)) s"
echo "1..$n"
[ "$failed" -eq 0 ]
