#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh ABI OUTDIR [MAKEFLAGS...]: build tcpstates.ko against the
# headers of kernel ABI with that kernel's toolchain (scripts/kernel-lib.sh:
# this machine's gcc for its own Debian release's kernels and the debug
# kernel, a chroot of the kernel's release for the others), in a copy of
# the sources under OUTDIR (kbuild builds in the source tree; one copy
# per kernel keeps them apart).  OUTDIR must be under build/ for a chroot
# toolchain, which sees build/ at the same path.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kernel-lib.sh
. "$here/kernel-lib.sh"
abi=$1
out=$(realpath -m "$2")
shift 2

tc=$(kernel_toolchain "$abi") || exit 1
echo "build-module.sh: $abi with the $tc toolchain"
rm -rf "$out/src"
mkdir -p "$out/src"
cp -a "$here/../module" "$here/../include" "$out/src/"
rm -f "$out/tcpstates.ko"
kernel_make "$abi" "$out/src/module" -s "$@" modules
cp "$out/src/module/tcpstates.ko" "$out/tcpstates.ko"
