# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The bpf source on this machine's own kernel, sourced by run.sh (its
# helpers, $BIN, $HELPER and $T): in fresh namespaces with a known
# population (every state the helpers can make, both timewait substates,
# request socks, v4-mapped, a private ehash, none at all), --source bpf
# equals --source netlink state by state and family by family.  Skipped
# only without root or without kernel BTF; a kernel that has both and
# refuses the program fails here, with its reason.

BNS=tcpstates-t$$-bpf
SYNPOP=$PWD/tests/synpop.py

bpf_cleanup() {
	# shellcheck disable=SC2046
	kill $(ip netns pids "$BNS" 2>/dev/null) 2>/dev/null
	ip netns del "$BNS" 2>/dev/null
}

# bpf_same DIR: bpf.json and nl.json in DIR have the same states
bpf_same() {
	python3 -c '
import json, sys
b = json.load(open(sys.argv[1] + "/bpf.json"))
n = json.load(open(sys.argv[1] + "/nl.json"))
assert b["source"] == "bpf" and n["source"] == "netlink", (b["source"], n["source"])
assert b["netns"] == n["netns"], (b["netns"], n["netns"])
assert b["states"] == n["states"], (b["states"], n["states"])
assert b["total"] == n["total"], (b["total"], n["total"])' "$1"
}

# populate DIR: every state the helpers make, in the current netns
# ($HELPER and $SYNPOP in the environment); waits until all are ready
populate() {
	ip link set lo up
	"$HELPER" 127.0.0.1 5000 3 4 2 1 >"$1/p1" &
	"$HELPER" ::1 6000 2 1 3 2 >"$1/p2" &
	"$HELPER" ::ffff:127.0.0.1 5100 1 2 1 1 >"$1/p3" &
	"$HELPER" leak 127.0.0.1 5200 2 >"$1/p4" &
	python3 "$SYNPOP" 127.0.0.1 5300 3 >"$1/p5" &
	python3 "$SYNPOP" ::1 6300 2 >"$1/p6" &
	for _ in $(seq 100); do
		[ -s "$1/p1" ] && [ -s "$1/p2" ] && [ -s "$1/p3" ] &&
			[ -s "$1/p4" ] && [ -s "$1/p5" ] && [ -s "$1/p6" ] &&
			return 0
		sleep 0.1
	done
	return 1
}

if ! is_root; then
	skip "bpf source tests" "not root: loading BPF needs CAP_BPF and CAP_PERFMON"
elif [ ! -e /sys/kernel/btf/vmlinux ]; then
	skip "bpf source tests" "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
elif ! "$BIN" --source bpf -j >"$T/bpf.probe" 2>"$T/bpf.err"; then
	nok "--source bpf loads on this kernel (root, BTF)" "$(cat "$T/bpf.err")"
elif ! ip netns add "$BNS"; then
	nok "bpf source tests need ip netns"
