#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the tcpstates reader; prints TAP 13 and exits non-zero
# if any test failed.  Needs: python3, promtool (Debian "prometheus"), and
# root for the netlink tests (unshare -n).  No module, no VM.

cd "$(dirname "$0")/.." || exit 1
BIN=$PWD/tcpstates
HELPER=$PWD/tests/sockhelper
DATA=tests/data
GOLDEN=tests/golden
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
unset TCPSTATES_PROC TCPSTATES_SYSFS TCPSTATES_PROC_ALL TCPSTATES_PROC_PORTS \
	TCPSTATES_PROCFS

n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	[ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/# /'
}
check() { # DESC CMD...: ok if CMD succeeds
	local desc=$1; shift
	if "$@" >"$T/check.out" 2>&1; then ok "$desc"
	else nok "$desc" "$(head -20 "$T/check.out")"; fi
}

# run RC CMD...: run CMD, stdout in $T/out, stderr in $T/err, want exit RC
run() {
	local want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq "$want" ]
}

# expect_err DESC RC PATTERN CMD...: exit RC, nothing on stdout, exactly
# one stderr line, starting "tcpstates: " and matching PATTERN
expect_err() {
	local desc=$1 want=$2 pat=$3; shift 3
	if run "$want" "$@" && [ ! -s "$T/out" ] &&
	   [ "$(wc -l <"$T/err")" -eq 1 ] &&
	   grep -q "^tcpstates: .*$pat" "$T/err"; then
		ok "$desc"
	else
		nok "$desc" "rc=$rc stderr: $(cat "$T/err")"
	fi
}

# json FILE EXPR: evaluate a python expression over d = the parsed JSON
json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}

module() { TCPSTATES_PROC=$DATA/$1 "$BIN" --source module "${@:2}"; }
# allns FILE ARGS: --all-netns over a recorded file, owners from a fake procfs
allns() {
	TCPSTATES_PROC_ALL=$DATA/$1 TCPSTATES_PROCFS=$T/procfs "$BIN" \
		--all-netns "${@:2}"
}
ports() {
	TCPSTATES_PROC_PORTS=$DATA/$1 "$BIN" --ports --source module "${@:2}"
}

# A fake procfs: netns 4026531840 owned by PIDs 1 and 7, 4026532400 by
# 300 and 250 (lowest wins), a process in an unlisted netns, junk entries.
fake_proc() { # PID INODE COMM
	mkdir -p "$T/procfs/$1/ns"
	ln -s "net:[$2]" "$T/procfs/$1/ns/net"
	echo "$3" >"$T/procfs/$1/comm"
}
fake_proc 7 4026531840 kthreadd
fake_proc 1 4026531840 systemd
fake_proc 300 4026532400 nginx
fake_proc 250 4026532400 'my "db"'
fake_proc 999 4026539999 other
mkdir -p "$T/procfs/self/ns" "$T/procfs/42"
ln -s "net:[4026532301]" "$T/procfs/self/ns/net"

echo "TAP version 13"

# ---- parsing recorded files ----
for f in "$DATA"/bad_*.txt; do
	expect_err "malformed $(basename "$f") is an error" 1 "$f" \
		module "$(basename "$f")"
done
check "malformed errors say what to do" \
	grep -q "or use --source netlink" "$T/err"

run 0 module ok.txt && cp "$T/out" "$T/ok.table"
check "ok.txt parses" test "$rc" -eq 0 -a ! -s "$T/err"
check "future format (version 2, unknown keys) parses like v1" \
	bash -c "TCPSTATES_PROC=$DATA/future_v2.txt '$BIN' --source module | \
		 diff -u '$GOLDEN/ok.table' -"

# ---- table output ----
check "table matches golden" diff -u "$GOLDEN/ok.table" "$T/ok.table"
run 0 module ok.txt -H -s estab,TIME-WAIT,LISTEN
check "-H and -s table matches golden" \
	diff -u "$GOLDEN/ok_filtered_noheader.table" "$T/out"
