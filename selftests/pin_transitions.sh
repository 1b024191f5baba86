#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DIR/tcpstates_transitions of "tcpstates pin" (no module needed):
# transitions.sh's populations and their exact deltas, read from the
# pinned file, whose fentry and fexit hooks count every pair the module
# counts.  A SKIP with the reason where the kernel takes no pin (5.10).
exec env TR_PIN=1 "$(dirname "$0")/transitions.sh"
