#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sign-module.sh ABI KO DIR: the two signed copies of KO that
# selftests/modsig.sh loads, into DIR:
#   tcpstates-signed.ko  signed with the key the kernel ABI trusts: the
#                        debug kernel's own, which kbuild made at its
#                        build (certs/signing_key.pem) and built in;
#   tcpstates-mok.ko     signed as DKMS signs, with a key made as DKMS
#                        makes its MOK (build/keys/mok.{key,pub}, once),
#                        which that kernel never saw: Secure Boot before
#                        the MOK is enrolled.
# Both with the kernel's own sign-file and hash.  Exits 1 with one line
# saying which step failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
abi=$1 ko=$2 out=$3
root=$(cd "$here/.." && pwd)
src=$root/build/kernels/$abi/src
keys=$root/build/keys

fail() {
	echo "sign-module.sh: $*" >&2
	exit 1
}

[ -x "$src/scripts/sign-file" ] ||
	fail "$abi: no $src/scripts/sign-file (a kernel built with CONFIG_MODULE_SIG?)"
[ -f "$src/certs/signing_key.pem" ] && [ -f "$src/certs/signing_key.x509" ] ||
	fail "$abi: no certs/signing_key.{pem,x509} in its build"
hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$src/.config")
[ -n "$hash" ] || fail "$abi: no CONFIG_MODULE_SIG_HASH in its .config"

# DKMS 3.x: openssl req -new -nodes -utf8 -sha512 -days 36500 -batch
# -x509 -outform DER -out mok.pub -keyout mok.key (dkms's do_signing).
if [ ! -f "$keys/mok.pub" ]; then
	mkdir -p "$keys"
	openssl req -new -nodes -utf8 -sha512 -days 36500 -batch -x509 \
		-subj "/CN=tcpstates test MOK (not enrolled)/" \
		-outform DER -out "$keys/mok.pub.tmp" -keyout "$keys/mok.key" \
		2>/dev/null || fail "openssl could not make the MOK key"
	mv "$keys/mok.pub.tmp" "$keys/mok.pub"
fi

cp "$ko" "$out/tcpstates-signed.ko"
"$src/scripts/sign-file" "$hash" "$src/certs/signing_key.pem" \
	"$src/certs/signing_key.x509" "$out/tcpstates-signed.ko" ||
	fail "sign-file with $abi's key failed"
cp "$ko" "$out/tcpstates-mok.ko"
"$src/scripts/sign-file" "$hash" "$keys/mok.key" "$keys/mok.pub" \
	"$out/tcpstates-mok.ko" || fail "sign-file with the MOK key failed"
