# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The pinned file on this machine's own kernel, no module, sourced by
# run.sh after bpf.sh (its populate, and run.sh's helpers, $BIN, $HELPER,
# $NOBODY, $NOBODY_BIN and $T): "tcpstates pin" in a directory where no
# bpffs is mounted, then cat of DIR/tcpstates in a fresh populated netns
# equals ss -tan state by state and netlink family by family, has the
# module's grammar line for line, reads as uid 65534 and from another
# netns as that netns; pinning again swaps the set while readers loop,
# a pin of another version is named, a pin that cannot be made leaves
# nothing, and unpin removes it.  Skipped without root or kernel BTF.

PNS=tcpstates-t$$-pin
PDIR=$(mktemp -d /tmp/tcpstates-pin.XXXXXX)
chmod 0755 "$PDIR"
PINS=$PDIR/pins
# The lines of the pinned file that hold still at quiescence.
PIN_COUNTS='^([A-Z]|total |netns |tw_count |max_tw_buckets )'

pin_cleanup() {
	# shellcheck disable=SC2046
	kill $(ip netns pids "$PNS" 2>/dev/null) 2>/dev/null
	ip netns del "$PNS" 2>/dev/null
	"$BIN" unpin "$PINS" 2>/dev/null
	mountpoint -q "$PINS" && umount "$PINS"
	rm -rf "$PDIR"
}

# pin_vs_ss DIR: the pinned file's states (v4 + v6) are ss -tan's
pin_vs_ss() {
	python3 - "$1" <<'EOF'
import collections, sys
d = sys.argv[1]
ss_names = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT",
            "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT1",
            "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT",
            "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK",
            "LISTEN": "LISTEN", "CLOSING": "CLOSING", "UNCONN": "CLOSE"}
ss = collections.Counter(ss_names[l.split()[0]] for l in open(d + "/ss"))
pin = {}
for l in open(d + "/pin.out"):
    f = l.split()
    if len(f) == 3 and f[0] in ss_names.values():
        pin[f[0]] = int(f[1]) + int(f[2])
bad = {s: (pin.get(s), ss.get(s, 0)) for s in ss_names.values()
       if pin.get(s) != ss.get(s, 0)}
print("state: (pinned, ss)", bad)
assert not bad
EOF
}

# pin_vs_netlink DIR: the pinned file, parsed by the reader as the
# module's, equals --source netlink family by family
pin_vs_netlink() {
	python3 -c '
import json, sys
p = json.load(open(sys.argv[1] + "/pin.json"))
n = json.load(open(sys.argv[1] + "/nl.json"))
for k in ("netns", "states", "total", "time_wait"):
    assert p[k] == n[k], (k, p[k], n[k])' "$1"
}

# pin_keys FILE: the first word of each line, as the module prints them
pin_keys() {
	cut -d' ' -f1 "$1" | tr '\n' ' '
}

if ! is_root; then
	skip "pinned file tests" "not root: pinning needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN"
elif [ ! -e /sys/kernel/btf/vmlinux ]; then
	skip "pinned file tests" "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
elif ! "$BIN" pin --mode 0444 "$PINS" 2>"$T/pin.err"; then
	nok "tcpstates pin on this kernel (root, BTF)" "$(cat "$T/pin.err")"
elif ! ip netns add "$PNS"; then
	nok "pinned file tests need ip netns"
