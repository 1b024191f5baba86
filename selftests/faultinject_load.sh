#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# faultinject.sh's sweep of the module's load alone: each fault point of
# its init failed in turn, the init unwound, nothing left, the next load
# whole, kmemleak clean.  Over 100 fault points and minutes under KASAN,
# so in make check-faultinject, not in make check.
FAULTINJECT_SWEEP=load exec "$(dirname "$0")/faultinject.sh"
