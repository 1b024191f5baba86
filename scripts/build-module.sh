#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh ABI OUTDIR [MAKEFLAGS...]: build tcpstates.ko against the
# installed headers of kernel ABI, in a copy of the sources under OUTDIR
# (kbuild builds in the source tree; one copy per kernel keeps them apart).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
abi=$1
out=$2
shift 2
kdir=/usr/src/linux-headers-$abi
# The debug kernel is built here, not packaged: its own tree.
[ -f "$kdir/Makefile" ] || kdir=$here/../build/kernels/$abi/src

if [ ! -f "$kdir/Makefile" ]; then
	echo "build-module.sh: no headers for $abi in $kdir (make deps)" >&2
	exit 1
fi
rm -rf "$out/src"
mkdir -p "$out/src"
cp -a "$here/../module" "$here/../include" "$out/src/"
make -s -C "$kdir" M="$out/src/module" "$@" modules
cp "$out/src/module/tcpstates.ko" "$out/tcpstates.ko"