check "auto source picks the module file when it exists" \
	bash -c "TCPSTATES_PROC=$DATA/ok.txt '$BIN' | grep -q '^Source: module'"
check "auto source falls back to netlink without the module" \
	bash -c "TCPSTATES_PROC=$T/none '$BIN' | grep -q '^Source: netlink'"

# ---- JSON ----
run 0 module ok.txt -j && cp "$T/out" "$T/ok.json"
check "JSON parses with a real parser" \
	python3 -c 'import json, sys; json.load(sys.stdin)' <"$T/ok.json"
check "JSON is one line" [ "$(wc -l <"$T/ok.json")" -eq 1 ]
check "JSON source, netns and top-level keys" json "$T/ok.json" \
	'd["source"] == "module" and d["netns"] == 4026531840 and
	 sorted(d) == sorted(["source", "netns", "states", "total",
	 "time_wait", "listen_overflows", "listen_drops",
	 "syncookies_sent", "scan"])'
check "JSON has all 11 states in netstat spelling" json "$T/ok.json" \
	'list(d["states"]) == ["ESTABLISHED", "SYN_SENT", "SYN_RECV",
	 "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
	 "LAST_ACK", "LISTEN", "CLOSING"]'
check "JSON state values" json "$T/ok.json" \
	'd["states"]["ESTABLISHED"] == {"ipv4": 12, "ipv6": 3, "total": 15}
	 and d["states"]["TIME_WAIT"] == {"ipv4": 37, "ipv6": 5, "total": 42}
	 and d["states"]["LISTEN"]["ipv6"] == 4'
check "JSON totals and counters" json "$T/ok.json" \
	'd["total"] == {"ipv4": 72, "ipv6": 16, "total": 88} and
	 d["time_wait"] == {"count": 42, "limit": 262144, "overflow": 7} and
	 d["listen_overflows"] == 11 and d["listen_drops"] == 13 and
	 d["syncookies_sent"] == 2 and
	 d["scan"] == {"buckets": 65536, "ns": 123456}'
run 0 module ok.txt -j -s listen,SYN-RECV
check "JSON --state filter" json "$T/out" \
	'list(d["states"]) == ["SYN_RECV", "LISTEN"]'

# ---- Prometheus ----
if command -v promtool >/dev/null; then
	run 0 module ok.txt -p
	check "prometheus passes promtool check metrics" \
		promtool check metrics <"$T/out"
	check "prometheus matches golden" diff -u "$GOLDEN/ok.prom" "$T/out"
	run 0 "$BIN" --source netlink -p
	check "prometheus from netlink passes promtool" \
		promtool check metrics <"$T/out"
else
	nok "promtool not installed (apt-get install prometheus)"
fi
check "prometheus sample values" grep -qx \
	'tcpstates_sockets{state="time_wait",family="ipv4"} 37' "$GOLDEN/ok.prom"
check "prometheus counter has _total and TYPE counter" \
	grep -qx '# TYPE tcpstates_listen_drops_total counter' "$GOLDEN/ok.prom"

# ---- --all-netns over recorded /proc/tcpstates_all files ----
for f in "$DATA"/all_bad_*.txt; do
	expect_err "malformed $(basename "$f") is an error" 1 "$f" \
		allns "$(basename "$f")"
done
run 0 allns all_ok.txt
check "--all-netns table matches golden" diff -u "$GOLDEN/all_ok.table" "$T/out"
run 0 allns all_future_v2.txt
check "--all-netns: version 2 with extra columns parses like v1" \
	diff -u "$GOLDEN/all_ok.table" "$T/out"
run 0 allns all_ok.txt -H -s time_wait,close_wait --top 2
check "--all-netns --top 2 -s ranks by the shown states" \
	diff -u "$GOLDEN/all_top.table" "$T/out"
run 0 allns all_empty.txt -H
check "--all-netns with no rows" \
	[ "$(cat "$T/out")" = "Source: module, 0 of 0 namespaces" ]
