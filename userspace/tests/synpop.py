#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""synpop ADDR PORT N: N SYN_RECV and N SYN_SENT sockets on loopback.

SYN_RECV: a listener on PORT with TCP_DEFER_ACCEPT keeps a connection
whose client sent no data as a request sock (ss's SYN-RECV).  SYN_SENT: a
listener on PORT+1 whose accept queue is full drops new SYNs.  Prints
"ready" and waits to be killed."""
import socket
import sys
import time

addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
keep = []

defer = socket.socket(fam, socket.SOCK_STREAM)
defer.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
defer.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 60)
defer.bind((addr, port))
defer.listen(1024)
for _ in range(n):
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.connect((addr, port))
    keep.append(c)

full = socket.socket(fam, socket.SOCK_STREAM)
full.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
full.bind((addr, port + 1))
full.listen(0)
first = socket.socket(fam, socket.SOCK_STREAM)
first.connect((addr, port + 1))
keep.append(first)
time.sleep(0.1)
for _ in range(n):
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.setblocking(False)
    try:
        c.connect((addr, port + 1))
    except BlockingIOError:
        pass
    keep.append(c)
print("ready", flush=True)
time.sleep(3600)
