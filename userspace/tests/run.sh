#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the tcpstates reader; prints TAP 13 and exits non-zero
# if any test failed.  Needs: python3, promtool (Debian "prometheus"),
# prometheus-node-exporter and curl, and root for the netlink, netns,
# systemd unit and full-filesystem tests.  No module, no VM.

cd "$(dirname "$0")/.." || exit 1
BIN=$PWD/tcpstates
HELPER=$PWD/tests/sockhelper
UNITS=$PWD/../examples/systemd
DATA=tests/data
GOLDEN=tests/golden
T=$(mktemp -d)
# The tests that run the reader as uid 65534 run this copy of it: the
# checkout may sit under a directory that user cannot search (/root is
# 0700), and a reader it cannot reach fails with 126 before it starts.
# $T is 0700 too, so the copy has a directory of its own, 0755, in /tmp.
PUB=$(mktemp -d /tmp/tcpstates-pub.XXXXXX)
chmod 0755 "$PUB"
NOBODY_BIN=$PUB/tcpstates
cp "$BIN" "$NOBODY_BIN" 2>/dev/null
NSA=tcpstates-t$$-a
NSB=tcpstates-t$$-b
NE_PID=
unset TCPSTATES_PROC TCPSTATES_SYSFS TCPSTATES_PROC_ALL TCPSTATES_PROC_PORTS \
	TCPSTATES_PROCFS TCPSTATES_PROC_TRANSITIONS TCPSTATES_PROC_AGES \
	TCPSTATES_PROC_TRANSITIONS_PORTS
# No pins but the tests' own: the host's, if any, would serve auto.
export TCPSTATES_BPF_DIR=$T/no-pins
export TZ=UTC

cleanup() {
	local ns

	[ -n "$NE_PID" ] && kill "$NE_PID" 2>/dev/null
	for ns in "$NSA" "$NSB"; do
		# shellcheck disable=SC2046
		kill $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	mountpoint -q "$T/full" 2>/dev/null && umount "$T/full"
	rm -rf "$T" "$PUB"
}
trap cleanup EXIT

n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	[ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/# /'
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # DESC CMD...: ok if CMD succeeds
	local desc=$1; shift
	if "$@" >"$T/check.out" 2>&1; then ok "$desc"
	else nok "$desc" "$(head -20 "$T/check.out")"; fi
}
is_root() { [ "$(id -u)" = 0 ]; }
# "${NOBODY[@]}" CMD...: CMD as uid and gid 65534, no supplementary groups
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
# nobody_ok: uid 65534 can run $NOBODY_BIN; else why not, on stdout
nobody_ok() {
	"${NOBODY[@]}" test -x "$NOBODY_BIN" 2>/dev/null && return 0
	echo "uid 65534 cannot run $NOBODY_BIN"
	return 1
}

# limit CMD...: run CMD (a command or one of the functions below) for at
# most 60 s, so that a watch that never ends fails instead of hanging
limit() {
	if [ "$(type -t "$1")" = function ]; then
		timeout 60 bash -c '"$@"' _ "$@"
	else
		timeout 60 "$@"
	fi
}

# run RC CMD...: run CMD, stdout in $T/out, stderr in $T/err, want exit RC
run() {
	local want=$1; shift
	limit "$@" >"$T/out" 2>"$T/err"
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

# expect_check DESC RC PATTERN CMD...: --check-tw: exit RC, exactly one
# line on stdout matching PATTERN (a Monitoring Plugins status line)
expect_check() {
	local desc=$1 want=$2 pat=$3; shift 3
	if run "$want" "$@" && [ "$(wc -l <"$T/out")" -eq 1 ] &&
	   grep -qE "$pat" "$T/out"; then
		ok "$desc"
	else
		nok "$desc" "rc=$rc stdout: $(cat "$T/out") stderr: $(cat "$T/err")"
	fi
}

# bad_files PREFIX FN: each recorded file PREFIX*.txt, read by FN, is an
# error naming the file
bad_files() {
	local f

	for f in "$DATA"/"$1"*.txt; do
		expect_err "malformed $(basename "$f") is an error" 1 "$f" \
			"$2" "$(basename "$f")"
	done
}

# json FILE EXPR: evaluate a python expression over d = the parsed JSON
json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}

# every_sample FILE PATTERN: every sample line of a Prometheus text has it
every_sample() {
	[ -s "$1" ] && ! grep -v '^#' "$1" | grep -qv "$2"
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
trans() {
	TCPSTATES_PROC_TRANSITIONS=$DATA/$1 "$BIN" --transitions "${@:2}"
}
# trp FILE ARGS: --transitions --ports over a recorded file
trp() {
	TCPSTATES_PROC_TRANSITIONS_PORTS=$DATA/$1 "$BIN" --transitions --ports \
		"${@:2}"
}
ages() { TCPSTATES_PROC_AGES=$DATA/$1 "$BIN" --ages "${@:2}"; }
cw() {
	TCPSTATES_PROC_CLOSE_WAIT=$DATA/$1 "$BIN" --close-wait "${@:2}"
}
inb() { ip netns exec "$NSB" "$@"; }
export BIN DATA T NSB
export -f module allns ports trans trp ages cw inb every_sample

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
bad_files bad_ module
check "malformed errors say what to do" \
	grep -q "or use --source netlink" "$T/err"
expect_err "a total line that contradicts the state lines is an error" 1 \
	'"total 73 16" contradicts the state lines (sum 72 16)' \
	module bad_total.txt
expect_err "version 2: a total below the state lines' sum is an error" 1 \
	"contradicts the state lines" module bad_total_v2.txt
run 0 module future_v2_state.txt
check "version 2: a total above the sum (a state this reader skips) parses" \
	grep -qE '^Total +74 +16 +90$' "$T/out"
expect_err "scan_restarts without scan_incomplete is an error" 1 \
	'missing "scan_incomplete" line' module bad_restarts_half.txt
run 0 module ok_restarts.txt -j
check "JSON: scan_restarts and scan_incomplete in scan" json "$T/out" \
	'd["scan"] == {"buckets": 65536, "ns": 123456, "restarts": 3,
	 "incomplete": 1}'
run 0 module ok_restarts.txt
check "table: restarts and incomplete buckets in the Source line" grep -qx \
	'Source: module, netns 4026531840, scan 65536 buckets in 123456 ns, 3 chains walked again, 1 buckets incomplete: counts may be off' \
	"$T/out"
run 0 module ok.txt -j
check "JSON: no restarts key from a module without them" json "$T/out" \
	'sorted(d["scan"]) == ["buckets", "ns"]'

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
check "auto source falls back to netlink without the module and bpf" \
	bash -c "TCPSTATES_PROC=$T/none TCPSTATES_NO_BPF=1 '$BIN' |
		 grep -q '^Source: netlink'"

# ---- JSON ----
run 0 module ok.txt -j && cp "$T/out" "$T/ok.json"
check "JSON parses with a real parser" \
	python3 -c 'import json, sys; json.load(sys.stdin)' <"$T/ok.json"
check "JSON is one line" [ "$(wc -l <"$T/ok.json")" -eq 1 ]
check "JSON source, netns and top-level keys" json "$T/ok.json" \
	'd["source"] == "module" and d["netns"] == 4026531840 and
	 sorted(d) == sorted(["time", "source", "netns", "states", "total",
	 "time_wait", "listen_overflows", "listen_drops",
	 "syncookies_sent", "scan"])'
check "JSON time is UTC ISO 8601 with milliseconds, and now" python3 -c '
import datetime, json, re, sys
t = json.load(open(sys.argv[1]))["time"]
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t), t
d = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
now = datetime.datetime.now(datetime.timezone.utc)
assert abs((now - d).total_seconds()) < 60, (t, now)' "$T/ok.json"
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
	'tcpstates_sockets{netns="4026531840",state="time_wait",family="ipv4"} 37' \
	"$GOLDEN/ok.prom"
check "prometheus counter has _total and TYPE counter" \
	grep -qx '# TYPE tcpstates_listen_drops_total counter' "$GOLDEN/ok.prom"
check "prometheus: every sample carries the netns" \
	every_sample "$GOLDEN/ok.prom" '{netns="4026531840"[,}]'
run 0 module ok_restarts.txt -p
check "prometheus: scan_restarts and scan_incomplete gauges" bash -c "
	grep -qx 'tcpstates_scan_restarts{netns=\"4026531840\"} 3' '$T/out' &&
	grep -qx 'tcpstates_scan_incomplete{netns=\"4026531840\"} 1' '$T/out' &&
	promtool check metrics <'$T/out'"

# --label: on every sample, after netns, escaped; promtool agrees
run 0 module ok.txt -p --label site=ams1 --label 'note=a "b" \c'
check "--label on every sample, value escaped" every_sample "$T/out" \
	'{netns="4026531840",site="ams1",note="a \\"b\\" \\\\c"[,}]'
if command -v promtool >/dev/null; then
	check "--label output passes promtool" promtool check metrics <"$T/out"
fi
check "--label: the info metric keeps source" grep -qx \
	'tcpstates_info{netns="4026531840",site="ams1",note="a \\"b\\" \\\\c",source="module"} 1' \
	"$T/out"
for bad in site =x 1site=x bad-key=x __x=1 netns=1 state=x command=x \
	   from=x to=x; do
	expect_err "--label \"$bad\" is a usage error" 2 "label" \
		"$BIN" -p --label "$bad"
done
run 0 module ok.txt -p --label 'k=x=1'
check "--label: a value may contain =" grep -q 'k="x=1"' "$T/out"
expect_err "--label twice with one key" 2 "given twice" \
	"$BIN" -p --label a=1 --label a=2
expect_err "--label without --prometheus" 2 "applies to --prometheus" \
	"$BIN" --label a=1
run 0 ports ports_ok.txt -p --label site=ams1
check "--ports prometheus: netns and --label on every sample" \
	every_sample "$T/out" '{netns="4026531840",site="ams1",direction='

# ---- --all-netns over recorded /proc/tcpstates_all files ----
bad_files all_bad_ allns
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
expect_err "--all-netns without the module, pins or bpf" 1 "module not loaded" \
	env TCPSTATES_PROC_ALL="$T/none" TCPSTATES_BPF_DIR="$T/none" \
	TCPSTATES_NO_BPF=1 "$BIN" --all-netns
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	install -m 0400 "$DATA/all_ok.txt" "$T/all_0400"
	if why=$(nobody_ok); then
		expect_err "--all-netns unprivileged: permission denied" 1 \
			"all_0400: permission denied: needs CAP_NET_ADMIN in the initial namespaces" \
			"${NOBODY[@]}" env TCPSTATES_PROC_ALL="$T/all_0400" \
			"$NOBODY_BIN" --all-netns
	else
		skip "--all-netns unprivileged: permission denied" "$why"
	fi
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
bad_files ports_bad_ ports
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

# ---- --close-wait over recorded /proc/tcpstates_close_wait files ----
bad_files cw_bad_ cw
expect_err "--close-wait: a header without oldest_seconds is named" 1 \
	'cw_bad_no_oldest.txt:3: no "oldest_seconds" column in the header' \
	cw cw_bad_no_oldest.txt
run 0 cw cw_ok.txt
check "--close-wait table (oldest first) matches golden" \
	diff -u "$GOLDEN/cw_ok.table" "$T/out"
run 0 cw cw_future_v2.txt
check "--close-wait: version 2 with a column more parses like v1" \
	diff -u "$GOLDEN/cw_ok.table" "$T/out"
