#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The reader's layers, bottom up, and the check that no file reaches up:
# prints what breaks the rule, and exits 1 if anything does.
#
#   model    errors, the sample and table types, the module's grammars
#   source   the module's files, the bpf walk, sock_diag netlink
#   view     ranking and --top, namespace owners, --processes
#   output   table, JSON, Prometheus, --check-tw
#   cli      the command line, on top
#
# Includes: a file may include the headers of its own layer and of the
# layers below.  Calls: the files are in one order below, a layer after
# another, and a file may call the functions of the files before it (and
# its own) only; that order is the proof that the calls make no circle.
# Every file of the reader starts with a comment that says "May call:".
#
# Usage: tests/layers.sh [DIR], DIR the reader's sources (default: ..).

cd "${1:-$(dirname "$0")/..}" || exit 1

LAYERS=(model source view output cli)
# FILE:LAYER, bottom up; the calls between files follow this order.
FILES=(
	err.h:model err.c:model sample.h:model parse.c:model tabular.c:model
	parse_fixed.c:model parse_tr.c:model parse_ages.c:model
	source.h:source tcpstates_bpf.h:source tcpstates_walk.bpf.h:source
	tcpstates_pin.bpf.h:source tcpstates.bpf.c:source pin.bpf.c:source
	pin_trports.bpf.h:source pin_tr.bpf.c:source pin_ages.bpf.c:source
	module.c:source tunables.c:source netlink.c:source netlink_ages.c:source
	pinread.c:source
	bpf.c:source bpf_none.c:source pin.c:source
	view.h:view views.c:view owners.c:view procs.c:view
	output.h:output output.c:output tables.c:output output_tr.c:output
	output_ages.c:output output_cw.c:output check.c:output
	cli.h:cli args.c:cli pincmd.c:cli tcpstates.c:cli
)
# Made by the build, from the bpf source: part of the source layer.
GENERATED="vmlinux.h tcpstates_direct.lskel.h tcpstates_probe.lskel.h"
GENERATED+=" tcpstates_pin_direct.lskel.h tcpstates_pin_probe.lskel.h"
GENERATED+=" tcpstates_pin_tr_tp.lskel.h tcpstates_pin_tr_hooks.lskel.h"
GENERATED+=" tcpstates_pin_ages_direct.lskel.h"
GENERATED+=" tcpstates_pin_ages_probe.lskel.h"

declare -A layer order
bad=0
i=0
for e in "${FILES[@]}"; do
	f=${e%%:*}
	for l in "${!LAYERS[@]}"; do
		[ "${LAYERS[$l]}" = "${e#*:}" ] && layer[$f]=$l
	done
	order[$f]=$((i++))
done
for f in $GENERATED; do
	layer[$f]=1
done

fail() {
	echo "$1"
	bad=1
}

# Every source file is in a layer, and says what it may call.
for f in *.c *.h; do
	case " $GENERATED " in *" $f "*) continue ;; esac
	[ -n "${layer[$f]}" ] || fail "$f: in no layer: add it to FILES in $0"
	sed -n '1,/\*\//p' "$f" | grep -q 'May call:' ||
		fail "$f: its first comment does not say what it may call (May call:)"
done

# Includes: own layer or below.
for f in "${!order[@]}"; do
	[ -f "$f" ] || { fail "$f: listed in $0 but missing"; continue; }
	while read -r inc; do
		[ -n "${layer[$inc]}" ] || continue	# libc, ../include
		[ "${layer[$inc]}" -le "${layer[$f]}" ] ||
			fail "$f (${LAYERS[${layer[$f]}]}) includes $inc (${LAYERS[${layer[$inc]}]})"
	done < <(sed -n 's/^#include "\(.*\)"/\1/p' "$f")
done

# Calls: the files that define each ts_ function, then every use of one.
declare -A defs
for f in "${!order[@]}"; do
	case $f in *.c) ;; *) continue ;; esac
	case $f in *.bpf.c) continue ;; esac	# BPF programs: their own world
	for fn in $(grep -hoE '^[a-z][a-z ]*[ *]ts_[a-z0-9_]+\(' "$f" |
		    grep -v '^static' | grep -oE 'ts_[a-z0-9_]+'); do
		defs[$fn]="${defs[$fn]} $f"
	done
	for v in $(grep -hoE '^(bool|int|char) ts_[a-z0-9_]+;' "$f" |
		   grep -oE 'ts_[a-z0-9_]+'); do
		defs[$v]="${defs[$v]} $f"
	done
done
for f in "${!order[@]}"; do
	case $f in *.c) ;; *) continue ;; esac
	case $f in *.bpf.c) continue ;; esac
	for fn in $(grep -v '^\s*\*\|^/\*' "$f" | grep -oE '\bts_[a-z0-9_]+' |
		    sort -u); do
		[ -n "${defs[$fn]}" ] || continue
		case " ${defs[$fn]} " in *" $f "*) continue ;; esac
		for d in ${defs[$fn]}; do
			[ "${order[$d]}" -lt "${order[$f]}" ] ||
				fail "$f (${LAYERS[${layer[$f]}]}) calls $fn of $d (${LAYERS[${layer[$d]}]}), which comes after it"
		done
	done
done
exit $bad
