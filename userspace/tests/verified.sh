# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Sourced by pin.sh (on the host) and vm_reader.sh (in the guests).

# verified_headroom ERR: pin's report under TCPSTATES_BPF_DEBUG names
# its four walks' programs (tcpstates, _ports, _all, _ages), and the
# transitions' two where their hooks load (_transitions, _ports), each
# verified in under half the verifier's million instructions.  A kernel
# whose verifier explores more is seen here before it refuses a pin
# (6.18.44 took tcpstates_all past the million, and every pin failed
# there).
verified_headroom() {
	grep 'instructions verified$' "$1" | sed 's/^/# /'
	awk '/instructions verified$/ { n++; if ($(NF - 2) >= 500000) bad++ }
	     END { exit !((n == 4 || n == 6) && !bad) }' "$1"
}
