#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Exit 0 when /proc/tcpstates equals ss -tan in this netns, state by state
# and family by family; print the difference otherwise.
mod=$(awk 'NF == 3 && $1 ~ /^[A-Z][A-Z_0-9]+$/ { print $1, $2, $3 }' /proc/tcpstates)
ss=$( (ss -tanH -4 | awk '{ print $1, "4" }'; ss -tanH -6 | awk '{ print $1, "6" }') |
	awk '
	BEGIN {
		split("ESTAB SYN-SENT SYN-RECV FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT UNCONN CLOSE-WAIT LAST-ACK LISTEN CLOSING", ss)
		split("ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT1 FIN_WAIT2 TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN CLOSING", nm)
		for (i = 1; i <= 11; i++)
			name[ss[i]] = nm[i]
	}
	{ n[name[$1], $2]++ }
	END {
		for (i = 1; i <= 11; i++)
			print nm[i], n[nm[i], 4] + 0, n[nm[i], 6] + 0
	}')
[ "$mod" = "$ss" ] && exit 0
# No process substitution: the guests have no /dev/fd.
echo "$mod" | sed 's/^/# module: /'
echo "$ss" | sed 's/^/# ss:     /'
exit 1
