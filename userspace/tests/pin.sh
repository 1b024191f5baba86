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
# The reader's side: auto reads the pins when there is no module (and
# says "pin"), at TCPSTATES_BPF_DIR; a directory of files in the module's
# grammars stands in for the pins for --ports, --all-netns, another reader
# version (named, read) and another format (refused).

# shellcheck source=verified.sh
. tests/verified.sh

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

# pin_tr_population: in this netns, per family, 5 (IPv4) or 3 (IPv6)
# connections closed client first, 2 connects refused, the listener
# opened and closed: the moves pin_tr_expect counts.
pin_tr_population() {
	python3 - <<'EOF'
import socket
for fam, addr, n in ((socket.AF_INET, "127.0.0.1", 5),
                     (socket.AF_INET6, "::1", 3)):
    l = socket.socket(fam)
    l.bind((addr, 7000))
    l.listen(16)
    for i in range(n):
        c = socket.create_connection((addr, 7000))
        s, _ = l.accept()
        c.close()
        s.recv(1)
        s.close()
    for i in range(2):
        try:
            socket.create_connection((addr, 7001))
        except OSError:
            pass
    l.close()
EOF
}

# pin_tr_expect BEFORE AFTER [none]: AFTER less BEFORE is, pair by pair,
# pin_tr_population's moves (0 elsewhere; with "none", 0 everywhere),
# and the pairs only the module's kprobes count read "- -" in both.
pin_tr_expect() {
	python3 - "$@" <<'EOF'
import sys
want = {("CLOSE", "SYN_SENT"): (7, 5), ("SYN_SENT", "ESTABLISHED"): (5, 3),
        ("SYN_SENT", "CLOSE"): (2, 2), ("CLOSE", "LISTEN"): (1, 1),
        ("LISTEN", "CLOSE"): (1, 1), ("SYN_RECV", "ESTABLISHED"): (5, 3),
        ("ESTABLISHED", "FIN_WAIT1"): (5, 3),
        ("ESTABLISHED", "CLOSE_WAIT"): (5, 3),
        ("FIN_WAIT1", "FIN_WAIT2"): (5, 3),
        ("CLOSE_WAIT", "LAST_ACK"): (5, 3), ("LAST_ACK", "CLOSE"): (5, 3)}
if len(sys.argv) > 3:
    want = {}
dashes = {("LISTEN", "SYN_RECV"), ("SYN_RECV", "CLOSE"),
          ("FIN_WAIT1", "TIME_WAIT"), ("FIN_WAIT1", "CLOSE"),
          ("FIN_WAIT2", "TIME_WAIT"), ("FIN_WAIT2", "CLOSE"),
          ("CLOSING", "TIME_WAIT"), ("CLOSING", "CLOSE"),
          ("TIME_WAIT", "CLOSE")}
def pairs(path):
    lines = open(path).read().split("\n")
    assert lines[0] == "tcpstates_transitions 1", lines[0]
    assert lines[2] == "from to ipv4 ipv6", lines[2]
    return {tuple(l.split()[:2]): l.split()[2:] for l in lines[3:] if l}
a, b = pairs(sys.argv[1]), pairs(sys.argv[2])
assert len(b) == 25 and a.keys() == b.keys(), (len(b), a.keys() ^ b.keys())
bad = {}
for k, v in b.items():
    if k in dashes:
        if v != ["-", "-"] or a[k] != ["-", "-"]:
            bad[k] = (a[k], v)
        continue
    d = tuple(int(y) - int(x) for x, y in zip(a[k], v))
    if d != want.get(k, (0, 0)):
        bad[k] = (d, want.get(k, (0, 0)))
print("pair: (got, want)", bad)
assert not bad
EOF
}