run 0 allns all_ok.txt -j
check "--all-netns JSON parses, sorted by inode, all states" json "$T/out" \
	'd["source"] == "module" and
	 [r["netns"] for r in d["namespaces"]] ==
	 [4026531840, 4026532301, 4026532400, 4026532512] and
	 all(len(r["states"]) == 11 for r in d["namespaces"])'
check "--all-netns JSON values and owners" json "$T/out" \
	'd["namespaces"][2] == {"netns": 4026532400, "pid": 250,
	 "command": "my ?db?", "states": dict(ESTABLISHED=10, SYN_SENT=0,
	 SYN_RECV=0, FIN_WAIT1=0, FIN_WAIT2=0, TIME_WAIT=25, CLOSE=0,
	 CLOSE_WAIT=40, LAST_ACK=0, LISTEN=2, CLOSING=0), "total": 77,
	 "time_wait": {"count": 25, "limit": 4096}} and
	 d["namespaces"][0]["pid"] == 1 and
	 d["namespaces"][0]["command"] == "systemd" and
	 d["namespaces"][1]["pid"] is None'
if command -v promtool >/dev/null; then
	run 0 allns all_ok.txt -p
	check "--all-netns prometheus passes promtool" \
		promtool check metrics <"$T/out"
	check "--all-netns prometheus matches golden" \
		diff -u "$GOLDEN/all_ok.prom" "$T/out"
fi
expect_err "--all-netns without the module" 1 "module not loaded" \
	env TCPSTATES_PROC_ALL="$T/none" "$BIN" --all-netns
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	install -m 0400 "$DATA/all_ok.txt" "$T/all_0400"
	expect_err "--all-netns unprivileged: permission denied" 1 \
		"all_0400: permission denied: needs CAP_NET_ADMIN in the initial namespaces" \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		env TCPSTATES_PROC_ALL="$T/all_0400" "$BIN" --all-netns
	unshare -n sleep 30 &
	nspid=$!
	sleep 0.2
	ino=$(stat -L -c %i "/proc/$nspid/ns/net")
	sed "3s/4026532301/$ino/" "$DATA/all_ok.txt" >"$T/all_real"
	run 0 env TCPSTATES_PROC_ALL="$T/all_real" "$BIN" --all-netns -j
	check "--all-netns finds the owner in the real /proc" json "$T/out" \
		"[r for r in d['namespaces'] if r['netns'] == $ino][0]
		 == dict([r for r in d['namespaces'] if r['netns'] == $ino][0],
			 pid=$nspid, command='sleep')"
	kill $nspid
fi

# ---- --ports over recorded /proc/tcpstates_ports files ----
for f in "$DATA"/ports_bad_*.txt; do
	expect_err "malformed $(basename "$f") is an error" 1 "$f" \
		ports "$(basename "$f")"
done
run 0 ports ports_ok.txt
check "--ports table (by total) matches golden" \
	diff -u "$GOLDEN/ports_ok.table" "$T/out"
run 0 ports ports_future_v2.txt
check "--ports: version 2 with an extra state column parses like v1" \
	diff -u "$GOLDEN/ports_ok.table" "$T/out"
run 0 ports ports_ok.txt --state CLOSE_WAIT --top 2
check "--ports --state CLOSE_WAIT --top 2 (the CLOSE_WAIT hunt)" \
	diff -u "$GOLDEN/ports_close_wait.table" "$T/out"
run 0 ports ports_ok.txt -j -s close-wait
check "--ports JSON: ranked, rows without the state left out" json "$T/out" \
	'd["netns"] == 4026531840 and
	 [(r["direction"], r["port"], r["states"]["CLOSE_WAIT"])
	  for r in d["ports"]] ==
	 [("out", 6379, 9), ("out", 3306, 5), ("out", 443, 2)] and
	 list(d["ports"][0]["states"]) == ["CLOSE_WAIT"] and
	 d["ports"][2]["total"] == 40'