else
	ok "tcpstates pin on this kernel (root, BTF), mounting bpffs on DIR"
	check "the pin is mode 0444 (--mode 0444), its directory traversable" \
		bash -c "[ \"\$(stat -L -c %a '$PINS/tcpstates')\" = 444 ] &&
			 [ \"\$(( 0\$(stat -c %a '$PINS') & 011 ))\" = 9 ]"
	check "pin --check: the pins are this reader's version" \
		"$BIN" pin --check "$PINS"
	mkdir -p "$T/pin1"
	export HELPER SYNPOP
	# shellcheck disable=SC2016
	ip netns exec "$PNS" bash -c "$(declare -f populate)"'
		populate "$1" || exit 1
		sleep 0.3
		cat "$4/tcpstates" >"$1/pin.out"
		ss -H -tan >"$1/ss"
		cat /proc/net/sockstat >"$1/sockstat"
		"$2" --source netlink -j >"$1/nl.json"
		TCPSTATES_PROC=$4/tcpstates "$2" --source module -j >"$1/pin.json"
		"${@:5}" cat "$4/tcpstates" >"$1/nobody.out"
		readers=
		for i in $(seq 16); do
			for j in 1 2 3 4 5; do cat "$4/tcpstates"; done \
				>"$1/conc.$i" &
			readers="$readers $!"
		done
		wait $readers
		stat -L -c %i /proc/self/ns/net >"$1/inode"' \
		_ "$T/pin1" "$BIN" "$HELPER" "$PINS" "${NOBODY[@]}"
	check "pinned file: the module's grammar, line for line" \
		[ "$(pin_keys "$T/pin1/pin.out")" = "$(pin_keys tests/data/ok_restarts.txt)" ]
	check "pinned file equals ss -tan state by state in a populated netns" \
		pin_vs_ss "$T/pin1"
	check "pinned file, parsed as the module's, equals netlink family by family" \
		pin_vs_netlink "$T/pin1"
	check "pinned file counts the reader's netns" \
		grep -qx "netns $(cat "$T/pin1/inode")" "$T/pin1/pin.out"
	check "pinned file: tw_count is sockstat's tw" \
		grep -qx "tw_count $(sed -n 's/^TCP: .* tw \([0-9]*\) .*/\1/p' "$T/pin1/sockstat")" \
		"$T/pin1/pin.out"
	check "pinned file: max_tw_buckets is the netns's sysctl" \
		grep -qx "max_tw_buckets $(ip netns exec "$PNS" sysctl -n net.ipv4.tcp_max_tw_buckets)" \
		"$T/pin1/pin.out"
	# (listen_overflows and listen_drops grow as the SYN helpers retry.)
	check "16 readers at once, 5 reads each: every read the same counts" \
		bash -c "for i in \$(seq 16); do
				c='$T/pin1/conc.'\$i
				[ \"\$(wc -l <\$c)\" = 125 ] || exit 1
				grep -E '$PIN_COUNTS' \$c | sort | uniq -c |
					awk '\$1 != 5 { exit 1 }' || exit 1
				diff <(grep -E '$PIN_COUNTS' '$T/pin1/pin.out' | sort) \
				     <(grep -E '$PIN_COUNTS' \$c | sort -u) || exit 1
			 done"
	check "pinned file reads as uid 65534 (0444), the same counts" \
		bash -c "diff <(grep -v ^scan_ '$T/pin1/pin.out') <(grep -v ^scan_ '$T/pin1/nobody.out')"
	unshare -n cat "$PINS/tcpstates" >"$T/pin-other.out" 2>&1
	# shellcheck disable=SC2016
	unshare -n bash -c 'stat -L -c %i /proc/self/ns/net; cat "$1/tcpstates"' \
		_ "$PINS" >"$T/pin-other2.out" 2>&1
	check "a reader in another netns sees that netns, empty" \
		bash -c "grep -qx 'total 0 0' '$T/pin-other.out' &&
			 grep -qx \"netns \$(head -1 '$T/pin-other2.out')\" '$T/pin-other2.out' &&
			 ! grep -qx 'netns $(cat "$T/pin1/inode")' '$T/pin-other.out'"

	# pinning again, while readers loop: never a missing or short file
	old=$(readlink "$PINS/current")
	# shellcheck disable=SC2016
	ip netns exec "$PNS" bash -c 'for i in $(seq 300); do
		[ "$(wc -l <"$1/tcpstates")" = 25 ] || echo "read $i failed"
	done >"$2" 2>&1' _ "$PINS" "$T/pin-loop.out" &
	loop=$!
	for _ in 1 2 3; do "$BIN" pin --mode 0444 "$PINS" || echo "pin failed"; done \
		>"$T/repin.out" 2>&1
	wait $loop
	check "pinning again 3 times while a reader loops: every read whole" \
		bash -c "[ ! -s '$T/pin-loop.out' ] && [ ! -s '$T/repin.out' ]"
	check "pinning again swaps current, and leaves one set" \
		bash -c "[ \"\$(readlink '$PINS/current')\" != '$old' ] &&
			 [ \"\$(find '$PINS' -mindepth 1 -maxdepth 1 -type d | wc -l)\" = 1 ]"

	# a pin of another version is named
	mkdir "$PINS/0_9-1" && ln -s 0_9-1 "$PINS/next" && mv -T "$PINS/next" "$PINS/current"
	expect_err "pin --check names a pin of another version, exit 1" 1 \
		"pinned by tcpstates 0.9, this is tcpstates " "$BIN" pin --check "$PINS"
	run 0 "$BIN" pin --mode 0444 "$PINS"
	check "pinning again over another version's pin" \
		bash -c "'$BIN' pin --check '$PINS' && [ ! -e '$PINS/0_9-1' ] &&
			 [ \"\$(wc -l <'$PINS/tcpstates')\" = 25 ]"

	# a pin that cannot be made: one line, exit 1, nothing left
	mkdir "$PDIR/nobody" && chown 65534:65534 "$PDIR/nobody"
	if nobody_ok >/dev/null; then
		"${NOBODY[@]}" "$NOBODY_BIN" pin "$PDIR/nobody/pins" \
			>"$T/pin-nobody.out" 2>&1
		echo $? >"$T/pin-nobody.rc"
		check "pin as uid 65534: exit 1, one line, nothing left" \
			bash -c "[ \"\$(cat '$T/pin-nobody.rc')\" = 1 ] &&
				 [ \"\$(wc -l <'$T/pin-nobody.out')\" = 1 ] &&
				 [ -z \"\$(ls -A '$PDIR/nobody')\" ]"
	else
		skip "pin as uid 65534" "$(nobody_ok)"
	fi
	expect_err "pin --mode: read bits only, else a usage error" 2 \
		"mode wants 0400, 0440 or 0444" "$BIN" pin --mode 0644 "$PINS"

	run 0 "$BIN" unpin "$PINS"
	# (A bpffs's root holds the kernel's own maps.debug and progs.debug.)
	check "unpin removes the pins" \
		bash -c "[ ! -e '$PINS/tcpstates' ] && [ ! -e '$PINS/current' ] &&
			 [ -z \"\$(find '$PINS' -mindepth 1 -type d)\" ]"
	run 0 "$BIN" unpin "$PINS"
fi
pin_cleanup