run 0 cw cw_ok.txt --top 2 -H
check "--close-wait --top 2 -H: the two oldest, no header" diff -u - "$T/out" <<-EOF
	out  6379        9    2d04h     190000
	out  3306        5    2h01m       7260
	Source: module, netns 4026531840, 2 of 4 ports with CLOSE_WAIT
	EOF
run 0 cw cw_ok.txt -j
check "--close-wait JSON: every row, oldest first, ages in seconds" \
	json "$T/out" 'd["source"] == "module" and d["netns"] == 4026531840 and
	 d["close_wait"] == [
	 {"direction": "out", "port": 6379, "sockets": 9, "oldest_seconds": 190000},
	 {"direction": "out", "port": 3306, "sockets": 5, "oldest_seconds": 7260},
	 {"direction": "out", "port": 443, "sockets": 2, "oldest_seconds": 95},
	 {"direction": "in", "port": 8080, "sockets": 2, "oldest_seconds": 3}]'
run 0 cw cw_empty.txt -j
check "--close-wait JSON with no CLOSE_WAIT: an empty list" \
	json "$T/out" 'd["close_wait"] == []'
run 0 cw cw_ok.txt -p --label site=ams1
check "--close-wait prometheus matches golden (with a --label)" bash -c "
	sed 's/,site=\"ams1\"//' '$T/out' | diff -u '$GOLDEN/cw_ok.prom' - &&
	every_sample '$T/out' '^tcpstates_close_wait_[a-z_]*{netns=\"4026531840\",site=\"ams1\",direction=\"\(in\|out\)\",port=\"[0-9]*\"} [0-9]*\$'"
if command -v promtool >/dev/null; then
	check "--close-wait prometheus passes promtool" \
		promtool check metrics <"$T/out"
fi
run 0 cw cw_empty.txt -p
check "--close-wait prometheus with no CLOSE_WAIT: the heads alone" \
	[ "$(grep -vc '^#' "$T/out")" = 0 ]
expect_err "--close-wait --source module without the module" 1 \
	"module not loaded (no $T/none).*or use --source netlink" \
	env TCPSTATES_PROC_CLOSE_WAIT="$T/none" "$BIN" --close-wait \
	--source module
expect_err "--close-wait with -s" 2 "CLOSE_WAIT only; drop -s" \
	cw cw_ok.txt -s estab
expect_err "--close-wait with --source pin" 2 \
	"use --source module or netlink" cw cw_ok.txt --source pin
expect_err "--close-wait -4 with the module" 2 "use --source netlink" \
	cw cw_ok.txt -4 --source module
expect_err "--close-wait with --ports" 2 "exclude each other" \
	cw cw_ok.txt --ports

# ---- --transitions over recorded /proc/tcpstates_transitions files ----
bad_files tr_bad_ trans
expect_err "--transitions: a missing pair is named, with its line" 1 \
	'tr_bad_missing_pair.txt:11: want pair "SYN_RECV ESTABLISHED" here, not "SYN_RECV FIN_WAIT1"' \
	trans tr_bad_missing_pair.txt
expect_err "--transitions: the last pair missing" 1 \
	'missing pair "LAST_ACK CLOSE" (the file ends at line 27)' \
	trans tr_bad_missing_last.txt
expect_err "--transitions: pairs out of order" 1 \
	'tr_bad_order.txt:7: want pair "SYN_SENT CLOSE" here, not "CLOSE LISTEN"' \
	trans tr_bad_order.txt
expect_err "--transitions: a lone \"-\"" 1 \
	'tr_bad_lone_dash.txt:14: "-" for one family only' trans tr_bad_lone_dash.txt
expect_err "--transitions: a bad number" 1 \
	'tr_bad_number.txt:4: not a count: "15x0"' trans tr_bad_number.txt
expect_err "--transitions: another format version" 1 \
	"format version 2, this reader reads 1" trans tr_bad_version.txt
run 0 trans tr_ok.txt
check "--transitions table matches golden" \
	diff -u "$GOLDEN/tr_ok.table" "$T/out"
run 0 trans tr_dashes.txt
check "--transitions: \"- -\" pairs print -, never 0" \
	diff -u "$GOLDEN/tr_dashes.table" "$T/out"
run 0 trans tr_ok.txt -H -4 -s time-wait
check "--transitions -H -4 -s: the pairs that reach or leave TIME_WAIT" \
	diff -u - "$T/out" <<-EOF
	FIN_WAIT1    TIME_WAIT            60
	FIN_WAIT2    TIME_WAIT          5980
	CLOSING      TIME_WAIT             4
	TIME_WAIT    CLOSE              6001
	Source: module, netns 4026531840
	EOF
run 0 trans tr_ok.txt -j
check "--transitions JSON matches golden (time aside)" bash -c "
	sed 's/\"time\":\"[^\"]*\"/\"time\":\"T\"/' '$T/out' |
	diff -u '$GOLDEN/tr_ok.json' -"
check "--transitions JSON: 25 pairs in file order, null for - -" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = d["transitions"]
assert d["source"] == "module" and d["netns"] == 4026531840, d
assert len(t) == 25 and t[0] == {"from": "CLOSE", "to": "SYN_SENT",
				 "ipv4": 1520, "ipv6": 310}, t[0]
assert t[-1]["from"] == "LAST_ACK" and t[-1]["to"] == "CLOSE", t[-1]
none = [(p["from"], p["to"]) for p in t if p["ipv4"] is None]
assert none == [("LISTEN", "SYN_RECV"), ("SYN_RECV", "CLOSE")], none
assert all(p["ipv6"] is None for p in t if p["ipv4"] is None)' "$T/out"
run 0 trans tr_dashes.txt -j -6 -s time_wait
check "--transitions JSON -6 -s: that family only, null where not counted" \
	json "$T/out" 'd["transitions"] == [
	 {"from": "FIN_WAIT1", "to": "TIME_WAIT", "ipv6": None},
	 {"from": "FIN_WAIT2", "to": "TIME_WAIT", "ipv6": None},
	 {"from": "CLOSING", "to": "TIME_WAIT", "ipv6": None},
	 {"from": "TIME_WAIT", "to": "CLOSE", "ipv6": None}]'
run 0 trans tr_ok.txt -p
check "--transitions prometheus matches golden" \
	diff -u "$GOLDEN/tr_ok.prom" "$T/out"
if command -v promtool >/dev/null; then
	check "--transitions prometheus passes promtool" \
		promtool check metrics <"$T/out"
fi
check "--transitions prometheus: a counter, - - pairs left out" bash -c "
	grep -qx '# TYPE tcpstates_transitions_total counter' '$T/out' &&
	[ \$(grep -vc '^#' '$T/out') = 46 ] &&
	! grep -q 'from=\"listen\",to=\"syn_recv\"' '$T/out'"
run 0 trans tr_dashes.txt -p --label site=ams1
check "--transitions prometheus: netns and --label on every sample" \
	every_sample "$T/out" '^tcpstates_transitions_total{netns="4026531840",site="ams1",from="[a-z_0-9]*",to="[a-z_0-9]*",family="ipv[46]"} [0-9]*$'
check "--transitions prometheus: no sample for any - - pair" \
	[ "$(grep -vc '^#' "$T/out")" = 36 ]
run 0 trans tr_ok.txt --source module -p -6 -s listen
check "--transitions prometheus -6 -s listen" diff -u - "$T/out" <<-EOF
	# HELP tcpstates_transitions_total TCP connections' moves from state to state since the module loaded or the pin was made; pairs that cannot be counted are left out.
	# TYPE tcpstates_transitions_total counter
	tcpstates_transitions_total{netns="4026531840",from="close",to="listen",family="ipv6"} 4
	tcpstates_transitions_total{netns="4026531840",from="listen",to="close",family="ipv6"} 1
	EOF
# module_only MODE FN FIXTURE ENV: what a mode of the module's file (or
# the pinned one) refuses: another source, a missing file, --top,
# --processes, watching Prometheus.
module_only() {
	local mode=$1 fn=$2 fix=$3 env=$4 src

	for src in netlink bpf; do
		expect_err "--$mode --source $src is refused" 2 \
			"--$mode reads the module's /proc/tcpstates_$mode or the pinned one" \
			"$fn" "$fix" --source "$src"
	done
	expect_err "--$mode without the module" 1 \
		"--$mode needs the module's $T/none (not loaded?)" \
		env "$env=$T/none" "$BIN" "--$mode"
	expect_err "--$mode with --top" 2 "--top needs" "$fn" "$fix" --top 3
	expect_err "--$mode with --processes" 2 "not --$mode" \
		"$fn" "$fix" --processes
	expect_err "--$mode with --watch and --prometheus" 2 "one sample" \
		"$fn" "$fix" -p -w 1
}
module_only transitions trans tr_ok.txt TCPSTATES_PROC_TRANSITIONS
# The pinned file (pin_tr.bpf.c) is the module's grammar; to the reader a
# directory of pins is files and symlinks as pin.c makes them.
# DIR FIXTURE [NAME]: pins of this reader's version, FIXTURE as the file
# NAME (tcpstates_transitions)
trpins() {
	local gen name=${3:-tcpstates_transitions}
	gen="$("$BIN" --version | sed -n 's/^tcpstates \([0-9.]*\) .*/\1/p' | tr . _)-1"
	mkdir -p "$1/$gen"
	cp "$DATA/$2" "$1/$gen/$name"
	ln -sfn "$gen" "$1/current"
	ln -sfn "current/$name" "$1/$name"
}
# tr_cut: JSON but its time and source
tr_cut() { sed 's/"time":"[^"]*"//; s/"source":"[a-z]*"//'; }
trpins "$T/trpins" tr_dashes.txt
trans tr_dashes.txt -j | tr_cut >"$T/tr_mod.cut"
run 0 env TCPSTATES_PROC_TRANSITIONS="$T/none" TCPSTATES_BPF_DIR="$T/trpins" \
	"$BIN" --transitions -j
check "--transitions without the module: the pinned file, source pin" \
	eval "grep -q '\"source\":\"pin\"' '$T/out' && [ ! -s '$T/err' ] &&
	      tr_cut <'$T/out' | cmp -s - '$T/tr_mod.cut'"
run 0 env TCPSTATES_PROC_TRANSITIONS="$DATA/tr_ok.txt" \
	TCPSTATES_BPF_DIR="$T/trpins" "$BIN" --transitions --source pin -j
check "--transitions --source pin: the pinned file, with the module's there" \
	eval "grep -q '\"source\":\"pin\"' '$T/out' &&
	      tr_cut <'$T/out' | cmp -s - '$T/tr_mod.cut'"
expect_err "--transitions --source pin, nothing pinned" 1 \
	"tcpstates_transitions: not pinned: run tcpstates pin, or use --source module" \
	env TCPSTATES_BPF_DIR="$T/nopins" "$BIN" --transitions --source pin
expect_err "--transitions, no module, nothing pinned" 1 \
	"not loaded?): insmod a tcpstates.ko that has it, or run tcpstates pin" \
	env TCPSTATES_PROC_TRANSITIONS="$T/none" TCPSTATES_BPF_DIR="$T/nopins" \
	"$BIN" --transitions
expect_err "--transitions with --ports and --all-netns" 2 \
	"exclude each other" trans tr_ok.txt --ports --all-netns
# Watch: the file is replaced between two samples, 0.6 s apart.
cp "$DATA/tr_ok.txt" "$T/tr_live.txt"
TCPSTATES_PROC_TRANSITIONS=$T/tr_live.txt "$BIN" --transitions -c 2 -w 0.6 \
	-s syn-sent >"$T/trwatch" &