run 0 ports ports_ok.txt -j
check "--ports JSON has every row and all states" json "$T/out" \
	'len(d["ports"]) == 6 and
	 all(len(r["states"]) == 11 for r in d["ports"]) and
	 d["ports"][0] == {"direction": "in", "port": 8080, "total": 56,
	 "states": dict(ESTABLISHED=40, SYN_SENT=0, SYN_RECV=3, FIN_WAIT1=0,
	 FIN_WAIT2=0, TIME_WAIT=12, CLOSE=0, CLOSE_WAIT=0, LAST_ACK=0,
	 LISTEN=1, CLOSING=0)}'
if command -v promtool >/dev/null; then
	run 0 ports ports_ok.txt -p
	check "--ports prometheus passes promtool" \
		promtool check metrics <"$T/out"
	check "--ports prometheus sample" grep -qx \
		'tcpstates_port_sockets{netns="4026531840",direction="out",port="3306",state="close_wait"} 5' \
		"$T/out"
	run 0 ports ports_ok.txt -p -s close_wait --top 1
	check "--ports prometheus with -s and --top" diff -u - "$T/out" <<-EOF
	# HELP tcpstates_port_sockets TCP sockets by service port, direction and state, IPv4 and IPv6.
	# TYPE tcpstates_port_sockets gauge
	tcpstates_port_sockets{netns="4026531840",direction="out",port="6379",state="close_wait"} 9
	EOF
fi
expect_err "--ports --source module without the module" 1 \
	"module not loaded.*or use --source netlink" \
	env TCPSTATES_PROC_PORTS="$T/none" "$BIN" --ports --source module

# ---- usage errors (exit 2) and runtime errors (exit 1) ----
expect_err "--all-netns with --ports" 2 "exclude" "$BIN" --all-netns --ports
expect_err "--top without a table" 2 "needs --ports" "$BIN" --top 3
expect_err "bad --top" 2 "top" "$BIN" --ports --top 0
expect_err "--ports with --watch" 2 "one sample" "$BIN" --ports -w 1
expect_err "--all-netns with --source netlink" 2 "needs the module" \
	"$BIN" --all-netns --source netlink
expect_err "--all-netns with --netns" 2 "drop --netns" \
	"$BIN" --all-netns -n foo
expect_err "unknown short option" 2 "unknown option" "$BIN" -x
expect_err "unknown long option" 2 "unknown option" "$BIN" --bogus
expect_err "missing argument" 2 "needs an argument" "$BIN" --state
expect_err "bad --state" 2 "unknown state" "$BIN" --state estab,nosuch
expect_err "bad --source" 2 "unknown source" "$BIN" --source ipv9
expect_err "bad --check-tw" 2 "check-tw" "$BIN" --check-tw lots
expect_err "--check-tw above 100" 2 "check-tw" "$BIN" --check-tw 101
expect_err "bad --watch" 2 "watch" "$BIN" -w 0
expect_err "bad --count" 2 "count" "$BIN" -c 1.5
expect_err "--json with --prometheus" 2 "exclude" "$BIN" -j -p
expect_err "stray argument" 2 "unexpected argument" "$BIN" foo
expect_err "--set of a read-only key" 2 "max_tw_buckets=N" \
	"$BIN" --set tw_count=3
expect_err "--set of a non-number" 2 "integer" \
	"$BIN" --set max_tw_buckets=lots
expect_err "--source module without the module" 1 \
	"module not loaded: insmod tcpstates.ko, or use --source netlink" \
	env TCPSTATES_PROC="$T/none" "$BIN" --source module
expect_err "--netns of a missing file" 1 "netns" "$BIN" --netns "$T/none"
run 0 "$BIN" --help
check "--help on stdout, exit 0" grep -q "^Usage: tcpstates" "$T/out"
run 0 "$BIN" -V
check "-V prints the version" grep -q "^tcpstates [0-9]" "$T/out"

# ---- --set against a fake sysfs directory ----
mkdir "$T/sysfs"
echo 262144 >"$T/sysfs/max_tw_buckets"
echo 0 >"$T/sysfs/tw_reuse"
run 0 env TCPSTATES_SYSFS="$T/sysfs" "$BIN" --set max_tw_buckets=1000 \
	--set tw_reuse=2
