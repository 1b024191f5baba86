#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Resolve the kernel test matrix from apt metadata: one line "NAME ABI" per
# kernel named in $KERNELS (default: 6.1 6.12).  ABI names change as Debian
# updates (6.1.0-56 becomes -57), so they are never written down anywhere.
# A kernel that cannot be resolved is an error, never a silent skip.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CACHE=${CACHE:-$here/../build/kernels}

# The debug kernel joins the default matrix once make check-debug built it.
if [ -z "${KERNELS:-}" ]; then
	KERNELS="6.1 6.12"
	[ -n "$("$here/build-debug-kernel.sh" --cached "$CACHE")" ] &&
		KERNELS+=" debug"
fi

newest() {
	apt-cache pkgnames "$1" | grep -E "^$2\$" | sort -V | tail -n 1
}

resolve() {
	local pkg

	case "$1" in
	6.1)	pkg=$(newest linux-image-6.1.0- 'linux-image-6\.1\.0-[0-9]+-amd64') ;;
	6.12)	pkg=$(newest linux-image-6.12. 'linux-image-6\.12\.[0-9]+\+deb12-amd64') ;;
	6.12-rt) pkg=$(newest linux-image-6.12. 'linux-image-6\.12\.[0-9]+\+deb12-rt-amd64') ;;
	debug)	# Built from linux-source-6.12, not fetched: see build-debug-kernel.sh.
		echo "debug $("$here/build-debug-kernel.sh" "$CACHE")"
		return ;;
	*)	echo "kernels.sh: unknown kernel '$1' (known: 6.1 6.12 6.12-rt debug)" >&2
		return 1 ;;
	esac
	if [ -z "$pkg" ]; then
		echo "kernels.sh: no linux-image package for $1 in apt metadata (apt-get update?)" >&2
		return 1
	fi
	echo "$1 ${pkg#linux-image-}"
}

for k in $KERNELS; do
	resolve "$k"
done