wpid=$!
TCPSTATES_PROC_TRANSITIONS=$T/tr_live.txt "$BIN" --transitions -j -c 2 \
	-w 0.6 >"$T/trwatch.json" &
jpid=$!
sleep 0.3
cp "$DATA/tr_later.txt" "$T/tr_live.tmp" && mv "$T/tr_live.tmp" "$T/tr_live.txt"
wait $wpid $jpid
check "--transitions watch: no rates on the first sample" grep -qE \
	'^CLOSE +SYN_SENT +1520 +310 +1830 +- +-$' "$T/trwatch"
check "--transitions watch: moves per second on the second" grep -qE \
	'^CLOSE +SYN_SENT +1550 +316 +1866 +([2-5][0-9])\.[0-9] +([4-9]|1[01])\.[0-9]$' \
	"$T/trwatch"
check "--transitions watch: two timestamped tables, rate columns" bash -c "
	[ \$(grep -c '^Time: ' '$T/trwatch') = 2 ] &&
	[ \$(grep -cE '^From +To +IPv4 +IPv6 +Total +IPv4/s +IPv6/s\$' '$T/trwatch') = 2 ]"
check "--transitions watch JSON: interval and rates from the second sample" \
	python3 -c '
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert "interval" not in a and all("rates" not in p for p in a["transitions"])
assert 0.5 < b["interval"] < 1.5, b["interval"]
r = {(p["from"], p["to"]): p["rates"] for p in b["transitions"]}
assert abs(r["TIME_WAIT", "CLOSE"]["ipv4"] * b["interval"] - 60) < 0.5, r
assert abs(r["TIME_WAIT", "CLOSE"]["ipv6"] * b["interval"] - 12) < 0.5, r
assert r["SYN_RECV", "ESTABLISHED"]["ipv6"] == 0, r
assert r["LISTEN", "SYN_RECV"] == {"ipv4": None, "ipv6": None}, r' \
	"$T/trwatch.json"

# ---- --transitions --ports over recorded _transitions_ports files ----
bad_files trp_bad_ trp
expect_err "--transitions --ports: the wrong first line" 1 \
	"trp_bad_first_line.txt: not a tcpstates_transitions_ports file" \
	trp trp_bad_first_line.txt
expect_err "--transitions --ports: a row out of order" 1 \
	'trp_bad_order.txt:5: row "in 80" after "in 443": want the in rows, then the out rows, each by ascending port' \
	trp trp_bad_order.txt
expect_err "--transitions --ports: an in row after the out rows" 1 \
	'trp_bad_out_first.txt:5: row "in 80" after "out 53"' \
	trp trp_bad_out_first.txt
expect_err "--transitions --ports: a row twice" 1 \
	'trp_bad_duplicate.txt:5: row "in 80" after "in 80"' \
	trp trp_bad_duplicate.txt
expect_err "--transitions --ports: not a number" 1 \
	'trp_bad_number.txt:4: not a count: "12x"' trp trp_bad_number.txt
expect_err "--transitions --ports: no other row" 1 \
	'trp_bad_no_other.txt: no "other -" row (the file ends at line 5)' \
	trp trp_bad_no_other.txt
expect_err "--transitions --ports: a row after the other row" 1 \
	'trp_bad_after_other.txt:6: a row after the "other -" row' \
	trp trp_bad_after_other.txt
expect_err "--transitions --ports: \"-\" in some rows of a column" 1 \
	'trp_bad_lone_dash.txt:5: "-" in some rows of a column only' \
	trp trp_bad_lone_dash.txt
expect_err "--transitions --ports: 128 port rows" 1 \
	'trp_bad_too_many.txt:131: more than 127 port rows' \
	trp trp_bad_too_many.txt
expect_err "--transitions --ports: another format version" 1 \
	"format version 2, this reader reads 1" trp trp_bad_version.txt
run 0 trp trp_full.txt -H
check "--transitions --ports: 127 port rows and other parse" bash -c "
	[ \$(wc -l <'$T/out') = 129 ] &&
	grep -qE '^other +- +5 +0 +0\$' '$T/out'"
run 0 trp trp_ok.txt
check "--transitions --ports table matches golden" \
	diff -u "$GOLDEN/trp_ok.table" "$T/out"
run 0 env TCPSTATES_PROC_TRANSITIONS_PORTS="$DATA/trp_ok.txt" "$BIN" \
	--ports --transitions --source module
check "--ports --transitions, either order, --source module: the same" \
	diff -u "$GOLDEN/trp_ok.table" "$T/out"
run 0 trp trp_dashes.txt
check "--transitions --ports: a \"-\" column prints -, never 0" \
	diff -u "$GOLDEN/trp_dashes.table" "$T/out"
run 0 trp trp_empty.txt -H
check "--transitions --ports: no port row, the other row still" \
	diff -u - "$T/out" <<-EOF
	other     -          0          0          0
	Source: module, netns 4026531840, 0 of 0 groups
	EOF
run 0 trp trp_ok.txt --top 2 -s close-wait,time-wait
check "--transitions --ports --top 2 -s: the largest totals, other last" \
	diff -u - "$T/out" <<-EOF
	DIR    PORT CLOSE_WAIT  TIME_WAIT
	in      443         25         60
	out      53          0          7
	other     -          0          2
	Source: module, netns 4026531840, 2 of 5 groups
	EOF
run 0 trp trp_ok.txt -j
check "--transitions --ports JSON: rows in file order, other last" \
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["ports"]
assert d["source"] == "module" and d["netns"] == 4026531840, d
assert [(r["direction"], r["port"]) for r in p] == [("in", 22), ("in", 80),
	("in", 443), ("out", 53), ("out", 3306), ("other", None)], p
assert p[1] == {"direction": "in", "port": 80, "SYN_RECV": 12,
		"CLOSE_WAIT": 0, "TIME_WAIT": 3}, p[1]
assert p[-1] == {"direction": "other", "port": None, "SYN_RECV": 0,
		 "CLOSE_WAIT": 0, "TIME_WAIT": 2}, p[-1]' "$T/out"
run 0 trp trp_dashes.txt -j -s close-wait,syn-recv
check "--transitions --ports JSON: null for a \"-\" column, -s columns" \
	json "$T/out" 'd["ports"] == [
	 {"direction": "in", "port": 80, "SYN_RECV": 12, "CLOSE_WAIT": None},
	 {"direction": "out", "port": 3306, "SYN_RECV": 0, "CLOSE_WAIT": None},
	 {"direction": "other", "port": None, "SYN_RECV": 0,
	  "CLOSE_WAIT": None}]'
run 0 trp trp_ok.txt -p
check "--transitions --ports prometheus matches golden" \
	diff -u "$GOLDEN/trp_ok.prom" "$T/out"
if command -v promtool >/dev/null; then
	check "--transitions --ports prometheus passes promtool" \
		promtool check metrics <"$T/out"
fi
check "--transitions --ports prometheus: a counter, 18 samples" bash -c "
	grep -qx '# TYPE tcpstates_port_transitions_total counter' '$T/out' &&
	[ \$(grep -vc '^#' '$T/out') = 18 ] &&
	grep -qx 'tcpstates_port_transitions_total{netns=\"4026531840\",direction=\"in\",port=\"80\",to=\"close_wait\"} 0' '$T/out' &&
	! grep -q tcpstates_info '$T/out'"
run 0 trp trp_dashes.txt -p --label site=ams1
check "--transitions --ports prometheus: netns and --label on every sample" \
	every_sample "$T/out" '^tcpstates_port_transitions_total{netns="4026531840",site="ams1",direction="\(in\|out\|other\)",port="[0-9]*",to="\(syn_recv\|time_wait\)"} [0-9]*$'
check "--transitions --ports prometheus: no sample of a \"-\" column, other's port \"\"" \
	bash -c "[ \$(grep -vc '^#' '$T/out') = 6 ] &&
	grep -qx 'tcpstates_port_transitions_total{netns=\"4026531840\",site=\"ams1\",direction=\"other\",port=\"\",to=\"time_wait\"} 1' '$T/out'"
for src in netlink bpf; do
	expect_err "--transitions --ports --source $src is refused" 2 \
		"--transitions --ports reads the module's /proc/tcpstates_transitions_ports or the pinned one; no sock_diag equivalent: use --source module or pin" \
		trp trp_ok.txt --source "$src"
done
expect_err "--transitions --ports without the module, nothing pinned" 1 \
	"--transitions --ports needs the module's $T/none (not loaded?): insmod a tcpstates.ko that has it, or run tcpstates pin on a kernel that takes fentry programs" \
	env TCPSTATES_PROC_TRANSITIONS_PORTS="$T/none" \
	TCPSTATES_BPF_DIR="$T/nopins" "$BIN" --transitions --ports
# The pinned by-port file (pin_trports.bpf.h) is the module's grammar.
trpins "$T/trppins" trp_ok.txt tcpstates_transitions_ports
trp trp_ok.txt -j | tr_cut >"$T/trp_mod.cut"
run 0 env TCPSTATES_PROC_TRANSITIONS_PORTS="$T/none" \
	TCPSTATES_BPF_DIR="$T/trppins" "$BIN" --transitions --ports -j
check "--transitions --ports without the module: the pinned file, source pin" \
	eval "grep -q '\"source\":\"pin\"' '$T/out' && [ ! -s '$T/err' ] &&
	      tr_cut <'$T/out' | cmp -s - '$T/trp_mod.cut'"
run 0 env TCPSTATES_BPF_DIR="$T/trppins" "$BIN" --transitions --ports \
	--source pin -j
check "--transitions --ports --source pin: the pinned file, with the module's there" \
	eval "grep -q '\"source\":\"pin\"' '$T/out' &&
	      tr_cut <'$T/out' | cmp -s - '$T/trp_mod.cut'"
expect_err "--transitions --ports --source pin, nothing pinned" 1 \
	"tcpstates_transitions_ports: not pinned: run tcpstates pin, or use --source module" \
	env TCPSTATES_BPF_DIR="$T/nopins" "$BIN" --transitions --ports \
	--source pin
expect_err "--transitions --ports -4" 2 "drop -4/-6" trp trp_ok.txt -4
expect_err "--transitions --ports --processes" 2 "not --transitions --ports" \
	trp trp_ok.txt --processes
expect_err "--transitions --ports -s of none of its states" 2 \
	"-s names none of them" trp trp_ok.txt -s estab
expect_err "--transitions --ports with --ages" 2 "exclude each other" \
	trp trp_ok.txt --ages
expect_err "--transitions --ports with --watch and --prometheus" 2 \
	"one sample" trp trp_ok.txt -p -w 1
# Watch: the file is replaced between two samples, 0.6 s apart; a row
# (out 6379) appears in the second.
cp "$DATA/trp_ok.txt" "$T/trp_live.txt"
TCPSTATES_PROC_TRANSITIONS_PORTS=$T/trp_live.txt "$BIN" --transitions \
	--ports -c 2 -w 0.6 >"$T/trpwatch" &
wpid=$!
TCPSTATES_PROC_TRANSITIONS_PORTS=$T/trp_live.txt "$BIN" --transitions \
	--ports -j -c 2 -w 0.6 >"$T/trpwatch.json" &
jpid=$!
sleep 0.3
cp "$DATA/trp_later.txt" "$T/trp_live.tmp" &&
	mv "$T/trp_live.tmp" "$T/trp_live.txt"