check "--set prints old -> new" diff -u - "$T/out" <<-EOF
	max_tw_buckets: 262144 -> 1000
	tw_reuse: 0 -> 2
	EOF
check "--set wrote the files" \
	[ "$(cat "$T/sysfs/max_tw_buckets"),$(cat "$T/sysfs/tw_reuse")" = 1000,2 ]
expect_err "--set without the module" 1 "not found: load the module" \
	env TCPSTATES_SYSFS="$T/none" "$BIN" --set tw_reuse=1

# ---- --check-tw ----
run 0 module ok.txt --check-tw 80
check "--check-tw low usage: exit 0, one OK line" \
	test "$rc" = 0 -a "$(grep -c '^TIME_WAIT OK: 42 of limit 262144' "$T/out")" = 1
run 1 module tw_900_of_1000.txt --check-tw 80
check "--check-tw 90% > 80%: exit 1" grep -q "^TIME_WAIT CRITICAL: 900" "$T/out"
run 0 module tw_900_of_1000.txt --check-tw 90
check "--check-tw exactly at threshold is not above: exit 0" \
	grep -q "^TIME_WAIT OK" "$T/out"
run 0 module tw_0_of_0.txt --check-tw 50
check "--check-tw limit 0, no TIME_WAIT: exit 0" [ "$rc" = 0 ]
run 1 module tw_2_of_0.txt --check-tw 50
check "--check-tw limit 0 with TIME_WAIT: exit 1" [ "$rc" = 1 ]
expect_err "--check-tw on a malformed file is an error" 1 "non-numeric" \
	module bad_nonnumeric.txt --check-tw 50

# ---- watch deltas: the file changes between two samples ----
cp "$DATA/ok.txt" "$T/live.txt"
TCPSTATES_PROC=$T/live.txt "$BIN" --source module -c 2 -w 0.6 >"$T/watch" &
wpid=$!
TCPSTATES_PROC=$T/live.txt "$BIN" --source module -j -c 2 -w 0.6 \
	>"$T/watch.json" &
jpid=$!
sleep 0.3
cp "$DATA/ok_later.txt" "$T/live.tmp" && mv "$T/live.tmp" "$T/live.txt"
wait $wpid $jpid
check "watch: first sample has no deltas" grep -qE \
	'^ESTABLISHED +12 +3 +15 +- +-$' "$T/watch"
check "watch: second sample shows per-state deltas" grep -qE \
	'^ESTABLISHED +15 +1 +16 +\+3 +-2$' "$T/watch"
check "watch: TIME_WAIT and Total deltas" bash -c \
	"grep -qE '^TIME_WAIT +30 +5 +35 +-7 +\+0$' '$T/watch' &&
	 grep -qE '^Total +68 +14 +82 +-4 +-2$' '$T/watch'"
check "watch JSON: one object per sample, delta in the second" python3 -c '
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert "delta" not in a
assert b["delta"]["ESTABLISHED"] == {"ipv4": 3, "ipv6": -2}
assert b["delta"]["total"] == {"ipv4": -4, "ipv6": -2}' "$T/watch.json"

# ---- netlink source against ss, in a fresh netns ----
if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
	# shellcheck disable=SC2016
	unshare -n bash -c '
		ip link set lo up
		"$1" 127.0.0.1 5000 3 4 2 1 >"$3/h4" &
		"$1" ::1 6000 2 1 3 2 >"$3/h6" &
		for i in $(seq 50); do
			[ -s "$3/h4" ] && [ -s "$3/h6" ] && break
			sleep 0.1
		done
		"$2" --source netlink -j >"$3/nl.json"
		"$2" --source netlink >"$3/nl.table"
		ss -H -4 -tan >"$3/ss4"
		ss -H -6 -tan >"$3/ss6"
		cat /proc/sys/net/ipv4/tcp_max_tw_buckets >"$3/limit"
		readlink /proc/self/ns/net >"$3/ns"
		"$2" --ports -j >"$3/ports.json"
		kill %1 %2' _ "$HELPER" "$BIN" "$T"
	check "netlink JSON parses" json "$T/nl.json" 'd["source"] == "netlink"'
	check "netlink counts equal ss -tan per state and family" python3 -c '
