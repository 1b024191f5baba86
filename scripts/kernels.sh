#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Resolve the kernel test matrix from apt metadata: one line
# "NAME ABI TOOLCHAIN" per kernel named in $KERNELS.  ABI names change as
# Debian updates (6.1.0-56 becomes -57, 7.2.12 becomes 7.2.13), so they are
# never written down anywhere.  A kernel that cannot be resolved is an
# error, never a silent skip.
#
# Names:
#   5.10     the newest linux-image-5.10.0-N-amd64 of bullseye (with
#            bullseye-security, where its LTS updates land): Debian 11
#   6.1      the newest linux-image-6.1.0-N-amd64 of bookworm: Debian 12
#   6.12     the newest linux-image-6.12.N+deb12-amd64 of bookworm:
#            Debian 12's newer kernel
#   6.12-rt  bookworm's PREEMPT_RT 6.12
#   trixie   the newest linux-image-6.12.N+deb13-amd64 of trixie: Debian
#            13, today's stable, built with gcc-14
#   trixie-backports
#            the newest kernel of each series trixie-backports carries
#            (7.2, 7.3 when this was written), one line each, named
#            trixie-backports-SERIES
#   sid      the newest amd64 kernel of sid: today's mainline, as Debian
#            follows it (7.2 when this was written)
#   next     the newest amd64 kernel of experimental: the next -rc
#   kcsan    the same with KCSAN instead of KASAN and kmemleak (make
#            check-kcsan; built on first use, about 15 minutes)
#   debug    the lockdep/KASAN/kmemleak 6.12 kernel of build-debug-kernel.sh
#            (built here if it is not cached yet)
#   demo     make demo's kernel: DEMO_KERNEL if set, else the host's own
#            release's 6.12 (trixie on Debian 13, 6.12 elsewhere)
#   default  the default matrix: 5.10 6.1 6.12 trixie sid, and debug once
#            built
#
# KERNELS unset is "default".  KERNELS=next is the -rc alone;
# KERNELS="default next" is the whole matrix and the -rc.
#
# TOOLCHAIN says what builds the module for that kernel (scripts/
# kernel-lib.sh): the Debian release the kernel comes from (bullseye,
# bookworm, trixie, sid: that release's gcc, on this machine when it runs
# that release, else in a chroot of it, scripts/chroot.sh), or debug (its
# own tree, this machine's gcc).
#
# A kernel of the host's own release is resolved from this machine's apt
# metadata (its headers are installed here with apt-get); every other
# from the project's configuration under build/apt (scripts/apt.sh),
# which never touches /etc/apt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kernel-lib.sh
. "$here/kernel-lib.sh"
# Where each release's kernels land: point releases, updates, security.
BOOKWORM="bookworm bookworm-updates bookworm-security"
TRIXIE="trixie trixie-updates trixie-security"

# A Debian amd64 flavour name: the version part (one or two fields
# starting with a digit: 7.3, 7.2.13+deb14, 5.10.0-46) then -amd64.  This
# leaves out -rt-amd64, -cloud-amd64, -dbg and -unsigned.
AMD64='[0-9][^-]*(-[0-9][^-]*)?-amd64'

# demo_default: the 6.12 of the host's own release, so that make demo
# needs no build chroot.
demo_default() {
	if [ "$KL_HOST" = trixie ]; then
		echo trixie
	else
		echo 6.12
	fi
}

expand() {
	local k

	for k in $1; do
		if [ "$k" = default ]; then
			echo 5.10 6.1 6.12 trixie sid
			[ -n "$("$here/build-debug-kernel.sh" --cached "$CACHE")" ] &&
				echo debug
		elif [ "$k" = demo ]; then
			echo "${DEMO_KERNEL:-$(demo_default)}"
		else
			echo "$k"
		fi
	done
}

# packages PREFIX REGEX SUITE...: the packages PREFIX-REGEX in those
# suites, as linux-image-VERSION: from this machine's apt metadata when
# the first suite is the host's own release, else from the project's.
packages() {
	local prefix=$1 re=$2

	shift 2
	if [ "$1" = "$KL_HOST" ]; then
		apt-cache pkgnames "$prefix-"
	else
		"$here/apt.sh" pkgnames --prefix "$prefix-" "$@"
	fi | { grep -E "^$prefix-$re\$" || true; } | sed "s/^$prefix-/linux-image-/" | sort -V
}

# suite_newest REGEX SUITE...: the newest linux-image-REGEX of those.
suite_newest() {
	packages linux-image "$@" | tail -n 1
}

# series_newest REGEX SUITE...: "SERIES ABI" for the newest of each series
# (7.2, 7.3) that has headers as well as an image (a suite can keep the
# images of series whose headers it no longer carries).
series_newest() {
	comm -12 <(packages linux-image "$@" | sort) <(packages linux-headers "$@" | sort) |
		sort -V | awk '{ s = $0; sub(/^linux-image-/, "", s)
		match(s, /^[0-9]+\.[0-9]+/); newest[substr(s, 1, RLENGTH)] = s }
		END { for (k in newest) print k, newest[k] }' | sort -V
}

resolve() {
	local pkg tc

	case "$1" in
	5.10)	pkg=$(suite_newest '5\.10\.0-[0-9]+-amd64' bullseye bullseye-security)
		tc=bullseye ;;
	6.1)	pkg=$(suite_newest '6\.1\.0-[0-9]+-amd64' $BOOKWORM); tc=bookworm ;;
	6.12)	pkg=$(suite_newest '6\.12\.[0-9]+\+deb12-amd64' $BOOKWORM); tc=bookworm ;;
	6.12-rt) pkg=$(suite_newest '6\.12\.[0-9]+\+deb12-rt-amd64' $BOOKWORM); tc=bookworm ;;
	trixie)	pkg=$(suite_newest '6\.12\.[0-9]+\+deb13-amd64' $TRIXIE); tc=trixie ;;
	trixie-backports)
		pkg=$(series_newest '[0-9]+\.[0-9]+(\.[0-9]+)?\+deb13-amd64' trixie-backports)
		if [ -z "$pkg" ]; then
			echo "kernels.sh: no linux-image package in trixie-backports (apt-get update?)" >&2
			return 1
		fi
		echo "$pkg" | awk '{ print "trixie-backports-" $1, $2, "trixie" }'
		return ;;
	sid)	pkg=$(suite_newest "$AMD64" sid); tc=sid ;;
	next)	pkg=$(suite_newest "$AMD64" experimental); tc=sid ;;
	debug)	# Built from linux-source-6.12, not fetched: see build-debug-kernel.sh.
		echo "debug $("$here/build-debug-kernel.sh" "$CACHE") debug"
		return ;;
	kcsan)	echo "kcsan $("$here/build-debug-kernel.sh" --kcsan "$CACHE") debug"
		return ;;
	*)	echo "kernels.sh: unknown kernel '$1' (known: 5.10 6.1 6.12 6.12-rt trixie trixie-backports sid next debug kcsan demo default)" >&2
		return 1 ;;
	esac
	if [ -z "$pkg" ]; then
		echo "kernels.sh: no linux-image package for $1 in apt metadata (apt-get update?)" >&2
		return 1
	fi
	echo "$1 ${pkg#linux-image-} $tc"
}

for k in $(expand "${KERNELS:-default}"); do
	resolve "$k"
done