wait $wpid $jpid
check "--transitions --ports watch: no rates on the first sample" grep -qE \
	'^in +443 +900 +25 +60 +- +- +-$' "$T/trpwatch"
check "--transitions --ports watch: entries per second on the second" \
	grep -qE '^in +443 +960 +31 +60 +([5-9][0-9]|1[01][0-9])\.[0-9] +([4-9]|1[01])\.[0-9] +0\.0$' \
	"$T/trpwatch"
check "--transitions --ports watch: two timestamped tables, rate columns" \
	bash -c "[ \$(grep -c '^Time: ' '$T/trpwatch') = 2 ] &&
	[ \$(grep -cE '^DIR +PORT +SYN_RECV +CLOSE_WAIT +TIME_WAIT +SYN_RECV/s +CLOSE_WAIT/s +TIME_WAIT/s\$' '$T/trpwatch') = 2 ]"
check "--transitions --ports watch JSON: rates, a new row's from 0" \
	python3 -c '
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert "interval" not in a and all("rates" not in r for r in a["ports"])
i = b["interval"]
assert 0.5 < i < 1.5, i
r = {(p["direction"], p["port"]): p["rates"] for p in b["ports"]}
assert abs(r["in", 443]["SYN_RECV"] * i - 60) < 0.5, r
assert abs(r["out", 6379]["CLOSE_WAIT"] * i - 6) < 0.5, r
assert r["other", None] == {"SYN_RECV": 0, "CLOSE_WAIT": 0,
			    "TIME_WAIT": 0}, r' "$T/trpwatch.json"

# ---- --ages over recorded /proc/tcpstates_ages files ----
bad_files ages_bad_ ages
expect_err "--ages: a missing state is named, with its line" 1 \
	'ages_bad_missing_state.txt:6: want state "SYN_RECV" here, not "FIN_WAIT1"' \
	ages ages_bad_missing_state.txt
expect_err "--ages: the last state missing" 1 \
	'missing state "CLOSING" (the file ends at line 13)' \
	ages ages_bad_missing_last.txt
expect_err "--ages: states out of order" 1 \
	'ages_bad_order.txt:8: want state "FIN_WAIT2" here, not "TIME_WAIT"' \
	ages ages_bad_order.txt
expect_err "--ages: a column short" 1 \
	'ages_bad_few_fields.txt:7: wrong number of fields: want 8' \
	ages ages_bad_few_fields.txt
expect_err "--ages: other columns" 1 \
	'ages_bad_columns.txt:3: want the column header "state <1s <10s <1m <10m <1h <1d >=1d"' \
	ages ages_bad_columns.txt
expect_err "--ages: \"-\" in some columns only" 1 \
	'ages_bad_lone_dash.txt:13: "-" in some columns only' \
	ages ages_bad_lone_dash.txt
expect_err "--ages: a bad number" 1 'ages_bad_number.txt:11: not a count: "4x"' \
	ages ages_bad_number.txt
expect_err "--ages: another format version" 1 \
	"format version 2, this reader reads 1" ages ages_bad_version.txt
run 0 ages ages_ok.txt
check "--ages table matches golden" diff -u "$GOLDEN/ages_ok.table" "$T/out"
run 0 ages ages_dashes.txt
check "--ages: a row of \"-\" prints -, never 0" \
	diff -u "$GOLDEN/ages_dashes.table" "$T/out"
run 0 ages ages_ok.txt -H -s close-wait,listen
check "--ages -H -s: those states only, LISTEN as -" diff -u - "$T/out" <<-EOF
	CLOSE_WAIT         0       2       1       4       6       5       2      20
	LISTEN             -       -       -       -       -       -       -       -
	Source: module, netns 4026531840
	EOF
run 0 ages ages_ok.txt -j
check "--ages JSON matches golden (time aside)" bash -c "
	sed 's/\"time\":\"[^\"]*\"/\"time\":\"T\"/' '$T/out' |
	diff -u '$GOLDEN/ages_ok.json' -"
check "--ages JSON: 11 states in file order, LISTEN null, totals" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
a = d["ages"]
keys = ["lt_1s", "lt_10s", "lt_1m", "lt_10m", "lt_1h", "lt_1d", "ge_1d"]
assert d["source"] == "module" and d["netns"] == 4026531840, d
assert list(a)[0] == "ESTABLISHED" and list(a)[-1] == "CLOSING", list(a)
assert len(a) == 11 and a["LISTEN"] is None, a
cw = a["CLOSE_WAIT"]
assert [cw[k] for k in keys] == [0, 2, 1, 4, 6, 5, 2], cw
assert all(sum(v[k] for k in keys) == v["total"] for v in a.values() if v)' \
	"$T/out"
run 0 ages ages_dashes.txt -j -s syn-sent,close-wait
check "--ages JSON -s: those states only, null for a row of -" \
	json "$T/out" 'd["ages"] == {"SYN_SENT": None, "CLOSE_WAIT": {
	 "lt_1s": 0, "lt_10s": 2, "lt_1m": 1, "lt_10m": 4, "lt_1h": 6,
	 "lt_1d": 5, "ge_1d": 2, "total": 20}}'
run 0 ages ages_ok.txt -p
check "--ages prometheus matches golden" diff -u "$GOLDEN/ages_ok.prom" "$T/out"
if command -v promtool >/dev/null; then
	check "--ages prometheus passes promtool check metrics" \
		promtool check metrics <"$T/out"
fi
check "--ages prometheus: a gauge, 7 thresholds an aged state, LISTEN left out" \
	bash -c "
	grep -qx '# TYPE tcpstates_sockets_aged gauge' '$T/out' &&
	[ \$(grep -vc '^#' '$T/out') = 70 ] &&
	! grep -q 'state=\"listen\"' '$T/out'"
check "--ages prometheus: 7 CLOSE_WAIT past an hour, 20 in all" \
	bash -c "
	grep -qx 'tcpstates_sockets_aged{netns=\"4026531840\",state=\"close_wait\",min_age_seconds=\"3600\"} 7' '$T/out' &&
	grep -qx 'tcpstates_sockets_aged{netns=\"4026531840\",state=\"close_wait\",min_age_seconds=\"0\"} 20' '$T/out'"
run 0 ages ages_dashes.txt -p --label site=ams1 -s connected
check "--ages prometheus: netns and --label on every sample, in age order" \
	every_sample "$T/out" '^tcpstates_sockets_aged{netns="4026531840",site="ams1",state="[a-z_0-9]*",min_age_seconds="\(0\|1\|10\|60\|600\|3600\|86400\)"} [0-9]*$'
check "--ages prometheus -s: the shown states with an age only" bash -c "
	[ \$(grep -vc '^#' '$T/out') = 56 ] &&
	! grep -q 'state=\"syn_sent\"' '$T/out'"
expect_err "--ages: --label min_age_seconds is the reader's own" 2 \
	"\"min_age_seconds\" is a label tcpstates sets itself" ages ages_ok.txt -p --label min_age_seconds=1
expect_err "--ages --source bpf is refused" 2 \
	"--ages reads the module's /proc/tcpstates_ages, the pinned one (tcpstates pin) or sock_diag; use --source module, pin or netlink" \
	ages ages_ok.txt --source bpf
# The pinned file (pin_ages.bpf.c) is the module's grammar.
trpins "$T/agepins" ages_ok.txt tcpstates_ages
ages ages_ok.txt -j | tr_cut >"$T/ages_mod.cut"
run 0 env TCPSTATES_PROC_AGES="$T/none" TCPSTATES_BPF_DIR="$T/agepins" \
	"$BIN" --ages -j
check "--ages without the module: the pinned file, source pin" \
	eval "grep -q '\"source\":\"pin\"' '$T/out' && [ ! -s '$T/err' ] &&
	      tr_cut <'$T/out' | cmp -s - '$T/ages_mod.cut'"
run 0 env TCPSTATES_PROC_AGES="$DATA/ages_dashes.txt" \
	TCPSTATES_BPF_DIR="$T/agepins" "$BIN" --ages --source pin -j
check "--ages --source pin: the pinned file, with the module's there" \
	eval "grep -q '\"source\":\"pin\"' '$T/out' &&
	      tr_cut <'$T/out' | cmp -s - '$T/ages_mod.cut'"
expect_err "--ages --source pin, nothing pinned" 1 \
	"tcpstates_ages: not pinned: run tcpstates pin, or use --source netlink" \
	env TCPSTATES_BPF_DIR="$T/nopins" "$BIN" --ages --source pin
expect_err "--ages --source module without the module" 1 \
	"--ages needs the module's $T/none (not loaded?)" \
	env TCPSTATES_PROC_AGES="$T/none" "$BIN" --ages --source module
expect_err "--ages with --top" 2 "--top needs" ages ages_ok.txt --top 3
expect_err "--ages with --processes" 2 "not --ages" \
	ages ages_ok.txt --processes
expect_err "--ages with --watch and --prometheus" 2 "one sample" \
	ages ages_ok.txt -p -w 1
expect_err "--ages with --transitions" 2 "exclude each other" \
	ages ages_ok.txt --transitions
expect_err "--ages with -4" 2 "counts IPv4 and IPv6 together" \
	ages ages_ok.txt -4
expect_err "--ages with --set" 2 "do not go with" \
	ages ages_ok.txt --set tw_reuse=1
# Watch: the file is replaced between two samples, 0.6 s apart.
cp "$DATA/ages_ok.txt" "$T/ages_live.txt"
TCPSTATES_PROC_AGES=$T/ages_live.txt "$BIN" --ages -c 2 -w 0.6 \
	-s estab >"$T/agewatch" &
wpid=$!
TCPSTATES_PROC_AGES=$T/ages_live.txt "$BIN" --ages -j -c 2 -w 0.6 \
	>"$T/agewatch.json" &
jpid=$!
sleep 0.3
cp "$DATA/ages_later.txt" "$T/ages_live.tmp" &&
	mv "$T/ages_live.tmp" "$T/ages_live.txt"
wait $wpid $jpid
check "--ages watch: two timestamped tables, each read anew" bash -c "
	[ \$(grep -c '^Time: ' '$T/agewatch') = 2 ] &&
	[ \$(grep -c '^State  *<1s ' '$T/agewatch') = 2 ] &&
	grep -qE '^ESTABLISHED +40 +25 ' '$T/agewatch' &&
	grep -qE '^ESTABLISHED +38 +27 ' '$T/agewatch'"
check "--ages watch JSON: a timed object per sample" python3 -c '
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert a["time"] < b["time"], (a["time"], b["time"])
assert a["ages"]["CLOSE_WAIT"]["lt_10s"] == 2, a
assert b["ages"]["CLOSE_WAIT"]["lt_10s"] == 0, b' "$T/agewatch.json"

# ---- usage errors (exit 2) and runtime errors (exit 1) ----
expect_err "--all-netns with --ports" 2 "exclude" "$BIN" --all-netns --ports
expect_err "--top without a table" 2 "needs --ports" "$BIN" --top 3
expect_err "bad --top" 2 "top" "$BIN" --ports --top 0
expect_err "--prometheus with --watch" 2 "one sample" "$BIN" -p -w 1
expect_err "--all-netns with --source netlink" 2 "needs the module" \
	"$BIN" --all-netns --source netlink
expect_err "--all-netns with --netns" 2 "drop --netns" \
	"$BIN" --all-netns -n foo