# pin_tr: DIR/tcpstates_transitions counts a fresh netns's moves by
# family from the tracepoint (its pairs; "-" for the others); another
# netns's file moves not at all meanwhile (a netns of its own); a netns
# made after this one is gone, on its inode or not, starts from 0.
pin_tr() {
	local ns=$PNS-tr

	ip netns add "$ns"
	ip netns add "$ns-o"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" cat "$PINS/tcpstates_transitions" >"$T/tr0"
	ip netns exec "$ns-o" cat "$PINS/tcpstates_transitions" >"$T/tro0"
	ip netns exec "$ns" bash -c "$(declare -f pin_tr_population)
		pin_tr_population"
	ip netns exec "$ns" cat "$PINS/tcpstates_transitions" >"$T/tr1"
	ip netns exec "$ns-o" cat "$PINS/tcpstates_transitions" >"$T/tro1"
	check "tcpstates_transitions: a population's moves exactly, per family" \
		pin_tr_expect "$T/tr0" "$T/tr1"
	check "tcpstates_transitions: the netns's inode, mode 0444" \
		bash -c "grep -qx \"netns \$(ip netns exec '$ns' stat -L -c %i /proc/self/ns/net)\" '$T/tr1' &&
			 [ \"\$(stat -L -c %a '$PINS/tcpstates_transitions')\" = 444 ]"
	check "tcpstates_transitions: another netns, none of them" \
		pin_tr_expect "$T/tro0" "$T/tro1" none
	ip netns del "$ns"
	ip netns del "$ns-o"
	ip netns add "$ns"
	ip netns exec "$ns" cat "$PINS/tcpstates_transitions" >"$T/tr2"
	ip netns del "$ns"
	check "tcpstates_transitions: a netns made after it, 0 (inode $(sed -n 's/^netns //p' "$T/tr2") after $(sed -n 's/^netns //p' "$T/tr1"))" \
		bash -c "! awk 'NR > 3 && \$3 != \"-\" && \$3 + \$4 != 0' '$T/tr2' | grep -q ."
	run 0 env TCPSTATES_PROC_TRANSITIONS="$T/none" TCPSTATES_BPF_DIR="$PINS" \
		"$BIN" --transitions -j
	check "--transitions without the module reads the pin: source pin" \
		grep -q '"source":"pin"' "$T/out"
}

# pin_ages_population OUT PINS BIN: in this netns, 3 connections (v4, v6,
# v4) 2.5 s old, then 2 young ones, one of them closed by its client (a
# FIN_WAIT2 timewait sock and a CLOSE_WAIT socket); then the pinned ages,
# the pinned counts and sock_diag's ages, read at once.
pin_ages_population() {
	python3 - "$@" <<'EOF'
import os, socket, subprocess, sys, time
out, pins, bin = sys.argv[1:4]
keep = []
def pair(addr, l):
    c = socket.create_connection((addr, l.getsockname()[1]))
    s, _ = l.accept()
    keep.extend((c, s))
    return c, s
l4 = socket.socket(socket.AF_INET)
l4.bind(("127.0.0.1", 0))
l4.listen(16)
l6 = socket.socket(socket.AF_INET6)
l6.bind(("::1", 0))
l6.listen(16)
pair("127.0.0.1", l4)
pair("::1", l6)
pair("127.0.0.1", l4)
time.sleep(2.5)
pair("::1", l6)
c, s = pair("127.0.0.1", l4)
keep.remove(c)
c.close()
time.sleep(0.2)
env = dict(os.environ, TCPSTATES_PROC_AGES="/nonexistent",
           TCPSTATES_BPF_DIR=pins)
for name, cmd in (("ages", ["cat", pins + "/tcpstates_ages"]),
                  ("counts", ["cat", pins + "/tcpstates"]),
                  ("nl", [bin, "--ages", "--source", "netlink", "-j"]),
                  ("auto", [bin, "--ages", "-j"])):
    with open(out + "/" + name, "w") as f:
        subprocess.run(cmd, stdout=f, check=True, env=env)
EOF
}

# pin_ages_expect DIR: pin_ages_population's ages: the old sockets in
# <10s, the young in <1s, as sock_diag ages them; each row sums to the
# pinned file's count; LISTEN dashes; the module's grammar; auto read it.
pin_ages_expect() {
	python3 - "$1" "$DATA/ages_ok.txt" <<'EOF'
import json, sys
d = sys.argv[1]
lines = open(d + "/ages").read().split("\n")
good = open(sys.argv[2]).read().split("\n")
assert lines[0] == "tcpstates_ages 1", lines[0]
assert lines[2] == good[2], (lines[2], good[2])
rows = {}
for l in lines[3:]:
    if l:
        f = l.split()
        rows[f[0]] = f[1:]
assert list(rows) == [l.split()[0] for l in good[3:] if l], list(rows)
assert rows["LISTEN"] == ["-"] * 7, rows["LISTEN"]
want = {"ESTABLISHED": [2, 6], "FIN_WAIT2": [1, 0], "CLOSE_WAIT": [1, 0]}
for st, r in rows.items():
    if st != "LISTEN":
        w = want.get(st, [0, 0]) + [0] * 5
        assert [int(x) for x in r] == w, (st, r, w)
counts = {}
for l in open(d + "/counts"):
    f = l.split()
    if len(f) == 3 and f[0] in rows:
        counts[f[0]] = int(f[1]) + int(f[2])
for st, r in rows.items():
    if st != "LISTEN":
        assert sum(int(x) for x in r) == counts[st], (st, r, counts[st])
nl = json.load(open(d + "/nl"))["ages"]
for st in ("ESTABLISHED", "FIN_WAIT2", "CLOSE_WAIT", "TIME_WAIT"):
    got = [int(x) for x in rows[st]]
    assert [nl[st][k] for k in ("lt_1s", "lt_10s", "lt_1m")] == got[:3], \
        (st, nl[st], got)
a = json.load(open(d + "/auto"))
assert a["source"] == "pin", a["source"]
EOF
}

# pin_ages: DIR/tcpstates_ages ages a fresh netns's sockets by the
# module's rules; another netns's file has none of them.
pin_ages() {
	local ns=$PNS-ag

	mkdir -p "$T/ages"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	# shellcheck disable=SC2016
	ip netns exec "$ns" bash -c "$(declare -f pin_ages_population)"'
		pin_ages_population "$@"' _ "$T/ages" "$PINS" "$BIN"
	check "tcpstates_ages: sockets 2.5 s apart in their columns, as sock_diag ages them; rows are the counts" \
		pin_ages_expect "$T/ages"
	check "tcpstates_ages: the netns's inode, mode 0444" \
		bash -c "grep -qx \"netns \$(ip netns exec '$ns' stat -L -c %i /proc/self/ns/net)\" '$T/ages/ages' &&
			 [ \"\$(stat -L -c %a '$PINS/tcpstates_ages')\" = 444 ]"
	ip netns del "$ns"
	unshare -n cat "$PINS/tcpstates_ages" >"$T/ages/other"
	check "tcpstates_ages: another netns, none of them" \
		awk 'NR > 3 && $1 != "LISTEN" { for (i = 2; i <= 8; i++) if ($i != 0) bad = 1 }
		     END { exit bad || NR != 14 }' "$T/ages/other"
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

# all_vs_ss FILE INODE SS: the _all row of INODE holds SS's counts
all_vs_ss() {
	python3 - "$@" <<'EOF'
import collections, sys
names = ["ESTAB", "SYN-SENT", "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
         "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN", "CLOSING"]
ss = collections.Counter(l.split()[0] for l in open(sys.argv[3]))
want = [ss.get(n, 0) for n in names]
rows = [l.split() for l in open(sys.argv[1])
        if l.startswith("netns " + sys.argv[2] + " ")]
assert len(rows) == 1, rows
got = [int(x) for x in rows[0][2:13]]
print("want", want, "got", got)
assert got == want
EOF
}

# all_same A B: two --all-netns JSON reads, the same rows and counts
all_same() {
	python3 - "$@" <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
rows = lambda d: {n["netns"]: (n["states"], n["time_wait"])
                  for n in d["namespaces"]}
assert rows(a) == rows(b), (rows(a), rows(b))
assert a["source"] == "pin" and b["source"] == "bpf", (a["source"], b["source"])
EOF
}

# all_private: 520 more netns with a private ehash of 128 buckets take
# tcpstates_all two passes (512 rows a pass); each has its row, once,
# with half its buckets as its limit, sockets or not; ticks to pause on
# come from a helper's threads.
all_private() {
	local old i count=520 threads
	old=$(sysctl -n net.ipv4.tcp_child_ehash_entries 2>/dev/null)
	if [ -z "$old" ]; then
		skip "tcpstates_all: 520 private ehash, two passes" \
			"no net.ipv4.tcp_child_ehash_entries (before 6.1)"
		return
	fi
	sysctl -qw net.ipv4.tcp_child_ehash_entries=128
	for i in $(seq "$count"); do ip netns add "$PNS-p$i" || break; done
	sysctl -qw net.ipv4.tcp_child_ehash_entries="$old"
	"$HELPER" threads 400 >"$T/threads.out" &
	threads=$!
	sleep 1
	cat "$PINS/tcpstates_all" >"$T/all-p.out"
	dd if="$PINS/tcpstates_all" bs=61 2>/dev/null >"$T/all-p61.out"
	for i in $(seq "$count"); do
		ip netns exec "$PNS-p$i" stat -L -c %i /proc/self/ns/net
	done >"$T/all-p.inodes"
	kill "$threads"
	wait "$threads" 2>/dev/null
	for i in $(seq "$count"); do ip netns del "$PNS-p$i"; done
	check "tcpstates_all: 520 private ehash netns, two passes, each row once, sorted, limit 64" \
		python3 - "$T/all-p.out" "$T/all-p.inodes" <<'EOF'
import sys
text = open(sys.argv[1]).read()
rows = [l.split() for l in text.splitlines()
        if l.startswith("netns ") and l.split()[1].isdigit()]
inodes = [int(x) for x in open(sys.argv[2])]
nums = [int(r[1]) for r in rows]
assert nums == sorted(set(nums)), "not sorted or not unique"
by = {int(r[1]): r for r in rows}
missing = [i for i in inodes if i not in by]
assert not missing, ("missing", len(missing))
bad = [i for i in inodes if by[i][2:13] != ["0"] * 11 or by[i][-1] != "64"]
assert not bad, ("bad rows", [by[i] for i in bad[:3]])
assert "error" not in text
EOF
	check "tcpstates_all read 61 bytes at a time: the same file" \
		cmp "$T/all-p.out" "$T/all-p61.out"
}

# pin_share: uid 65534's 20 threads each hold a half-read
# tcpstates_ports; 16 get a walk, 4 "error busy"; root and uid 65533 still
# read the whole file meanwhile.
pin_share() {
	if ! nobody_ok >/dev/null; then
		skip "tcpstates_ports: one user's share of the walks" "$(nobody_ok)"
		return
	fi
	# shellcheck disable=SC2016
	ip netns exec "$PNS" "${NOBODY[@]}" /usr/bin/python3 -c '
import os, sys, threading, time
path = sys.argv[1]
got, go = [], threading.Event()
def hold():
	try:
		f = os.open(path, os.O_RDONLY)
		got.append(os.read(f, 100).decode())
	except OSError as e:
		got.append(str(e))
		return
	go.wait()
	os.close(f)
ts = [threading.Thread(target=hold) for _ in range(20)]
for t in ts:
	t.start()
	time.sleep(0.05)
while len(got) < 20:
	time.sleep(0.05)
print(sum(g.startswith("tcpstates_ports 1") for g in got),
      sum(g == "error busy\n" for g in got), flush=True)
time.sleep(3)
go.set()' "$PINS/tcpstates_ports" >"$T/share.out" 2>&1 &
	holder=$!
	for _ in $(seq 50); do [ -s "$T/share.out" ] && break; sleep 0.1; done
	ip netns exec "$PNS" cat "$PINS/tcpstates_ports" >"$T/share-root.out"
	ip netns exec "$PNS" setpriv --reuid=65533 --regid=65533 --clear-groups \
		cat "$PINS/tcpstates_ports" >"$T/share-other.out"
	wait "$holder"
	check "one user's 20 threads holding _ports: 16 walks, 4 told busy" \
		[ "$(cat "$T/share.out")" = "16 4" ]
	check "meanwhile root reads _ports whole" \
		bash -c "head -1 '$T/share-root.out' | grep -qx 'tcpstates_ports 1' &&
			 ! grep -q error '$T/share-root.out'"
	check "meanwhile another user reads _ports whole" \
		bash -c "head -1 '$T/share-other.out' | grep -qx 'tcpstates_ports 1' &&
			 ! grep -q error '$T/share-other.out'"
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

# auto_pinned DIR: auto read the pins (JSON's source), loading nothing
# (TCPSTATES_BPF_DEBUG would have named the walk it loaded)
auto_pinned() {
	json "$1/auto.json" 'd["source"] == "pin"' && [ ! -s "$1/auto.err" ]
}

# pin_keys FILE: the first word of each line, as the module prints them
pin_keys() {
	cut -d' ' -f1 "$1" | tr '\n' ' '
}

# fake_pins DIR VERSION: the module's recorded files as pins of VERSION
fake_pins() {
	mkdir -p "$1"
	cp "$DATA/ok.txt" "$1/tcpstates"
	cp "$DATA/ports_ok.txt" "$1/tcpstates_ports"
	cp "$DATA/all_ok.txt" "$1/tcpstates_all"
	ln -sfn "${2//./_}-1" "$1/current"
}
# nopin CMD...: CMD without the module's files, the pins at $FAKE
nopin() {
	TCPSTATES_PROC=$T/none TCPSTATES_PROC_PORTS=$T/none \
		TCPSTATES_PROC_ALL=$T/none TCPSTATES_BPF_DIR=$FAKE "$@"
}
# as_golden GOLDEN: $T/out is GOLDEN, but the source named "pin"
as_golden() {
	diff -u <(sed '$s/^Source: module/Source: pin/' "$GOLDEN/$1") "$T/out"
}
quiet_golden() { as_golden "$1" && [ ! -s "$T/err" ]; }
READER_VERSION=$("$BIN" -V | sed -n 's/^tcpstates \([^ ]*\) .*/\1/p')
FAKE=$PDIR/fake
fake_pins "$FAKE" "$READER_VERSION"
export FAKE
export -f nopin

run 0 nopin "$BIN"
check "auto without the module reads the pins, says pin, nothing on stderr" \
	quiet_golden ok.table
run 0 nopin "$BIN" -j
check "pins: JSON says source pin" json "$T/out" 'd["source"] == "pin"'
run 0 nopin "$BIN" -p
check "pins: Prometheus says source=\"pin\"" \
	grep -qx 'tcpstates_info{netns="4026531840",source="pin"} 1' "$T/out"
check "TCPSTATES_BPF_DIR honoured: pins elsewhere are not read" \
	bash -c "TCPSTATES_BPF_DIR='$T/none' TCPSTATES_NO_BPF=1 \
		 TCPSTATES_PROC='$T/none' '$BIN' | grep -q '^Source: netlink'"
expect_err "--source pin without pins: exit 1, one line" 1 \
	"$T/none/tcpstates: not pinned: run tcpstates pin" \
	env TCPSTATES_BPF_DIR="$T/none" "$BIN" --source pin
run 0 nopin "$BIN" --ports
check "--ports from the pins (auto without the module)" as_golden ports_ok.table
run 0 nopin env TCPSTATES_PROCFS="$T/procfs" "$BIN" --all-netns
check "--all-netns from the pins (auto without the module)" \
	as_golden all_ok.table
run 0 nopin "$BIN" --source pin --all-netns -j
check "--all-netns --source pin: JSON says source pin" \
	json "$T/out" 'd["source"] == "pin" and len(d["namespaces"]) == 4'
expect_err "--ports -4 --source pin: the rows count both families" 2 \
	"count IPv4 and IPv6 together" nopin "$BIN" --ports -4 --source pin

fake_pins "$FAKE" 0.9
run 0 nopin "$BIN" -w 0.1 -c 3
check "pins of another version: read, named once with both versions and the fix" \
	bash -c "[ \"\$(grep -c '^Source: pin' '$T/out')\" = 3 ] &&
		 [ \"\$(wc -l <'$T/err')\" = 1 ] &&
		 grep -q '^tcpstates: $FAKE: pinned by tcpstates 0.9, this is tcpstates $READER_VERSION: run tcpstates pin again' '$T/err'"
cp "$DATA/future_v2.txt" "$FAKE/tcpstates"
expect_err "pins of another format: refused, one line, exit 1" 1 \
	"tcpstates: format 2, this reader's is 1 (pinned by tcpstates 0.9, this is tcpstates $READER_VERSION): run tcpstates pin again" \
	nopin "$BIN"
cp "$DATA/ports_future_v2.txt" "$FAKE/tcpstates_ports"
expect_err "--ports from pins of another format: refused, exit 1" 1 \
	"tcpstates_ports: format 2, this reader's is 1" nopin "$BIN" --ports
expect_check "--check-tw on pins of another format: UNKNOWN" 3 \
	"^TIME_WAIT UNKNOWN - .*format 2, this reader's is 1" \
	nopin "$BIN" --check-tw 80
: >"$FAKE/tcpstates"
expect_err "an empty pinned file is an error" 1 \
	"tcpstates: empty: the pinned walk did not finish" \
	nopin "$BIN" --source pin
fake_pins "$FAKE" "$READER_VERSION"
chmod 0400 "$FAKE/tcpstates"
if ! is_root; then
	skip "pins of mode 0400 as uid 65534" "not root"
elif why=$(nobody_ok); then
	run 0 nopin "${NOBODY[@]}" env TCPSTATES_NO_BPF=1 "$NOBODY_BIN"
	check "auto skips pins this user cannot read (0400, uid 65534)" \
		grep -q '^Source: netlink' "$T/out"
	expect_err "--source pin of a 0400 pin as uid 65534: permission denied" 1 \
		"permission denied: the pin's mode" \
		nopin "${NOBODY[@]}" "$NOBODY_BIN" --source pin
else
	skip "pins of mode 0400 as uid 65534" "$why"
fi

if ! is_root; then
	skip "pinned file tests" "not root: pinning needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN"
elif [ ! -e /sys/kernel/btf/vmlinux ]; then
	skip "pinned file tests" "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
elif ! TCPSTATES_BPF_DEBUG=1 "$BIN" pin --mode 0444 "$PINS" 2>"$T/pin.err"; then
	nok "tcpstates pin on this kernel (root, BTF)" "$(cat "$T/pin.err")"
elif ! ip netns add "$PNS"; then
	nok "pinned file tests need ip netns"
else
	ok "tcpstates pin on this kernel (root, BTF), mounting bpffs on DIR"
	check "each pinned program verified in under half the verifier's limit" \
		verified_headroom "$T/pin.err"
	check "the pin is mode 0444 (--mode 0444), its directory traversable" \
		bash -c "[ \"\$(stat -L -c %a '$PINS/tcpstates')\" = 444 ] &&
			 [ \"\$(( 0\$(stat -c %a '$PINS') & 011 ))\" = 9 ]"
	# This machine's kernel refuses fentry programs (EPERM): the pin of
	# the transitions falls back to the tracepoint and says so, once.
	check "tcpstates_transitions: fentry refused, one line says its 9 pairs read -, the tracepoint's link alone pinned" \
		bash -c "[ \"\$(grep -c 'the kernel refused the request and timewait hooks (fentry, fexit): .*; their 9 pairs read -$' '$T/pin.err')\" = 1 ] &&
			 [ -e '$PINS/current/tcpstates_transitions_hook' ] &&
			 ! ls '$PINS/current/' | grep -q 'hook_'"
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
		TCPSTATES_PROC=$1/none TCPSTATES_BPF_DIR=$4 TCPSTATES_BPF_DEBUG=1 \
			"$2" -j >"$1/auto.json" 2>"$1/auto.err"
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
	check "auto without the module reads the pins: source pin, no load" \
		auto_pinned "$T/pin1"
	check "auto's pin read counts as the pinned file parsed as the module's" \
		python3 -c '
import json, sys
p = json.load(open(sys.argv[1] + "/pin.json"))
a = json.load(open(sys.argv[1] + "/auto.json"))
for k in ("netns", "states", "total", "time_wait"):
    assert p[k] == a[k], (k, p[k], a[k])' "$T/pin1"
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
		bash -c "diff <(grep -E '$PIN_COUNTS' '$T/pin1/pin.out') <(grep -E '$PIN_COUNTS' '$T/pin1/nobody.out')"
	pin_tr
	pin_ages
	unshare -n cat "$PINS/tcpstates" >"$T/pin-other.out" 2>&1
	# shellcheck disable=SC2016
	unshare -n bash -c 'stat -L -c %i /proc/self/ns/net; cat "$1/tcpstates"' \
		_ "$PINS" >"$T/pin-other2.out" 2>&1
	check "a reader in another netns sees that netns, empty" \
		bash -c "grep -qx 'total 0 0' '$T/pin-other.out' &&
			 grep -qx \"netns \$(head -1 '$T/pin-other2.out')\" '$T/pin-other2.out' &&
			 ! grep -qx 'netns $(cat "$T/pin1/inode")' '$T/pin-other.out'"

	# DIR/tcpstates_all: every netns, from the initial one only
	cat "$PINS/tcpstates_all" >"$T/all.out"
	ip netns exec "$PNS" ss -H -tan >"$T/all.ss"
	check "tcpstates_all is mode 0400 whatever --mode says" \
		[ "$(stat -L -c %a "$PINS/tcpstates_all")" = 400 ]
	check "tcpstates_all: the module's grammar, rows sorted by inode" \
		bash -c "head -2 '$T/all.out' | diff - <(head -2 '$DATA/all_ok.txt') &&
			 grep '^netns [0-9]' '$T/all.out' | sort -c -k2,2n"
	check "tcpstates_all: the populated netns's row equals ss -tan in it" \
		all_vs_ss "$T/all.out" "$(cat "$T/pin1/inode")" "$T/all.ss"
	check "tcpstates_all: the initial netns's row has its TIME_WAIT limit" \
		grep -q "^netns $(stat -L -c %i /proc/self/ns/net) .* max_tw_buckets $(sysctl -n net.ipv4.tcp_max_tw_buckets)\$" \
		"$T/all.out"
	unshare -n cat "$PINS/tcpstates_all" >"$T/all-other.out" 2>&1
	check "tcpstates_all from another netns: \"error netns\" and nothing else" \
		bash -c "[ \"\$(cat '$T/all-other.out')\" = 'error netns' ]"
	expect_err "--all-netns --source pin from another netns: one line, exit 1" 1 \
		"initial netns only" unshare -n env TCPSTATES_BPF_DIR="$PINS" \
		"$BIN" --all-netns --source pin
	run 0 env TCPSTATES_BPF_DIR="$PINS" "$BIN" --all-netns --source pin -j
	mv "$T/out" "$T/all-pin.json"
	run 0 "$BIN" --all-netns --source bpf -j
	check "--all-netns --source bpf (one-shot) equals the pin's rows" \
		all_same "$T/all-pin.json" "$T/out"
	if nobody_ok >/dev/null; then
		expect_err "tcpstates_all as uid 65534: permission denied" 1 \
			"permission denied" "${NOBODY[@]}" env \
			TCPSTATES_BPF_DIR="$PINS" "$NOBODY_BIN" --all-netns --source pin
	else
		skip "tcpstates_all as uid 65534" "$(nobody_ok)"
	fi
	all_private

	pin_share

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
	# This kernel refuses fentry: each pin says its 9 pairs read "-".
	check "pinning again 3 times while a reader loops: every read whole" \
		bash -c "[ ! -s '$T/pin-loop.out' ] &&
			 ! grep -v 'their 9 pairs read -$' '$T/repin.out'"
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
	# the pinned set itself, renamed as another version's: read, named
	mv -T "$PINS/$(readlink "$PINS/current")" "$PINS/0_9-2" &&
		ln -s 0_9-2 "$PINS/next" && mv -T "$PINS/next" "$PINS/current"
	run 0 env TCPSTATES_PROC="$T/none" TCPSTATES_BPF_DIR="$PINS" "$BIN"
	check "auto on pins of another version: read, one line names both and the fix" \
		bash -c "grep -q '^Source: pin' '$T/out' &&
			 [ \"\$(wc -l <'$T/err')\" = 1 ] &&
			 grep -q '^tcpstates: $PINS: pinned by tcpstates 0.9, this is tcpstates $READER_VERSION: run tcpstates pin again' '$T/err'"
	run 0 "$BIN" pin --mode 0444 "$PINS"

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
