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
#            bullseye-security, where its LTS updates land)
#   6.1      the newest linux-image-6.1.0-N-amd64 of bookworm
#   6.12     the newest linux-image-6.12.N+deb12-amd64 of bookworm
#   6.12-rt  bookworm's PREEMPT_RT 6.12
#   sid      the newest amd64 kernel of sid: today's mainline, as Debian
#            follows it (7.2 when this was written)
#   next     the newest amd64 kernel of experimental: the next -rc
#   debug    the lockdep/KASAN/kmemleak 6.12 kernel of build-debug-kernel.sh
#            (built here if it is not cached yet)
#   default  the default matrix: 5.10 6.1 6.12 sid, and debug once built
#
# KERNELS unset is "default".  KERNELS=next is the -rc alone;
# KERNELS="default next" is the whole matrix and the -rc.
#
# TOOLCHAIN says what builds the module for that kernel (scripts/
# kernel-lib.sh): bookworm (this machine's gcc), bullseye or sid (a
# chroot of that suite, scripts/chroot.sh), debug (its own tree).
#
# bookworm's kernels come from this machine's own apt metadata (their
# headers are installed with apt-get on this machine); bullseye's, sid's
# and experimental's from the project's configuration under build/apt
# (scripts/apt.sh), which never touches /etc/apt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$here/../build/kernels}

# A Debian amd64 flavour name: the version part (one or two fields
# starting with a digit: 7.3, 7.2.13+deb14, 5.10.0-46) then -amd64.  This
# leaves out -rt-amd64, -cloud-amd64, -dbg and -unsigned.
AMD64='[0-9][^-]*(-[0-9][^-]*)?-amd64'

expand() {
	local k

	for k in $1; do
		if [ "$k" = default ]; then
			echo 5.10 6.1 6.12 sid
			[ -n "$("$here/build-debug-kernel.sh" --cached "$CACHE")" ] &&
				echo debug
		else
			echo "$k"
		fi
	done
}

# host_newest REGEX: the newest linux-image matching REGEX in this
# machine's apt metadata.
host_newest() {
	apt-cache pkgnames linux-image- | { grep -E "^linux-image-$1\$" || true; } | sort -V | tail -n 1
}

# suite_newest REGEX SUITE...: the same in the project's apt metadata.
suite_newest() {
	local re=$1

	shift
	"$here/apt.sh" pkgnames --prefix linux-image- "$@" | { grep -E "^linux-image-$re\$" || true; } | sort -V | tail -n 1
}

resolve() {
	local pkg tc

	case "$1" in
	5.10)	pkg=$(suite_newest '5\.10\.0-[0-9]+-amd64' bullseye bullseye-security)
		tc=bullseye ;;
	6.1)	pkg=$(host_newest '6\.1\.0-[0-9]+-amd64'); tc=bookworm ;;
	6.12)	pkg=$(host_newest '6\.12\.[0-9]+\+deb12-amd64'); tc=bookworm ;;
	6.12-rt) pkg=$(host_newest '6\.12\.[0-9]+\+deb12-rt-amd64'); tc=bookworm ;;
	sid)	pkg=$(suite_newest "$AMD64" sid); tc=sid ;;
	next)	pkg=$(suite_newest "$AMD64" experimental); tc=sid ;;
	debug)	# Built from linux-source-6.12, not fetched: see build-debug-kernel.sh.
		echo "debug $("$here/build-debug-kernel.sh" "$CACHE") debug"
		return ;;
	*)	echo "kernels.sh: unknown kernel '$1' (known: 5.10 6.1 6.12 6.12-rt sid next debug default)" >&2
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