expect_err "unknown short option" 2 "unknown option" "$BIN" -x
expect_err "unknown long option" 2 "unknown option" "$BIN" --bogus
expect_err "missing argument" 2 "needs an argument" "$BIN" --state
expect_err "bad --state" 2 "unknown state" "$BIN" --state estab,nosuch
expect_err "bad --source" 2 "unknown source" "$BIN" --source ipv9
expect_err "bad --watch" 2 "watch" "$BIN" -w 0
expect_err "--watch below 0.1 s (-w 1e-9 busy-looped)" 2 \
	"interval must be at least 0.1 s" "$BIN" -w 1e-9
expect_err "--watch 0.05" 2 "at least 0.1" "$BIN" -w 0.05
expect_err "--netns-pid of a non-number" 2 "want a process ID" "$BIN" -N 12ab
expect_err "--netns-pid 0" 2 "want a process ID" "$BIN" --netns-pid 0
expect_err "--netns and --netns-pid together" 2 "give one namespace" \
	"$BIN" -n foo -N 1
expect_err "--netns-pid of a process that does not exist" 1 \
	"--netns-pid 999999999: /proc/999999999/ns/net: No such file" \
	"$BIN" -N 999999999
expect_err "--processes with --prometheus" 2 "table or JSON" \
	"$BIN" --processes -p
expect_err "--processes with --all-netns" 2 "not --all-netns" \
	"$BIN" --processes --all-netns
expect_err "-4 with --all-netns" 2 "drop -4/-6" "$BIN" --all-netns -4
expect_err "-6 with the module's --ports" 2 "use --source netlink" \
	"$BIN" --ports -6 --source module
expect_err "--set with --json" 2 "one line" "$BIN" --set tw_reuse=1 -j
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

# ---- --check-tw: a Monitoring Plugins check ----
PERF="'time_wait'=42;209715;;0;262144 'tw_overflow'=7c"
expect_check "--check-tw 80: OK, exit 0, one line with perfdata" 0 \
	"^TIME_WAIT OK - 42 of limit 262144 \(0\.0%\); warning above 80% \| $PERF\$" \
	module ok.txt --check-tw 80
expect_check "--check-tw 80,90: OK names both thresholds, perfdata W;C" 0 \
	"^TIME_WAIT OK - .*warning above 80%, critical above 90% \| 'time_wait'=42;209715;235929;0;262144 " \
	module ok.txt --check-tw 80,90
expect_check "--check-tw 80 with 90% used: WARNING, exit 1" 1 \
	"^TIME_WAIT WARNING - 900 of limit 1000 \(90\.0%\); warning above 80% \| 'time_wait'=900;800;;0;1000 'tw_overflow'=" \
	module tw_900_of_1000.txt --check-tw 80
expect_check "--check-tw 80,95 with 90%: WARNING, exit 1" 1 \
	"^TIME_WAIT WARNING - .* \| 'time_wait'=900;800;950;0;1000 " \
	module tw_900_of_1000.txt --check-tw 80,95
expect_check "--check-tw 80%,85% with 90%: CRITICAL, exit 2" 2 \
	"^TIME_WAIT CRITICAL - 900 of limit 1000 .*critical above 85% \| 'time_wait'=900;800;850;0;1000 " \
	module tw_900_of_1000.txt --check-tw 80%,85%
expect_check "--check-tw 90,95: exactly at a threshold is not above it" 0 \
	"^TIME_WAIT OK - 900 " module tw_900_of_1000.txt --check-tw 90,95
expect_check "--check-tw 50,90, limit 0 and no TIME_WAIT: OK" 0 \
	"^TIME_WAIT OK - 0 of limit 0 \(limit 0: no TIME_WAIT sockets allowed\)" \
	module tw_0_of_0.txt --check-tw 50,90
expect_check "--check-tw 50,90, limit 0 with TIME_WAIT: CRITICAL" 2 \
	"^TIME_WAIT CRITICAL - 2 of limit 0 " module tw_2_of_0.txt --check-tw 50,90
expect_check "--check-tw on a malformed file: UNKNOWN, exit 3" 3 \
	"^TIME_WAIT UNKNOWN - .*bad_nonnumeric.txt:4: non-numeric value" \
	module bad_nonnumeric.txt --check-tw 50
check "--check-tw UNKNOWN still says why on stderr" \
	grep -q "^tcpstates: .*non-numeric value" "$T/err"
expect_check "--check-tw without the module: UNKNOWN, exit 3" 3 \
	"^TIME_WAIT UNKNOWN - module not loaded" \
	env TCPSTATES_PROC="$T/none" "$BIN" --source module --check-tw 80
expect_check "--check-tw in a missing netns: UNKNOWN, exit 3" 3 \
	"^TIME_WAIT UNKNOWN - --netns .*No such file" \
	"$BIN" --check-tw 80 -n "$T/none"
for bad in lots 101 80,101 -5 '80,' ,90 90,80 '' 80,90,95; do
	expect_check "--check-tw \"$bad\": usage error is UNKNOWN, exit 3" 3 \
		"^TIME_WAIT UNKNOWN - --check-tw" "$BIN" --check-tw "$bad"
done
expect_check "--check-tw with a usage error before it: UNKNOWN, exit 3" 3 \
	"^TIME_WAIT UNKNOWN - unknown option" "$BIN" --bogus --check-tw 80
expect_check "--check-tw with --json: UNKNOWN, exit 3" 3 \
	"^TIME_WAIT UNKNOWN - .*one line" "$BIN" --check-tw 80 -j
expect_check "--check-tw with -4: UNKNOWN, exit 3" 3 \
	"^TIME_WAIT UNKNOWN - .*drop -4/-6" "$BIN" --check-tw 80 -4
expect_check "--check-tw from netlink" 0 "^TIME_WAIT OK - " \
	"$BIN" --source netlink --check-tw 100

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
check "watch: a timestamp line on each table sample" bash -c "
	[ \$(grep -cE '^Time: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}\\+00:00\$' '$T/watch') = 2 ]"
check "watch: per-second rates of the counters from the second sample" \
	bash -c "grep -q '^Overflows: tw_overflow 7, listen_overflows 11,' '$T/watch' &&
	 grep -qE '^Overflows: tw_overflow 12 \\([0-9]+\\.[0-9]/s\\), listen_overflows 11 \\(0\\.0/s\\), listen_drops 13 \\(0\\.0/s\\), syncookies_sent 2 \\(0\\.0/s\\)\$' '$T/watch'"
check "watch JSON: a time on each sample, rates per second" python3 -c '
import datetime, json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
ta, tb = (datetime.datetime.fromisoformat(x["time"].replace("Z", "+00:00"))
	  for x in (a, b))
assert 0.5 < (tb - ta).total_seconds() < 0.8, (ta, tb)
assert "rates" not in a and "interval" not in a
assert 0.5 < b["interval"] < 1.5, b["interval"]
r = b["rates"]
assert sorted(r) == ["listen_drops", "listen_overflows", "syncookies_sent",
		     "tw_overflow"], r
assert abs(r["tw_overflow"] * b["interval"] - 5) < 0.05, r
assert r["listen_drops"] == 0, r' "$T/watch.json"

# Fixed rate: each sample waits 0.08 s for a slow writer; sample i must
# still come at start + i * 0.2 s (the old sleep-after-sample drifted).
# The writer lets the reader close the FIFO before opening it again.
mkfifo "$T/slow"
(for _ in 1 2 3 4 5 6 7 8; do
	exec 3>"$T/slow"; sleep 0.08; cat "$DATA/ok.txt" >&3; exec 3>&-
	sleep 0.05
done) &
slow=$!
run 0 env TCPSTATES_PROC="$T/slow" "$BIN" --source module -j -w 0.2 -c 8
kill $slow 2>/dev/null
wait $slow 2>/dev/null
check "watch: fixed rate, no drift when samples are slow" python3 -c '
import datetime, json, sys
t = [datetime.datetime.fromisoformat(json.loads(l)["time"].replace("Z",
     "+00:00")).timestamp() for l in open(sys.argv[1])]
assert len(t) == 8, t
# Drift would make every later sample 0.08 s later than the one before
# (the last four at least 0.32 s behind the first four); a busy machine
# only delays a sample now and then, the first one too (then the others
# come early against it).
off = [t[i] - t[0] - 0.2 * i for i in range(8)]
assert min(off[4:]) - min(off[:4]) < 0.2, off' "$T/out"
run 0 "$BIN" --source netlink -w 0.1 -c 2
check "watch: 0.1 s is the shortest interval" [ "$(grep -c '^Time: ' "$T/out")" = 2 ]

# --ports and --all-netns repeat too, each table with its time
run 0 ports ports_ok.txt -w 0.1 -c 2 -s close-wait --top 1
check "--ports in watch mode: two timestamped tables" bash -c "
	[ \$(grep -c '^Time: ' '$T/out') = 2 ] &&
	[ \$(grep -c '^out  6379          9        9\$' '$T/out') = 2 ]"
run 0 ports ports_ok.txt -w 0.1 -c 2 -j
check "--ports -j in watch mode: one object per sample, with time" python3 -c '
import json, sys
a, b = [json.loads(l) for l in open(sys.argv[1])]
assert a["time"] < b["time"] and len(a["ports"]) == 6' "$T/out"
run 0 allns all_ok.txt -w 0.1 -c 2 -H
check "--all-netns in watch mode" \
	[ "$(grep -c '^Source: module, 4 of 4 namespaces$' "$T/out")" = 2 ]

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
		TCPSTATES_NO_BPF=1 "$2" --ports -j >"$3/ports.json"
		"$2" --ports -4 -j >"$3/ports4.json"
		"$2" --ports -6 -j >"$3/ports6.json"
		"$2" -4 -j >"$3/nl4.json"
		"$2" -6 >"$3/nl6.table"
		sleep 1.2	# the CLOSE_WAIT sockets a second old at least
		"$2" --close-wait -j >"$3/cw.json"
		ss -tinoOH state close-wait >"$3/ss_cw"
		"$2" --close-wait -4 -j >"$3/cw4.json"
		TCPSTATES_PROC_AGES=/nonexistent "$2" --ages -j >"$3/ages.json"
		"$2" --source netlink -j >"$3/nl_after.json"
		for set in all connected synchronized bucket big listening \
			   closed established syn-rcv; do
			"$2" -j -s $set >"$3/set_$set.json"
			ss -H -tan state $set | wc -l >"$3/ss_$set"
		done
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

	check "--close-wait from netlink: the in ports of the CLOSE_WAIT pairs, their ages as ss -tio's lastrcv" \
		python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1] + "/cw.json"))