else
	ok "--source bpf loads on this kernel (root, BTF)"
	if [ "$(uname -r | awk -F. '{print $1 * 1000 + $2}')" -ge 6002 ]; then
		TCPSTATES_BPF_DEBUG=1 "$BIN" --source bpf >/dev/null 2>"$T/bpf.walk"
		check "the plain-load walk loads on $(uname -r) (bpf_rdonly_cast: 6.2)" \
			grep -q "reads with plain loads" "$T/bpf.walk"
	else
		skip "the plain-load walk" "kernel $(uname -r): no bpf_rdonly_cast before 6.2"
	fi
	export HELPER SYNPOP
	mkdir -p "$T/bpf1"
	# shellcheck disable=SC2016
	ip netns exec "$BNS" bash -c "$(declare -f populate)"'
		populate "$1" || exit 1
		sleep 0.3
		"$2" --source bpf -j >"$1/bpf.json"
		"$2" --source netlink -j >"$1/nl.json"
		mkdir -p "$1/probe" "$1/stray" "$1/stray-probe"
		TCPSTATES_BPF_PROBE_READ=1 "$2" --source bpf -j >"$1/probe/bpf.json"
		TCPSTATES_BPF_STRAY=3 "$2" --source bpf -j >"$1/stray/bpf.json"
		TCPSTATES_BPF_STRAY=3 TCPSTATES_BPF_PROBE_READ=1 "$2" --source bpf \
			-j >"$1/stray-probe/bpf.json"
		TCPSTATES_BPF_STRAY=8 "$2" --source bpf -j >"$1/stray8.out" \
			2>"$1/stray8.err"
		echo $? >"$1/stray8.rc"
		TCPSTATES_BPF_STRAY=8 "$2" --source bpf -j -w 0.1 -c 20 \
			>"$1/stray8w.out" 2>"$1/stray8w.err"
		echo $? >"$1/stray8w.rc"
		for d in probe stray stray-probe; do cp "$1/nl.json" "$1/$d/"; done
		"$2" --source bpf >"$1/bpf.table"
		"$2" --source bpf -p >"$1/bpf.prom"
		TCPSTATES_PROC=$1/none "$2" -j >"$1/auto.json"
		TCPSTATES_PROC=$1/none "$2" >"$1/auto.table"
		TCPSTATES_PROC=$1/none TCPSTATES_NO_BPF=1 "$2" -j >"$1/nobpf.json"
		ss -H -tan >"$1/ss"' _ "$T/bpf1" "$BIN" "$HELPER"
	check "bpf equals netlink state by state in a populated netns" \
		bpf_same "$T/bpf1"
	check "bpf's probe-read walk (kernels before 6.2) equals netlink" \
		bpf_same "$T/bpf1/probe"
	# TCPSTATES_BPF_STRAY=N: every chain that counted ends as a stray N
	# times, as churn would make it, and is walked again (its counts
	# taken back each time); at 8 the read gives up with an error.
	for d in stray stray-probe; do
		check "bpf ($d): chains walked again 3 times still equal netlink" \
			bpf_same "$T/bpf1/$d"
		check "bpf ($d): the restarts are counted" json \
			"$T/bpf1/$d/bpf.json" \
			'd["scan"]["restarts"] > 0 and d["scan"]["restarts"] % 3 == 0'
	done
	check "bpf: chains that never settle fail the read with one line, no counts" \
		bash -c "[ \"\$(cat '$T/bpf1/stray8.rc')\" = 1 ] && [ ! -s '$T/bpf1/stray8.out' ] &&
			[ \"\$(wc -l <'$T/bpf1/stray8.err')\" = 1 ] &&
			grep -q 'chains kept changing under socket churn' '$T/bpf1/stray8.err'"
	# A watch skips a sample that failed under churn, but not forever.
	check "bpf: a watch whose every sample fails under churn gives up after 5 in a row" \
		bash -c "[ \"\$(cat '$T/bpf1/stray8w.rc')\" = 1 ] && [ ! -s '$T/bpf1/stray8w.out' ] &&
			[ \"\$(grep -c 'chains kept changing under socket churn' '$T/bpf1/stray8w.err')\" = 5 ] &&
			[ \"\$(wc -l <'$T/bpf1/stray8w.err')\" = 5 ]"
	check "bpf counts every state the helpers made" json "$T/bpf1/bpf.json" \
		'd["states"]["LISTEN"] == {"ipv4": 6, "ipv6": 5, "total": 11}
		and d["states"]["SYN_RECV"] == {"ipv4": 3, "ipv6": 2, "total": 5}
		and d["states"]["SYN_SENT"] == {"ipv4": 3, "ipv6": 2, "total": 5}
		and d["states"]["TIME_WAIT"] == {"ipv4": 2, "ipv6": 4, "total": 6}
		and d["states"]["FIN_WAIT2"] == {"ipv4": 3, "ipv6": 3, "total": 6}
		and d["states"]["CLOSE_WAIT"] == {"ipv4": 3, "ipv6": 3, "total": 6}
		and d["total"]["total"] == '"$(wc -l <"$T/bpf1/ss")"
	check "bpf counts the netns it runs in" json "$T/bpf1/bpf.json" \
		"d['netns'] == $(ip netns exec "$BNS" stat -L -c %i /proc/self/ns/net)"
	check "bpf table says its source" \
		grep -q "^Source: bpf, netns " "$T/bpf1/bpf.table"
	check "bpf prometheus: tcpstates_info source=\"bpf\"" \
		grep -q 'source="bpf"} 1$' "$T/bpf1/bpf.prom"
	check "auto without the module picks bpf (JSON source)" json \
		"$T/bpf1/auto.json" 'd["source"] == "bpf"'
	check "auto without the module picks bpf (table footer)" \
		grep -q "^Source: bpf, netns " "$T/bpf1/auto.table"
	check "auto with TCPSTATES_NO_BPF=1 picks netlink" json \
		"$T/bpf1/nobpf.json" 'd["source"] == "netlink"'

	# -n: the walk is of the netns entered, not the caller's
	mkdir -p "$T/bpf2"
	"$BIN" -n "$BNS" --source bpf -j >"$T/bpf2/bpf.json"
	"$BIN" -n "$BNS" --source netlink -j >"$T/bpf2/nl.json"
	check "-n NETNS: bpf equals netlink there" bpf_same "$T/bpf2"
	check "-n NETNS: bpf counts that netns's sockets" python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert (a["netns"], a["states"]) == (b["netns"], b["states"])' \
		"$T/bpf2/bpf.json" "$T/bpf1/bpf.json"
	bpf_cleanup

	# an empty netns
	mkdir -p "$T/bpf3"
	# shellcheck disable=SC2016
	unshare -n bash -c '"$1" --source bpf -j >"$2/bpf.json" &&
		"$1" --source netlink -j >"$2/nl.json"' _ "$BIN" "$T/bpf3"
	check "an empty netns: bpf equals netlink" bpf_same "$T/bpf3"
	check "an empty netns: bpf counts nothing" json "$T/bpf3/bpf.json" \
		'd["total"]["total"] == 0'

	# a private ehash (tcp_child_ehash_entries set in the parent netns):
	# one bucket (one chain of every socket, longer than the undo log),
	# 128, and 16M buckets (2050 program runs)
	export -f json
	for size in 1 128 16777216; do
		mkdir -p "$T/bpf4-$size"
		# shellcheck disable=SC2016
		unshare -n bash -c "$(declare -f populate)"'
			sysctl -q -w net.ipv4.tcp_child_ehash_entries=$3 || exit 1
			unshare -n bash -c "$(declare -f populate)"'\''
				populate "$1" || exit 1
				sleep 0.3
				"$2" --source bpf -j >"$1/bpf.json"
				"$2" --source netlink -j >"$1/nl.json"
				mkdir -p "$1/probe" "$1/stray"
				TCPSTATES_BPF_PROBE_READ=1 "$2" --source bpf -j \
					>"$1/probe/bpf.json"
				TCPSTATES_BPF_STRAY=2 "$2" --source bpf -j \
					>"$1/stray/bpf.json"
				cp "$1/nl.json" "$1/probe/"
				cp "$1/nl.json" "$1/stray/"
				kill $(jobs -p) "$(cut -d" " -f2 "$1/p4")"'\'' _ "$1" "$2" "$HELPER"
			"$2" --source bpf -j >"$1/outer.json"' \
			_ "$T/bpf4-$size" "$BIN" "$size"
		check "private ehash of $size buckets: bpf equals netlink" \
			bpf_same "$T/bpf4-$size"
		check "private ehash of $size buckets: the probe-read walk too" \
			bpf_same "$T/bpf4-$size/probe"
		check "private ehash of $size buckets: chains walked again twice" \
			bpf_same "$T/bpf4-$size/stray"
		check "private ehash of $size buckets: all the sockets, none outside" \
			bash -c "json '$T/bpf4-$size/bpf.json' 'd[\"total\"][\"total\"] > 40' &&
				 json '$T/bpf4-$size/outer.json' 'd[\"total\"][\"total\"] == 0'"
	done

	# the other output paths, watch (one load, three walks), usage
	run 0 "$BIN" --source bpf -w 0.1 -c 3 -j
	check "bpf in watch mode: three samples" \
		[ "$(grep -c '"source":"bpf"' "$T/out")" = 3 ]
	if command -v promtool >/dev/null; then
		"$BIN" --source bpf -p >"$T/bpf.prom"
		check "bpf prometheus passes promtool" \
			promtool check metrics <"$T/bpf.prom"
	fi
	run 0 "$BIN" --source bpf --check-tw 100
	check "--check-tw with bpf" grep -q "^TIME_WAIT OK - " "$T/out"
	# --all-netns with the bpf source: the pinned walk of every netns,
	# loaded; auto takes it after the module and the pins
	run 0 env TCPSTATES_PROC_ALL=/none TCPSTATES_BPF_DIR=/none "$BIN" \
		--all-netns -j
	check "--all-netns auto without module or pins: the bpf walk, this netns's row" \
		json "$T/out" "d['source'] == 'bpf' and
			$(stat -L -c %i /proc/self/ns/net) in
			[n['netns'] for n in d['namespaces']]"
	expect_err "--all-netns --source bpf from another netns: one line, exit 1" 1 \
		"initial netns only" unshare -n "$BIN" --all-netns --source bpf

	# --ports with the bpf source: the pinned walk, loaded, not pinned;
	# auto takes it after the module and the pins, before netlink
	# shellcheck disable=SC2016
	unshare -n sh -c 'ip link set lo up
		"$1" 127.0.0.1 7000 3 4 2 1 >"$2/hp" 2>&1 &
		h=$!
		for i in $(seq 50); do [ -s "$2/hp" ] && break; sleep 0.1; done
		"$3" --ports --source bpf -j >"$2/pb.json"
		"$3" --ports --source netlink -j >"$2/pn.json"
		TCPSTATES_PROC_PORTS=/none TCPSTATES_BPF_DIR=/none "$3" \
			--ports -j >"$2/pa.json"
		kill $h' _ "$HELPER" "$T" "$BIN"
	for f in pb pn; do
		sed 's/"time":"[^"]*"//; s/"source":"[a-z]*"//' "$T/$f.json" \
			>"$T/$f.cut"
	done
	check "--ports --source bpf: the rows netlink counts" bash -c \
		"grep -q '\"source\":\"bpf\"' '$T/pb.json' &&
		 grep -q '\"port\":7000' '$T/pb.json' &&
		 cmp -s '$T/pb.cut' '$T/pn.cut'"
	check "--ports auto without module or pins: the bpf walk" \
		grep -q '"source":"bpf"' "$T/pa.json"

	# without privileges: one line naming the reason; auto moves on
	# (uid 65534 runs run.sh's copy of the reader, $NOBODY_BIN)
	if ! command -v setpriv >/dev/null; then
		:
	elif why=$(nobody_ok); then
		expect_err "--source bpf unprivileged: one line, the reason" 1 \
			"bpf: load: not permitted" \
			"${NOBODY[@]}" "$NOBODY_BIN" --source bpf
		run 0 env TCPSTATES_PROC="$T/none" "${NOBODY[@]}" "$NOBODY_BIN"
		check "auto unprivileged: netlink, silently" bash -c \
			"grep -q '^Source: netlink' '$T/out' && [ ! -s '$T/err' ]"
	else
		skip "--source bpf unprivileged: one line, the reason" "$why"
		skip "auto unprivileged: netlink, silently" "$why"
	fi
fi