import json, sys
d = json.load(open(sys.argv[1] + "/nl.json"))
names = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT",
	 "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT1",
	 "FIN-WAIT-2": "FIN_WAIT2", "TIME-WAIT": "TIME_WAIT",
	 "UNCONN": "CLOSE", "CLOSE-WAIT": "CLOSE_WAIT",
	 "LAST-ACK": "LAST_ACK", "LISTEN": "LISTEN", "CLOSING": "CLOSING"}
for fam in ("4", "6"):
	ss = dict.fromkeys(names.values(), 0)
	for line in open(sys.argv[1] + "/ss" + fam):
		ss[names[line.split()[0]]] += 1
	got = {k: v["ipv" + fam] for k, v in d["states"].items()}
	assert got == ss, (fam, got, ss)' "$T"
	check "netlink counts equal the sockets the helper made" json \
		"$T/nl.json" 'd["states"]["LISTEN"] == {"ipv4": 3, "ipv6": 2, "total": 5}
		and d["states"]["ESTABLISHED"] == {"ipv4": 8, "ipv6": 2, "total": 10}
		and d["states"]["TIME_WAIT"] == {"ipv4": 2, "ipv6": 3, "total": 5}
		and d["states"]["CLOSE_WAIT"] == {"ipv4": 1, "ipv6": 2, "total": 3}
		and d["states"]["FIN_WAIT2"] == {"ipv4": 1, "ipv6": 2, "total": 3}
		and d["total"] == {"ipv4": 15, "ipv6": 11, "total": 26}'
	check "netlink tw_count (sockstat) and limit (sysctl)" json \
		"$T/nl.json" "d['time_wait']['count'] == 5 and
		d['time_wait']['limit'] == $(cat "$T/limit") and 'scan' not in d"
	check "netlink netns is the test netns" json "$T/nl.json" \
		"'net:[%d]' % d['netns'] == '$(cat "$T/ns")'"
	check "netlink table says its source" \
		grep -q "^Source: netlink, netns" "$T/nl.table"

	check "--ports from netlink (auto without the module)" json \
		"$T/ports.json" "d['source'] == 'netlink' and
		'net:[%d]' % d['netns'] == '$(cat "$T/ns")'"
	check "--ports netlink groups: in = listener ports, out = remote port" \
		python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = {(r["direction"], r["port"]): {k: v for k, v in r["states"].items() if v}
       for r in d["ports"]}
want = {("in", 5000): dict(LISTEN=1, ESTABLISHED=4, CLOSE_WAIT=1),
	("in", 5001): dict(LISTEN=1), ("in", 5002): dict(LISTEN=1),
	("out", 5000): dict(ESTABLISHED=4, FIN_WAIT2=1, TIME_WAIT=2),
	("in", 6000): dict(LISTEN=1, ESTABLISHED=1, CLOSE_WAIT=2),
	("in", 6001): dict(LISTEN=1),
	("out", 6000): dict(ESTABLISHED=1, FIN_WAIT2=2, TIME_WAIT=3)}
assert got == want, got
assert [r["total"] for r in d["ports"]] == sorted(
	(r["total"] for r in d["ports"]), reverse=True)' "$T/ports.json"

	unshare -n sleep 30 &
	nspid=$!
	sleep 0.2
	run 0 "$BIN" --netns "/proc/$nspid/ns/net" --source netlink -j
	check "--netns PATH enters that netns" json "$T/out" \
		"d['netns'] == $(stat -L -c %i "/proc/$nspid/ns/net") and
		 d['total']['total'] == 0"
	kill $nspid
else
	nok "netlink tests need root and unshare -n"
fi

# ---- docs ----
# make lint runs checkpatch over these sources; here only the man page.
check "man page renders without warnings" bash -c \
	'MANWIDTH=80 man -l --warnings tcpstates.8 2>&1 >/dev/null |
	 (! grep .)'

echo "1..$n"
[ "$failed" -eq 0 ]