assert d["source"] == "netlink", d
old = {}
for line in open(sys.argv[1] + "/ss_cw"):
	port = int(line.split()[2].rsplit(":", 1)[1])
	ms = int(re.search(r"lastrcv:(\d+)", line).group(1))
	n, o = old.get(port, (0, 0))
	old[port] = (n + 1, max(o, ms // 1000))
got = {r["port"]: (r["sockets"], r["oldest_seconds"]) for r in d["close_wait"]}
assert all(r["direction"] == "in" for r in d["close_wait"]), d
assert {p: n for p, (n, _) in got.items()} == {5000: 1, 6000: 2}, got
assert {p: n for p, (n, _) in old.items()} == {5000: 1, 6000: 2}, old
assert all(abs(got[p][1] - old[p][1]) <= 1 and got[p][1] >= 1
	   for p in got), (got, old)' "$T"
	check "--ages from netlink (auto without the module): each state's sockets, SYN_SENT/SYN_RECV not aged" \
		python3 -c '
import json, sys
a = json.load(open(sys.argv[1] + "/ages.json"))
n = json.load(open(sys.argv[1] + "/nl_after.json"))
assert a["source"] == "netlink" and a["netns"] == n["netns"], a
ages = a["ages"]
assert ages["LISTEN"] is None and ages["SYN_SENT"] is None and ages["SYN_RECV"] is None, ages
for st, v in n["states"].items():
	if ages[st] is not None:
		assert ages[st]["total"] == v["total"], (st, ages[st], v)
# made in the last seconds; TIME_WAIT by its timer, so under a minute
young = lambda st, col: sum(ages[st][c] for c in ("lt_1s", "lt_10s", "lt_1m")[:col])
for st in ("ESTABLISHED", "FIN_WAIT2", "CLOSE_WAIT"):
	assert young(st, 2) == ages[st]["total"] > 0, (st, ages[st])
assert young("TIME_WAIT", 3) == ages["TIME_WAIT"]["total"] == 5, ages
# the CLOSE_WAIT sockets were made over a second before
assert ages["CLOSE_WAIT"]["lt_1s"] == 0, ages' "$T"
	check "--close-wait -4 from netlink: IPv4 rows only" json "$T/cw4.json" \
		'[(r["port"], r["sockets"]) for r in d["close_wait"]] == [(5000, 1)]'
	check "-4: IPv4 only, in JSON" json "$T/nl4.json" \
		'd["states"]["LISTEN"] == {"ipv4": 3, "total": 3} and
		 d["total"] == {"ipv4": 15, "total": 15}'
	check "-6: IPv6 only, in the table" bash -c "
		grep -qE '^State +IPv6\$' '$T/nl6.table' &&
		grep -qE '^LISTEN +2\$' '$T/nl6.table' &&
		grep -qE '^Total +11\$' '$T/nl6.table'"
	check "--ports -4 and -6 (netlink): each family's groups only" \
		python3 -c '
import json, sys
p4, p6 = (json.load(open(sys.argv[1] + f)) for f in ("/ports4.json",
							"/ports6.json"))
assert p4["source"] == p6["source"] == "netlink"
assert {r["port"] for r in p4["ports"]} == {5000, 5001, 5002}, p4
assert {r["port"] for r in p6["ports"]} == {6000, 6001}, p6
assert sum(r["total"] for r in p4["ports"]) == 15
assert sum(r["total"] for r in p6["ports"]) == 11' "$T"
	for set in all connected synchronized bucket big listening closed \
		   established syn-rcv; do
		check "-s $set counts what ss -tan state $set lists" \
			json "$T/set_$set.json" \
			"sum(v['total'] for v in d['states'].values()) ==
			 $(cat "$T/ss_$set")"
	done
	check "-s sets: the states ss's scan_state() puts in each" python3 -c '
import json, sys
def states(name):
	return set(json.load(open(sys.argv[1] + "/set_" + name + ".json"))["states"])
every = {"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	 "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"}
assert states("all") == every
assert states("connected") == every - {"CLOSE", "LISTEN"}
assert states("synchronized") == every - {"CLOSE", "LISTEN", "SYN_SENT"}
assert states("bucket") == {"SYN_RECV", "TIME_WAIT"}
assert states("big") == every - {"SYN_RECV", "TIME_WAIT"}
assert states("listening") == {"LISTEN"}
assert states("closed") == {"CLOSE"}
assert states("syn-rcv") == {"SYN_RECV"}' "$T"
	run 0 module ok.txt -j -s unconnected,LISTENING,Synchronized
	check "-s set names in any case, mixed with states" json "$T/out" \
		'len(d["states"]) == 10 and "SYN_SENT" not in d["states"]'

	unshare -n sleep 600 &
	nspid=$!
	sleep 0.2
	run 0 "$BIN" --netns "/proc/$nspid/ns/net" --source netlink -j
	check "--netns PATH enters that netns" json "$T/out" \
		"d['netns'] == $(stat -L -c %i "/proc/$nspid/ns/net") and
		 d['total']['total'] == 0"
	run 0 "$BIN" --netns-pid "$nspid" --source netlink -j
	check "--netns-pid PID enters that process's netns" json "$T/out" \
		"d['netns'] == $(stat -L -c %i "/proc/$nspid/ns/net")"
	run 0 "$BIN" -N "$nspid" --ports -j
	check "-N PID with --ports" json "$T/out" \
		"d['netns'] == $(stat -L -c %i "/proc/$nspid/ns/net") and
		 d['ports'] == []"
	kill $nspid
else
	nok "netlink tests need root and unshare -n"
fi

# ---- the bpf source on this kernel ----
# shellcheck source=tests/bpf.sh
. tests/bpf.sh

# ---- the pinned file, tcpstates pin, on this kernel ----
# shellcheck source=tests/pin.sh
. tests/pin.sh

# ---- two named namespaces for the tests below ----
# NSA: the helper's sockets (3 IPv4 listeners, ...); NSB: a CLOSE_WAIT
# leak, 4 connections to 3306 that the process "leaky" never closes.
ns_ready=
wait_ready() { # FILE
	local _
	for _ in $(seq 50); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
if is_root && ip netns add "$NSA" 2>/dev/null && ip netns add "$NSB"; then
	ip netns exec "$NSA" ip link set lo up
	ip netns exec "$NSB" ip link set lo up
	ip netns exec "$NSA" "$HELPER" 127.0.0.1 5000 3 4 2 1 >"$T/ha" &
	ip netns exec "$NSB" "$HELPER" leak 127.0.0.1 3306 4 >"$T/hb" &
	wait_ready "$T/ha" && wait_ready "$T/hb" && ns_ready=1
	sleep 0.3
	INOA=$(stat -L -c %i "/var/run/netns/$NSA")
	INOB=$(stat -L -c %i "/var/run/netns/$NSB")
	LEAKY=$(sed -n 's/^ready //p' "$T/hb")
fi

# ---- --processes: which process holds the sockets ----
if [ -n "$ns_ready" ]; then
	run 0 inb env TCPSTATES_NO_BPF=1 "$BIN" --ports -s close-wait,fin-wait-2 \
		--processes -j
	check "--processes --ports: leaky holds out 3306's CLOSE_WAIT" json \
		"$T/out" "d['source'] == 'netlink' and
		 [(r['direction'], r['port'], r['states'], r['processes'])
		  for r in d['ports']] ==
		 [('in', 3306, {'FIN_WAIT2': 4, 'CLOSE_WAIT': 0},
		   {'owners': [], 'no_process': 4, 'not_found': 0}),
		  ('out', 3306, {'FIN_WAIT2': 0, 'CLOSE_WAIT': 4},
		   {'owners': [{'pid': $LEAKY, 'command': 'leaky',
				'sockets': 4}], 'no_process': 0, 'not_found': 0})]"
	run 0 inb env TCPSTATES_NO_BPF=1 "$BIN" --ports -s close-wait --processes
	check "--processes --ports table: a PROCESSES column" diff -u - "$T/out" <<-EOF
	DIR  PORT CLOSE_WAIT    TOTAL  PROCESSES
	out  3306          4        4  leaky[$LEAKY]:4
	Source: netlink, netns $INOB, 1 of 2 groups
	EOF
	run 0 "$BIN" -n "$NSB" --processes -s close-wait,fin-wait-2,listen
	check "--processes on the per-state table (with -n)" bash -c "
		grep -qE '^FIN_WAIT2 +4 +0 +4  no-process:4\$' '$T/out' &&
		grep -qE '^CLOSE_WAIT +4 +0 +4  leaky\\[$LEAKY\\]:4\$' '$T/out' &&
		grep -qE '^LISTEN +1 +0 +1  sockhelper\\[[0-9]+\\]:1\$' '$T/out' &&
		grep -qE '^State +IPv4 +IPv6 +Total  Processes\$' '$T/out'"
	run 0 "$BIN" -n "$NSB" --processes -s close-wait -j
	check "--processes JSON on the per-state table" json "$T/out" \
		"d['processes'] == {'CLOSE_WAIT': {'owners': [{'pid': $LEAKY,
		 'command': 'leaky', 'sockets': 4}], 'no_process': 0,
		 'not_found': 0}}"
	# The module gives counts only: they come from its file, the
	# processes from a dump of the asked states.
	run 0 inb env TCPSTATES_PROC="$PWD/$DATA/ok.txt" "$BIN" \
		--source module --processes -s close-wait -j
	check "--processes with the module: its counts, the dump's processes" \
		json "$T/out" "d['source'] == 'module' and
		 d['states']['CLOSE_WAIT']['total'] == 8 and
		 d['processes']['CLOSE_WAIT']['owners'][0]['pid'] == $LEAKY"
	run 0 inb env TCPSTATES_PROC_PORTS="$PWD/$DATA/ports_ok.txt" "$BIN" \
		--ports --source module --processes -s close-wait -j
	check "--processes with the module's --ports rows" json "$T/out" \
		"d['source'] == 'module' and
		 [(r['port'], r['states']['CLOSE_WAIT'],
		   [o['command'] for o in r['processes']['owners']])
		  for r in d['ports']] ==
		 [(6379, 9, []), (3306, 5, ['leaky']), (443, 2, [])]"
	# Bounded cost: /proc is read only when an asked socket has a file.
	run 0 inb env TCPSTATES_PROCFS="$T/none" "$BIN" --processes \
		-s time-wait,fin-wait-2
	check "--processes for states without files never reads /proc" \
		grep -qE '^FIN_WAIT2 +4 +0 +4  no-process:4$' "$T/out"
	expect_err "--processes reads /proc when the asked sockets have files" 1 \
		"cannot list processes" env TCPSTATES_PROCFS="$T/none" \
		ip netns exec "$NSB" "$BIN" --processes -s close-wait
	if why=$(nobody_ok); then
		run 0 inb "${NOBODY[@]}" "$NOBODY_BIN" --processes \
			-s close-wait -j
		check "--processes unprivileged: another user's sockets are not found" \
			json "$T/out" "d['processes']['CLOSE_WAIT'] ==
			 {'owners': [], 'no_process': 0, 'not_found': 4}"
	else
		skip "--processes unprivileged: another user's sockets are not found" \
			"$why"
	fi
	run 0 inb "$BIN" --processes -s close-wait -6
	check "--processes -6: no IPv6 sockets, no processes" \
		grep -qE '^CLOSE_WAIT +0  -$' "$T/out"
	run 0 inb "$BIN" --processes -s close-wait -w 0.1 -c 2
	check "--processes in watch mode" \
		[ "$(grep -c "leaky\[$LEAKY\]:4" "$T/out")" = 2 ]
else
	nok "--processes tests need root and ip netns"
fi

