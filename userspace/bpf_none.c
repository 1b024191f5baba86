// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf source when the reader was built without it: clang, bpftool,
 * libbpf-dev or the build machine's kernel BTF were missing (see the
 * Makefile's BPF setting).  --source auto then goes on to netlink.
 * Sources layer.  May call: err.c.
 */
#include "source.h"

int ts_bpf_open(void)
{
	ts_err("bpf: this tcpstates was built without the bpf source (make BPF=1 needs clang, bpftool, libbpf-dev and /sys/kernel/btf/vmlinux)");
	return -1;
}

int ts_read_bpf(struct ts_sample *s)
{
	s->source = TS_SRC_BPF;
	return ts_bpf_open();
}