# ---- example systemd units, run as systemd would (no systemd here) ----
# unit_cmd UNIT INSTANCE: its ExecStart= (or $UNIT_KEY=) command line:
# lines joined, %i and %% expanded, $$ made $, as systemd hands it to
# /bin/sh -c.
unit_cmd() {
	python3 - "$@" <<-'EOF'
	import os, re, sys
	text = open(sys.argv[1]).read().replace("\\\n", " ")
	key = os.environ.get("UNIT_KEY", "ExecStart")
	cmd = re.search(r"^" + key + "=(.*)$", text, re.M).group(1)
	cmd = re.sub("%([i%])", lambda m: sys.argv[2] if m.group(1) == "i"
		     else "%", cmd)
	print(cmd.replace("$$", "$"))
	EOF
}
# unit_caps UNIT: its CapabilityBoundingSet= as a setpriv --bounding-set
unit_caps() {
	local c caps=-all list

	read -ra list <<<"$(sed -n 's/^CapabilityBoundingSet=//p' "$1")"
	for c in "${list[@]}"; do
		caps="$caps,+$(echo "${c#CAP_}" | tr '[:upper:]' '[:lower:]')"
	done
	echo "$caps"
}
# as_unit UNIT INSTANCE DIR [CAPS]: run UNIT's command as root with the
# unit's bounding set (or CAPS) and no new privileges, TEXTFILE_DIR=DIR
# and this build's reader; stdout/stderr in $T/out, $T/err
as_unit() {
	local caps=${4:-$(unit_caps "$1")}

	TEXTFILE_DIR=$3 TCPSTATES=$BIN timeout 30 setpriv --no-new-privs \
		--bounding-set="$caps" --inh-caps=-all \
		sh -c "$(unit_cmd "$1" "$2")" >"$T/out" 2>"$T/err"
	rc=$?
}
# no_temp DIR: no temporary file left behind
no_temp() { [ -z "$(find "$1" -name '.tcpstates*')" ]; }

check "units: the host unit needs no capability" \
	[ "$(unit_caps "$UNITS/tcpstates-textfile.service")" = -all ]
check "units: the netns unit has CAP_SYS_ADMIN only" \
	[ "$(unit_caps "$UNITS/tcpstates-textfile-netns@.service")" = \
	  -all,+sys_admin ]
check "units: the PID unit has CAP_SYS_ADMIN and CAP_SYS_PTRACE" \
	[ "$(unit_caps "$UNITS/tcpstates-textfile-pid@.service")" = \
	  -all,+sys_admin,+sys_ptrace ]
check "units: the netns units allow entering a network namespace" bash -c "
	grep -qx 'RestrictNamespaces=net' '$UNITS/tcpstates-textfile-netns@.service' &&
	grep -qx 'RestrictNamespaces=net' '$UNITS/tcpstates-textfile-pid@.service'"
check "units: the pin unit has CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN" \
	[ "$(unit_caps "$UNITS/tcpstates-pin.service")" = \
	  -all,+bpf,+perfmon,+sys_admin ]
check "units: write into Debian's textfile directory" bash -c "
	for u in '$UNITS'/tcpstates-textfile*.service; do
		grep -qx 'Environment=TEXTFILE_DIR=/var/lib/prometheus/node-exporter' \"\$u\" &&
		grep -qx 'ReadWritePaths=/var/lib/prometheus/node-exporter' \"\$u\" || exit 1
	done"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	for u in "$UNITS"/*; do
		b=$(basename "$u")
		cp "$u" "$T/units/${b/@./@blue.}"
	done
	check "units: systemd-analyze verify finds nothing to say" bash -c "
		cd '$T/units' && for u in *; do
			systemd-analyze verify --man=no \"\$PWD/\$u\" 2>&1 | grep . && exit 1
		done; exit 0"
fi

if [ -n "$ns_ready" ] && command -v setpriv >/dev/null; then
	mkdir "$T/tf"
	as_unit "$UNITS/tcpstates-textfile.service" "" "$T/tf"
	check "host unit: writes tcpstates.prom, mode 0644, this netns" bash -c "
		[ $rc = 0 ] && [ \$(stat -c %a '$T/tf/tcpstates.prom') = 644 ] &&
		grep -q '^tcpstates_info{netns=\"$(stat -L -c %i /proc/self/ns/net)\",source=\"netlink\"} 1\$' \
			'$T/tf/tcpstates.prom'"
	check "host unit: no module, no transitions, ages or by-port file" bash -c "
		[ ! -e '$T/tf/tcpstates_transitions.prom' ] &&
		[ ! -e '$T/tf/tcpstates_ages.prom' ] &&
		[ ! -e '$T/tf/tcpstates_transitions_ports.prom' ]"
	check "host unit: tcpstates_close_wait.prom from sock_diag, 0644" bash -c "
		[ \$(stat -c %a '$T/tf/tcpstates_close_wait.prom') = 644 ] &&
		grep -qx '# TYPE tcpstates_close_wait_oldest_seconds gauge' \
			'$T/tf/tcpstates_close_wait.prom'"
	TCPSTATES_PROC_TRANSITIONS=$DATA/tr_ok.txt TCPSTATES_PROC_AGES=$DATA/ages_ok.txt \
		TCPSTATES_PROC_TRANSITIONS_PORTS=$DATA/trp_ok.txt \
		as_unit "$UNITS/tcpstates-textfile.service" "" "$T/tf"
	check "host unit with the module's files: its transitions, ages and moves by port too" bash -c "
		[ $rc = 0 ] && [ \$(stat -c %a '$T/tf/tcpstates_ages.prom') = 644 ] &&
		grep -q '^tcpstates_transitions_total{' '$T/tf/tcpstates_transitions.prom' &&
		grep -q '^tcpstates_port_transitions_total{.*to=\"close_wait\"} ' \
			'$T/tf/tcpstates_transitions_ports.prom' &&
		grep -q '^tcpstates_sockets_aged{.*min_age_seconds=\"3600\"} 7\$' '$T/tf/tcpstates_ages.prom'"
	TCPSTATES_PROC_TRANSITIONS=$DATA/tr_ok.txt TCPSTATES_PROC_AGES=$DATA/ages_bad_columns.txt \
		as_unit "$UNITS/tcpstates-textfile.service" "" "$T/tf"
	check "host unit, a bad ages file: exit 1, the last good file kept" bash -c "
		[ $rc != 0 ] && grep -q 'min_age_seconds' '$T/tf/tcpstates_ages.prom'"
	as_unit "$UNITS/tcpstates-textfile.service" "" "$T/tf"
	check "host unit, the module gone: its three files removed" bash -c "
		[ $rc = 0 ] && [ ! -e '$T/tf/tcpstates_transitions.prom' ] &&
		[ ! -e '$T/tf/tcpstates_transitions_ports.prom' ] &&
		[ ! -e '$T/tf/tcpstates_ages.prom' ] && [ -e '$T/tf/tcpstates.prom' ]"
	U=$UNITS/tcpstates-textfile-netns@.service
	as_unit "$U" "$NSA" "$T/tf"
	check "netns@ unit, its capabilities: the named netns's file" bash -c "
		[ $rc = 0 ] && grep -qx 'tcpstates_sockets{netns=\"$INOA\",ip_netns=\"$NSA\",state=\"listen\",family=\"ipv4\"} 3' \
			'$T/tf/tcpstates-netns-$NSA.prom'"
	if command -v promtool >/dev/null; then
		check "netns@ unit's file passes promtool" \
			promtool check metrics <"$T/tf/tcpstates-netns-$NSA.prom"
	fi
	cp "$T/tf/tcpstates-netns-$NSA.prom" "$T/prev.prom"
	as_unit "$U" "$NSA" "$T/tf" -all
	check "netns@ unit without CAP_SYS_ADMIN: setns fails, old file kept" \
		bash -c "[ $rc != 0 ] &&
		grep -q '^tcpstates: --netns $NSA: setns: Operation not permitted' '$T/err' &&
		cmp '$T/prev.prom' '$T/tf/tcpstates-netns-$NSA.prom'"
	as_unit "$U" "nosuch-$$" "$T/tf"
	check "netns@ unit for a missing netns: fails, writes nothing" bash -c "
		[ $rc != 0 ] && [ ! -e '$T/tf/tcpstates-netns-nosuch-$$.prom' ]"
	U=$UNITS/tcpstates-textfile-pid@.service
	pid=$(ip netns pids "$NSA" | head -1)
	as_unit "$U" "$pid" "$T/tf"
	check "pid@ unit, its capabilities: a root process's netns" bash -c "
		[ $rc = 0 ] && grep -qx 'tcpstates_sockets{netns=\"$INOA\",netns_pid=\"$pid\",state=\"listen\",family=\"ipv4\"} 3' \
			'$T/tf/tcpstates-pid-$pid.prom'"
	as_unit "$U" "$pid" "$T/tf" -all,+sys_admin
	check "pid@ unit without CAP_SYS_PTRACE: permission denied" \
		grep -q "^tcpstates: --netns-pid $pid: /proc/$pid/ns/net: Permission denied" \
		"$T/err"
	# the pin unit, then the host unit reads its pins (no module here)
	UPINS=$PUB/unit-pins
	if [ -e /sys/kernel/btf/vmlinux ]; then
		TCPSTATES_BPF_DIR=$UPINS as_unit "$UNITS/tcpstates-pin.service" "" \
			"$T/tf"
		check "pin unit, its capabilities: pins, this version" bash -c "
			[ $rc = 0 ] && '$BIN' pin --check '$UPINS'"
		TCPSTATES_BPF_DIR=$UPINS as_unit "$UNITS/tcpstates-textfile.service" \
			"" "$T/tf"
		check "host unit, no capability: reads the pins" bash -c "
			[ $rc = 0 ] && grep -q '^tcpstates_info{netns=\"[0-9]*\",source=\"pin\"} 1\$' \
				'$T/tf/tcpstates.prom'"
		check "host unit, no module: the pins' transitions, no - - pair" bash -c "
			grep -q '^tcpstates_transitions_total{netns=\"[0-9]*\",from=\"close\",to=\"syn_sent\",family=\"ipv4\"} [0-9]*\$' \
				'$T/tf/tcpstates_transitions.prom' &&
			! grep -q 'to=\"time_wait\"' '$T/tf/tcpstates_transitions.prom'"
		check "host unit, no module: the pins' ages" bash -c "
			grep -q '^tcpstates_sockets_aged{netns=\"[0-9]*\",state=\"established\",min_age_seconds=\"0\"} [0-9]*\$' \
				'$T/tf/tcpstates_ages.prom'"
		TCPSTATES_BPF_DIR=$UPINS UNIT_KEY=ExecStop as_unit \
			"$UNITS/tcpstates-pin.service" "" "$T/tf"
		check "pin unit's ExecStop unpins" \
			bash -c "[ $rc = 0 ] && [ ! -e '$UPINS/tcpstates' ]"
		mountpoint -q "$UPINS" && umount "$UPINS"
	else
		skip "pin unit" "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	fi
	check "units: no temporary file left in the textfile directory" \
		no_temp "$T/tf"
else
	nok "unit tests need root, ip netns and setpriv"
fi

# ---- node_exporter reads two namespaces' textfiles ----
free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
scrape() { # PORT: node_exporter's /metrics into $T/metrics
	local _
	for _ in $(seq 50); do
		curl -sf "http://127.0.0.1:$1/metrics" >"$T/metrics" && return 0
		sleep 0.1
	done
	return 1
}
if ! command -v prometheus-node-exporter >/dev/null ||
   ! command -v curl >/dev/null; then
	nok "node_exporter test needs prometheus-node-exporter and curl (make deps)"
elif [ -z "$ns_ready" ]; then
	nok "node_exporter test needs root and ip netns"
else
	mkdir "$T/ne"
	"$BIN" -n "$NSA" -p >"$T/ne/a.prom"
	"$BIN" -n "$NSB" -p --label role=db >"$T/ne/b.prom"
	# --ages's gauge beside them.
	ages ages_ok.txt -p >"$T/ne/ages.prom"
	# A free port can be taken before node_exporter binds it: try again.
	for _ in 1 2 3; do
		port=$(free_port)
		prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
			--collector.disable-defaults --collector.textfile \
			--collector.textfile.directory="$T/ne" >"$T/ne.log" 2>&1 &
		NE_PID=$!
		scrape "$port" && break
		kill "$NE_PID" 2>/dev/null
		wait "$NE_PID" 2>/dev/null
	done
	if [ -s "$T/metrics" ]; then
		check "node_exporter: no \"collected before\" in its log" \
			bash -c "! grep -q 'collected before' '$T/ne.log'"
		check "node_exporter: node_textfile_scrape_error 0" \
			grep -qx 'node_textfile_scrape_error 0' "$T/metrics"
		check "node_exporter: namespace A's listeners" grep -qx \
			"tcpstates_sockets{family=\"ipv4\",netns=\"$INOA\",state=\"listen\"} 3" \
			"$T/metrics"
		check "node_exporter: namespace B's CLOSE_WAIT, with its --label" \
			grep -qx \
			"tcpstates_sockets{family=\"ipv4\",netns=\"$INOB\",role=\"db\",state=\"close_wait\"} 4" \
			"$T/metrics"
		check "node_exporter: both namespaces' TIME_WAIT limits" bash -c "
			[ \$(grep -c '^tcpstates_time_wait_limit{.*netns=' '$T/metrics') = 2 ]"
		check "node_exporter: --ages's gauge" bash -c "
			grep -qx '# TYPE tcpstates_sockets_aged gauge' '$T/metrics' &&
			grep -qx 'tcpstates_sockets_aged{min_age_seconds=\"3600\",netns=\"4026531840\",state=\"close_wait\"} 7' '$T/metrics'"
		# The check itself: without netns (and role) the files collide.
		for f in a b; do
			sed 's/netns="[0-9]*",\{0,1\}//; s/role="db",\{0,1\}//
			     s/{}//' "$T/ne/$f.prom" \
				>"$T/ne/$f.tmp" && mv "$T/ne/$f.tmp" "$T/ne/$f.prom"
		done
		scrape "$port"
		check "node_exporter: the check sees colliding files (netns stripped)" \
			grep -q 'was collected before' "$T/ne.log"
	else
		nok "node_exporter did not answer on 127.0.0.1:$port" \
			"$(tail -5 "$T/ne.log")"
	fi
	kill "$NE_PID"
	wait "$NE_PID" 2>/dev/null
	NE_PID=
fi

# ---- every output path checks its writes ----
# full DESC RC CMD...: stdout is /dev/full: exit RC, one "write error" line
full() {
	local desc=$1 want=$2; shift 2
	limit "$@" >/dev/full 2>"$T/err"
	rc=$?
	if [ $rc = "$want" ] && [ "$(wc -l <"$T/err")" = 1 ] &&
	   grep -qx 'tcpstates: write error on standard output: No space left on device' \
		"$T/err"; then
		ok "$desc"
	else
		nok "$desc" "rc=$rc stderr: $(cat "$T/err")"
	fi
}
full "/dev/full: table" 1 module ok.txt
full "/dev/full: JSON" 1 module ok.txt -j
full "/dev/full: Prometheus" 1 module ok.txt -p
full "/dev/full: netlink source" 1 "$BIN" --source netlink
full "/dev/full: --ports table" 1 ports ports_ok.txt
full "/dev/full: --ports Prometheus" 1 ports ports_ok.txt -p
full "/dev/full: --all-netns JSON" 1 allns all_ok.txt -j
full "/dev/full: --all-netns Prometheus" 1 allns all_ok.txt -p
full "/dev/full: --transitions table" 1 trans tr_ok.txt
full "/dev/full: --transitions Prometheus" 1 trans tr_ok.txt -p
full "/dev/full: --transitions --ports table" 1 trp trp_ok.txt
full "/dev/full: --transitions --ports JSON" 1 trp trp_ok.txt -j
full "/dev/full: --ages table" 1 ages ages_ok.txt
full "/dev/full: --ages JSON" 1 ages ages_ok.txt -j
full "/dev/full: --ages Prometheus" 1 ages ages_ok.txt -p
full "/dev/full: watch mode stops at the first failed sample" 1 \
	module ok.txt -w 0.1 -c 100
full "/dev/full: --set" 1 env TCPSTATES_SYSFS="$T/sysfs" "$BIN" \
	--set tw_reuse=2
full "/dev/full: --check-tw is UNKNOWN" 3 module ok.txt --check-tw 80
full "/dev/full: --help" 1 "$BIN" --help
full "/dev/full: --version" 1 "$BIN" -V
if [ -n "$ns_ready" ]; then
	full "/dev/full: --processes" 1 "$BIN" -n "$NSB" --processes \
		-s close-wait
fi

# A full filesystem: the unit's exact command keeps the previous file.
mkdir "$T/full"
if ! is_root; then
	skip "full tmpfs keeps the previous file" "needs root to mount a tmpfs"
elif ! mount -t tmpfs -o size=64k,mode=0755 tcpstates-test "$T/full" \
	2>"$T/err"; then
	skip "full tmpfs keeps the previous file" \
		"mount -t tmpfs not permitted here: $(cat "$T/err")"
else
	U=$UNITS/tcpstates-textfile.service
	as_unit "$U" "" "$T/full"
	cp "$T/full/tcpstates.prom" "$T/prev.prom"
	dd if=/dev/zero of="$T/full/fill" bs=4k 2>/dev/null
	as_unit "$U" "" "$T/full"
	check "full tmpfs: the unit's command fails with the reader's error" \
		bash -c "[ $rc != 0 ] && grep -qx 'tcpstates: write error on standard output: No space left on device' '$T/err'"
	check "full tmpfs: the previous file stays in place, unchanged" \
		cmp "$T/prev.prom" "$T/full/tcpstates.prom"
	check "full tmpfs: no temporary file left behind" no_temp "$T/full"
	"$BIN" -p >"$T/full/direct.prom" 2>"$T/err"
	rc=$?
	check "full tmpfs: tcpstates -p > FILE exits 1, one error line" \
		bash -c "[ $rc = 1 ] && [ \$(wc -l <'$T/err') = 1 ]"
	umount "$T/full"
fi

# ---- the build: CFLAGS keeps the include path; sanitizers ----
mkdir -p "$T/src/userspace"
cp -r ../include "$T/src/"
cp ./*.c ./*.h Makefile "$T/src/userspace/"
check "make CFLAGS=... keeps the include path" \
	make -s -C "$T/src/userspace" CFLAGS='-O0 -g' tcpstates
check "make CPPFLAGS=... keeps the include path" \
	make -s -B -C "$T/src/userspace" CPPFLAGS=-DTS_BUILD_TEST tcpstates
SAN='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all'
if make -s -B -C "$T/src/userspace" CFLAGS="$SAN" LDFLAGS="$SAN" tcpstates \
	>"$T/san.log" 2>&1; then
	SANBIN=$T/src/userspace/tcpstates
	: >"$T/san.log"
	for f in "$DATA"/*.txt; do
		b=$(basename "$f")
		case $b in
		all_*) set -- env TCPSTATES_PROC_ALL="$f" \
			TCPSTATES_PROCFS="$T/procfs" "$SANBIN" --all-netns ;;
		ports_*) set -- env TCPSTATES_PROC_PORTS="$f" "$SANBIN" \
			--ports --source module ;;
		tr_*) set -- env TCPSTATES_PROC_TRANSITIONS="$f" "$SANBIN" \
			--transitions ;;
		trp_*) set -- env TCPSTATES_PROC_TRANSITIONS_PORTS="$f" \
			"$SANBIN" --transitions --ports ;;
		ages_*) set -- env TCPSTATES_PROC_AGES="$f" "$SANBIN" --ages ;;
		*) set -- env TCPSTATES_PROC="$f" "$SANBIN" --source module ;;
		esac
		for fmt in "" -j -p "-s connected -H"; do
			# shellcheck disable=SC2086
			"$@" $fmt >/dev/null 2>>"$T/san.log"
		done
	done
	{
		"$SANBIN" --source netlink -j -4 >/dev/null
		"$SANBIN" --ports --source netlink >/dev/null
		env TCPSTATES_PROC="$DATA/ok.txt" "$SANBIN" --source module \
			-w 0.1 -c 2 -j >/dev/null
		env TCPSTATES_PROC="$DATA/ok.txt" "$SANBIN" --source module \
			-p --label a=b >/dev/full
		env TCPSTATES_PROC="$DATA/ok.txt" "$SANBIN" --check-tw 1,2 \
			>/dev/null
		env TCPSTATES_PROC_TRANSITIONS="$DATA/tr_dashes.txt" \
			"$SANBIN" --transitions -w 0.1 -c 2 -j >/dev/null
		env TCPSTATES_PROC_AGES="$DATA/ages_dashes.txt" \
			"$SANBIN" --ages -w 0.1 -c 2 -H >/dev/null
		env TCPSTATES_PROC_TRANSITIONS_PORTS="$DATA/trp_ok.txt" \
			"$SANBIN" --transitions --ports -w 0.1 -c 2 -j --top 1 \
			>/dev/null
		if [ -n "$ns_ready" ]; then
			"$SANBIN" -n "$NSB" --ports --processes -j >/dev/null
			"$SANBIN" -n "$NSA" --processes >/dev/null
		fi
	} 2>>"$T/san.log"
	check "ASan/UBSan: every recorded file, format and mode runs clean" \
		bash -c "! grep -E 'runtime error|AddressSanitizer|LeakSanitizer' '$T/san.log'"
else
	nok "ASan/UBSan build failed" "$(tail -5 "$T/san.log")"
fi

# ---- layers ----
check "the reader's files include and call only their layer and below" \
	bash tests/layers.sh

# ---- docs ----
# make lint runs checkpatch over these sources; here only the man page.
check "man page renders without warnings" bash -c \
	'MANWIDTH=80 man -l --warnings tcpstates.8 2>&1 >/dev/null |
	 (! grep .)'
check "docs use Debian's textfile directory only" bash -c "
	! grep -rn 'node_exporter/textfile\|/var/lib/node_exporter' \
		../README.md ../docs tcpstates.8 ../examples &&
	grep -q '/var/lib/prometheus/node-exporter' ../docs/deploy.md &&
	grep -q 'prometheus/node\\\\-exporter' tcpstates.8"
check "man page and docs explain the TIME_WAIT row vs tw_count" bash -c "
	grep -q 'orphaned FIN_WAIT2' tcpstates.8 &&
	grep -q 'orphaned FIN_WAIT2' ../docs/reader.md"
run 0 "$BIN" --help
check "--help names every option" bash -c "
	for o in --processes --label -4, -6, --netns-pid 'W\\[,C\\]' \
		 --transitions TCPSTATES_PROC_TRANSITIONS \
		 TCPSTATES_PROC_TRANSITIONS_PORTS \
		 --ages TCPSTATES_PROC_AGES \
		 'at least 0.1' '3 UNKNOWN'; do
		grep -q -- \"\$o\" '$T/out' || { echo \$o; exit 1; }
	done"
# alerts_documented: each alert of the rules file is in deploy.md, as `Name`.
alerts_documented() {
	local a

	for a in $(sed -n 's/^ *- alert: *\([A-Za-z]*\).*/\1/p' \
		   ../examples/prometheus/tcpstates.rules.yml); do
		grep -qF "\`$a\`" ../docs/deploy.md || { echo "$a"; return 1; }
	done
}
if command -v promtool >/dev/null; then
	check "the alert rules pass promtool check rules" \
		promtool check rules ../examples/prometheus/tcpstates.rules.yml
	check "the alert rules' unit tests pass (promtool test rules)" \
		promtool test rules ../examples/prometheus/tcpstates.rules.test.yml
	check "deploy.md names every alert of the rules" alerts_documented
fi

echo "1..$n"
[ "$failed" -eq 0 ]
